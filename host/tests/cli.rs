//! The real `switchyard` binary: exit codes and output of `check` and `plugin test`, and `run`
//! serving the default config until SIGTERM.

use router_tests::process::{bin, free_port, http, plugin_path, signal, spawn_router};
use router_tests::workspace;
use std::time::{Duration, Instant};

#[test]
fn check_reports_errors_with_positions_and_fails() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("router.toml");
    std::fs::write(
        &config,
        "version = 1\n[server]\nlisten = \"127.0.0.1:8080\"\nport = 1\n",
    )
    .expect("write");
    let out = bin()
        .args(["check", "--no-plugins", "--config"])
        .arg(&config)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown field `port`") && stderr.contains("router.toml:4:1"),
        "{stderr}"
    );
}

#[test]
fn check_accepts_the_default_config() {
    let out = bin()
        .args(["check", "--no-plugins", "--config"])
        .arg(workspace().join("router.toml"))
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: "));
}

#[test]
fn plugin_test_prints_events_as_json() {
    let plugin = plugin_path("normalize-json");
    assert!(plugin.exists(), "run `cargo xtask plugins` first (`make test` does)");
    let dir = tempfile::tempdir().expect("tmp");
    let input = dir.path().join("in.json");
    std::fs::write(&input, r#"[{"id": 1}, {"id": 2}]"#).expect("write");
    let out = bin()
        .args(["plugin", "test"])
        .arg(&plugin)
        .arg(&input)
        .args(["--settings", r#"{"fields": {"vendor_event_id": "id"}}"#])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(report["events"].as_array().map(Vec::len), Some(2));
    assert_eq!(report["events"][1]["vendor_event_id"], "2");
    assert_eq!(report["events"][1]["delivery"]["batch_index"], 1);
}

#[test]
fn plugin_test_fails_with_the_plugins_message_on_bad_input() {
    let plugin = plugin_path("normalize-json");
    let dir = tempfile::tempdir().expect("tmp");
    let input = dir.path().join("in.json");
    std::fs::write(&input, "not json").expect("write");
    let out = bin()
        .args(["plugin", "test"])
        .arg(&plugin)
        .arg(&input)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("rejected the input: body is not valid JSON"),
        "{stderr}"
    );
}

/// `switchyard run` on a copy of the default config: listens, turns a POST into a line in
/// data/events.jsonl, and exits cleanly on SIGTERM.
#[test]
fn run_serves_until_sigterm() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let config = std::fs::read_to_string(workspace().join("router.toml"))
        .expect("router.toml")
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"))
        // The console on a port of its own: tests run side by side (and beside `make run`).
        .replace("127.0.0.1:8081", "127.0.0.1:0")
        .replace(
            "\"target/plugins/",
            &format!("\"{}/target/plugins/", workspace().display()),
        );
    std::fs::write(dir.path().join("router.toml"), config).expect("write");
    let mut child = spawn_router(&dir.path().join("router.toml"));
    let (status, answer) = http(
        port,
        "POST",
        "/ingest/json",
        r#"{"id": "cli-1", "action": "face_matched", "matched": true}"#,
    );
    assert_eq!(status, 200, "{answer}");
    let events = std::fs::read_to_string(dir.path().join("data/events.jsonl")).expect("events.jsonl");
    assert!(events.contains("\"vendor_event_id\":\"cli-1\""), "{events}");
    signal(&child, "-TERM");
    let exit = child.wait().expect("wait");
    assert!(exit.success(), "{exit:?}");
}

fn reload_config(port: u16, vendor: &str) -> String {
    format!(
        "version = 1\n[server]\nlisten = \"127.0.0.1:{port}\"\ndedup_window_secs = 0\n[plugins.n]\npath = \"{}\"\nkind = \"normalizer\"\nsettings = {{ vendor = \"{vendor}\", fields = {{ vendor_event_id = \"id\" }} }}\n[[sources]]\nid = \"in\"\npath = \"/in\"\nnormalizer = \"n\"\n[sinks.f]\ntype = \"file\"\npath = \"events.jsonl\"\n[[routes]]\nsinks = [\"f\"]\n[admin]\nlisten = \"127.0.0.1:0\"\n",
        plugin_path("normalize-json").display()
    )
}

fn wait_for_trigger(port: u16, trigger: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = http(port, "GET", "/admin/status", "");
        let status: serde_json::Value = serde_json::from_str(&body).expect("status JSON");
        if status["last_reload"]["trigger"] == trigger {
            return status;
        }
        assert!(Instant::now() < deadline, "no {trigger} reload: {status}");
        #[expect(clippy::disallowed_methods, reason = "a synchronous test polling a child process")]
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `switchyard run` picks up an edited router.toml by itself, and reloads on SIGHUP.
#[test]
fn run_reloads_on_edit_and_on_sighup() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let config = dir.path().join("router.toml");
    std::fs::write(&config, reload_config(port, "one")).expect("write");
    let mut child = spawn_router(&config);
    let vendor_of = |id: &str| {
        assert_eq!(http(port, "POST", "/in", &format!(r#"{{"id": "{id}"}}"#)).0, 200);
        let events = std::fs::read_to_string(dir.path().join("data/events.jsonl")).expect("events");
        let line = events
            .lines()
            .find(|l| l.contains(&format!("\"vendor_event_id\":\"{id}\"")))
            .expect("event")
            .to_string();
        serde_json::from_str::<serde_json::Value>(&line).expect("json")["vendor"]
            .as_str()
            .expect("vendor")
            .to_string()
    };
    assert_eq!(vendor_of("1"), "one");
    // An editor saving by rename.
    let tmp = dir.path().join(".router.toml.swp");
    std::fs::write(&tmp, reload_config(port, "two")).expect("write");
    std::fs::rename(&tmp, &config).expect("rename");
    assert_eq!(wait_for_trigger(port, "watcher")["last_reload"]["outcome"], "applied");
    assert_eq!(vendor_of("2"), "two");
    std::fs::write(&config, reload_config(port, "three")).expect("write");
    signal(&child, "-HUP");
    let status = wait_for_trigger(port, "signal");
    assert!(
        matches!(status["last_reload"]["outcome"].as_str(), Some("applied" | "unchanged")),
        "{status}"
    );
    assert_eq!(vendor_of("3"), "three");
    signal(&child, "-TERM");
    assert!(child.wait().expect("wait").success());
}

/// `switchyard dlq list` (table and `--json`), `dlq replay` and `dlq purge` on an outbox with one dead
/// letter, with no router running: the replayed event waits in the outbox for the next start.
#[tokio::test]
async fn dlq_list_replay_and_purge_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("router.toml");
    std::fs::write(
        &config,
        "version = 1\n[sinks.hook]\ntype = \"webhook\"\nurl = \"http://127.0.0.1:9/hook\"\n",
    )
    .expect("write");
    let store = switchyard::outbox::Store::open(&dir.path().join("data")).expect("outbox");
    let row = switchyard::queue::NewRow {
        sink: "hook".into(),
        webhook_id: "msg_cli".into(),
        ordering_key: None,
        created_ms: switchyard::clock::now_ms(),
        payload: br#"{"vendor_event_id":"cli-dead"}"#.to_vec().into(),
    };
    store.enqueue(vec![row]).await.expect("enqueue");
    let id = store
        .read(|c| switchyard::outbox::sql::load(c, "hook", 0, 1))
        .await
        .expect("load")[0]
        .id;
    store.bury(id, 3, "HTTP 410: gone".into());
    store.flush().await.expect("flush");

    let list = |json: bool| {
        let mut cmd = bin();
        cmd.args(["dlq", "list", "--config"]).arg(&config);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().expect("run");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let table = list(false);
    assert!(
        table.contains("msg_cli") && table.contains("HTTP 410: gone") && table.contains("1 dead letter(s)"),
        "{table}"
    );
    let line: serde_json::Value = serde_json::from_str(list(true).trim()).expect("one JSON line");
    assert_eq!(
        (
            line["sink"].as_str(),
            line["attempts"].as_u64(),
            line["event"]["vendor_event_id"].as_str()
        ),
        (Some("hook"), Some(3), Some("cli-dead"))
    );

    let out = bin()
        .args(["dlq", "replay", "--sink", "hook", "--config"])
        .arg(&config)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("summary");
    assert_eq!(
        (summary["matched"].as_u64(), summary["requeued"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(list(false).contains("0 dead letter(s)"));
    let waiting = store
        .read(|c| switchyard::outbox::sql::load(c, "hook", 0, 10))
        .await
        .expect("load");
    assert_eq!((waiting.len(), waiting[0].webhook_id.as_str()), (1, "msg_cli"));

    // Purge: the requeued event is no dead letter any more; bury it again and purge it.
    store.bury(waiting[0].id, 1, "HTTP 410: gone".into());
    store.flush().await.expect("flush");
    let out = bin()
        .args(["dlq", "purge", "--before", "2999-01-01T00:00:00Z", "--config"])
        .arg(&config)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), r#"{"purged":1}"#);
    assert!(list(false).contains("0 dead letter(s)"));

    let out = bin()
        .args(["dlq", "list", "--since", "yesterday", "--config"])
        .arg(&config)
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an RFC 3339 time"));
}
