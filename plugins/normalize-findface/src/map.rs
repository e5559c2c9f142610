//! One FindFace event → one normalized event (VENDORS.md §8.1).

use router_plugin_sdk::event::{blank, set_score};
use router_plugin_sdk::lazy;
use router_plugin_sdk::media;
use router_plugin_sdk::paths;
use router_plugin_sdk::reader::Reader;
use router_plugin_sdk::types::{
    Action, Bbox, Category, Event, Gender, Group, GroupKind, Liveness, MaskState, MediaRole, SubjectKind, TzSource,
    Vehicle,
};
use serde_json::Value;

/// What the event is about, from `object_type` (Multi) or `webhook_type` (both).
#[derive(Clone, Copy, PartialEq)]
enum Object {
    Face,
    Car,
    Body,
}

fn object_of(r: &Reader<'_>) -> Object {
    let kind = r.peek_str("object_type").or(match r.peek_str("webhook_type") {
        Some("car_events" | "car_episodes") => Some("car"),
        Some("body_events" | "body_episodes") => Some("body"),
        _ => None,
    });
    match kind {
        Some("car") => Object::Car,
        Some("body") => Object::Body,
        _ => Object::Face,
    }
}

pub(crate) fn event(item: lazy::Object<'_>, source_id: &str) -> Event {
    let mut r = Reader::lazy(item);
    let multi = r.has("object_type") || r.has("event_model_class") || r.has("thumbnail") || r.has("fullframe");
    let object = object_of(&r);
    let matched = r.boolean("matched", "match.matched");
    let action = match (object, matched) {
        (Object::Face, Some(true)) => Action::FaceMatched,
        (Object::Face, Some(false)) => Action::FaceUnmatched,
        (Object::Face, None) => Action::FaceDetected,
        (Object::Car, Some(true)) => Action::VehicleMatched,
        (Object::Car, _) => Action::VehicleDetected,
        (Object::Body, _) => Action::BodyDetected,
    };
    let mut e = blank("findface", Category::Recognition, action);
    e.vendor_product = Some(
        if multi {
            "findface-multi-2"
        } else {
            "findface-security-4"
        }
        .to_string(),
    );
    let type_parts: Vec<String> = ["webhook_type", "event_type", "event_model_class"]
        .iter()
        .filter_map(|p| r.string(p, p))
        .collect();
    let object_type = r.string("object_type", "object_type");
    e.vendor_event_type = (!type_parts.is_empty()).then(|| type_parts.join("/"));
    e.vendor_event_id = r.string("id", "vendor_event_id");
    r.occurred_at("created_date", &mut e, TzSource::AssumedUtc);

    source(&mut r, &mut e);
    subject(&mut r, &mut e, object, matched);
    recognition(&mut r, &mut e, matched);
    attributes(&mut r, &mut e, object);
    media(&mut r, &mut e);

    let host = e
        .media
        .iter()
        .find_map(|m| m.url.as_deref().and_then(url_host))
        .unwrap_or_else(|| source_id.to_string());
    let kind = object_type.or_else(|| {
        e.vendor_event_type
            .clone()
            .map(|t| t.split('/').next().unwrap_or("face").to_string())
    });
    if let Some(id) = &e.vendor_event_id {
        e.dedup_key = Some(format!("findface:{host}:{}:{id}", kind.as_deref().unwrap_or("face")));
    }
    r.finish(&mut e);
    e
}

fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    (!host.is_empty()).then(|| host.to_string())
}

/// `camera` / `camera_group`: an integer id (Multi) or the full object (Security 4.x), whose
/// other members (URL with credentials masked, stream settings…) stay in extras.
fn id_and_name(r: &mut Reader<'_>, field: &str) -> (Option<String>, Option<String>) {
    if !r.is_object(field) {
        return (r.id(field), None);
    }
    let id = r.id(&format!("{field}.id"));
    let name = r
        .take(&format!("{field}.name"))
        .and_then(|v| v.as_str().map(str::to_string));
    (id, name)
}

fn source(r: &mut Reader<'_>, e: &mut Event) {
    (e.source.camera_id, e.source.camera_name) = id_and_name(r, "camera");
    (e.source.camera_group_id, e.source.camera_group_name) = id_and_name(r, "camera_group");
}

