//! Doors on a filling disk, against the real binary: sixteen SenseNebula terminals ask for
//! remote-auth decisions as fast as they can while the router's data dir is a 16 MiB tmpfs.
//! Every door the router answered must have its event stored (the file sink) or quarantined;
//! once storage is short, doors are refused (503) instead of answered and lost. The decision
//! audit log accounts for every decision (written or counted as dropped) and never ends in a
//! torn line.

use router_tests::attack::request_from;
use router_tests::process::metric;
use router_tests::process::{free_port, plugin_path, spawn_router};
use router_tests::tmpfs::Tmpfs;
use router_tests::workspace;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SENDERS: usize = 16;

fn config(port: u16, data: &std::path::Path, roster: &std::path::Path) -> String {
    format!(
        r#"version = 1
[server]
listen = "127.0.0.1:{port}"
data_dir = "{data}"
min_free_bytes = 4194304

[plugins.nebula]
path = "{nebula}"
kind = "normalizer"

[plugins.policy]
path = "{roster_plugin}"
kind = "decider"
roster = {{ path = "{roster}" }}
settings = {{ min_score = 0.8, categories = ["access", "recognition", "attendance"], rules = [{{ name = "staff", groups = ["staff"], tip = "Welcome {{name}}" }}] }}

[[sources]]
id = "door"
path = "/door"
normalizer = "nebula"
decider = "policy"
decision = {{ deadline_ms = 1000, fallback = "deny" }}

{sinks}

[admin]
listen = "127.0.0.1:0"
"#,
        data = data.display(),
        nebula = plugin_path("normalize-sensenebula").display(),
        roster_plugin = plugin_path("decide-roster").display(),
        roster = roster.display(),
        sinks = router_tests::process::FILE_SINK,
    )
}

/// The remote-auth sample with a unique `uuid` (the terminal's event id).
fn door_request(sample: &serde_json::Value, id: &str) -> Vec<u8> {
    let mut request = sample.clone();
    request["uuid"] = serde_json::Value::String(id.to_string());
    serde_json::to_vec(&request).expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answered_door_is_stored_or_quarantined_on_a_filling_disk() {
    let Some(disk) = Tmpfs::mount(16 << 20) else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let roster = dir.path().join("roster.csv");
    std::fs::write(
        &roster,
        "person_id,name,groups,status\n4bf5d479-f64e-4e35-907b-23a162b5d80f,Cohen,staff,\n",
    )
    .expect("roster");
    let data = disk.path().join("data");
    let port = free_port();
    std::fs::write(dir.path().join("router.toml"), config(port, &data, &roster)).expect("config");
    let config_path = dir.path().join("router.toml");
    let router = router_tests::process::Running(
        tokio::task::spawn_blocking(move || spawn_router(&config_path))
            .await
            .expect("spawn"),
    );
    let sample: serde_json::Value = serde_json::from_slice(
        &std::fs::read(workspace().join("tests/fixtures/samples/nebulapass-v13-remote-auth-request.json"))
            .expect("sample"),
    )
    .expect("sample json");

    let answered = Arc::new(Mutex::new(BTreeSet::new()));
    let refused = Arc::new(Mutex::new(0usize));
    let started = Instant::now();
    let senders: Vec<_> = (0..SENDERS)
        .map(|s| {
            let (sample, answered, refused) = (sample.clone(), answered.clone(), refused.clone());
            tokio::spawn(async move {
                let mut refused_in_a_row = 0;
                let mut n = 0;
                // Until the router has refused this terminal for a while (storage is short),
                // or 60 s.
                while refused_in_a_row < 50 && started.elapsed() < Duration::from_secs(60) {
                    n += 1;
                    let id = format!("door-{s}-{n}");
                    let (status, body) = request_from(
                        Ipv4Addr::new(127, 0, 0, 1),
                        port,
                        "POST",
                        "/door",
                        "content-type: application/json\r\n",
                        &door_request(&sample, &id),
                        Duration::from_secs(10),
                    )
                    .await;
                    if status == 200 && body.contains("\"pass\"") {
                        answered.lock().expect("lock").insert(id);
                        refused_in_a_row = 0;
                    } else {
                        assert!(status == 503 || status == 0, "a door got {status}: {body}");
                        *refused.lock().expect("lock") += 1;
                        refused_in_a_row += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            })
        })
        .collect();
    for s in senders {
        s.await.expect("sender");
    }
    // Deliveries after an answered door finish in the background.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let decisions = metric(port, "switchyard_decisions_total{source=\"door\"");
    let audit_dropped = metric(port, "switchyard_decision_audit_dropped_total");
    drop(router);

    let answered = answered.lock().expect("lock").clone();
    let events = std::fs::read_to_string(data.join("events.jsonl")).unwrap_or_default();
    let stored: BTreeSet<String> = events
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|e| e["vendor_event_id"].as_str().map(str::to_string))
        .collect();
    let mut quarantined = BTreeSet::new();
    for entry in std::fs::read_dir(data.join("quarantine"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let Ok(entry) = serde_json::from_str::<switchyard::quarantine::Entry>(&text) else {
            continue;
        };
        let body: serde_json::Value = serde_json::from_slice(&entry.body().unwrap_or_default()).unwrap_or_default();
        if let Some(id) = body["uuid"].as_str() {
            quarantined.insert(id.to_string());
        }
    }
    let lost: Vec<&String> = answered
        .iter()
        .filter(|id| !stored.contains(*id) && !quarantined.contains(*id))
        .collect();
    let audit = std::fs::read_to_string(data.join("decisions/decisions.jsonl")).unwrap_or_default()
        + &std::fs::read_to_string(data.join("decisions/decisions.1.jsonl")).unwrap_or_default();
    let audit_lines = audit.lines().filter(|l| !l.is_empty()).count() as u64;
    eprintln!(
        "doors: {} answered, {} refused; {} stored, {} quarantined, {} lost; {decisions} decisions, {audit_lines} audit lines + {audit_dropped} dropped",
        answered.len(),
        refused.lock().expect("lock"),
        stored.len(),
        quarantined.len(),
        lost.len()
    );
    assert!(answered.len() > 100, "the disk filled only after many doors");
    assert!(
        *refused.lock().expect("lock") > 0,
        "doors were refused once storage was short"
    );
    assert!(
        lost.is_empty(),
        "answered doors with no stored or quarantined event: {:?}",
        &lost[..lost.len().min(10)]
    );
    assert!(
        audit.is_empty() || audit.ends_with('\n'),
        "the audit log ends in a torn line"
    );
    for line in audit.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("every audit line is whole JSON");
    }
    assert_eq!(
        audit_lines + audit_dropped,
        decisions,
        "every decision is audited or counted as dropped"
    );
    drop(disk);
}
