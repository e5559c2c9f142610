//! A sender cannot roll back a freshly deployed plugin, against the real binary: a new
//! version of the JSON normalizer is deployed by a reload, then an unauthenticated sender
//! posts inputs so big that the events they make are over `max_event_bytes`. That is the
//! input's fault (422, kept in the quarantine), not a fault of the plugin: the new version
//! stays, and the operator's next reload is not refused.

use router_tests::process::metric;
use router_tests::process::{free_port, http, plugin_path, spawn_router};

/// `bytes` with a custom section appended: the same component, but a new file (a new
/// version, as a rebuild with another compiler would make).
fn new_version(bytes: &[u8]) -> Vec<u8> {
    let name = b"switchyard-test";
    let payload = b"version 2";
    let mut out = bytes.to_vec();
    out.push(0); // custom section
    out.push((1 + name.len() + payload.len()) as u8);
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    out.extend_from_slice(payload);
    out
}

#[test]
fn hostile_inputs_do_not_roll_back_a_new_plugin_version() {
    let dir = tempfile::tempdir().expect("tmp");
    let plugin = dir.path().join("n.wasm");
    let original = std::fs::read(plugin_path("normalize-json")).expect("plugin");
    std::fs::write(&plugin, &original).expect("plugin");
    let port = free_port();
    let config = format!(
        r#"version = 1
[server]
listen = "127.0.0.1:{port}"
limits = {{ max_event_bytes = 4096 }}

[plugins.n]
path = "{plugin}"
kind = "normalizer"
settings = {{ vendor = "acme", fields = {{ vendor_event_id = "id" }} }}
rollback = {{ max_failure_ratio = 0.5, min_calls = 10, window_secs = 300 }}

[[sources]]
id = "in"
path = "/in"
normalizer = "n"

{sinks}

[admin]
listen = "127.0.0.1:0"
"#,
        plugin = plugin.display(),
        sinks = router_tests::process::FILE_SINK,
    );
    std::fs::write(dir.path().join("router.toml"), config).expect("config");
    let router = router_tests::process::Running(spawn_router(&dir.path().join("router.toml")));

    std::fs::write(&plugin, new_version(&original)).expect("deploy");
    let (status, outcome) = http(port, "POST", "/admin/reload", "");
    assert_eq!(status, 200, "{outcome}");
    assert!(outcome.contains("applied"), "{outcome}");

    let big = "x".repeat(8 << 10);
    for i in 0..10 {
        let (status, body) = http(port, "POST", "/in", &format!(r#"{{"id": "big-{i}", "note": "{big}"}}"#));
        assert_eq!(status, 422, "an event over max_event_bytes from a big input: {body}");
        assert!(body.contains("max_event_bytes"), "{body}");
    }
    let (_, status) = http(port, "GET", "/admin/status", "");
    assert!(!status.contains("rolled_back"), "{status}");
    assert_eq!(metric(port, "switchyard_plugin_rollbacks_total "), 0);
    assert_eq!(http(port, "POST", "/in", r#"{"id": "small"}"#).0, 200);
    let quarantined = std::fs::read_dir(dir.path().join("data/quarantine"))
        .expect("quarantine")
        .count();
    assert_eq!(
        quarantined, 10,
        "the big inputs are kept for a replay with a higher limit"
    );
    // The operator's next deploy goes through.
    std::fs::write(&plugin, &original).expect("deploy");
    let (status, outcome) = http(port, "POST", "/admin/reload", "");
    assert_eq!(status, 200, "{outcome}");
    drop(router);
}
