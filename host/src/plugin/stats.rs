//! Per-plugin call statistics for `/metrics`: calls by export and outcome, call latency, and
//! why filters dropped events. Kept by plugin id in the runtime, so a reload that swaps a
//! plugin's file keeps counting where it left off (counters only go up, as Prometheus wants).

use crate::metrics::Histogram;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Bounds (seconds) of the call-latency buckets: a small filter call takes tens of
/// microseconds, a large Python normalizer milliseconds, a runaway one its whole budget.
const CALL_BUCKETS: [f64; 14] = [
    0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5, 10.0,
];

/// Distinct drop reasons counted per plugin; later ones count as `other` (a guest putting ids
/// into its reasons must not grow /metrics without bound).
const MAX_DROP_REASONS: usize = 32;
/// Longest drop-reason label.
const MAX_REASON_CHARS: usize = 80;

/// How a call ended, as `/metrics` counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Returned a result (a filter's keep, an event list, a ruling, a reply).
    Ok,
    /// A filter dropped the event.
    Drop,
    /// The guest returned a `plugin-error`, or a result breaking the contract.
    Error,
    /// The guest trapped (panic, exception, memory cap).
    Trap,
    /// CPU budget or decision deadline ran out.
    Timeout,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Drop => "drop",
            Outcome::Error => "error",
            Outcome::Trap => "trap",
            Outcome::Timeout => "timeout",
        }
    }

    /// The outcome of a failed call.
    pub(crate) fn of(error: &super::Error) -> Outcome {
        use super::Error as E;
        match error {
            E::Trapped { .. } | E::ResourceLimit { .. } => Outcome::Trap,
            E::DeadlineExceeded { .. } | E::Late { .. } => Outcome::Timeout,
            _ => Outcome::Error,
        }
    }
}

/// One plugin id's statistics.
#[derive(Debug)]
pub struct Stats {
    calls: Mutex<BTreeMap<(&'static str, Outcome), u64>>,
    latency: Mutex<Histogram>,
    drops: Mutex<BTreeMap<String, u64>>,
}

impl Default for Stats {
    fn default() -> Stats {
        Stats {
            calls: Mutex::default(),
            latency: Mutex::new(Histogram::new(&CALL_BUCKETS)),
            drops: Mutex::default(),
        }
    }
}

impl Stats {
    /// Counts one call of `call` (the export: `normalize`, `filter`…) that took `elapsed`.
    pub(crate) fn call(&self, call: &'static str, outcome: Outcome, elapsed: std::time::Duration) {
        *self
            .calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((call, outcome))
            .or_default() += 1;
        self.latency
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a filter's drop by its reason, with numbers masked (`score 0.41 < 0.75` and
    /// `score 0.52 < 0.75` are one reason) and at most [`MAX_DROP_REASONS`] kept apart.
    pub(crate) fn drop_reason(&self, reason: &str) {
        let label = reason_label(reason);
        let mut drops = self.drops.lock().unwrap_or_else(|p| p.into_inner());
        let key = if drops.contains_key(&label) || drops.len() < MAX_DROP_REASONS {
            label
        } else {
            "other".to_string()
        };
        *drops.entry(key).or_default() += 1;
    }

    /// Calls by outcome over every export, the p50 and p99 call latency (bucket bounds,
    /// seconds) and drops by reason: what the console shows.
    pub fn summary(&self) -> Summary {
        let mut by_outcome = BTreeMap::new();
        for ((_, outcome), n) in self.calls.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            *by_outcome.entry(outcome.as_str()).or_insert(0) += n;
        }
        let latency = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        Summary {
            calls: by_outcome,
            p50_seconds: latency.quantile(0.5),
            p99_seconds: latency.quantile(0.99),
            drops: self.drops.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        }
    }

    /// Calls so far with this export and outcome.
    pub fn calls(&self, call: &str, outcome: Outcome) -> u64 {
        self.calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|((c, o), _)| *c == call && *o == outcome)
            .map(|(_, n)| n)
            .sum()
    }
}

/// A drop reason as a label: digits runs become `N`, quotes and backslashes go, capped.
fn reason_label(reason: &str) -> String {
    let mut out = String::new();
    let mut in_number = false;
    for c in reason.chars() {
        if c.is_ascii_digit() || (in_number && c == '.') {
            if !in_number {
                out.push('N');
                in_number = true;
            }
            continue;
        }
        in_number = false;
        match c {
            '"' | '\\' => {}
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
        if out.chars().count() >= MAX_REASON_CHARS {
            out.push('…');
            break;
        }
    }
    out
}

/// What [`Stats::summary`] reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    /// Calls by outcome (`ok`, `drop`, `error`, `trap`, `timeout`).
    pub calls: BTreeMap<&'static str, u64>,
    /// Median call latency (upper bound of its bucket), seconds.
    pub p50_seconds: Option<f64>,
    /// 99th percentile call latency (upper bound of its bucket), seconds.
    pub p99_seconds: Option<f64>,
    /// Filter drops by reason.
    pub drops: BTreeMap<String, u64>,
}

