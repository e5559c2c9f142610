//! A real `nats-server` with JetStream on loopback, in a temp dir, for the cluster tests
//! (installed by `scripts/nats-server.sh` when missing). It can be killed and started again
//! on the same port and store, as an operator's restart would.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The `nats-server` executable (installed if missing; once per test process).
fn executable() -> PathBuf {
    static PATH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| crate::process::installed("nats-server.sh")).clone()
}

/// A running (or stopped) nats-server.
pub struct Nats {
    exe: PathBuf,
    pub port: u16,
    store: tempfile::TempDir,
    child: Option<Child>,
    /// Clustering flags (name, cluster port, routes to the others) for a server of a cluster.
    cluster_args: Vec<String>,
}

impl Nats {
    /// Starts a JetStream server on a free loopback port.
    pub fn start() -> Nats {
        let mut nats = Nats {
            exe: executable(),
            port: crate::process::free_port(),
            store: tempfile::tempdir().expect("nats store"),
            child: None,
            cluster_args: Vec::new(),
        };
        nats.up();
        nats
    }

    /// Starts `n` JetStream servers routed into one NATS cluster (each with its own store),
    /// as a site running replicated streams would.
    pub fn cluster(n: usize) -> Vec<Nats> {
        let exe = executable();
        let cluster_ports: Vec<u16> = (0..n).map(|_| crate::process::free_port()).collect();
        let mut servers: Vec<Nats> = (0..n)
            .map(|i| {
                let routes: Vec<String> = cluster_ports
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, p)| format!("nats://127.0.0.1:{p}"))
                    .collect();
                Nats {
                    exe: exe.clone(),
                    port: crate::process::free_port(),
                    store: tempfile::tempdir().expect("nats store"),
                    child: None,
                    cluster_args: vec![
                        "--server_name".into(),
                        format!("sw{i}"),
                        "--cluster_name".into(),
                        "switchyard-test".into(),
                        "--cluster".into(),
                        format!("nats://127.0.0.1:{}", cluster_ports[i]),
                        "--routes".into(),
                        routes.join(","),
                    ],
                }
            })
            .collect();
        for server in &mut servers {
            server.up();
        }
        servers
    }

    /// The URL routers connect to.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts it (again), on the same port and store.
    pub fn up(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut child = Command::new(&self.exe)
                .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string(), "-sd"])
                .arg(self.store.path())
                .args(&self.cluster_args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn nats-server");
            // Ready when it accepts connections (JetStream recovers its store before that).
            while Instant::now() < deadline {
                if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                    self.child = Some(child);
                    return;
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break; // the port was still held by the killed server: try again
                }
                pause(50);
            }
            let _ = child.kill();
            let _ = child.wait();
            assert!(Instant::now() < deadline, "nats-server did not start on {}", self.port);
            pause(200);
        }
    }

    /// Kills it (SIGKILL): no goodbye to the clients.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The `[cluster]` table for a router of this server (short ack wait: a killed router's events
/// move on quickly).
pub fn cluster_table(nats: &Nats, node: &str) -> String {
    cluster_table_at(&nats.url(), node, 1)
}

/// [`cluster_table`] for servers at `urls` (comma-separated) and streams with `replicas`.
pub fn cluster_table_at(urls: &str, node: &str, replicas: usize) -> String {
    format!(
        "[cluster]\nnats_url = \"{urls}\"\nnode = \"{node}\"\nreplicas = {replicas}\nack_wait_secs = 2\npublish_timeout_ms = 2000\n"
    )
}

/// A webhook receiver logging (webhook-id, vendor_event_id) of each accepted request; it
/// answers `status` (200 unless a test changes it) after a 1 ms pause.
#[derive(Clone)]
pub struct Receiver {
    pub port: u16,
    log: Arc<Mutex<Vec<(String, String)>>>,
    pub status: Arc<AtomicU16>,
}

impl Receiver {
    pub async fn start() -> Receiver {
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

    pub fn log(&self) -> Vec<(String, String)> {
        self.log.lock().expect("lock").clone()
    }

    /// Waits until every id in `ids` was delivered; returns those still missing at the deadline.
    pub async fn wait_for(&self, ids: &BTreeSet<String>, within: Duration) -> Vec<String> {
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
pub struct Node {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub child: Option<Child>,
}

impl Node {
    pub async fn start(nats: &Nats, name: &str, receiver: &Receiver) -> Node {
        Node::start_with(cluster_table(nats, name), receiver).await
    }

    /// A router whose `[cluster]` table is `table`.
    pub async fn start_with(table: String, receiver: &Receiver) -> Node {
        let dir = tempfile::tempdir().expect("tmp");
        let port = crate::process::free_port();
        write_config_with(dir.path(), port, &table, receiver.port);
        let config = dir.path().join("router.toml");
        let child = tokio::task::spawn_blocking(move || crate::process::spawn_router(&config))
            .await
            .expect("spawn");
        Node {
            dir,
            port,
            child: Some(child),
        }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("router.toml")
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL the router");
            child.wait().expect("reap");
        }
    }

    pub fn status(&self) -> serde_json::Value {
        let (_, body) = crate::process::try_http(self.port, "GET", "/admin/status", "").expect("status");
        serde_json::from_str(&body).expect("status JSON")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A router of the cluster on `port` with one webhook sink to `receiver`.
pub fn write_config(dir: &Path, port: u16, nats: &Nats, node: &str, receiver: u16) {
    write_config_with(dir, port, &cluster_table(nats, node), receiver);
}

/// [`write_config`] with the `[cluster]` table given.
pub fn write_config_with(dir: &Path, port: u16, table: &str, receiver: u16) {
    crate::process::write_config(
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

{table}"#
        ),
    );
}

/// nats-server, a receiver and `n` routers.
pub async fn cluster(n: usize) -> (Nats, Receiver, Vec<Node>) {
    let nats = tokio::task::spawn_blocking(Nats::start).await.expect("nats");
    let receiver = Receiver::start().await;
    let mut nodes = Vec::new();
    for i in 0..n {
        nodes.push(Node::start(&nats, &format!("node-{i}"), &receiver).await);
    }
    (nats, receiver, nodes)
}

/// Waits in a synchronous helper (a process starting).
fn pause(ms: u64) {
    #[expect(clippy::disallowed_methods, reason = "a synchronous helper polling a child process")]
    std::thread::sleep(Duration::from_millis(ms));
}
