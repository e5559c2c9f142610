//! A sink built from its spec: one of the kinds, behind one type.

use super::{FileSink, NatsSink, WebhookSink};
use crate::config::{SinkKind, SinkSpec};

/// A built sink.
#[derive(Debug)]
pub enum Sink {
    /// HTTP POST, through the durable queue.
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
