//! `make bench`: measures, in a release build on this machine,
//! 1. how long a hot reload takes (config change, all components already compiled: load +
//!    compile config, build pipeline, self-test, swap), as the controller reports it;
//! 2. end-to-end throughput of the default chain (normalize-json → drop-unmatched → redact →
//!    file sink) over real HTTP on 127.0.0.1;
//!
//! and rewrites the results table in BENCHMARKS.md.

use router_tests::{TestRouter, plugins_dir, post_json, send};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn config(vendor: &str) -> String {
    format!(
        r#"
version = 1
[server]
dedup_window_secs = 0
[plugins.n]
path = "{{plugins}}/normalize-json.wasm"
kind = "normalizer"
settings = {{ vendor = "{vendor}", category = "recognition", fields = {{ vendor_event_id = "id", "match.matched" = "matched", "source.camera_id" = "camera" }} }}
[plugins.f]
path = "{{plugins}}/drop-unmatched.wasm"
kind = "filter"
[plugins.r]
path = "{{plugins}}/redact.wasm"
kind = "transform"
[[sources]]
id = "in"
path = "/in"
normalizer = "n"
filters = ["f"]
transforms = ["r"]
[sinks.file]
type = "file"
path = "events.jsonl"
[[routes]]
sinks = ["file"]
"#
    )
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    plugins_dir();
    let router = Arc::new(TestRouter::start(&config("v0")).await);

    // 1. Reload swap time with cached components.
    let mut times = Vec::new();
    for i in 1..=30 {
        router.write_config(&config(&format!("v{i}")));
        let answer = send(router.addr, "POST", "/admin/reload", &[], "")
            .await
            .expect("reload");
        let outcome = answer.json();
        if outcome["outcome"] == "applied" {
            times.push(outcome["duration_ms"].as_f64().expect("duration"));
        }
    }
    times.sort_by(f64::total_cmp);
    let (p50, p95, max) = (
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        times[times.len() - 1],
    );
    println!(
        "reload (config change, cached components): n={} p50={p50:.2} ms p95={p95:.2} ms max={max:.2} ms",
        times.len()
    );

    // 2. Throughput through three plugins to the file sink.
    let body = r#"{"id": "x", "matched": true, "camera": "rtsp://admin:pw@10.0.0.5/live"}"#;
    assert_eq!(post_json(router.addr, "/in", body).await.status, 200);
    let done = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(10);
    let clients: Vec<_> = (0..16)
        .map(|_| {
            let (router, done) = (router.clone(), done.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    if post_json(router.addr, "/in", body).await.status == 200 {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    let started = Instant::now();
    for c in clients {
        c.await.expect("client");
    }
    let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    println!("throughput (HTTP, 1 event/request, 3 plugins, file sink, 16 clients): {rate:.0} events/s");

    router_tests::record_benchmarks(&[
        (
            "hot reload, config change, components cached (load + compile + build + self-test + swap)".into(),
            format!(
                "p50 {p50:.2} ms, p95 {p95:.2} ms, max {max:.2} ms (n = {})",
                times.len()
            ),
        ),
        (
            "HTTP ingest → normalize-json → drop-unmatched → redact → file sink, 1 event/request, 16 clients".into(),
            format!("{rate:.0} events/s"),
        ),
    ]);
    Arc::try_unwrap(router).ok().expect("sole owner").stop().await;
}
