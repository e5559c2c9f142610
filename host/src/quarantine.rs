//! The quarantine: raw requests the router could not process (malformed input, a failing
//! plugin, an oversize body) kept on disk, one JSON file each under `<data_dir>/quarantine/`,
//! so they can be inspected and replayed once the cause is fixed. Nothing is dropped silently.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Header values never written to disk.
const SECRET_HEADERS: &[&str] = &["authorization", "proxy-authorization", "cookie"];

/// One quarantined request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
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
}

/// The quarantine directory.
#[derive(Debug, Clone)]
pub struct Quarantine {
    dir: PathBuf,
}

impl Quarantine {
    /// Uses `<data_dir>/quarantine`.
    pub fn new(data_dir: &Path) -> Quarantine {
        Quarantine {
            dir: data_dir.join("quarantine"),
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes an entry (write to a temp name, then rename: a reader never sees half a file).
    pub async fn keep(&self, entry: &Entry) -> anyhow::Result<PathBuf> {
        tokio::fs::create_dir_all(&self.dir).await?;
        let path = self.dir.join(format!("{}.json", entry.delivery_id));
        let tmp = self.dir.join(format!(".{}.tmp", entry.delivery_id));
        tokio::fs::write(&tmp, serde_json::to_vec_pretty(entry)?).await?;
        tokio::fs::rename(&tmp, &path).await?;
        Ok(path)
    }

    /// Moves an entry out of the quarantine into `replayed/` (kept for audit, no longer pending).
    pub async fn resolve(&self, delivery_id: &str) -> anyhow::Result<()> {
        let done = self.dir.join("replayed");
        tokio::fs::create_dir_all(&done).await?;
        let name = format!("{delivery_id}.json");
        tokio::fs::rename(self.dir.join(&name), done.join(&name)).await?;
        Ok(())
    }

    /// Every entry, oldest first.
    pub fn list(&self) -> anyhow::Result<Vec<Entry>> {
        let mut entries = Vec::new();
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return Ok(entries);
        };
        let mut paths: Vec<PathBuf> = dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for p in paths {
            entries.push(serde_json::from_slice(&std::fs::read(&p)?)?);
        }
        Ok(entries)
    }
}
