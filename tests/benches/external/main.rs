//! `make bench` (external part): the release router as its own process pinned to core 0, the
//! load generator (wrk from Debian, a Lua body script) and a counting webhook receiver pinned
//! to core 1, FindFace batches of 1/10/100 events built from the recorded sample.
//!
//! 1. normalize-findface → file sink (fdatasync before each 2xx): acknowledged events/s,
//!    request p50/p99, the router's CPU use and peak RSS;
//! 2. normalize-findface → outbox → one webhook POST per event to the counting receiver:
//!    acknowledged and delivered events/s over the same window, and the drain time after it;
//! 3. open loop: batch 10 at a fixed 100 requests/s to the file sink, p50/p99 latency;
//!    and the WASM pipeline against the same router with the FindFace crate linked natively
//!    (`native`: the `native-plugins` build, target/release/switchyard-native), batch 1/10/100;
//! 4. the normalize stage alone, in this process: the FindFace normalizer compiled natively
//!    (the plugin crate is an rlib) against the same crate as a WASM component through the
//!    plugin runtime (instantiate, lower the request, run, lift and convert the events);
//! 5. the cost of one Rust filter call per request (fresh instance + call), and Python and
//!    JavaScript where their toolchains are installed;
//! 6. legitimate requests during each attack of SECURITY.md (`attacks.rs`);
//! 7. door-decision latency at 1 000 requests/s with the roster decider (`decisions.rs`);
//! 8. cluster mode: 1, 2 and 3 routers sharing one nats-server, against the embedded outbox
//!    (`cluster.rs`).
//!
//! Results go into BENCHMARKS.md (`record_benchmarks`); the run ends by printing the
//! performance targets with what it measured (`router_tests::targets`).

#![allow(
    clippy::disallowed_methods,
    reason = "a benchmark driver: blocking waits on child processes are the point"
)]

use bytes::Bytes;
use router_tests::load::{findface_batch, findface_event};
use router_tests::targets::Measured;
use router_tests::{Config, plugins_dir, record_benchmarks, workspace};
use std::path::{Path, PathBuf};

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use switchyard::plugin::{PluginKind as Kind, Reuse};

mod attacks;
mod cluster;
mod decisions;
mod process;
mod receiver;
mod wrk;

use process::{RouterProcess, pin_self_to_core};
use receiver::CountingReceiver;
use wrk::parse_wrk;

/// Seconds each closed-loop run lasts.
const RUN_SECS: u64 = 10;
/// Connections wrk keeps open (the vendors' own senders rarely use more than a few).
const CONNECTIONS: u32 = 4;
const BATCHES: [usize; 3] = [1, 10, 100];

