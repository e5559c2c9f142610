//! The cluster's delivery workers: per webhook sink, a task that pulls from the sink's durable
//! consumer (`deliver-<sink>`, shared by every router, so each event goes to one of them at a
//! time), makes the attempt and settles it with JetStream:
//!
//! - delivered → acknowledged (and so removed from the work-queue stream);
//! - failed, retryable → negative ack with the sink's backoff as the redelivery delay; the
//!   attempt count is JetStream's delivery count, so it survives a router's death;
//! - failed for good → stored in the dead-letter stream, then acknowledged.
//!
//! A router that dies mid-attempt never acknowledges: JetStream redelivers after `ack_wait`,
//! to whichever router pulls next, with the same `webhook-id`. Long attempts send progress
//! acks so a slow sink does not cause a second, parallel delivery.

use super::connect::Cluster;
use super::header;
use crate::queue::{DeliveryStats, Queued, SinkCounters};
use crate::sink::{Schedule, SinkTasks, TaskStart, WebhookSink};
use arc_swap::ArcSwap;
use async_nats::jetstream::AckKind;
use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long attempts in flight get to finish once delivery stops (then JetStream redelivers).
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Longest wait between attempts to reach the stream after NATS went away.
const MAX_RECONNECT_BACKOFF: Duration = Duration::from_secs(5);
/// Unacknowledged events one sink's consumer may have out at once, all routers together
/// (JetStream's own default): far above any sink's concurrency times the routers.
const MAX_ACK_PENDING: i64 = 1_000;

/// The delivery workers of this router.
pub(super) struct Workers {
    cluster: Arc<Cluster>,
    stats: Arc<DeliveryStats>,
    tasks: SinkTasks,
}

impl Workers {
    /// Workers for `cluster` counting into `stats` (the same counters as the embedded
    /// outbox's dispatchers, so the console and /metrics show one number per sink).
    pub(super) fn new(cluster: Arc<Cluster>, stats: Arc<DeliveryStats>) -> Workers {
        Workers {
            cluster,
            stats,
            tasks: SinkTasks::default(),
        }
    }

    /// Starts, updates or stops workers to match the webhook sinks of the config now live.
    pub(super) fn configure(&self, webhooks: HashMap<String, Arc<WebhookSink>>) {
        self.tasks.configure(webhooks, |start| {
            let worker = Worker {
                counters: self.stats.sink(&start.sink),
                cluster: self.cluster.clone(),
                failing: Arc::default(),
                start,
            };
            tokio::spawn(worker.run())
        });
    }

    /// The sinks with a worker.
    pub(super) fn sinks(&self) -> Vec<String> {
        self.tasks.sinks()
    }

    /// Stops every worker; events in flight are acknowledged within a short grace or
    /// redelivered later.
    pub(super) async fn stop(&self) {
        self.tasks.stop().await;
    }
}

struct Worker {
    cluster: Arc<Cluster>,
    counters: Arc<SinkCounters>,
    start: TaskStart,
    /// Whether the last attempt failed (to log state changes, not every failure).
    failing: Arc<AtomicBool>,
}

/// Why a consumer session ended.
enum Ended {
    Stopped,
    /// The sink's concurrency or ordering changed: pull again with the new window.
    Reconfigured,
}

