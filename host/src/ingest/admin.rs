//! Operator endpoints on the ingest listener: `GET /metrics` (Prometheus text),
//! `GET /admin/status` (active config and plugin hashes, last reload, storage state) and
//! `POST /admin/reload` (the same reload path as file changes and SIGHUP). All of them answer
//! loopback peers, peers in `[admin] allow`, and requests bearing the token named by
//! `[admin] token_env`; others get 403 (or 401 when a token could admit them). Metrics name
//! sources, sinks and plugins, and reloads change what the router runs: neither is public.

use super::response::json;
use super::shared::Shared;
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

/// Why a peer may not use the admin endpoints.
#[derive(Debug, PartialEq, Eq)]
enum Denied {
    /// Not loopback, not in `admin.allow`, and no token is configured.
    Forbidden,
    /// A token is configured but was not presented, or was wrong.
    BadToken,
}

/// The admin access rule.
fn admitted(admin: &crate::config::AdminSpec, headers: &hyper::HeaderMap, ip: IpAddr) -> Result<(), Denied> {
    if is_loopback(ip) || admin.allow.iter().any(|net| net.contains(ip)) {
        return Ok(());
    }
    let Some(expected) = admin
        .token_env
        .as_deref()
        .and_then(|name| std::env::var(name).ok())
        .filter(|t| !t.is_empty())
    else {
        return Err(Denied::Forbidden);
    };
    let presented = headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    match presented {
        Some(token) if super::auth::constant_time_eq(token.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(Denied::BadToken),
    }
}

pub(crate) async fn handle(
    shared: &Shared,
    req: hyper::Request<Incoming>,
    remote: SocketAddr,
) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    match admitted(&shared.pipeline().spec().admin, req.headers(), remote.ip()) {
        Ok(()) => {}
        Err(Denied::Forbidden) => {
            tracing::info!(%remote, path, "Admin endpoint refused: peer not allowed.");
            return json(
                StatusCode::FORBIDDEN,
                &json!({ "error": "admin endpoints answer loopback clients and the addresses in `[admin] allow` only" }),
            );
        }
        Err(Denied::BadToken) => {
            tracing::info!(%remote, path, "Admin endpoint refused: missing or wrong token.");
            let mut response = json(
                StatusCode::UNAUTHORIZED,
                &json!({ "error": "admin endpoints need `Authorization: Bearer <token>` (the token in `[admin] token_env`) from this address" }),
            );
            response.headers_mut().insert(
                hyper::header::WWW_AUTHENTICATE,
                hyper::header::HeaderValue::from_static("Bearer realm=\"switchyard-admin\""),
            );
            return response;
        }
    }
    if path == "/metrics" {
        let mut text = shared.metrics().render();
        text.push_str(&shared.connections.render());
        text.push_str(&shared.bodies.render());
        text.push_str(&shared.delivery().render_metrics().await);
        let pipeline = shared.pipeline();
        text.push_str(&pipeline.disk().render());
        text.push_str(&pipeline.quarantine().render());
        text.push_str(&crate::plugin::render_stats(
            pipeline.plugins().into_iter().map(|p| (p.id(), p.stats())),
        ));
        let mut response = Response::new(Full::new(Bytes::from(text)));
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/plain; version=0.0.4"),
        );
        return response;
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
    use super::{Denied, admitted, is_loopback};
    use crate::config::AdminSpec;

    #[test]
    fn loopback_allow_list_then_token() {
        let headers = |auth: Option<&str>| {
            let mut h = hyper::HeaderMap::new();
            if let Some(a) = auth {
                h.insert(hyper::header::AUTHORIZATION, a.parse().unwrap());
            }
            h
        };
        let none = AdminSpec::default();
        assert_eq!(
            admitted(&none, &headers(None), "::ffff:127.0.0.1".parse().unwrap()),
            Ok(())
        );
        assert_eq!(
            admitted(&none, &headers(None), "10.1.2.3".parse().unwrap()),
            Err(Denied::Forbidden)
        );
        let listed = AdminSpec {
            allow: vec!["10.0.0.0/8".parse().unwrap()],
            token_env: None,
        };
        assert_eq!(admitted(&listed, &headers(None), "10.1.2.3".parse().unwrap()), Ok(()));
        // SAFETY: this variable is read only by this test.
        unsafe { std::env::set_var("SWITCHYARD_TEST_ADMIN_TOKEN_UNIT", "s3cret") };
        let token = AdminSpec {
            allow: vec![],
            token_env: Some("SWITCHYARD_TEST_ADMIN_TOKEN_UNIT".into()),
        };
        let far = "192.0.2.1".parse().unwrap();
        assert_eq!(admitted(&token, &headers(Some("Bearer s3cret")), far), Ok(()));
        assert_eq!(
            admitted(&token, &headers(Some("Bearer wrong")), far),
            Err(Denied::BadToken)
        );
        assert_eq!(admitted(&token, &headers(None), far), Err(Denied::BadToken));
        let unset = AdminSpec {
            allow: vec![],
            token_env: Some("SWITCHYARD_TEST_ADMIN_TOKEN_UNSET".into()),
        };
        assert_eq!(
            admitted(&unset, &headers(Some("Bearer ")), far),
            Err(Denied::Forbidden),
            "an unset token admits nobody"
        );
    }

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
