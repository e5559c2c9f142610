//! Part `decisions`: door-decision latency. The release router (core 0) serves a SenseNebula
//! terminal source whose decider is `decide-roster` with a 10 000-entry roster; this process
//! (core 1) sends requests at a fixed 1 000 per second, each on a new connection like a
//! terminal, for [`SECS`] seconds, and measures each answer's latency. Runs: recognition
//! pushes without a decider (the baseline: a plain push, answered after the file sink's
//! fdatasync), remote-auth requests and pushes with the roster decider (answered before the
//! commit), and remote-auth with warm instances. Reported: p50/p99/max, how many were answered, and the router's own
//! mean decision time (`switchyard_decision_seconds`).

use crate::process::RouterProcess;
use bytes::Bytes;
use router_tests::{Config, samples_dir};
use std::path::Path;
use std::time::{Duration, Instant};

/// Seconds of traffic per run.
const SECS: u64 = 10;
/// Requests per second.
const RATE: u64 = 1000;
/// Roster entries.
const ROSTER: usize = 10_000;
/// Distinct people asking (cycled), spread over the roster.
const PEOPLE: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Run {
    PlainPush,
    RemoteAuth,
    DecidedPush,
    RemoteAuthWarm,
}

impl Run {
    fn describe(self) -> &'static str {
        match self {
            Run::PlainPush => "recognition push, no decider (baseline)",
            Run::RemoteAuth => "remote-auth request → decide-roster (10 000-entry roster)",
            Run::DecidedPush => "recognition push → decide-roster (10 000-entry roster)",
            Run::RemoteAuthWarm => "remote-auth request → decide-roster, `reuse = \"warm\"` for both plugins",
        }
    }
}

fn config(roster: &Path, decider: bool, warm: bool) -> String {
    let reuse = if warm {
        r#"reuse = "warm""#
    } else {
        r#"reuse = "fresh""#
    };
    let mut source = vec![r#"methods = ["GET", "POST"]"#.to_string()];
    if decider {
        source.push(r#"decider = "door-policy""#.into());
        source.push(r#"decision = { deadline_ms = 300, fallback = "deny" }"#.into());
    }
    let source: Vec<&str> = source.iter().map(String::as_str).collect();
    Config::new()
        .server("listen = \"{listen}\"")
        .server("dedup_window_secs = 0")
        .server("min_free_bytes = 0")
        .plugin("normalize-sensenebula", "normalize-sensenebula", "normalizer", &[reuse])
        .plugin(
            "door-policy",
            "decide-roster",
            "decider",
            &[
                reuse,
                &format!("roster = {{ path = {:?} }}", roster.display().to_string()),
                r#"settings = { min_score = 0.8, rules = [{ name = "staff", groups = ["staff"], days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], hours = ["00:00-24:00"], tip = "Welcome {name}" }] }"#,
            ],
        )
        .source("door", "/ingest/sensenebula", "normalize-sensenebula", &source)
        .file_sink("events", "events.jsonl")
        .route(&["events"])
        .to_string()
}

/// Request bodies: the recorded sample with the person replaced by roster members.
fn bodies(run: Run) -> Vec<Bytes> {
    let (file, person) = match run {
        Run::RemoteAuth | Run::RemoteAuthWarm => (
            "nebulapass-v13-remote-auth-request.json",
            "\"4bf5d479-f64e-4e35-907b-23a162b5d80f\"",
        ),
        Run::PlainPush | Run::DecidedPush => ("nebulapass-v13-recognition-push.json", "\"5\""),
    };
    let text = std::fs::read_to_string(samples_dir().join(file)).expect("sample");
    assert!(text.contains(person), "{file} names {person}");
    (0..PEOPLE)
        .map(|i| Bytes::from(text.replace(person, &format!("\"p-{:05}\"", i * (ROSTER / PEOPLE)))))
        .collect()
}

/// The result rows of this part.
pub(crate) fn run(binary: &Path, scratch: &Path, runtime: &tokio::runtime::Runtime) -> Vec<(String, String)> {
    let roster = scratch.join("roster.csv");
    let mut csv = String::from("person_id,name,groups\n");
    for i in 0..ROSTER {
        csv.push_str(&format!("p-{i:05},Person {i},staff\n"));
    }
    std::fs::write(&roster, csv).expect("roster");
    let mut rows = Vec::new();
    let mut baseline_p50 = 0.0;
    for run in [Run::PlainPush, Run::RemoteAuth, Run::DecidedPush, Run::RemoteAuthWarm] {
        let decider = !matches!(run, Run::PlainPush);
        let router = RouterProcess::start(binary, scratch, &config(&roster, decider, run == Run::RemoteAuthWarm));
        let (mut latencies, granted, total) = runtime.block_on(open_loop(router.addr, bodies(run), decider));
        let metrics = runtime
            .block_on(router_tests::get(router.addr, "/metrics"))
            .expect("metrics")
            .text();
        let sum = metrics
            .lines()
            .find_map(|l| l.strip_prefix("switchyard_decision_seconds_sum{source=\"door\"} "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        let count = router_tests::metric_value(&metrics, "switchyard_decision_seconds_count{source=\"door\"}");
        latencies.sort_by(f64::total_cmp);
        let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
        let max = latencies.last().copied().unwrap_or_default();
        let mut line = format!(
            "p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms; {granted}/{total} answered",
            at(0.5),
            at(0.99),
            max
        );
        if decider {
            line.push_str(&format!(
                " with the plugin's grant; added p50 over the plain push {:+.2} ms; router-side decision mean {:.3} ms over {count}",
                at(0.5) - baseline_p50,
                if count > 0 { sum * 1e3 / count as f64 } else { 0.0 }
            ));
        } else {
            baseline_p50 = at(0.5);
        }
        println!("decisions, {}: {line}", run.describe());
        rows.push((
            format!(
                "decisions: {} at {RATE} requests/s, new connection each",
                run.describe()
            ),
            line,
        ));
    }
    rows
}

/// Sends `bodies` (cycled) at [`RATE`] for [`SECS`]: the latencies (ms), how many were
/// answered 200 with `data.pass = true` (with a decider) or 200 (without), and how many sent.
async fn open_loop(addr: std::net::SocketAddr, bodies: Vec<Bytes>, decider: bool) -> (Vec<f64>, usize, usize) {
    // Warm-up, not measured: compiled-code caches, the first instances.
    for body in bodies.iter().take(200) {
        router_tests::post_json(addr, "/ingest/sensenebula", body.clone()).await;
    }
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / RATE));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sent = Vec::new();
    for i in 0..(SECS * RATE) as usize {
        tick.tick().await;
        let body = bodies[i % bodies.len()].clone();
        sent.push(tokio::spawn(async move {
            let started = Instant::now();
            let answer = router_tests::send(
                addr,
                "POST",
                "/ingest/sensenebula",
                &[("content-type", "application/json")],
                body,
            )
            .await;
            let took = started.elapsed().as_secs_f64() * 1e3;
            let ok = answer.is_ok_and(|a| {
                a.status == 200 && (!decider || a.json()["data"]["pass"] == serde_json::Value::Bool(true))
            });
            (took, ok)
        }));
    }
    let total = sent.len();
    let mut latencies = Vec::with_capacity(total);
    let mut ok = 0;
    for s in sent {
        let (took, good) = s.await.expect("request");
        latencies.push(took);
        ok += usize::from(good);
    }
    (latencies, ok, total)
}
