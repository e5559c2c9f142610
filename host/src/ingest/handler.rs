//! One request, from the socket to the answer.

use super::auth::{self, Refusal};
use super::budget::Reservation;
use super::connections::Progress;
use super::edge::Edge;
use super::response::{Error, json};
use crate::body::{BODY_RATE_GRACE, BodyError, Pace, read_observed};
use crate::config::EdgeLimits;
use crate::disk::Share;
use crate::pipeline::{Pipeline, ProcessError, Source};
use crate::plugin::Request;
use crate::quarantine::{Entry, NotKept};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Response, StatusCode};
use std::net::SocketAddr;
use std::sync::Arc;

/// How much of an oversize body the quarantine keeps (for diagnosis; it cannot be replayed).
const OVERSIZE_KEPT_BYTES: usize = 64 << 10;

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
    edge: Arc<Edge>,
    req: hyper::Request<Incoming>,
    remote: SocketAddr,
) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    match path.as_str() {
        "/healthz" => return json(StatusCode::OK, &serde_json::json!({ "status": "ok" })),
        "/readyz" => {
            return match edge.router.readiness() {
                Ok(()) => json(StatusCode::OK, &serde_json::json!({ "status": "ready" })),
                // Senders reach this port: the reason without paths or sizes (the admin
                // port's /readyz has them).
                Err(reason) => json(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &serde_json::json!({ "status": "not ready", "reason": reason.split(':').next() }),
                ),
            };
        }
        "/metrics" | "/admin/status" | "/admin/reload" => {
            if let Some(operator) = edge.operator() {
                return operator(req, remote).await;
            }
        }
        _ => {}
    }
    // On a task of its own: a sender that hangs up mid-request drops this future, and the
    // request must still run to its end (its events may be committed already) and be counted.
    let task = tokio::spawn(async move {
        let source = edge
            .router
            .pipeline()
            .source(&path)
            .map(|s| s.spec.id.clone())
            .unwrap_or_else(|| "-".to_string());
        let response = ingest(edge.clone(), req, remote, path).await;
        edge.router.answered(&source, response.status().as_u16());
        response
    });
    match task.await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(%remote, error = %e, "Request task failed.");
            json(
                StatusCode::INTERNAL_SERVER_ERROR,
                &serde_json::json!({ "error": "internal error while processing the request" }),
            )
        }
    }
}

/// Room for a request's body before it is read: its declared length, or the source's cap when
/// it does not say (chunked). When every peer's bodies together hold the budget, the slowest
/// of them are closed and this one takes over what they held.
fn reserve_body(
    edge: &Edge,
    limits: &EdgeLimits,
    source: &Source,
    req: &hyper::Request<Incoming>,
    remote: SocketAddr,
) -> Result<Reservation, Error> {
    use hyper::body::Body;
    let cap = source.spec.max_body_bytes as u64;
    let bytes = req.body().size_hint().exact().map_or(cap, |n| n.min(cap));
    edge.bodies
        .reserve_or_evict(remote.ip(), bytes, limits.into(), |needed| {
            edge.connections.evict_bodies_for(needed)
        })
        .map_err(Error::BodyBudget)
}

/// Answers with `error` after keeping the start of a body that was cut off (too large, too
/// slow) in the quarantine: it cannot be replayed, but its start shows what it was.
async fn keep_cut(
    pipeline: &Pipeline,
    source: &Source,
    request: &mut Request,
    prefix: Bytes,
    error: Error,
) -> Response<Full<Bytes>> {
    request.body = prefix.slice(..prefix.len().min(OVERSIZE_KEPT_BYTES));
    let kept = keep(pipeline, share(source), request, &error, true).await;
    error.to_response(&request.delivery_id, kept)
}