/// Statistics by plugin id, for the life of the runtime.
#[derive(Debug, Default)]
pub(crate) struct Registry(Mutex<HashMap<String, Arc<Stats>>>);

impl Registry {
    pub(crate) fn of(&self, plugin: &str) -> Arc<Stats> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(plugin.to_string())
            .or_default()
            .clone()
    }
}

/// The Prometheus text of these plugins' statistics.
pub fn render<'a>(plugins: impl Iterator<Item = (&'a str, &'a Stats)>) -> String {
    let plugins: Vec<_> = plugins.collect();
    let mut out = String::from(
        "# HELP switchyard_plugin_calls_total Plugin export calls, by plugin, call and outcome (ok, drop, error, trap, timeout).\n\
         # TYPE switchyard_plugin_calls_total counter\n",
    );
    for (id, stats) in &plugins {
        for ((call, outcome), n) in stats.calls.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            out.push_str(&format!(
                "switchyard_plugin_calls_total{{plugin=\"{id}\",call=\"{call}\",outcome=\"{}\"}} {n}\n",
                outcome.as_str()
            ));
        }
    }
    out.push_str(
        "# HELP switchyard_plugin_call_seconds Time in one plugin call (guest code and host imports).\n\
         # TYPE switchyard_plugin_call_seconds histogram\n",
    );
    for (id, stats) in &plugins {
        stats.latency.lock().unwrap_or_else(|p| p.into_inner()).render(
            &mut out,
            "switchyard_plugin_call_seconds",
            &format!("plugin=\"{id}\""),
        );
    }
    out.push_str(
        "# HELP switchyard_plugin_drops_total Events dropped by filters, by plugin and reason (numbers shown as N).\n\
         # TYPE switchyard_plugin_drops_total counter\n",
    );
    for (id, stats) in &plugins {
        for (reason, n) in stats.drops.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            out.push_str(&format!(
                "switchyard_plugin_drops_total{{plugin=\"{id}\",reason=\"{reason}\"}} {n}\n"
            ));
        }
    }
    out
}

/// `switchyard_plugin_info`: one series per loaded plugin naming its version — the file's
/// sha256 and who signed it (the `[trust]` id, the key's fingerprint, the claimed version; empty
/// when unsigned) — so dashboards can join it onto the call metrics by `plugin`.
pub fn render_info<'a>(plugins: impl Iterator<Item = &'a super::Plugin>) -> String {
    let mut out = String::from(
        "# HELP switchyard_plugin_info The loaded version of each plugin: file digest and signer.\n\
         # TYPE switchyard_plugin_info gauge\n",
    );
    for p in plugins {
        let signer = p.signer();
        let label = |value: Option<&str>| {
            value
                .unwrap_or("")
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', " ")
        };
        out.push_str(&format!(
            "switchyard_plugin_info{{plugin=\"{}\",sha256=\"{}\",signer=\"{}\",fingerprint=\"{}\",version=\"{}\"}} 1\n",
            p.id(),
            p.sha256(),
            label(signer.and_then(|s| s.trusted_as.as_deref())),
            label(signer.map(|s| s.fingerprint.as_str())),
            label(signer.and_then(|s| s.claims.version.as_deref())),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_mask_numbers_and_stay_bounded() {
        assert_eq!(
            reason_label("match score 0.41 is below min_score 0.75"),
            "match score N is below min_score N"
        );
        assert_eq!(reason_label("bad \"id\"\n"), "bad id ");
        let stats = Stats::default();
        for i in 0..100 {
            stats.drop_reason(&format!("reason {}", "x".repeat(i)));
        }
        let drops = stats.drops.lock().unwrap();
        assert_eq!(drops.len(), MAX_DROP_REASONS + 1);
        assert_eq!(drops["other"], 100 - MAX_DROP_REASONS as u64);
    }

    #[test]
    fn render_has_calls_latency_and_drops() {
        let stats = Stats::default();
        stats.call("filter", Outcome::Drop, std::time::Duration::from_micros(30));
        stats.call("filter", Outcome::Ok, std::time::Duration::from_millis(3));
        stats.drop_reason("unmatched recognition event (face_unmatched)");
        let text = render([("drop", &stats)].into_iter());
        assert!(text.contains("switchyard_plugin_calls_total{plugin=\"drop\",call=\"filter\",outcome=\"drop\"} 1"));
        assert!(text.contains("switchyard_plugin_call_seconds_bucket{plugin=\"drop\",le=\"0.00005\"} 1"));
        assert!(text.contains("switchyard_plugin_call_seconds_count{plugin=\"drop\"} 2"));
        assert!(text.contains(
            "switchyard_plugin_drops_total{plugin=\"drop\",reason=\"unmatched recognition event (face_unmatched)\"} 1"
        ));
    }
}
