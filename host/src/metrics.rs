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
