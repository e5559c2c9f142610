//! Delivery counters per sink, counted alike by both backends' workers, and their Prometheus
//! rendering together with the queue's depths.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// One sink's share of the queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Depth {
    /// Events waiting for delivery.
    pub queued: u64,
    /// Dead letters.
    pub dead: u64,
    /// When the oldest waiting event was committed (epoch ms).
    pub oldest_ms: Option<i64>,
}

/// One sink's counters.
#[derive(Debug, Default)]
pub struct SinkCounters {
    /// Attempts that got a 2xx.
    pub delivered: AtomicU64,
    /// Failed attempts that will be retried.
    pub retried: AtomicU64,
    /// Events given up on (moved to the dead letters).
    pub dead_lettered: AtomicU64,
    /// Attempts running now.
    pub in_flight: AtomicU64,
    /// The last failed attempt: when (epoch ms) and why.
    pub last_error: Mutex<Option<(i64, String)>>,
}

impl SinkCounters {
    /// Remembers a failed attempt's error.
    pub fn failed(&self, error: &str) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some((crate::clock::now_ms(), error.to_string()));
    }
}

/// Counters of every sink that delivered since start.
#[derive(Debug, Default)]
pub struct DeliveryStats {
    sinks: Mutex<BTreeMap<String, Arc<SinkCounters>>>,
}

impl DeliveryStats {
    /// A sink's counters (created on first use).
    pub fn sink(&self, id: &str) -> Arc<SinkCounters> {
        self.sinks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id.to_string())
            .or_default()
            .clone()
    }

    /// Every sink's counters.
    pub fn all(&self) -> BTreeMap<String, Arc<SinkCounters>> {
        self.sinks.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Every sink's (delivered, failed attempts) so far.
    pub fn attempts(&self) -> std::collections::HashMap<String, (u64, u64)> {
        self.all()
            .into_iter()
            .map(|(id, c)| {
                let failed = c.retried.load(Ordering::Relaxed) + c.dead_lettered.load(Ordering::Relaxed);
                (id, (c.delivered.load(Ordering::Relaxed), failed))
            })
            .collect()
    }

    /// Prometheus text for the counters and the queue's depths.
    pub fn render(&self, depths: &BTreeMap<String, Depth>) -> String {
        let sinks = self.sinks.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, values: Vec<(String, u64)>| {
            crate::metrics::family(&mut out, name, kind, help, values)
        };
        let mut ids: Vec<&String> = sinks.keys().chain(depths.keys()).collect();
        ids.sort();
        ids.dedup();
        let per_sink = |f: &dyn Fn(&str) -> u64| -> Vec<(String, u64)> {
            ids.iter().map(|id| (format!("{{sink=\"{id}\"}}"), f(id))).collect()
        };
        let counter = |id: &str, pick: fn(&SinkCounters) -> &AtomicU64| {
            sinks.get(id).map(|c| pick(c).load(Ordering::Relaxed)).unwrap_or(0)
        };
        family(
            "switchyard_outbox_depth",
            "gauge",
            "Events committed and waiting for delivery, by sink.",
            per_sink(&|id| depths.get(id).map(|d| d.queued).unwrap_or(0)),
        );
        let now = crate::clock::now_ms();
        family(
            "switchyard_outbox_oldest_age_seconds",
            "gauge",
            "Age of the oldest event waiting for delivery, by sink (0 when none waits).",
            per_sink(&|id| {
                depths
                    .get(id)
                    .and_then(|d| d.oldest_ms)
                    .map(|t| ((now - t).max(0) / 1000) as u64)
                    .unwrap_or(0)
            }),
        );
        family(
            "switchyard_dead_letters",
            "gauge",
            "Events in the dead-letter store, by sink.",
            per_sink(&|id| depths.get(id).map(|d| d.dead).unwrap_or(0)),
        );
        family(
            "switchyard_deliveries_in_flight",
            "gauge",
            "Delivery attempts running now, by sink.",
            per_sink(&|id| counter(id, |c| &c.in_flight)),
        );
        let mut attempts = Vec::new();
        for id in &ids {
            attempts.push((
                format!("{{sink=\"{id}\",outcome=\"delivered\"}}"),
                counter(id, |c| &c.delivered),
            ));
            attempts.push((
                format!("{{sink=\"{id}\",outcome=\"failed\"}}"),
                counter(id, |c| &c.retried) + counter(id, |c| &c.dead_lettered),
            ));
        }
        family(
            "switchyard_delivery_attempts_total",
            "counter",
            "Delivery attempts, by sink and outcome.",
            attempts,
        );
        family(
            "switchyard_delivered_total",
            "counter",
            "Events delivered (2xx), by sink.",
            per_sink(&|id| counter(id, |c| &c.delivered)),
        );
        family(
            "switchyard_dead_lettered_total",
            "counter",
            "Events moved to the dead-letter store, by sink.",
            per_sink(&|id| counter(id, |c| &c.dead_lettered)),
        );
        out
    }
}
