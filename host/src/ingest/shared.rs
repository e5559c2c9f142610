//! State shared by all connections: the current pipeline, the in-flight limit, counters,
//! reload status, the edge's registries (connections, body budget, rate buckets) and the
//! handles the admin endpoints and the reload controller need.

use super::budget::BodyBudget;
use super::connections::Connections;
use super::limiter::Buckets;
use crate::metrics::Metrics;
use crate::pipeline::Pipeline;
use crate::reload::{Outcome, ReloadRequest, Status, Trigger};
use crate::shutdown::Shutdown;
use arc_swap::ArcSwap;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// State shared by all connections (see the module docs).
pub struct Shared {
    pipeline: ArcSwap<Pipeline>,
    pub(crate) in_flight: Semaphore,
    /// Doors answered whose events are still to be committed (as many as `in_flight`).
    pub(crate) pending_doors: Arc<Semaphore>,
    pub(crate) metrics: Metrics,
    status: Mutex<Status>,
    reloads: OnceLock<mpsc::Sender<ReloadRequest>>,
    shutdown: OnceLock<Shutdown>,
    delivery: crate::outbox::Delivery,
    /// Cluster mode: the workers delivering from the shared stream.
    cluster: Option<crate::cluster::Workers>,
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
    /// The door-decision audit log.
    audit: crate::decision::AuditLog,
    /// What the operator console shows.
    console: Arc<crate::admin::Console>,
}

impl Shared {
    /// Wraps a pipeline and starts delivering its outbox (must run inside the tokio runtime).
    pub fn new(pipeline: Pipeline) -> Shared {
        let limit = pipeline.spec().server.max_in_flight;
        let pipeline_limits = pipeline.spec().server.limits;
        let status = Status {
            config_sha256: crate::digest::file_sha256(&pipeline.spec().config_path).unwrap_or_default(),
            last_reload: None,
        };
        let delivery = crate::outbox::Delivery::new(pipeline.outbox().clone());
        delivery.configure(&pipeline);
        let cluster = pipeline.cluster().map(|c| {
            let workers = crate::cluster::Workers::new(c.clone(), delivery.stats().clone());
            workers.configure(&pipeline);
            workers
        });
        let metrics = Metrics::default();
        let audit = crate::decision::AuditLog::open(
            crate::decision::audit_dir(&pipeline.spec().server.data_dir),
            crate::decision::AUDIT_FILE_BYTES,
            metrics.audit_dropped.clone(),
        );
        let config_text = std::fs::read_to_string(&pipeline.spec().config_path).unwrap_or_default();
        Shared {
            console: Arc::new(crate::admin::Console::new(config_text)),
            background: tokio_util::task::TaskTracker::new(),
            audit,
            delivery,
            cluster,
            pipeline: ArcSwap::from_pointee(pipeline),
            in_flight: Semaphore::new(limit),
            pending_doors: Arc::new(Semaphore::new(limit)),
            metrics,
            status: Mutex::new(status),
            reloads: OnceLock::new(),
            shutdown: OnceLock::new(),
            signed_replies: Buckets::default(),
            rate_limits: Buckets::default(),
            connections: Connections::new(super::connections::connection_ceiling()),
            bodies: Arc::default(),
            processing: super::processing::ProcessingBudget::new(pipeline_limits.max_processing_bytes),
        }
    }

    /// The pipeline requests start on now. In-flight requests keep the one they started with.
    pub fn pipeline(&self) -> Arc<Pipeline> {
        self.pipeline.load_full()
    }

    /// Replaces the pipeline for new requests (atomically); returns the previous one.
    pub fn swap(&self, pipeline: Pipeline) -> Arc<Pipeline> {
        self.delivery.configure(&pipeline);
        self.processing
            .resize(pipeline.spec().server.limits.max_processing_bytes);
        if let Some(workers) = &self.cluster {
            workers.configure(&pipeline);
        }
        self.pipeline.swap(Arc::new(pipeline))
    }

    /// Connections admitted at most under the current config and the open-file limit.
    pub fn max_connections(&self) -> usize {
        self.connections
            .cap(self.pipeline().spec().server.limits.max_connections)
    }

    /// The outbox's delivery service.
    pub fn delivery(&self) -> &crate::outbox::Delivery {
        &self.delivery
    }

    /// Stops delivering: the outbox's dispatchers and, in cluster mode, the workers (whose
    /// unacknowledged events go to other routers).
    pub async fn stop_delivery(&self) {
        if let Some(workers) = &self.cluster {
            workers.stop().await;
        }
        self.delivery.stop().await;
    }

    /// The cluster as this router sees it; `None` without `[cluster]`.
    pub async fn cluster_status(&self) -> Option<crate::cluster::ClusterStatus> {
        let cluster = self.pipeline().cluster()?.clone();
        let sinks = self.cluster.as_ref().map(|w| w.sinks()).unwrap_or_default();
        Some(cluster.status(&sinks).await)
    }

    /// The counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The operator console's state.
    pub fn console(&self) -> &Arc<crate::admin::Console> {
        &self.console
    }

    /// Accounts for a processed request: event counters, the console's tail and flow.
    pub(crate) fn observed(
        &self,
        pipeline: &Pipeline,
        request: &crate::plugin::Request,
        processed: &crate::pipeline::Processed,
    ) {
        self.metrics
            .events(processed.emitted - processed.duplicates, processed.duplicates);
        let flow = &self.console.flow.counters;
        for (route, hits) in pipeline.routes().iter().zip(&processed.route_hits) {
            if *hits > 0 {
                flow.add(&format!("route:{}", route.name), u64::from(*hits), 0);
            }
        }
        for (sink, n) in &processed.sink_events {
            flow.add(&format!("sink:{sink}"), u64::from(*n), 0);
        }
        self.console.tail.publish(
            &request.source_id,
            request,
            &processed.events,
            processed.timings.clone(),
        );
    }

