//! Cluster mode against a real nats-server with JetStream (installed by the test setup when
//! missing) and real `switchyard` processes: three routers behind the test's own round-robin
//! client share one queue; one is killed with SIGKILL under load and every acknowledged event
//! still reaches the receiver under one webhook-id; a vendor retry that reaches another router
//! is dropped by the stream's duplicate window; NATS restarted under load means 503s while it
//! is down and no loss after; dead letters live in the cluster and replay from the CLI.

use router_tests::nats::cluster;
use router_tests::process::{bin, metric, try_http};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// Every acknowledged event reaches `receiver` within a minute.
async fn assert_all_delivered(receiver: &router_tests::nats::Receiver, acked: &BTreeSet<String>) {
    let missing = receiver.wait_for(acked, Duration::from_secs(60)).await;
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged events never arrived, e.g. {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(5)]
    );
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

    assert_all_delivered(&receiver, &acked).await;
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
    // The console's API shows the cluster's queue for the sink.
    let (code, body) = try_http(console_port(&nodes[1]), "GET", "/admin/api/v1/sinks", "").expect("sinks");
    assert_eq!(code, 200, "{body}");
    let sinks: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(sinks["sinks"][0]["type"], "webhook", "{sinks}");
    assert_eq!(sinks["sinks"][0]["cluster"]["pending"], 0, "{sinks}");
    assert_eq!(sinks["sinks"][0]["queued"], 0, "{sinks}");
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
    // Longer than publish_timeout_ms (2 s): a request caught mid-publish is answered by then.
    tokio::time::sleep(Duration::from_millis(3000)).await;
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
    assert_all_delivered(&receiver, &acked).await;
    assert_one_webhook_id_per_event(&receiver.log());
    // The 503s were quarantined with the reason, so they can be replayed too.
    let quarantined: usize = nodes
        .iter()
        .map(|n| {
            switchyard::quarantine::Quarantine::new(&n.dir.path().join("data"))
                .list()
                .expect("quarantine")
                .len()
        })
        .sum();
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

