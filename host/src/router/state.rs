//! The running router's state, built once in `lib.rs` and shared by every part that serves:
//! the pipeline requests start on (swapped atomically by reloads), the counters, the reload
//! status and the way to ask for a reload, the durable queue and its delivery, the door
//! decisions' audit log, and the observer (the console) that is told what happens.

use super::control::{Outcome, ReloadRequest, Status, Trigger};
use super::observe::Observer;
use crate::metrics::Metrics;
use crate::pipeline::{Pipeline, ProcessError, Processed};
use crate::plugin::Request;
use crate::queue::DurableQueue;
use crate::shutdown::Shutdown;
use arc_swap::ArcSwap;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot, watch};

/// The running router (see the module docs).
pub struct Router {
    pipeline: ArcSwap<Pipeline>,
    /// Counts swaps, for whoever follows the pipeline's feeds (see [`Router::swaps`]).
    swaps: watch::Sender<u64>,
    metrics: Metrics,
    status: Mutex<Status>,
    reloads: mpsc::Sender<ReloadRequest>,
    shutdown: Shutdown,
    /// The durable queue (the same for every pipeline of this process).
    queue: Arc<dyn DurableQueue>,
    audit: crate::decision::AuditLog,
    observer: Arc<dyn Observer>,
}

impl Router {
    /// Wraps a pipeline and starts delivering from its durable queue (must run inside the
    /// tokio runtime). Reload requests go to `reloads` (the controller's channel).
    pub fn new(
        pipeline: Pipeline,
        observer: Arc<dyn Observer>,
        reloads: mpsc::Sender<ReloadRequest>,
        shutdown: Shutdown,
    ) -> Router {
        let status = Status {
            config_sha256: crate::digest::file_sha256(&pipeline.spec().config_path).unwrap_or_default(),
            last_reload: None,
        };
        let queue = pipeline.queue().clone();
        queue.deliver(pipeline.webhooks());
        let metrics = Metrics::default();
        let audit = crate::decision::AuditLog::open(
            crate::decision::audit_dir(&pipeline.spec().server.data_dir),
            crate::decision::AUDIT_FILE_BYTES,
            metrics.audit_dropped.clone(),
        );
        Router {
            pipeline: ArcSwap::from_pointee(pipeline),
            swaps: watch::Sender::new(0),
            metrics,
            status: Mutex::new(status),
            reloads,
            shutdown,
            queue,
            audit,
            observer,
        }
    }

    /// The pipeline requests start on now. In-flight requests keep the one they started with.
    pub fn pipeline(&self) -> Arc<Pipeline> {
        self.pipeline.load_full()
    }

    /// Replaces the pipeline for new requests (atomically); returns the previous one.
    pub fn swap(&self, pipeline: Pipeline) -> Arc<Pipeline> {
        self.queue.deliver(pipeline.webhooks());
        let previous = self.pipeline.swap(Arc::new(pipeline));
        self.swaps.send_modify(|n| *n += 1);
        previous
    }

    /// Changes whenever the pipeline is swapped (the edge starts the feeds a reload added).
    pub fn swaps(&self) -> watch::Receiver<u64> {
        self.swaps.subscribe()
    }

    /// The durable queue.
    pub fn queue(&self) -> &Arc<dyn DurableQueue> {
        &self.queue
    }

    /// The counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The router's shutdown signal.
    pub fn shutdown(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Whether the router takes new requests (`/readyz`): it serves only once its pipeline
    /// is built and its queue open, so what is left to say no is draining (shutting down: a
    /// load balancer should send new requests elsewhere) and storage below the disk budget
    /// (every request would get 503). `/healthz` says only that the process is alive.
    pub fn readiness(&self) -> Result<(), String> {
        if self.shutdown.is_triggered() {
            return Err("draining: the router is shutting down".into());
        }
        self.pipeline()
            .disk()
            .check()
            .map_err(|low| format!("storage low: {low}"))
    }

    /// The reload status.
    pub fn status(&self) -> Status {
        self.status.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn update_status(&self, f: impl FnOnce(&mut Status)) {
        f(&mut self.status.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// Who is told what happens.
    pub(crate) fn observer(&self) -> &dyn Observer {
        self.observer.as_ref()
    }

    /// Accounts for a processed request: event counters, and the observer.
    pub fn observed(&self, pipeline: &Pipeline, request: &Request, processed: &Processed) {
        self.metrics
            .events(processed.emitted - processed.duplicates, processed.duplicates);
        self.observer.processed(pipeline, request, processed);
    }

    /// Accounts for a request that failed after its plugins (a sink's failure).
    pub fn failed(&self, error: &ProcessError) {
        if let ProcessError::Sink { sink, .. } = error {
            self.observer.sink_failed(sink);
        }
    }

    /// Counts an answered request of a source (`/metrics` and the observer).
    pub fn answered(&self, source: &str, status: u16) {
        self.metrics.request(source, status);
        self.observer.answered(source, status);
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
        if plugin.health().breaks(&policy) && plugin.health().claim_rollback() {
            let _ = self.reloads.try_send(ReloadRequest {
                trigger: Trigger::Rollback,
                plugin: Some(id.to_string()),
                reply: None,
            });
        }
    }

    /// Counts a plugin's failure (`switchyard_plugin_errors_total`) and, for faults (a trap,
    /// a blown budget, an invalid result), checks the plugin's rollback policy.
    pub fn plugin_failed(&self, pipeline: &Pipeline, error: &crate::plugin::Error) {
        use crate::plugin::Error as E;
        self.metrics.plugin_error(error.plugin(), error.kind());
        self.observer
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
    pub fn decided(&self, pipeline: &Pipeline, decided: &crate::pipeline::Decided) {
        let r = &decided.record;
        self.metrics.decision(&r.source, r.outcome.as_str(), r.latency());
        self.audit.record(r);
        self.observer.decided(r);
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

    /// Asks the controller for a reload and waits for its outcome (`None` when the
    /// controller is not running).
    pub async fn request_reload(&self, trigger: Trigger) -> Option<Outcome> {
        let (reply, outcome) = oneshot::channel();
        self.reloads
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