impl Worker {
    async fn run(self) {
        let sink = self.start.sink.clone();
        let mut backoff = Duration::from_millis(100);
        let mut down = false;
        loop {
            match self.session().await {
                Ok(Ended::Stopped) => break,
                Ok(Ended::Reconfigured) => continue,
                Err(e) => {
                    if !std::mem::replace(&mut down, true) {
                        tracing::warn!(sink = %sink, error = %e, "Cluster delivery paused; retrying.");
                    }
                    tokio::select! {
                        _ = self.start.stop.cancelled() => break,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(MAX_RECONNECT_BACKOFF);
                }
            }
        }
    }

    /// The sink's consumer, created with the cluster's settings if it does not exist yet.
    async fn consumer(&self, ordered: bool) -> anyhow::Result<PullConsumer> {
        let spec = &self.cluster.spec;
        let stream = self.cluster.js.get_stream(&spec.stream).await?;
        let name = format!("deliver-{}", self.start.sink);
        let config = pull::Config {
            durable_name: Some(name.clone()),
            description: Some(format!("switchyard: deliveries to sink `{}`", self.start.sink)),
            filter_subject: self.cluster.out_subject(&self.start.sink),
            ack_policy: AckPolicy::Explicit,
            ack_wait: spec.ack_wait,
            // Attempts are counted and capped by the sink's own schedule, not JetStream's.
            max_deliver: -1,
            // An ordering key means one event in flight per sink across the cluster: the next
            // one waits until the one before it is delivered or dead-lettered.
            max_ack_pending: if ordered { 1 } else { MAX_ACK_PENDING },
            ..Default::default()
        };
        let consumer: PullConsumer = stream.get_or_create_consumer(&name, config.clone()).await?;
        let current = consumer.cached_info().config.clone();
        if current.ack_wait != config.ack_wait || current.max_ack_pending != config.max_ack_pending {
            // Editable settings of a durable consumer: create with the same name updates them.
            stream.create_consumer(config).await?;
            tracing::info!(sink = %self.start.sink, "Cluster consumer settings updated.");
        }
        Ok(consumer)
    }

    async fn session(&self) -> anyhow::Result<Ended> {
        let spec = self.start.target.load().spec().clone();
        let ordered = spec.ordering_key.is_some();
        let concurrency = if ordered { 1 } else { spec.concurrency.max(1) };
        let consumer = self.consumer(ordered).await?;
        let mut messages = consumer
            .stream()
            // Pull no more than we can work on: what one router holds, others cannot deliver.
            .max_messages_per_batch(concurrency)
            .heartbeat(Duration::from_secs(5))
            .expires(Duration::from_secs(30))
            .messages()
            .await?;
        let slots = Arc::new(Semaphore::new(concurrency));
        let result = loop {
            let permit = tokio::select! {
                _ = self.start.stop.cancelled() => break Ok(Ended::Stopped),
                p = slots.clone().acquire_owned() => p.expect("never closed"),
            };
            let now = self.start.target.load();
            if now.spec().concurrency != spec.concurrency || now.spec().ordering_key != spec.ordering_key {
                break Ok(Ended::Reconfigured);
            }
            let next = tokio::select! {
                _ = self.start.stop.cancelled() => break Ok(Ended::Stopped),
                m = messages.next() => m,
            };
            let message = match next {
                Some(Ok(m)) => m,
                Some(Err(e)) => {
                    break Err(anyhow::anyhow!(
                        "pulling from stream `{}`: {e}",
                        self.cluster.spec.stream
                    ));
                }
                None => break Err(anyhow::anyhow!("the consumer's message stream ended")),
            };
            let attempt = Attempt {
                cluster: self.cluster.clone(),
                target: self.start.target.clone(),
                counters: self.counters.clone(),
                failing: self.failing.clone(),
                sink: self.start.sink.clone(),
            };
            tokio::spawn(async move {
                attempt.run(message).await;
                drop(permit);
            });
        };
        // Let attempts in flight settle before pulling again or stopping.
        let all = u32::try_from(concurrency).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(STOP_GRACE, slots.acquire_many(all)).await;
        result
    }
}

/// One attempt at one event.
struct Attempt {
    cluster: Arc<Cluster>,
    target: Arc<ArcSwap<WebhookSink>>,
    counters: Arc<SinkCounters>,
    failing: Arc<AtomicBool>,
    sink: String,
}

impl Attempt {
    async fn run(self, message: async_nats::jetstream::Message) {
        let Some(item) = queued(&message) else {
            tracing::error!(sink = %self.sink, "A message without JetStream metadata; dropped from the consumer.");
            let _ = message.ack_with(AckKind::Term).await;
            return;
        };
        let target = self.target.load_full();
        self.counters.in_flight.fetch_add(1, Relaxed);
        let result = {
            let send = target.send(&item.webhook_id, &item.payload);
            tokio::pin!(send);
            // Tell JetStream the attempt is alive at half the ack wait, so a slow sink is not
            // mistaken for a dead router.
            let mut keepalive = tokio::time::interval(self.cluster.spec.ack_wait / 2);
            keepalive.tick().await;
            loop {
                tokio::select! {
                    r = &mut send => break r,
                    _ = keepalive.tick() => { let _ = message.ack_with(AckKind::Progress).await; }
                }
            }
        };
        self.counters.in_flight.fetch_sub(1, Relaxed);
        let error = match result {
            Ok(()) => {
                self.counters.delivered.fetch_add(1, Relaxed);
                if self.failing.swap(false, Relaxed) {
                    tracing::info!(sink = %self.sink, "Sink accepts deliveries again.");
                }
                // Awaited: an ack lost on the way means a second delivery (same webhook-id),
                // which the log should say.
                if let Err(e) = message.double_ack().await {
                    tracing::warn!(sink = %self.sink, webhook_id = %item.webhook_id, error = %e, "Delivered, but the acknowledgement did not reach JetStream; it may be delivered again (same webhook-id).");
                }
                return;
            }
            Err(e) => e,
        };
        self.counters.failed(&error.to_string());
        let attempts = item.attempts + 1;
        match Schedule::of(target.spec()).after_failure(attempts, item.created_ms, &error) {
            Some(delay) => {
                if !self.failing.swap(true, Relaxed) {
                    tracing::warn!(sink = %self.sink, error = %error, "Delivery failing; events stay in the cluster's stream and are retried.");
                }
                self.counters.retried.fetch_add(1, Relaxed);
                tracing::debug!(sink = %self.sink, webhook_id = %item.webhook_id, attempts, error = %error, retry_in_ms = delay.as_millis() as u64, "Delivery failed; will retry.");
                let _ = message.ack_with(AckKind::Nak(Some(delay))).await;
            }
            None => {
                tracing::error!(sink = %self.sink, webhook_id = %item.webhook_id, attempts, error = %error, "Delivery given up; event moved to the dead letters (`switchyard dlq list`).");
                match self.cluster.bury(&self.sink, &item, attempts, &error.to_string()).await {
                    Ok(()) => {
                        self.counters.dead_lettered.fetch_add(1, Relaxed);
                        if let Err(e) = message.double_ack().await {
                            tracing::warn!(sink = %self.sink, error = %e, "Dead-lettered, but the acknowledgement did not reach JetStream; it may be tried again.");
                        }
                    }
                    // Not stored as a dead letter: leave it in the outbox for a later try.
                    Err(e) => {
                        tracing::error!(sink = %self.sink, error = %e, "Storing the dead letter failed; the event stays queued.");
                        let _ = message.ack_with(AckKind::Nak(Some(MAX_RECONNECT_BACKOFF))).await;
                    }
                }
            }
        }
    }
}

/// The outbox row a message stands for. Attempts made so far are JetStream's deliveries minus
/// this one; the row id is the stream sequence.
fn queued(message: &async_nats::jetstream::Message) -> Option<Queued> {
    let info = message.info().ok()?;
    let headers = message.headers.as_ref();
    let get = |name: &str| headers.and_then(|h| h.get(name)).map(|v| v.as_str().to_string());
    let sequence = info.stream_sequence;
    let published_ms = (info.published.unix_timestamp_nanos() / 1_000_000) as i64;
    Some(Queued {
        id: sequence as i64,
        webhook_id: get(header::WEBHOOK_ID).unwrap_or_else(|| format!("msg_seq{sequence}")),
        ordering_key: get(header::ORDERING_KEY),
        created_ms: get(header::CREATED_MS)
            .and_then(|v| v.parse().ok())
            .unwrap_or(published_ms),
        attempts: u32::try_from(info.delivered.max(1) - 1).unwrap_or(u32::MAX),
        next_ms: 0,
        last_error: None,
        payload: message.payload.clone(),
    })
}
