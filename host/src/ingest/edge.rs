//! The edge's state, shared by all its connections: the running router it hands requests to,
//! and the edge's own registries — the in-flight limit, open connections, body and processing
//! memory budgets, rate buckets, the work that goes on after a sender was answered — and the
//! operator endpoints it also serves on the ingest port.

use super::budget::BodyBudget;
use super::connections::Connections;
use super::limiter::Buckets;
use crate::router::Router;
use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use hyper::body::Incoming;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;

/// Answers the operator endpoints (`/metrics`, `/admin/status`, `/admin/reload`) on the ingest
/// listener; the console provides it (`admin::operator`), so the edge needs not know it.
pub type Operator = Arc<
    dyn Fn(hyper::Request<Incoming>, SocketAddr) -> Pin<Box<dyn Future<Output = Response<Full<Bytes>>> + Send>>
        + Send
        + Sync,
>;

/// The edge's state (see the module docs).
pub struct Edge {
    /// The running router.
    pub router: Arc<Router>,
    pub(crate) in_flight: Semaphore,
    /// Doors answered whose events are still to be committed (as many as `in_flight`).
    pub(crate) pending_doors: Arc<Semaphore>,
    /// Replies carrying a MAC of request data, per source (see `limiter`).
    pub(crate) signed_replies: Buckets,
    /// Requests per source, for sources with a `rate_limit`.
    pub(crate) rate_limits: Buckets,
    /// Open client connections.
    pub(crate) connections: Arc<Connections>,
    /// Request bodies held in memory.
    pub(crate) bodies: Arc<BodyBudget>,
    /// Memory of requests being processed.
    pub(crate) processing: super::processing::ProcessingBudget,
    /// Work that goes on after its sender was answered (delivery after a door decision);
    /// shutdown waits for it.
    pub(crate) background: tokio_util::task::TaskTracker,
    operator: OnceLock<Operator>,
}

impl Edge {
    /// The edge of `router`, sized by its current config.
    pub fn new(router: Arc<Router>) -> Edge {
        let spec = router.pipeline().spec().server.clone();
        Edge {
            router,
            in_flight: Semaphore::new(spec.max_in_flight),
            pending_doors: Arc::new(Semaphore::new(spec.max_in_flight)),
            signed_replies: Buckets::default(),
            rate_limits: Buckets::default(),
            connections: Connections::new(super::connections::connection_ceiling()),
            bodies: Arc::default(),
            processing: super::processing::ProcessingBudget::new(spec.limits.max_processing_bytes),
            background: tokio_util::task::TaskTracker::new(),
            operator: OnceLock::new(),
        }
    }

    /// Has the ingest listener answer the operator endpoints with `operator` (without one it
    /// answers them 404).
    pub fn serve_operator(&self, operator: Operator) {
        let _ = self.operator.set(operator);
    }

    pub(crate) fn operator(&self) -> Option<&Operator> {
        self.operator.get()
    }

    /// Connections admitted at most under the current config and the open-file limit.
    pub fn max_connections(&self) -> usize {
        self.connections
            .cap(self.router.pipeline().spec().server.limits.max_connections)
    }

    /// Prometheus text of the edge's registries: connections, bodies, processing memory.
    pub fn render_metrics(&self) -> String {
        let mut text = self.connections.render();
        text.push_str(&self.bodies.render());
        text.push_str(&self.processing.render());
        text
    }
}
