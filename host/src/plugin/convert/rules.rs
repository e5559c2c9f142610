// The conversions themselves, written once against a module named `wit` that the including
// module provides: wasmtime's generated host types (`convert/mod.rs`), or, in the bench-only
// native build, the guest SDK's generated types (`plugin/native.rs`), which have the same
// names and shapes because both come from the same WIT package. (No inner doc comments: this
// text is `include!`d.)

use crate::plugin::types::{Normalized, Reply, Request, Ruling, Verdict};
use crate::event as ev;
use serde_json::Value;

macro_rules! same_enum {
    ($wit:ident <=> $host:ident { $($v:ident),* $(,)? }) => {
        impl From<wit::$wit> for ev::$host {
            fn from(v: wit::$wit) -> Self { match v { $(wit::$wit::$v => ev::$host::$v),* } }
        }
        impl From<ev::$host> for wit::$wit {
            fn from(v: ev::$host) -> Self { match v { $(ev::$host::$v => wit::$wit::$v),* } }
        }
    };
}

same_enum!(TzSource <=> TzSource { Explicit, AssumedUtc, DerivedFromLocal, DeviceClockUnverified, Missing });
same_enum!(Category <=> Category { Recognition, Access, Attendance, Alarm, Tracking, Episode, Counter, Repository, System, Unknown });
same_enum!(Action <=> Action {
    FaceDetected, FaceMatched, FaceUnmatched, Stranger, LivenessFailed, BlacklistHit, VehicleDetected, VehicleMatched,
    BodyDetected, EpisodeOpened, EpisodeUpdated, EpisodeClosed, CounterRecord, AreaActivation, RoiEnter, RoiExit,
    LineCrossForward, LineCrossReverse, HarFall, HarSit, HarLie, HarFight, TrackUpdate, AccessGranted, AccessDenied,
    AccessRequest, Register, ClockIn, ClockOut, BreakStart, BreakEnd, TaskStart, JobStart, JobStop, Present,
    DeviceAlarmRaised, DeviceAlarmClearFailed, DeviceAlarmCleared, EntityIndexed, EntityMoved, EntitySecurityChanged,
    EntityIngestFailed, EntityVisibilityChanged, SubscriptionChallenge, Heartbeat, Unknown,
});
same_enum!(SubjectKind <=> SubjectKind { Person, Vehicle, Body, RepositoryEntity, Unknown });
same_enum!(PersonType <=> PersonType { Employee, Visitor, Blacklist, Stranger, Vip, Other, Unknown });
same_enum!(GroupKind <=> GroupKind { Watchlist, Group, ProfileGroup });
same_enum!(Liveness <=> Liveness { Live, Spoof, Unknown });
same_enum!(Gender <=> Gender { Male, Female, Unknown });
same_enum!(MaskState <=> MaskState { Worn, NotWorn, Unknown, NotEnabled });
same_enum!(MediaRole <=> MediaRole { FaceCrop, FullFrame, NormalizedFace, PlateCrop, AlarmPhoto, BestShot, Avatar, Sample });
same_enum!(Decision <=> Decision { Granted, Denied, Unknown });
same_enum!(DecidedBy <=> DecidedByKind { Device, Router, VendorCloud, Unknown });

impl From<wit::DecidedBy> for ev::DecidedBy {
    fn from(v: wit::DecidedBy) -> Self {
        ev::DecidedBy::Reported(v.into())
    }
}
impl From<ev::DecidedBy> for wit::DecidedBy {
    /// A decider plugin and the fallback are the router's decisions, as plugins see them.
    fn from(v: ev::DecidedBy) -> Self {
        match v {
            ev::DecidedBy::Reported(kind) => kind.into(),
            ev::DecidedBy::Fallback | ev::DecidedBy::Plugin(_) => wit::DecidedBy::Router,
        }
    }
}
same_enum!(AccessMethod <=> AccessMethod { Face, Card, Qr, Pin, Passcode, IdCard, Button, Other });
same_enum!(AlarmState <=> AlarmState { Raised, ClearFailed, Cleared });
same_enum!(Transport <=> Transport { HttpPost, HttpPut, HttpGet, Websocket, SyncAuth });
same_enum!(AuthKind <=> AuthKind { None, Basic, Bearer, Oauth2, Hmac, UrlToken });

