//! Cluster mode: several routers sharing NATS JetStream instead of each one's embedded outbox.
//!
//! With `[cluster]` in router.toml a router acknowledges a sender once JetStream has stored
//! the request's webhook events in the outbox stream (`<prefix>.out.<sink>`, work-queue
//! retention, replicated when the NATS servers are). Every router runs, per webhook sink, a
//! worker on one durable pull consumer shared by the whole cluster, so each event is handed
//! to one router at a time; a router that dies mid-delivery leaves its events unacknowledged
//! and JetStream gives them to another after `ack_wait`. Retries are negative acks with the
//! sink's backoff; events given up on go to the dead-letter stream (`<prefix>.dead.<sink>`).
//!
//! Dedup across nodes is the stream's duplicate window: the JetStream message id is
//! `<sink>:<webhook-id>`, and a webhook-id is the same for the same vendor event with the same
//! content (see `dedup::webhook_id`), so a vendor retry that reaches another router within
//! `dedup_window_secs` is dropped by JetStream itself — atomically with the store, which a
//! separate KV lookup could not be. Each router's own dedup table still runs first (it also
//! marks updates with `duplicate_of`).
//!
//! - `connect`: the NATS connection and the streams; `queue`: [`JetStream`], the cluster as the
//!   router's durable queue — `publish`: storing a request's events; `workers`: the delivery
//!   workers; `dead`: the dead letters;
//! - `release`: configs and plugins published to the cluster (`switchyard publish`,
//!   `run --from-cluster`);
//! - `status`: what `/admin/status` and `/metrics` say about the cluster.

mod connect;
mod dead;
pub mod header;
mod publish;
mod queue;
mod release;
mod status;
mod workers;

pub use connect::Cluster;
pub use dead::{Letters, dead_letters};
pub use queue::JetStream;
pub use release::{Published, Release, fetch, follow, publish, release_dir};
pub use status::{ClusterStatus, REPORT_EVERY};
