//! NATS as a sink and as a source, against a real nats-server: events published to subjects
//! built from their fields (core and JetStream) before the sender's answer; messages from a
//! stream (durable consumer, acknowledged once stored or quarantined) and from a core subject
//! fed through the pipeline.

use router_tests::nats::Nats;
use router_tests::process::{free_port, spawn_router, try_http};
use std::collections::BTreeSet;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_sinks_publish_each_event_to_its_subject_before_the_answer() {
    use futures_util::StreamExt;
    let mut nats = tokio::task::spawn_blocking(Nats::start).await.expect("nats");
    // The integrator's side: a subscriber, and a stream for the JetStream sink.
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let mut live = client.subscribe("faces.>").await.expect("subscribe");
    let js = async_nats::jetstream::new(client.clone());
    js.create_stream(async_nats::jetstream::stream::Config {
        name: "STORED".into(),
        subjects: vec!["stored.>".into()],
        ..Default::default()
    })
    .await
    .expect("stream");
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    router_tests::process::write_config(
        dir.path(),
        port,
        "dedup_window_secs = 0",
        &format!(
            r#"[sinks.live]
type = "nats"
url = "{url}"
subject = "faces.{{vendor}}.{{/vendor_event_id}}"

[sinks.stored]
type = "nats"
url = "{url}"
subject = "stored.{{vendor}}"
jetstream = true
timeout_ms = 1000

[[routes]]
sinks = ["live", "stored"]"#,
            url = nats.url()
        ),
    );
    let config = dir.path().join("router.toml");
    let mut router = tokio::task::spawn_blocking(move || spawn_router(&config))
        .await
        .expect("spawn");
    let body = r#"{"id": "cam.7"}"#;
    let (status, answer) = try_http(port, "POST", "/in", body).expect("post");
    assert_eq!(status, 200, "{answer}");
    let message = tokio::time::timeout(Duration::from_secs(5), live.next())
        .await
        .expect("a live message")
        .expect("message");
    // Field values are single tokens: the dot in the id is replaced.
    assert_eq!(message.subject.as_str(), "faces.acme.cam_7");
    let event: serde_json::Value = serde_json::from_slice(&message.payload).expect("event JSON");
    assert_eq!(event["vendor_event_id"], "cam.7");
    let webhook_id = message
        .headers
        .as_ref()
        .and_then(|h| h.get("Switchyard-Webhook-Id"))
        .map(|v| v.as_str().to_string())
        .expect("webhook-id header");
    assert!(webhook_id.starts_with("msg_"), "{webhook_id}");
    // The same event again (the router's own dedup is off): the stream's duplicate window
    // keeps one copy, by its webhook-id.
    let (status, _) = try_http(port, "POST", "/in", body).expect("post");
    assert_eq!(status, 200);
    let mut stream = js.get_stream("STORED").await.expect("stream");
    assert_eq!(stream.info().await.expect("info").state.messages, 1);
    // NATS gone: the request fails with 503 and is kept, not answered 200 and lost.
    nats.kill();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, answer) = try_http(port, "POST", "/in", r#"{"id": "lost?"}"#).expect("post");
    assert_eq!(status, 503, "{answer}");
    assert!(answer.contains("quarantined"), "{answer}");
    router.kill().expect("kill");
    router.wait().expect("reap");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_sources_feed_the_pipeline_from_a_stream_and_from_a_subject() {
    let nats = tokio::task::spawn_blocking(Nats::start).await.expect("nats");
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let js = async_nats::jetstream::new(client.clone());
    js.create_stream(async_nats::jetstream::stream::Config {
        name: "ACME".into(),
        subjects: vec!["acme.>".into()],
        ..Default::default()
    })
    .await
    .expect("stream");
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let plugin = router_tests::process::plugin_path("normalize-json");
    std::fs::write(
        dir.path().join("router.toml"),
        format!(
            r#"version = 1
[server]
listen = "127.0.0.1:{port}"
dedup_window_secs = 0

[plugins.n]
path = "{plugin}"
kind = "normalizer"
settings = {{ vendor = "acme", fields = {{ vendor_event_id = "id" }} }}

[[sources]]
id = "stored"
nats = {{ url = "{url}", subject = "acme.events.>", stream = "ACME" }}
normalizer = "n"

[[sources]]
id = "live"
nats = {{ url = "{url}", subject = "live.>" }}
normalizer = "n"

[sinks.events]
type = "file"
path = "events.jsonl"

[[routes]]
sinks = ["events"]

[admin]
listen = "127.0.0.1:0"
"#,
            plugin = plugin.display(),
            url = nats.url()
        ),
    )
    .expect("config");
    // Published before the router runs: the durable consumer reads what the stream holds.
    for i in 0..10 {
        js.publish(format!("acme.events.door{i}"), format!(r#"{{"id": "s{i}"}}"#).into())
            .await
            .expect("publish")
            .await
            .expect("stored");
    }
    js.publish("acme.events.door0", "not json".into())
        .await
        .expect("publish")
        .await
        .expect("stored");
    let config = dir.path().join("router.toml");
    let mut router = tokio::task::spawn_blocking(move || spawn_router(&config))
        .await
        .expect("spawn");
    // The core subscription is up once the router logs it; give it a moment.
    tokio::time::sleep(Duration::from_millis(500)).await;
    client
        .publish("live.cam", r#"{"id": "live-1"}"#.into())
        .await
        .expect("publish");
    client.flush().await.expect("flush");
    let events_path = dir.path().join("data/events.jsonl");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let ids = loop {
        let ids: BTreeSet<String> = std::fs::read_to_string(&events_path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|e| e["vendor_event_id"].as_str().unwrap_or("").to_string())
            .collect();
        if ids.len() >= 11 || tokio::time::Instant::now() > deadline {
            break ids;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let expected: BTreeSet<String> = (0..10).map(|i| format!("s{i}")).chain(["live-1".to_string()]).collect();
    assert_eq!(ids, expected);
    // Every stream message was acknowledged — the unreadable one after it was quarantined.
    let stream = js.get_stream("ACME").await.expect("stream");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let info = stream.consumer_info("source-stored").await.expect("consumer");
        if info.num_pending == 0 && info.num_ack_pending == 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "unacknowledged: {info:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let quarantined = switchyard::quarantine::Quarantine::new(&dir.path().join("data"))
        .list()
        .expect("quarantine");
    assert_eq!(quarantined.len(), 1, "the unreadable message was kept: {quarantined:?}");
    assert_eq!(quarantined[0].method, "NATS");
    router.kill().expect("kill");
    router.wait().expect("reap");
}
