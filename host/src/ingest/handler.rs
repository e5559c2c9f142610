//! One request, from the socket to the answer.

use super::auth::{self, Refusal};
use super::body::{BodyError, read_capped};
use super::response::{Error, json};
use crate::metrics::Metrics;
use crate::pipeline::{Pipeline, ProcessError, Source};
use crate::plugin::Request;
use crate::quarantine::{Entry, NotKept};
use crate::reload::{Outcome, ReloadRequest, Status, Trigger};
use crate::shutdown::Shutdown;
use arc_swap::ArcSwap;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Response, StatusCode};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// How much of an oversize body the quarantine keeps (for diagnosis; it cannot be replayed).
const OVERSIZE_KEPT_BYTES: usize = 64 << 10;

/// State shared by all connections: the current pipeline, the in-flight limit, counters,
/// reload status, and the handles the admin endpoints and the reload controller need.
pub struct Shared {
    pipeline: ArcSwap<Pipeline>,
    in_flight: Semaphore,
    metrics: Metrics,
    status: Mutex<Status>,
    reloads: OnceLock<mpsc::Sender<ReloadRequest>>,
    shutdown: OnceLock<Shutdown>,
    delivery: crate::outbox::Delivery,
    /// Replies carrying a MAC of request data, per source (see `limiter`).
    signed_replies: super::limiter::Buckets,
}

impl Shared {
    /// Wraps a pipeline and starts delivering its outbox (must run inside the tokio runtime).
    pub fn new(pipeline: Pipeline) -> Shared {
        let limit = pipeline.spec().server.max_in_flight;
        let status = Status {
            config_sha256: crate::reload::config_digest(&pipeline.spec().config_path).unwrap_or_default(),
            last_reload: None,
        };
        let delivery = crate::outbox::Delivery::new(pipeline.outbox().clone());
        delivery.configure(&pipeline);
        Shared {
            delivery,
            pipeline: ArcSwap::from_pointee(pipeline),
            in_flight: Semaphore::new(limit),
            metrics: Metrics::default(),
            status: Mutex::new(status),
            reloads: OnceLock::new(),
            shutdown: OnceLock::new(),
            signed_replies: super::limiter::Buckets::new(
                super::limiter::SIGNED_REPLY_BURST,
                super::limiter::SIGNED_REPLY_REFILL,
            ),
        }
    }

    /// The pipeline requests start on now. In-flight requests keep the one they started with.
    pub fn pipeline(&self) -> Arc<Pipeline> {
        self.pipeline.load_full()
    }

    /// Replaces the pipeline for new requests (atomically); returns the previous one.
    pub fn swap(&self, pipeline: Pipeline) -> Arc<Pipeline> {
        self.delivery.configure(&pipeline);
        self.pipeline.swap(Arc::new(pipeline))
    }

    /// The outbox's delivery service.
    pub fn delivery(&self) -> &crate::outbox::Delivery {
        &self.delivery
    }

    /// The counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
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

