//! The outbox: switchyard's embedded, durable delivery queue (SQLite in WAL mode at
//! `<data_dir>/outbox.db`).
//!
//! A request's events for webhook sinks are committed here — in a group commit shared with
//! whatever other requests arrived meanwhile — before the sender gets its 2xx. Dispatchers
//! (one per webhook sink) then deliver them in commit order with bounded concurrency, retries
//! with full-jitter backoff and, per sink, ordering by key. Events that fail permanently or
//! outlive `max_attempts`/`max_age` move to the `dead` table with their last error, where
//! `switchyard dlq list` shows them and `switchyard dlq replay` puts them back. After a crash
//! the dispatchers resume from the file: an event is delivered at least once, and a repeat
//! carries the same `webhook-id`.
//!
//! - `store`: the SQLite file's writer thread (group commit); `sql`: connections and queries
//!   (the CLI's too); `watch`: rebuilding
//!   the file when it is deleted or replaced under the router.
//! - `schema`: the file's tables and format version (migrations, refusing newer files).
//! - `record`: rows and the stable webhook-id.
//! - `dispatch`: one sink's delivery loop; `delivery`: the dispatchers of a running router.
//! - `stats`: counters and `/metrics` text.

mod delivery;
mod dispatch;
mod record;
mod schema;
pub mod sql;
mod stats;
mod store;
mod watch;

pub use delivery::Delivery;
pub use record::{DeadLetter, NewRow, Queued, webhook_id, webhook_id_with};
pub use stats::{CommitStats, DeliveryStats, SinkCounters};
pub use store::Store;