    /// Accounts for a request that failed (the flow's failure counts).
    pub(crate) fn failed(&self, error: &crate::pipeline::ProcessError) {
        if let crate::pipeline::ProcessError::Sink { sink, .. } = error {
            self.console.flow.counters.add(&format!("sink:{sink}"), 0, 1);
        }
    }

    /// Counts an answered request of a source (`/metrics` and the console's flow).
    pub(crate) fn answered(&self, source: &str, status: u16) {
        self.metrics.request(source, status);
        if source != "-" {
            let failed = status >= 400;
            self.console
                .flow
                .counters
                .add(&format!("source:{source}"), u64::from(!failed), u64::from(failed));
        }
    }

    /// The reload status.
    pub fn status(&self) -> Status {
        self.status.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn update_status(&self, f: impl FnOnce(&mut Status)) {
        f(&mut self.status.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// Connects the admin endpoints to the reload controller and websocket feeds to shutdown.
    pub fn attach(&self, reloads: mpsc::Sender<ReloadRequest>, shutdown: Shutdown) {
        let _ = self.reloads.set(reloads);
        let _ = self.shutdown.set(shutdown);
    }

    /// The router's shutdown signal.
    pub fn shutdown(&self) -> Shutdown {
        self.shutdown.get().cloned().unwrap_or_default()
    }

    /// Starts following a feed — a websocket or a NATS subject (for feeds a reload added).
    pub fn follow_feed(self: &Arc<Self>, id: String) {
        let shutdown = self.shutdown.get().cloned().unwrap_or_default();
        let nats = self.pipeline().feed(&id).is_some_and(|s| s.spec.nats.is_some());
        if nats {
            tokio::spawn(super::nats::follow(id, self.clone(), shutdown));
        } else {
            tokio::spawn(super::websocket::follow(id, self.clone(), shutdown));
        }
    }

    /// After a plugin fault: if the faulting version breaks its rollback policy, asks the
    /// controller (once per version) to take it back to its last good version.
    pub fn check_plugin(&self, id: &str) {
        let pipeline = self.pipeline();
        let (Some(plugin), Some(policy)) = (
            pipeline.plugin(id),
            pipeline
                .spec()
                .plugins
                .iter()
                .find(|p| p.id == id)
                .and_then(|p| p.rollback),
        ) else {
            return;
        };
        if plugin.health().breaks(&policy)
            && plugin.health().claim_rollback()
            && let Some(sender) = self.reloads.get()
        {
            let _ = sender.try_send(ReloadRequest {
                trigger: Trigger::Rollback,
                plugin: Some(id.to_string()),
                reply: None,
            });
        }
    }

    /// Counts a plugin's failure (`switchyard_plugin_errors_total`) and, for faults (a trap,
    /// a blown budget, an invalid result), checks the plugin's rollback policy.
    pub(crate) fn plugin_failed(&self, pipeline: &Pipeline, error: &crate::plugin::Error) {
        use crate::plugin::Error as E;
        self.metrics.plugin_error(error.plugin(), error.kind());
        self.console
            .plugin_failed(error.plugin(), error.kind(), error.to_string());
        if let E::Contract { plugin, .. } | E::Late { plugin, .. } = error
            && let Some(p) = pipeline.plugin(plugin)
        {
            // An invalid result, or a decider cut off at its deadline, is a fault of the
            // plugin version, like a trap (the runtime counts the others itself).
            p.health().fault();
        }
        if matches!(
            error,
            E::Trapped { .. }
                | E::DeadlineExceeded { .. }
                | E::ResourceLimit { .. }
                | E::Contract { .. }
                | E::Late { .. }
        ) {
            self.check_plugin(error.plugin());
        }
    }

    /// Records a door decision: `/metrics`, the audit log, one log line, and the decider's
    /// failure when the fallback answered because of it.
    pub(crate) fn decided(&self, pipeline: &Pipeline, decided: &crate::pipeline::Decided) {
        let r = &decided.record;
        self.metrics.decision(&r.source, r.outcome.as_str(), r.latency());
        self.audit.record(r);
        self.console.decided(r);
        if let Some(fault) = &decided.fault {
            self.plugin_failed(pipeline, fault);
        }
        let (decision, decided_by, outcome) = (r.decision.as_str(), r.decided_by.as_str(), r.outcome.as_str());
        if r.outcome.is_fallback() {
            tracing::warn!(source = %r.source, delivery_id = %r.delivery_id, decision, decided_by, outcome, reason = ?r.reason, latency_ms = r.latency_ms, "Door decision by the fallback.");
        } else {
            tracing::info!(source = %r.source, delivery_id = %r.delivery_id, decision, decided_by, outcome, person_id = ?r.person_id, reason = ?r.reason, latency_ms = r.latency_ms, "Door decision.");
        }
    }

    /// Asks the controller for a reload and waits for its outcome.
    pub async fn request_reload(&self, trigger: Trigger) -> Option<Outcome> {
        let sender = self.reloads.get()?;
        let (reply, outcome) = oneshot::channel();
        sender
            .send(ReloadRequest {
                trigger,
                plugin: None,
                reply: Some(reply),
            })
            .await
            .ok()?;
        outcome.await.ok()
    }
}
