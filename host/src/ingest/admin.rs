//! Operator endpoints on the ingest listener: `GET /metrics` (Prometheus text),
//! `GET /admin/status` (active config and plugin hashes, last reload, storage state) and
//! `POST /admin/reload` (the same reload path as file changes and SIGHUP). The admin endpoints
//! answer only loopback peers: they change what the router runs.

use super::handler::Shared;
use super::response::json;
use crate::reload::Trigger;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Response, StatusCode};
use serde_json::json;
use std::net::{IpAddr, SocketAddr};

/// Whether a peer is on this machine. On a dual-stack listener (`[::]:8080`) an IPv4 client
/// arrives as `::ffff:127.0.0.1`, which `IpAddr::is_loopback` does not count.
fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

pub(crate) async fn handle(
    shared: &Shared,
    req: hyper::Request<Incoming>,
    remote: SocketAddr,
) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    if path == "/metrics" {
        let mut text = shared.metrics().render();
        text.push_str(&shared.delivery().render_metrics().await);
        let pipeline = shared.pipeline();
        text.push_str(&pipeline.disk().render());
        text.push_str(&pipeline.quarantine().render());
        let mut response = Response::new(Full::new(Bytes::from(text)));
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/plain; version=0.0.4"),
        );
        return response;
    }
    if !is_loopback(remote.ip()) {
        return json(
            StatusCode::FORBIDDEN,
            &json!({ "error": "admin endpoints answer only loopback clients" }),
        );
    }
    match (req.method(), path) {
        (&Method::GET, "/admin/status") => json(StatusCode::OK, &status(shared)),
        (&Method::POST, "/admin/reload") => match shared.request_reload(Trigger::Admin).await {
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

fn status(shared: &Shared) -> serde_json::Value {
    let pipeline = shared.pipeline();
    let spec = pipeline.spec();
    let status = shared.status();
    let plugins: Vec<_> = pipeline
        .plugins()
        .iter()
        .map(|p| json!({ "id": p.id(), "kind": p.kind().as_str(), "sha256": p.sha256(), "path": p.path() }))
        .collect();
    let metrics = shared.metrics();
    let (entries, bytes) = pipeline.quarantine().usage();
    let storage = json!({
        "disk_low": pipeline.disk().is_low(),
        "min_free_bytes": pipeline.disk().min_free(),
        "outbox_file_ok": pipeline.outbox().stats().file_ok.load(std::sync::atomic::Ordering::Relaxed) == 1,
        "quarantine": { "entries": entries, "bytes": bytes },
    });
    json!({
        "config_path": spec.config_path,
        "config_sha256": status.config_sha256,
        "listen": spec.server.listen.to_string(),
        "sources": spec.sources.iter().map(|s| json!({ "id": s.id, "path": s.path, "websocket": s.websocket.as_ref().map(|w| w.url.to_string()) })).collect::<Vec<_>>(),
        "plugins": plugins,
        "last_reload": status.last_reload,
        "reloads": { "applied": metrics.reloads("applied"), "rejected": metrics.reloads("rejected"), "unchanged": metrics.reloads("unchanged") },
        "storage": storage,
    })
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn ipv4_mapped_loopback_is_loopback() {
        for local in ["127.0.0.1", "127.5.6.7", "::1", "::ffff:127.0.0.1"] {
            assert!(is_loopback(local.parse().unwrap()), "{local}");
        }
        for remote in ["10.0.0.1", "::ffff:10.0.0.1", "2001:db8::1", "0.0.0.0"] {
            assert!(!is_loopback(remote.parse().unwrap()), "{remote}");
        }
    }
}
