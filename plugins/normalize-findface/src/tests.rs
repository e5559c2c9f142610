use super::*;
use router_plugin_sdk::types::{Action, Gender, Liveness, MaskState, MediaRole, SubjectKind, TzSource};
use serde_json::Value;

const SECURITY4: &str = include_str!("../../../tests/fixtures/samples/findface-security4-face-matched.json");
const MULTI_CAR: &str = include_str!("../../../tests/fixtures/samples/findface-multi-car-event.json");
const MULTI_FACE: &str = include_str!("../../../tests/fixtures/samples/findface-multi-face-unmatched.json");
const LEGACY: &str = include_str!("../../../tests/fixtures/samples/findface-security-unmatched-legacy.json");

fn one(body: &str) -> router_plugin_sdk::types::Event {
    let mut events = normalize_body(body.as_bytes(), "ff").unwrap();
    assert_eq!(events.len(), 1);
    events.remove(0)
}

fn extras(e: &router_plugin_sdk::types::Event) -> Value {
    serde_json::from_str(&e.extras).unwrap()
}

#[test]
fn security4_matched_face() {
    let e = one(SECURITY4);
    assert_eq!(e.vendor_product.as_deref(), Some("findface-security-4"));
    assert_eq!(
        e.vendor_event_id.as_deref(),
        Some("4362414227458589462"),
        "uint64 beyond 2^53 survives"
    );
    assert_eq!(e.vendor_event_type.as_deref(), Some("events/event_created"));
    assert_eq!(e.action, Action::FaceMatched);
    assert_eq!(e.occurred_at.as_deref(), Some("2021-07-01T07:52:17Z"));
    assert_eq!(e.occurred_at_tz_source, TzSource::Explicit);
    assert_eq!(e.source.camera_id.as_deref(), Some("5"));
    assert_eq!(e.source.camera_name.as_deref(), Some("Giriş"));
    let s = e.subject.as_ref().unwrap();
    assert_eq!((s.kind, s.person_id.as_deref()), (SubjectKind::Person, Some("34")));
    assert!(s.display_name.is_some());
    assert!(!s.groups.is_empty() && s.groups[0].name.is_some());
    let m = e.match_.as_ref().unwrap();
    assert_eq!((m.matched, m.score), (Some(true), Some(0.8297)));
    assert_eq!(m.track_id.as_deref(), Some("0a2a60439e2e-44"));
    let a = e.attributes.as_ref().unwrap();
    assert_eq!(
        (a.gender, a.mask, a.emotion.as_deref(), a.age),
        (Some(Gender::Male), Some(MaskState::NotWorn), Some("neutral"), None)
    );
    assert_eq!(e.media[0].role, MediaRole::FaceCrop);
    assert_eq!(e.media[0].bbox.as_ref().map(|b| (b.left, b.bottom)), Some((940, 1406)));
    let x = extras(&e);
    let url = x["camera"]["url"].as_str().unwrap();
    assert!(
        !url.contains("password") && url.contains("***@"),
        "RTSP credentials masked: {url}"
    );
    assert_eq!(
        x["features"]["gender"]["confidence"], 1.0,
        "feature confidences stay in extras"
    );
    assert!(x.get("id").is_none() && x.get("created_date").is_none());
    assert!(
        e.dedup_key
            .as_deref()
            .unwrap()
            .starts_with("findface:192.0.2.45:events:")
    );
}

#[test]
fn multi_car_event() {
    let e = one(MULTI_CAR);
    assert_eq!(e.vendor_product.as_deref(), Some("findface-multi-2"));
    assert_eq!(e.vendor_event_type.as_deref(), Some("car_events/event_created"));
    assert_eq!(e.action, Action::VehicleMatched);
    assert_eq!(e.subject.as_ref().unwrap().kind, SubjectKind::Vehicle);
    assert_eq!(e.source.camera_id.as_deref(), Some("21"));
    let v = e.attributes.as_ref().unwrap().vehicle.as_ref().unwrap();
    assert_eq!(
        (v.plate.as_deref(), v.plate_country.as_deref(), v.make.as_deref()),
        (Some("01S190ZA"), Some("UZ"), Some("nissan"))
    );
    let plate = e.media.iter().find(|m| m.role == MediaRole::PlateCrop).unwrap();
    assert!(plate.url.is_some() && plate.bbox.is_some());
    assert_eq!(e.match_.as_ref().unwrap().score, Some(1.0), "integer confidence 1");
    assert_eq!(
        e.dedup_key.as_deref(),
        Some("findface:ffmulti.example.test:car:4589691150480880065")
    );
}

#[test]
fn multi_unmatched_face_and_legacy_liveness() {
    let e = one(MULTI_FACE);
    assert_eq!(e.action, Action::FaceUnmatched);
    assert_eq!(e.attributes.as_ref().unwrap().age, Some(33.0));
    assert!(
        extras(&e)["features"]["headpose_yaw"]["name"].is_number(),
        "unknown features are kept"
    );
    let e = one(LEGACY);
    let m = e.match_.as_ref().unwrap();
    assert_eq!((m.liveness, m.liveness_score), (Liveness::Spoof, Some(0.12)));
    assert!(e.media.iter().any(|m| m.role == MediaRole::NormalizedFace));
}

#[test]
fn batches_and_bad_input() {
    assert!(normalize_body(b"[]", "ff").unwrap().is_empty());
    let two = format!(
        "[{}, {}]",
        &MULTI_FACE.trim()[1..MULTI_FACE.trim().len() - 1],
        &MULTI_CAR.trim()[1..MULTI_CAR.trim().len() - 1]
    );
    assert_eq!(normalize_body(two.as_bytes(), "ff").unwrap().len(), 2);
    let single = one(r#"{"id": "1", "webhook_type": "events", "matched": false}"#);
    assert!(single.warnings.contains(&"single_object_body".to_string()));
    let numeric = one(r#"[{"id": 17, "webhook_type": "events"}]"#);
    assert!(
        numeric
            .warnings
            .contains(&"string_from_number:vendor_event_id".to_string())
    );
    for (bad, why) in [
        ("", "empty body"),
        ("[1]", "not a JSON object"),
        ("\"x\"", "expected a JSON array"),
        ("[{]", "not valid JSON"),
    ] {
        match normalize_body(bad.as_bytes(), "ff") {
            Err(PluginError::InvalidInput(m)) => assert!(m.contains(why), "{bad}: {m}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
}
