//! The durable queue of a running router, as everything above it sees it: the pipeline
//! commits a request's webhook events to it before the sender's 2xx, the router hands it the
//! webhook sinks to deliver to on every reload, and `/metrics`, `/admin/status` and the
//! console read its depths, counters and status. Two backends implement it: the embedded
//! outbox (`outbox::Outbox`, SQLite) and, with `[cluster]`, JetStream (`cluster::JetStream`).

use super::letters::DeadLetters;
use super::record::NewRow;
use super::stats::{DeliveryStats, Depth};
use crate::sink::WebhookSink;
use futures_util::future::BoxFuture;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// What `/admin/status` and the console say about the queue.
#[derive(Debug, Clone, Default)]
pub struct QueueStatus {
    /// The queue's file is the one at its path (a backend without a file: always).
    pub file_ok: bool,
    /// Cluster mode: the cluster as this router sees it (`/admin/status`'s `cluster`).
    pub cluster: Option<serde_json::Value>,
    /// Cluster mode: each webhook sink's share of the cluster's queue (the console's Sinks).
    pub shared_sinks: BTreeMap<String, serde_json::Value>,
}

/// A durable queue (see the module docs).
pub trait DurableQueue: Send + Sync {
    /// Which backend: `outbox` or `jetstream`.
    fn backend(&self) -> &'static str;

    /// Commits a request's events; returns once they are durable (then the sender may be
    /// answered). With `dedup`, the backend may drop events it already holds (JetStream's
    /// duplicate window); the outbox relies on the router's dedup table alone.
    fn enqueue(&self, rows: Vec<NewRow>, dedup: bool) -> BoxFuture<'_, anyhow::Result<()>>;

    /// Starts, updates or stops delivery to match the webhook sinks of the config now live.
    fn deliver(&self, webhooks: HashMap<String, Arc<WebhookSink>>);

    /// At startup: says what the queue still holds from before, and warns about events for
    /// sinks `webhooks` does not name (they wait until a config does).
    fn report_backlog<'a>(&'a self, webhooks: &'a HashMap<String, Arc<WebhookSink>>) -> BoxFuture<'a, ()>;

    /// Waits until no sink delivered to has events waiting here (callers bound it).
    fn drain(&self) -> BoxFuture<'_, ()>;

    /// Stops delivering (attempts in flight get a short grace); what waits stays stored.
    fn stop(&self) -> BoxFuture<'_, ()>;

    /// Makes everything committed so far durable, for a process that is about to exit.
    fn flush(&self) -> BoxFuture<'_, anyhow::Result<()>>;

    /// The delivery counters per sink.
    fn stats(&self) -> &Arc<DeliveryStats>;

    /// Every sink's depth now.
    fn depths(&self) -> BoxFuture<'_, BTreeMap<String, Depth>>;

    /// Prometheus text: depths, delivery counters and the backend's own.
    fn render_metrics(&self) -> BoxFuture<'_, String>;

    /// The queue's status.
    fn status(&self) -> BoxFuture<'_, QueueStatus>;

    /// Its dead letters.
    fn dead_letters(&self) -> Arc<dyn DeadLetters>;
}
