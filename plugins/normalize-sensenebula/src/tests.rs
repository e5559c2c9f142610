use super::*;
use router_plugin_sdk::types::{
    Action, AlarmState, Category, Decision, MaskState, MediaRole, PersonType, Transport, TzSource,
};

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../tests/fixtures/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn push(name: &str) -> (Event, Value) {
    let (mut events, reply) = handle("POST", &sample(name), Some("192.0.2.7:5000"), &Settings::default()).unwrap();
    (events.remove(0), serde_json::from_slice(&reply.body).unwrap())
}

#[test]
fn recognition_push_v13() {
    let (e, reply) = push("nebulapass-v13-recognition-push.json");
    assert_eq!(reply, json!({"code": 200, "msg": "success", "data": {}}));
    assert_eq!((e.category, e.action), (Category::Access, Action::FaceMatched));
    assert_eq!(e.vendor_product.as_deref(), Some("sensenebula-pass-api-1.3.0"));
    assert_eq!(
        e.vendor_event_id.as_deref(),
        Some("4d3987c1-a3b3-470b-9fb7-e114772c069c")
    );
    assert_eq!(
        (e.occurred_at.as_deref(), e.occurred_at_tz_source),
        (Some("2023-05-29T07:01:55Z"), TzSource::DeviceClockUnverified)
    );
    let s = e.subject.as_ref().unwrap();
    assert_eq!(
        (s.person_id.as_deref(), s.display_name.as_deref(), s.person_type),
        (Some("5"), Some("王五"), PersonType::Employee)
    );
    assert_eq!(
        (s.card_number.as_deref(), s.employee_number.as_deref(), s.groups.len()),
        (Some("12345"), Some("23385"), 2)
    );
    let a = e.access.as_ref().unwrap();
    assert_eq!(
        (
            a.decision,
            a.entry_mode.as_deref(),
            a.verify_mode_raw.as_deref(),
            a.abnormal.as_deref()
        ),
        (Decision::Granted, Some("face"), Some("3"), Some("none"))
    );
    assert_eq!(e.attributes.as_ref().unwrap().mask, Some(MaskState::NotEnabled));
    assert_eq!(e.media[0].decode_error.as_deref(), Some("empty"));
    assert!(e.warnings.contains(&"temperature_not_measured".to_string()));
    assert!(!e.extras.contains("pin"), "the PIN is never forwarded: {}", e.extras);
    assert_eq!(
        e.dedup_key.as_deref(),
        Some("snp:PSC700C0MC22F02542:4d3987c1-a3b3-470b-9fb7-e114772c069c")
    );
}

#[test]
fn stranger_with_a_truncated_jpeg() {
    let (e, _) = push("nebulapass-v13-stranger-push-synthetic.json");
    assert_eq!(e.action, Action::Stranger);
    assert_eq!(e.access.as_ref().unwrap().decision, Decision::Denied);
    assert_eq!(
        e.attributes.as_ref().unwrap().body_temperature_c,
        Some(36.53308868408203)
    );
    let m = &e.media[0];
    assert_eq!(m.role, MediaRole::FaceCrop);
    assert!(
        m.content.as_ref().is_some_and(|c| c.starts_with(&[0xff, 0xd8, 0xff])),
        "decoded JPEG bytes go to the host"
    );
    assert!(e.subject.as_ref().unwrap().person_id.is_none());
}