fn subject(r: &mut Reader<'_>, e: &mut Event, object: Object, matched: Option<bool>) {
    // `matched_dossier` (Security 4.x) and `matched_card` (Multi) name the same thing.
    let person = r
        .id("matched_dossier")
        .or_else(|| r.id("matched_card"))
        .filter(|id| id != "0");
    let display_name = r.peek_str("dossier.name").map(str::to_string);
    let groups = watchlists(r);
    let kind = match object {
        Object::Face => SubjectKind::Person,
        Object::Car => SubjectKind::Vehicle,
        Object::Body => SubjectKind::Body,
    };
    if person.is_none()
        && groups.is_empty()
        && display_name.is_none()
        && matched != Some(true)
        && object == Object::Face
    {
        // An unmatched face still says what was seen.
        paths::subject(e, true).expect("created").kind = kind;
        return;
    }
    let s = paths::subject(e, true).expect("created");
    s.kind = kind;
    s.person_id = person;
    s.display_name = display_name;
    s.groups = groups;
}

/// `matched_lists`: integer ids (Multi) are consumed; objects (Security 4.x) give id, name and
/// colour and stay in extras whole (they carry much more).
fn watchlists(r: &mut Reader<'_>) -> Vec<Group> {
    let Some(Value::Array(items)) = r.peek("matched_lists") else {
        return Vec::new();
    };
    let all_ids = items.iter().all(|v| v.is_number() || v.is_string());
    let groups = items
        .iter()
        .filter_map(|v| match v {
            Value::Number(n) => Some(Group {
                id: n.to_string(),
                name: None,
                color: None,
                kind: GroupKind::Watchlist,
            }),
            Value::String(s) => Some(Group {
                id: s.clone(),
                name: None,
                color: None,
                kind: GroupKind::Watchlist,
            }),
            Value::Object(o) => Some(Group {
                id: o
                    .get("id")
                    .map(|i| i.as_str().map(str::to_string).unwrap_or_else(|| i.to_string()))?,
                name: o.get("name").and_then(Value::as_str).map(str::to_string),
                color: o.get("color").and_then(Value::as_str).map(str::to_string),
                kind: GroupKind::Watchlist,
            }),
            _ => None,
        })
        .collect();
    if all_ids {
        r.take("matched_lists");
    }
    groups
}

fn recognition(r: &mut Reader<'_>, e: &mut Event, matched: Option<bool>) {
    let score = r.number("confidence", "match.score");
    let quality = r
        .number("quality", "match.quality")
        .or_else(|| r.number("scores.quality", "match.quality"))
        .or_else(|| r.number("detector_params.quality", "match.quality"));
    let liveness_score = r.number("scores.liveness_score", "match.liveness_score");
    let liveness = match r.string("features.liveness.name", "match.liveness").as_deref() {
        None => Liveness::Unknown,
        Some("real" | "live" | "genuine") => Liveness::Live,
        Some("fake" | "spoof") => Liveness::Spoof,
        Some(other) => {
            r.warn(format!("enum_unknown:features.liveness={other}"));
            Liveness::Unknown
        }
    };
    let track_id = r
        .string("scores.track.id", "match.track_id")
        .or_else(|| r.string("detector_params.track.id", "match.track_id"));
    let track_start = r.string("scores.track.first_timestamp", "match.track_start");
    let track_end = r.string("scores.track.last_timestamp", "match.track_end");
    let m = paths::matching(e, true).expect("created");
    m.matched = matched;
    m.liveness = liveness;
    m.liveness_score = liveness_score;
    m.quality = quality;
    m.track_id = track_id;
    m.track_start = track_start;
    m.track_end = track_end;
    if let Some(s) = score {
        set_score(e, s);
    }
}

fn feature_name(r: &mut Reader<'_>, feature: &str) -> Option<String> {
    let path = format!("features.{feature}.name");
    let name = r.take(&path).map(|v| match v {
        Value::String(s) => s,
        other => other.to_string(),
    });
    // A feature reported as `null`, or left with only its confidence, is removed when empty.
    if !r.has(&format!("features.{feature}")) {
        r.take(&format!("features.{feature}"));
    }
    name.filter(|n| !n.is_empty())
}

