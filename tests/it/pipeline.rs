//! A request through normalize → filter → transform reaches a real webhook receiver and the
//! file sink, with exactly the expected JSON.

use router_tests::{MockSink, TestRouter, golden, mask_volatile, post_json};

fn config(mock: &MockSink) -> String {
    format!(
        r#"
version = 1
[server]
data_dir = "data"

[plugins.normalize-json]
path = "{{plugins}}/normalize-json.wasm"
kind = "normalizer"
settings = {{ vendor = "acme", vendor_product = "acme-gate-2", events = "events", category = "recognition", fields = {{ vendor_event_id = "id", action = "kind", occurred_at = "at", "source.camera_id" = "camera.id", "source.camera_name" = "camera.name", "subject.person_id" = "person.id", "subject.display_name" = "person.name", "subject.id_document_number" = "person.passport", "match.matched" = "matched", "match.score" = "score" }} }}

[plugins.drop-unmatched]
path = "{{plugins}}/drop-unmatched.wasm"
kind = "filter"
settings = {{ min_score = 0.6 }}

[plugins.redact]
path = "{{plugins}}/redact.wasm"
kind = "transform"
settings = {{ fields = ["subject.id_document_number"], keep_last = 2 }}

[[sources]]
id = "gate"
path = "/ingest/gate"
normalizer = "normalize-json"
filters = ["drop-unmatched"]
transforms = ["redact"]

[sinks.hook]
type = "webhook"
url = "{url}"

[sinks.file]
type = "file"
path = "events.jsonl"

[[routes]]
name = "matches"
match = {{ action = ["face_matched"], source = ["gate"] }}
sinks = ["hook", "file"]

[[routes]]
name = "all-to-file"
sinks = ["file"]
"#,
        url = mock.url()
    )
}

const BATCH: &str = r#"{
  "site": "north-gate",
  "events": [
    {"id": 4362414227458589462, "kind": "face_matched", "at": "2024-05-29 10:48:27.364000+00:00",
     "camera": {"id": 7, "name": "Giriş", "url": "rtsp://admin:password@192.0.2.10:554/live"},
     "person": {"id": "p-17", "name": "王五", "passport": "AB1234567"}, "matched": true, "score": "0.91"},
    {"id": "2", "kind": "face_unmatched", "at": "2024-05-29T10:48:28Z", "matched": false},
    {"id": "3", "kind": "face_matched", "at": "2024-05-29T10:48:29Z", "matched": true, "score": 0.2}
  ]
}"#;

#[tokio::test]
async fn request_reaches_webhook_and_file_sink() {
    let mock = MockSink::start().await;
    let router = TestRouter::start(&config(&mock)).await;
    let answer = post_json(router.addr, "/ingest/gate", BATCH).await;
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    let summary = answer.json();
    assert_eq!(
        (summary["events"].as_u64(), summary["dropped"].as_u64()),
        (Some(1), Some(2)),
        "{summary}"
    );

    let received = mock.wait_for(1).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].headers["content-type"], "application/json");
    let mut webhook: serde_json::Value = serde_json::from_slice(&received[0].body).expect("JSON body");
    let uid = webhook["event_uid"].as_str().expect("uid").to_string();
    // The webhook-id derives from the dedup key and content (stable across redeliveries).
    let event: switchyard::event::Event = serde_json::from_value(webhook.clone()).expect("router.event/v1");
    assert!(event.dedup_key.is_some() && !uid.is_empty());
    assert_eq!(
        received[0].headers["webhook-id"],
        switchyard::dedup::webhook_id(&event).as_str()
    );

    let file = router.jsonl("events.jsonl");
    assert_eq!(
        file.len(),
        1,
        "the event went to the file once although two routes name it"
    );
    assert_eq!(file[0], webhook, "both sinks got the same event");

    mask_volatile(&mut webhook);
    golden(
        "golden/pipeline-event.json",
        &(serde_json::to_string_pretty(&webhook).expect("json") + "\n"),
    );
    router.stop().await;
}

#[tokio::test]
async fn events_matching_no_route_are_counted() {
    let mock = MockSink::start().await;
    let config = config(&mock).replace("[[routes]]\nname = \"all-to-file\"\nsinks = [\"file\"]\n", "");
    let router = TestRouter::start(&config).await;
    let answer = post_json(
        router.addr,
        "/ingest/gate",
        r#"{"events": [{"id": "9", "kind": "clock_in", "matched": true}]}"#,
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["unrouted"], 1);
    assert!(router.jsonl("events.jsonl").is_empty());
    router.stop().await;
}
