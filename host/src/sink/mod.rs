//! Sinks: where events leave the router. A `file` sink appends JSON Lines before the sender
//! is answered; a `webhook` sink POSTs each event with retries in the background and writes
//! events it finally cannot deliver to a dead-letter file, so none is silently lost.
//! Durable, restart-safe delivery is issue #5; this module must not know about plugins.

mod error;
mod file;
mod retry;
mod webhook;

pub use error::DeliveryError;
pub use file::FileSink;
pub use retry::{Class, Schedule, classify};
pub use webhook::WebhookSink;

use crate::config::{SinkKind, SinkSpec};
use crate::event::Event;
use std::path::Path;
use std::sync::Arc;

/// A built sink.
#[derive(Debug)]
pub enum Sink {
    /// HTTP POST.
    Webhook(WebhookSink),
    /// JSON Lines file.
    File(FileSink),
}

impl Sink {
    /// Builds a sink from its spec; `dead_letter_dir` receives undeliverable events.
    pub fn build(spec: &SinkSpec, dead_letter_dir: &Path) -> anyhow::Result<Sink> {
        Ok(match &spec.kind {
            SinkKind::File { path } => Sink::File(FileSink::open(&spec.id, path)?),
            SinkKind::Webhook(w) => Sink::Webhook(WebhookSink::new(
                &spec.id,
                w,
                dead_letter_dir.join(format!("{}.jsonl", spec.id)),
            )?),
        })
    }

    /// The sink id.
    pub fn id(&self) -> &str {
        match self {
            Sink::Webhook(w) => w.id(),
            Sink::File(f) => f.id(),
        }
    }

    /// Hands events to the sink. File sinks have written them when this returns; webhook
    /// sinks have queued them for delivery.
    pub async fn accept(self: &Arc<Self>, events: &[Arc<Event>]) -> anyhow::Result<()> {
        match self.as_ref() {
            Sink::File(f) => f.append(events).await,
            Sink::Webhook(w) => {
                for event in events {
                    w.enqueue(event.clone());
                }
                Ok(())
            }
        }
    }

    /// Waits until queued deliveries have finished (used at shutdown and in tests).
    pub async fn drain(&self) {
        if let Sink::Webhook(w) = self {
            w.drain().await;
        }
    }
}