fn main() {
    pin_self_to_core(1);
    for tool in ["wrk", "taskset"] {
        assert!(
            Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .is_ok_and(|o| o.status.success()),
            "`{tool}` is missing: `make bench` installs it (scripts/bench-tools.sh)"
        );
    }
    // Another build can be measured the same way (e.g. the commit before a change):
    // SWITCHYARD_BENCH_BIN=/other/target/release/switchyard SWITCHYARD_BENCH_PLUGINS=/other/target/plugins.
    let binary = std::env::var_os("SWITCHYARD_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/release/switchyard"));
    assert!(binary.exists(), "build the release router first (`make bench` does)");
    let other_build = std::env::var_os("SWITCHYARD_BENCH_BIN").is_some();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let mut rows = Vec::new();
    let mut measured = Measured::default();
    let scratch = tempfile::tempdir().expect("tmp");
    // `cargo bench --bench external -- webhook stage` runs only those parts.
    let only: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let part = |name: &str| only.is_empty() || only.iter().any(|o| o == name);

    for batch in BATCHES.into_iter().filter(|_| part("file")) {
        let run = closed_loop(&binary, scratch.path(), batch, Sink::File, &runtime);
        println!("file sink, batch {batch}: {run:?}");
        measured.file[batch_index(batch)] = Some(run.acked_events_per_sec);
        if batch == 1 {
            measured.file_batch1_requests = Some(run.requests_per_sec);
        }
        measured.rss(run.peak_rss_kb);
        rows.push((
            format!(
                "external: FindFace batch {batch} → normalize-findface → file sink (fdatasync), wrk -c{CONNECTIONS}"
            ),
            format!(
                "{:.0} events/s acked ({:.0} req/s), p50 {:.1} ms, p99 {:.1} ms, router CPU {:.0} % \
                 ({:.0} µs/request, {:.1} context switches/request), peak RSS {} MB",
                run.acked_events_per_sec,
                run.requests_per_sec,
                run.p50_ms,
                run.p99_ms,
                run.cpu_percent,
                run.cpu_us_per_request,
                run.switches_per_request,
                run.peak_rss_kb / 1024
            ),
        ));
    }
    for batch in BATCHES.into_iter().filter(|_| part("webhook")) {
        let run = closed_loop(&binary, scratch.path(), batch, Sink::Webhook, &runtime);
        println!("webhook sink, batch {batch}: {run:?}");
        if batch == 10 {
            measured.webhook_batch10_delivered = Some(run.delivered_events_per_sec);
        }
        measured.rss(run.peak_rss_kb);
        rows.push((
            format!(
                "external: FindFace batch {batch} → normalize-findface → outbox → webhook POST per event, wrk -c{CONNECTIONS}"
            ),
            format!(
                "{:.0} events/s acked, {:.0} delivered in the same {RUN_SECS} s ({:.0} %), backlog drained {:.1} s later; \
                 p50 {:.1} ms, p99 {:.1} ms, router CPU {:.0} % ({:.0} µs/request, {:.1} context switches/request), \
                 peak RSS {} MB",
                run.acked_events_per_sec,
                run.delivered_events_per_sec,
                100.0 * run.delivered_events_per_sec / run.acked_events_per_sec.max(1.0),
                run.drain_secs,
                run.p50_ms,
                run.p99_ms,
                run.cpu_percent,
                run.cpu_us_per_request,
                run.switches_per_request,
                run.peak_rss_kb / 1024
            ),
        ));
    }
    // The whole pipeline against itself with native plugins: the same router built with the
    // `native-plugins` feature (`make bench` builds it as target/release/switchyard-native),
    // where the FindFace normalizer crate runs as native code. Interleaved, same config.
    let native_binary = std::env::var_os("SWITCHYARD_BENCH_NATIVE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/release/switchyard-native"));
    if part("native") {
        assert!(
            native_binary.exists(),
            "{} is missing: `make bench` builds it (cargo build --release -p switchyard --features native-plugins)",
            native_binary.display()
        );
        for batch in BATCHES {
            let native = closed_loop(&native_binary, scratch.path(), batch, Sink::File, &runtime);
            let wasm = closed_loop(&binary, scratch.path(), batch, Sink::File, &runtime);
            println!("pipeline, batch {batch}: wasm {wasm:?}, native {native:?}");
            measured.ratio[batch_index(batch)] = Some(wasm.acked_events_per_sec / native.acked_events_per_sec.max(1.0));
            rows.push((
                format!(
                    "WASM pipeline / native pipeline: FindFace batch {batch} → normalize-findface → file sink, wrk -c{CONNECTIONS}"
                ),
                format!(
                    "**{:.2}×** events/s (WASM {:.0}, native {:.0}); router CPU per request {:.2}× (WASM {:.0} µs, native {:.0} µs); \
                     p99 {:.1} / {:.1} ms",
                    wasm.acked_events_per_sec / native.acked_events_per_sec.max(1.0),
                    wasm.acked_events_per_sec,
                    native.acked_events_per_sec,
                    native.cpu_us_per_request / wasm.cpu_us_per_request.max(1.0),
                    wasm.cpu_us_per_request,
                    native.cpu_us_per_request,
                    wasm.p99_ms,
                    native.p99_ms
                ),
            ));
        }
    }
    if part("open") {
        let (p50, p99) = open_loop(&binary, scratch.path(), &runtime);
        println!("open loop: p50 {p50:.2} ms, p99 {p99:.2} ms");
        measured.open_p99_ms = Some(p99);
        rows.push((
            "external: open loop, FindFace batch 10 at 100 requests/s → file sink".to_string(),
            format!("p50 {p50:.2} ms, p99 {p99:.2} ms"),
        ));
    }
    for batch in [1, 100].into_iter().filter(|_| part("stage")) {
        let (native, fresh, warm) = runtime.block_on(normalize_stage(batch));
        println!("normalize stage, batch {batch}: native {native:.1} µs/event, wasm {fresh:.1} fresh, {warm:.1} warm");
        if batch == 100 {
            measured.stage_warm_us = Some(warm);
        }
        rows.push((
            format!("normalize-findface stage, batch {batch}: WASM component vs the same crate compiled natively"),
            format!(
                "WASM {fresh:.1} µs/event with a fresh instance ({:.2}× native speed), {warm:.1} warm ({:.2}×); \
                 native {native:.1} µs/event",
                native / fresh,
                native / warm
            ),
        ));
    }
    if part("filter") {
        let rust = plugins_dir().join("drop-unmatched.wasm");
        let python = python_filter(scratch.path());
        let js = js_filter(scratch.path());
        let languages = [
            ("Rust", Some(rust)),
            ("Python (componentize-py)", python),
            ("JavaScript (componentize-js)", js),
        ];
        for (language, path) in languages {
            let Some(path) = path else {
                println!("{language} filter: skipped (its toolchain is not installed: scripts/bench-tools.sh)");
                continue;
            };
            let fresh = runtime.block_on(filter_call(&path, Reuse::Fresh));
            let warm = runtime.block_on(filter_call(&path, Reuse::Warm));
            println!("{language} filter: {fresh:.1} µs per request fresh, {warm:.1} µs warm");
            rows.push((
                format!("{language} filter (drop-unmatched), one call per request"),
                format!(
                    "{fresh:.1} µs with a fresh instance (`reuse = \"fresh\"`), {warm:.1} µs warm (`reuse = \"warm\"`)"
                ),
            ));
        }
    }
    if part("attacks") {
        rows.extend(attacks::run(&binary, scratch.path(), &config(Sink::File, ""), &runtime));
    }
    if part("decisions") {
        rows.extend(decisions::run(&binary, scratch.path(), &runtime));
    }
    if part("cluster") {
        rows.extend(cluster::run_all(&binary, scratch.path(), &runtime));
    }
    println!("\nTargets (BENCHMARKS.md, issue 27):\n{}", measured.table());
    if other_build {
        println!("(another build was measured: BENCHMARKS.md left as it is)");
    } else {
        record_benchmarks(&rows);
    }
}

