use super::*;
use router_plugin_sdk::types::{Action, Category, MediaRole, SubjectKind, TzSource};

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../tests/fixtures/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn platform_identification() {
    let e = &normalize_body(&sample("omni-identification.json")).unwrap()[0];
    assert_eq!((e.category, e.action), (Category::Recognition, Action::FaceMatched));
    assert_eq!(
        e.occurred_at.as_deref(),
        Some("2024-05-29T10:48:27.364Z"),
        "space separator accepted"
    );
    assert_eq!(e.occurred_at_tz_source, TzSource::Explicit);
    let m = e.match_.as_ref().unwrap();
    assert_eq!(
        (m.score, m.candidates.len(), m.track_id.as_deref()),
        (Some(0.8731), 1, Some("0f9e8d7c-6b5a-4948-8372-615049382716"))
    );
    let s = e.subject.as_ref().unwrap();
    assert_eq!(s.person_id.as_deref(), Some("9a8b7c6d-5e4f-4321-8765-43210fedcba9"));
    assert_eq!(s.groups[0].color.as_deref(), Some("#4CAF50"));
    assert!(e.warnings.contains(&"profile_attributes".to_string()));
    assert_eq!(
        (e.source.camera_name.as_deref(), e.source.agent_id.is_some()),
        (Some("Lobby entrance"), true)
    );
    assert!(e.media.iter().any(|m| m.role == MediaRole::Sample && m.url.is_some()));
    assert_eq!(
        e.dedup_key.as_deref(),
        Some("omni:c4e2a9f1-7d3b-4b8e-9a61-0f2e3d4c5b6a")
    );
}

#[test]
fn platform_non_identification() {
    let e = &normalize_body(&sample("omni-non-identification.json")).unwrap()[0];
    assert_eq!(e.action, Action::FaceUnmatched);
    assert_eq!(e.match_.as_ref().unwrap().matched, Some(false));
}

#[test]
fn agent_241_identification() {
    let e = &normalize_body(&sample("omni-agent-identification-v241-synthetic.json")).unwrap()[0];
    assert_eq!(e.vendor_product.as_deref(), Some("omni-agent-2.4.1"));
    assert_eq!(e.action, Action::FaceMatched);
    assert_eq!(e.subject.as_ref().unwrap().kind, SubjectKind::Person);
    assert_eq!(e.match_.as_ref().unwrap().candidates[0].group_ids.len(), 1);
    assert!(
        e.media.iter().all(|m| m.decode_error.is_some()),
        "placeholder text is not an image"
    );
}

#[test]
fn agent_processes() {
    let events = normalize_body(&sample("omni-agent-processes-synthetic.json")).unwrap();
    assert_eq!(events.len(), 2);
    assert!(
        events
            .iter()
            .all(|e| e.category == Category::Tracking && e.action == Action::TrackUpdate)
    );
    assert_eq!(events[0].occurred_at.as_deref(), Some("2024-05-29T10:48:30.200Z"));
    assert_eq!(
        events[0].dedup_key.as_deref(),
        Some("omni-proc:a1b2c3d4-e5f6-4718-9a0b-c1d2e3f40516")
    );
    let shot = events[1].media.iter().find(|m| m.role == MediaRole::BestShot).unwrap();
    assert!(shot.content.as_ref().is_some_and(|c| c.starts_with(&[0xff, 0xd8])));
    assert!(!events[1].extras.contains("__time"));
}

#[test]
fn bad_input() {
    for (body, why) in [
        ("", "empty"),
        ("[]", "JSON object"),
        ("{\"x\":1}", "not an OMNI message"),
        ("{", "not valid JSON"),
    ] {
        match normalize_body(body.as_bytes()) {
            Err(PluginError::InvalidInput(m)) => assert!(m.contains(why), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
