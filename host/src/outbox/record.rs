//! The outbox's rows, and the ids that make redeliveries recognisable.

use crate::event::Event;
use bytes::Bytes;
use sha2::{Digest, Sha256};

/// An event about to be committed for one sink.
#[derive(Debug, Clone)]
pub struct NewRow {
    /// The sink id.
    pub sink: String,
    /// The id receivers dedup on (Standard Webhooks `webhook-id`, CloudEvents `id`).
    pub webhook_id: String,
    /// Events with the same key are delivered in commit order (when the sink asks for it).
    pub ordering_key: Option<String>,
    /// When it was committed (epoch ms); `max_age` counts from here.
    pub created_ms: i64,
    /// The router.event/v1 JSON.
    pub payload: Bytes,
}

/// An event waiting in the outbox.
#[derive(Debug, Clone)]
pub struct Queued {
    /// Row id: commit order.
    pub id: i64,
    /// See [`NewRow::webhook_id`].
    pub webhook_id: String,
    /// See [`NewRow::ordering_key`].
    pub ordering_key: Option<String>,
    /// See [`NewRow::created_ms`].
    pub created_ms: i64,
    /// Attempts made so far.
    pub attempts: u32,
    /// Not before this time (epoch ms).
    pub next_ms: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The event JSON.
    pub payload: Bytes,
}

/// An event given up on.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeadLetter {
    /// Row id (what `switchyard dlq replay --id` takes).
    pub id: i64,
    /// The sink it was for.
    pub sink: String,
    /// Its webhook-id (unchanged by a replay).
    pub webhook_id: String,
    /// Its ordering key.
    pub ordering_key: Option<String>,
    /// When it entered the outbox (epoch ms).
    pub created_ms: i64,
    /// When it was given up on (epoch ms).
    pub failed_ms: i64,
    /// Attempts made.
    pub attempts: u32,
    /// The last attempt's error.
    pub last_error: String,
    /// The event JSON.
    #[serde(skip)]
    pub payload: Bytes,
}

/// The webhook-id of an event: stable for the same vendor event with the same content, so a
/// redelivery after a crash, a vendor retry that slipped past the dedup window and a replay all
/// carry the same id, while an update (same key, new content) gets a new one. Events without a
/// dedup key use their router-assigned uid, which the outbox keeps across restarts.
pub fn webhook_id(event: &Event) -> String {
    webhook_id_with(event, None)
}

/// [`webhook_id`] reusing the event's content fingerprint when the caller already has it
/// (from the dedup check), since computing it serializes the whole event.
pub fn webhook_id_with(event: &Event, fingerprint: Option<[u8; 32]>) -> String {
    match &event.dedup_key {
        Some(key) => {
            let mut h = Sha256::new();
            h.update(key.as_bytes());
            h.update([0]);
            h.update(fingerprint.unwrap_or_else(|| crate::dedup::fingerprint(event)));
            let digest = h.finalize();
            format!("msg_{}", crate::digest::hex(&digest[..16]))
        }
        None => format!("msg_{}", event.event_uid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(key: Option<&str>, uid: &str, score: f64) -> Event {
        let mut e = crate::dedup::tests::event("-", uid, score);
        e.dedup_key = key.map(str::to_string);
        e
    }

    #[test]
    fn webhook_ids_follow_the_vendor_event_not_the_delivery() {
        let first = webhook_id(&event(Some("acme:1"), "01A", 1.0));
        assert_eq!(
            first,
            webhook_id(&event(Some("acme:1"), "01B", 1.0)),
            "a vendor retry: same id"
        );
        assert_ne!(
            first,
            webhook_id(&event(Some("acme:1"), "01A", 2.0)),
            "an update: new id"
        );
        assert_ne!(first, webhook_id(&event(Some("acme:2"), "01A", 1.0)));
        assert_eq!(webhook_id(&event(None, "01C", 1.0)), "msg_01C");
        assert_eq!(first.len(), 4 + 32);
    }
}
