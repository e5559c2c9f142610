//! The operator endpoints both listeners serve: `GET /metrics` (Prometheus text),
//! `GET /admin/status` (active config and plugin hashes, last reload, storage state) and
//! `POST /admin/reload` (the same reload path as file changes and SIGHUP). The ingest
//! listener serves them through [`operator`] (scrapers and scripts point at either port); the
//! console's listener serves them beside `/admin/api/v1` and `/ui`. Access: see `access`.

use super::access::{self, Admitted, Denied};
use super::context::Admin;
use crate::ingest::json;
use crate::router::Trigger;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Response, StatusCode};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;

/// The operator endpoints for the ingest listener (see [`crate::ingest::Edge::serve_operator`]).
pub fn operator(admin: Arc<Admin>) -> crate::ingest::Operator {
    Arc::new(move |req, remote| {
        let admin = admin.clone();
        Box::pin(async move { handle(&admin, req, remote).await })
    })
}

/// The refusal of a request that may not use the admin endpoints.
pub(crate) fn refusal(denied: &Denied, remote: SocketAddr, path: &str) -> Response<Full<Bytes>> {
    tracing::info!(%remote, path, reason = ?denied, "Admin endpoint refused.");
    let status = match denied {
        Denied::BadToken => StatusCode::UNAUTHORIZED,
        _ => StatusCode::FORBIDDEN,
    };
    let mut response = json(status, &json!({ "error": denied.message() }));
    if *denied == Denied::BadToken {
        response.headers_mut().insert(
            hyper::header::WWW_AUTHENTICATE,
            hyper::header::HeaderValue::from_static("Bearer realm=\"switchyard-admin\""),
        );
    }
    response
}

/// Admits a request (and, for one that changes something, checks its origin).
pub(crate) fn admit(admin: &Admin, req: &hyper::Request<Incoming>, remote: SocketAddr) -> Result<Admitted, Denied> {
    let pipeline = admin.router.pipeline();
    let admitted = access::admitted(
        &pipeline.spec().admin,
        &admin.console.sessions,
        req.headers(),
        remote.ip(),
    )?;
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        access::may_change(&admitted, req.headers())?;
    }
    Ok(admitted)
}

/// Answers `/metrics`, `/admin/status` and `/admin/reload`.
pub(crate) async fn handle(admin: &Admin, req: hyper::Request<Incoming>, remote: SocketAddr) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    if let Err(denied) = admit(admin, &req, remote) {
        return refusal(&denied, remote, path);
    }
    if path == "/metrics" {
        let mut text = admin.router.metrics().render();
        text.push_str(&admin.edge.render_metrics());
        if let Some(console) = admin.console.connections.get() {
            text.push_str(&console.render());
        }
        text.push_str(&admin.router.queue().render_metrics().await);
        let pipeline = admin.router.pipeline();
        text.push_str(&pipeline.disk().render());
        text.push_str(&pipeline.quarantine().render());
        text.push_str(&crate::plugin::render_stats(
            pipeline.plugins().into_iter().map(|p| (p.id(), p.stats())),
        ));
        text.push_str(&crate::plugin::render_plugin_info(
            pipeline.plugins().into_iter().map(|p| p.as_ref()),
        ));
        let mut response = Response::new(Full::new(Bytes::from(text)));
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/plain; version=0.0.4"),
        );
        return response;
    }
    match (req.method(), path) {
        (&Method::GET, "/admin/status") => json(StatusCode::OK, &status(admin).await),
        (&Method::POST, "/admin/reload") => match admin.router.request_reload(Trigger::Admin).await {
            Some(outcome) => {
                let code = if outcome.outcome == "rejected" {
                    StatusCode::CONFLICT
                } else {
                    StatusCode::OK
                };
                json(code, &serde_json::to_value(&outcome).unwrap_or_default())
            }
            None => json(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({ "error": "hot reload is not running" }),
            ),
        },
        (_, "/admin/status") => json(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({ "error": "use GET /admin/status" }),
        ),
        _ => json(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({ "error": "use POST /admin/reload" }),
        ),
    }
}

/// What `GET /admin/status` (and the API's `status`) reports.
pub(crate) async fn status(admin: &Admin) -> serde_json::Value {
    let queue = admin.router.queue().status().await;
    let pipeline = admin.router.pipeline();
    let spec = pipeline.spec();
    let status = admin.router.status();
    let plugins: Vec<_> = pipeline
        .plugins()
        .iter()
        .map(|p| json!({ "id": p.id(), "kind": p.kind().as_str(), "sha256": p.sha256(), "path": p.path(), "signer": p.signer() }))
        .collect();
    let metrics = admin.router.metrics();
    let (entries, bytes) = pipeline.quarantine().usage();
    let storage = json!({
        "disk_low": pipeline.disk().is_low(),
        "min_free_bytes": pipeline.disk().min_free(),
        "outbox_file_ok": queue.file_ok,
        "quarantine": { "entries": entries, "bytes": bytes },
    });
    json!({
        "config_path": spec.config_path,
        "config_sha256": status.config_sha256,
        "listen": spec.server.listen.to_string(),
        "console": admin.console.address.get().map(|a| format!("http://{a}/ui")),
        "sources": spec.sources.iter().map(|s| json!({ "id": s.id, "path": s.kind.path(), "websocket": s.kind.websocket().map(|w| w.url.to_string()), "nats": s.kind.nats().map(|n| &n.subject) })).collect::<Vec<_>>(),
        "plugins": plugins,
        "last_reload": status.last_reload,
        "reloads": { "applied": metrics.reloads("applied"), "rejected": metrics.reloads("rejected"), "unchanged": metrics.reloads("unchanged") },
        "storage": storage,
        "cluster": queue.cluster,
    })
}
