//! Counters exposed at `GET /metrics` in the Prometheus text format.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Process-wide counters.
#[derive(Debug, Default)]
pub struct Metrics {
    reloads: Mutex<BTreeMap<&'static str, u64>>,
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    plugin_errors: Mutex<BTreeMap<(String, &'static str), u64>>,
    events: AtomicU64,
    duplicates: AtomicU64,
    rollbacks: AtomicU64,
    decisions: Mutex<BTreeMap<(String, &'static str), u64>>,
    decision_latency: Mutex<BTreeMap<String, Histogram>>,
    /// Audit lines dropped (shared with the audit writer, see `decision::AuditLog`).
    pub(crate) audit_dropped: std::sync::Arc<AtomicU64>,
}

/// Upper bounds (seconds) of the decision-latency buckets: fine below the 2 ms target, coarse
/// up to the 10 s longest deadline.
const DECISION_BUCKETS: [f64; 14] = [
    0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// A Prometheus histogram over fixed bucket bounds (seconds).
#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    bounds: &'static [f64],
    /// Observations per bucket (not cumulative; summed when rendered), then +Inf.
    counts: Vec<u64>,
    sum: f64,
}

impl Histogram {
    pub(crate) fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
        }
    }

    pub(crate) fn observe(&mut self, seconds: f64) {
        let index = self
            .bounds
            .iter()
            .position(|&le| seconds <= le)
            .unwrap_or(self.bounds.len());
        self.counts[index] += 1;
        self.sum += seconds;
    }

    /// The bucket bound under which a share `q` (0–1) of the observations fell (the upper
    /// bound of the bucket holding the quantile; +Inf's is reported as the last bound), or
    /// `None` before any observation.
    pub(crate) fn quantile(&self, q: f64) -> Option<f64> {
        let total: u64 = self.counts.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = (q * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Some(self.bounds[i.min(self.bounds.len() - 1)]);
            }
        }
        self.bounds.last().copied()
    }

    /// Appends `<name>_bucket`, `_sum` and `_count` lines with `labels` (`key="value",…`).
    pub(crate) fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        for (le, n) in self.bounds.iter().zip(self.counts.iter()) {
            cumulative += n;
            out.push_str(&format!("{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}\n"));
        }
        cumulative += self.counts[self.bounds.len()];
        out.push_str(&format!(
            "{name}_bucket{{{labels},le=\"+Inf\"}} {cumulative}\n{name}_sum{{{labels}}} {}\n{name}_count{{{labels}}} {cumulative}\n",
            self.sum
        ));
    }
}

impl Metrics {
    /// Counts a reload outcome (`applied`, `rejected`, `unchanged`).
    pub fn reload(&self, outcome: &'static str) {
        *self
            .reloads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(outcome)
            .or_default() += 1;
    }

    /// The number of reloads with this outcome so far.
    pub fn reloads(&self, outcome: &str) -> u64 {
        self.reloads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(outcome)
            .copied()
            .unwrap_or(0)
    }

    /// Counts an answered request.
    pub fn request(&self, source: &str, status: u16) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((source.to_string(), status))
            .or_default() += 1;
    }

    /// Counts a plugin error by plugin id and kind (`plugin::Error::kind`).
    pub fn plugin_error(&self, plugin: &str, kind: &'static str) {
        *self
            .plugin_errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((plugin.to_string(), kind))
            .or_default() += 1;
    }

    /// Counts events handed to routing, and repeats dropped.
    pub fn events(&self, emitted: usize, duplicates: usize) {
        self.events.fetch_add(emitted as u64, Ordering::Relaxed);
        self.duplicates.fetch_add(duplicates as u64, Ordering::Relaxed);
    }

    /// Counts a door decision by source and outcome, and observes its latency.
    pub fn decision(&self, source: &str, outcome: &'static str, latency: std::time::Duration) {
        *self
            .decisions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((source.to_string(), outcome))
            .or_default() += 1;
        self.decision_latency
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(source.to_string())
            .or_insert_with(|| Histogram::new(&DECISION_BUCKETS))
            .observe(latency.as_secs_f64());
    }

    /// Counts an automatic plugin rollback.
    pub fn rollback(&self) {
        self.rollbacks.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP switchyard_reloads_total Configuration reloads by outcome.\n# TYPE switchyard_reloads_total counter\n");
        for outcome in ["applied", "rejected", "unchanged"] {
            out.push_str(&format!(
                "switchyard_reloads_total{{outcome=\"{outcome}\"}} {}\n",
                self.reloads(outcome)
            ));
        }
        out.push_str("# HELP switchyard_requests_total Requests answered, by source and status.\n# TYPE switchyard_requests_total counter\n");
        for ((source, status), n) in self.requests.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            out.push_str(&format!(
                "switchyard_requests_total{{source=\"{source}\",status=\"{status}\"}} {n}\n"
            ));
        }
        out.push_str("# HELP switchyard_plugin_errors_total Failed plugin calls, by plugin and kind (invalid_result: output breaking the contract or a limit).\n# TYPE switchyard_plugin_errors_total counter\n");
        for ((plugin, kind), n) in self.plugin_errors.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            out.push_str(&format!(
                "switchyard_plugin_errors_total{{plugin=\"{plugin}\",kind=\"{kind}\"}} {n}\n"
            ));
        }
        out.push_str("# HELP switchyard_decisions_total Door decisions, by source and outcome (granted, denied, abstained by the decider; late, trapped, failed, overloaded: the fallback answered).\n# TYPE switchyard_decisions_total counter\n");
        for ((source, outcome), n) in self.decisions.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            out.push_str(&format!(
                "switchyard_decisions_total{{source=\"{source}\",outcome=\"{outcome}\"}} {n}\n"
            ));
        }
        out.push_str("# HELP switchyard_decision_seconds From a complete terminal request to its ruling.\n# TYPE switchyard_decision_seconds histogram\n");
        for (source, h) in self.decision_latency.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            h.render(&mut out, "switchyard_decision_seconds", &format!("source=\"{source}\""));
        }
        let counters = [
            (
                "switchyard_events_total",
                "Normalized events handed to routing.",
                &self.events,
            ),
            (
                "switchyard_duplicates_total",
                "Repeated events dropped by dedup_key.",
                &self.duplicates,
            ),
            (
                "switchyard_plugin_rollbacks_total",
                "Plugins rolled back to their previous version.",
                &self.rollbacks,
            ),
            (
                "switchyard_decision_audit_dropped_total",
                "Decision audit lines dropped (queue full or write failed); the decisions were made.",
                &self.audit_dropped,
            ),
        ];
        for (name, help, value) in counters {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                value.load(Ordering::Relaxed)
            ));
        }
        out
    }
}

/// Appends one metric family in Prometheus text: its help and type lines, then one sample per
/// `(labels, value)` (`labels` as written between the name and the value, `{sink="a"}` or empty).
pub fn family(out: &mut String, name: &str, kind: &str, help: &str, values: Vec<(String, u64)>) {
    use std::fmt::Write as _;
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, v) in values {
        let _ = writeln!(out, "{name}{labels} {v}");
    }
}
