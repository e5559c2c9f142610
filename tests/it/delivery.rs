//! Webhook delivery: retries on 5xx until the receiver recovers; permanent 4xx goes to the
//! dead-letter file with the last error.

use router_tests::{MockSink, TestRouter, post_json, read_jsonl};

fn config(url: &str, attempts: u32) -> String {
    format!(
        r#"
version = 1
[plugins.normalize-json]
path = "{{plugins}}/normalize-json.wasm"
kind = "normalizer"
settings = {{ vendor = "acme", fields = {{ vendor_event_id = "id" }} }}

[[sources]]
id = "in"
path = "/in"
normalizer = "normalize-json"

[sinks.hook]
type = "webhook"
url = "{url}"
max_attempts = {attempts}
backoff_ms = 20

[[routes]]
sinks = ["hook"]
"#
    )
}

#[tokio::test]
async fn retries_until_the_receiver_recovers() {
    let mock = MockSink::failing(2, 503).await;
    let router = TestRouter::start(&config(&mock.url(), 4)).await;
    assert_eq!(post_json(router.addr, "/in", r#"{"id": "e1"}"#).await.status, 200);
    let got = mock.wait_for(1).await;
    assert_eq!(mock.attempts(), 3, "two failures, then success");
    let event: serde_json::Value = serde_json::from_slice(&got[0].body).expect("json");
    assert_eq!(event["vendor_event_id"], "e1");
    router.stop().await;
}

#[tokio::test]
async fn permanent_failures_are_dead_lettered_not_lost() {
    let mock = MockSink::failing(usize::MAX, 422).await;
    let router = TestRouter::start(&config(&mock.url(), 5)).await;
    assert_eq!(post_json(router.addr, "/in", r#"{"id": "e2"}"#).await.status, 200);
    let data = router.data();
    let _files = router.stop().await;
    assert_eq!(mock.attempts(), 1, "a 422 is not retried");
    let dead = read_jsonl(&data.join("dead-letter/hook.jsonl"));
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["sink"], "hook");
    assert_eq!(dead[0]["event"]["vendor_event_id"], "e2");
    assert!(
        dead[0]["last_error"].as_str().unwrap_or("").contains("HTTP 422"),
        "{}",
        dead[0]
    );
}

#[tokio::test]
async fn an_unreachable_receiver_exhausts_retries_into_the_dead_letter_file() {
    // Bind and drop a listener: its port refuses connections.
    let port = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let router = TestRouter::start(&config(&format!("http://127.0.0.1:{port}/hook"), 2)).await;
    assert_eq!(post_json(router.addr, "/in", r#"{"id": "e3"}"#).await.status, 200);
    let data = router.data();
    let _files = router.stop().await;
    let dead = read_jsonl(&data.join("dead-letter/hook.jsonl"));
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["attempts"], 2);
    assert!(
        dead[0]["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("connection failed"),
        "{}",
        dead[0]
    );
}

/// Webhooks to https receivers: a private CA (here the receiver's self-signed certificate) is
/// trusted through `ca_file`; without it the certificate is refused and the event is
/// dead-lettered, not sent in the clear.
#[tokio::test]
async fn https_webhooks_verify_the_receiver() {
    let (addr, seen) = router_tests::https_receiver(b"{}").await;
    let url = format!("https://127.0.0.1:{}/hook", addr.port());
    let ca = router_tests::workspace().join("tests/fixtures/tls/device.crt");
    let trusted = config(&url, 2).replace(
        "backoff_ms = 20",
        &format!("backoff_ms = 20\nca_file = \"{}\"", ca.display()),
    );
    let router = TestRouter::start(&trusted).await;
    assert_eq!(post_json(router.addr, "/in", r#"{"id": "tls-1"}"#).await.status, 200);
    router.stop().await;
    let got = seen.lock().expect("lock").clone();
    assert_eq!(
        (got.len(), got[0]["vendor_event_id"].as_str(), got[0]["_path"].as_str()),
        (1, Some("tls-1"), Some("/hook"))
    );

    let router = TestRouter::start(&config(&url, 2)).await;
    assert_eq!(post_json(router.addr, "/in", r#"{"id": "tls-2"}"#).await.status, 200);
    let data = router.data();
    let _files = router.stop().await;
    let dead = read_jsonl(&data.join("dead-letter/hook.jsonl"));
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0]["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("connection failed"),
        "{}",
        dead[0]
    );
    assert_eq!(
        seen.lock().expect("lock").len(),
        1,
        "nothing reached the untrusted receiver"
    );
}