/// Records whose fields have the same names on both sides; each field converts with `.into()`
/// (`conv` handles `Option`/`Vec` wrappers via the [`Conv`] trait).
macro_rules! same_record {
    ($wit:ident <=> $host:ident { $($f:ident),* $(,)? }) => {
        impl From<wit::$wit> for ev::$host {
            fn from(v: wit::$wit) -> Self { ev::$host { $($f: Conv::conv(v.$f)),* } }
        }
        impl From<ev::$host> for wit::$wit {
            fn from(v: ev::$host) -> Self { wit::$wit { $($f: Conv::conv(v.$f)),* } }
        }
    };
}

/// Field-level conversion: identity for scalars, element-wise for `Option` and `Vec`.
trait Conv<T> {
    fn conv(self) -> T;
}

macro_rules! identity_conv {
    ($($t:ty),*) => { $(impl Conv<$t> for $t { fn conv(self) -> $t { self } })* };
}
identity_conv!(String, bool, u32, i32, i64, u64, f64);

impl<A: Conv<B>, B> Conv<Option<B>> for Option<A> {
    fn conv(self) -> Option<B> {
        self.map(Conv::conv)
    }
}

impl<A: Conv<B>, B> Conv<Vec<B>> for Vec<A> {
    fn conv(self) -> Vec<B> {
        self.into_iter().map(Conv::conv).collect()
    }
}

macro_rules! into_conv {
    ($($a:ty => $b:ty),* $(,)?) => { $(impl Conv<$b> for $a { fn conv(self) -> $b { self.into() } })* };
}
into_conv!(
    wit::GroupKind => ev::GroupKind, ev::GroupKind => wit::GroupKind,
    wit::SubjectKind => ev::SubjectKind, ev::SubjectKind => wit::SubjectKind,
    wit::PersonType => ev::PersonType, ev::PersonType => wit::PersonType,
    wit::Group => ev::Group, ev::Group => wit::Group,
    wit::Candidate => ev::Candidate, ev::Candidate => wit::Candidate,
    wit::Liveness => ev::Liveness, ev::Liveness => wit::Liveness,
    wit::Gender => ev::Gender, ev::Gender => wit::Gender,
    wit::MaskState => ev::MaskState, ev::MaskState => wit::MaskState,
    wit::Vehicle => ev::Vehicle, ev::Vehicle => wit::Vehicle,
    wit::Bbox => ev::Bbox, ev::Bbox => wit::Bbox,
    wit::Decision => ev::Decision, ev::Decision => wit::Decision,
    wit::AccessMethod => ev::AccessMethod, ev::AccessMethod => wit::AccessMethod,
    wit::AlarmState => ev::AlarmState, ev::AlarmState => wit::AlarmState,
    wit::Transport => ev::Transport, ev::Transport => wit::Transport,
    wit::AuthKind => ev::AuthKind, ev::AuthKind => wit::AuthKind,
);

