//! Hot reload: edits to router.toml and plugin files are picked up without a restart; broken
//! configs and plugins are rejected with their reason while the running pipeline keeps
//! serving; a swap affects new requests only; and nothing is lost while reloads happen under load.

use router_tests::{TestRouter, plugins_dir, post_json, send};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A config whose normalizer is the copy at `{dir}/n.wasm` and whose vendor name is `vendor`.
fn config(vendor: &str) -> String {
    format!(
        r#"
version = 1
[server]
dedup_window_secs = 0

[plugins.n]
path = "{{dir}}/n.wasm"
kind = "normalizer"
settings = {{ vendor = "{vendor}", fields = {{ vendor_event_id = "id" }} }}

[[sources]]
id = "in"
path = "/in"
normalizer = "n"

[sinks.file]
type = "file"
path = "events.jsonl"

[[routes]]
sinks = ["file"]
"#
    )
}

/// `config` without the plugin's settings line.
fn without_settings(config: &str) -> String {
    config
        .lines()
        .filter(|l| !l.starts_with("settings = "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A component-level custom section (id 0): appending one changes a component's bytes, not
/// its behaviour.
fn custom_section(name: &str, payload: &[u8]) -> Vec<u8> {
    let mut body = vec![u8::try_from(name.len()).expect("short name")];
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(payload);
    let mut out = vec![0, u8::try_from(body.len()).expect("short section")];
    out.extend_from_slice(&body);
    out
}

async fn start(vendor: &str) -> TestRouter {
    // The plugin lives next to the config, where the tests replace it.
    let wasm = std::fs::read(plugins_dir().join("normalize-json.wasm")).expect("plugin");
    TestRouter::start_with_files(&config(vendor), &[("n.wasm", wasm)]).await
}

async fn vendor_of_next_event(router: &TestRouter, id: &str) -> String {
    let answer = post_json(router.addr, "/in", format!(r#"{{"id": "{id}"}}"#)).await;
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    let events = router.jsonl("events.jsonl");
    let event = events
        .iter()
        .find(|e| e["vendor_event_id"] == id)
        .expect("event written");
    event["vendor"].as_str().expect("vendor").to_string()
}

async fn admin_reload(router: &TestRouter) -> (u16, serde_json::Value) {
    let answer = send(router.addr, "POST", "/admin/reload", &[], "")
        .await
        .expect("reload");
    (answer.status, answer.json())
}

#[tokio::test]
async fn an_edited_config_is_picked_up_without_restart() {
    let router = start("first").await;
    let (_, outcome) = admin_reload(&router).await;
    assert!(
        outcome["outcome"] == "applied" || outcome["outcome"] == "unchanged",
        "{outcome}"
    );
    assert_eq!(vendor_of_next_event(&router, "1").await, "first");
    let before = router.status().await;
    router.write_config(&config("second"));
    let outcome = router.wait_reload(&before).await;
    assert_eq!(
        (outcome["outcome"].as_str(), outcome["trigger"].as_str()),
        (Some("applied"), Some("watcher")),
        "{outcome}"
    );
    assert_eq!(vendor_of_next_event(&router, "2").await, "second");
    let status = router.status().await;
    assert_eq!(status["config_sha256"], outcome["config_sha256"]);
    assert_eq!(status["plugins"][0]["id"], "n");
    assert_eq!(status["plugins"][0]["sha256"].as_str().map(str::len), Some(64));
    let (code, again) = admin_reload(&router).await;
    assert_eq!((code, again["outcome"].as_str()), (200, Some("unchanged")));
    router.stop().await;
}

#[tokio::test]
async fn broken_configs_and_plugins_keep_the_old_pipeline() {
    let router = start("good").await;
    // A typo: reported with file, line and column; the old pipeline keeps serving.
    router.write_config(&config("good").replace("kind = \"normalizer\"", "knd = \"normalizer\""));
    let (code, outcome) = admin_reload(&router).await;
    assert_eq!((code, outcome["outcome"].as_str()), (409, Some("rejected")));
    let reason = outcome["reason"].as_str().expect("reason");
    assert!(
        reason.contains("unknown field `knd`") && reason.contains("router.toml:8:1"),
        "{reason}"
    );
    assert_eq!(vendor_of_next_event(&router, "a").await, "good");
    // A broken .wasm: same.
    router.write_config(&config("good"));
    std::fs::write(router.config_path().with_file_name("n.wasm"), b"\0asm garbage").expect("corrupt plugin");
    let (code, outcome) = admin_reload(&router).await;
    assert_eq!(code, 409, "{outcome}");
    assert!(
        outcome["reason"]
            .as_str()
            .expect("reason")
            .contains("cannot load plugin `n`"),
        "{outcome}"
    );
    assert_eq!(vendor_of_next_event(&router, "b").await, "good");
    // Settings that cannot change live are named.
    std::fs::copy(
        plugins_dir().join("normalize-json.wasm"),
        router.config_path().with_file_name("n.wasm"),
    )
    .expect("restore");
    router.write_config(&config("good").replace("[server]", "[server]\nlisten = \"127.0.0.1:1\"\nmax_in_flight = 7"));
    let (_, outcome) = admin_reload(&router).await;
    assert!(
        outcome["reason"]
            .as_str()
            .expect("reason")
            .contains("server.listen, server.max_in_flight cannot change"),
        "{outcome}"
    );
    let metrics = router_tests::get(router.addr, "/metrics").await.expect("metrics");
    let text = String::from_utf8_lossy(&metrics.body).to_string();
    assert!(
        text.contains("switchyard_reloads_total{outcome=\"rejected\"} 3"),
        "{text}"
    );
    router.stop().await;
}

#[tokio::test]
async fn a_plugin_swapped_mid_stream_affects_new_requests_only() {
    let router = start("json").await;
    assert_eq!(vendor_of_next_event(&router, "before").await, "json");
    // Replace the normalizer by a different component (FindFace's) under the same id, with
    // its own settings (none: FindFace's normalizer refuses the JSON normalizer's ones).
    std::fs::copy(
        plugins_dir().join("normalize-findface.wasm"),
        router.config_path().with_file_name("n.wasm"),
    )
    .expect("swap");
    router.write_config(&without_settings(&config("json")));
    let (_, outcome) = admin_reload(&router).await;
    assert_eq!(outcome["outcome"], "applied", "{outcome}");
    assert_eq!(vendor_of_next_event(&router, "after").await, "findface");
    let events = router.jsonl("events.jsonl");
    assert_eq!(events[0]["vendor"], "json", "events before the swap were not touched");
    router.stop().await;
}

#[tokio::test]
async fn self_test_samples_gate_a_reload() {
    let router = start("v").await;
    let sample = router.config_path().with_file_name("sample.json");
    std::fs::write(&sample, r#"{"id": "s-1"}"#).expect("sample");
    let expect = router.config_path().with_file_name("expect.json");
    let with_samples = |vendor: &str| {
        config(vendor).replace(
            "normalizer = \"n\"",
            "normalizer = \"n\"\nsamples = [{ request = \"sample.json\", expect = \"expect.json\" }]",
        )
    };
    // Expected output taken from the current plugin: the self-test passes.
    let report = switchyard::cli::plugin_test(
        &router.config_path().with_file_name("n.wasm"),
        &sample,
        r#"{"vendor": "v", "fields": {"vendor_event_id": "id"}}"#,
        "in",
        switchyard::plugin::PluginLimits {
            timeout_ms: 1000,
            ..switchyard::plugin::PluginLimits::DEFAULT
        },
    )
    .await
    .expect("plugin test");
    std::fs::write(&expect, report["events"].to_string()).expect("expect");
    router.write_config(&with_samples("v"));
    assert_eq!(admin_reload(&router).await.1["outcome"], "applied");
    // A change that alters the sample's output is refused, and says why.
    router.write_config(&with_samples("other"));
    let (code, outcome) = admin_reload(&router).await;
    assert_eq!(code, 409);
    assert!(
        outcome["reason"].as_str().expect("reason").contains("self-test failed"),
        "{outcome}"
    );
    assert!(
        router.jsonl("events.jsonl").is_empty(),
        "self-tests have no side effects"
    );
    router.stop().await;
}

/// Requests keep flowing while the config and the plugin file change ~20 times, good and
/// broken alike: no request fails, no accepted event is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_under_load_loses_nothing() {
    let router = Arc::new(start("v0").await);
    let accepted = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..8 {
        let (router, accepted, failed, stop) = (router.clone(), accepted.clone(), failed.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let answer = send(router.addr, "POST", "/in", &[], format!(r#"{{"id": "{c}-{n}"}}"#)).await;
                match answer {
                    Ok(a) if a.status == 200 => {
                        accepted.fetch_add(1, Ordering::Relaxed);
                    }
                    other => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        eprintln!("failed: {other:?}");
                    }
                }
                n += 1;
            }
        }));
    }
    let plugin = router.config_path().with_file_name("n.wasm");
    let good_wasm = std::fs::read(&plugin).expect("plugin");
    let started = Instant::now();
    let mut outcomes = Vec::new();
    for round in 0..20 {
        match round % 4 {
            0 | 2 => router.write_config(&config(&format!("v{round}"))),
            1 => router.write_config(&config("typo").replace("[[routes]]", "[[route]]")),
            _ => std::fs::write(&plugin, b"not wasm").expect("break plugin"),
        }
        let (_, outcome) = admin_reload(&router).await;
        outcomes.push(outcome["outcome"].as_str().unwrap_or("?").to_string());
        std::fs::write(&plugin, &good_wasm).expect("restore plugin");
        // ~20 reloads over ~10 s of continuous load.
        tokio::time::sleep(Duration::from_millis(450)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.expect("client");
    }
    let elapsed = started.elapsed();
    let accepted = accepted.load(Ordering::Relaxed);
    assert_eq!(failed.load(Ordering::Relaxed), 0, "no request may fail during reloads");
    assert!(outcomes.iter().filter(|o| *o == "applied").count() >= 5, "{outcomes:?}");
    assert!(
        outcomes.iter().filter(|o| *o == "rejected").count() >= 5,
        "{outcomes:?}"
    );
    let written = router.jsonl("events.jsonl").len();
    assert_eq!(
        written, accepted,
        "every accepted event reached the sink ({accepted} in {elapsed:?})"
    );
    assert!(accepted > 100, "the load ran: {accepted} requests in {elapsed:?}");
    eprintln!("reload under load: {accepted} requests in {elapsed:?}, outcomes {outcomes:?}");
    Arc::try_unwrap(router).ok().expect("sole owner").stop().await;
}

/// A reloaded plugin version that traps on most calls in its first minutes is taken back to
/// the version it replaced, automatically; the same broken file is not loaded again.
#[tokio::test]
async fn a_failing_new_plugin_version_is_rolled_back() {
    let guests = tempfile::tempdir().expect("tmp");
    let keep = std::fs::read(router_tests::wat_guest("limits_keep", "filter", guests.path())).expect("guest");
    let trap = std::fs::read(router_tests::wat_guest("limits_trap", "filter", guests.path())).expect("guest");
    let wasm = std::fs::read(plugins_dir().join("normalize-json.wasm")).expect("plugin");
    let config = config("v").replace("normalizer = \"n\"", "normalizer = \"n\"\nfilters = [\"f\"]")
        + "\n[plugins.f]\npath = \"{dir}/f.wasm\"\nkind = \"filter\"\nrollback = { max_failure_ratio = 0.5, min_calls = 3, window_secs = 300 }\n";
    let router = TestRouter::start_with_files(&config, &[("n.wasm", wasm), ("f.wasm", keep)]).await;
    assert_eq!(post_json(router.addr, "/in", r#"{"id": "ok-1"}"#).await.status, 200);
    // Deploy a broken version of the filter.
    std::fs::write(router.config_path().with_file_name("f.wasm"), &trap).expect("deploy");
    assert_eq!(admin_reload(&router).await.1["outcome"], "applied");
    let mut failures = 0;
    for i in 0..10 {
        let answer = post_json(router.addr, "/in", format!(r#"{{"id": "try-{i}"}}"#)).await;
        if answer.status == 500 {
            failures += 1;
        } else {
            assert_eq!(answer.status, 200);
        }
        if router.status().await["last_reload"]["outcome"] == "rolled_back" && answer.status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = router.status().await;
    assert_eq!(status["last_reload"]["outcome"], "rolled_back", "{status}");
    assert!(
        status["last_reload"]["reason"]
            .as_str()
            .expect("reason")
            .contains("plugin `f`"),
        "{status}"
    );
    assert!(
        (3..10).contains(&failures),
        "rolled back after a few failures, not never: {failures}"
    );
    assert_eq!(
        post_json(router.addr, "/in", r#"{"id": "ok-2"}"#).await.status,
        200,
        "the last good version serves again"
    );
    // Reloading the same broken file is refused; a fixed file goes through.
    let (code, outcome) = admin_reload(&router).await;
    assert_eq!(code, 409);
    assert!(
        outcome["reason"].as_str().expect("reason").contains("was rolled back"),
        "{outcome}"
    );
    let metrics =
        String::from_utf8_lossy(&router_tests::get(router.addr, "/metrics").await.expect("metrics").body).to_string();
    assert!(metrics.contains("switchyard_plugin_rollbacks_total 1"), "{metrics}");
    router.stop().await;
}

/// Rebuilding a plugin (its .wasm replaced on disk, as `cargo xtask plugins` does) is picked
/// up by the watcher alone.
#[tokio::test]
async fn a_rebuilt_plugin_is_picked_up_by_the_watcher() {
    let router = start("json").await;
    assert_eq!(vendor_of_next_event(&router, "before").await, "json");
    let before = router.status().await;
    let plugin = router.config_path().with_file_name("n.wasm");
    let tmp = plugin.with_extension("wasm.tmp");
    // A rebuild: other bytes (here one more custom section), same settings.
    let mut rebuilt = std::fs::read(&plugin).expect("plugin");
    rebuilt.extend_from_slice(&custom_section("rebuilt", b"2"));
    std::fs::write(&tmp, &rebuilt).expect("build");
    std::fs::rename(&tmp, &plugin).expect("replace");
    let outcome = router.wait_reload(&before).await;
    assert_eq!(
        (outcome["outcome"].as_str(), outcome["trigger"].as_str()),
        (Some("applied"), Some("watcher")),
        "{outcome}"
    );
    let status = router.status().await;
    let loaded = status["plugins"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["id"] == "n"))
        .expect("plugin n in status");
    let digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&rebuilt).into();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(loaded["sha256"], hex.as_str(), "{status}");
    assert_eq!(vendor_of_next_event(&router, "after").await, "json");
    router.stop().await;
}

/// The watched directories also hold files nobody asked about (here: a log written every
/// 50 ms, faster than the watcher's quiet period): their writes must not postpone a reload
/// of the file that did change.
#[tokio::test]
async fn steady_writes_to_other_files_do_not_starve_a_reload() {
    let router = start("first").await;
    let noise = router.config_path().with_file_name("noise.log");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                tokio::fs::write(&noise, n.to_string()).await.expect("noise");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    // Let the noise run first, so the watcher is already seeing it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = router.status().await;
    router.write_config(&config("second"));
    let outcome = router.wait_reload(&before).await;
    stop.store(true, Ordering::Relaxed);
    writer.await.expect("noise writer");
    assert_eq!(
        (outcome["outcome"].as_str(), outcome["trigger"].as_str()),
        (Some("applied"), Some("watcher")),
        "{outcome}"
    );
    assert_eq!(vendor_of_next_event(&router, "1").await, "second");
    router.stop().await;
}
