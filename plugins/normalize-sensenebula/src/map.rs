//! SenseNebula Pass records → normalized events (VENDORS.md §8.3).

use crate::RemoteAuth;
use router_plugin_sdk::event::{blank, set_score};
use router_plugin_sdk::lazy;
use router_plugin_sdk::media;
use router_plugin_sdk::paths;
use router_plugin_sdk::reader::Reader;
use router_plugin_sdk::types::{
    AccessMethod, Action, AlarmState, Category, DecidedBy, Decision, Event, Group, GroupKind, Liveness, MaskState,
    MediaRole, PersonType, PluginError, SubjectKind, Transport, TzSource,
};
use serde_json::Value;

/// `{type, data}` push (or websocket) record.
pub(crate) fn push(root: lazy::Object<'_>, remote_addr: Option<&str>) -> Result<Event, PluginError> {
    let mut r = Reader::lazy(root);
    let kind = r.take("type").and_then(|t| t.as_i64());
    let Some(data) = r.take_object("data") else {
        return Err(PluginError::InvalidInput("`data` must be an object".into()));
    };
    let mut event = match kind {
        Some(0) => recognition(Reader::lazy(data), "push:0"),
        Some(1) => alarm(Reader::lazy(data), remote_addr),
        other => {
            let mut e = recognition(Reader::lazy(data), "push:?");
            e.action = Action::Unknown;
            e.category = Category::Unknown;
            e.vendor_event_type = Some(format!(
                "push:{}",
                other.map(|t| t.to_string()).unwrap_or_else(|| "?".into())
            ));
            e.warnings.push(format!(
                "enum_unknown:type={}",
                other.map(|t| t.to_string()).unwrap_or_default()
            ));
            e
        }
    };
    // Top-level members besides type/data are kept.
    let mut outer = blank("", Category::Unknown, Action::Unknown);
    r.finish(&mut outer);
    if outer.extras != "{}"
        && let (Ok(Value::Object(mut extras)), Ok(envelope)) = (
            serde_json::from_str::<Value>(&event.extras),
            serde_json::from_str::<Value>(&outer.extras),
        )
    {
        extras.insert("envelope".into(), envelope);
        event.extras = Value::Object(extras).to_string();
    }
    Ok(event)
}

/// A remote-authentication request (flat body); the event records the router's answer.
pub(crate) fn remote_auth(root: lazy::Object<'_>, policy: &RemoteAuth) -> Event {
    let mut e = recognition(Reader::lazy(root), "remote_auth");
    e.action = Action::AccessRequest;
    e.delivery.transport = Transport::SyncAuth;
    let a = paths::access(&mut e, true).expect("created");
    a.decision = if policy.pass {
        Decision::Granted
    } else {
        Decision::Denied
    };
    a.decided_by = DecidedBy::Router;
    a.custom_tip = (!policy.customtips.is_empty()).then(|| policy.customtips.clone());
    e
}

fn product(r: &Reader<'_>) -> &'static str {
    if r.has("entry_mode") || r.has("abnormal_type") {
        "sensenebula-pass-api-1.3.0"
    } else if r.has("uuid") {
        "sensenebula-pass-api-1.2.1"
    } else if r.has("recognitionType") {
        "sensenebula-pass-api-1.2"
    } else if r.has("livenessScore") {
        "sensenebula-pass-api-1.0"
    } else {
        "sensenebula-pass-api-1.1"
    }
}

fn int(r: &mut Reader<'_>, path: &str) -> Option<i64> {
    let v = r.take(path)?;
    match v.as_i64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())) {
        Some(n) => Some(n),
        None => {
            r.warn(format!("unmapped:{path}"));
            r.put_back(path, v);
            None
        }
    }
}