same_record!(SourceInfo <=> SourceInfo {
    org, site, tenant, device_id, device_name, camera_id, camera_name, camera_group_id, camera_group_name, agent_id,
    subscription_id,
});
same_record!(Group <=> Group { id, name, color, kind });
same_record!(Subject <=> Subject {
    kind, person_id, external_id, display_name, first_name, last_name, employee_number, card_number,
    id_document_number, person_type, person_type_raw, groups,
});
same_record!(Candidate <=> Candidate { person_id, score, group_ids, rank });
same_record!(MatchInfo <=> MatchInfo {
    matched, score, score_raw, candidates, liveness, liveness_score, quality, track_id, track_start, track_end,
});
same_record!(Vehicle <=> Vehicle { plate, plate_country, make, model, color, body });
same_record!(Attributes <=> Attributes {
    age, gender, emotion, glasses, beard, mask, body_temperature_c, temperature_elevated, sentiment, vehicle,
});
same_record!(Bbox <=> Bbox { left, top, right, bottom });
same_record!(Location <=> Location { lat, lon, accuracy_m, altitude_m });
// `reason` and `decision_latency_ms` are the host's alone: plugins do not see them, and the
// host sets them again after the stages that could have rewritten them (see `pipeline::decide`).
impl From<wit::Access> for ev::Access {
    fn from(v: wit::Access) -> Self {
        ev::Access {
            decision: v.decision.into(),
            decided_by: v.decided_by.into(),
            verify_mode_raw: v.verify_mode_raw,
            entry_mode: v.entry_mode,
            entry_mode_raw: v.entry_mode_raw,
            abnormal: v.abnormal,
            abnormal_raw: v.abnormal_raw,
            custom_tip: v.custom_tip,
            method: v.method.map(Into::into),
            reason: None,
            decision_latency_ms: None,
        }
    }
}
impl From<ev::Access> for wit::Access {
    fn from(v: ev::Access) -> Self {
        wit::Access {
            decision: v.decision.into(),
            decided_by: v.decided_by.into(),
            verify_mode_raw: v.verify_mode_raw,
            entry_mode: v.entry_mode,
            entry_mode_raw: v.entry_mode_raw,
            abnormal: v.abnormal,
            abnormal_raw: v.abnormal_raw,
            custom_tip: v.custom_tip,
            method: v.method.map(Into::into),
        }
    }
}
same_record!(Alarm <=> Alarm { code, code_name, state, trace_id, description });
same_record!(Repository <=> Repository { entity_ref, entity_type, trigger, identifiers });
same_record!(Delivery <=> Delivery {
    transport, delivery_id, batch_index, batch_size, auth, signature_valid, duplicate_of, replay_suspected,
});

impl From<wit::Identifier> for ev::Identifier {
    fn from(v: wit::Identifier) -> Self {
        ev::Identifier {
            kind: v.type_,
            value: v.value,
        }
    }
}
impl From<ev::Identifier> for wit::Identifier {
    fn from(v: ev::Identifier) -> Self {
        wit::Identifier {
            type_: v.kind,
            value: v.value,
        }
    }
}
into_conv!(
    wit::Identifier => ev::Identifier, ev::Identifier => wit::Identifier,
    wit::SourceInfo => ev::SourceInfo, ev::SourceInfo => wit::SourceInfo,
    wit::Subject => ev::Subject, ev::Subject => wit::Subject,
    wit::MatchInfo => ev::MatchInfo, ev::MatchInfo => wit::MatchInfo,
    wit::Attributes => ev::Attributes, ev::Attributes => wit::Attributes,
    wit::Location => ev::Location, ev::Location => wit::Location,
    wit::Access => ev::Access, ev::Access => wit::Access,
    wit::Alarm => ev::Alarm, ev::Alarm => wit::Alarm,
    wit::Repository => ev::Repository, ev::Repository => wit::Repository,
    wit::Delivery => ev::Delivery, ev::Delivery => wit::Delivery,
);

fn media_from_wit(m: wit::MediaRef) -> (ev::MediaRef, Option<Vec<u8>>) {
    let media = ev::MediaRef {
        role: m.role.into(),
        url: m.url,
        vendor_media_id: m.vendor_media_id,
        blob_ref: m.blob_ref,
        mime: m.mime,
        bytes: m.bytes,
        decode_error: m.decode_error,
        bbox: m.bbox.map(Into::into),
    };
    (media, m.content)
}

fn media_to_wit(m: ev::MediaRef) -> wit::MediaRef {
    wit::MediaRef {
        role: m.role.into(),
        url: m.url,
        vendor_media_id: m.vendor_media_id,
        blob_ref: m.blob_ref,
        mime: m.mime,
        bytes: m.bytes,
        decode_error: m.decode_error,
        bbox: m.bbox.map(Into::into),
        content: None,
    }
}

