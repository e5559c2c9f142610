//! The delivery guarantee, tested the hard way: the real `switchyard` binary under load is
//! killed with SIGKILL while its webhook receiver lags behind (and sometimes fails), then
//! restarted on the same data dir. Every event the router acknowledged with a 2xx must reach
//! the receiver, and an event that arrives twice must carry the same `webhook-id` both times.
//! The file sink beside it must hold every acknowledged event in whole lines (a tail torn by
//! the kill is cut back when the router starts again).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use router_tests::process::{free_port, spawn_router, try_http};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// (webhook-id, vendor_event_id) of every request the receiver accepted.
type Log = Arc<Mutex<Vec<(String, String)>>>;

/// A slow webhook receiver (2 ms per request) that answers 503 to every 7th request, so a
/// backlog builds up and retries are in flight when the router dies.
async fn receiver() -> (u16, Log) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let log: Log = Arc::default();
    let seen = Arc::new(AtomicUsize::new(0));
    let l = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (log, seen) = (l.clone(), seen.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<Incoming>| {
                    let (log, seen) = (log.clone(), seen.clone());
                    async move {
                        let id = req
                            .headers()
                            .get("webhook-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string();
                        #[expect(clippy::disallowed_methods, reason = "the test receiver reads whole bodies")]
                        let body = req
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        tokio::time::sleep(Duration::from_millis(2)).await;
                        let status = if seen.fetch_add(1, Ordering::SeqCst) % 7 == 6 {
                            503
                        } else {
                            let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                            let vendor_id = event["vendor_event_id"].as_str().unwrap_or("").to_string();
                            log.lock().expect("lock").push((id, vendor_id));
                            200
                        };
                        let mut response = hyper::Response::new(Full::new(Bytes::from_static(b"{}")));
                        *response.status_mut() = hyper::StatusCode::from_u16(status).expect("status");
                        Ok::<_, std::convert::Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (port, log)
}

fn write_config(dir: &Path, port: u16, receiver: u16) {
    router_tests::process::write_config(
        dir,
        port,
        "dedup_window_secs = 0",
        &format!(
            r#"[sinks.hook]
type = "webhook"
url = "http://127.0.0.1:{receiver}/hook"
concurrency = 1
backoff_ms = 10
max_backoff_ms = 100

[sinks.events]
type = "file"
path = "events.jsonl"

[[routes]]
sinks = ["hook", "events"]"#
        ),
    );
}

fn outbox_depth(port: u16) -> u64 {
    router_tests::process::metric(port, "switchyard_outbox_depth{sink=\"hook\"} ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().expect("tmp");
    let (receiver_port, log) = receiver().await;
    let port = free_port();
    write_config(dir.path(), port, receiver_port);
    let config = dir.path().join("router.toml");
    let mut router = tokio::task::spawn_blocking({
        let config = config.clone();
        move || spawn_router(&config)
    })
    .await
    .expect("spawn");

    // Four senders post numbered events as fast as the router answers.
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let senders: Vec<_> = (0..4)
        .map(|worker| {
            let (stop, acked) = (stop.clone(), acked.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    let id = format!("w{worker}-{n:05}");
                    if let Ok((200, _)) = try_http(port, "POST", "/in", &format!(r#"{{"id": "{id}"}}"#)) {
                        acked.lock().expect("lock").insert(id);
                    }
                    n += 1;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let backlog = outbox_depth(port);
    router.kill().expect("SIGKILL the router");
    router.wait().expect("reap");
    stop.store(true, Ordering::SeqCst);
    for s in senders {
        s.join().expect("sender");
    }
    let acked = acked.lock().expect("lock").clone();
    eprintln!("killed with {} acked, backlog {backlog}", acked.len());
    assert!(acked.len() > 50, "the load reached the router: {} acked", acked.len());
    assert!(backlog > 0, "the kill hit while deliveries were pending");

    // Restart on the same data dir (a new port: the old one may linger in TIME_WAIT).
    let port = free_port();
    write_config(dir.path(), port, receiver_port);
    let mut router = tokio::task::spawn_blocking(move || spawn_router(&config))
        .await
        .expect("respawn");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let missing = loop {
        let delivered: BTreeSet<String> = log.lock().expect("lock").iter().map(|(_, v)| v.clone()).collect();
        let missing: Vec<&String> = acked.iter().filter(|id| !delivered.contains(*id)).collect();
        if let Ok(Some(exit)) = router.try_wait() {
            panic!(
                "the restarted router exited ({exit:?}) with {} events missing",
                missing.len()
            );
        }
        if missing.is_empty() || tokio::time::Instant::now() > deadline {
            break missing.into_iter().cloned().collect::<Vec<_>>();
        }
        if std::env::var_os("DURABILITY_TRACE").is_some() {
            let delivered = log.lock().expect("lock").len();
            eprintln!(
                "missing {} delivered {delivered} depth {}",
                missing.len(),
                outbox_depth(port)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    router.kill().expect("stop the router");
    router.wait().expect("reap");
    let file = std::fs::read_to_string(dir.path().join("data/events.jsonl")).expect("file sink");
    let in_file: BTreeSet<String> = file
        .lines()
        .map(|line| {
            let event: serde_json::Value = serde_json::from_str(line).expect("every line is whole JSON");
            event["vendor_event_id"].as_str().unwrap_or("").to_string()
        })
        .collect();
    let not_in_file: Vec<&String> = acked.difference(&in_file).collect();
    assert!(
        not_in_file.is_empty(),
        "acknowledged but not in the file sink: {not_in_file:?}"
    );
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged events never arrived, e.g. {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(5)]
    );
    let mut ids_per_event: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let log = log.lock().expect("lock").clone();
    for (webhook_id, vendor_id) in &log {
        assert!(!webhook_id.is_empty(), "every delivery has a webhook-id");
        ids_per_event
            .entry(vendor_id.clone())
            .or_default()
            .insert(webhook_id.clone());
    }
    let inconsistent: Vec<_> = ids_per_event.iter().filter(|(_, ids)| ids.len() > 1).collect();
    assert!(
        inconsistent.is_empty(),
        "an event was delivered under different webhook-ids: {inconsistent:?}"
    );
    let deliveries = log.len();
    eprintln!(
        "acked {}, backlog at kill {backlog}, deliveries {deliveries} (repeats {})",
        acked.len(),
        deliveries - ids_per_event.len()
    );
}