/// Where a batch size's numbers go in [`Measured`].
fn batch_index(batch: usize) -> usize {
    BATCHES.iter().position(|b| *b == batch).unwrap_or(0)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Sink {
    File,
    Webhook,
}

#[derive(Debug, Default)]
struct Run {
    requests_per_sec: f64,
    acked_events_per_sec: f64,
    delivered_events_per_sec: f64,
    drain_secs: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_percent: f64,
    /// Router CPU time per request (user + system), in µs.
    cpu_us_per_request: f64,
    /// Context switches of all router threads per request.
    switches_per_request: f64,
    peak_rss_kb: u64,
}

/// wrk against a fresh router for [`RUN_SECS`].
fn closed_loop(binary: &Path, scratch: &Path, batch: usize, sink: Sink, runtime: &tokio::runtime::Runtime) -> Run {
    let receiver = runtime.block_on(CountingReceiver::start());
    let router = RouterProcess::start(binary, scratch, &config(sink, &receiver.url()));
    let lua = crate::wrk::post_script(scratch, &format!("batch{batch}"), &findface_batch(batch));
    // Warm-up, not measured: the first requests fault in the plugin's pool slot and code.
    let _ = Command::new("taskset")
        .args(["-c", "1", "wrk", "-t1", &format!("-c{CONNECTIONS}"), "-d2s", "-s"])
        .arg(&lua)
        .arg(format!("http://{}/ingest/findface", router.addr))
        .output();
    let cpu_before = router.cpu_secs();
    let switches_before = router.context_switches();
    let delivered_before = receiver.count();
    let started = Instant::now();
    let out = Command::new("taskset")
        .args([
            "-c",
            "1",
            "wrk",
            "-t1",
            &format!("-c{CONNECTIONS}"),
            &format!("-d{RUN_SECS}s"),
            "--latency",
            "-s",
        ])
        .arg(&lua)
        .arg(format!("http://{}/ingest/findface", router.addr))
        .output()
        .expect("run wrk");
    let wall = started.elapsed().as_secs_f64();
    let delivered_in_window = receiver.count() - delivered_before;
    let cpu = router.cpu_secs() - cpu_before;
    let switches = router.context_switches() - switches_before;
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    if std::env::var_os("BENCH_VERBOSE").is_some() {
        println!("{report}");
    }
    let wrk = parse_wrk(&report);
    assert_eq!(wrk.non_2xx, 0, "the router refused requests under load:\n{report}");
    let mut run = Run {
        requests_per_sec: wrk.requests_per_sec,
        acked_events_per_sec: wrk.requests_per_sec * batch as f64,
        p50_ms: wrk.p50_ms,
        p99_ms: wrk.p99_ms,
        cpu_percent: 100.0 * cpu / wall,
        cpu_us_per_request: cpu * 1e6 / wrk.requests.max(1.0),
        switches_per_request: switches as f64 / wrk.requests.max(1.0),
        ..Run::default()
    };
    if sink == Sink::Webhook {
        run.delivered_events_per_sec = delivered_in_window as f64 / wall;
        let acked = wrk.requests as u64 * batch as u64;
        let drain = Instant::now();
        while receiver.count() - delivered_before < acked && drain.elapsed() < Duration::from_secs(300) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            receiver.count() - delivered_before >= acked,
            "not every acknowledged event was delivered"
        );
        run.drain_secs = drain.elapsed().as_secs_f64();
    }
    run.peak_rss_kb = router.peak_rss_kb();
    drop(router);
    runtime.block_on(receiver.stop());
    run
}

