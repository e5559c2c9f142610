//! Websocket client sources: the router connects to a (mock) OMNI event feed, turns each frame
//! into events, survives the feed dropping (reconnects with backoff) and quarantines frames it
//! cannot process.

use futures_util::SinkExt;
use router_tests::config::Config;
use router_tests::{TestRouter, samples_dir};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

async fn wait_for_lines(router: &TestRouter, n: usize) -> Vec<serde_json::Value> {
    for _ in 0..400 {
        let lines = router.jsonl("events.jsonl");
        if lines.len() >= n {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("expected {n} events, got {}", router.jsonl("events.jsonl").len());
}

#[tokio::test]
async fn omni_feed_is_followed_across_disconnects() {
    let feed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = feed.local_addr().expect("addr");
    let identification = std::fs::read_to_string(samples_dir().join("omni-identification.json")).expect("sample");
    let processes = std::fs::read_to_string(samples_dir().join("omni-agent-processes-synthetic.json")).expect("sample");
    // The mock platform: first connection sends one event and a broken frame, then drops;
    // the second sends agent processes and stays open.
    let (paths_tx, mut paths_rx) = tokio::sync::mpsc::unbounded_channel();
    let server = tokio::spawn(async move {
        for round in 0..2 {
            let (stream, _) = feed.accept().await.expect("accept");
            let mut path = String::new();
            #[expect(
                clippy::result_large_err,
                reason = "the error type is tungstenite's callback signature"
            )]
            let callback = |req: &tokio_tungstenite::tungstenite::handshake::server::Request, resp| {
                path = req.uri().to_string();
                Ok(resp)
            };
            let mut ws = tokio_tungstenite::accept_hdr_async(stream, callback)
                .await
                .expect("handshake");
            let _ = paths_tx.send(path);
            if round == 0 {
                ws.send(Message::text(identification.clone())).await.expect("send");
                ws.send(Message::text("{\"type\": ")).await.expect("send");
                ws.close(None).await.expect("close");
            } else {
                ws.send(Message::text(processes.clone())).await.expect("send");
                // Stay connected until the test ends.
                std::future::pending::<()>().await;
            }
        }
    });
    let config = format!(
        r#"
version = 1
[plugins.normalize-omni]
path = "{{plugins}}/normalize-omni.wasm"
kind = "normalizer"

[[sources]]
id = "omni-feed"
normalizer = "normalize-omni"
websocket = {{ url = "ws://{addr}/event-service/ws?endpoint_id=e-1", reconnect_max_secs = 1 }}

[sinks.events]
type = "file"
path = "events.jsonl"

[[routes]]
sinks = ["events"]
"#
    );
    let router = TestRouter::start(&config).await;
    let events = wait_for_lines(&router, 3).await;
    assert_eq!(events[0]["vendor_event_type"], "identification");
    assert_eq!(events[0]["delivery"]["transport"], "websocket");
    assert_eq!(events[0]["delivery"]["auth"], "url_token");
    assert_eq!(
        (events[1]["action"].as_str(), events[2]["action"].as_str()),
        (Some("track_update"), Some("track_update"))
    );
    let kept = router.quarantined();
    assert_eq!(kept.len(), 1, "the broken frame is kept");
    assert_eq!(
        (kept[0].method.as_str(), kept[0].source_id.as_deref()),
        ("WEBSOCKET", Some("omni-feed"))
    );
    assert_eq!(kept[0].body().expect("body"), b"{\"type\": ");
    router.stop().await;
    server.abort();
    let mut paths = Vec::new();
    while let Ok(p) = paths_rx.try_recv() {
        paths.push(p);
    }
    assert_eq!(paths.len(), 2, "connected, dropped, reconnected: {paths:?}");
    assert!(
        paths.iter().all(|p| p == "/event-service/ws?endpoint_id=e-1"),
        "{paths:?}"
    );
}

