//! The operator console and the admin API, on their own listener (`admin.listen`, loopback
//! by default): `/ui` (the page, embedded), `/admin/api/v1/…` (JSON, documented in
//! docs/admin-api.md), and the long-standing `/metrics`, `/admin/status` and
//! `/admin/reload`, which the ingest listener keeps serving too.
//!
//! Kept apart from the ingest edge on purpose: the ingest listener's limits (connection
//! caps, body budgets, rate limits) are tuned for vendors, and an operator's browser must
//! reach the console while a flood is being refused there — and the console must never be
//! exposed just because ingest listens on a public address.

mod access;
mod actions;
mod api;
mod dead_cluster;
mod diff;
mod flow;
mod jobs;
mod legacy;
mod live;
mod state;
mod stream;
mod ui;

pub use state::Console;

pub(crate) use flow::sampler;
pub(crate) use legacy::handle as legacy;

use crate::ingest::Shared;
use crate::shutdown::Shutdown;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::json;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The body of every console response: whole (JSON, assets) or streamed (live events).
pub(crate) type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// Connections the console serves at once (browsers open a handful each).
const MAX_CONNECTIONS: usize = 256;
/// …from one address: a browser opens six or so, a monitoring scraper one; one peer cannot
/// take the slots an operator needs. The edge's rule applies too (the connection making the
/// slowest progress makes room: `ingest::connections`).
const MAX_CONNECTIONS_PER_PEER: usize = 32;
/// To a complete request head; also the keep-alive idle timeout.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long open console connections get after shutdown starts (live streams end at once).
const DRAIN_DEADLINE: Duration = Duration::from_secs(2);
/// Login attempts per client address: 5 at once, then one every 2 s (and all addresses
/// together four times that: `ingest::limiter::Buckets::take_fair`).
const LOGIN_RATE: crate::ingest::limiter::Rate = crate::ingest::limiter::Rate {
    burst: 5,
    refill: Duration::from_secs(2),
};

pub(crate) fn full(bytes: Bytes) -> Body {
    Full::new(bytes).boxed()
}

pub(crate) fn json_body(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    crate::ingest::json(status, value).map(BodyExt::boxed)
}

/// Binds the console's address, if `admin.listen` has one. A default address that is taken
/// (another router on this machine) is a warning; an address written in router.toml that
/// cannot be bound stops the start.
pub async fn bind(admin: &crate::config::AdminSpec) -> anyhow::Result<Option<TcpListener>> {
    let Some(addr) = admin.listen else {
        return Ok(None);
    };
    match TcpListener::bind(addr).await {
        Ok(l) => Ok(Some(l)),
        Err(e) if !admin.listen_chosen => {
            tracing::warn!(%addr, error = %e, "Console not served: its default address is taken. Set `admin.listen` in router.toml.");
            Ok(None)
        }
        Err(e) => Err(anyhow::anyhow!("cannot listen on {addr} (`admin.listen`): {e}")),
    }
}

/// Serves the console until `shutdown` fires.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, shutdown: Shutdown) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let connections = shared
        .console()
        .connections
        .get_or_init(|| {
            crate::ingest::Connections::named(
                "switchyard_admin_connections",
                MAX_CONNECTIONS.min(crate::ingest::connection_ceiling()),
            )
        })
        .clone();
    let gate = crate::ingest::Gate::new(connections);
    loop {
        let (stream, remote) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "Console accept failed.");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some((stream, conn)) = gate.admit(stream, remote, MAX_CONNECTIONS, MAX_CONNECTIONS_PER_PEER) else {
            continue;
        };
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT);
        let shared = shared.clone();
        let state = conn.clone();
        let service = service_fn(move |req| {
            state.progress.body_started();
            let shared = shared.clone();
            let state = state.clone();
            async move {
                let response = handle(shared, req, remote).await;
                // A live stream keeps its connection busy for as long as it runs: it is an
                // operator watching, not an idle connection to be closed to make room.
                use hyper::body::Body as _;
                if response.body().size_hint().exact().is_some() {
                    state.progress.waiting();
                } else {
                    state.progress.working();
                }
                Ok::<_, Infallible>(response)
            }
        });
        let served = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(crate::ingest::run_connection(served, conn, remote));
    }
    let _ = tokio::time::timeout(DRAIN_DEADLINE, graceful.shutdown()).await;
}

