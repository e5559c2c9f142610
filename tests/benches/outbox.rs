//! `make bench` (outbox part): how fast the durable outbox commits and delivers, release build,
//! this machine, and what that means end to end.
//! 1. commit: 64 concurrent writers committing one event each per call (the shape of many
//!    small requests), fsynced in group commits — events/s and events per fsync;
//! 2. deliver: a 20 000-event backlog drained to a real HTTP receiver on 127.0.0.1 answering
//!    200 at once, 16 deliveries in flight — events/s;
//! 3. end to end: HTTP ingest → normalize-json → outbox (2xx after the fsync) → webhook, 16
//!    clients for 10 s — acknowledged events/s, and the time to deliver them all.
//!
//! Results go into BENCHMARKS.md.

use bytes::Bytes;
use router_tests::{MockSink, TestRouter, plugins_dir, post_json, record_benchmarks};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use switchyard::queue::NewRow;

fn config(url: &str) -> String {
    format!(
        r#"
version = 1
[server]
dedup_window_secs = 0
[plugins.n]
path = "{{plugins}}/normalize-json.wasm"
kind = "normalizer"
settings = {{ vendor = "bench", fields = {{ vendor_event_id = "id" }} }}
[[sources]]
id = "in"
path = "/in"
normalizer = "n"
[sinks.hook]
type = "webhook"
url = "{url}"
concurrency = 16
[[routes]]
sinks = ["hook"]
"#
    )
}

/// A typical normalized event's size (the FindFace sample normalizes to ~1.5 KB).
fn payload(n: usize) -> Bytes {
    let pad = "x".repeat(1400);
    Bytes::from(format!(
        r#"{{"schema":"router.event/v1","vendor_event_id":"{n}","pad":"{pad}"}}"#
    ))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    plugins_dir();
    let mock = MockSink::start().await;
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("router.toml");
    std::fs::write(
        &path,
        config(&mock.url()).replace("{plugins}", &plugins_dir().display().to_string()),
    )
    .expect("config");
    let spec = switchyard::config::load(&path).expect("config");
    let runtime = switchyard::plugin::Runtime::with_disk_cache(None).expect("runtime");
    let pipeline = switchyard::pipeline::build(spec, &runtime).await.expect("pipeline");
    // The queue the router commits to: the embedded outbox here.
    let queue = pipeline.queue().clone();

    // 1. Group commit: many writers, one event per commit call.
    let total = 20_000;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let writers: Vec<_> = (0..64)
        .map(|_| {
            let (queue, next) = (queue.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        return;
                    }
                    let row = NewRow {
                        sink: "hook".into(),
                        webhook_id: format!("msg_{n}"),
                        ordering_key: None,
                        created_ms: switchyard::clock::now_ms(),
                        payload: payload(n),
                    };
                    queue.enqueue(vec![row], false).await.expect("commit");
                }
            })
        })
        .collect();
    for w in writers {
        w.await.expect("writer");
    }
    let commit_rate = total as f64 / started.elapsed().as_secs_f64();
    // As an operator reads it: from the metrics.
    let metrics = queue.render_metrics().await;
    let fsyncs = metrics
        .lines()
        .find_map(|l| l.strip_prefix("switchyard_outbox_fsyncs_total "))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .expect("the outbox's fsync counter")
        .max(1);
    let per_fsync = total as f64 / fsyncs as f64;
    println!("commit: {commit_rate:.0} events/s, {per_fsync:.1} events per fsync");

    // 2. Drain the backlog.
    let started = Instant::now();
    queue.deliver(pipeline.webhooks());
    queue.drain().await;
    let deliver_rate = total as f64 / started.elapsed().as_secs_f64();
    assert_eq!(mock.received().len(), total, "every event delivered once");
    println!("deliver: {deliver_rate:.0} events/s");
    queue.stop().await;
    drop(pipeline);

    // 3. End to end through the running router.
    let mock = MockSink::start().await;
    let router = Arc::new(TestRouter::start(&config(&mock.url())).await);
    let acked = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(10);
    let started = Instant::now();
    let clients: Vec<_> = (0..16)
        .map(|c| {
            let (router, acked) = (router.clone(), acked.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while Instant::now() < deadline {
                    let body = format!(r#"{{"id": "c{c}-{n}"}}"#);
                    if post_json(router.addr, "/in", body).await.status == 200 {
                        acked.fetch_add(1, Ordering::Relaxed);
                    }
                    n += 1;
                }
            })
        })
        .collect();
    for c in clients {
        c.await.expect("client");
    }
    let ingest_rate = acked.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    let acked = acked.load(Ordering::Relaxed);
    mock.wait_for(acked).await;
    let all_delivered = started.elapsed().as_secs_f64();
    println!("end to end: {ingest_rate:.0} acked events/s; all {acked} delivered after {all_delivered:.1} s");
    Arc::try_unwrap(router).ok().expect("sole owner").stop().await;

    record_benchmarks(&[
        (
            "outbox commit, 64 concurrent writers, 1 event (1.5 KB) per commit, fsynced group commits".into(),
            format!("{commit_rate:.0} events/s ({per_fsync:.1} events per fsync)"),
        ),
        (
            "outbox delivery, 20 000-event backlog → HTTP receiver on 127.0.0.1, 16 in flight".into(),
            format!("{deliver_rate:.0} events/s"),
        ),
        (
            "HTTP ingest → normalize-json → outbox (2xx after fsync) → webhook, 1 event/request, 16 clients, 10 s"
                .into(),
            format!("{ingest_rate:.0} acked events/s; all {acked} delivered {all_delivered:.1} s after start"),
        ),
    ]);
}