fn attributes(r: &mut Reader<'_>, e: &mut Event, object: Object) {
    let temperature = r.number("temperature", "attributes.body_temperature_c");
    if object == Object::Car {
        let bbox = r.take("features.license_plate_number.bbox").and_then(|b| bbox(&b));
        let vehicle = Vehicle {
            plate: feature_name(r, "license_plate_number"),
            plate_country: feature_name(r, "license_plate_country"),
            make: feature_name(r, "make"),
            model: feature_name(r, "model"),
            color: feature_name(r, "color"),
            body: feature_name(r, "body"),
        };
        if let Some(b) = bbox {
            e.media.push(media::linked(
                MediaRole::PlateCrop,
                r.string("license_plate_thumbnail", "media.plate_crop"),
                Some(b),
            ));
        }
        paths::attributes(e, true).expect("created").vehicle = Some(vehicle);
        return;
    }
    let age = feature_name(r, "age").and_then(|a| a.parse::<f64>().ok());
    let gender = feature_name(r, "gender").map(|g| match g.as_str() {
        "male" => Gender::Male,
        "female" => Gender::Female,
        _ => Gender::Unknown,
    });
    let emotion = feature_name(r, "emotions");
    let glasses = feature_name(r, "glasses");
    let beard = feature_name(r, "beard");
    let mask = feature_name(r, "medmask").map(|m| match m.as_str() {
        "none" | "no_mask" => MaskState::NotWorn,
        "medmask" | "mask" | "correct" => MaskState::Worn,
        _ => MaskState::Unknown,
    });
    if age.is_none()
        && gender.is_none()
        && emotion.is_none()
        && glasses.is_none()
        && beard.is_none()
        && mask.is_none()
        && temperature.is_none()
    {
        return;
    }
    let a = paths::attributes(e, true).expect("created");
    a.age = age;
    a.gender = gender;
    a.emotion = emotion;
    a.glasses = glasses;
    a.beard = beard;
    a.mask = mask;
    a.body_temperature_c = temperature;
}

fn bbox(v: &Value) -> Option<Bbox> {
    let side = |k: &str| v.get(k).and_then(Value::as_i64).map(|n| n as i32);
    Some(Bbox {
        left: side("left")?,
        top: side("top")?,
        right: side("right")?,
        bottom: side("bottom")?,
    })
}

fn media(r: &mut Reader<'_>, e: &mut Event) {
    let coords =
        ["left", "top", "right", "bottom"].map(|s| r.peek(&format!("frame_coords_{s}")).and_then(Value::as_i64));
    let face_box = match coords {
        [Some(l), Some(t), Some(rt), Some(b)] => {
            for s in ["left", "top", "right", "bottom"] {
                r.take(&format!("frame_coords_{s}"));
            }
            Some(Bbox {
                left: l as i32,
                top: t as i32,
                right: rt as i32,
                bottom: b as i32,
            })
        }
        _ => None,
    };
    let crop_role = if e.subject.as_ref().is_some_and(|s| s.kind != SubjectKind::Person) {
        MediaRole::BestShot
    } else {
        MediaRole::FaceCrop
    };
    let mut refs = Vec::new();
    if let Some(url) = r
        .string("face", "media.face_crop")
        .or_else(|| r.string("thumbnail", "media.face_crop"))
    {
        refs.push(media::linked(crop_role, Some(url), face_box));
    }
    if let Some(url) = r
        .string("frame", "media.full_frame")
        .or_else(|| r.string("fullframe", "media.full_frame"))
    {
        refs.push(media::linked(MediaRole::FullFrame, Some(url), None));
    }
    if let Some(url) = r.string("normalized_photo", "media.normalized_face") {
        refs.push(media::linked(MediaRole::NormalizedFace, Some(url), None));
    }
    if !e.media.iter().any(|m| m.role == MediaRole::PlateCrop)
        && let Some(url) = r.string("license_plate_thumbnail", "media.plate_crop")
    {
        refs.push(media::linked(MediaRole::PlateCrop, Some(url), None));
    }
    // Crops first, in a stable order.
    refs.extend(std::mem::take(&mut e.media));
    e.media = refs;
}
