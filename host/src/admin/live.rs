//! The console's tail of normalized events: the last [`KEPT`] events in memory, each with the
//! start of the raw request it came from and the plugin timings of that request, and a
//! broadcast that the live stream (server-sent events) follows.
//!
//! Kept small on purpose: it is a window for people, not a store (the sinks are). Bodies are
//! kept up to [`BODY_KEPT`] bytes each and [`BODIES_KEPT`] bytes in all; events past either
//! cap keep their JSON and timings but not the raw request.

use crate::event::Event;
use crate::pipeline::Timing;
use crate::plugin::Request;
use bytes::Bytes;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Events kept for the console.
pub(crate) const KEPT: usize = 1000;
/// The start of a request body kept with its events.
pub(crate) const BODY_KEPT: usize = 64 << 10;
/// Raw request bytes kept in all.
const BODIES_KEPT: usize = 16 << 20;
/// Events a slow stream reader may fall behind before it is told it lost some.
const STREAM_BUFFER: usize = 1024;

/// A request as the console shows it: secrets redacted, the body's start.
#[derive(Debug)]
pub(crate) struct RawRequest {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    remote_addr: Option<String>,
    body: Bytes,
    body_bytes: usize,
}

impl RawRequest {
    fn of(request: &Request) -> RawRequest {
        let body = if request.body.len() > BODY_KEPT {
            // A copy of the start, so the whole body is not held alive by a slice of it.
            Bytes::copy_from_slice(&request.body[..BODY_KEPT])
        } else {
            request.body.clone()
        };
        RawRequest {
            method: request.method.clone(),
            path: request.path.clone(),
            query: request.query.clone(),
            headers: crate::quarantine::Entry::redact_headers(&request.headers),
            remote_addr: request.remote_addr.clone(),
            body_bytes: request.body.len(),
            body,
        }
    }

    fn json(&self) -> Value {
        let (body, encoding) = match std::str::from_utf8(&self.body) {
            Ok(text) => (Value::String(text.to_string()), "utf-8"),
            Err(_) => (
                Value::String(crate::quarantine::Entry::encode_body(&self.body)),
                "base64",
            ),
        };
        json!({
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "remote_addr": self.remote_addr,
            "body": body,
            "body_encoding": encoding,
            "body_bytes": self.body_bytes,
            "body_truncated": self.body.len() < self.body_bytes,
        })
    }
}

/// One event in the tail.
#[derive(Debug)]
pub(crate) struct LiveEvent {
    /// Its place in the tail (increasing; the stream resumes after one).
    pub(crate) seq: u64,
    /// The source it came in on.
    pub(crate) source: String,
    pub(crate) event: Arc<Event>,
    request: Option<Arc<RawRequest>>,
    timings: Arc<[Timing]>,
}

impl LiveEvent {
    /// The row the list shows.
    pub(crate) fn summary(&self) -> Value {
        let e = &self.event;
        let subject = e.subject.as_ref();
        json!({
            "seq": self.seq,
            "event_uid": e.event_uid,
            "received_at": e.received_at,
            "occurred_at": e.occurred_at,
            "vendor": e.vendor,
            "source": self.source,
            "category": e.category.as_str(),
            "action": e.action.as_str(),
            "device_id": e.source.device_id,
            "device_name": e.source.device_name.as_ref().or(e.source.camera_name.as_ref()),
            "person_id": subject.and_then(|s| s.person_id.as_ref()),
            "person_name": subject.and_then(|s| s.display_name.as_ref()),
            "decision": e.access.as_ref().map(|a| a.decision.as_str()),
            "image": best_shot(e),
        })
    }

    /// Everything the detail view shows.
    pub(crate) fn detail(&self) -> Value {
        let total_ms: f64 = self.timings.iter().map(|t| t.ms).sum();
        json!({
            "summary": self.summary(),
            "event": serde_json::to_value(&*self.event).unwrap_or(Value::Null),
            "request": self.request.as_ref().map(|r| r.json()),
            "timings": self.timings.iter().map(|t| json!({ "plugin": t.plugin, "call": t.call, "ms": t.ms })).collect::<Vec<_>>(),
            "plugin_ms": total_ms,
        })
    }
}

/// The blob of the event's best picture: the vendor's best shot, then a crop, then a frame.
fn best_shot(e: &Event) -> Option<String> {
    use crate::event::MediaRole as R;
    let stored = || e.media.iter().filter(|m| m.blob_ref.is_some());
    let rank = |role: &R| match role {
        R::BestShot => 0,
        R::FaceCrop | R::NormalizedFace | R::PlateCrop => 1,
        R::AlarmPhoto | R::FullFrame => 2,
        R::Avatar | R::Sample => 3,
    };
    stored().min_by_key(|m| rank(&m.role)).and_then(|m| m.blob_ref.clone())
}

