//! A real `nats-server` with JetStream on loopback, in a temp dir, for the cluster tests
//! (installed by `scripts/nats-server.sh` when missing). It can be killed and started again
//! on the same port and store, as an operator's restart would.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `nats-server` executable (installed if missing).
fn executable() -> PathBuf {
    let script = super::workspace().join("scripts/nats-server.sh");
    let out = Command::new("bash")
        .arg(&script)
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/nats-server.sh");
    assert!(out.status.success(), "scripts/nats-server.sh failed");
    let path = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or("")
        .trim()
        .to_string();
    assert!(!path.is_empty(), "scripts/nats-server.sh printed no path");
    PathBuf::from(path)
}

/// A running (or stopped) nats-server.
pub(crate) struct Nats {
    exe: PathBuf,
    pub(crate) port: u16,
    store: tempfile::TempDir,
    child: Option<Child>,
}

impl Nats {
    /// Starts a JetStream server on a free loopback port.
    pub(crate) fn start() -> Nats {
        let mut nats = Nats {
            exe: executable(),
            port: super::free_port(),
            store: tempfile::tempdir().expect("nats store"),
            child: None,
        };
        nats.up();
        nats
    }

    /// The URL routers connect to.
    pub(crate) fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts it (again), on the same port and store.
    pub(crate) fn up(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut child = Command::new(&self.exe)
                .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string(), "-sd"])
                .arg(self.store.path())
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
    pub(crate) fn kill(&mut self) {
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
pub(crate) fn cluster_table(nats: &Nats, node: &str) -> String {
    format!(
        "[cluster]\nnats_url = \"{}\"\nnode = \"{node}\"\nack_wait_secs = 2\npublish_timeout_ms = 2000\n",
        nats.url()
    )
}

/// Waits in a synchronous helper (a process starting).
fn pause(ms: u64) {
    #[expect(clippy::disallowed_methods, reason = "a synchronous helper polling a child process")]
    std::thread::sleep(Duration::from_millis(ms));
}
