//! Test harness shared by the integration tests: the real router on 127.0.0.1:0 with plugins
//! built from `plugins/`, a mock webhook receiver, an HTTP client, guests written in WAT, and
//! golden files (`BLESS=1` rewrites them).

#![allow(
    clippy::disallowed_methods,
    reason = "test harness: it reads whole bodies from our own router and mock receivers"
)]

pub mod attack;
pub mod browser;
pub mod config;
pub mod fuzz;
mod guests;
mod image;
pub mod load;
pub mod nats;
pub mod process;
pub mod registry;
pub mod targets;
pub mod tmpfs;

pub use guests::{wat_component, wat_component_with, wat_guest};
pub use image::{png, portrait_png};
/// Masks values that differ on every run, exactly as reload self-tests do.
pub use switchyard::reload::mask_volatile;

pub use config::Config;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard::Shutdown;
use tokio::net::TcpListener;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// Where `cargo xtask plugins` puts the built plugins; panics with the fix if they are missing.
pub fn plugins_dir() -> PathBuf {
    let dir = workspace().join("target/plugins");
    assert!(
        dir.join("normalize-json.wasm").exists(),
        "built plugins not found in {}: run `cargo xtask plugins` first (`make test` does)",
        dir.display()
    );
    dir
}

/// The vendor payload samples (`tests/fixtures/samples`, see its README for provenance).
pub fn samples_dir() -> PathBuf {
    workspace().join("tests/fixtures/samples")
}

