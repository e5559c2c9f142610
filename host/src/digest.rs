//! sha256 as lowercase hex: the names of blobs, plugin and config versions, webhook-ids and
//! MACs as text. A leaf every room may use.

use sha2::{Digest, Sha256};
use std::path::Path;

/// Hex sha256 of bytes.
pub fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Hex sha256 of a file's bytes; `None` when it cannot be read.
pub fn file_sha256(path: &Path) -> Option<String> {
    std::fs::read(path).ok().map(|b| sha256(&b))
}

/// Lowercase hex of bytes (hashes and MACs as text).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
