//! Storage faults for real: a data dir on a small tmpfs that fills up and frees again (file
//! sink and outbox), the disk budget, the outbox file and the whole data dir deleted under
//! load, and a garbage flood against the quarantine caps. The promise under test: every request answered 2xx has its
//! events stored exactly once in the file sink and delivered by the webhook sink; a request
//! answered 503 is stored normally when the vendor retries it.

use router_tests::tmpfs::Tmpfs;
use router_tests::{Config, MockSink, TestRouter, get, post_json, read_jsonl, send};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Concurrent senders, as the guide's stress bar asks.
const SENDERS: usize = 16;

/// A router with JSON sources on `/in` and `/other`, a file sink and, when `hook` is given, a
/// webhook sink; `server` is one more `[server]` line.
fn config(data_dir: &Path, hook: Option<&str>, server: &str) -> String {
    let mut config = Config::new()
        .server(&format!("data_dir = \"{}\"", data_dir.display()))
        .server(server)
        .json_source("in", "/in")
        .json_source("other", "/other")
        .file_sink("events", "events.jsonl");
    config = match hook {
        Some(url) => config.webhook("hook", url, &[]).route(&["events", "hook"]),
        None => config.route(&["events"]),
    };
    config.to_string()
}

/// An event of about `pad` bytes.
fn event(id: &str, pad: usize) -> String {
    serde_json::json!({ "id": id, "action": "face_matched", "note": "x".repeat(pad) }).to_string()
}

/// Each sender posts its share of `ids`; returns the status each id got.
async fn flood(addr: std::net::SocketAddr, ids: Vec<String>, pad: usize) -> BTreeMap<String, u16> {
    let ids = Arc::new(Mutex::new(ids));
    let answers = Arc::new(Mutex::new(BTreeMap::new()));
    let mut tasks = Vec::new();
    for _ in 0..SENDERS {
        let (ids, answers) = (ids.clone(), answers.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let Some(id) = ids.lock().expect("lock").pop() else {
                    return;
                };
                let status = post_json(addr, "/in", event(&id, pad)).await.status;
                answers.lock().expect("lock").insert(id, status);
            }
        }));
    }
    for t in tasks {
        t.await.expect("sender");
    }
    Arc::try_unwrap(answers)
        .expect("senders done")
        .into_inner()
        .expect("lock")
}

/// The ids that got `status`, after asserting every answer was 200 or 503 (storage faults
/// may refuse a request, never fail it otherwise).
fn with_status(answers: &BTreeMap<String, u16>, status: u16) -> BTreeSet<String> {
    assert!(
        answers.values().all(|s| *s == 200 || *s == 503),
        "only 200 or 503: {answers:?}"
    );
    answers
        .iter()
        .filter(|(_, s)| **s == status)
        .map(|(id, _)| id.clone())
        .collect()
}

/// The file sink's lines, each parsed; the file must end on a complete line.
fn file_ids(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "the file ends on a complete line"
    );
    read_jsonl(path)
        .iter()
        .map(|e| e["vendor_event_id"].as_str().expect("id").to_string())
        .collect()
}

