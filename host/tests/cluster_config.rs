//! Config and plugins from the cluster: `switchyard publish` once, and every router started
//! with `run --from-cluster` runs it (real nats-server, real router processes); a broken
//! release is refused by every node, which keeps its running config and reports the refusal.

use router_tests::nats::{Nats, Node, Receiver, cluster_table, write_config};
use router_tests::process::{bin, free_port, try_http};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

/// `switchyard publish --config <config>`: its JSON summary.
fn publish(config: &Path) -> serde_json::Value {
    let out = bin()
        .args(["publish", "--config"])
        .arg(config)
        .output()
        .expect("publish");
    assert!(
        out.status.success(),
        "publish: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("publish JSON")
}

/// The config's text and its plugin's `path = …` line.
fn config_and_plugin_line(config: &Path) -> (String, String) {
    let text = std::fs::read_to_string(config).expect("config");
    let line = text
        .lines()
        .find(|l| l.starts_with("path = "))
        .expect("plugin path")
        .to_string();
    (text, line)
}

/// Polls `node`'s /admin/status until `done` holds for it (at most 20 s).
async fn wait_status(port: u16, what: &str, done: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let status = try_http(port, "GET", "/admin/status", "")
            .ok()
            .and_then(|(_, body)| serde_json::from_str::<serde_json::Value>(&body).ok())
            .unwrap_or_default();
        if done(&status) {
            return status;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}: {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_published_once_reaches_every_node_and_a_broken_one_is_refused_and_reported() {
    let nats = tokio::task::spawn_blocking(Nats::start).await.expect("nats");
    let receiver = Receiver::start().await;
    // The operator's copy: an ordinary router.toml with [cluster].
    let operator = tempfile::tempdir().expect("tmp");
    write_config(operator.path(), free_port(), &nats, "operator", receiver.port);
    let config = operator.path().join("router.toml");
    let first = publish(&config);
    assert_eq!(first["files"], 1, "{first}");
    assert_eq!(first["uploaded"], 1, "{first}");

    // Two nodes with only their own settings; everything else comes from the cluster.
    let mut nodes = Vec::new();
    for name in ["fc-0", "fc-1"] {
        let dir = tempfile::tempdir().expect("tmp");
        let port = free_port();
        std::fs::write(
            dir.path().join("node.toml"),
            format!(
                "version = 1\n[server]\nlisten = \"127.0.0.1:{port}\"\n[admin]\nlisten = \"127.0.0.1:0\"\n{}",
                cluster_table(&nats, name)
            ),
        )
        .expect("node file");
        let mut command = bin();
        command
            .args(["run", "--from-cluster", "--config"])
            .arg(dir.path().join("node.toml"));
        let child = tokio::task::spawn_blocking(move || router_tests::process::wait_listening(command))
            .await
            .expect("spawn");
        nodes.push(Node {
            dir,
            port,
            child: Some(child),
        });
    }
    for node in &nodes {
        let status = node.status();
        assert_eq!(status["config_sha256"], first["config_sha256"], "{status}");
        assert!(node.dir.path().join("data/cluster-config/router.toml").exists());
        let (code, body) =
            try_http(node.port, "POST", "/in", &format!(r#"{{"id": "v1-{}"}}"#, node.port)).expect("post");
        assert_eq!(code, 200, "{body}");
    }

    // A new plugin setting, published once, reaches both nodes.
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, text.replace("vendor = \"acme\"", "vendor = \"beta\"")).expect("edit");
    let second = publish(&config);
    assert_eq!(second["uploaded"], 0, "the plugin file was already there: {second}");
    assert_ne!(second["config_sha256"], first["config_sha256"]);
    for node in &nodes {
        wait_status(node.port, "the second release applied", |s| {
            s["config_sha256"] == second["config_sha256"]
        })
        .await;
        let (code, _) = try_http(node.port, "POST", "/in", &format!(r#"{{"id": "v2-{}"}}"#, node.port)).expect("post");
        assert_eq!(code, 200);
    }
    let ids: BTreeSet<String> = nodes.iter().map(|n| format!("v2-{}", n.port)).collect();
    assert!(receiver.wait_for(&ids, Duration::from_secs(20)).await.is_empty());
    assert!(
        receiver.log().iter().any(|(_, id)| id.starts_with("v2-")),
        "delivered after the publish"
    );

    // A signed plugin and the key that signed it, trusted from a file: publish carries both,
    // and every node verifies the signature against that key.
    let (text, plugin_line) = config_and_plugin_line(&config);
    let original = plugin_line.trim_start_matches("path = ").trim_matches('"').to_string();
    let dir = operator.path();
    let run = |args: &[&str]| {
        let out = bin().args(args).current_dir(dir).output().expect("switchyard");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["plugin", "keygen", "acme"]);
    run(&[
        "plugin",
        "sign",
        &original,
        "--key",
        "acme.pem",
        "--claims",
        "version=2.0.0",
        "-o",
        "signed.wasm",
    ]);
    std::fs::write(
        &config,
        text.replace(&plugin_line, "path = \"signed.wasm\"")
            + "\n[trust]\nrequire_signature = true\nkeys = [{ id = \"acme\", public_key_file = \"acme.pub\" }]\n",
    )
    .expect("edit");
    let signed = publish(&config);
    assert_eq!(signed["files"], 2, "the plugin and the key file: {signed}");
    for node in &nodes {
        let status = wait_status(node.port, "the signed release applied", |s| {
            s["config_sha256"] == signed["config_sha256"]
        })
        .await;
        let plugin = &status["plugins"][0];
        assert_eq!(plugin["signer"]["trusted_as"], "acme", "{status}");
        assert_eq!(plugin["signer"]["claims"]["version"], "2.0.0", "{status}");
    }

    // A broken plugin is published (publish only compiles): every node refuses it, keeps
    // the second release running, and says so in the cluster's status.
    let broken = operator.path().join("broken.wasm");
    std::fs::write(&broken, b"not a component").expect("broken plugin");
    let (text, plugin_line) = config_and_plugin_line(&config);
    std::fs::write(
        &config,
        text.replace(&plugin_line, &format!("path = \"{}\"", broken.display())),
    )
    .expect("edit");
    let third = publish(&config);
    for node in &nodes {
        let status = wait_status(node.port, "the broken release rejected", |s| {
            s["last_reload"]["outcome"] == "rejected" && s["last_reload"]["config_sha256"] == third["config_sha256"]
        })
        .await;
        assert_eq!(
            status["config_sha256"], signed["config_sha256"],
            "kept the signed release"
        );
        let (code, _) = try_http(node.port, "POST", "/in", r#"{"id": "still-serving"}"#).expect("post");
        assert_eq!(code, 200);
    }
    // Any node shows every node's refusal.
    let status = wait_status(nodes[0].port, "both refusals reported", |s| {
        ["fc-0", "fc-1"]
            .iter()
            .all(|n| s["cluster"]["nodes"][n]["last_reload"]["outcome"] == "rejected")
    })
    .await;
    let reason = status["cluster"]["nodes"]["fc-1"]["last_reload"]["reason"]
        .as_str()
        .unwrap_or("");
    assert!(reason.contains("plugin"), "{reason}");
}
