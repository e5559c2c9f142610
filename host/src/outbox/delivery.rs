//! The delivery service of a running router: one dispatcher per configured webhook sink,
//! following config reloads (see `sink::SinkTasks`).

use super::dispatch::Dispatcher;
use super::sql;
use super::stats::DeliveryStats;
use super::store::Store;
use crate::pipeline::Pipeline;
use crate::sink::{Sink, SinkTasks};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How long attempts in flight get to finish once delivery stops.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Delivers the outbox's events to their sinks.
pub struct Delivery {
    store: Store,
    stats: Arc<DeliveryStats>,
    tasks: SinkTasks,
}

impl Delivery {
    /// A delivery service for `store` with no sinks yet (see [`Delivery::configure`]).
    pub fn new(store: Store) -> Delivery {
        Delivery {
            store,
            stats: Arc::default(),
            tasks: SinkTasks::default(),
        }
    }

    /// The delivery counters (the cluster's workers count into the same ones).
    pub fn stats(&self) -> &Arc<DeliveryStats> {
        &self.stats
    }

    /// The outbox it delivers from.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Starts, updates or stops dispatchers to match the pipeline's webhook sinks.
    pub fn configure(&self, pipeline: &Pipeline) {
        self.tasks.configure(pipeline, |start| {
            let dispatcher = Dispatcher::new(
                start.sink.clone(),
                start.target,
                self.store.clone(),
                self.stats.sink(&start.sink),
                start.stop,
            );
            tokio::spawn(dispatcher.run(STOP_GRACE))
        });
    }

    /// At startup: says what the outbox still holds from before (delivered now), and warns
    /// about events for sinks this config does not have as webhooks (they wait until it does).
    pub async fn report_backlog(&self, pipeline: &Pipeline) {
        let depths = match self.store.read(sql::depths).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "Reading the outbox at startup failed.");
                return;
            }
        };
        for (sink, depth) in depths {
            let configured = matches!(pipeline.sink(&sink).map(|s| s.as_ref()), Some(Sink::Webhook(_)));
            if depth.queued > 0 && configured {
                tracing::info!(sink = %sink, events = depth.queued, "Resuming undelivered events from the outbox.");
            } else if depth.queued > 0 {
                tracing::warn!(sink = %sink, events = depth.queued, "The outbox holds events for a sink this config does not define as a webhook; they wait until it does.");
            }
            if depth.dead > 0 {
                tracing::info!(sink = %sink, dead_letters = depth.dead, "Dead letters are waiting (`switchyard dlq list`).");
            }
        }
    }

    /// Waits until no configured sink has events waiting (delivered or dead-lettered), polling
    /// the outbox. Used before shutdown and by tests; callers bound it with a timeout.
    pub async fn drain(&self) {
        loop {
            let sinks = self.tasks.sinks();
            let waiting = self
                .store
                .read(move |c| {
                    for sink in &sinks {
                        if sql::has_waiting(c, sink)? {
                            return Ok(true);
                        }
                    }
                    Ok(false)
                })
                .await
                .unwrap_or(false);
            if !waiting {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops every dispatcher (attempts in flight get a short grace to record their outcome)
    /// and flushes the outbox. Waiting events are delivered after the next start.
    pub async fn stop(&self) {
        self.tasks.stop().await;
        if let Err(e) = self.store.flush().await {
            tracing::error!(error = %e, "Flushing the outbox at shutdown failed; some deliveries may be repeated.");
        }
        if let Ok(depths) = self.store.read(sql::depths).await {
            let waiting: u64 = depths.values().map(|d| d.queued).sum();
            if waiting > 0 {
                tracing::info!(
                    waiting,
                    "Undelivered events stay in the outbox; they are delivered after the next start."
                );
            }
        }
    }

    /// Every sink's (delivered, failed attempts) so far.
    pub fn counters(&self) -> HashMap<String, (u64, u64)> {
        use std::sync::atomic::Ordering::Relaxed;
        self.stats
            .all()
            .into_iter()
            .map(|(id, c)| {
                let failed = c.retried.load(Relaxed) + c.dead_lettered.load(Relaxed);
                (id, (c.delivered.load(Relaxed), failed))
            })
            .collect()
    }

    /// Every sink's counters and the outbox's depths: what the console's Sinks view shows.
    pub async fn sinks(
        &self,
    ) -> (
        std::collections::BTreeMap<String, Arc<super::stats::SinkCounters>>,
        std::collections::BTreeMap<String, sql::Depth>,
    ) {
        let depths = self.store.read(sql::depths).await.unwrap_or_default();
        (self.stats.all(), depths)
    }

    /// Prometheus text: queue depths, dead letters, attempts and commit counters.
    pub async fn render_metrics(&self) -> String {
        let depths = self.store.read(sql::depths).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "Reading outbox depths for /metrics failed.");
            Default::default()
        });
        self.stats.render(&depths, self.store.stats())
    }
}