fn non_blank(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

/// Unix time from a device clock: seconds, or milliseconds where the firmware sends them.
fn device_time(r: &mut Reader<'_>, path: &str, e: &mut Event) {
    r.occurred_at(path, e, TzSource::DeviceClockUnverified);
    if e.occurred_at.is_some() {
        e.occurred_at_tz_source = TzSource::DeviceClockUnverified;
    }
}

fn image(r: &mut Reader<'_>, path: &str, role: MediaRole, e: &mut Event) {
    let Some(value) = r.take(path) else { return };
    let media = media::inline(role, value.as_str().unwrap_or_default());
    if media.decode_error.is_some() {
        e.warnings.push(format!("base64_invalid:{path}"));
    }
    e.media.push(media);
}

fn recognition(mut r: Reader<'_>, kind: &str) -> Event {
    let product = product(&r);
    let mut e = blank("sensenebula_pass", Category::Access, Action::FaceDetected);
    e.vendor_product = Some(product.to_string());
    e.vendor_event_id = non_blank(r.string("uuid", "vendor_event_id"));
    e.source.device_id = r.string("deviceSN", "source.device_id");
    device_time(&mut r, "timestamp", &mut e);

    let recognition_type = int(&mut r, "recognitionType");
    let recognize_status = int(&mut r, "recognizeStatus");
    let (action, matched, person_type, liveness) = match (recognition_type, recognize_status) {
        (Some(1), _) => (Action::FaceMatched, Some(true), PersonType::Employee, Liveness::Unknown),
        (Some(2), _) => (Action::FaceMatched, Some(true), PersonType::Visitor, Liveness::Unknown),
        (Some(3), _) => (Action::Stranger, Some(false), PersonType::Stranger, Liveness::Unknown),
        (Some(4), _) => (Action::LivenessFailed, None, PersonType::Unknown, Liveness::Spoof),
        (Some(5), _) => (
            Action::BlacklistHit,
            Some(true),
            PersonType::Blacklist,
            Liveness::Unknown,
        ),
        (None, Some(2 | 4)) => (Action::FaceMatched, Some(true), PersonType::Unknown, Liveness::Unknown),
        (None, Some(5)) => (
            Action::AccessGranted,
            Some(true),
            PersonType::Unknown,
            Liveness::Unknown,
        ),
        (None, Some(6)) => (Action::AccessDenied, None, PersonType::Unknown, Liveness::Unknown),
        (None, Some(3)) => (Action::Stranger, Some(false), PersonType::Stranger, Liveness::Unknown),
        (None, Some(1)) => (Action::LivenessFailed, None, PersonType::Unknown, Liveness::Spoof),
        (None, Some(0) | None) => (Action::FaceDetected, None, PersonType::Unknown, Liveness::Unknown),
        (Some(t), _) | (None, Some(t)) => {
            r.warn(format!("enum_unknown:recognition={t}"));
            (Action::Unknown, None, PersonType::Unknown, Liveness::Unknown)
        }
    };
    e.action = action;
    let discriminator = recognition_type
        .map(|t| format!("recognitionType={t}"))
        .or(recognize_status.map(|s| format!("recognizeStatus={s}")));
    e.vendor_event_type = Some(match &discriminator {
        Some(d) => format!("{kind}/{d}"),
        None => kind.to_string(),
    });

    let score = r.number("recognizeScore", "match.score");
    let liveness_score = r.number("livenessScore", "match.liveness_score");
    let m = paths::matching(&mut e, true).expect("created");
    m.matched = matched;
    m.liveness = liveness;
    m.liveness_score = liveness_score;
    if let Some(s) = score {
        set_score(&mut e, s);
    }

    let mask = int(&mut r, "mask").map(|m| match m {
        0 => MaskState::NotEnabled,
        1 => MaskState::NotWorn,
        2 => MaskState::Worn,
        _ => MaskState::Unknown,
    });
    let temperature = match r.number("bodyTemperature", "attributes.body_temperature_c") {
        // 0 is what devices without a thermal sensor send.
        Some(0.0) => {
            e.warnings.push("temperature_not_measured".into());
            None
        }
        other => other,
    };
    if mask.is_some() || temperature.is_some() {
        let a = paths::attributes(&mut e, true).expect("created");
        a.mask = mask;
        a.body_temperature_c = temperature;
    }
    image(&mut r, "rgb_image", MediaRole::FaceCrop, &mut e);

    let pass = r.boolean("pass", "access.decision");
    let mode = int(&mut r, "mode");
    let entry = int(&mut r, "entry_mode");
    let abnormal = int(&mut r, "abnormal_type");
    let a = paths::access(&mut e, true).expect("created");
    if let Some(p) = pass {
        a.decision = if p { Decision::Granted } else { Decision::Denied };
        a.decided_by = DecidedBy::Device;
    }
    // `mode` changed meaning between firmware releases: kept raw, never translated.
    a.verify_mode_raw = mode.map(|m| m.to_string());
    a.entry_mode_raw = entry;
    if let Some(n) = entry {
        let (name, method) = entry_mode(n);
        a.entry_mode = Some(name.to_string());
        a.method = Some(method);
    }
    a.abnormal_raw = abnormal;
    a.abnormal = abnormal.map(|n| abnormal_name(n).to_string());

    subject(&mut r, &mut e, person_type);
    let device = e.source.device_id.clone().unwrap_or_default();
    e.dedup_key = Some(match &e.vendor_event_id {
        Some(uuid) => format!("snp:{device}:{uuid}"),
        None => format!(
            "snp:{device}:{}:{}:{}:{}",
            e.occurred_at_raw.as_deref().unwrap_or(""),
            e.subject.as_ref().and_then(|s| s.person_id.as_deref()).unwrap_or(""),
            discriminator.unwrap_or_default(),
            mode.map(|m| m.to_string()).unwrap_or_default()
        ),
    });
    r.finish(&mut e);
    e
}

fn subject(r: &mut Reader<'_>, e: &mut Event, person_type: PersonType) {
    if !r.has("user") {
        if person_type != PersonType::Unknown {
            let s = paths::subject(e, true).expect("created");
            s.kind = SubjectKind::Person;
            s.person_type = person_type;
        }
        return;
    }
    // The PIN is a credential: it is removed, never forwarded.
    if r.take("user.pin")
        .is_some_and(|p| p.as_str().is_none_or(|s| !s.is_empty()))
    {
        e.warnings.push("pin_removed".into());
    }
    let person = non_blank(r.string("user.user_id", "subject.person_id")).filter(|id| id != "0");
    let name = non_blank(r.string("user.name", "subject.display_name"));
    let card = non_blank(r.string("user.ic_number", "subject.card_number"));
    let job = non_blank(r.string("user.job_number", "subject.employee_number"));
    let id_doc = non_blank(r.string("user.id_number", "subject.id_document_number"));
    let user_type = int(r, "user.type");
    let groups = match r.take("user.groups") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|g| {
                let id = g
                    .get("id")
                    .map(|i| i.as_str().map(str::to_string).unwrap_or_else(|| i.to_string()))?;
                Some(Group {
                    id,
                    name: g.get("name").and_then(Value::as_str).map(str::to_string),
                    color: None,
                    kind: GroupKind::Group,
                })
            })
            .collect(),
        Some(other) => {
            r.put_back("user.groups", other);
            Vec::new()
        }
        None => Vec::new(),
    };
    for field in ["remark", "guest_time_start", "guest_time_end"] {
        let path = format!("user.{field}");
        if matches!(r.peek(&path), Some(Value::String(s)) if s.is_empty())
            || matches!(r.peek(&path), Some(Value::Number(n)) if n.as_i64() == Some(0))
        {
            r.take(&path);
        }
    }
    let s = paths::subject(e, true).expect("created");
    s.kind = SubjectKind::Person;
    s.person_id = person;
    s.display_name = name;
    s.card_number = card;
    s.employee_number = job;
    s.id_document_number = id_doc;
    s.groups = groups;
    s.person_type_raw = user_type.map(|t| t.to_string());
    s.person_type = match (person_type, user_type) {
        (PersonType::Unknown | PersonType::Employee, Some(1)) => PersonType::Employee,
        (PersonType::Unknown, Some(2)) => PersonType::Visitor,
        // 3 meant blacklist before API 1.3.0, 5 since.
        (PersonType::Unknown, Some(3 | 5)) => PersonType::Blacklist,
        (known, _) => known,
    };
}