/// A router running in this process on an ephemeral port, with its own data dir.
pub struct TestRouter {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its config directory (also holds `data/`).
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
    shutdown: Shutdown,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestRouter {
    /// Starts a router from config text; `{plugins}` is replaced by the built-plugins directory.
    pub async fn start(config: &str) -> TestRouter {
        TestRouter::start_with(config, &[]).await
    }

    /// Like [`TestRouter::start`], first writing `files` (name, content) into the config
    /// directory, which `{dir}` names in the config.
    pub async fn start_with(config: &str, files: &[(&str, &str)]) -> TestRouter {
        let files: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, c)| (*n, c.as_bytes().to_vec())).collect();
        TestRouter::start_with_files(config, &files).await
    }

    /// Like [`TestRouter::start_with`], with binary files (plugins).
    pub async fn start_with_files(config: &str, files: &[(&str, Vec<u8>)]) -> TestRouter {
        TestRouter::start_bound(config, files, "127.0.0.1:0").await
    }

    /// Like [`TestRouter::start`], listening on `bind` (e.g. a non-loopback address, to be
    /// reached as a remote peer).
    pub async fn start_on(config: &str, bind: &str) -> TestRouter {
        TestRouter::start_bound(config, &[], bind).await
    }

    async fn start_bound(config: &str, files: &[(&str, Vec<u8>)], bind: &str) -> TestRouter {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, content) in files {
            let path = dir.path().join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("a file's folder");
            }
            std::fs::write(path, content).expect("write file");
        }
        let text = expand(config, dir.path());
        let path = dir.path().join("router.toml");
        std::fs::write(&path, &text).expect("write config");
        let spec = switchyard::config::load(&path).unwrap_or_else(|e| panic!("test config does not compile:\n{e}"));
        let listener = TcpListener::bind(bind).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = Shutdown::new();
        let task = tokio::spawn(switchyard::run(spec, listener, shutdown.clone()));
        let root = dir.path().to_path_buf();
        let router = TestRouter {
            addr,
            dir: Some(dir),
            root,
            shutdown,
            task: Some(task),
        };
        router.wait_ready().await;
        router
    }

    async fn wait_ready(&self) {
        for _ in 0..200 {
            if let Ok(r) = get(self.addr, "/healthz").await
                && r.status == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("router on {} did not become ready", self.addr);
    }

    /// Its router.toml.
    pub fn config_path(&self) -> PathBuf {
        self.root.join("router.toml")
    }

    /// Rewrites router.toml (placeholders and console address as in [`TestRouter::start`])
    /// atomically, as an editor saving by rename would.
    pub fn write_config(&self, config: &str) {
        let text = expand(config, &self.root);
        let tmp = self.root.join(".router.toml.tmp");
        std::fs::write(&tmp, text).expect("write config");
        std::fs::rename(&tmp, self.config_path()).expect("rename config");
    }

    /// `GET /admin/status`.
    pub async fn status(&self) -> serde_json::Value {
        get(self.addr, "/admin/status").await.expect("status").json()
    }

    /// The console's base URL (`http://127.0.0.1:port`), from the status.
    pub async fn console(&self) -> String {
        let url = self.status().await["console"]
            .as_str()
            .expect("the router serves a console")
            .to_string();
        url.trim_end_matches("/ui").to_string()
    }

    /// Waits until the status reports a reload outcome different from `before`'s.
    pub async fn wait_reload(&self, before: &serde_json::Value) -> serde_json::Value {
        self.wait_reload_within(before, Duration::from_secs(10)).await
    }

    /// [`TestRouter::wait_reload`] with its own patience: a reload that follows a build
    /// running beside other builds (the kits' tests) can take longer than a config edit's.
    pub async fn wait_reload_within(&self, before: &serde_json::Value, limit: Duration) -> serde_json::Value {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            let status = self.status().await;
            if status["last_reload"] != before["last_reload"] && !status["last_reload"].is_null() {
                return status["last_reload"].clone();
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no reload reported within {limit:?}: {}", self.status().await);
    }

    /// The data directory.
    pub fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    /// Lines of a JSON Lines file under the data dir (empty when it does not exist).
    pub fn jsonl(&self, name: &str) -> Vec<serde_json::Value> {
        read_jsonl(&self.data().join(name))
    }

    /// Quarantine entries, oldest first.
    pub fn quarantined(&self) -> Vec<switchyard::quarantine::Entry> {
        switchyard::quarantine::Quarantine::new(&self.data())
            .list()
            .expect("read quarantine")
    }

    /// Stops the router and waits for it (sinks drained). The returned directory keeps the
    /// router's files alive for inspection until it is dropped.
    pub async fn stop(mut self) -> tempfile::TempDir {
        self.shutdown.trigger();
        if let Some(task) = self.task.take() {
            task.await.expect("router task").expect("router run");
        }
        self.dir.take().expect("dir present until stop")
    }
}

impl Drop for TestRouter {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

/// Starts a router on the config at `path` and expects the start to fail (a plugin refused,
/// say); returns the error with its causes.
pub async fn start_refused(path: &Path) -> String {
    let spec = switchyard::config::load(path).expect("the config itself compiles");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let run = switchyard::run(spec, listener, Shutdown::new());
    let failed = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("a refused start ends")
        .expect_err("the router must not start");
    format!("{failed:#}")
}

/// Reads a JSON Lines file.
pub fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .map(|t| {
            t.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).expect("valid JSON line"))
                .collect()
        })
        .unwrap_or_default()
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: hyper::HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("answer is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> anyhow::Result<Answer> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let mut req = hyper::Request::builder().method(method).uri(path);
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req = req.header("host", addr.to_string());
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let response = sender.send_request(req.body(Full::new(body.into()))?).await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await?.to_bytes();
    Ok(Answer { status, headers, body })
}

/// POSTs a JSON body.
pub async fn post_json(addr: SocketAddr, path: &str, body: impl Into<Bytes>) -> Answer {
    send(addr, "POST", path, &[("content-type", "application/json")], body)
        .await
        .expect("POST")
}

/// GETs a path.
pub async fn get(addr: SocketAddr, path: &str) -> anyhow::Result<Answer> {
    send(addr, "GET", path, &[], Bytes::new()).await
}

/// The value of the first `/metrics` line starting with `prefix` (a metric name with its
/// labels), 0 when there is none.
pub fn metric_value(metrics: &str, prefix: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(prefix).map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0)
}

/// A request the mock sink received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Path and query.
    pub path: String,
    /// Request headers.
    pub headers: hyper::HeaderMap,
    /// Body.
    pub body: Bytes,
}

