//! Router time and ids: RFC 3339 timestamps and sortable unique ids (ULIDs) for events and
//! deliveries.

use rand::Rng;
use std::time::{SystemTime, UNIX_EPOCH};

/// Now, as RFC 3339 UTC with milliseconds.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// Milliseconds since the Unix epoch (the outbox's clock: comparable across restarts).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// An epoch-milliseconds time as RFC 3339 UTC with milliseconds.
pub fn rfc3339_ms(ms: i64) -> String {
    let t = UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new ULID: 48 bits of milliseconds then 80 random bits, 26 Crockford base-32 characters.
/// Lexicographic order follows creation time, which keeps quarantine listings chronological.
pub fn new_ulid() -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let random: u128 = rand::rng().random::<u128>() & ((1u128 << 80) - 1);
    let value = (millis & ((1u128 << 48) - 1)) << 80 | random;
    (0..26)
        .rev()
        .map(|i| CROCKFORD[((value >> (i * 5)) & 31) as usize] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulids_are_26_chars_and_sort_by_time() {
        let a = new_ulid();
        #[expect(clippy::disallowed_methods, reason = "a synchronous unit test, not async code")]
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_ulid();
        assert_eq!(a.len(), 26);
        assert!(a < b, "{a} {b}");
        assert!(now_rfc3339().ends_with('Z'));
    }
}
