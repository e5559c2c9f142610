//! Duplicate suppression on `dedup_key` (VENDORS.md §7.3). Every vendor here re-sends:
//! FindFace retries, NoahFace cloud retries, terminals replay their offline cache, OMNI agents
//! repeat a process every few seconds. Within the window:
//! - the same key with the same content is a **repeat** and is dropped (counted);
//! - the same key with new content is an **update** (e.g. an OMNI process whose interval
//!   grew) and is forwarded with `delivery.duplicate_of` naming the first sighting.
//!
//! Memory is bounded: beyond `max_keys` the oldest keys are forgotten first.
//!
//! **Commit first, then remember.** A request classifies its events against the table in a
//! [`Pending`] that records nothing; only once its events are durably stored (outbox rows,
//! file lines) does [`Dedup::remember`] enter them. A request that failed (503, full disk)
//! leaves no trace, so the vendor's retry is stored normally instead of being dropped as a
//! repeat of something that was never kept. Two concurrent requests carrying the same new
//! event may both be stored; they share a webhook-id, so receivers still see one event.

use crate::event::Event;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What to do with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// First sighting (or no key): forward.
    New,
    /// Same key, different content: forward as an update of this event uid.
    Update(String),
    /// Same key, same content: drop; the first sighting's uid.
    Repeat(String),
}

struct Entry {
    first_uid: String,
    fingerprints: Vec<[u8; 32]>,
    expires: Instant,
}

/// The dedup table, shared by all requests.
pub struct Dedup {
    window: Duration,
    max_keys: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    entries: HashMap<String, Entry>,
    /// Keys in insertion order, for expiry and the size bound.
    order: VecDeque<(Instant, String)>,
}

/// What an event says, without how it travelled: ids and receive time differ on every
/// delivery, and the transport, the coercion warnings and the raw values of coerced fields
/// only describe the encoding (the same NoahFace event arrives by GET as strings or by POST as
/// JSON types). Media are compared by reference, not by bytes.
pub fn fingerprint(event: &Event) -> [u8; 32] {
    let mut hasher = HashWriter(Sha256::new());
    // Serializing an event cannot fail (string keys only).
    let _ = serde_json::to_writer(&mut hasher, &Content::of(event));
    hasher.0.finalize().into()
}

/// Bytes written are hashed, not kept.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The event's JSON with the delivery-only members blanked (see [`fingerprint`]), borrowed
/// instead of cloned: the bytes are those of the event with `event_uid`, `received_at`,
/// `warnings` and `vendor_fields_raw` emptied and `delivery` reset, member for member, so
/// fingerprints (and the webhook-ids made from them) are the same as ever.
#[derive(serde::Serialize)]
struct Content<'a> {
    schema: &'a str,
    event_uid: &'static str,
    dedup_key: &'a Option<String>,
    vendor: &'a str,
    vendor_product: &'a Option<String>,
    vendor_event_id: &'a Option<String>,
    vendor_event_type: &'a Option<String>,
    category: &'a crate::event::Category,
    action: &'a crate::event::Action,
    occurred_at: &'a Option<String>,
    occurred_at_raw: &'a Option<String>,
    occurred_at_tz_source: &'a crate::event::TzSource,
    local_time: &'a Option<String>,
    utc_offset_minutes: &'a Option<i32>,
    received_at: &'static str,
    source: &'a crate::event::SourceInfo,
    subject: &'a Option<crate::event::Subject>,
    #[serde(rename = "match")]
    matching: &'a Option<crate::event::MatchInfo>,
    attributes: &'a Option<crate::event::Attributes>,
    media: &'a [crate::event::MediaRef],
    location: &'a Option<crate::event::Location>,
    access: &'a Option<crate::event::Access>,
    alarm: &'a Option<crate::event::Alarm>,
    repository: &'a Option<crate::event::Repository>,
    delivery: crate::event::Delivery,
    vendor_extras: &'a crate::event::JsonObject,
    vendor_fields_raw: EmptyObject,
    warnings: [(); 0],
}

/// `{}`.
struct EmptyObject;

impl serde::Serialize for EmptyObject {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        serializer.serialize_map(Some(0))?.end()
    }
}

