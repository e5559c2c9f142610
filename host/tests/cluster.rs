//! Cluster mode against a real nats-server with JetStream (installed by the test setup when
//! missing) and real `switchyard` processes: three routers behind the test's own round-robin
//! client share one queue; one is killed with SIGKILL under load and every acknowledged event
//! still reaches the receiver under one webhook-id; a vendor retry that reaches another router
//! is dropped by the stream's duplicate window; NATS restarted under load means 503s while it
//! is down and no loss after; dead letters live in the cluster and replay from the CLI.

mod common;

use bytes::Bytes;
use common::nats::{Nats, cluster_table};
use common::{bin, free_port, spawn_router, try_http};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A webhook receiver logging (webhook-id, vendor_event_id) of each accepted request; it
/// answers `status` (200 unless a test changes it) after a 1 ms pause.
#[derive(Clone)]
struct Receiver {
    port: u16,
    log: Arc<Mutex<Vec<(String, String)>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let receiver = Receiver {
            port: listener.local_addr().expect("addr").port(),
            log: Arc::default(),
            status: Arc::new(AtomicU16::new(200)),
        };
        let r = receiver.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let r = r.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: hyper::Request<Incoming>| {
                        let r = r.clone();
                        async move {
                            let id = req
                                .headers()
                                .get("webhook-id")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("")
                                .to_string();
                            #[expect(clippy::disallowed_methods, reason = "the test receiver reads whole bodies")]
                            let body = req
                                .into_body()
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            tokio::time::sleep(Duration::from_millis(1)).await;
                            let status = r.status.load(Ordering::SeqCst);
                            if status == 200 {
                                let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                                let vendor_id = event["vendor_event_id"].as_str().unwrap_or("").to_string();
                                r.log.lock().expect("lock").push((id, vendor_id));
                            }
                            let mut response = hyper::Response::new(Full::new(Bytes::from_static(b"{}")));
                            *response.status_mut() = hyper::StatusCode::from_u16(status).expect("status");
                            Ok::<_, std::convert::Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        receiver
    }

    fn log(&self) -> Vec<(String, String)> {
        self.log.lock().expect("lock").clone()
    }

    /// Waits until every id in `ids` was delivered; returns those still missing at the deadline.
    async fn wait_for(&self, ids: &BTreeSet<String>, within: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let delivered: BTreeSet<String> = self.log().into_iter().map(|(_, v)| v).collect();
            let missing: Vec<String> = ids.difference(&delivered).cloned().collect();
            if missing.is_empty() || tokio::time::Instant::now() > deadline {
                return missing;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A router of the cluster, in its own directory (data dir and config).
struct Node {
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
}

impl Node {
    async fn start(nats: &Nats, name: &str, receiver: &Receiver) -> Node {
        let dir = tempfile::tempdir().expect("tmp");
        let port = free_port();
        write_config(dir.path(), port, nats, name, receiver.port);
        let config = dir.path().join("router.toml");
        let child = tokio::task::spawn_blocking(move || spawn_router(&config))
            .await
            .expect("spawn");
        Node {
            dir,
            port,
            child: Some(child),
        }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("router.toml")
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL the router");
            child.wait().expect("reap");
        }
    }

    fn status(&self) -> serde_json::Value {
        let (_, body) = try_http(self.port, "GET", "/admin/status", "").expect("status");
        serde_json::from_str(&body).expect("status JSON")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

fn write_config(dir: &Path, port: u16, nats: &Nats, node: &str, receiver: u16) {
    common::write_config(
        dir,
        port,
        "dedup_window_secs = 600",
        &format!(
            r#"[sinks.hook]
type = "webhook"
url = "http://127.0.0.1:{receiver}/hook"
concurrency = 4
backoff_ms = 50
max_backoff_ms = 200
max_attempts = 3

[[routes]]
sinks = ["hook"]

{}"#,
            cluster_table(nats, node)
        ),
    );
}

async fn cluster(n: usize) -> (Nats, Receiver, Vec<Node>) {
    let nats = tokio::task::spawn_blocking(Nats::start).await.expect("nats");
    let receiver = Receiver::start().await;
    let mut nodes = Vec::new();
    for i in 0..n {
        nodes.push(Node::start(&nats, &format!("node-{i}"), &receiver).await);
    }
    (nats, receiver, nodes)
}

/// Senders posting numbered events round-robin over `ports`, moving on to the next router
/// when one refuses or is gone (what a vendor behind a load balancer sees). Returns the ids
/// the routers acknowledged with a 200 and the statuses seen.
struct Load {
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<BTreeSet<String>>>,
    statuses: Arc<Mutex<BTreeMap<u16, usize>>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(ports: Vec<u16>, senders: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let acked: Arc<Mutex<BTreeSet<String>>> = Arc::default();
        let statuses: Arc<Mutex<BTreeMap<u16, usize>>> = Arc::default();
        let threads = (0..senders)
            .map(|worker| {
                let (stop, acked, statuses, ports) = (stop.clone(), acked.clone(), statuses.clone(), ports.clone());
                std::thread::spawn(move || {
                    let mut n = 0usize;
                    while !stop.load(Ordering::SeqCst) {
                        let id = format!("w{worker}-{n:06}");
                        let port = ports[(n + worker) % ports.len()];
                        let status = match try_http(port, "POST", "/in", &format!(r#"{{"id": "{id}"}}"#)) {
                            Ok((status, _)) => status,
                            Err(_) => 0,
                        };
                        *statuses.lock().expect("lock").entry(status).or_default() += 1;
                        if status == 200 {
                            acked.lock().expect("lock").insert(id);
                        }
                        n += 1;
                    }
                })
            })
            .collect();
        Load {
            stop,
            acked,
            statuses,
            threads,
        }
    }

    fn acked(&self) -> usize {
        self.acked.lock().expect("lock").len()
    }

    fn statuses(&self) -> BTreeMap<u16, usize> {
        self.statuses.lock().expect("lock").clone()
    }

    fn finish(self) -> (BTreeSet<String>, BTreeMap<u16, usize>) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            t.join().expect("sender");
        }
        let acked = self.acked.lock().expect("lock").clone();
        let statuses = self.statuses.lock().expect("lock").clone();
        (acked, statuses)
    }
}

/// Every delivery carries a webhook-id, and an event delivered twice carries the same one.
fn assert_one_webhook_id_per_event(log: &[(String, String)]) {
    let mut ids: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (webhook_id, vendor_id) in log {
        assert!(!webhook_id.is_empty(), "every delivery has a webhook-id");
        ids.entry(vendor_id).or_default().insert(webhook_id);
    }
    let split: Vec<_> = ids.iter().filter(|(_, w)| w.len() > 1).take(5).collect();
    assert!(
        split.is_empty(),
        "events delivered under different webhook-ids: {split:?}"
    );
}

fn metric(port: u16, name: &str) -> u64 {
    let (_, metrics) = try_http(port, "GET", "/metrics", "").unwrap_or_default();
    metrics
        .lines()
        .filter_map(|l| l.strip_prefix(name))
        .filter_map(|rest| rest.rsplit(' ').next()?.trim().parse::<u64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_routers_share_the_queue_and_a_kill_9_loses_no_acknowledged_event() {
    let (_nats, receiver, mut nodes) = cluster(3).await;
    let load = Load::start(nodes.iter().map(|n| n.port).collect(), 6);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before_kill = load.acked();
    nodes[0].kill();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (acked, statuses) = load.finish();
    eprintln!(
        "acked {} ({before_kill} before the kill), statuses {statuses:?}",
        acked.len()
    );
    assert!(before_kill > 50, "the load reached the cluster: {before_kill} acked");
    assert!(
        acked.len() > before_kill,
        "the other routers kept acknowledging after the kill"
    );

    let missing = receiver.wait_for(&acked, Duration::from_secs(60)).await;
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged events never arrived, e.g. {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(5)]
    );
    let log = receiver.log();
    assert_one_webhook_id_per_event(&log);
    let repeats = log.len() - log.iter().map(|(w, _)| w).collect::<BTreeSet<_>>().len();
    eprintln!("{} deliveries, {repeats} repeated after the kill", log.len());
    // Both survivors delivered: the queue is shared, not per router.
    for node in &nodes[1..] {
        assert!(
            metric(node.port, "switchyard_delivered_total") > 0,
            "router on {} delivered nothing",
            node.port
        );
    }
    // /admin/status shows the cluster, this node and the others' reports.
    let status = nodes[1].status();
    let cluster = &status["cluster"];
    assert_eq!(cluster["node"], "node-1", "{status}");
    assert_eq!(cluster["connected"], true);
    assert!(cluster["nodes"]["node-2"].is_object(), "{cluster}");
    assert_eq!(cluster["sinks"]["hook"]["pending"], 0, "{cluster}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_retry_that_reaches_another_router_is_delivered_once() {
    let (_nats, receiver, nodes) = cluster(2).await;
    let body = r#"{"id": "retry-1", "score": 0.9}"#;
    for node in &nodes {
        let (status, answer) = try_http(node.port, "POST", "/in", body).expect("post");
        assert_eq!(status, 200, "{answer}");
    }
    let ids: BTreeSet<String> = ["retry-1".to_string()].into();
    assert!(receiver.wait_for(&ids, Duration::from_secs(20)).await.is_empty());
    // Give a second delivery time to show up if the duplicate window had let it through.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(receiver.log().len(), 1, "{:?}", receiver.log());
    assert_eq!(metric(nodes[1].port, "switchyard_cluster_duplicates_total"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_restart_under_load_means_503_meanwhile_and_no_loss() {
    let (mut nats, receiver, nodes) = cluster(2).await;
    let load = Load::start(nodes.iter().map(|n| n.port).collect(), 4);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    nats.kill();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let during = load.statuses();
    let nats = tokio::task::spawn_blocking(move || {
        nats.up();
        nats
    })
    .await
    .expect("restart nats");
    // Recovery: acknowledgements resume.
    let resumed_from = load.acked();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while load.acked() < resumed_from + 50 {
        assert!(tokio::time::Instant::now() < deadline, "no 200s after NATS came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (acked, statuses) = load.finish();
    eprintln!("statuses during the outage {during:?}, overall {statuses:?}");
    assert!(
        during.get(&503).copied().unwrap_or(0) > 0,
        "routers answered 503 while NATS was down: {during:?}"
    );
    let missing = receiver.wait_for(&acked, Duration::from_secs(60)).await;
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged events never arrived, e.g. {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(5)]
    );
    assert_one_webhook_id_per_event(&receiver.log());
    // The 503s were quarantined with the reason, so they can be replayed too.
    let quarantined = std::fs::read_dir(nodes[0].dir.path().join("data/quarantine"))
        .map(|d| d.count())
        .unwrap_or(0)
        + std::fs::read_dir(nodes[1].dir.path().join("data/quarantine"))
            .map(|d| d.count())
            .unwrap_or(0);
    assert!(quarantined > 0, "refused requests were kept");
    drop(nats);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_live_in_the_cluster_and_replay_from_the_cli() {
    let (_nats, receiver, nodes) = cluster(1).await;
    receiver.status.store(400, Ordering::SeqCst);
    for i in 0..3 {
        let (status, _) = try_http(nodes[0].port, "POST", "/in", &format!(r#"{{"id": "dead-{i}"}}"#)).expect("post");
        assert_eq!(status, 200);
    }
    let config = nodes[0].config();
    let list = |config: &Path| {
        let out = bin()
            .args(["dlq", "list", "--json", "--config"])
            .arg(config)
            .output()
            .expect("dlq list");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line"))
            .collect::<Vec<_>>()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let dead = loop {
        let dead = list(&config);
        if dead.len() == 3 || tokio::time::Instant::now() > deadline {
            break dead;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(dead.len(), 3, "{dead:?}");
    assert_eq!(dead[0]["sink"], "hook");
    assert!(
        dead[0]["last_error"].as_str().unwrap_or("").contains("400"),
        "{}",
        dead[0]
    );
    assert!(
        dead[0]["event"]["vendor_event_id"]
            .as_str()
            .unwrap_or("")
            .starts_with("dead-")
    );

    receiver.status.store(200, Ordering::SeqCst);
    let out = tokio::task::spawn_blocking(move || {
        bin()
            .args(["dlq", "replay", "--wait", "20s", "--config"])
            .arg(&config)
            .output()
            .expect("dlq replay")
    })
    .await
    .expect("replay");
    let summary: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(summary["requeued"], 3, "{summary}");
    assert_eq!(summary["delivered"], 3, "{summary}");
    let ids: BTreeSet<String> = (0..3).map(|i| format!("dead-{i}")).collect();
    assert!(receiver.wait_for(&ids, Duration::from_secs(10)).await.is_empty());
    assert!(
        list(&nodes[0].config()).is_empty(),
        "replayed letters left the dead-letter stream"
    );
    // Same webhook-id as the original attempts.
    let original: BTreeSet<String> = dead
        .iter()
        .map(|d| d["webhook_id"].as_str().unwrap_or("").to_string())
        .collect();
    let delivered: BTreeSet<String> = receiver.log().into_iter().map(|(w, _)| w).collect();
    assert_eq!(original, delivered);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_sinks_publish_each_event_to_its_subject_before_the_answer() {
    use futures_util::StreamExt;
    let mut nats = tokio::task::spawn_blocking(Nats::start).await.expect("nats");
    // The integrator's side: a subscriber, and a stream for the JetStream sink.
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let mut live = client.subscribe("faces.>").await.expect("subscribe");
    let js = async_nats::jetstream::new(client.clone());
    js.create_stream(async_nats::jetstream::stream::Config {
        name: "STORED".into(),
        subjects: vec!["stored.>".into()],
        ..Default::default()
    })
    .await
    .expect("stream");
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    common::write_config(
        dir.path(),
        port,
        "dedup_window_secs = 0",
        &format!(
            r#"[sinks.live]
type = "nats"
url = "{url}"
subject = "faces.{{vendor}}.{{/vendor_event_id}}"

[sinks.stored]
type = "nats"
url = "{url}"
subject = "stored.{{vendor}}"
jetstream = true
timeout_ms = 1000

[[routes]]
sinks = ["live", "stored"]"#,
            url = nats.url()
        ),
    );
    let config = dir.path().join("router.toml");
    let mut router = tokio::task::spawn_blocking(move || spawn_router(&config))
        .await
        .expect("spawn");
    let body = r#"{"id": "cam.7"}"#;
    let (status, answer) = try_http(port, "POST", "/in", body).expect("post");
    assert_eq!(status, 200, "{answer}");
    let message = tokio::time::timeout(Duration::from_secs(5), live.next())
        .await
        .expect("a live message")
        .expect("message");
    // Field values are single tokens: the dot in the id is replaced.
    assert_eq!(message.subject.as_str(), "faces.acme.cam_7");
    let event: serde_json::Value = serde_json::from_slice(&message.payload).expect("event JSON");
    assert_eq!(event["vendor_event_id"], "cam.7");
    let webhook_id = message
        .headers
        .as_ref()
        .and_then(|h| h.get("Switchyard-Webhook-Id"))
        .map(|v| v.as_str().to_string())
        .expect("webhook-id header");
    assert!(webhook_id.starts_with("msg_"), "{webhook_id}");
    // The same event again (the router's own dedup is off): the stream's duplicate window
    // keeps one copy, by its webhook-id.
    let (status, _) = try_http(port, "POST", "/in", body).expect("post");
    assert_eq!(status, 200);
    let mut stream = js.get_stream("STORED").await.expect("stream");
    assert_eq!(stream.info().await.expect("info").state.messages, 1);
    // NATS gone: the request fails with 503 and is kept, not answered 200 and lost.
    nats.kill();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, answer) = try_http(port, "POST", "/in", r#"{"id": "lost?"}"#).expect("post");
    assert_eq!(status, 503, "{answer}");
    assert!(answer.contains("quarantined"), "{answer}");
    router.kill().expect("kill");
    router.wait().expect("reap");
}

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
        let child = tokio::task::spawn_blocking(move || common::wait_listening(command))
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

    // A broken plugin is published (publish only compiles): every node refuses it, keeps
    // the second release running, and says so in the cluster's status.
    let broken = operator.path().join("broken.wasm");
    std::fs::write(&broken, b"not a component").expect("broken plugin");
    let text = std::fs::read_to_string(&config).expect("config");
    let plugin_line = text
        .lines()
        .find(|l| l.starts_with("path = "))
        .expect("plugin path")
        .to_string();
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
            status["config_sha256"], second["config_sha256"],
            "kept the second release"
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