/// What the list and the stream can be narrowed to (query parameters of the same names).
#[derive(Debug, Default, Clone)]
pub(crate) struct Filter {
    pub(crate) vendor: Option<String>,
    pub(crate) source: Option<String>,
    pub(crate) action: Option<String>,
    pub(crate) device: Option<String>,
    pub(crate) person: Option<String>,
}

impl Filter {
    /// From a query string: `vendor`, `source`, `action`, `device`, `person` (exact, except
    /// `person` and `device`, which also match a name containing the text).
    pub(crate) fn from_query(query: &[(String, String)]) -> Filter {
        let get = |k: &str| {
            query
                .iter()
                .find(|(n, v)| n == k && !v.is_empty())
                .map(|(_, v)| v.clone())
        };
        Filter {
            vendor: get("vendor"),
            source: get("source"),
            action: get("action"),
            device: get("device"),
            person: get("person"),
        }
    }

    pub(crate) fn matches(&self, live: &LiveEvent) -> bool {
        let e = &live.event;
        let contains =
            |hay: Option<&String>, needle: &str| hay.is_some_and(|h| h.to_lowercase().contains(&needle.to_lowercase()));
        let subject = e.subject.as_ref();
        self.vendor.as_ref().is_none_or(|v| &e.vendor == v)
            && self.source.as_ref().is_none_or(|s| &live.source == s)
            && self.action.as_ref().is_none_or(|a| e.action.as_str() == a)
            && self.device.as_ref().is_none_or(|d| {
                e.source.device_id.as_ref() == Some(d)
                    || contains(e.source.device_name.as_ref(), d)
                    || contains(e.source.camera_name.as_ref(), d)
            })
            && self.person.as_ref().is_none_or(|p| {
                subject.is_some_and(|s| s.person_id.as_ref() == Some(p) || contains(s.display_name.as_ref(), p))
            })
    }
}

struct Ring {
    events: VecDeque<Arc<LiveEvent>>,
    next_seq: u64,
    body_bytes: usize,
}

/// The tail (see the module docs).
pub(crate) struct Tail {
    ring: Mutex<Ring>,
    stream: broadcast::Sender<Arc<LiveEvent>>,
}

impl Default for Tail {
    fn default() -> Tail {
        Tail {
            ring: Mutex::new(Ring {
                events: VecDeque::with_capacity(KEPT),
                next_seq: 1,
                body_bytes: 0,
            }),
            stream: broadcast::channel(STREAM_BUFFER).0,
        }
    }
}

impl Tail {
    /// Adds a processed request's events.
    pub(crate) fn publish(&self, source: &str, request: &Request, events: &[Arc<Event>], timings: Vec<Timing>) {
        if events.is_empty() {
            return;
        }
        let timings: Arc<[Timing]> = timings.into();
        let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        let raw = (ring.body_bytes + request.body.len().min(BODY_KEPT) <= BODIES_KEPT)
            .then(|| Arc::new(RawRequest::of(request)));
        if let Some(r) = &raw {
            ring.body_bytes += r.body.len();
        }
        for event in events {
            let live = Arc::new(LiveEvent {
                seq: ring.next_seq,
                source: source.to_string(),
                event: event.clone(),
                request: raw.clone(),
                timings: timings.clone(),
            });
            ring.next_seq += 1;
            if ring.events.len() == KEPT
                && let Some(old) = ring.events.pop_front()
            {
                // The body is freed with the request's last event.
                if let Some(r) = &old.request
                    && Arc::strong_count(r) == 1
                {
                    ring.body_bytes -= r.body.len();
                }
            }
            ring.events.push_back(live.clone());
            // Nobody listening is fine.
            let _ = self.stream.send(live);
        }
    }

    /// The newest `limit` events matching `filter` with `seq` above `after`, newest last.
    pub(crate) fn recent(&self, filter: &Filter, after: u64, limit: usize) -> Vec<Arc<LiveEvent>> {
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<_> = ring
            .events
            .iter()
            .rev()
            .filter(|e| e.seq > after && filter.matches(e))
            .take(limit)
            .cloned()
            .collect();
        out.reverse();
        out
    }

    /// One event by uid.
    pub(crate) fn find(&self, event_uid: &str) -> Option<Arc<LiveEvent>> {
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        ring.events
            .iter()
            .rev()
            .find(|e| e.event.event_uid == event_uid)
            .cloned()
    }

    /// New events from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.stream.subscribe()
    }
}