/// Below the disk budget the follower stops reading the feed (the frame waits in the socket,
/// the feed does not redeliver) and takes it once storage is back.
#[tokio::test]
async fn a_feed_waits_while_storage_is_below_the_budget() {
    let Some(fs) = router_tests::tmpfs::Tmpfs::mount(16 << 20) else {
        return;
    };
    let feed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = feed.local_addr().expect("addr");
    let identification = std::fs::read_to_string(samples_dir().join("omni-identification.json")).expect("sample");
    let (send_tx, mut send_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let server = tokio::spawn(async move {
        let (stream, _) = feed.accept().await.expect("accept");
        let mut ws = tokio_tungstenite::accept_async(stream).await.expect("handshake");
        while send_rx.recv().await.is_some() {
            ws.send(Message::text(identification.clone())).await.expect("send");
        }
        std::future::pending::<()>().await;
    });
    let config = router_tests::Config::new()
        .server(&format!("data_dir = \"{}\"", fs.path().display()))
        .server("min_free_bytes = 4194304")
        .server("dedup_window_secs = 0")
        .plugin("normalize-omni", "normalize-omni", "normalizer", &[])
        .feed(
            "omni-feed",
            &format!("ws://{addr}/event-service/ws?endpoint_id=e-1"),
            "normalize-omni",
        )
        .file_sink("events", "events.jsonl")
        .route(&["events"])
        .to_string();
    let router = TestRouter::start(&config).await;
    let lines = || router_tests::read_jsonl(&fs.path().join("events.jsonl"));
    send_tx.send(()).expect("send");
    for _ in 0..400 {
        if lines().len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(lines().len(), 1, "the feed is followed");

    let ballast = fs.fill_leaving(2 << 20);
    send_tx.send(()).expect("send");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(lines().len(), 1, "nothing read below the budget");
    assert!(router.quarantined().is_empty(), "and nothing lost to the quarantine");

    std::fs::remove_file(&ballast).expect("free");
    for _ in 0..400 {
        if lines().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(lines().len(), 2, "the waiting frame is taken once storage is back");
    router.stop().await;
    server.abort();
}

/// A message over the source's `max_body_bytes` is never buffered whole: the reader stops at
/// the cap, the connection is dropped and re-made, the quarantine keeps a small cut entry that
/// says what came, and the messages after it are processed.
#[tokio::test]
async fn a_message_over_the_cap_is_not_buffered_or_kept_whole() {
    let feed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = feed.local_addr().expect("addr");
    let identification = std::fs::read_to_string(samples_dir().join("omni-identification.json")).expect("sample");
    let server = tokio::spawn(async move {
        for round in 0..2 {
            let (stream, _) = feed.accept().await.expect("accept");
            let mut ws = tokio_tungstenite::accept_async(stream).await.expect("handshake");
            if round == 0 {
                // 4 MiB against a 64 KiB cap.
                let _ = ws.send(Message::text("x".repeat(4 << 20))).await;
                let _ = ws.close(None).await;
            } else {
                ws.send(Message::text(identification.clone())).await.expect("send");
                std::future::pending::<()>().await;
            }
        }
    });
    let config = Config::new()
        .plugin("normalize-omni", "normalize-omni", "normalizer", &[])
        .feed_with(
            "omni-feed",
            &format!("ws://{addr}/ws"),
            "normalize-omni",
            &["max_body_bytes = 65536"],
        )
        .file_sink("events", "events.jsonl")
        .route(&["events"])
        .to_string();
    let router = TestRouter::start(&config).await;
    let events = wait_for_lines(&router, 1).await;
    assert_eq!(events[0]["vendor_event_type"], "identification");
    let kept = router.quarantined();
    assert_eq!(kept.len(), 1, "the oversize message is noted");
    assert!(kept[0].truncated && kept[0].status == 413, "{:?}", kept[0]);
    assert!(kept[0].reason.contains("65536"), "{}", kept[0].reason);
    assert!(kept[0].body().expect("body").len() <= 64 << 10);
    router.stop().await;
    server.abort();
}
