//! Webhook delivery through the outbox: retries until the receiver recovers, a receiver that is
//! down and comes back, permanent 4xx into the dead letters and out again with `dlq replay`,
//! per-key ordering, CloudEvents and Standard Webhooks signatures, queue metrics.

use router_tests::{Config, MockSink, TestRouter, get, post_json};
use std::time::Duration;
use switchyard::cli::{DlqFilter, Progress, dlq_list, dlq_replay};

/// JSON on `/in` to webhook sink `hook` at `url`, with quick retries and `lines` added to the
/// sink.
fn config(url: &str, attempts: u32, lines: &[&str]) -> String {
    let attempts = format!("max_attempts = {attempts}");
    let lines: Vec<&str> = std::iter::once(attempts.as_str())
        .chain(lines.iter().copied())
        .collect();
    Config::new()
        .json_source("in", "/in")
        .webhook("hook", url, &lines)
        .route(&["hook"])
        .to_string()
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).expect("json body")
}

/// A port nothing listens on (bound, then released).
async fn closed_port() -> std::net::SocketAddr {
    tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("addr")
}

#[tokio::test]
async fn retries_until_the_receiver_recovers_with_one_webhook_id() {
    let mock = MockSink::failing(2, 503).await;
    let router = TestRouter::start(&config(&mock.url(), 4, &[])).await;
    assert_eq!(post_json(router.addr, "/in", r#"{"id": "e1"}"#).await.status, 200);
    let got = mock.wait_for(1).await;
    let every = mock.every();
    assert_eq!(
        every.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        [503, 503, 200],
        "two failures, then success"
    );
    let ids: Vec<_> = every.iter().map(|(_, r)| r.headers["webhook-id"].clone()).collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "every attempt carries the same webhook-id: {ids:?}"
    );
    assert_eq!(json(&got[0].body)["vendor_event_id"], "e1");
    router.stop().await;
}

#[tokio::test]
async fn a_receiver_down_for_a_while_gets_everything_when_it_is_back() {
    let addr = closed_port().await;
    let router = TestRouter::start(&config(&format!("http://{addr}/hook"), 1000, &[])).await;
    for n in 0..10 {
        let body = format!(r#"{{"id": "down-{n}"}}"#);
        assert_eq!(
            post_json(router.addr, "/in", body).await.status,
            200,
            "acked while the sink is down"
        );
    }
    // Let several attempts fail, and check the queue is visible meanwhile.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let metrics = get(router.addr, "/metrics").await.expect("metrics").text();
    assert!(
        metrics.contains("switchyard_outbox_depth{sink=\"hook\"} 10"),
        "{metrics}"
    );
    let failed = router_tests::metric_value(
        &metrics,
        "switchyard_delivery_attempts_total{sink=\"hook\",outcome=\"failed\"}",
    );
    assert!(failed >= 10, "{metrics}");

    let mock = MockSink::start_on(addr).await;
    let got = mock.wait_for(10).await;
    let mut ids: Vec<String> = got
        .iter()
        .map(|r| json(&r.body)["vendor_event_id"].as_str().unwrap_or("").to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10, "{ids:?}");
    router.stop().await;
}

#[tokio::test]
async fn permanent_failures_are_dead_lettered_then_replayed_after_the_fix() {
    let mock = MockSink::failing(usize::MAX, 422).await;
    let router = TestRouter::start(&config(&mock.url(), 5, &[])).await;
    assert_eq!(post_json(router.addr, "/in", r#"{"id": "e2"}"#).await.status, 200);
    let filter = DlqFilter {
        sink: Some("hook".into()),
        since: None,
    };
    let mut dead = Vec::new();
    for _ in 0..200 {
        dead = dlq_list(&router.config_path(), &filter).await.expect("dlq list");
        if !dead.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(mock.attempts(), 1, "a 422 is not retried");
    assert_eq!((dead.len(), dead[0].sink.as_str(), dead[0].attempts), (1, "hook", 1));
    assert!(dead[0].last_error.contains("HTTP 422"), "{:?}", dead[0]);
    assert_eq!(json(&dead[0].payload)["vendor_event_id"], "e2");
    let metrics = get(router.addr, "/metrics").await.expect("metrics").text();
    assert!(
        metrics.contains("switchyard_dead_letters{sink=\"hook\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("switchyard_dead_lettered_total{sink=\"hook\"} 1"),
        "{metrics}"
    );

    // The receiver is fixed; the operator replays the dead letters into the running router.
    mock.heal();
    let progress = Progress::buffer();
    let summary = dlq_replay(&router.config_path(), &filter, Some(Duration::from_secs(20)), &progress)
        .await
        .expect("dlq replay");
    assert_eq!(
        (summary.matched, summary.requeued, summary.delivered, summary.waiting),
        (1, 1, 1, 0),
        "{}",
        progress.captured()
    );
    let got = mock.wait_for(1).await;
    assert_eq!(json(&got[0].body)["vendor_event_id"], "e2");
    assert_eq!(
        got[0].headers["webhook-id"].to_str().ok(),
        Some(dead[0].webhook_id.as_str()),
        "a replay keeps the webhook-id"
    );
    assert!(dlq_list(&router.config_path(), &filter).await.expect("list").is_empty());
    router.stop().await;
}

#[tokio::test]
async fn an_unreachable_receiver_exhausts_retries_into_the_dead_letters() {
    let addr = closed_port().await;
    let router = TestRouter::start(&config(&format!("http://{addr}/hook"), 2, &[])).await;
    assert_eq!(post_json(router.addr, "/in", r#"{"id": "e3"}"#).await.status, 200);
    let config_path = router.config_path();
    let _files = router.stop().await;
    let dead = dlq_list(&config_path, &DlqFilter::default()).await.expect("dlq");
    assert_eq!((dead.len(), dead[0].attempts), (1, 2));
    assert!(dead[0].last_error.contains("connection failed"), "{:?}", dead[0]);
}

/// Same device: one at a time, in commit order, even though the first attempt fails and the
/// sink runs 8 deliveries at once.
#[tokio::test]
async fn an_ordering_key_keeps_each_devices_events_in_order() {
    let mock = MockSink::failing(3, 503).await;
    let text = config(
        &mock.url(),
        50,
        &["concurrency = 8", "ordering_key = \"/source/device_id\""],
    );
    let router = TestRouter::start(&text).await;
    let batch: Vec<String> = (0..12)
        .map(|n| {
            format!(
                r#"{{"id": "o-{n:02}", "device": "{}"}}"#,
                if n % 2 == 0 { "door-a" } else { "door-b" }
            )
        })
        .collect();
    assert_eq!(
        post_json(router.addr, "/in", format!("[{}]", batch.join(",")))
            .await
            .status,
        200
    );
    let got = mock.wait_for(12).await;
    for device in ["door-a", "door-b"] {
        let order: Vec<String> = got
            .iter()
            .map(|r| json(&r.body))
            .filter(|e| e["source"]["device_id"] == device)
            .map(|e| e["vendor_event_id"].as_str().unwrap_or("").to_string())
            .collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted, "{device} delivered out of order");
        assert_eq!(order.len(), 6);
    }
    router.stop().await;
}

/// CloudEvents structured mode with a Standard Webhooks signature the receiver can verify.
#[tokio::test]
async fn cloudevents_signed_per_standard_webhooks() {
    let mock = MockSink::start().await;
    // 24 random bytes, base64: what `openssl rand -base64 24` gives an operator.
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let text = config(
        &mock.url(),
        3,
        &[
            "format = \"cloudevents\"",
            "signing_secret_file = \"{dir}/hook.secret\"",
        ],
    );
    let router = TestRouter::start_with(&text, &[("hook.secret", format!("{secret}\n").as_str())]).await;
    let body = r#"{"id": "ce-1", "device": "gate-7"}"#;
    assert_eq!(post_json(router.addr, "/in", body).await.status, 200);
    let got = mock.wait_for(1).await;
    let r = &got[0];
    let header = |n: &str| r.headers[n].to_str().expect("ascii").to_string();
    assert_eq!(header("content-type"), "application/cloudevents+json");
    let envelope = json(&r.body);
    assert_eq!(envelope["specversion"], "1.0");
    assert_eq!(envelope["id"].as_str(), Some(header("webhook-id").as_str()));
    assert_eq!(envelope["type"], "router.event.v1.unknown.unknown");
    assert_eq!(envelope["subject"], "gate-7");
    assert_eq!(envelope["data"]["vendor_event_id"], "ce-1");

    router_tests::verify_standard_webhook(secret, r).expect("a receiver can verify it");
    let age = switchyard::clock::now_ms() / 1000 - header("webhook-timestamp").parse::<i64>().expect("ts");
    assert!((0..60).contains(&age), "timestamp is now-ish: {age}");
    router.stop().await;
}

#[tokio::test]
async fn cloudevents_binary_mode_puts_attributes_in_headers() {
    let mock = MockSink::start().await;
    let text = config(&mock.url(), 3, &["format = \"cloudevents-binary\""]);
    let router = TestRouter::start(&text).await;
    assert_eq!(post_json(router.addr, "/in", r#"{"id": "ce-2"}"#).await.status, 200);
    let got = mock.wait_for(1).await;
    let h = &got[0].headers;
    assert_eq!(h["ce-specversion"], "1.0");
    assert_eq!(h["ce-id"], h["webhook-id"]);
    assert_eq!(h["ce-source"], "/switchyard/acme");
    assert_eq!(h["content-type"], "application/json");
    assert_eq!(json(&got[0].body)["vendor_event_id"], "ce-2");
    assert!(h.get("webhook-signature").is_none(), "unsigned without a secret");
    router.stop().await;
}

/// A configured but missing signing secret never sends unsigned: events wait (retrying) and
/// are delivered signed once the secret exists and the config is reloaded.
#[tokio::test]
async fn a_missing_signing_secret_holds_events_instead_of_sending_them_unsigned() {
    let mock = MockSink::start().await;
    let text = config(&mock.url(), 1000, &["signing_secret_file = \"{dir}/later.secret\""]);
    let router = TestRouter::start(&text).await;
    assert_eq!(post_json(router.addr, "/in", r#"{"id": "held"}"#).await.status, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(mock.attempts(), 0, "nothing sent unsigned");
    std::fs::write(
        router.config_path().with_file_name("later.secret"),
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    )
    .expect("secret");
    let before = router.status().await;
    router.write_config(&format!("{text}\n# secret added\n"));
    router.wait_reload(&before).await;
    let got = mock.wait_for(1).await;
    assert!(
        got[0].headers["webhook-signature"]
            .to_str()
            .expect("ascii")
            .starts_with("v1,")
    );
    router.stop().await;
}

/// Webhooks to https receivers: a private CA (here the receiver's self-signed certificate) is
/// trusted through `ca_file`; without it the certificate is refused and the event is
/// dead-lettered, not sent in the clear.
#[tokio::test]
async fn https_webhooks_verify_the_receiver() {
    let (addr, seen) = router_tests::https_receiver(b"{}").await;
    let url = format!("https://127.0.0.1:{}/hook", addr.port());
    let ca = router_tests::workspace().join("tests/fixtures/tls/device.crt");
    let ca_file = format!("ca_file = \"{}\"", ca.display());
    let trusted = config(&url, 2, &[&ca_file]);
    let router = TestRouter::start(&trusted).await;
    assert_eq!(post_json(router.addr, "/in", r#"{"id": "tls-1"}"#).await.status, 200);
    router.stop().await;
    let got = seen.lock().expect("lock").clone();
    assert_eq!(
        (got.len(), got[0]["vendor_event_id"].as_str(), got[0]["_path"].as_str()),
        (1, Some("tls-1"), Some("/hook"))
    );

    let router = TestRouter::start(&config(&url, 2, &[])).await;
    assert_eq!(post_json(router.addr, "/in", r#"{"id": "tls-2"}"#).await.status, 200);
    let config_path = router.config_path();
    let _files = router.stop().await;
    let dead = dlq_list(&config_path, &DlqFilter::default()).await.expect("dlq");
    assert_eq!(dead.len(), 1);
    assert!(dead[0].last_error.contains("connection failed"), "{:?}", dead[0]);
    assert_eq!(
        seen.lock().expect("lock").len(),
        1,
        "nothing reached the untrusted receiver"
    );
}

/// Two routers on one data dir would both deliver every event: the second refuses to start,
/// naming the holder.
#[tokio::test]
async fn a_second_router_on_the_same_data_dir_refuses_to_start() {
    let mock = MockSink::start().await;
    let router = TestRouter::start(&config(&mock.url(), 3, &[])).await;
    let spec = switchyard::config::load(&router.config_path()).expect("config");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let error = switchyard::run(spec, listener, switchyard::Shutdown::new())
        .await
        .expect_err("a second router on the same data dir");
    let message = format!("{error:#}");
    assert!(
        message.contains("another switchyard") && message.contains(&format!("pid {}", std::process::id())),
        "{message}"
    );
    router.stop().await;
}
