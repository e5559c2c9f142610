//! The outbox: switchyard's embedded durable queue (SQLite in WAL mode at
//! `<data_dir>/outbox.db`), the backend of `queue::DurableQueue` without `[cluster]`.
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
//! - `delivery`: [`Outbox`], the queue of a running router; `dispatch`: one sink's delivery
//!   loop; `letters`: the dead letters, for the router and for `switchyard dlq`;
//! - `store`: the SQLite file's writer thread (group commit); `sql`: connections and queries;
//!   `watch`: rebuilding the file when it is deleted or replaced under the router;
//! - `schema`: the file's tables and format version (migrations, refusing newer files);
//! - `stats`: the group-commit counters.

mod delivery;
mod dispatch;
mod letters;
mod schema;
pub mod sql;
mod stats;
mod store;
mod watch;

pub use delivery::Outbox;
pub use letters::Letters;
pub use stats::CommitStats;
pub use store::Store;
