//! OMNI messages → normalized events (VENDORS.md §8.2).

use router_plugin_sdk::event::blank;
use router_plugin_sdk::lazy;
use router_plugin_sdk::media;
use router_plugin_sdk::paths;
use router_plugin_sdk::reader::Reader;
use router_plugin_sdk::types::{
    Action, Candidate, Category, Event, Gender, Group, GroupKind, MediaRole, PluginError, SubjectKind, TzSource,
};
use serde_json::Value;

/// A base64 image (agent payloads) → media with content for the blob store, or a decode error.
fn base64_media(r: &mut Reader<'_>, path: &str, role: MediaRole, e: &mut Event) {
    let Some(value) = r.take(path) else { return };
    let m = media::inline(role, value.as_str().unwrap_or_default());
    if m.decode_error.is_some() {
        e.warnings.push(format!("base64_invalid:{path}"));
    }
    e.media.push(m);
}

fn kind_of(class: Option<&str>) -> SubjectKind {
    match class {
        Some("human" | "face" | "person") => SubjectKind::Person,
        Some("body") => SubjectKind::Body,
        Some("car" | "vehicle") => SubjectKind::Vehicle,
        _ => SubjectKind::Unknown,
    }
}

fn action_of(kind: Option<&str>, matched: bool, r: &mut Reader<'_>) -> (Category, Action) {
    match kind {
        Some("identification") if matched => (Category::Recognition, Action::FaceMatched),
        Some("identification" | "non_identification") => (Category::Recognition, Action::FaceUnmatched),
        // ROI, line-crossing and HAR bodies are not documented yet: kept raw until captured.
        Some("roi" | "crossing" | "har") => (Category::Tracking, Action::Unknown),
        Some(other) => {
            r.warn(format!("enum_unknown:type={other}"));
            (Category::Unknown, Action::Unknown)
        }
        None => (Category::Unknown, Action::Unknown),
    }
}