/// Waits until the receiver got every id (at least once); returns webhook-ids per event id.
async fn delivered(mock: &MockSink, ids: &BTreeSet<String>) -> BTreeMap<String, BTreeSet<String>> {
    for _ in 0..1200 {
        let mut got: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for r in mock.received() {
            let body: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
            let id = body["vendor_event_id"].as_str().expect("id").to_string();
            let hook = r.headers["webhook-id"].to_str().expect("ascii").to_string();
            got.entry(id).or_default().insert(hook);
        }
        if ids.iter().all(|id| got.contains_key(id)) {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the receiver did not get every acknowledged event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_loses_no_acknowledged_event_and_retries_are_stored() {
    // Outbox and file sink: the outbox commit usually hits the full disk first.
    full_disk(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_leaves_no_torn_line_in_a_file_sink() {
    // The file sink alone: its appends hit ENOSPC, often after part of a write went through.
    full_disk(false).await;
}

/// A tmpfs data dir filled to a few hundred KiB free under 16 senders, then freed; the 503
/// requests are retried like a vendor would.
async fn full_disk(with_hook: bool) {
    let Some(fs) = Tmpfs::mount(24 << 20) else { return };
    let mock = MockSink::start().await;
    let url = mock.url();
    // No disk budget: the writes themselves must hit ENOSPC.
    let hook = with_hook.then_some(url.as_str());
    let router = TestRouter::start(&config(fs.path(), hook, "min_free_bytes = 0")).await;
    let ballast = fs.fill_leaving(384 << 10);
    let ids: Vec<String> = (0..400).map(|n| format!("e{n:04}")).collect();
    let first = flood(router.addr, ids, 3000).await;
    let refused = with_status(&first, 503);
    assert!(!refused.is_empty(), "the disk filled up (no 503 seen)");
    assert!(refused.len() < first.len(), "some requests fit before it did");

    // Space comes back; the vendor retries what got 503, as every vendor does.
    std::fs::remove_file(&ballast).expect("free the disk");
    for id in &refused {
        let answer = post_json(router.addr, "/in", event(id, 3000)).await;
        assert_eq!(answer.status, 200, "retry of {id}: {}", answer.text());
        assert_eq!(
            answer.json()["duplicates"],
            0,
            "a failed request left no trace in the dedup table ({id})"
        );
    }
    let all: BTreeSet<String> = first.keys().cloned().collect();
    let hooks = if with_hook {
        Some(delivered(&mock, &all).await)
    } else {
        None
    };
    let _dir = router.stop().await;
    let in_file = file_ids(&fs.path().join("events.jsonl"));
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for id in &in_file {
        *counts.entry(id).or_default() += 1;
    }
    for id in &all {
        assert_eq!(counts.get(id.as_str()), Some(&1), "{id} is in the file exactly once");
        if let Some(hooks) = &hooks {
            assert_eq!(hooks[id].len(), 1, "{id}: one webhook-id however often it was sent");
        }
    }
    assert_eq!(in_file.len(), all.len(), "nothing else in the file");
}

#[tokio::test]
async fn below_the_disk_budget_requests_get_503_before_the_disk_is_full() {
    let Some(fs) = Tmpfs::mount(16 << 20) else { return };
    let router = TestRouter::start(&config(fs.path(), None, "min_free_bytes = 4194304")).await;
    assert_eq!(post_json(router.addr, "/in", event("a", 10)).await.status, 200);
    let ready = get(router.addr, "/readyz").await.expect("readyz");
    assert_eq!((ready.status, ready.json()["status"].as_str()), (200, Some("ready")));
    let ballast = fs.fill_leaving(2 << 20);
    // Not ready: a load balancer sends new requests elsewhere. The ingest port says why in
    // a word; the admin port says where.
    let ready = get(router.addr, "/readyz").await.expect("readyz");
    assert_eq!(ready.status, 503, "{}", ready.text());
    assert_eq!(ready.json()["reason"], "storage low", "{}", ready.text());
    let console = router.console().await;
    let admin = console.trim_start_matches("http://").parse().expect("console address");
    let ready = get(admin, "/readyz").await.expect("readyz");
    assert_eq!(ready.status, 503, "{}", ready.text());
    assert!(
        ready.json()["reason"]
            .as_str()
            .is_some_and(|r| r.contains("server.min_free_bytes")),
        "{}",
        ready.text()
    );
    let answer = post_json(router.addr, "/in", event("b", 10)).await;
    assert_eq!(answer.status, 503, "{}", answer.text());
    assert!(answer.text().contains("low on storage"), "{}", answer.text());
    assert_eq!(answer.headers["retry-after"], "10");
    assert!(
        router.quarantined().is_empty(),
        "a refusal before reading costs no disk"
    );
    let metrics = get(router.addr, "/metrics").await.expect("metrics").text();
    assert!(metrics.contains("switchyard_disk_low 1"), "{metrics}");
    assert!(metrics.contains("switchyard_disk_refused_total 1"), "{metrics}");
    let storage = router.status().await["storage"].clone();
    assert_eq!(storage["disk_low"], true, "{storage}");
    assert_eq!(storage["min_free_bytes"], 4194304);
    assert_eq!(storage["outbox_file_ok"], true);

    std::fs::remove_file(&ballast).expect("free");
    assert_eq!(get(router.addr, "/readyz").await.expect("readyz").status, 200);
    let answer = post_json(router.addr, "/in", event("b", 10)).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let metrics = get(router.addr, "/metrics").await.expect("metrics").text();
    assert!(metrics.contains("switchyard_disk_low 0"), "{metrics}");
    router.stop().await;
    assert_eq!(file_ids(&fs.path().join("events.jsonl")), ["a", "b"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_or_data_dir_deleted_under_load_keeps_every_acknowledged_event() {
    // The receiver is down throughout: every acknowledged event must still be in the outbox
    // file at its path when the router stops.
    let mock = MockSink::failing(usize::MAX, 503).await;
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let router = TestRouter::start(&config(&data, Some(&mock.url()), "")).await;
    let addr = router.addr;
    let ids: Vec<String> = (0..2000).map(|n| format!("o{n:04}")).collect();
    let load = tokio::spawn(flood(addr, ids, 200));
    let outbox = data.join("outbox.db");
    // First the outbox files, then the whole data dir (`rm -rf data`).
    tokio::time::sleep(Duration::from_millis(200)).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", outbox.display()));
    }
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(!load.is_finished(), "the load outlasts the deletions");
    std::fs::remove_dir_all(&data).expect("rm -rf data");
    let answers = load.await.expect("load");
    let acked = with_status(&answers, 200);
    assert!(acked.len() > answers.len() / 2, "most requests were acknowledged");
    let metrics = get(addr, "/metrics").await.expect("metrics").text();
    assert!(
        metrics.contains("switchyard_outbox_file_ok 1"),
        "the outbox is whole again: {metrics}"
    );
    assert!(!metrics.contains("switchyard_outbox_rebuilds_total 0"), "{metrics}");
    let _kept = router.stop().await;

    let conn = switchyard::outbox::sql::connect(&outbox).expect("the outbox is at its path");
    // Waiting, or dead-lettered after its attempts ran out: either way still in the file.
    let waiting = switchyard::outbox::sql::load(&conn, "hook", 0, 100_000).expect("rows");
    let dead = switchyard::outbox::sql::dead_letters(&conn, Some("hook"), None).expect("dead");
    let stored: BTreeSet<String> = waiting
        .iter()
        .map(|q| &q.payload)
        .chain(dead.iter().map(|d| &d.payload))
        .map(|payload| {
            let e: serde_json::Value = serde_json::from_slice(payload).expect("json");
            e["vendor_event_id"].as_str().expect("id").to_string()
        })
        .collect();
    let lost: Vec<&String> = acked.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but not in the outbox: {lost:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_flood_stays_within_the_quarantine_caps() {
    let server = "quarantine = { max_bytes = 400000, source_max_bytes = 150000 }";
    let router = TestRouter::start(&config(Path::new("{dir}/data"), None, server)).await;
    let data = router.data();
    let addr = router.addr;
    let mut tasks = Vec::new();
    for s in 0..SENDERS {
        tasks.push(tokio::spawn(async move {
            for n in 0..15 {
                let garbage = format!("{s}-{n} {}", "#".repeat(10_000));
                let answer = post_json(addr, "/in", garbage).await;
                assert_eq!(answer.status, 400, "{}", answer.text());
            }
        }));
    }
    for t in tasks {
        t.await.expect("sender");
    }
    let size: u64 = std::fs::read_dir(data.join("quarantine"))
        .expect("quarantine")
        .filter_map(|e| e.ok()?.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    assert!(size <= 150_000, "the source's cap holds: {size} bytes kept");
    assert!(size > 100_000, "up to the cap is kept: {size} bytes");

    // Another source still has room; the refusals are visible.
    let answer = post_json(addr, "/other", "{not json").await;
    assert_eq!(
        (answer.status, answer.json()["quarantined"].clone()),
        (400, true.into())
    );
    let metrics = get(addr, "/metrics").await.expect("metrics").text();
    assert!(
        metrics.contains("switchyard_quarantine_refused_total{reason=\"source_max_bytes\"}"),
        "{metrics}"
    );

    // Methods the source does not take: 405 with Allow, nothing kept.
    let before = router.quarantined().len();
    for method in ["GET", "OPTIONS", "TRACE", "PUT"] {
        let answer = send(addr, method, "/in", &[], "x").await.expect("send");
        assert_eq!(answer.status, 405, "{method}");
        assert_eq!(answer.headers["allow"], "POST");
    }
    assert_eq!(router.quarantined().len(), before, "scanners' requests are not kept");
    router.stop().await;
}

#[tokio::test]
async fn oversize_bodies_keep_only_their_start() {
    let router = TestRouter::start(&config(Path::new("{dir}/data"), None, "")).await;
    let answer = post_json(router.addr, "/in", vec![b'a'; 3 << 20]).await;
    assert_eq!(answer.status, 413);
    let kept = router.quarantined();
    assert_eq!(kept.len(), 1);
    assert!(kept[0].truncated);
    assert_eq!(kept[0].body().expect("body").len(), 64 << 10);
    router.stop().await;
}
