//! Storing a request's webhook events in the outbox stream before the sender is answered.

use super::connect::Cluster;
use super::header;
use crate::queue::NewRow;
use async_nats::jetstream::message::PublishMessage;
use std::sync::atomic::Ordering::Relaxed;

/// What JetStream made of a request's events.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// Newly stored.
    pub stored: usize,
    /// Dropped by the stream's duplicate window: this event reached the cluster before
    /// (through this router or another one).
    pub duplicates: usize,
}

impl Cluster {
    /// Stores every row in the outbox stream and waits for JetStream's acknowledgement of each
    /// (all sent at once, so a batch costs one round trip, not one per event). An error means
    /// some may be stored and others not; the sender's retry carries the same message ids, so
    /// the stored ones are dropped as duplicates then.
    ///
    /// With `dedup` the message id is `<sink>:<webhook-id>`, so the stream's duplicate window
    /// drops a repeat that reached any router; without it (`dedup_window_secs = 0`) repeats are
    /// stored and delivered like the embedded outbox does.
    pub async fn publish(&self, rows: Vec<NewRow>, dedup: bool) -> anyhow::Result<Stored> {
        if rows.is_empty() {
            return Ok(Stored::default());
        }
        // While NATS is away the client would queue the messages and the sender would wait for
        // the publish timeout; answering at once lets it retry (or fail over) sooner.
        if !self.connected() {
            self.counters.publish_failures.fetch_add(1, Relaxed);
            anyhow::bail!("cluster: not connected to NATS at {}", self.spec.nats_url);
        }
        let mut acks = Vec::with_capacity(rows.len());
        for row in rows {
            let mut message = PublishMessage::build().payload(row.payload);
            if dedup {
                message = message.message_id(format!("{}:{}", row.sink, row.webhook_id));
            }
            message = message
                .header(header::WEBHOOK_ID, row.webhook_id)
                .header(header::CREATED_MS, row.created_ms.to_string())
                .header(header::NODE, self.spec.node.as_str());
            if let Some(key) = row.ordering_key {
                message = message.header(header::ORDERING_KEY, key);
            }
            let ack = self
                .js
                .send_publish(self.out_subject(&row.sink), message)
                .await
                .map_err(|e| self.failed(e))?;
            acks.push(ack.into_future());
        }
        let mut stored = Stored::default();
        for ack in futures_util::future::join_all(acks).await {
            let ack = ack.map_err(|e| self.failed(e))?;
            if ack.duplicate {
                stored.duplicates += 1;
            } else {
                stored.stored += 1;
            }
        }
        self.counters.published.fetch_add(stored.stored as u64, Relaxed);
        self.counters.duplicates.fetch_add(stored.duplicates as u64, Relaxed);
        Ok(stored)
    }

    fn failed(&self, e: impl std::fmt::Display) -> anyhow::Error {
        self.counters.publish_failures.fetch_add(1, Relaxed);
        anyhow::anyhow!("cluster: storing events in stream `{}`: {e}", self.spec.stream)
    }
}
