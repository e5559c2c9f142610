//! The router under test as its own process, pinned to a core.

#![allow(
    clippy::disallowed_methods,
    reason = "a benchmark driver: blocking waits on child processes are the point"
)]

use router_tests::plugins_dir;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The plugins the router under test loads.
pub(crate) fn bench_plugins() -> PathBuf {
    std::env::var_os("SWITCHYARD_BENCH_PLUGINS")
        .map(PathBuf::from)
        .unwrap_or_else(plugins_dir)
}

/// The release router as a child process pinned to core 0, killed on drop.
pub(crate) struct RouterProcess {
    child: Child,
    pub(crate) addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl RouterProcess {
    pub(crate) fn start(binary: &Path, scratch: &Path, config: &str) -> RouterProcess {
        RouterProcess::spawn(binary, scratch, config, None)
    }

    /// [`RouterProcess::start`] under an open-file limit of `nofile` (soft and hard).
    pub(crate) fn start_limited(binary: &Path, scratch: &Path, config: &str, nofile: u64) -> RouterProcess {
        RouterProcess::spawn(binary, scratch, config, Some(nofile))
    }

    fn spawn(binary: &Path, scratch: &Path, config: &str, nofile: Option<u64>) -> RouterProcess {
        let dir = tempfile::tempdir_in(scratch).expect("router dir");
        let addr = free_port();
        let text = config
            .replace("{listen}", &addr.to_string())
            .replace("{plugins}", &bench_plugins().display().to_string());
        let path = dir.path().join("router.toml");
        std::fs::write(&path, text).expect("config");
        let mut command = match nofile {
            Some(n) => {
                let mut c = Command::new("prlimit");
                c.arg(format!("--nofile={n}:{n}")).args(["--", "taskset"]);
                c
            }
            None => Command::new("taskset"),
        };
        let child = command
            .args(["-c", "0"])
            .arg(binary)
            .args(["run", "--no-watch", "--config"])
            .arg(&path)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("router.log")).expect("log"))
            .spawn()
            .expect("start the router");
        let router = RouterProcess { child, addr, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "the router did not start listening on {addr}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        router
    }

    fn proc_file(&self, name: &str) -> String {
        std::fs::read_to_string(PathBuf::from(format!("/proc/{}/{name}", self.child.id()))).unwrap_or_default()
    }

    /// User + system CPU seconds the router has used.
    pub(crate) fn cpu_secs(&self) -> f64 {
        let stat = self.proc_file("stat");
        let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        // Fields 14 and 15 of /proc/<pid>/stat (utime, stime), counted after the name.
        let ticks: u64 = fields
            .get(11..13)
            .into_iter()
            .flatten()
            .filter_map(|f| f.parse::<u64>().ok())
            .sum();
        ticks as f64 / 100.0
    }

    /// Context switches (voluntary and not) of all the router's threads so far: a request that
    /// hops between threads pays two per hop, the cost the batch-1 profile was made of.
    pub(crate) fn context_switches(&self) -> u64 {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{}/task", self.child.id())) else {
            return 0;
        };
        tasks
            .flatten()
            .filter_map(|task| std::fs::read_to_string(task.path().join("status")).ok())
            .flat_map(|status| {
                status
                    .lines()
                    .filter_map(|l| {
                        l.strip_prefix("voluntary_ctxt_switches:")
                            .or_else(|| l.strip_prefix("nonvoluntary_ctxt_switches:"))
                            .and_then(|v| v.trim().parse::<u64>().ok())
                    })
                    .collect::<Vec<_>>()
            })
            .sum()
    }

    pub(crate) fn peak_rss_kb(&self) -> u64 {
        self.proc_file("status")
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for RouterProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr")
}

/// Pins this process (and the threads it starts later) to `core`, away from the router's.
pub(crate) fn pin_self_to_core(core: u32) {
    let pinned = Command::new("taskset")
        .args(["-p", "-c", &core.to_string(), &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status();
    if !pinned.is_ok_and(|s| s.success()) {
        eprintln!("warning: could not pin the benchmark driver to core {core}");
    }
}
