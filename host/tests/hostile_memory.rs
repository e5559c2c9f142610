//! Memory under in-spec traffic, against the real binary: 28 FindFace batches of 2 000 events
//! (~6.5 MB each, 180 MB of bodies, all within the 256 MiB body budget) from 20 addresses at
//! once. Every request is answered 200, and the router's peak RSS stays within the documented
//! request-memory budget plus a constant (SECURITY.md): what a request costs while it is
//! processed — body, decoded events, plugin output — is reserved from one budget, not only
//! its body.

use router_tests::attack::{RssPeak, raise_own_fd_limit, request_from, rss_bytes};
use router_tests::process::{free_port, plugin_path, spawn_router};
use router_tests::workspace;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

const BATCHES: usize = 28;
const EVENTS: usize = 2000;

/// A FindFace webhook body of `n` events built from the recorded sample, each with its own id.
fn findface_batch(n: usize, batch: usize) -> Vec<u8> {
    let sample: serde_json::Value = serde_json::from_slice(
        &std::fs::read(workspace().join("tests/fixtures/samples/findface-security4-face-matched.json"))
            .expect("sample"),
    )
    .expect("json");
    let event = match sample {
        serde_json::Value::Array(mut items) => items.swap_remove(0),
        item => item,
    };
    let items: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let mut item = event.clone();
            item["id"] =
                serde_json::Value::String(format!("{:020}", 7_000_000_000_000_000_000u64 + (batch * n + i) as u64));
            item
        })
        .collect();
    serde_json::to_vec(&items).expect("encode")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_big_batches_stays_within_the_memory_budget() {
    raise_own_fd_limit();
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let config = format!(
        r#"version = 1
[server]
listen = "127.0.0.1:{port}"

[plugins.findface]
path = "{plugin}"
kind = "normalizer"

[[sources]]
id = "findface"
path = "/ingest/findface"
normalizer = "findface"
max_body_bytes = 8388608

[sinks.events]
type = "file"
path = "events.jsonl"
encoding = "compact"

[[routes]]
sinks = ["events"]

[admin]
listen = "127.0.0.1:0"
"#,
        plugin = plugin_path("normalize-findface").display()
    );
    std::fs::write(dir.path().join("router.toml"), config).expect("config");
    let config = dir.path().join("router.toml");
    let router = router_tests::process::Running(
        tokio::task::spawn_blocking(move || spawn_router(&config))
            .await
            .expect("spawn"),
    );
    let pid = router.id();
    // Warm: one small batch, so the baseline includes the compiled plugin and its pool.
    let small = findface_batch(10, 999);
    let (status, body) = request_from(
        Ipv4Addr::new(127, 0, 0, 1),
        port,
        "POST",
        "/ingest/findface",
        "",
        &small,
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let baseline = rss_bytes(pid);
    let peak = RssPeak::start(pid);
    let bodies: Vec<Vec<u8>> = (0..BATCHES).map(|b| findface_batch(EVENTS, b)).collect();
    let total: usize = bodies.iter().map(Vec::len).sum();
    let started = Instant::now();
    let senders: Vec<_> = bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            tokio::spawn(async move {
                let from = Ipv4Addr::new(127, 0, 2, 1 + (i % 20) as u8);
                request_from(
                    from,
                    port,
                    "POST",
                    "/ingest/findface",
                    "",
                    &body,
                    Duration::from_secs(300),
                )
                .await
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for s in senders {
        let (status, body) = s.await.expect("sender");
        if status != 200 {
            eprintln!("batch answered {status}: {body}");
        }
        statuses.push(status);
    }
    let elapsed = started.elapsed();
    let grown = peak.peak().saturating_sub(baseline);
    eprintln!(
        "big batches: {BATCHES} × {EVENTS} events ({} MB) in {elapsed:?}; RSS {} MiB → peak +{} MiB, after {} MiB; statuses {statuses:?}",
        total / 1_000_000,
        baseline >> 20,
        grown >> 20,
        rss_bytes(pid) >> 20,
    );
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    // SECURITY.md: bodies (`max_buffered_body_bytes`) + requests being processed
    // (`max_processing_bytes`) + 64 MiB. Without the processing budget: +1.5 GiB.
    const BOUND: u64 = (256 << 20) + (256 << 20) + (64 << 20);
    assert!(
        grown < BOUND,
        "RSS grew by {} MiB, over the {} MiB bound",
        grown >> 20,
        BOUND >> 20
    );
    drop(router);
}
