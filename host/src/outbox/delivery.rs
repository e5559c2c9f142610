//! The outbox as the running router's durable queue: its store, one dispatcher per
//! configured webhook sink (following config reloads, see `sink::SinkTasks`), and its dead
//! letters.

use super::dispatch::Dispatcher;
use super::letters::Letters;
use super::sql;
use super::store::Store;
use crate::queue::{DeadLetters, DeliveryStats, Depth, DurableQueue, NewRow, QueueStatus};
use crate::sink::{SinkTasks, WebhookSink};
use futures_util::future::BoxFuture;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How long attempts in flight get to finish once delivery stops.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// The embedded durable queue.
pub struct Outbox {
    store: Store,
    stats: Arc<DeliveryStats>,
    tasks: SinkTasks,
}

impl Outbox {
    /// Opens (creating if needed) the outbox under `data_dir`; nothing is delivered until
    /// [`DurableQueue::deliver`] names the sinks. Blocking: call it off the async threads.
    pub fn open(data_dir: &Path) -> anyhow::Result<Outbox> {
        Ok(Outbox {
            store: Store::open(data_dir)?,
            stats: Arc::default(),
            tasks: SinkTasks::default(),
        })
    }

    /// Counts its deliveries into `stats` (another queue's, when it drains into that one's
    /// numbers: the outbox left from before cluster mode).
    pub fn counting_into(self, stats: Arc<DeliveryStats>) -> Outbox {
        Outbox { stats, ..self }
    }

    /// Its store (the tests' and benchmarks' way in).
    pub fn store(&self) -> &Store {
        &self.store
    }

    async fn read_depths(&self) -> anyhow::Result<BTreeMap<String, Depth>> {
        self.store.read(sql::depths).await
    }
}

impl DurableQueue for Outbox {
    fn backend(&self) -> &'static str {
        "outbox"
    }

    fn enqueue(&self, rows: Vec<NewRow>, _dedup: bool) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(self.store.enqueue(rows))
    }

    fn deliver(&self, webhooks: HashMap<String, Arc<WebhookSink>>) {
        self.tasks.configure(webhooks, |start| {
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

    fn report_backlog<'a>(&'a self, webhooks: &'a HashMap<String, Arc<WebhookSink>>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let depths = match self.read_depths().await {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(error = %e, "Reading the outbox at startup failed.");
                    return;
                }
            };
            for (sink, depth) in depths {
                let configured = webhooks.contains_key(&sink);
                if depth.queued > 0 && configured {
                    tracing::info!(sink = %sink, events = depth.queued, "Resuming undelivered events from the outbox.");
                } else if depth.queued > 0 {
                    tracing::warn!(sink = %sink, events = depth.queued, "The outbox holds events for a sink this config does not define as a webhook; they wait until it does.");
                }
                if depth.dead > 0 {
                    tracing::info!(sink = %sink, dead_letters = depth.dead, "Dead letters are waiting (`switchyard dlq list`).");
                }
            }
        })
    }

    fn drain(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
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
        })
    }

    fn stop(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.tasks.stop().await;
            if let Err(e) = self.store.flush().await {
                tracing::error!(error = %e, "Flushing the outbox at shutdown failed; some deliveries may be repeated.");
            }
            if let Ok(depths) = self.read_depths().await {
                let waiting: u64 = depths.values().map(|d| d.queued).sum();
                if waiting > 0 {
                    tracing::info!(
                        waiting,
                        "Undelivered events stay in the outbox; they are delivered after the next start."
                    );
                }
            }
        })
    }

    fn flush(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(self.store.flush())
    }

    fn stats(&self) -> &Arc<DeliveryStats> {
        &self.stats
    }

    fn depths(&self) -> BoxFuture<'_, BTreeMap<String, Depth>> {
        Box::pin(async move { self.read_depths().await.unwrap_or_default() })
    }

    fn render_metrics(&self) -> BoxFuture<'_, String> {
        Box::pin(async move {
            let depths = self.read_depths().await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "Reading outbox depths for /metrics failed.");
                Default::default()
            });
            let mut text = self.stats.render(&depths);
            text.push_str(&self.store.stats().render());
            text
        })
    }

    fn status(&self) -> BoxFuture<'_, QueueStatus> {
        Box::pin(async move {
            QueueStatus {
                file_ok: self.store.stats().file_ok.load(Ordering::Relaxed) == 1,
                ..QueueStatus::default()
            }
        })
    }

    fn dead_letters(&self) -> Arc<dyn DeadLetters> {
        Arc::new(Letters::of(&self.store))
    }
}