/// Waits until the NATS cluster at `url` has elected its JetStream leader (a replicated
/// stream can be created), as a router's start needs.
async fn jetstream_ready(url: &str) {
    let client = async_nats::connect(url).await.expect("connect");
    let js = async_nats::jetstream::new(client);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let probe = js
            .create_stream(async_nats::jetstream::stream::Config {
                name: "PROBE".into(),
                subjects: vec!["probe".into()],
                num_replicas: 3,
                ..Default::default()
            })
            .await;
        match probe {
            Ok(_) => {
                let _ = js.delete_stream("PROBE").await;
                return;
            }
            Err(e) => assert!(
                tokio::time::Instant::now() < deadline,
                "JetStream cluster not ready: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_server_nats_cluster_loses_a_server_under_load_and_no_acknowledged_event() {
    let mut servers = tokio::task::spawn_blocking(|| router_tests::nats::Nats::cluster(3))
        .await
        .expect("nats cluster");
    let urls: Vec<String> = servers.iter().map(|s| s.url()).collect();
    let urls = urls.join(",");
    jetstream_ready(&servers[0].url()).await;
    let receiver = router_tests::nats::Receiver::start().await;
    let mut nodes = Vec::new();
    for name in ["r3-0", "r3-1"] {
        let table = router_tests::nats::cluster_table_at(&urls, name, 3);
        nodes.push(router_tests::nats::Node::start_with(table, &receiver).await);
    }
    let load = Load::start(nodes.iter().map(|n| n.port).collect(), 4);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = load.acked();
    servers[0].kill();
    let killed = tokio::time::Instant::now();
    // If the dead server led the streams, the other two elect a new leader first (503s
    // meanwhile, as while a single server is down); then acknowledgements go on.
    while load.acked() < before + 50 {
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "the routers never acknowledged again on the two remaining servers: {:?}",
            load.statuses()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let recovered = killed.elapsed();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let (acked, statuses) = load.finish();
    eprintln!(
        "acked {} ({before} before a NATS server died; acknowledging again after {recovered:?}), statuses {statuses:?}",
        acked.len()
    );
    assert!(before > 50, "the load reached the cluster: {before}");
    assert_all_delivered(&receiver, &acked).await;
    assert_one_webhook_id_per_event(&receiver.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reloaded_dedup_window_becomes_the_streams_duplicate_window() {
    let (nats, _receiver, nodes) = cluster(1).await;
    let config = nodes[0].config();
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace("dedup_window_secs = 600", "dedup_window_secs = 900"),
    )
    .expect("edit");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while nodes[0].status()["last_reload"]["outcome"] != "applied" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no reload: {}",
            nodes[0].status()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.expect("connect"));
    let mut stream = js.get_stream("SWITCHYARD").await.expect("stream");
    let window = stream.info().await.expect("info").config.duplicate_window;
    assert_eq!(window, Duration::from_secs(900));
    // A change of [cluster] itself needs a restart: the reload says so and changes nothing.
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, text.replace("ack_wait_secs = 2", "ack_wait_secs = 3")).expect("edit");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let status = nodes[0].status();
        if status["last_reload"]["outcome"] == "rejected" {
            assert!(
                status["last_reload"]["reason"]
                    .as_str()
                    .unwrap_or("")
                    .contains("cluster cannot change"),
                "{status}"
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no rejection: {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The port of `node`'s console (and admin API).
fn console_port(node: &router_tests::nats::Node) -> u16 {
    let status = node.status();
    status["console"]
        .as_str()
        .and_then(|c| c.trim_end_matches("/ui").rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("console URL in {status}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_lists_replays_and_purges_the_clusters_dead_letters() {
    let (_nats, receiver, nodes) = cluster(1).await;
    receiver.status.store(400, Ordering::SeqCst);
    for i in 0..3 {
        let (status, _) = try_http(nodes[0].port, "POST", "/in", &format!(r#"{{"id": "c-{i}"}}"#)).expect("post");
        assert_eq!(status, 200);
    }
    let port = console_port(&nodes[0]);
    let api = |method: &str, path: &str, body: &str| {
        let (code, text) = try_http(port, method, &format!("/admin/api/v1/{path}"), body).expect("API");
        (
            code,
            serde_json::from_str::<serde_json::Value>(&text).unwrap_or_default(),
        )
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let listed = loop {
        let (_, listed) = api("GET", "dead-letters", "");
        if listed["total"] == 3 || tokio::time::Instant::now() > deadline {
            break listed;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(listed["total"], 3, "{listed}");
    let first = listed["dead_letters"][0]["id"].as_i64().expect("id");
    let (code, purged) = api(
        "POST",
        "dead-letters/purge",
        &format!(r#"{{"ids": [{first}], "confirm": "purge"}}"#),
    );
    assert_eq!((code, purged["purged"].as_i64()), (200, Some(1)), "{purged}");
    receiver.status.store(200, Ordering::SeqCst);
    let (code, job) = api("POST", "dead-letters/replay", r#"{"all": true}"#);
    assert_eq!(code, 202, "{job}");
    assert_eq!(job["matched"], 2, "{job}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while receiver.log().len() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "replayed: {:?}", receiver.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(api("GET", "dead-letters", "").1["total"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_left_in_the_outbox_are_delivered_after_switching_to_cluster_mode() {
    use router_tests::nats::{Nats, Receiver, write_config};
    // A router ran without [cluster] and stopped with two events undelivered in its outbox.
    let dir = tempfile::tempdir().expect("tmp");
    let store = switchyard::outbox::Store::open(&dir.path().join("data")).expect("outbox");
    let row = |n: u32| switchyard::queue::NewRow {
        sink: "hook".into(),
        webhook_id: format!("msg_left_{n}"),
        ordering_key: None,
        created_ms: switchyard::clock::now_ms(),
        payload: bytes::Bytes::from(format!(r#"{{"vendor_event_id": "left-{n}"}}"#)),
    };
    store.enqueue(vec![row(1), row(2)]).await.expect("enqueue");
    store.flush().await.expect("flush");
    drop(store);

    // The same data dir, now in cluster mode: the cluster's queue delivers them too.
    let nats = tokio::task::spawn_blocking(Nats::start).await.expect("nats");
    let receiver = Receiver::start().await;
    write_config(
        dir.path(),
        router_tests::process::free_port(),
        &nats,
        "switched",
        receiver.port,
    );
    let config = dir.path().join("router.toml");
    let _router = router_tests::process::Running(
        tokio::task::spawn_blocking(move || router_tests::process::spawn_router(&config))
            .await
            .expect("spawn"),
    );
    let ids: BTreeSet<String> = ["left-1", "left-2"].into_iter().map(String::from).collect();
    let missing = receiver.wait_for(&ids, Duration::from_secs(20)).await;
    assert!(
        missing.is_empty(),
        "not delivered after switching to cluster mode: {missing:?}"
    );
    let webhook_ids: BTreeSet<String> = receiver.log().into_iter().map(|(id, _)| id).collect();
    assert!(
        webhook_ids.contains("msg_left_1"),
        "the outbox's webhook-ids are kept: {webhook_ids:?}"
    );
}
