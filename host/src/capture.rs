//! Captured requests: the file formats `switchyard plugin test`, reload self-tests and replays
//! read. A file is either a request envelope — `{"http": {"method", "path", "query_string" or
//! "query", "headers"}, "raw_body": "…"}`, the samples' test-harness format — or, anything
//! else, the exact body of a POST.

use crate::clock;
use crate::plugin::Request;
use anyhow::Context;
use base64::Engine as _;
use serde_json::Value;

/// A request from a captured envelope, or the file as the body of a POST.
pub fn request_from(bytes: &[u8], source_id: &str) -> anyhow::Result<Request> {
    let mut request = Request {
        method: "POST".into(),
        path: "/test".into(),
        query: String::new(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: bytes::Bytes::copy_from_slice(bytes),
        remote_addr: Some("127.0.0.1:0".into()),
        source_id: source_id.to_string(),
        delivery_id: clock::new_ulid(),
        received_at: clock::now_rfc3339(),
    };
    let Ok(Value::Object(envelope)) = serde_json::from_slice::<Value>(bytes) else {
        return Ok(request);
    };
    let Some(Value::Object(http)) = envelope.get("http") else {
        return Ok(request);
    };
    if let Some(m) = http.get("method").and_then(Value::as_str) {
        request.method = m.to_ascii_uppercase();
    }
    if let Some(p) = http.get("path").and_then(Value::as_str) {
        request.path = p.to_string();
    }
    if let Some(q) = http.get("query_string").and_then(Value::as_str) {
        request.query = q.to_string();
    } else if let Some(Value::Object(q)) = http.get("query") {
        request.query = q
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(&value_text(v))))
            .collect::<Vec<_>>()
            .join("&");
    }
    if let Some(Value::Object(h)) = http.get("headers") {
        request.headers = h.iter().map(|(k, v)| (k.to_ascii_lowercase(), value_text(v))).collect();
    }
    request.body = match (
        envelope.get("raw_body"),
        envelope.get("raw_body_encoding").and_then(Value::as_str),
    ) {
        (Some(Value::String(b)), Some("base64")) => base64::engine::general_purpose::STANDARD
            .decode(b)
            .context("raw_body is not base64")?
            .into(),
        (Some(Value::String(b)), _) => bytes::Bytes::from(b.clone()),
        (Some(Value::Null) | None, _) => match envelope.get("body") {
            Some(v) => bytes::Bytes::from(v.to_string()),
            None => bytes::Bytes::new(),
        },
        (Some(other), _) => bytes::Bytes::from(other.to_string()),
    };
    Ok(request)
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Percent-encodes a query component (RFC 3986 unreserved characters pass).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
