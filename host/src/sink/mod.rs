//! Sinks: where events leave the router. A `file` sink appends (and syncs) JSON Lines before
//! the sender is answered. A `webhook` sink's events are committed to the durable
//! queue before the answer and delivered from there: this module only knows how to
//! make one attempt (`webhook`), how to encode it (`format`) and what a failure means
//! (`retry`). A `nats` sink publishes before the answer, like a file sink (`nats`). It knows
//! nothing of plugins.

mod error;
mod file;
mod format;
mod nats;
mod retry;
mod tasks;
mod webhook;

pub use error::DeliveryError;
pub use file::FileSink;
pub use format::{Rendered, SigningKey, render};
pub use nats::{NatsSink, subject};
pub use retry::{Class, Schedule, classify, retry_after_secs};
pub use tasks::{SinkTasks, TaskStart};
pub use webhook::WebhookSink;

use crate::config::{SinkKind, SinkSpec};

/// A built sink.
#[derive(Debug)]
pub enum Sink {
    /// HTTP POST, through the outbox.
    Webhook(std::sync::Arc<WebhookSink>),
    /// JSON Lines file.
    File(FileSink),
    /// NATS subject (core or JetStream).
    Nats(Box<NatsSink>),
}

impl Sink {
    /// Builds a sink from its spec.
    pub fn build(spec: &SinkSpec) -> anyhow::Result<Sink> {
        Ok(match &spec.kind {
            SinkKind::File { path } => Sink::File(FileSink::open(&spec.id, path)?.with_encoding(spec.encoding)),
            SinkKind::Nats(n) => Sink::Nats(Box::new(NatsSink::new(&spec.id, n, spec.encoding))),
            SinkKind::Webhook(w) => Sink::Webhook(std::sync::Arc::new(
                WebhookSink::new(&spec.id, w)?.with_encoding(spec.encoding),
            )),
        })
    }

    /// The sink id.
    pub fn id(&self) -> &str {
        match self {
            Sink::Webhook(w) => w.id(),
            Sink::File(f) => f.id(),
            Sink::Nats(n) => &n.id,
        }
    }
}