#[test]
fn alarm_push_and_malformed_alarm() {
    let (e, _) = push("nebulapass-v13-alarm-push.json");
    assert_eq!((e.category, e.action), (Category::Alarm, Action::DeviceAlarmRaised));
    let a = e.alarm.as_ref().unwrap();
    assert_eq!(
        (a.code.as_deref(), a.code_name.as_deref(), a.state),
        (Some("10001"), Some("tamper"), Some(AlarmState::Raised))
    );
    assert_eq!(
        e.occurred_at.as_deref(),
        Some("2023-05-18T03:43:53.398Z"),
        "event_time is in milliseconds"
    );
    assert!(e.warnings.contains(&"unix_millis".to_string()));
    assert_eq!(
        e.dedup_key.as_deref(),
        Some("snp-alarm:192.0.2.7:SPX-1684381418208-004-3Adb4v:1")
    );
    match handle(
        "POST",
        &sample("nebulapass-v13-alarm-push-malformed.json"),
        None,
        &Settings::default(),
    ) {
        Err(PluginError::InvalidInput(m)) => assert!(m.contains("not valid JSON"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn remote_auth_uses_the_configured_policy() {
    let settings = Settings {
        remote_auth: RemoteAuth {
            pass: true,
            customtips: "Welcome".into(),
        },
    };
    let (events, reply) = handle(
        "POST",
        &sample("nebulapass-v13-remote-auth-request.json"),
        None,
        &settings,
    )
    .unwrap();
    let body: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(body["data"]["pass"], true);
    assert_eq!(body["data"]["customtips"], "Welcome");
    assert_eq!(body["code"], 200);
    let e = &events[0];
    assert_eq!(
        (e.action, e.delivery.transport),
        (Action::AccessRequest, Transport::SyncAuth)
    );
    let a = e.access.as_ref().unwrap();
    assert_eq!(
        (a.decision, a.custom_tip.as_deref()),
        (Decision::Granted, Some("Welcome"))
    );
    assert_eq!(
        e.subject.as_ref().unwrap().person_id.as_deref(),
        Some("4bf5d479-f64e-4e35-907b-23a162b5d80f")
    );
    assert!(
        e.media[0]
            .decode_error
            .as_deref()
            .unwrap()
            .starts_with("invalid base64")
    );
    let (_, deny) = handle(
        "POST",
        &sample("nebulapass-v13-remote-auth-request.json"),
        None,
        &Settings::default(),
    )
    .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&deny.body).unwrap()["data"]["pass"],
        false,
        "default policy denies"
    );
}

#[test]
fn heartbeat_and_websocket_record() {
    let (events, reply) = handle("GET", b"", None, &Settings::default()).unwrap();
    assert!(events.is_empty());
    assert_eq!(reply.status, 200);
    let (e, _) = push("nebulapass-v121-websocket-event.json");
    assert_eq!(e.vendor_product.as_deref(), Some("sensenebula-pass-api-1.2.1"));
    assert_eq!(
        e.subject.as_ref().unwrap().id_document_number.as_deref(),
        Some("gO/i1UcxN3k=")
    );
}

fn ruling(decision: Decision, tip: Option<&str>, details: Value) -> Ruling {
    Ruling {
        decision,
        custom_tip: tip.map(str::to_string),
        details: details.to_string(),
    }
}

#[test]
fn answer_renders_a_ruling_in_the_remote_auth_shape() {
    let (events, _) = handle(
        "POST",
        &sample("nebulapass-v13-remote-auth-request.json"),
        None,
        &Settings::default(),
    )
    .unwrap();
    let granted = answer(
        &events[0],
        &ruling(
            Decision::Granted,
            Some("Welcome"),
            json!({ "reason": "staff", "user_name": "Jane", "pass": false }),
        ),
    )
    .unwrap();
    let body: Value = serde_json::from_slice(&granted.body).unwrap();
    assert_eq!(
        body,
        json!({ "code": 200, "msg": "success", "data": {
            "pass": true, "customtips": "Welcome", "verify_code": 2, "user_name": "Jane" } }),
        "the ruling decides `pass`; `reason` is not sent"
    );
    for (reason, code) in [
        ("outside-hours", 5),
        ("stranger", 4),
        ("low-score", 4),
        ("blocked", 3),
        ("no-rule", 3),
    ] {
        let denied = answer(&events[0], &ruling(Decision::Denied, None, json!({ "reason": reason }))).unwrap();
        let body: Value = serde_json::from_slice(&denied.body).unwrap();
        assert_eq!(
            (
                &body["data"]["pass"],
                &body["data"]["verify_code"],
                &body["data"]["customtips"]
            ),
            (&json!(false), &json!(code), &json!("")),
            "{reason}"
        );
    }
    let bad = answer(&events[0], &ruling(Decision::Denied, None, json!([1])));
    assert!(matches!(bad, Err(PluginError::InvalidInput(_))));
}

#[test]
fn answer_to_a_push_carries_pass_and_tip_only() {
    let (event, _) = push("nebulapass-v13-recognition-push.json");
    let reply = answer(
        &event,
        &ruling(
            Decision::Denied,
            Some("Not now"),
            json!({ "reason": "outside-hours", "user_name": "x" }),
        ),
    )
    .unwrap();
    let body: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(
        body,
        json!({ "code": 200, "msg": "success", "data": { "pass": false, "customtips": "Not now" } })
    );
}
