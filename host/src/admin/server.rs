//! The console's tasks: its listener — binding `admin.listen`, serving connections under
//! their own caps, routing each request to the page, the operator endpoints or the API — and
//! the sampler of its Flow view.

use super::context::Admin;
use super::reply::{Body, full, json_body};
use super::{access, api, operator, session, ui};
use crate::shutdown::Shutdown;
use bytes::Bytes;
use http_body_util::BodyExt;
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

/// Binds the console's address, if `admin.listen` has one. A default address that is taken
/// (another router on this machine) is a warning; an address written in router.toml that
/// cannot be bound stops the start.
pub async fn bind(spec: &crate::config::AdminSpec) -> anyhow::Result<Option<TcpListener>> {
    let Some(addr) = spec.listen else {
        return Ok(None);
    };
    match TcpListener::bind(addr).await {
        Ok(l) => Ok(Some(l)),
        Err(e) if !spec.listen_chosen => {
            tracing::warn!(%addr, error = %e, "Console not served: its default address is taken. Set `admin.listen` in router.toml.");
            Ok(None)
        }
        Err(e) => Err(anyhow::anyhow!("cannot listen on {addr} (`admin.listen`): {e}")),
    }
}

/// Serves the console until `shutdown` fires.
pub async fn serve(listener: TcpListener, admin: Arc<Admin>, shutdown: Shutdown) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let connections = admin
        .console
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
        let Some((stream, remote)) = crate::ingest::accept(&listener, &shutdown, "Console accept failed.").await else {
            break;
        };
        let Some((stream, conn)) = gate.admit(stream, remote, MAX_CONNECTIONS, MAX_CONNECTIONS_PER_PEER) else {
            continue;
        };
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT);
        let admin = admin.clone();
        let state = conn.clone();
        let service = service_fn(move |req| {
            state.progress.body_started();
            let admin = admin.clone();
            let state = state.clone();
            async move {
                let response = handle(admin, req, remote).await;
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
async fn handle(admin: Arc<Admin>, req: hyper::Request<Incoming>, remote: SocketAddr) -> Response<Body> {
    let path = req.uri().path().to_string();
    if let Some(asset) = ui::asset(&path) {
        if !access::may_see_page(&admin.router.pipeline().spec().admin, remote.ip()) {
            return operator::refusal(&access::Denied::Forbidden, remote, &path).map(BodyExt::boxed);
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
        "/readyz" => {
            return match admin.router.readiness() {
                Ok(()) => json_body(StatusCode::OK, &json!({ "status": "ready" })),
                Err(reason) => json_body(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &json!({ "status": "not ready", "reason": reason }),
                ),
            };
        }
        "/metrics" | "/admin/status" | "/admin/reload" => {
            return operator::handle(&admin, req, remote).await.map(BodyExt::boxed);
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
        return session::login(&admin, req, remote).await;
    }
    let admitted = match operator::admit(&admin, &req, remote) {
        Ok(a) => a,
        Err(denied) => return operator::refusal(&denied, remote, &path).map(BodyExt::boxed),
    };
    if rest.trim_matches('/') == "session" {
        return session::session(&admin, &req, &admitted);
    }
    api::handle(&admin, req, &rest).await
}

/// Samples the console's Flow view every `flow::INTERVAL` until shutdown.
pub async fn sampler(admin: Arc<Admin>, shutdown: Shutdown) {
    let (router, console) = (admin.router.clone(), admin.console.clone());
    drop(admin);
    let mut tick = tokio::time::interval(super::flow::INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => console.flow.sample(&router).await,
        }
    }
}
