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

/// Message headers of the outbox and dead-letter streams: what the embedded outbox keeps in
/// its columns (documented for integrators who read the streams themselves).
pub mod header {
    /// The Standard Webhooks `webhook-id` (the message id is `<sink>:<webhook-id>`).
    pub const WEBHOOK_ID: &str = "Switchyard-Webhook-Id";
    /// The sink's ordering key, when it has one.
    pub const ORDERING_KEY: &str = "Switchyard-Ordering-Key";
    /// When the router committed it (epoch ms); a sink's `max_age` counts from here.
    pub const CREATED_MS: &str = "Switchyard-Created-Ms";
    /// The router that accepted it.
    pub const NODE: &str = "Switchyard-Node";
    /// Dead letters: the attempts made.
    pub const ATTEMPTS: &str = "Switchyard-Attempts";
    /// Dead letters: the last attempt's error (one line).
    pub const ERROR: &str = "Switchyard-Error";
    /// Dead letters: when it was given up on (epoch ms).
    pub const FAILED_MS: &str = "Switchyard-Failed-Ms";
}
