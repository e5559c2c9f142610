//! What the durable queue holds: events committed for a sink, events waiting, and events given
//! up on (the same in both backends).

use bytes::Bytes;

/// An event about to be committed for one sink.
#[derive(Debug, Clone)]
pub struct NewRow {
    /// The sink id.
    pub sink: String,
    /// The id receivers dedup on (Standard Webhooks `webhook-id`, CloudEvents `id`).
    pub webhook_id: String,
    /// Events with the same key are delivered in commit order (when the sink asks for it).
    pub ordering_key: Option<String>,
    /// When it was committed (epoch ms); `max_age` counts from here.
    pub created_ms: i64,
    /// The router.event/v1 JSON.
    pub payload: Bytes,
}

/// An event waiting for delivery.
#[derive(Debug, Clone)]
pub struct Queued {
    /// Its id in the queue: commit order (the outbox's row id, the stream's sequence).
    pub id: i64,
    /// See [`NewRow::webhook_id`].
    pub webhook_id: String,
    /// See [`NewRow::ordering_key`].
    pub ordering_key: Option<String>,
    /// See [`NewRow::created_ms`].
    pub created_ms: i64,
    /// Attempts made so far.
    pub attempts: u32,
    /// Not before this time (epoch ms).
    pub next_ms: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The event JSON.
    pub payload: Bytes,
}

/// An event given up on.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeadLetter {
    /// Its id among the dead letters (the outbox's row id, the dead-letter stream's sequence).
    pub id: i64,
    /// The sink it was for.
    pub sink: String,
    /// Its webhook-id (unchanged by a replay).
    pub webhook_id: String,
    /// Its ordering key.
    pub ordering_key: Option<String>,
    /// When it was committed (epoch ms).
    pub created_ms: i64,
    /// When it was given up on (epoch ms).
    pub failed_ms: i64,
    /// Attempts made.
    pub attempts: u32,
    /// The last attempt's error.
    pub last_error: String,
    /// The event JSON.
    #[serde(skip)]
    pub payload: Bytes,
}
