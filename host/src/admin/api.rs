//! The admin API, version 1 (`/admin/api/v1/…`): everything the console shows and does, as
//! JSON, so scripts and the CLI can do the same (docs/admin-api.md lists every endpoint).
//! No console logic lives only in the page.

use super::actions;
use super::context::Admin;
use super::live::Filter;
use super::reply::{Answer, Body, Problem, full, ok};
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Method, Response, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

/// The path prefix.
pub(crate) const PREFIX: &str = "/admin/api/v1";
/// Rows a list returns unless `limit` says otherwise, and at most.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;
/// Request bodies of admin actions are small JSON.
const MAX_ACTION_BODY: usize = 1 << 20;
/// The start of a quarantined body the API returns.
const QUARANTINE_BODY_SHOWN: usize = 256 << 10;

/// Query parameters, decoded.
pub(crate) fn query_pairs(uri: &hyper::Uri) -> Vec<(String, String)> {
    uri.query().map(form_urlencoded).unwrap_or_default()
}

fn form_urlencoded(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match s
                .get(i + 1..i + 3)
                .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(b) => {
                    out.push(b);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn limit(query: &[(String, String)]) -> Result<usize, Problem> {
    match param(query, "limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(v) => v
            .parse::<usize>()
            .map(|n| n.clamp(1, MAX_LIMIT))
            .map_err(|_| Problem::new(StatusCode::BAD_REQUEST, format!("`limit` must be a number, not `{v}`"))),
    }
}

async fn read_json(req: hyper::Request<Incoming>) -> Result<Value, Problem> {
    let body = crate::body::read_capped(req.into_body(), MAX_ACTION_BODY)
        .await
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, format!("reading the request body: {e}")))?;
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(&body)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, format!("the request body is not JSON: {e}")))
}

/// Answers one API request (already admitted).
pub(crate) async fn handle(admin: &Arc<Admin>, req: hyper::Request<Incoming>, rest: &str) -> Response<Body> {
    let method = req.method().clone();
    let segments: Vec<&str> = rest.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let query = query_pairs(req.uri());
    let answer = match (&method, segments.as_slice()) {
        (&Method::GET, []) => ok(&index()),
        (&Method::GET, ["status"]) => ok(&super::operator::status(admin).await),
        (&Method::GET, ["flow"]) => ok(&admin.console.flow.view(&admin.router).await),
        (&Method::GET, ["events"]) => events(admin, &query),
        (&Method::GET, ["events", "stream"]) => Ok(super::stream::events(admin, &query)),
        (&Method::GET, ["events", uid]) => event(admin, uid),
        (&Method::GET, ["blobs", sha]) => blob(admin, sha).await,
        (&Method::GET, ["plugins"]) => ok(&plugins(admin)),
        (&Method::GET, ["sinks"]) => sinks(admin).await,
        (&Method::GET, ["dead-letters"]) => dead_letters(admin, &query).await,
        (&Method::POST, ["dead-letters", "replay"]) => match read_json(req).await {
            Ok(body) => actions::replay_dead_letters(admin, &body).await,
            Err(p) => Err(p),
        },
        (&Method::POST, ["dead-letters", "purge"]) => match read_json(req).await {
            Ok(body) => actions::purge_dead_letters(admin, &body).await,
            Err(p) => Err(p),
        },
        (&Method::GET, ["jobs", id]) => job(admin, id),
        (&Method::GET, ["quarantine"]) => quarantine(admin, &query),
        (&Method::GET, ["quarantine", id]) => quarantined(admin, id),
        (&Method::POST, ["quarantine", id, "replay"]) => actions::replay_quarantined(admin, id).await,
        (&Method::GET, ["config"]) => ok(&config(admin)),
        (&Method::GET, ["reloads"]) => ok(&json!({ "reloads": admin.console.reloads() })),
        (&Method::POST, ["reload"]) => actions::reload(admin).await,
        (&Method::GET, ["decisions"]) => decisions(admin, &query),
        (_, path) => Err(Problem::new(
            StatusCode::NOT_FOUND,
            format!(
                "no endpoint {method} {PREFIX}/{}; GET {PREFIX} lists them",
                path.join("/")
            ),
        )),
    };
    answer.unwrap_or_else(Problem::response)
}

/// The endpoints (GET on the prefix).
fn index() -> Value {
    json!({
        "version": 1,
        "endpoints": [
            "GET status", "GET flow", "GET events?vendor&source&action&device&person&after&limit",
            "GET events/stream?vendor&source&action&device&person&after (text/event-stream)",
            "GET events/<event_uid>", "GET blobs/<sha256>", "GET plugins", "GET sinks",
            "GET dead-letters?sink&limit", "POST dead-letters/replay {ids|sink|all}",
            "POST dead-letters/purge {ids|sink|all, confirm: \"purge\"}", "GET jobs/<id>",
            "GET quarantine?source&limit", "GET quarantine/<delivery_id>",
            "POST quarantine/<delivery_id>/replay", "GET config", "GET reloads", "POST reload",
            "GET decisions?limit", "GET session", "POST session {token}", "DELETE session",
        ],
    })
}

