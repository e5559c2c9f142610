//! `Preservica-Signature` verification over the exact request bytes.

use super::{Mac, hex};
use router_plugin_sdk::types::PluginError;

/// The prefix Preservica puts before the body when signing.
const PREFIX: &[u8] = b"preservica-webhook-auth";

/// Compares without an early exit, so timing does not reveal how much of a signature matched.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        diff |= usize::from(a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0xff));
    }
    diff == 0
}

fn expected(body: &[u8], mac: Mac<'_>) -> Result<String, PluginError> {
    let mut message = PREFIX.to_vec();
    message.extend_from_slice(body);
    mac(&message).map(|m| hex(&m)).map_err(PluginError::Unavailable)
}

/// Checks `signature` against the body. pyPreservica signs the body re-encoded as latin-1, so a
/// non-ASCII body whose UTF-8 signature fails is tried once more in latin-1 (and flagged).
pub(crate) fn check(body: &[u8], signature: &str, mac: Mac<'_>, warnings: &mut Vec<String>) -> Result<(), PluginError> {
    let given = signature.to_ascii_lowercase();
    if constant_time_eq(expected(body, mac)?.as_bytes(), given.as_bytes()) {
        return Ok(());
    }
    if let Ok(text) = std::str::from_utf8(body)
        && !text.is_ascii()
        && text.chars().all(|c| (c as u32) < 256)
    {
        let latin1: Vec<u8> = text.chars().map(|c| c as u8).collect();
        if constant_time_eq(expected(&latin1, mac)?.as_bytes(), given.as_bytes()) {
            warnings.push("signature_latin1".into());
            return Ok(());
        }
    }
    Err(PluginError::Unauthorized(
        "Preservica-Signature does not match the body".into(),
    ))
}