/// Parses a JSON-object field a plugin returned as text.
fn json_object(text: &str, field: &str) -> Result<Value, String> {
    if text.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(format!("`{field}` must be a JSON object")),
        Err(e) => Err(format!("`{field}` is not valid JSON: {e}")),
    }
}

/// Inline media bytes of one event, by media index.
type InlineMedia = Vec<(usize, Vec<u8>)>;

/// A WIT event → host event, plus any inline media bytes the host must store.
pub(crate) fn event_from_wit(e: wit::Event) -> Result<(ev::Event, InlineMedia), String> {
    let mut content = Vec::new();
    let media = e
        .media
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let (media, bytes) = media_from_wit(m);
            if let Some(bytes) = bytes {
                content.push((i, bytes));
            }
            media
        })
        .collect();
    let event = ev::Event {
        schema: e.schema,
        event_uid: e.event_uid,
        dedup_key: e.dedup_key,
        vendor: e.vendor,
        vendor_product: e.vendor_product,
        vendor_event_id: e.vendor_event_id,
        vendor_event_type: e.vendor_event_type,
        category: e.category.into(),
        action: e.action.into(),
        occurred_at: e.occurred_at,
        occurred_at_raw: e.occurred_at_raw,
        occurred_at_tz_source: e.occurred_at_tz_source.into(),
        local_time: e.local_time,
        utc_offset_minutes: e.utc_offset_minutes,
        received_at: e.received_at,
        source: e.source.into(),
        subject: e.subject.conv(),
        matching: e.match_.conv(),
        attributes: e.attributes.conv(),
        media,
        location: e.location.conv(),
        access: e.access.conv(),
        alarm: e.alarm.conv(),
        repository: e.repository.conv(),
        delivery: e.delivery.into(),
        vendor_extras: ev::JsonObject::parse_owned(e.extras).map_err(|e| format!("`extras` {e}"))?,
        vendor_fields_raw: ev::JsonObject::parse_owned(e.fields_raw).map_err(|e| format!("`fields-raw` {e}"))?,
        warnings: e.warnings,
    };
    Ok((event, content))
}

/// A host event → WIT event (for filters, transforms and deciders).
pub(crate) fn event_to_wit(e: &ev::Event) -> wit::Event {
    let e = e.clone();
    wit::Event {
        schema: e.schema,
        event_uid: e.event_uid,
        dedup_key: e.dedup_key,
        vendor: e.vendor,
        vendor_product: e.vendor_product,
        vendor_event_id: e.vendor_event_id,
        vendor_event_type: e.vendor_event_type,
        category: e.category.into(),
        action: e.action.into(),
        occurred_at: e.occurred_at,
        occurred_at_raw: e.occurred_at_raw,
        occurred_at_tz_source: e.occurred_at_tz_source.into(),
        local_time: e.local_time,
        utc_offset_minutes: e.utc_offset_minutes,
        received_at: e.received_at,
        source: e.source.into(),
        subject: e.subject.conv(),
        match_: e.matching.conv(),
        attributes: e.attributes.conv(),
        media: e.media.into_iter().map(media_to_wit).collect(),
        location: e.location.conv(),
        access: e.access.conv(),
        alarm: e.alarm.conv(),
        repository: e.repository.conv(),
        delivery: e.delivery.into(),
        extras: e.vendor_extras.as_str().to_string(),
        fields_raw: e.vendor_fields_raw.as_str().to_string(),
        warnings: e.warnings,
    }
}