/// Batch 10 at a fixed rate of 100 requests/s for [`RUN_SECS`], each request sent on time
/// whether or not earlier ones were answered (no coordinated omission).
fn open_loop(binary: &Path, scratch: &Path, runtime: &tokio::runtime::Runtime) -> (f64, f64) {
    let router = RouterProcess::start(binary, scratch, &config(Sink::File, "http://127.0.0.1:9/"));
    let body = Bytes::from(findface_batch(10));
    let addr = router.addr;
    let mut latencies: Vec<f64> = runtime.block_on(async move {
        // Warm-up, not measured (see `closed_loop`).
        for _ in 0..200 {
            router_tests::post_json(addr, "/ingest/findface", body.clone()).await;
        }
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        let mut sent = Vec::new();
        for _ in 0..RUN_SECS * 100 {
            tick.tick().await;
            let body = body.clone();
            sent.push(tokio::spawn(async move {
                let started = Instant::now();
                let answer = router_tests::post_json(addr, "/ingest/findface", body).await;
                assert_eq!(answer.status, 200, "{}", answer.text());
                started.elapsed().as_secs_f64() * 1000.0
            }));
        }
        let mut out = Vec::new();
        for s in sent {
            out.push(s.await.expect("request"));
        }
        out
    });
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    (at(0.50), at(0.99))
}

/// µs per event of the FindFace normalizer on a `batch`-event body: (native, WASM with a fresh
/// instance per request, WASM with a warm instance).
async fn normalize_stage(batch: usize) -> (f64, f64, f64) {
    let body = findface_batch(batch);
    let rounds = 20_000 / batch;
    let per_event = |started: Instant| started.elapsed().as_secs_f64() * 1e6 / (rounds * batch) as f64;
    let started = Instant::now();
    for _ in 0..rounds {
        let events = router_plugin_normalize_findface::normalize_body(&body, "bench").expect("native normalize");
        std::hint::black_box(events);
    }
    let native = per_event(started);
    let request = findface_request(body);
    let runtime = switchyard::plugin::Runtime::new().expect("runtime");
    let mut wasm = [0.0; 2];
    for (slot, reuse) in [Reuse::Fresh, Reuse::Warm].into_iter().enumerate() {
        let plugin = load(
            &runtime,
            &plugins_dir().join("normalize-findface.wasm"),
            Kind::Normalizer,
            reuse,
        );
        let started = Instant::now();
        for _ in 0..rounds {
            let mut session = plugin.session().await.expect("session");
            let out = session.normalize(&request).await.expect("wasm normalize");
            assert_eq!(out.events.len(), batch);
        }
        wasm[slot] = per_event(started);
    }
    (native, wasm[0], wasm[1])
}

/// `tests/benches/python/drop_unmatched.py` built with componentize-py, when it is installed.
fn python_filter(scratch: &Path) -> Option<PathBuf> {
    let out = scratch.join("python-filter.wasm");
    let built = Command::new("componentize-py")
        .arg("-d")
        .arg(workspace().join("wit"))
        .args(["-w", "filter", "componentize", "drop_unmatched", "-o"])
        .arg(&out)
        .current_dir(workspace().join("tests/benches/python"))
        .stdout(Stdio::null())
        .status();
    built.is_ok_and(|s| s.success()).then_some(out)
}

