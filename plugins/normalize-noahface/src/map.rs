//! One NoahFace event → one normalized event (VENDORS.md §8.4).

use router_plugin_sdk::event::blank;
use router_plugin_sdk::lazy;
use router_plugin_sdk::paths;
use router_plugin_sdk::reader::Reader;
use router_plugin_sdk::time;
use router_plugin_sdk::types::{
    AccessMethod, Action, Category, DecidedBy, Decision, Event, PersonType, SubjectKind, TzSource,
};
use serde_json::Value;

fn action_of(kind: &str) -> Option<(Category, Action)> {
    Some(match kind {
        "register" => (Category::Attendance, Action::Register),
        "clockin" => (Category::Attendance, Action::ClockIn),
        "clockout" => (Category::Attendance, Action::ClockOut),
        "starttask" => (Category::Attendance, Action::TaskStart),
        "startbreak" => (Category::Attendance, Action::BreakStart),
        "endbreak" => (Category::Attendance, Action::BreakEnd),
        "startjob" => (Category::Attendance, Action::JobStart),
        "stopjob" => (Category::Attendance, Action::JobStop),
        "present" => (Category::Attendance, Action::Present),
        "accessgranted" => (Category::Access, Action::AccessGranted),
        "accessdenied" => (Category::Access, Action::AccessDenied),
        _ => return None,
    })
}

fn method_of(method: &str) -> AccessMethod {
    match method {
        "face" => AccessMethod::Face,
        "passcode" => AccessMethod::Passcode,
        "card" => AccessMethod::Card,
        "qr" | "qrcode" => AccessMethod::Qr,
        "pin" => AccessMethod::Pin,
        _ => AccessMethod::Other,
    }
}

pub(crate) fn event(object: lazy::Object<'_>) -> Event {
    let mut r = Reader::lazy(object);
    let kind = r.string("type", "vendor_event_type");
    let (category, action) = match kind.as_deref().map(|k| (k, action_of(&k.to_ascii_lowercase()))) {
        Some((_, Some(pair))) => pair,
        Some((k, None)) => {
            r.warn(format!("enum_unknown:type={k}"));
            (Category::Unknown, Action::Unknown)
        }
        None => (Category::Unknown, Action::Unknown),
    };
    let mut e = blank("noahface", category, action);
    e.vendor_event_type = kind;
    e.vendor_event_id = r.string("eventid", "vendor_event_id");
    r.occurred_at("utc", &mut e, TzSource::AssumedUtc);
    if let Some(local) = r.string("time", "local_time") {
        if let (Ok(l), Some(Ok(u))) = (time::parse(&local), e.occurred_at.as_deref().map(time::parse)) {
            e.utc_offset_minutes = Some(time::offset_minutes(&l, &u));
        }
        e.local_time = Some(local);
    }
    e.source.org = r.string("org", "source.org");
    e.source.site = r.string("site", "source.site");
    e.source.device_name = r.string("device", "source.device_name");
    e.source.device_id = r.string("devid", "source.device_id");

    let external = r.string("userid", "subject.external_id");
    let number = r.string("number", "subject.employee_number");
    let first = r.string("firstname", "subject.first_name");
    let last = r.string("lastname", "subject.last_name");
    let usertype = r.string("usertype", "subject.person_type_raw");
    let card = r.string("cardnum", "subject.card_number");
    if external.is_some() || number.is_some() || first.is_some() || last.is_some() || card.is_some() {
        let display = [first.as_deref(), last.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let s = paths::subject(&mut e, true).expect("created");
        s.kind = SubjectKind::Person;
        s.person_id = external.clone();
        s.external_id = external;
        s.employee_number = number;
        s.first_name = first;
        s.last_name = last;
        s.display_name = (!display.is_empty()).then_some(display);
        s.person_type = if usertype.is_some() {
            PersonType::Other
        } else {
            PersonType::Unknown
        };
        s.person_type_raw = usertype;
        s.card_number = card;
    }

    let method = r.string("method", "access.method");
    if method.is_some() || category == Category::Access {
        let a = paths::access(&mut e, true).expect("created");
        a.method = method.as_deref().map(method_of);
        a.entry_mode = method;
        (a.decision, a.decided_by) = match action {
            Action::AccessGranted => (Decision::Granted, DecidedBy::Device),
            Action::AccessDenied => (Decision::Denied, DecidedBy::Device),
            _ => (Decision::Unknown, DecidedBy::Unknown),
        };
    }

    let lat = r.number("latitude", "location.lat");
    let lon = r.number("longitude", "location.lon");
    let accuracy = r.number("accuracy", "location.accuracy_m");
    let altitude = r.number("altitude", "location.altitude_m");
    if lat.is_some() || lon.is_some() {
        *paths::location(&mut e, true).expect("created") = router_plugin_sdk::types::Location {
            lat,
            lon,
            accuracy_m: accuracy,
            altitude_m: altitude,
        };
    }

    let temperature = r.number("temperature", "attributes.body_temperature_c");
    let elevated = r.boolean("elevated", "attributes.temperature_elevated");
    let sentiment = r.string("sentiment", "attributes.sentiment");
    if temperature.is_some() || elevated.is_some() || sentiment.is_some() {
        let a = paths::attributes(&mut e, true).expect("created");
        a.body_temperature_c = temperature;
        a.temperature_elevated = elevated;
        a.sentiment = sentiment;
    }
    let org = e.source.org.clone().unwrap_or_default();
    e.dedup_key = e.vendor_event_id.as_ref().map(|id| format!("noahface:{org}:{id}"));
    // Empty strings mean "absent" in NoahFace payloads; drop them rather than keep noise.
    if let Some(Value::String(s)) = r.peek("detail")
        && s.is_empty()
    {
        r.take("detail");
    }
    r.finish(&mut e);
    e
}
