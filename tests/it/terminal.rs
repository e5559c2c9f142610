//! `switchyard terminal subscribe` against (mock) SenseNebula Pass device APIs, over HTTP and
//! over HTTPS with a self-signed certificate, as terminals ship.

use router_tests::{MockSink, workspace};
use switchyard::cli::{TlsOptions, terminal_subscribe};

#[tokio::test]
async fn subscribe_sets_the_push_destination() {
    let device = MockSink::start().await;
    let answer = terminal_subscribe(
        &format!("http://{}/", device.addr),
        "http://10.0.0.2:8080/ingest/sensenebula",
        Some("Bearer t0k"),
        true,
        &TlsOptions::default(),
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
    let tls = TlsOptions::default();
    let err = terminal_subscribe(
        &format!("http://{}", device.addr),
        "http://10.0.0.2/x",
        None,
        true,
        &tls,
    )
    .await
    .expect_err("403");
    assert!(err.to_string().contains("HTTP 403"), "{err}");
    let err = terminal_subscribe("http://127.0.0.1:9", "not a url", None, true, &tls)
        .await
        .expect_err("bad dest");
    assert!(err.to_string().contains("--dest"), "{err}");
    let err = terminal_subscribe("ftp://10.0.0.31", "http://a/b", None, true, &tls)
        .await
        .expect_err("scheme");
    assert!(err.to_string().contains("https:// or http://"), "{err}");
}

#[tokio::test]
async fn https_terminals_with_self_signed_certificates() {
    let (addr, seen) = router_tests::https_receiver(br#"{"code":200,"msg":"success"}"#).await;
    let device = format!("https://127.0.0.1:{}", addr.port());
    let dest = "http://10.0.0.2:8080/ingest/sensenebula";
    // Not trusted by default, and the error says what to do.
    let err = terminal_subscribe(&device, dest, None, true, &TlsOptions::default())
        .await
        .expect_err("untrusted");
    assert!(format!("{err:#}").contains("--ca"), "{err:#}");
    // Trusting the device's own certificate verifies it properly.
    let ca = TlsOptions {
        ca: Some(workspace().join("tests/fixtures/tls/device.crt")),
        insecure: false,
    };
    let answer = terminal_subscribe(&device, dest, None, true, &ca)
        .await
        .expect("subscribe with --ca");
    assert_eq!(answer["code"], 200);
    // --insecure: encrypted, not authenticated.
    let insecure = TlsOptions {
        ca: None,
        insecure: true,
    };
    terminal_subscribe(&device, dest, None, false, &insecure)
        .await
        .expect("subscribe with --insecure");
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (
            seen[0]["_path"].as_str(),
            seen[0]["event_dest"].as_str(),
            seen[1]["enabled"].as_bool()
        ),
        (Some("/v1/event/subscribe"), Some(dest), Some(false))
    );
}