fn events(admin: &Admin, query: &[(String, String)]) -> Answer {
    let filter = Filter::from_query(query);
    let after = param(query, "after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let rows: Vec<Value> = admin
        .console
        .tail
        .recent(&filter, after, limit(query)?)
        .iter()
        .map(|e| e.summary())
        .collect();
    ok(&json!({ "events": rows, "kept": super::live::KEPT }))
}

fn event(admin: &Admin, uid: &str) -> Answer {
    match admin.console.tail.find(uid) {
        Some(e) => ok(&e.detail()),
        None => Err(Problem::new(
            StatusCode::NOT_FOUND,
            format!(
                "event `{uid}` is not among the last {} events the console keeps; the sinks have it",
                super::live::KEPT
            ),
        )),
    }
}

async fn blob(admin: &Admin, sha: &str) -> Answer {
    if sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "a blob is named by its sha256 (64 hex digits)",
        ));
    }
    let path = crate::blobs::BlobStore::new(&admin.router.pipeline().spec().server.data_dir).path_of(sha);
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let mime = crate::blobs::sniff_mime(&bytes).unwrap_or("application/octet-stream");
            let mut response = Response::new(full(Bytes::from(bytes)));
            let headers = response.headers_mut();
            headers.insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static(mime),
            );
            // Content-addressed: a name never changes its bytes.
            headers.insert(
                hyper::header::CACHE_CONTROL,
                hyper::header::HeaderValue::from_static("private, max-age=86400, immutable"),
            );
            headers.insert(
                hyper::header::HeaderName::from_static("x-content-type-options"),
                hyper::header::HeaderValue::from_static("nosniff"),
            );
            Ok(response)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(Problem::new(StatusCode::NOT_FOUND, format!("no blob {sha}")))
        }
        Err(e) => Err(Problem::internal(format!("reading blob {sha}: {e}"))),
    }
}

fn plugins(admin: &Admin) -> Value {
    let pipeline = admin.router.pipeline();
    let console = admin.console.clone();
    let rows: Vec<Value> = pipeline
        .plugins()
        .iter()
        .map(|p| {
            let summary = p.stats().summary();
            json!({
                "id": p.id(),
                "kind": p.kind().as_str(),
                "path": p.path(),
                "sha256": p.sha256(),
                "signer": p.signer(),
                "calls": summary.calls,
                "p50_ms": summary.p50_seconds.map(|s| s * 1e3),
                "p99_ms": summary.p99_seconds.map(|s| s * 1e3),
                "drops": summary.drops,
                "rollbacks": console.rollbacks(p.id()),
                "last_errors": console.plugin_failures(p.id()),
            })
        })
        .collect();
    json!({ "plugins": rows })
}

async fn sinks(admin: &Admin) -> Answer {
    use std::sync::atomic::Ordering::Relaxed;
    let pipeline = admin.router.pipeline();
    let queue = admin.router.queue();
    let (counters, depths) = (queue.stats().all(), queue.depths().await);
    let flow = admin.console.flow.view(&admin.router).await;
    // In cluster mode a webhook sink's queue is the cluster's (shared by every router).
    let status = queue.status().await;
    let now = crate::clock::now_ms();
    let rows: Vec<Value> = pipeline
        .spec()
        .sinks
        .iter()
        .map(|spec| {
            let kind = match pipeline.sink(&spec.id).map(|s| s.as_ref()) {
                Some(crate::sink::Sink::Webhook(_)) => "webhook",
                Some(crate::sink::Sink::Nats(_)) => "nats",
                _ => "file",
            };
            let shared_queue = status.shared_sinks.get(&spec.id);
            let depth = depths.get(&spec.id).copied().unwrap_or_default();
            let c = counters.get(&spec.id);
            let load = |f: fn(&crate::queue::SinkCounters) -> &std::sync::atomic::AtomicU64| {
                c.map_or(0, |c| f(c).load(Relaxed))
            };
            let last_error = c.and_then(|c| c.last_error.lock().unwrap_or_else(|p| p.into_inner()).clone());
            let node = flow["nodes"]
                .as_array()
                .and_then(|n| n.iter().find(|n| n["id"] == format!("sink:{}", spec.id)))
                .map(|n| n["stats"].clone());
            json!({
                "id": spec.id,
                "type": kind,
                "queued": depth.queued,
                "cluster": shared_queue,
                "oldest_age_seconds": depth.oldest_ms.map(|t| ((now - t).max(0) as f64) / 1000.0),
                "dead_letters": depth.dead,
                "delivered": load(|c| &c.delivered),
                "retried": load(|c| &c.retried),
                "dead_lettered": load(|c| &c.dead_lettered),
                "in_flight": load(|c| &c.in_flight),
                "attempts": load(|c| &c.delivered) + load(|c| &c.retried) + load(|c| &c.dead_lettered),
                "last_error": last_error.map(|(at, message)| json!({ "at": crate::clock::rfc3339_ms(at), "message": message })),
                "flow": node,
            })
        })
        .collect();
    ok(&json!({ "sinks": rows }))
}

