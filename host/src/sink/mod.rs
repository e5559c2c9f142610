//! Sinks: where events leave the router. A `file` sink appends (and syncs) JSON Lines before
//! the sender is answered. A `webhook` sink's events are committed to the durable
//! queue before the answer and delivered from there: this module only knows how to
//! make one attempt (`webhook`), how to encode it (`format`) and what a failure means
//! (`retry`). A `nats` sink publishes before the answer, like a file sink (`nats`). It knows
//! nothing of plugins.

mod built;
mod error;
mod file;
mod format;
mod nats;
mod retry;
mod tasks;
mod webhook;

pub use built::Sink;
pub use error::DeliveryError;
pub use file::FileSink;
pub use format::{Rendered, SigningKey, render};
pub use nats::{Message as NatsMessage, NatsSink, subject};
pub use retry::{Class, Schedule, classify, retry_after_secs};
pub use tasks::{SinkTasks, TaskStart};
pub use webhook::WebhookSink;