    /// Starts following a websocket feed (for feeds a reload added).
    pub fn follow_feed(self: &Arc<Self>, id: String) {
        let shutdown = self.shutdown.get().cloned().unwrap_or_default();
        tokio::spawn(super::websocket::follow(id, self.clone(), shutdown));
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

fn headers_of(req: &hyper::Request<Incoming>) -> Vec<(String, String)> {
    req.headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Answers one request (and counts it).
pub(crate) async fn handle(
    shared: Arc<Shared>,
    req: hyper::Request<Incoming>,
    remote: SocketAddr,
) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    match path.as_str() {
        "/healthz" => return json(StatusCode::OK, &serde_json::json!({ "status": "ok" })),
        "/metrics" | "/admin/status" | "/admin/reload" => return super::admin::handle(&shared, req, remote).await,
        _ => {}
    }
    let source = shared
        .pipeline()
        .source(&path)
        .map(|s| s.spec.id.clone())
        .unwrap_or_else(|| "-".to_string());
    let response = ingest(shared.clone(), req, remote, path).await;
    shared.metrics.request(&source, response.status().as_u16());
    response
}

async fn ingest(
    shared: Arc<Shared>,
    req: hyper::Request<Incoming>,
    remote: SocketAddr,
    path: String,
) -> Response<Full<Bytes>> {
    let delivery_id = crate::clock::new_ulid();
    let received_at = crate::clock::now_rfc3339();
    let pipeline = shared.pipeline();
    let Some(source) = pipeline.source(&path).cloned() else {
        tracing::info!(%path, %remote, "No source for path.");
        return Error::NotFound { path }.to_response(&delivery_id, false);
    };
    // Methods first: a scanner's GET/OPTIONS/TRACE is answered without touching anything.
    let method = req.method().as_str();
    if !source.spec.methods.iter().any(|m| m == method) {
        tracing::debug!(source = %source.spec.id, %remote, method, "Method not accepted.");
        return Error::MethodNotAllowed {
            method: method.to_string(),
            allowed: source.spec.methods.clone(),
        }
        .to_response(&delivery_id, false);
    }
    let auth_kind = match auth::check(&source.auth, req.headers()) {
        Ok(kind) => kind,
        Err(Refusal::Unauthorized { reason, challenge }) => {
            tracing::info!(source = %source.spec.id, %remote, reason, "Request refused.");
            return Error::Unauthorized { reason, challenge }.to_response(&delivery_id, false);
        }
        Err(Refusal::Unavailable(reason)) => {
            tracing::warn!(source = %source.spec.id, %remote, %reason, "Request refused: source not configured.");
            return Error::Unavailable(reason).to_response(&delivery_id, false);
        }
    };
    // The disk budget, before reading the body: below it nothing new is taken (the sender
    // retries later) rather than failing halfway through a write.
    if let Err(low) = pipeline.disk().check() {
        pipeline.disk().refused();
        tracing::debug!(source = %source.spec.id, %remote, error = %low, "Request refused: storage below the disk budget.");
        return Error::StorageLow(low).to_response(&delivery_id, false);
    }
    let mut request = Request {
        method: req.method().as_str().to_string(),
        path: path.clone(),
        query: req.uri().query().unwrap_or("").to_string(),
        headers: headers_of(&req),
        body: Bytes::new(),
        remote_addr: Some(remote.to_string()),
        source_id: source.spec.id.clone(),
        delivery_id: delivery_id.clone(),
        received_at,
    };
    match read_capped(req.into_body(), source.spec.max_body_bytes).await {
        Ok(body) => request.body = body,
        Err(BodyError::TooLarge { limit, prefix }) => {
            // A cut body cannot be replayed; its start is enough to see what it was.
            request.body = prefix.slice(..prefix.len().min(OVERSIZE_KEPT_BYTES));
            let error = Error::TooLarge { limit };
            let kept = keep(&pipeline, &request, &error, true).await;
            return error.to_response(&delivery_id, kept);
        }
        Err(BodyError::Read(reason)) => {
            tracing::info!(source = %source.spec.id, %remote, %reason, "Request body unreadable.");
            return Error::BadBody(reason).to_response(&delivery_id, false);
        }
    }
    let encoding = request
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-encoding"))
        .map(|(_, v)| v.clone());
    if encoding.is_some() {
        match super::body::decode(encoding.as_deref(), request.body.clone(), source.spec.max_body_bytes) {
            Ok(decoded) => {
                // Plugins (and the quarantine) see the body as sent before compression.
                request.body = decoded;
                request
                    .headers
                    .retain(|(k, _)| !k.eq_ignore_ascii_case("content-encoding"));
            }
            Err(e) => {
                let error = Error::from(e);
                let kept = keep(&pipeline, &request, &error, false).await;
                return error.to_response(&delivery_id, kept);
            }
        }
    }
    let _permit = shared.in_flight.acquire().await;
    match pipeline.process(&source, &request, auth_kind).await {
        Ok(processed) => {
            shared
                .metrics
                .events(processed.emitted - processed.duplicates, processed.duplicates);
            tracing::info!(
                source = %source.spec.id,
                delivery_id = %delivery_id,
                normalized = processed.normalized,
                dropped = processed.dropped,
                emitted = processed.emitted,
                routed = processed.routed,
                duplicates = processed.duplicates,
                "Request processed."
            );
            if processed.reply_carries_mac {
                // A MAC of caller-chosen bytes: every one is logged, and few are answered.
                if let Err(wait) = shared.signed_replies.take(&source.spec.id) {
                    tracing::warn!(source = %source.spec.id, %remote, delivery_id = %delivery_id, "Signing challenge refused: over the per-source limit.");
                    return Error::TooManyChallenges {
                        retry_after_secs: wait.as_secs().max(1),
                    }
                    .to_response(&delivery_id, false);
                }
                tracing::info!(source = %source.spec.id, %remote, delivery_id = %delivery_id, "Reply carries an HMAC of request data (a challenge answer).");
            }
            match processed.reply {
                Some(reply) => reply_response(reply),
                None => json(
                    StatusCode::OK,
                    &serde_json::json!({
                        "status": "accepted",
                        "delivery_id": delivery_id,
                        "events": processed.emitted,
                        "dropped": processed.dropped,
                        "duplicates": processed.duplicates,
                        "unrouted": processed.emitted - processed.duplicates - processed.routed,
                    }),
                ),
            }
        }
        Err(e) => fail(&shared, &pipeline, &source, &request, e).await,
    }
}

async fn fail(
    shared: &Shared,
    pipeline: &Pipeline,
    source: &Source,
    request: &Request,
    e: ProcessError,
) -> Response<Full<Bytes>> {
    if let ProcessError::Plugin(
        fault @ (crate::plugin::Error::Trapped { .. }
        | crate::plugin::Error::DeadlineExceeded { .. }
        | crate::plugin::Error::ResourceLimit { .. }),
    ) = &e
    {
        shared.check_plugin(fault.plugin());
    }
    let error = Error::Process(e);
    if error.status().is_server_error() {
        tracing::error!(source = %source.spec.id, delivery_id = %request.delivery_id, error = %error, "Request failed; kept in quarantine.");
    } else {
        tracing::info!(source = %source.spec.id, delivery_id = %request.delivery_id, error = %error, "Request rejected; kept in quarantine.");
    }
    let kept = keep(pipeline, request, &error, false).await;
    error.to_response(&request.delivery_id, kept)
}

/// Quarantines a request; false (and an ERROR log: data is lost) if even that fails.
pub(crate) async fn keep(pipeline: &Pipeline, request: &Request, error: &Error, truncated: bool) -> bool {
    let entry = Entry {
        delivery_id: request.delivery_id.clone(),
        received_at: request.received_at.clone(),
        source_id: Some(request.source_id.clone()),
        method: request.method.clone(),
        path: request.path.clone(),
        query: request.query.clone(),
        headers: Entry::redact_headers(&request.headers),
        remote_addr: request.remote_addr.clone(),
        status: error.status().as_u16(),
        reason: error.to_string(),
        body_base64: Entry::encode_body(&request.body),
        truncated,
    };
    match pipeline.quarantine().keep(&entry, pipeline.disk()).await {
        Ok(_) => true,
        Err(e @ (NotKept::Full(_) | NotKept::Disk(_))) => {
            tracing::debug!(delivery_id = %request.delivery_id, error = %e, "Request not quarantined.");
            false
        }
        Err(e) => {
            tracing::error!(delivery_id = %request.delivery_id, error = %e, "Could not write the quarantine; the request is lost.");
            false
        }
    }
}

fn reply_response(reply: crate::plugin::Reply) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    for (name, value) in reply.headers {
        match (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(&value),
        ) {
            (Ok(n), Ok(v)) => {
                response.headers_mut().append(n, v);
            }
            _ => tracing::warn!(header = %name, "Plugin reply header is not valid HTTP; skipped."),
        }
    }
    response
}
