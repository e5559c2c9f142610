//! The attacker's and the observer's tools for the hostile tests: many loopback source
//! addresses, raised descriptor limits, `/metrics` and `/proc` readings, a small tmpfs.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::net::{TcpSocket, TcpStream};

/// Lets this test process open the attacker's many sockets.
pub(crate) fn raise_own_fd_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    limit.current = limit.maximum;
    let _ = setrlimit(Resource::Nofile, limit);
}

/// A connection from `from` (any 127.0.0.x is this machine) to the router on `port`.
pub(crate) async fn connect_from(from: Ipv4Addr, port: u16) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(from), 0))?;
    tokio::time::timeout(
        Duration::from_secs(2),
        socket.connect(SocketAddr::from(([127, 0, 0, 1], port))),
    )
    .await
    .map_err(|_| std::io::Error::other("connect timed out"))?
}

/// One request from `from` on a fresh connection, answered within `deadline`: its status
/// (0: no answer — refused, reset or timed out) and its body.
pub(crate) async fn request_from(
    from: Ipv4Addr,
    port: u16,
    method: &str,
    path: &str,
    headers: &str,
    body: &[u8],
    deadline: Duration,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut s = connect_from(from, port).await?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).await?;
        s.write_all(body).await?;
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&answer).into_owned())
    };
    match tokio::time::timeout(deadline, exchange).await {
        Ok(Ok(answer)) => {
            let status = answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
            let body = answer
                .split_once("\r\n\r\n")
                .map(|(_, b)| b.to_string())
                .unwrap_or_default();
            (status, body)
        }
        _ => (0, String::new()),
    }
}

/// The `p` quantile of sorted latencies.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// The sum of the `/metrics` samples on `port` whose line starts with `prefix` (all label
/// sets of a metric when `prefix` ends before its labels).
pub(crate) fn metric(port: u16, prefix: &str) -> u64 {
    let Ok((_, text)) = super::try_http(port, "GET", "/metrics", "") else {
        return 0;
    };
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next())
        .map(|v| v.trim().parse::<f64>().unwrap_or(0.0) as u64)
        .sum()
}

/// The resident memory of process `pid`, from /proc.
pub(crate) fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Samples a process's RSS every 25 ms until dropped; `peak` reads the highest so far.
pub(crate) struct RssPeak {
    peak: std::sync::Arc<std::sync::atomic::AtomicU64>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl RssPeak {
    pub(crate) fn start(pid: u32) -> RssPeak {
        use std::sync::atomic::Ordering;
        let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(rss_bytes(pid)));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (p, s) = (peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss_bytes(pid), Ordering::Relaxed);
                #[expect(clippy::disallowed_methods, reason = "a sampler thread of its own, not async code")]
                std::thread::sleep(Duration::from_millis(25));
            }
        });
        RssPeak { peak, stop }
    }

    pub(crate) fn peak(&self) -> u64 {
        self.peak.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for RssPeak {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A tmpfs of `bytes` mounted on a fresh directory, unmounted when dropped; `None` (with a
/// note) when this process may not mount (not root).
pub(crate) struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    pub(crate) fn mount(bytes: u64) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("tempdir");
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            assert!(
                !rustix::process::geteuid().is_root(),
                "root, but `mount -t tmpfs` failed"
            );
            eprintln!("skipped: mounting a tmpfs needs root");
            return None;
        }
        Some(Tmpfs(dir))
    }

    pub(crate) fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.0.path())
            .status();
    }
}

/// Waits until `ready` holds, up to `within`.
pub(crate) async fn until(within: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if ready() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ready()
}
