//! Every shipped config — `router.toml` and `examples/*/router.toml` — checks cleanly (plugins
//! loaded), and runs: its sample, posted to the real router, comes out at its sinks.

use router_tests::{MockSink, TestRouter, post_json, send, workspace};
use std::path::PathBuf;

fn shipped_configs() -> Vec<PathBuf> {
    let mut configs = vec![workspace().join("router.toml")];
    let mut examples: Vec<PathBuf> = std::fs::read_dir(workspace().join("examples"))
        .expect("examples/")
        .filter_map(|e| e.ok().map(|e| e.path().join("router.toml")))
        .filter(|p| p.exists())
        .collect();
    examples.sort();
    configs.extend(examples);
    configs
}

#[tokio::test]
async fn every_shipped_config_checks_with_its_plugins() {
    router_tests::plugins_dir();
    let configs = shipped_configs();
    assert!(configs.len() >= 3, "{configs:?}");
    for config in configs {
        let (report, ok) = switchyard::cli::check(&config, true).await;
        assert!(ok, "{}:\n{report}", config.display());
    }
}

/// The config text made runnable in a test: plugins from the build, data in the test's dir.
fn runnable(config: &str) -> String {
    let mut section = String::new();
    config
        .lines()
        .map(|l| {
            if l.starts_with('[') {
                section = l.trim().to_string();
            }
            if l.starts_with("data_dir") {
                "data_dir = \"data\"".to_string()
            } else if section == "[admin]" && l.starts_with("listen = ") {
                // The console on a port of its own: tests run side by side.
                "listen = \"127.0.0.1:0\"".to_string()
            } else {
                l.replace("../../target/plugins", "{plugins}")
                    .replace("target/plugins", "{plugins}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn default_config_turns_a_posted_json_event_into_a_file_line() {
    let text = runnable(&std::fs::read_to_string(workspace().join("router.toml")).expect("router.toml"));
    let router = TestRouter::start(&text).await;
    let body = r#"{"id": "evt-1", "type": "face", "action": "face_matched", "time": "2024-05-29T10:48:27Z", "device": "door-1", "person": {"id": "p-1", "name": "Ana"}, "matched": true, "score": 0.97}"#;
    let answer = post_json(router.addr, "/ingest/json", body).await;
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    let events = router.jsonl("events.jsonl");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["vendor_event_id"], "evt-1");
    assert_eq!(events[0]["subject"]["display_name"], "Ana");
    assert_eq!(events[0]["source"]["device_id"], "door-1");
    router.stop().await;
}

#[tokio::test]
async fn json_to_webhook_example_delivers_its_sample() {
    let dir = workspace().join("examples/json-to-webhook");
    let mock = MockSink::start().await;
    let text = runnable(&std::fs::read_to_string(dir.join("router.toml")).expect("config"))
        .replace("http://127.0.0.1:9000/events", &mock.url());
    let router = TestRouter::start(&text).await;
    let sample = std::fs::read(dir.join("sample.json")).expect("sample");
    let answer = post_json(router.addr, "/ingest/faces", sample).await;
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    let got = mock.wait_for(1).await;
    assert_eq!(got[0].headers["x-api-key"], "replace-me");
    let event: serde_json::Value = serde_json::from_slice(&got[0].body).expect("json");
    assert_eq!(event["occurred_at"], "2024-05-29T08:48:27.364Z");
    assert_eq!(event["subject"]["id_document_number"], "***567");
    assert_eq!(
        event["vendor_extras"]["camera"]["url"],
        "rtsp://***@192.0.2.10:554/live"
    );
    assert_eq!(event["vendor_extras"]["envelope"]["site"], "hq");
    assert_eq!(
        router.jsonl("events.jsonl").len(),
        1,
        "the unmatched detection was filtered out"
    );
    router.stop().await;
}

#[tokio::test]
async fn attendance_example_requires_basic_auth_and_files_its_sample() {
    let dir = workspace().join("examples/attendance-basic-auth");
    let text = runnable(&std::fs::read_to_string(dir.join("router.toml")).expect("config")).replace(
        "password_env = \"ATTENDANCE_PASSWORD\"",
        "password_file = \"{dir}/password\"",
    );
    let router = TestRouter::start_with(&text, &[("password", "s3cret")]).await;
    let sample = std::fs::read(dir.join("sample.json")).expect("sample");
    assert_eq!(
        post_json(router.addr, "/ingest/attendance", sample.clone())
            .await
            .status,
        401
    );
    // noahface:s3cret
    let answer = send(
        router.addr,
        "POST",
        "/ingest/attendance",
        &[("authorization", "Basic bm9haGZhY2U6czNjcmV0")],
        sample,
    )
    .await
    .expect("send");
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    let events = router.jsonl("attendance.jsonl");
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(
        (e["vendor"].as_str(), e["category"].as_str()),
        (Some("noahface"), Some("attendance"))
    );
    assert_eq!(e["occurred_at"], "2018-12-21T21:03:47Z");
    assert_eq!(e["occurred_at_tz_source"], "assumed_utc");
    assert_eq!(e["local_time"], "2018-12-22 08:03:47");
    assert_eq!(e["subject"]["employee_number"], "1001");
    assert_eq!(e["attributes"]["body_temperature_c"], 36.9);
    assert_eq!(e["attributes"]["temperature_elevated"], false);
    assert_eq!(e["vendor_extras"]["method"], "face", "unmapped fields are kept");
    router.stop().await;
}

/// An example's config, runnable here, with `replace` applied (test receivers, secret files).
fn example(name: &str, replace: &[(&str, &str)]) -> (String, Vec<u8>) {
    let dir = workspace().join("examples").join(name);
    let mut text = runnable(&std::fs::read_to_string(dir.join("router.toml")).expect("config"));
    for (from, to) in replace {
        assert!(text.contains(from), "{name}: `{from}` not in the config");
        text = text.replace(from, to);
    }
    (text, std::fs::read(dir.join("sample.json")).expect("sample"))
}

#[tokio::test]
async fn findface_example() {
    let desk = MockSink::start().await;
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let (config, sample) = example(
        "findface",
        &[
            ("http://127.0.0.1:9000/alerts", &desk.url()),
            (
                "signing_secret_env = \"SECURITY_DESK_WHSEC\"",
                "signing_secret_file = \"{dir}/desk.whsec\"",
            ),
        ],
    );
    let router = TestRouter::start_with(&config, &[("desk.whsec", secret)]).await;
    assert_eq!(post_json(router.addr, "/ingest/findface", sample).await.status, 200);
    let delivered = desk.wait_for(1).await;
    router_tests::verify_standard_webhook(secret, &delivered[0]).expect("signed");
    let envelope: serde_json::Value = serde_json::from_slice(&delivered[0].body).expect("json");
    assert_eq!(envelope["type"], "router.event.v1.recognition.face_matched");
    let hit = &envelope["data"];
    assert_eq!(hit["action"], "face_matched");
    assert!(!hit.to_string().contains("password"), "RTSP credentials never leave");
    assert_eq!(router.jsonl("findface.jsonl").len(), 1);
    router.stop().await;
}

#[tokio::test]
async fn omni_example() {
    // The example's feed host does not exist here: point it at a closed local port instead.
    let port = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let feed = format!("ws://127.0.0.1:{port}/event-service/ws?endpoint_id=x");
    let (config, sample) = example(
        "omni",
        &[("ws://omni.example.test/event-service/ws?endpoint_id=replace-me", &feed)],
    );
    let router = TestRouter::start(&config).await;
    assert_eq!(post_json(router.addr, "/ingest/omni", sample).await.status, 200);
    assert_eq!(router.jsonl("omni.jsonl")[0]["action"], "face_matched");
    router.stop().await;
}

#[tokio::test]
async fn sensenebula_example() {
    let alarms = MockSink::start().await;
    let roster = workspace().join("examples/sensenebula/roster.csv");
    let roster_line = format!(
        "roster = {{ path = {:?}, key = \"person_id\" }}",
        roster.display().to_string()
    );
    let (config, sample) = example(
        "sensenebula",
        &[
            ("http://127.0.0.1:9000/alarms", &alarms.url()),
            ("roster = { path = \"roster.csv\", key = \"person_id\" }", &roster_line),
        ],
    );
    let router = TestRouter::start(&config).await;
    // Wang Wu (staff and security: always one rule open) is let in; the recognition push's
    // acknowledgement carries the roster plugin's ruling.
    let answer = post_json(router.addr, "/ingest/sensenebula", sample).await.json();
    assert_eq!(
        (answer["code"].clone(), answer["msg"].clone()),
        (serde_json::json!(200), serde_json::json!("success"))
    );
    assert_eq!(answer["data"]["pass"], true, "{answer}");
    let tip = answer["data"]["customtips"].as_str().expect("tip").to_string();
    assert!(tip == "Welcome Wang Wu" || tip == "Hello Wang Wu", "{tip}");
    // A stranger at the remote-auth address: denied by the roster plugin, in the vendor shape.
    let auth = std::fs::read_to_string(router_tests::samples_dir().join("nebulapass-v13-remote-auth-request.json"))
        .expect("sample")
        .replace("4bf5d479-f64e-4e35-907b-23a162b5d80f", "someone-else");
    let decision = post_json(router.addr, "/ingest/sensenebula/auth", auth).await.json();
    assert_eq!(decision["data"]["pass"], false);
    assert_eq!(decision["data"]["customtips"], "Not registered");
    assert_eq!(decision["data"]["verify_code"], 3);
    // The terminal is answered before the commit; stopping waits for the deliveries.
    let dir = router.stop().await;
    let events = router_tests::read_jsonl(&dir.path().join("data/access.jsonl"));
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["access"]["decided_by"], "door-policy");
    assert_eq!(events[1]["access"]["reason"], "not-listed");
}

#[tokio::test]
async fn noahface_example() {
    let payroll = MockSink::start().await;
    let (config, sample) = example(
        "noahface",
        &[
            ("http://127.0.0.1:9000/timesheets", &payroll.url()),
            (
                "password_env = \"NOAHFACE_PASSWORD\"",
                "password_file = \"{dir}/password\"",
            ),
        ],
    );
    let router = TestRouter::start_with(&config, &[("password", "s3cret")]).await;
    // noahface:s3cret
    let answer = send(
        router.addr,
        "POST",
        "/ingest/noahface",
        &[("authorization", "Basic bm9haGZhY2U6czNjcmV0")],
        sample,
    )
    .await
    .expect("send");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.headers["x-noahface-message"], "Thanks Samara");
    let clock_in: serde_json::Value = serde_json::from_slice(&payroll.wait_for(1).await[0].body).expect("json");
    assert_eq!(clock_in["action"], "clock_in");
    router.stop().await;
}

#[tokio::test]
async fn preservica_example() {
    use hmac::Mac;
    let (config, sample) = example(
        "preservica",
        &[(
            "hmac = { env = \"PRESERVICA_SECRET\" }",
            "hmac = { file = \"{dir}/secret\" }",
        )],
    );
    let router = TestRouter::start_with(&config, &[("secret", "my_shared_secret")]).await;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"my_shared_secret").expect("key");
    mac.update(b"preservica-webhook-auth");
    mac.update(&sample);
    let signature: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    let answer = send(
        router.addr,
        "POST",
        "/ingest/preservica",
        &[("preservica-signature", signature.as_str())],
        sample,
    )
    .await
    .expect("send");
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    assert_eq!(router.jsonl("preservica.jsonl").len(), 2);
    router.stop().await;
}
