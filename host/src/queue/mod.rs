//! The durable queue: where a webhook sink's events wait between the commit that answers
//! their sender and their delivery — the interface both backends implement, what they hold,
//! their dead letters and the delivery counters. The embedded outbox (`outbox`) and JetStream
//! (`cluster`, with `[cluster]`) implement [`DurableQueue`] and [`DeadLetters`]; the
//! pipeline, the router, the console and `switchyard dlq` use only these.
//!
//! - `durable`: [`DurableQueue`]; `letters`: [`DeadLetters`] and what selects them;
//! - `replay`: replaying and following dead letters; `record`: what is held;
//! - `stats`: the delivery counters and depths, and their Prometheus text.

mod durable;
mod letters;
mod record;
mod replay;
mod stats;

pub use durable::{DurableQueue, QueueStatus};
pub use letters::{Chosen, DeadLetters, Selection};
pub use record::{DeadLetter, NewRow, Queued};
pub use replay::{REPLAY_BATCH, ReplaySummary, follow, purge, replay};
pub use stats::{DeliveryStats, Depth, SinkCounters};