/// Platform / Agent ≤ 2.4.0: `{type, camera{}, event{}, candidates[]?, activity_id?}`.
pub(crate) fn platform_event(root: lazy::Object<'_>) -> Event {
    let mut r = Reader::lazy(root);
    let kind = r.string("type", "vendor_event_type");
    let mut candidates: Vec<(f64, Value)> = match r.peek("candidates") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|c| (c.get("confidence").and_then(Value::as_f64).unwrap_or(0.0), c.clone()))
            .collect(),
        _ => Vec::new(),
    };
    // Do not trust the order: the best candidate is the highest score.
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (category, action) = action_of(kind.as_deref(), !candidates.is_empty(), &mut r);
    if kind.as_deref() == Some("identification") && candidates.is_empty() {
        r.warn("identification_without_candidates");
    }
    let mut e = blank("omni", category, action);
    e.vendor_product = Some("omni-platform".into());
    e.vendor_event_type = kind;
    e.vendor_event_id = r.string("event.id", "vendor_event_id");
    r.occurred_at("event.detection_date", &mut e, TzSource::AssumedUtc);
    e.source.camera_id = r.string("camera.id", "source.camera_id");
    e.source.camera_name = r.string("camera.title", "source.camera_name");
    e.source.agent_id = r.string("camera.agent_id", "source.agent_id");

    let mut crop = media::reference(MediaRole::FaceCrop);
    crop.vendor_media_id = r.string("event.image", "media.face_crop");
    crop.url = r.string("event.image_link", "media.face_crop");
    let mut frame = media::reference(MediaRole::FullFrame);
    frame.vendor_media_id = r.string("event.original_image", "media.full_frame");
    frame.url = r.string("event.original_image_link", "media.full_frame");
    for m in [crop, frame] {
        if m.url.is_some() || m.vendor_media_id.is_some() {
            e.media.push(m);
        }
    }

    let track = r.peek_str("activity_id").map(str::to_string);
    let m = paths::matching(&mut e, true).expect("created");
    m.track_id = track;
    m.matched = Some(!candidates.is_empty());
    m.candidates = candidates
        .iter()
        .enumerate()
        .filter_map(|(rank, (score, c))| {
            Some(Candidate {
                person_id: c.pointer("/profile/id").and_then(Value::as_str)?.to_string(),
                score: Some(*score),
                group_ids: c
                    .get("profile_groups")
                    .and_then(Value::as_array)
                    .map(|gs| {
                        gs.iter()
                            .filter_map(|g| g.get("id").and_then(Value::as_str).map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                rank: rank as u32 + 1,
            })
        })
        .collect();
    if let Some((score, top)) = candidates.first() {
        m.score = Some(*score);
        let s = paths::subject(&mut e, true).expect("created");
        s.kind = SubjectKind::Person;
        s.person_id = top.pointer("/profile/id").and_then(Value::as_str).map(str::to_string);
        s.groups = top
            .get("profile_groups")
            .and_then(Value::as_array)
            .map(|gs| {
                gs.iter()
                    .filter_map(|g| {
                        Some(Group {
                            id: g.get("id").and_then(Value::as_str)?.to_string(),
                            name: g.get("name").and_then(Value::as_str).map(str::to_string),
                            color: g.get("color").and_then(Value::as_str).map(str::to_string),
                            kind: GroupKind::ProfileGroup,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let profile = top.get("profile").cloned().unwrap_or(Value::Null);
        let age = profile.get("age").and_then(Value::as_f64);
        let gender = profile.get("gender").and_then(Value::as_str).map(|g| match g {
            "male" | "MALE" => Gender::Male,
            "female" | "FEMALE" => Gender::Female,
            _ => Gender::Unknown,
        });
        if age.is_some() || gender.is_some() {
            // These come from the enrolled profile, not an estimate from this image.
            let a = paths::attributes(&mut e, true).expect("created");
            a.age = age;
            a.gender = gender;
            e.warnings.push("profile_attributes".into());
        }
        if let Some(avatar) = profile.get("avatar_id").and_then(Value::as_str) {
            let mut m = media::reference(MediaRole::Avatar);
            m.vendor_media_id = Some(avatar.to_string());
            e.media.push(m);
        }
        if let Some(sample) = profile.get("main_sample_id").and_then(Value::as_str) {
            let mut m = media::reference(MediaRole::Sample);
            m.vendor_media_id = Some(sample.to_string());
            m.url = profile.get("sample_link").and_then(Value::as_str).map(str::to_string);
            e.media.push(m);
        }
    }
    e.dedup_key = e.vendor_event_id.as_ref().map(|id| format!("omni:{id}"));
    r.finish(&mut e);
    e
}

/// Agent 2.4.1: `{type, date, id, object{class,id}, parents[], source, identification_data[]}`.
pub(crate) fn agent_event(root: lazy::Object<'_>) -> Event {
    let mut r = Reader::lazy(root);
    let kind = r.string("type", "vendor_event_type");
    let data: Vec<Value> = match r.take("identification_data") {
        Some(Value::Array(items)) => items,
        Some(other) => {
            r.put_back("identification_data", other);
            Vec::new()
        }
        None => Vec::new(),
    };
    let mut ranked: Vec<&Value> = data.iter().collect();
    ranked.sort_by(|a, b| {
        let s = |v: &Value| v.get("score").and_then(Value::as_f64).unwrap_or(0.0);
        s(b).total_cmp(&s(a))
    });
    let (category, action) = action_of(kind.as_deref(), !ranked.is_empty(), &mut r);
    let mut e = blank("omni", category, action);
    e.vendor_product = Some("omni-agent-2.4.1".into());
    e.vendor_event_type = kind;
    e.vendor_event_id = r.string("id", "vendor_event_id");
    r.occurred_at("date", &mut e, TzSource::AssumedUtc);
    e.source.camera_id = r.string("source", "source.camera_id");
    let class = r.string("object.class", "subject.kind");
    let m = paths::matching(&mut e, true).expect("created");
    m.matched = Some(!ranked.is_empty());
    m.candidates = ranked
        .iter()
        .enumerate()
        .filter_map(|(rank, c)| {
            Some(Candidate {
                person_id: c.get("profile_id").and_then(Value::as_str)?.to_string(),
                score: c.get("score").and_then(Value::as_f64),
                group_ids: c
                    .get("group_ids")
                    .and_then(Value::as_array)
                    .map(|g| g.iter().filter_map(|i| i.as_str().map(str::to_string)).collect())
                    .unwrap_or_default(),
                rank: rank as u32 + 1,
            })
        })
        .collect();
    m.score = m.candidates.first().and_then(|c| c.score);
    let top = m.candidates.first().map(|c| c.person_id.clone());
    let s = paths::subject(&mut e, true).expect("created");
    s.kind = kind_of(class.as_deref());
    s.person_id = top;
    base64_media(&mut r, "image", MediaRole::FaceCrop, &mut e);
    base64_media(&mut r, "original_image", MediaRole::FullFrame, &mut e);
    e.dedup_key = e.vendor_event_id.as_ref().map(|id| format!("omni:{id}"));
    r.finish(&mut e);
    e
}

/// Agent `{processes: [...]}`: one tracking event per process.
pub(crate) fn processes(root: &lazy::Object<'_>) -> Result<Vec<Event>, PluginError> {
    let Some(Value::Array(items)) = root.get("processes").cloned() else {
        return Err(PluginError::InvalidInput("`processes` is not an array".into()));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            if !item.is_object() {
                return Err(PluginError::InvalidInput(format!(
                    "processes[{i}] is not a JSON object"
                )));
            }
            let mut r = Reader::new(item);
            let mut e = blank("omni", Category::Tracking, Action::TrackUpdate);
            e.vendor_product = Some("omni-agent".into());
            let kind = r.string("type", "vendor_event_type");
            e.vendor_event_type = Some(format!("process:{}", kind.as_deref().unwrap_or("")));
            let id = r.string("id", "vendor_event_id");
            e.vendor_event_id = id.clone();
            e.source.camera_id = r
                .string("source", "source.camera_id")
                .or_else(|| r.peek_str("object.source").map(str::to_string));
            // `time_interval` as [start, end] or {start, end}; the event time is its latest edge.
            let (start, end) = match r.take("time_interval") {
                Some(Value::Array(t)) => (
                    t.first().and_then(Value::as_str).map(str::to_string),
                    t.get(1).and_then(Value::as_str).map(str::to_string),
                ),
                Some(Value::Object(t)) => (
                    t.get("start").and_then(Value::as_str).map(str::to_string),
                    t.get("end").and_then(Value::as_str).map(str::to_string),
                ),
                Some(other) => {
                    r.put_back("time_interval", other);
                    (None, None)
                }
                None => (None, None),
            };
            if let Some(latest) = end.clone().or(start.clone()) {
                r.put_back("__time", Value::String(latest));
                r.occurred_at("__time", &mut e, TzSource::AssumedUtc);
            }
            let class = r.peek_str("object.class").map(str::to_string);
            let m = paths::matching(&mut e, true).expect("created");
            m.track_id = id.clone();
            m.track_start = start;
            m.track_end = end;
            paths::subject(&mut e, true).expect("created").kind = kind_of(class.as_deref().or(kind.as_deref()));
            base64_media(&mut r, "best_shot", MediaRole::BestShot, &mut e);
            // Re-sent every few seconds with the same id: consumers upsert on this key.
            e.dedup_key = id.map(|id| format!("omni-proc:{id}"));
            r.finish(&mut e);
            Ok(e)
        })
        .collect()
}