impl<'a> Content<'a> {
    fn of(e: &'a Event) -> Content<'a> {
        // A member added to `Event` and not here changes the bytes, which
        // `fingerprints_stay_what_they_were` catches against the cloned definition.
        Content {
            schema: &e.schema,
            event_uid: "",
            dedup_key: &e.dedup_key,
            vendor: &e.vendor,
            vendor_product: &e.vendor_product,
            vendor_event_id: &e.vendor_event_id,
            vendor_event_type: &e.vendor_event_type,
            category: &e.category,
            action: &e.action,
            occurred_at: &e.occurred_at,
            occurred_at_raw: &e.occurred_at_raw,
            occurred_at_tz_source: &e.occurred_at_tz_source,
            local_time: &e.local_time,
            utc_offset_minutes: &e.utc_offset_minutes,
            received_at: "",
            source: &e.source,
            subject: &e.subject,
            matching: &e.matching,
            attributes: &e.attributes,
            media: &e.media,
            location: &e.location,
            access: &e.access,
            alarm: &e.alarm,
            repository: &e.repository,
            delivery: crate::event::Delivery {
                transport: crate::event::Transport::HttpPost,
                delivery_id: String::new(),
                batch_index: None,
                batch_size: None,
                auth: crate::event::AuthKind::None,
                signature_valid: None,
                duplicate_of: None,
                replay_suspected: false,
            },
            vendor_extras: &e.vendor_extras,
            vendor_fields_raw: EmptyObject,
            warnings: [],
        }
    }
}

impl Dedup {
    /// A table remembering keys for `window` (zero disables it), at most `max_keys` of them.
    pub fn new(window: Duration, max_keys: usize) -> Dedup {
        Dedup {
            window,
            max_keys: max_keys.max(1),
            state: Mutex::new(State::default()),
        }
    }

    /// Whether the table looks at this event at all: it has a key and the window is open.
    pub fn applies_to(&self, event: &Event) -> bool {
        !self.window.is_zero() && event.dedup_key.as_deref().is_some_and(|k| !k.is_empty())
    }

    /// Classifies an event and remembers it at once (for callers with nothing to commit).
    pub fn check(&self, event: &Event) -> Seen {
        if !self.applies_to(event) {
            return Seen::New;
        }
        let mut pending = Pending::default();
        let seen = self.classify(&mut pending, event, fingerprint(event));
        self.remember(pending);
        seen
    }

    /// Classifies an event the table [applies to](Dedup::applies_to), whose [`fingerprint`]
    /// is `print` (the outbox derives webhook-ids from it too), against what the table holds
    /// and what `pending` already took from the same request. Nothing is remembered until
    /// `pending` is passed to [`Dedup::remember`].
    pub fn classify(&self, pending: &mut Pending, event: &Event, print: [u8; 32]) -> Seen {
        let Some(key) = event.dedup_key.as_deref().filter(|k| !k.is_empty()) else {
            return Seen::New;
        };
        let now = Instant::now();
        let known = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            state.expire(now, self.max_keys);
            state
                .entries
                .get(key)
                .filter(|e| e.expires > now)
                .map(|e| (e.first_uid.clone(), e.fingerprints.contains(&print)))
        };
        if let Some((first, true)) = known {
            return Seen::Repeat(first);
        }
        if let Some(first) = pending.first_uid(key) {
            if pending.has(&print) {
                return Seen::Repeat(first);
            }
            pending.push(key, first.clone(), print);
            return Seen::Update(first);
        }
        match known {
            Some((first, _)) => {
                pending.push(key, first.clone(), print);
                Seen::Update(first)
            }
            None => {
                pending.push(key, event.event_uid.clone(), print);
                Seen::New
            }
        }
    }

    /// Enters a request's events into the table: call once they are durably stored.
    pub fn remember(&self, pending: Pending) {
        if pending.entries.is_empty() {
            return;
        }
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.expire(now, self.max_keys);
        for (key, first_uid, print) in pending.entries {
            if let Some(entry) = state.entries.get_mut(&key)
                && entry.expires > now
            {
                if !entry.fingerprints.contains(&print) {
                    // Bounded: an endlessly updated key keeps its latest few versions.
                    if entry.fingerprints.len() >= MAX_VERSIONS {
                        entry.fingerprints.remove(0);
                    }
                    entry.fingerprints.push(print);
                }
                continue;
            }
            let expires = now + self.window;
            state.entries.insert(
                key.clone(),
                Entry {
                    first_uid,
                    fingerprints: vec![print],
                    expires,
                },
            );
            state.order.push_back((expires, key));
        }
    }
}