async fn dead_letters(admin: &Admin, query: &[(String, String)]) -> Answer {
    let sink = param(query, "sink").map(str::to_string);
    let limit = limit(query)?;
    let (letters, total) = admin
        .router
        .queue()
        .dead_letters()
        .recent(sink.as_deref(), limit)
        .await
        .map_err(|e| Problem::new(StatusCode::SERVICE_UNAVAILABLE, format!("the dead letters: {e:#}")))?;
    let rows: Vec<Value> = letters.iter().map(dead_letter_row).collect();
    ok(&json!({ "dead_letters": rows, "total": total }))
}

/// One dead letter as the API shows it (the payload cut to 4 KiB).
pub(super) fn dead_letter_row(d: &crate::queue::DeadLetter) -> Value {
    let preview: String = String::from_utf8_lossy(&d.payload[..d.payload.len().min(4096)]).into_owned();
    json!({
        "id": d.id,
        "sink": d.sink,
        "webhook_id": d.webhook_id,
        "created_at": crate::clock::rfc3339_ms(d.created_ms),
        "failed_at": crate::clock::rfc3339_ms(d.failed_ms),
        "attempts": d.attempts,
        "last_error": d.last_error,
        "payload_bytes": d.payload.len(),
        "payload": preview,
    })
}

fn job(admin: &Admin, id: &str) -> Answer {
    id.parse()
        .ok()
        .and_then(|id| admin.console.jobs.get(id))
        .map(|j| ok(&serde_json::to_value(j).unwrap_or_default()))
        .unwrap_or_else(|| Err(Problem::new(StatusCode::NOT_FOUND, format!("no job {id}"))))
}

fn quarantine(admin: &Admin, query: &[(String, String)]) -> Answer {
    let pipeline = admin.router.pipeline();
    let q = pipeline.quarantine();
    let entries = q
        .newest(param(query, "source"), limit(query)?)
        .map_err(|e| Problem::internal(format!("reading the quarantine: {e:#}")))?;
    let (pending, bytes) = q.usage();
    let rows: Vec<Value> = entries
        .iter()
        .map(|e| {
            json!({
                "delivery_id": e.delivery_id,
                "received_at": e.received_at,
                "source": e.source_id,
                "method": e.method,
                "path": e.path,
                "status": e.status,
                "reason": e.reason,
                "bytes": e.body_base64.len() / 4 * 3,
                "truncated": e.truncated,
                "remote_addr": e.remote_addr,
            })
        })
        .collect();
    ok(&json!({ "entries": rows, "pending": pending, "bytes": bytes }))
}

fn quarantined(admin: &Admin, id: &str) -> Answer {
    let entry = admin
        .router
        .pipeline()
        .quarantine()
        .get(id)
        .map_err(|e| Problem::internal(format!("reading quarantine entry {id}: {e:#}")))?
        .ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, format!("no pending quarantine entry {id}")))?;
    let body = entry.body().unwrap_or_default();
    let shown = &body[..body.len().min(QUARANTINE_BODY_SHOWN)];
    let (text, encoding) = match std::str::from_utf8(shown) {
        Ok(t) => (t.to_string(), "utf-8"),
        Err(_) => (crate::quarantine::Entry::encode_body(shown), "base64"),
    };
    ok(&json!({
        "delivery_id": entry.delivery_id,
        "received_at": entry.received_at,
        "source": entry.source_id,
        "method": entry.method,
        "path": entry.path,
        "query": entry.query,
        "headers": entry.headers,
        "remote_addr": entry.remote_addr,
        "status": entry.status,
        "reason": entry.reason,
        "truncated": entry.truncated,
        "body": text,
        "body_encoding": encoding,
        "body_bytes": body.len(),
        "body_shown": shown.len(),
    }))
}

fn config(admin: &Admin) -> Value {
    let pipeline = admin.router.pipeline();
    json!({
        "path": pipeline.spec().config_path,
        "sha256": admin.router.status().config_sha256,
        "text": admin.console.active_config(),
    })
}

fn decisions(admin: &Admin, query: &[(String, String)]) -> Answer {
    let all = admin.console.decisions();
    let n = all.len().max(1) as f64;
    let fallback = all.iter().filter(|r| r.outcome.is_fallback()).count() as f64;
    let mut latencies: Vec<f64> = all.iter().map(|r| r.latency_ms).collect();
    latencies.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1))
            .copied()
    };
    let rows: Vec<&crate::decision::Record> = all.iter().take(limit(query)?).collect();
    ok(&json!({
        "decisions": rows,
        "recent": all.len(),
        "fallback_share": if all.is_empty() { 0.0 } else { fallback / n },
        "p50_ms": pick(0.5),
        "p99_ms": pick(0.99),
    }))
}

#[cfg(test)]
mod tests {
    use super::{form_urlencoded, percent_decode};

    #[test]
    fn query_strings_decode() {
        assert_eq!(percent_decode("a%20b+c%2Fd"), "a b c/d");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(
            form_urlencoded("vendor=findface&person=J%C3%BCrgen&&x"),
            vec![
                ("vendor".to_string(), "findface".to_string()),
                ("person".to_string(), "Jürgen".to_string()),
                ("x".to_string(), String::new())
            ]
        );
    }
}