fn entry_mode(n: i64) -> (&'static str, AccessMethod) {
    match n {
        1 => ("face", AccessMethod::Face),
        2 => ("qr", AccessMethod::Qr),
        3 => ("card", AccessMethod::Card),
        4 => ("face_and_card", AccessMethod::Face),
        5 => ("id_card", AccessMethod::IdCard),
        6 => ("face_and_id_card", AccessMethod::Face),
        7 => ("health_code", AccessMethod::Qr),
        8 => ("face_and_pin", AccessMethod::Face),
        9 => ("card_and_pin", AccessMethod::Card),
        10 => ("face_card_and_pin", AccessMethod::Face),
        11 => ("exit_button", AccessMethod::Button),
        12 => ("job_number_and_pin", AccessMethod::Pin),
        _ => ("unknown", AccessMethod::Other),
    }
}

fn abnormal_name(n: i64) -> &'static str {
    match n {
        0 => "none",
        10001 => "person_id_mismatch",
        10002 => "person_card_mismatch",
        10003 => "person_qr_mismatch",
        20001 => "visitor_outside_validity",
        20002 => "outside_pass_time",
        30001 => "invalid_id_card",
        30002 => "invalid_ic_card",
        30003 => "invalid_qr",
        40001 => "abnormal_temperature",
        70001 => "wrong_pin",
        70002 => "too_many_wrong_pins",
        _ => "unknown",
    }
}