/// Content versions remembered per key.
const MAX_VERSIONS: usize = 16;

/// One request's classified events, not yet remembered (see [`Dedup::remember`]). Indexed,
/// so a batch of thousands of events classifies in linear time.
#[derive(Debug, Default)]
pub struct Pending {
    /// (key, uid of its first sighting, fingerprint), in request order.
    entries: Vec<(String, String, [u8; 32])>,
    /// Key → uid of its first sighting.
    firsts: HashMap<String, String>,
    /// Fingerprints taken (a fingerprint covers the key: it hashes the whole event).
    prints: HashSet<[u8; 32]>,
}

impl Pending {
    fn first_uid(&self, key: &str) -> Option<String> {
        self.firsts.get(key).cloned()
    }

    fn has(&self, print: &[u8; 32]) -> bool {
        self.prints.contains(print)
    }

    fn push(&mut self, key: &str, first_uid: String, print: [u8; 32]) {
        self.firsts.entry(key.to_string()).or_insert_with(|| first_uid.clone());
        self.prints.insert(print);
        self.entries.push((key.to_string(), first_uid, print));
    }
}

impl State {
    fn expire(&mut self, now: Instant, max_keys: usize) {
        while let Some((expires, key)) = self.order.front() {
            if *expires > now && self.entries.len() < max_keys {
                break;
            }
            // Remove only if this queue slot is still the live entry for the key.
            if self.entries.get(key).is_some_and(|e| e.expires == *expires) {
                self.entries.remove(key);
            }
            self.order.pop_front();
        }
    }
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
pub(crate) mod tests {
    use super::*;

    /// A minimal event (also used by the outbox's tests).
    pub(crate) fn event(key: &str, uid: &str, score: f64) -> Event {
        let mut e: Event = serde_json::from_value(serde_json::json!({
            "schema": "router.event/v1", "event_uid": uid, "dedup_key": key, "vendor": "t", "vendor_product": null,
            "vendor_event_id": null, "vendor_event_type": null, "category": "recognition", "action": "face_matched",
            "occurred_at": null, "occurred_at_raw": null, "occurred_at_tz_source": "missing", "local_time": null,
            "utc_offset_minutes": null, "received_at": uid, "source": {}, "subject": null, "match": null,
            "attributes": null, "media": [], "location": null, "access": null, "alarm": null, "repository": null,
            "delivery": {"transport": "http_post", "delivery_id": uid, "batch_index": 0, "batch_size": 1, "auth": "none",
                         "signature_valid": null, "duplicate_of": null, "replay_suspected": false},
            "vendor_extras": {}, "vendor_fields_raw": {}, "warnings": []
        }))
        .unwrap();
        e.attributes = None;
        e.vendor_extras = crate::event::JsonObject::from_value(&serde_json::json!({ "score": score })).unwrap();
        e
    }

    /// The fingerprint as first defined: a clone with the delivery-only members blanked.
    fn cloned_fingerprint(event: &Event) -> [u8; 32] {
        let mut e = event.clone();
        e.event_uid.clear();
        e.received_at.clear();
        e.delivery = crate::event::Delivery {
            transport: crate::event::Transport::HttpPost,
            delivery_id: String::new(),
            batch_index: None,
            batch_size: None,
            auth: crate::event::AuthKind::None,
            signature_valid: None,
            duplicate_of: None,
            replay_suspected: false,
        };
        e.warnings.clear();
        e.vendor_fields_raw = crate::event::JsonObject::empty();
        Sha256::digest(serde_json::to_vec(&e).unwrap()).into()
    }

    #[test]
    fn fingerprints_stay_what_they_were() {
        // Webhook-ids are made from fingerprints: borrowing instead of cloning must not change
        // a single one, or an event re-sent across an upgrade would reach receivers twice.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/vendors");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let golden: serde_json::Value = serde_json::from_str(&text).unwrap();
            for value in golden["events"].as_array().into_iter().flatten() {
                let mut event: Event = serde_json::from_value(value.clone()).unwrap();
                event.warnings.push("number_from_string:x".into());
                event.delivery.batch_size = Some(3);
                assert_eq!(fingerprint(&event), cloned_fingerprint(&event), "{value}");
                checked += 1;
            }
        }
        assert!(checked >= 20, "the vendor goldens hold events ({checked})");
    }