async fn ingest(
    edge: Arc<Edge>,
    req: hyper::Request<Incoming>,
    remote: SocketAddr,
    path: String,
) -> Response<Full<Bytes>> {
    let delivery_id = crate::clock::new_ulid();
    let received_at = crate::clock::now_rfc3339();
    // The connection's progress, which ranks it for eviction (absent only off the listener).
    let progress = req.extensions().get::<Arc<Progress>>().cloned().unwrap_or_default();
    let pipeline = edge.router.pipeline();
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
    if let Some(rate) = source.spec.rate_limit
        && let Err(wait) = edge.rate_limits.take_fair(&source.spec.id, remote.ip(), rate.into())
    {
        tracing::debug!(source = %source.spec.id, %remote, "Request refused: over the source's rate limit.");
        return Error::RateLimited {
            retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
        }
        .to_response(&delivery_id, false);
    }
    // The disk budget, before reading the body: below it nothing new is taken (the sender
    // retries later) rather than failing halfway through a write. A door keeps half the
    // budget for itself (`disk::Share::Doors`): it is answered while the disk is merely low,
    // with room left to store or quarantine its event.
    let disk = match share(&source) {
        Share::Doors => pipeline.disk().check_doors(),
        Share::All => pipeline.disk().check(),
    };
    if let Err(low) = disk {
        pipeline.disk().refused();
        tracing::debug!(source = %source.spec.id, %remote, error = %low, "Request refused: storage below the disk budget.");
        return Error::StorageLow(low).to_response(&delivery_id, false);
    }
    // A sender that asks before sending (`Expect: 100-continue`) a body over the cap is told
    // 413 at once: it still holds its body, so nothing is lost, and nothing is read.
    if let Some(declared) = hyper::body::Body::size_hint(req.body()).exact()
        && declared > source.spec.max_body_bytes as u64
        && req
            .headers()
            .get(hyper::header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
    {
        tracing::info!(source = %source.spec.id, %remote, declared, "Request refused before its body: over max_body_bytes.");
        return Error::TooLarge {
            limit: source.spec.max_body_bytes,
        }
        .to_response(&delivery_id, false);
    }
    let limits = pipeline.spec().server.limits;
    let mut reservation = match reserve_body(&edge, &limits, &source, &req, remote) {
        Ok(r) => {
            progress.holds(r.claim());
            r
        }
        Err(error) => {
            tracing::info!(source = %source.spec.id, %remote, error = %error, "Request refused: body budget.");
            return error.to_response(&delivery_id, false);
        }
    };
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
    let pace = Pace {
        deadline: limits.body_timeout,
        min_bytes_per_sec: limits.min_body_bytes_per_sec,
        grace: BODY_RATE_GRACE,
    };
    let read = read_observed(req.into_body(), source.spec.max_body_bytes, Some(pace), |n| {
        progress.received(n)
    })
    .await;
    match read {
        // Closed to make room mid-body: what arrived is not the whole body, whatever the
        // stream said. Nothing was accepted, so nothing is lost; the sender retries.
        Ok(_) if progress.was_evicted() => {
            tracing::info!(source = %source.spec.id, %remote, "Request body cut off: its connection was the slowest when room was needed.");
            return Error::BadBody("the connection was closed to make room for faster senders".into())
                .to_response(&delivery_id, false);
        }
        Ok(body) => request.body = body,
        Err(BodyError::TooLarge { limit, prefix }) => {
            return keep_cut(&pipeline, &source, &mut request, prefix, Error::TooLarge { limit }).await;
        }
        Err(BodyError::Read(reason)) => {
            tracing::info!(source = %source.spec.id, %remote, %reason, "Request body unreadable.");
            return Error::BadBody(reason).to_response(&delivery_id, false);
        }
        Err(BodyError::TooSlow { prefix, elapsed, pace }) => {
            // The message says how much arrived in how long against which pace.
            let reason = BodyError::TooSlow {
                prefix: prefix.clone(),
                elapsed,
                pace,
            }
            .to_string();
            tracing::info!(source = %source.spec.id, %remote, %reason, "Request body too slow.");
            return keep_cut(&pipeline, &source, &mut request, prefix, Error::TooSlow(reason)).await;
        }
    }
    progress.working();
    // A decision's deadline counts from here: the terminal has sent everything.
    let started = std::time::Instant::now();
    let encoding = request
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-encoding"))
        .map(|(_, v)| v.clone());
    if encoding.is_some() {
        match super::decode::decode(encoding.as_deref(), request.body.clone(), source.spec.max_body_bytes) {
            Ok(decoded) => {
                if let Err(exhausted) = reservation.grow(decoded.len() as u64, (&limits).into()) {
                    let error = Error::BodyBudget(exhausted);
                    tracing::info!(source = %source.spec.id, %remote, error = %error, "Request refused: body budget.");
                    return error.to_response(&delivery_id, false);
                }
                // Plugins (and the quarantine) see the body as sent before compression.
                request.body = decoded;
                request
                    .headers
                    .retain(|(k, _)| !k.eq_ignore_ascii_case("content-encoding"));
            }
            Err(e) => {
                let error = Error::from(e);
                let kept = keep(&pipeline, share(&source), &request, &error, false).await;
                return error.to_response(&delivery_id, kept);
            }
        }
    }
    if source.decider.is_some() {
        return decide_then_deliver(edge, pipeline, source, request, auth_kind, reservation, started).await;
    }
    let _processing = edge.processing.reserve(request.body.len() as u64).await;
    let _permit = edge.in_flight.acquire().await;
    let result = pipeline.process(&source, &request, auth_kind).await;
    conclude(&edge, &pipeline, &source, &request, result).await
    // `reservation` lives to here: the body is held until the request is answered.
}

/// A source with a `decider`: the terminal is answered as soon as the ruling is rendered
/// (normalizer, decider, `answer` — no disk, no network, no in-flight slot), and the rest —
/// media, filters, transforms, the commit — goes on in the background. If that then fails,
/// the request is quarantined like any other (the door was already answered; the door's
/// share of the disk budget keeps room for it). Answered doors whose commit is still to
/// come are bounded by `max_in_flight` (`Edge::pending_doors`): past it a door waits for
/// one to finish, rather than piling up work and memory no disk can catch up with.
async fn decide_then_deliver(
    edge: Arc<Edge>,
    pipeline: Arc<Pipeline>,
    source: Arc<Source>,
    request: Request,
    auth: crate::event::AuthKind,
    reservation: Reservation,
    started: std::time::Instant,
) -> Response<Full<Bytes>> {
    let front = match pipeline.front(&source, &request, auth, started).await {
        Ok(front) => front,
        Err(e) => return fail(&edge, &pipeline, &source, &request, e).await,
    };
    if let Some(decided) = &front.decision {
        edge.router.decided(&pipeline, decided);
    }
    let early = front.reply().filter(|_| !front.reply_carries_mac()).cloned();
    let Some(reply) = early else {
        // No reply of the normalizer's own: the summary needs the whole run.
        let _processing = edge.processing.reserve(request.body.len() as u64).await;
        let _permit = edge.in_flight.acquire().await;
        let result = pipeline.finish(&source, front).await;
        return conclude(&edge, &pipeline, &source, &request, result).await;
    };
    let Ok(pending) = edge.pending_doors.clone().acquire_owned().await else {
        // Closed only at shutdown: finish it here.
        let result = pipeline.finish(&source, front).await;
        return conclude(&edge, &pipeline, &source, &request, result).await;
    };
    let background = edge.clone();
    edge.background.spawn(async move {
        let edge = background;
        let _pending = pending;
        let _processing = edge.processing.reserve(request.body.len() as u64).await;
        let _permit = edge.in_flight.acquire().await;
        let _reservation = reservation;
        let result = pipeline.finish(&source, front).await;
        conclude(&edge, &pipeline, &source, &request, result).await;
    });
    reply_response(reply)
}

/// Logs and counts a processed request and builds its answer, or quarantines a failed one.
async fn conclude(
    edge: &Edge,
    pipeline: &Pipeline,
    source: &Source,
    request: &Request,
    result: Result<crate::pipeline::Processed, ProcessError>,
) -> Response<Full<Bytes>> {
    let delivery_id = &request.delivery_id;
    let remote = request.remote_addr.as_deref().unwrap_or("-");
    match result {
        Ok(processed) => {
            edge.router.observed(pipeline, request, &processed);
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
                let peer = remote
                    .parse::<SocketAddr>()
                    .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |a| a.ip());
                if let Err(wait) =
                    edge.signed_replies
                        .take_fair(&source.spec.id, peer, super::limiter::Rate::SIGNED_REPLIES)
                {
                    tracing::warn!(source = %source.spec.id, %remote, delivery_id = %delivery_id, "Signing challenge refused: over the sender's limit.");
                    return Error::TooManyChallenges {
                        retry_after_secs: wait.as_secs().max(1),
                    }
                    .to_response(delivery_id, false);
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
        Err(e) => fail(edge, pipeline, source, request, e).await,
    }
}

async fn fail(
    edge: &Edge,
    pipeline: &Pipeline,
    source: &Source,
    request: &Request,
    e: ProcessError,
) -> Response<Full<Bytes>> {
    if let ProcessError::Plugin(error) = &e {
        edge.router.plugin_failed(pipeline, error);
    }
    edge.router.failed(&e);
    let error = Error::Process(e);
    let kept = keep(pipeline, share(source), request, &error, false).await;
    // The log says what happened to the request: kept for a replay, or not (and why, from
    // `keep`'s own line).
    let (source, delivery_id) = (&source.spec.id, &request.delivery_id);
    // One record per failure, even when the guest's message is a multi-line traceback.
    let text = error.to_string();
    let logged = crate::telemetry::one_line(&text);
    match (error.status().is_server_error(), kept) {
        (true, true) => tracing::error!(%source, %delivery_id, error = %logged, "Request failed; kept in quarantine."),
        (true, false) => {
            tracing::error!(%source, %delivery_id, error = %logged, "Request failed and could not be quarantined.")
        }
        (false, true) => {
            tracing::info!(%source, %delivery_id, error = %logged, "Request rejected; kept in quarantine.")
        }
        (false, false) => tracing::info!(%source, %delivery_id, error = %logged, "Request rejected; not quarantined."),
    }
    error.to_response(&request.delivery_id, kept)
}

/// Whose part of the disk budget a source's requests use.
fn share(source: &Source) -> Share {
    if source.decider.is_some() {
        Share::Doors
    } else {
        Share::All
    }
}

/// Quarantines a request; false (and an ERROR log: data is lost) if even that fails.
pub(crate) async fn keep(pipeline: &Pipeline, share: Share, request: &Request, error: &Error, truncated: bool) -> bool {
    let entry = Entry {
        format: crate::formats::QUARANTINE.current,
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
    let kept = pipeline.quarantine().keep_for(&entry, pipeline.disk(), share).await;
    match kept {
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
