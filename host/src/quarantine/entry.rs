//! One quarantined request, as its JSON file holds it (secret headers redacted, the body in
//! base64), and reading such a file back.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Header values never written to disk.
const SECRET_HEADERS: &[&str] = &["authorization", "proxy-authorization", "cookie"];

/// One quarantined request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The entry's format (`formats::QUARANTINE`); absent in entries of 0.1.0: 1.
    #[serde(default = "crate::formats::first")]
    pub format: u32,
    /// The router's id of the request (also the file name).
    pub delivery_id: String,
    /// When it arrived.
    pub received_at: String,
    /// The `[[sources]]` id, if the request reached one.
    pub source_id: Option<String>,
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Raw query string.
    pub query: String,
    /// Headers, secrets redacted.
    pub headers: Vec<(String, String)>,
    /// Peer address.
    pub remote_addr: Option<String>,
    /// The status the sender got.
    pub status: u16,
    /// Why it is here.
    pub reason: String,
    /// The body, base64 (exact bytes).
    pub body_base64: String,
    /// True when the body was cut at the size cap.
    pub truncated: bool,
}

impl Entry {
    /// The exact body bytes.
    pub fn body(&self) -> Result<Vec<u8>, base64::DecodeError> {
        base64::engine::general_purpose::STANDARD.decode(&self.body_base64)
    }

    /// Encodes body bytes for [`Entry::body_base64`].
    pub fn encode_body(body: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(body)
    }

    /// Headers with secret values replaced.
    pub fn redact_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(k, v)| {
                let secret = SECRET_HEADERS.contains(&k.to_ascii_lowercase().as_str());
                (k.clone(), if secret { "[redacted]".to_string() } else { v.clone() })
            })
            .collect()
    }

    /// The request as it arrived (same delivery id: events say which original request they
    /// came from), for a replay.
    pub fn request(&self) -> anyhow::Result<crate::plugin::Request> {
        use anyhow::Context;
        Ok(crate::plugin::Request {
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            headers: self.headers.clone(),
            body: self.body().context("quarantine entry body is not valid base64")?.into(),
            remote_addr: self.remote_addr.clone(),
            source_id: self.source_id.clone().unwrap_or_default(),
            delivery_id: self.delivery_id.clone(),
            received_at: self.received_at.clone(),
        })
    }
}

/// Reads one entry file; one written by a newer release (a later `format`) is refused rather
/// than replayed as if it were understood.
pub(super) fn parse(path: &Path, bytes: &[u8]) -> anyhow::Result<Entry> {
    let entry: Entry = serde_json::from_slice(bytes)?;
    crate::formats::QUARANTINE.open(entry.format, path.display(), None)?;
    Ok(entry)
}