/// Answers one console request.
async fn handle(shared: Arc<Shared>, req: hyper::Request<Incoming>, remote: SocketAddr) -> Response<Body> {
    let path = req.uri().path().to_string();
    if let Some(asset) = ui::asset(&path) {
        if !access::may_see_page(&shared.pipeline().spec().admin, remote.ip()) {
            return legacy::refusal(&access::Denied::Forbidden, remote, &path).map(BodyExt::boxed);
        }
        return asset;
    }
    match path.as_str() {
        "/" => {
            let mut response = Response::new(full(Bytes::new()));
            *response.status_mut() = StatusCode::SEE_OTHER;
            response
                .headers_mut()
                .insert(hyper::header::LOCATION, hyper::header::HeaderValue::from_static("/ui"));
            return response;
        }
        "/healthz" => return json_body(StatusCode::OK, &json!({ "status": "ok" })),
        "/metrics" | "/admin/status" | "/admin/reload" => {
            return legacy::handle(&shared, req, remote).await.map(BodyExt::boxed);
        }
        _ => {}
    }
    let Some(rest) = path.strip_prefix(api::PREFIX) else {
        return json_body(
            StatusCode::NOT_FOUND,
            &json!({ "error": format!("nothing at {path}; the console is at /ui and the API under {}", api::PREFIX) }),
        );
    };
    let rest = rest.to_string();
    if rest.trim_matches('/') == "session" && req.method() == Method::POST {
        return login(&shared, req, remote).await;
    }
    let admitted = match legacy::admit(&shared, &req, remote) {
        Ok(a) => a,
        Err(denied) => return legacy::refusal(&denied, remote, &path).map(BodyExt::boxed),
    };
    if rest.trim_matches('/') == "session" {
        return session(&shared, &req, &admitted);
    }
    api::handle(&shared, req, &rest).await
}

/// `GET session` (how this client is admitted, and the CSRF token of a login) and
/// `DELETE session` (log out).
fn session(shared: &Shared, req: &hyper::Request<Incoming>, admitted: &access::Admitted) -> Response<Body> {
    let pipeline = shared.pipeline();
    let admin = &pipeline.spec().admin;
    if req.method() == Method::DELETE {
        if let Some(id) = access::cookie(req.headers(), access::COOKIE) {
            shared.console().sessions.close(id);
        }
        let mut response = json_body(StatusCode::OK, &json!({ "logged_out": true }));
        response.headers_mut().insert(
            hyper::header::SET_COOKIE,
            hyper::header::HeaderValue::from_static(
                "switchyard_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
            ),
        );
        return response;
    }
    let (auth, csrf) = match admitted {
        access::Admitted::Peer => ("peer", None),
        access::Admitted::Token => ("token", None),
        access::Admitted::Session { csrf } => ("session", Some(csrf.clone())),
    };
    json_body(
        StatusCode::OK,
        &json!({ "auth": auth, "csrf": csrf, "token_configured": admin.expects_token() }),
    )
}

/// `POST session` with `{"token": "…"}`: a console login. The token is checked once here;
/// the browser keeps an HttpOnly, SameSite=Strict cookie naming the session, never the token.
async fn login(shared: &Shared, req: hyper::Request<Incoming>, remote: SocketAddr) -> Response<Body> {
    let problem = |status, message: &str| json_body(status, &json!({ "error": message }));
    if let Err(denied) = access::may_change(&access::Admitted::Peer, req.headers()) {
        return problem(StatusCode::FORBIDDEN, denied.message());
    }
    if let Err(wait) = shared.rate_limits.take_fair("admin-login", remote.ip(), LOGIN_RATE) {
        let mut response = problem(
            StatusCode::TOO_MANY_REQUESTS,
            "too many login attempts; wait and try again",
        );
        if let Ok(v) = hyper::header::HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            response.headers_mut().insert(hyper::header::RETRY_AFTER, v);
        }
        return response;
    }
    let admin = shared.pipeline().spec().admin.clone();
    if admin.token().is_none() {
        return problem(
            StatusCode::CONFLICT,
            "no admin token is configured (`admin.token_env` or `admin.token_file`); only loopback clients and `[admin] allow` reach the console",
        );
    }
    let body = match crate::body::read_capped(req.into_body(), 4096).await {
        Ok(b) => b,
        Err(_) => return problem(StatusCode::BAD_REQUEST, "the login body is larger than 4 KiB"),
    };
    let token = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("token").and_then(|t| t.as_str()).map(str::to_string));
    let Some(token) = token else {
        return problem(StatusCode::BAD_REQUEST, "send {\"token\": \"…\"} as JSON");
    };
    if !access::token_matches(&admin, token.trim()) {
        tracing::info!(%remote, "Console login refused: wrong token.");
        return problem(StatusCode::UNAUTHORIZED, "wrong token");
    }
    let id = shared.console().sessions.open();
    tracing::info!(%remote, "Console login.");
    let mut response = json_body(StatusCode::OK, &json!({ "logged_in": true }));
    let cookie = format!(
        "{}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        access::COOKIE,
        access::SESSION_TTL.as_secs()
    );
    if let Ok(v) = hyper::header::HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(hyper::header::SET_COOKIE, v);
    }
    response
}