/// A real HTTP server standing in for a webhook receiver. It answers `fail_status` to the first
/// `fail_first` requests (until [`MockSink::heal`]), then 200.
pub struct MockSink {
    /// Its address.
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    every: Arc<Mutex<Vec<(u16, Received)>>>,
    attempts: Arc<Mutex<usize>>,
    failures_left: Arc<std::sync::atomic::AtomicUsize>,
    stop: Shutdown,
}

impl MockSink {
    /// A receiver that accepts everything.
    pub async fn start() -> MockSink {
        MockSink::failing(0, 200).await
    }

    /// A receiver that fails the first `n` requests with `status`.
    pub async fn failing(n: usize, status: u16) -> MockSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind mock");
        MockSink::serve(listener, n, status)
    }

    /// A receiver that accepts everything, on a given address (a receiver coming back).
    pub async fn start_on(addr: SocketAddr) -> MockSink {
        let listener = TcpListener::bind(addr).await.expect("bind mock on its old port");
        MockSink::serve(listener, 0, 200)
    }

    fn serve(listener: TcpListener, n: usize, status: u16) -> MockSink {
        let addr = listener.local_addr().expect("addr");
        let received = Arc::new(Mutex::new(Vec::new()));
        let every = Arc::new(Mutex::new(Vec::new()));
        let attempts = Arc::new(Mutex::new(0usize));
        let failures_left = Arc::new(std::sync::atomic::AtomicUsize::new(n));
        let stop = Shutdown::new();
        let (rx, ev, at, left, st) = (
            received.clone(),
            every.clone(),
            attempts.clone(),
            failures_left.clone(),
            stop.clone(),
        );
        tokio::spawn(async move {
            loop {
                let (stream, _) = tokio::select! {
                    _ = st.cancelled() => break,
                    a = listener.accept() => match a { Ok(a) => a, Err(_) => continue },
                };
                let (rx, ev, at, left) = (rx.clone(), ev.clone(), at.clone(), left.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req: hyper::Request<Incoming>| {
                        let (rx, ev, at, left) = (rx.clone(), ev.clone(), at.clone(), left.clone());
                        async move {
                            let headers = req.headers().clone();
                            let path = req.uri().to_string();
                            let body = req
                                .into_body()
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            *at.lock().expect("lock") += 1;
                            let fail = left
                                .fetch_update(
                                    std::sync::atomic::Ordering::SeqCst,
                                    std::sync::atomic::Ordering::SeqCst,
                                    |l| l.checked_sub(1),
                                )
                                .is_ok();
                            let got = Received { path, headers, body };
                            let code = if fail {
                                status
                            } else {
                                rx.lock().expect("lock").push(got.clone());
                                200
                            };
                            ev.lock().expect("lock").push((code, got));
                            let mut resp = hyper::Response::new(Full::new(Bytes::from_static(b"{}")));
                            *resp.status_mut() = hyper::StatusCode::from_u16(code).expect("status");
                            Ok::<_, std::convert::Infallible>(resp)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        MockSink {
            addr,
            received,
            every,
            attempts,
            failures_left,
            stop,
        }
    }

    /// From now on, accept every request (the receiver was fixed).
    pub fn heal(&self) {
        self.failures_left.store(0, std::sync::atomic::Ordering::SeqCst);
    }

    /// Every request seen, with the status it got, in arrival order.
    pub fn every(&self) -> Vec<(u16, Received)> {
        self.every.lock().expect("lock").clone()
    }

    /// The URL to configure.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Requests accepted (2xx) so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// All requests seen, including failed ones.
    pub fn attempts(&self) -> usize {
        *self.attempts.lock().expect("lock")
    }

    /// Waits until at least `n` requests were accepted.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..400 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("mock sink got {} of {n} expected deliveries", self.received().len());
    }
}

impl Drop for MockSink {
    fn drop(&mut self) {
        self.stop.trigger();
    }
}

/// A mock HTTPS receiver (terminal API or webhook) with `tests/fixtures/tls/device.crt`, a
/// self-signed certificate for 127.0.0.1. It answers `answer` and records each JSON body, with
/// the request path under `_path`.
pub async fn https_receiver(answer: &'static [u8]) -> (SocketAddr, Arc<Mutex<Vec<serde_json::Value>>>) {
    use rustls::pki_types::pem::PemObject;
    let dir = workspace().join("tests/fixtures/tls");
    let certs: Vec<_> = rustls::pki_types::CertificateDer::pem_file_iter(dir.join("device.crt"))
        .expect("crt")
        .map(|c| c.expect("crt"))
        .collect();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(dir.join("device.key")).expect("key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("cert");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let (acceptor, record) = (acceptor.clone(), record.clone());
            tokio::spawn(async move {
                // Handshakes the client refuses (untrusted certificate) just end here.
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let record = record.clone();
                    async move {
                        let path = req.uri().path().to_string();
                        let body = switchyard::body::read_capped(req.into_body(), 1 << 20)
                            .await
                            .unwrap_or_default();
                        let mut json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                        json["_path"] = path.into();
                        record.lock().expect("lock").push(json);
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(Bytes::from_static(answer))))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (addr, seen)
}

/// Compares `actual` with the golden file `tests/<name>` (or rewrites it with BLESS=1).
pub fn golden(name: &str, actual: &str) {
    let path = workspace().join("tests").join(name);
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, actual).expect("bless");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing golden file {}; run with BLESS=1 to create it", path.display()));
    assert_eq!(
        actual,
        expected,
        "output differs from {} (BLESS=1 rewrites it after review)",
        path.display()
    );
}

/// Writes benchmark results into BENCHMARKS.md's table: each `(what, result)` row replaces the
/// row with the same `what` (or is appended), stamped with today's date; other rows stay.
pub fn record_benchmarks(rows: &[(String, String)]) {
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let path = workspace().join("BENCHMARKS.md");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let start = text
        .find("<!-- results -->")
        .expect("BENCHMARKS.md has a results marker");
    let end = text.find("<!-- /results -->").expect("BENCHMARKS.md has an end marker");
    let mut table: Vec<String> = text[start + "<!-- results -->".len()..end]
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("| what") && !l.starts_with("|---"))
        .map(str::to_string)
        .collect();
    for (what, result) in rows {
        let row = format!("| {what} | {result} | {date} |");
        match table.iter_mut().find(|l| l.starts_with(&format!("| {what} |"))) {
            Some(existing) => *existing = row,
            None => table.push(row),
        }
    }
    let updated = format!(
        "{}<!-- results -->\n| what | result | measured |\n|---|---|---|\n{}\n{}",
        &text[..start],
        table.join("\n"),
        &text[end..]
    );
    std::fs::write(&path, updated).expect("write BENCHMARKS.md");
}

/// Verifies a request's Standard Webhooks signature as a receiver would, from the spec:
/// base64(HMAC-SHA256(base64-decoded secret, "{webhook-id}.{webhook-timestamp}.{body}")).
pub fn verify_standard_webhook(secret: &str, request: &Received) -> Result<(), String> {
    use base64::Engine;
    use hmac::Mac;
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| format!("no {name} header"))
    };
    let (id, timestamp, signature) = (
        header("webhook-id")?,
        header("webhook-timestamp")?,
        header("webhook-signature")?,
    );
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .map_err(|e| e.to_string())?;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&request.body);
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    // The header may list several space-separated signatures (key rotation).
    if signature.split(' ').any(|s| s == expected) {
        Ok(())
    } else {
        Err(format!("signature {signature} does not match {expected}"))
    }
}

/// A test config as written to disk: `{plugins}` and `{dir}` filled in, and, unless it has an
/// `[admin]` table, the console on an ephemeral port (many test routers run at once; a reload
/// keeps the console's address, so every version of a config must say the same).
fn expand(config: &str, dir: &Path) -> String {
    let mut text = config
        .replace("{plugins}", &plugins_dir().display().to_string())
        .replace("{dir}", &dir.display().to_string());
    if !text.contains("[admin]") {
        text.push_str("\n[admin]\nlisten = \"127.0.0.1:0\"\n");
    }
    text
}