/// `tests/benches/js/drop_unmatched.js` built with componentize-js (from `target/bench-tools`,
/// where scripts/bench-tools.sh installs it, or from PATH), when it is installed.
fn js_filter(scratch: &Path) -> Option<PathBuf> {
    let local = workspace().join("target/bench-tools/node_modules/.bin/componentize-js");
    let tool = if local.exists() {
        local
    } else {
        PathBuf::from("componentize-js")
    };
    let out = scratch.join("js-filter.wasm");
    // Without `http fetch-event` disabled the component imports wasi:http, which the router
    // does not link.
    let built = Command::new(tool)
        .arg("--wit")
        .arg(workspace().join("wit"))
        .args(["--world-name", "filter", "-d", "http", "fetch-event", "-o"])
        .arg(&out)
        .arg(workspace().join("tests/benches/js/drop_unmatched.js"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    built.is_ok_and(|s| s.success()).then_some(out)
}

/// µs per request for a filter session (a fresh or a warm instance) and one call.
async fn filter_call(path: &Path, reuse: Reuse) -> f64 {
    let runtime = switchyard::plugin::Runtime::new().expect("runtime");
    let plugin = load(&runtime, path, Kind::Filter, reuse);
    let normalizer = load(
        &runtime,
        &plugins_dir().join("normalize-findface.wasm"),
        Kind::Normalizer,
        Reuse::Fresh,
    );
    let request = findface_request(serde_json::to_vec(&vec![findface_event()]).expect("body"));
    let event = normalizer
        .session()
        .await
        .expect("session")
        .normalize(&request)
        .await
        .expect("normalize")
        .events
        .remove(0);
    let rounds = 2000;
    // One untimed call: the first instance of a component pays for its memory image.
    plugin
        .session()
        .await
        .expect("session")
        .filter(&event)
        .await
        .expect("filter");
    let started = Instant::now();
    for _ in 0..rounds {
        let mut session = plugin.session().await.expect("session");
        std::hint::black_box(session.filter(&event).await.expect("filter"));
    }
    started.elapsed().as_secs_f64() * 1e6 / rounds as f64
}

/// Loads the plugin at `path` as `kind` with default limits and `reuse`.
fn load(runtime: &switchyard::plugin::Runtime, path: &Path, kind: Kind, reuse: Reuse) -> switchyard::plugin::Plugin {
    let limits = switchyard::plugin::PluginLimits {
        reuse,
        ..switchyard::plugin::PluginLimits::DEFAULT
    };
    let id = path.file_stem().and_then(|s| s.to_str()).unwrap_or("plugin");
    runtime
        .load(id, path, kind, limits, &serde_json::json!({}))
        .unwrap_or_else(|e| panic!("loading {}: {e}", path.display()))
}

/// A FindFace webhook POST with `body`, as a normalizer receives it.
fn findface_request(body: Vec<u8>) -> switchyard::plugin::Request {
    switchyard::plugin::Request {
        method: "POST".into(),
        path: "/ingest/findface".into(),
        query: String::new(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: Bytes::from(body),
        remote_addr: None,
        source_id: "bench".into(),
        delivery_id: "d".into(),
        received_at: "2026-01-01T00:00:00Z".into(),
    }
}

/// The router.toml of a run: FindFace into the file sink or the webhook sink.
fn config(sink: Sink, receiver: &str) -> String {
    let config = Config::new()
        .server("listen = \"{listen}\"")
        .server("dedup_window_secs = 0")
        .server("min_free_bytes = 0")
        // The binary's own built-in normalizer, as router.toml names it (each build is measured
        // with the plugins it ships, and with the defaults they get: warm since issue 27).
        .builtin("normalize-findface", "normalize-findface", &[])
        .source(
            "findface",
            "/ingest/findface",
            "normalize-findface",
            &["max_body_bytes = 8388608"],
        );
    match sink {
        Sink::File => config.file_sink("events", "events.jsonl").route(&["events"]),
        Sink::Webhook => config.webhook("hook", receiver, &[]).route(&["hook"]),
    }
    .to_string()
}
