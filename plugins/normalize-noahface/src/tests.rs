use super::*;
use router_plugin_sdk::types::{AccessMethod, Action, Category, Decision, HttpRequest, Ruling, TzSource};

const POST: &str = include_str!("../../../tests/fixtures/samples/noahface-clockin-post.json");
const DENIED: &str = include_str!("../../../tests/fixtures/samples/noahface-accessdenied-unrecognised.json");
const EXTRA: &str = include_str!("../../../tests/fixtures/samples/noahface-extra-fields-synthetic.json");
const GET: &str = include_str!("../../../tests/fixtures/samples/noahface-clockin-get-request.json");

fn run(method: &str, query: &str, body: &str) -> Event {
    normalize_request(method, query, body.as_bytes(), &Settings::default())
        .unwrap()
        .0
}

#[test]
fn post_clock_in() {
    let e = run("POST", "", POST);
    assert_eq!((e.category, e.action), (Category::Attendance, Action::ClockIn));
    assert_eq!(e.vendor_event_id.as_deref(), Some("109997645"));
    assert_eq!(e.occurred_at.as_deref(), Some("2018-12-21T21:03:47Z"));
    assert_eq!(e.occurred_at_tz_source, TzSource::AssumedUtc);
    assert_eq!(
        (e.local_time.as_deref(), e.utc_offset_minutes),
        (Some("2018-12-22 08:03:47"), Some(660))
    );
    let s = e.subject.as_ref().unwrap();
    assert_eq!(
        (
            s.external_id.as_deref(),
            s.employee_number.as_deref(),
            s.display_name.as_deref()
        ),
        (Some("12345"), Some("1001"), Some("Samara Smith"))
    );
    assert_eq!(e.access.as_ref().unwrap().method, Some(AccessMethod::Face));
    assert_eq!(e.attributes.as_ref().unwrap().body_temperature_c, Some(36.9));
    assert_eq!(e.dedup_key.as_deref(), Some("noahface:Acme Corporation:109997645"));
    assert_eq!(
        e.warnings,
        vec!["tz_assumed_utc".to_string()],
        "zone-less `utc` is flagged, nothing else"
    );
}

#[test]
fn get_query_equals_post_with_string_coercions_noted() {
    let envelope: Value = serde_json::from_str(GET).unwrap();
    let query = envelope["http"]["query_string"].as_str().unwrap();
    let e = run("GET", query, "");
    let p = run("POST", "", POST);
    assert_eq!(
        (e.vendor_event_id, e.occurred_at, e.subject),
        (p.vendor_event_id, p.occurred_at, p.subject)
    );
    assert_eq!(e.attributes.as_ref().unwrap().temperature_elevated, Some(false));
    assert!(
        e.warnings
            .contains(&"number_from_string:attributes.body_temperature_c".to_string())
    );
}

#[test]
fn denied_unknown_person_and_extra_fields() {
    let e = run("POST", "", DENIED);
    assert_eq!((e.category, e.action), (Category::Access, Action::AccessDenied));
    assert_eq!(e.access.as_ref().unwrap().decision, Decision::Denied);
    let e = run("PUT", "", EXTRA);
    let extras: Value = serde_json::from_str(&e.extras).unwrap();
    assert!(
        extras.get("someFutureField").is_some(),
        "unknown fields are kept: {extras}"
    );
}

#[test]
fn message_reply_and_bad_input() {
    let settings = Settings {
        message: Some("Thanks {firstname}".into()),
    };
    let (_, reply) = normalize_request("POST", "", POST.as_bytes(), &settings).unwrap();
    let reply = reply.unwrap();
    assert_eq!(reply.headers[0].name, "X-NOAHFACE-MESSAGE");
    assert_eq!(reply.headers[0].value, "Thanks Samara");
    // Names come from the sender: control characters (a header injection, or a DEL the host
    // would refuse) become spaces; letters outside ASCII stay (found by fuzzing).
    let hostile = POST.replace("\"Samara\"", "\"Zo\\u00eb\\r\\nX-Evil: 1\\u007f\"");
    let (_, reply) = normalize_request("POST", "", hostile.as_bytes(), &settings).unwrap();
    assert_eq!(reply.unwrap().headers[0].value, "Thanks Zo\u{eb}  X-Evil: 1 ");
    for (method, query, body, why) in [
        ("GET", "", "", "without query"),
        ("POST", "", "", "empty body"),
        ("POST", "", "[1]", "JSON object"),
        ("POST", "", "{}", "no `eventid`"),
        ("POST", "", "{", "not valid JSON"),
    ] {
        match normalize_request(method, query, body.as_bytes(), &Settings::default()) {
            Err(PluginError::InvalidInput(m)) => assert!(m.contains(why), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn answer_puts_the_tip_in_the_message_header() {
    let request = HttpRequest {
        method: "POST".into(),
        path: "/ingest/noahface".into(),
        query: String::new(),
        headers: Vec::new(),
        body: POST.as_bytes().to_vec(),
        remote_addr: None,
        source_id: "noahface".into(),
        delivery_id: "d".into(),
        received_at: "2026-12-01T00:00:00Z".into(),
    };
    let ruling = |tip: Option<&str>| Ruling {
        decision: Decision::Denied,
        custom_tip: tip.map(str::to_string),
        details: "{}".into(),
    };
    let settings = Settings {
        message: Some("Thanks {firstname}".into()),
    };
    let reply = answer(&request, &ruling(Some("Not now\r\n")), &settings);
    assert_eq!(reply.headers[0].name, "X-NOAHFACE-MESSAGE");
    assert_eq!(reply.headers[0].value, "Not now  ");
    assert_eq!(reply.body, br#"{"decision":"denied","status":"accepted"}"#);
    let templated = answer(&request, &ruling(None), &settings);
    assert_eq!(templated.headers[0].value, "Thanks Samara");
    let silent = answer(&request, &ruling(None), &Settings::default());
    assert!(silent.headers.iter().all(|h| h.name != "X-NOAHFACE-MESSAGE"));
}
