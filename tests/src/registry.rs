//! A real OCI registry on loopback for the tests: Debian's `docker-registry` (the CNCF
//! distribution registry), installed by `scripts/docker-registry.sh` when missing, on a free
//! port with its own storage; stopped when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `docker-registry` executable (installed if missing; once per test process).
fn executable() -> PathBuf {
    static PATH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| crate::process::installed("docker-registry.sh"))
        .clone()
}

/// A running registry.
pub struct Registry {
    /// `127.0.0.1:<port>`.
    pub address: String,
    child: Option<Child>,
    _storage: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry with empty storage and waits until it answers `/v2/`.
    pub fn start() -> Registry {
        let storage = tempfile::tempdir().expect("registry storage");
        let address = format!("127.0.0.1:{}", crate::process::free_port());
        let config = storage.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {address}\n",
                storage.path().join("data").display()
            ),
        )
        .expect("registry config");
        let child = Command::new(executable())
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start docker-registry");
        let registry = Registry {
            address,
            child: Some(child),
            _storage: storage,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(&registry.address).is_err() {
            assert!(
                Instant::now() < deadline,
                "docker-registry did not listen on {}",
                registry.address
            );
            #[expect(
                clippy::disallowed_methods,
                reason = "a synchronous helper waiting for a child process"
            )]
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }

    /// `oci://<address>/<repository>`.
    pub fn reference(&self, repository_and_tag: &str) -> String {
        format!("oci://{}/{repository_and_tag}", self.address)
    }

    /// Stops it (the network goes away: what was pulled must come from the cache).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}
