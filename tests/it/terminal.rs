//! `switchyard terminal subscribe` against a (mock) SenseNebula Pass device API.

use router_tests::MockSink;

#[tokio::test]
async fn subscribe_sets_the_push_destination() {
    let device = MockSink::start().await;
    let answer = switchyard::cli::terminal_subscribe(
        &format!("http://{}/", device.addr),
        "http://10.0.0.2:8080/ingest/sensenebula",
        Some("Bearer t0k"),
        true,
    )
    .await
    .expect("subscribe");
    assert_eq!(answer, serde_json::json!({}));
    let got = device.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/v1/event/subscribe");
    assert_eq!(got[0].headers["authorization"], "Bearer t0k");
    let body: serde_json::Value = serde_json::from_slice(&got[0].body).expect("json");
    assert_eq!(
        body,
        serde_json::json!({"event_dest": "http://10.0.0.2:8080/ingest/sensenebula", "enabled": true})
    );
}

#[tokio::test]
async fn refusals_and_bad_arguments_are_errors() {
    let device = MockSink::failing(1, 403).await;
    let err = switchyard::cli::terminal_subscribe(&format!("http://{}", device.addr), "http://10.0.0.2/x", None, true)
        .await
        .expect_err("403");
    assert!(err.to_string().contains("HTTP 403"), "{err}");
    let err = switchyard::cli::terminal_subscribe("http://127.0.0.1:9", "not a url", None, true)
        .await
        .expect_err("bad dest");
    assert!(err.to_string().contains("--dest"), "{err}");
    let err = switchyard::cli::terminal_subscribe("https://10.0.0.31", "http://a/b", None, true)
        .await
        .expect_err("https");
    assert!(err.to_string().contains("https devices are not supported yet"), "{err}");
}
