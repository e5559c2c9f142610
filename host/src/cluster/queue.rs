//! JetStream as the running router's durable queue (cluster mode): a request's events are
//! stored in the outbox stream (`publish`), this router's workers deliver from the shared
//! consumers (`workers`), and the dead letters live in their own stream (`dead`).

use super::connect::Cluster;
use super::dead::Letters;
use super::workers::Workers;
use crate::queue::{DeadLetters, DeliveryStats, Depth, DurableQueue, NewRow, QueueStatus};
use crate::sink::WebhookSink;
use futures_util::future::BoxFuture;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The cluster's durable queue, as this router uses it.
pub struct JetStream {
    cluster: Arc<Cluster>,
    stats: Arc<DeliveryStats>,
    workers: Workers,
    /// The embedded outbox when it held events from before cluster mode: delivered from too.
    leftovers: Option<Box<dyn DurableQueue>>,
}

impl JetStream {
    /// The queue of a connected cluster; nothing is delivered until
    /// [`DurableQueue::deliver`] names the sinks.
    pub fn new(cluster: Arc<Cluster>) -> JetStream {
        let stats = Arc::<DeliveryStats>::default();
        JetStream {
            workers: Workers::new(cluster.clone(), stats.clone()),
            cluster,
            stats,
            leftovers: None,
        }
    }

    /// Also delivers what `leftovers` (the embedded outbox of this data dir) still holds.
    pub fn draining(self, leftovers: impl DurableQueue + 'static) -> JetStream {
        JetStream {
            leftovers: Some(Box::new(leftovers)),
            ..self
        }
    }

    /// The cluster it stores into.
    pub fn cluster(&self) -> &Arc<Cluster> {
        &self.cluster
    }
}

impl DurableQueue for JetStream {
    fn backend(&self) -> &'static str {
        "jetstream"
    }

    fn enqueue(&self, rows: Vec<NewRow>, dedup: bool) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            let stored = self.cluster.publish(rows, dedup).await?;
            if stored.duplicates > 0 {
                tracing::debug!(
                    duplicates = stored.duplicates,
                    "The cluster already held some of these events (another router took them first)."
                );
            }
            Ok(())
        })
    }

    fn deliver(&self, webhooks: HashMap<String, Arc<WebhookSink>>) {
        if let Some(outbox) = &self.leftovers {
            outbox.deliver(webhooks.clone());
        }
        self.workers.configure(webhooks);
    }

    fn report_backlog<'a>(&'a self, _webhooks: &'a HashMap<String, Arc<WebhookSink>>) -> BoxFuture<'a, ()> {
        // The stream's backlog is the whole cluster's; /admin/status shows it.
        Box::pin(async {})
    }

    fn drain(&self) -> BoxFuture<'_, ()> {
        // Nothing is drained: what this router did not deliver, the others do.
        Box::pin(async {})
    }

    fn stop(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            // Unacknowledged events go to other routers after `ack_wait`.
            self.workers.stop().await;
            if let Some(outbox) = &self.leftovers {
                outbox.stop().await;
            }
        })
    }

    fn flush(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        // A publish returns once JetStream acknowledged it: stored events are durable.
        Box::pin(async { Ok(()) })
    }

    fn stats(&self) -> &Arc<DeliveryStats> {
        &self.stats
    }

    fn depths(&self) -> BoxFuture<'_, BTreeMap<String, Depth>> {
        Box::pin(async move {
            let status = self.cluster.status(&self.workers.sinks()).await;
            status
                .sinks
                .into_iter()
                .map(|(sink, q)| {
                    let depth = Depth {
                        queued: q.pending + q.in_flight,
                        ..Depth::default()
                    };
                    (sink, depth)
                })
                .collect()
        })
    }

    fn render_metrics(&self) -> BoxFuture<'_, String> {
        Box::pin(async move {
            let status = self.cluster.status(&self.workers.sinks()).await;
            let mut text = self.stats.render(&BTreeMap::new());
            text.push_str(&status.render_metrics());
            text
        })
    }

    fn status(&self) -> BoxFuture<'_, QueueStatus> {
        Box::pin(async move {
            let status = self.cluster.status(&self.workers.sinks()).await;
            QueueStatus {
                file_ok: true,
                shared_sinks: status
                    .sinks
                    .iter()
                    .map(|(sink, q)| (sink.clone(), serde_json::to_value(q).unwrap_or_default()))
                    .collect(),
                cluster: serde_json::to_value(&status).ok(),
            }
        })
    }

    fn dead_letters(&self) -> Arc<dyn DeadLetters> {
        Arc::new(Letters::of(self.cluster.clone()))
    }
}