/// `type 1` device alarm.
fn alarm(mut r: Reader<'_>, remote_addr: Option<&str>) -> Event {
    let status = int(&mut r, "status");
    let (action, state) = match status {
        Some(1) => (Action::DeviceAlarmRaised, Some(AlarmState::Raised)),
        Some(2) => (Action::DeviceAlarmClearFailed, Some(AlarmState::ClearFailed)),
        Some(3) => (Action::DeviceAlarmCleared, Some(AlarmState::Cleared)),
        other => {
            r.warn(format!(
                "enum_unknown:status={}",
                other.map(|s| s.to_string()).unwrap_or_default()
            ));
            (Action::Unknown, None)
        }
    };
    let mut e = blank("sensenebula_pass", Category::Alarm, action);
    e.vendor_product = Some("sensenebula-pass-api-1.3.0".into());
    e.vendor_event_type = Some(format!(
        "push:1/status={}",
        status.map(|s| s.to_string()).unwrap_or_default()
    ));
    let trace = r.string("trace_id", "alarm.trace_id");
    e.vendor_event_id = trace.clone();
    device_time(&mut r, "event_time", &mut e);
    let code = int(&mut r, "code");
    let description = non_blank(r.string("description", "alarm.description"));
    let user = non_blank(r.string("user_id", "subject.person_id"));
    let a = paths::alarm(&mut e, true).expect("created");
    a.trace_id = trace.clone();
    a.state = state;
    a.description = description;
    a.code = code.map(|c| c.to_string());
    a.code_name = code.map(|c| {
        match c {
            10001 => "tamper",
            10002 => "forced_door",
            10003 => "door_sensor_timeout",
            10004 => "password_attack",
            20003 => "fire_alarm",
            _ => "unknown",
        }
        .to_string()
    });
    if user.is_some() {
        let s = paths::subject(&mut e, true).expect("created");
        s.kind = SubjectKind::Person;
        s.person_id = user;
    }
    image(&mut r, "alarm_photo", MediaRole::AlarmPhoto, &mut e);
    // The alarm body names no device: the connection's address stands in for it.
    let device = remote_addr
        .map(|a| a.rsplit_once(':').map_or(a, |(host, _)| host))
        .unwrap_or("");
    e.dedup_key = Some(format!(
        "snp-alarm:{device}:{}:{}",
        trace.unwrap_or_default(),
        status.map(|s| s.to_string()).unwrap_or_default()
    ));
    r.finish(&mut e);
    e
}
