use super::*;
use router_plugin_sdk::event::blank;
use router_plugin_sdk::paths::subject;
use router_plugin_sdk::types::{Action, Category, MediaRef, MediaRole};

fn redactor(json: &str) -> Redactor {
    Redactor::new(router_plugin_sdk::settings::parse(json).unwrap()).unwrap()
}

fn sample() -> Event {
    let mut e = blank("findface", Category::Recognition, Action::FaceMatched);
    subject(&mut e, true).unwrap().id_document_number = Some("AB1234567".into());
    subject(&mut e, true).unwrap().card_number = Some("00042".into());
    e.extras = r#"{"camera":{"url":"rtsp://admin:password@192.0.2.10:554/live","name":"Giriş"},"pin":"1234"}"#.into();
    e.media.push(MediaRef {
        role: MediaRole::FullFrame,
        url: Some("http://u:p@192.0.2.1/f.jpg".into()),
        vendor_media_id: None,
        blob_ref: None,
        mime: None,
        bytes: None,
        decode_error: None,
        bbox: None,
        content: None,
    });
    e
}

#[test]
fn masks_named_fields_and_url_credentials() {
    let mut e = sample();
    redactor(r#"{"fields": ["subject.id_document_number", "extras.pin"], "keep_last": 3}"#)
        .apply(&mut e)
        .unwrap();
    let s = e.subject.as_ref().unwrap();
    assert_eq!(s.id_document_number.as_deref(), Some("***567"));
    assert_eq!(s.card_number.as_deref(), Some("00042"));
    let extras: Value = serde_json::from_str(&e.extras).unwrap();
    assert_eq!(extras["camera"]["url"], "rtsp://***@192.0.2.10:554/live");
    assert_eq!(extras["camera"]["name"], "Giriş");
    assert_eq!(extras["pin"], "***234");
    assert_eq!(e.media[0].url.as_deref(), Some("http://***@192.0.2.1/f.jpg"));
    // Redaction never adds empty parts to an event.
    assert!(e.access.is_none() && e.alarm.is_none() && e.location.is_none() && e.match_.is_none());
}

#[test]
fn remove_mode_deletes() {
    let mut e = sample();
    redactor(r#"{"fields": ["subject.card_number", "extras.pin"], "mode": "remove", "url_credentials": false}"#)
        .apply(&mut e)
        .unwrap();
    assert_eq!(e.subject.as_ref().unwrap().card_number, None);
    let extras: Value = serde_json::from_str(&e.extras).unwrap();
    assert!(extras.get("pin").is_none());
    assert_eq!(extras["camera"]["url"], "rtsp://admin:password@192.0.2.10:554/live");
}

#[test]
fn unknown_fields_are_rejected_by_name() {
    let err = Redactor::new(router_plugin_sdk::settings::parse(r#"{"fields": ["subject.passport"]}"#).unwrap())
        .err()
        .unwrap();
    assert!(matches!(err, PluginError::BadSettings(m) if m.contains("subject.passport")));
    let err = Redactor::new(router_plugin_sdk::settings::parse(r#"{"fields": ["category"]}"#).unwrap())
        .err()
        .unwrap();
    assert!(matches!(err, PluginError::BadSettings(m) if m.contains("cannot be redacted")));
}
