//! Dead letters — events a sink refused for good or that outlived their attempts — as both
//! backends keep them: listed, replayed (back into the queue, same webhook-id, attempts
//! afresh) and purged, the same way from the admin API and `switchyard dlq`.

use super::record::DeadLetter;
use futures_util::future::BoxFuture;

/// Which dead letters an action applies to: all of them, narrowed by every field given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only these ids.
    pub ids: Option<Vec<i64>>,
    /// Only this sink's.
    pub sink: Option<String>,
    /// Only those that failed at or after this time (epoch ms).
    pub since_ms: Option<i64>,
    /// Only those that failed before this time (epoch ms).
    pub before_ms: Option<i64>,
}

impl Selection {
    /// Whether a dead letter is selected (for backends that filter as they read).
    pub fn matches(&self, id: i64, sink: &str, failed_ms: i64) -> bool {
        self.ids.as_ref().is_none_or(|ids| ids.contains(&id))
            && self.sink.as_deref().is_none_or(|s| s == sink)
            && self.since_ms.is_none_or(|t| failed_ms >= t)
            && self.before_ms.is_none_or(|t| failed_ms < t)
    }
}

/// A selected dead letter: enough to replay, purge or follow it without its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// Its id among the dead letters.
    pub id: i64,
    /// The sink it was for.
    pub sink: String,
    /// Its webhook-id (what a replay keeps, and how it is followed).
    pub webhook_id: String,
}

/// Where a queue keeps its dead letters.
pub trait DeadLetters: Send + Sync {
    /// The selected dead letters, oldest failure first.
    fn list<'a>(&'a self, selection: &'a Selection) -> BoxFuture<'a, anyhow::Result<Vec<DeadLetter>>>;

    /// The newest `limit` of `sink`'s (all sinks' when `None`), newest first, and how many
    /// there are in all: what the console lists.
    fn recent<'a>(
        &'a self,
        sink: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, anyhow::Result<(Vec<DeadLetter>, usize)>>;

    /// The selected dead letters without their payloads, oldest first.
    fn select<'a>(&'a self, selection: &'a Selection) -> BoxFuture<'a, anyhow::Result<Vec<Chosen>>>;

    /// Puts these back in the queue; returns how many moved.
    fn replay<'a>(&'a self, chosen: &'a [Chosen]) -> BoxFuture<'a, anyhow::Result<usize>>;

    /// Deletes these for good; returns how many went.
    fn purge<'a>(&'a self, chosen: &'a [Chosen]) -> BoxFuture<'a, anyhow::Result<usize>>;

    /// Of these replayed ones: how many still wait for delivery, and how many became dead
    /// letters again since `since_ms`.
    fn settled<'a>(&'a self, chosen: &'a [Chosen], since_ms: i64) -> BoxFuture<'a, anyhow::Result<(usize, usize)>>;
}