fn headers_to_wit(headers: &[(String, String)]) -> Vec<wit::Header> {
    headers
        .iter()
        .map(|(name, value)| wit::Header {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

pub(crate) fn request_to_wit(r: &Request) -> wit::HttpRequest {
    wit::HttpRequest {
        method: r.method.clone(),
        path: r.path.clone(),
        query: r.query.clone(),
        headers: headers_to_wit(&r.headers),
        body: r.body.to_vec(),
        remote_addr: r.remote_addr.clone(),
        source_id: r.source_id.clone(),
        delivery_id: r.delivery_id.clone(),
        received_at: r.received_at.clone(),
    }
}

pub(crate) fn normalized_from_wit(n: wit::Normalized) -> Result<Normalized, String> {
    let mut events = Vec::with_capacity(n.events.len());
    let mut media_content = Vec::new();
    for (index, e) in n.events.into_iter().enumerate() {
        let (event, content) = event_from_wit(e).map_err(|why| format!("event {index}: {why}"))?;
        media_content.extend(content.into_iter().map(|(m, bytes)| (index, m, bytes)));
        events.push(event);
    }
    let reply = match n.reply {
        None => None,
        Some(r) => Some(reply_from_wit(r)?),
    };
    Ok(Normalized {
        events,
        reply,
        media_content,
        reply_carries_mac: false,
    })
}

/// Headers that frame the message or describe the connection: the host writes them, and a
/// plugin setting one could desynchronise the sender's keep-alive connection.
const HOST_OWNED_HEADERS: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
];

/// A normalizer's reply, checked: a final status (no 1xx: those switch protocols or promise
/// another answer), and only valid, end-to-end headers.
pub(crate) fn reply_from_wit(r: wit::Reply) -> Result<Reply, String> {
    if !(200..=599).contains(&r.status) {
        return Err(format!(
            "reply status {} is not a final HTTP status (200–599)",
            r.status
        ));
    }
    let mut headers = Vec::with_capacity(r.headers.len());
    for h in r.headers {
        let Ok(name) = hyper::header::HeaderName::from_bytes(h.name.as_bytes()) else {
            return Err(format!(
                "reply header name {:?} is not a valid HTTP header name",
                h.name
            ));
        };
        if HOST_OWNED_HEADERS.contains(&name.as_str()) {
            return Err(format!(
                "reply header `{name}` is the host's to set (framing and connection headers: {})",
                HOST_OWNED_HEADERS.join(", ")
            ));
        }
        if hyper::header::HeaderValue::from_str(&h.value).is_err() {
            return Err(format!("reply header `{name}` has a value that is not valid in HTTP"));
        }
        headers.push((h.name, h.value));
    }
    if matches!(r.status, 204 | 304) && !r.body.is_empty() {
        return Err(format!("a {} reply cannot carry a body", r.status));
    }
    Ok(Reply {
        status: r.status,
        headers,
        body: r.body,
    })
}

pub(crate) fn verdict_from_wit(v: wit::Verdict) -> Verdict {
    match v {
        wit::Verdict::Keep => Verdict::Keep,
        wit::Verdict::Drop(reason) => Verdict::Drop(reason),
    }
}

/// Longest `custom-tip` a decider may return: terminals show about ten characters, so a
/// longer one is a bug, and it travels in a reply header for some vendors.
pub(crate) const MAX_TIP_BYTES: usize = 256;

pub(crate) fn ruling_from_wit(r: wit::Ruling) -> Result<Ruling, String> {
    if let Some(tip) = &r.custom_tip
        && tip.len() > MAX_TIP_BYTES
    {
        return Err(format!(
            "ruling `custom-tip` is {} bytes, over {MAX_TIP_BYTES}",
            tip.len()
        ));
    }
    Ok(Ruling {
        decision: r.decision.into(),
        custom_tip: r.custom_tip.as_deref().map(screen_text),
        details: json_object(&r.details, "details")?,
    })
}

/// Text a terminal shows to the person at the door, made plain: control characters become
/// spaces, and invisible or direction-changing ones (bidi overrides and isolates, zero-width
/// characters, the BOM, soft hyphens) are removed. A tip is often built from enrolled names
/// or vendor data; none of it may reorder or hide what the screen says.
pub(crate) fn screen_text(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !matches!(c,
                '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
        })
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

pub(crate) fn ruling_to_wit(r: &Ruling) -> wit::Ruling {
    wit::Ruling {
        decision: r.decision.into(),
        custom_tip: r.custom_tip.clone(),
        details: r.details.to_string(),
    }
}