    #[test]
    fn repeats_are_dropped_updates_marked() {
        let d = Dedup::new(Duration::from_secs(60), 100);
        assert_eq!(d.check(&event("k", "u1", 1.0)), Seen::New);
        assert_eq!(
            d.check(&event("k", "u2", 1.0)),
            Seen::Repeat("u1".into()),
            "a retry with other ids is a repeat"
        );
        assert_eq!(d.check(&event("k", "u3", 2.0)), Seen::Update("u1".into()));
        assert_eq!(d.check(&event("k", "u4", 2.0)), Seen::Repeat("u1".into()));
        assert_eq!(d.check(&event("other", "u5", 1.0)), Seen::New);
    }

    #[test]
    fn encoding_differences_are_not_new_content() {
        let d = Dedup::new(Duration::from_secs(60), 100);
        let post = event("k", "u1", 1.0);
        let mut get = event("k", "u2", 1.0);
        get.delivery.transport = crate::event::Transport::HttpGet;
        get.warnings
            .push("number_from_string:attributes.body_temperature_c".into());
        get.vendor_fields_raw =
            crate::event::JsonObject::from_value(&serde_json::json!({ "attributes.body_temperature_c": "36.9" }))
                .unwrap();
        assert_eq!(d.check(&post), Seen::New);
        assert_eq!(d.check(&get), Seen::Repeat("u1".into()));
    }

    #[test]
    fn nothing_is_remembered_before_the_commit() {
        let d = Dedup::new(Duration::from_secs(60), 100);
        let first = event("k", "u1", 1.0);
        let mut failed = Pending::default();
        assert_eq!(d.classify(&mut failed, &first, fingerprint(&first)), Seen::New);
        drop(failed); // the request's storage failed: its retry must be new again
        let retry = event("k", "u2", 1.0);
        let mut stored = Pending::default();
        assert_eq!(d.classify(&mut stored, &retry, fingerprint(&retry)), Seen::New);
        let same_request = event("k", "u3", 1.0);
        assert_eq!(
            d.classify(&mut stored, &same_request, fingerprint(&same_request)),
            Seen::Repeat("u2".into()),
            "a repeat inside one request is recognised before the commit"
        );
        let update = event("k", "u4", 2.0);
        assert_eq!(
            d.classify(&mut stored, &update, fingerprint(&update)),
            Seen::Update("u2".into())
        );
        d.remember(stored);
        assert_eq!(d.check(&event("k", "u5", 1.0)), Seen::Repeat("u2".into()));
        assert_eq!(d.check(&event("k", "u6", 2.0)), Seen::Repeat("u2".into()));
    }

    #[test]
    fn window_and_size_bound() {
        let off = Dedup::new(Duration::ZERO, 100);
        assert_eq!(off.check(&event("k", "u1", 1.0)), Seen::New);
        assert_eq!(off.check(&event("k", "u2", 1.0)), Seen::New);
        let small = Dedup::new(Duration::from_secs(60), 2);
        small.check(&event("a", "1", 1.0));
        small.check(&event("b", "2", 1.0));
        small.check(&event("c", "3", 1.0));
        assert_eq!(
            small.check(&event("a", "4", 1.0)),
            Seen::New,
            "the oldest key was forgotten"
        );
    }

    fn keyed(key: Option<&str>, uid: &str, score: f64) -> Event {
        let mut e = event("-", uid, score);
        e.dedup_key = key.map(str::to_string);
        e
    }

    #[test]
    fn webhook_ids_follow_the_vendor_event_not_the_delivery() {
        let first = webhook_id(&keyed(Some("acme:1"), "01A", 1.0));
        assert_eq!(
            first,
            webhook_id(&keyed(Some("acme:1"), "01B", 1.0)),
            "a vendor retry: same id"
        );
        assert_ne!(
            first,
            webhook_id(&keyed(Some("acme:1"), "01A", 2.0)),
            "an update: new id"
        );
        assert_ne!(first, webhook_id(&keyed(Some("acme:2"), "01A", 1.0)));
        assert_eq!(webhook_id(&keyed(None, "01C", 1.0)), "msg_01C");
        assert_eq!(first.len(), 4 + 32);
    }
}
