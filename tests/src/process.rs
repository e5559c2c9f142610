//! The real `switchyard` binary as its own process, for the tests that need one (kill -9, signals,
//! file-descriptor limits, the package): spawning it on a config, talking plain HTTP/1.1 to it,
//! and the config those tests share.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The `switchyard` binary cargo built beside the running test (`target/<profile>/`): the host's
/// integration tests get it built with them.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    // target/<profile>/deps/<test>-<hash> → target/<profile>/switchyard
    let dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
    dir.join(format!("switchyard{}", std::env::consts::EXE_SUFFIX))
}

/// A command running the `switchyard` binary.
pub fn bin() -> Command {
    Command::new(binary())
}

/// Writes `dir/router.toml`: a router on 127.0.0.1:`port` with one JSON source `/in`
/// (normalize-json, the event id in `id`, bodies up to 8 MiB), `[server]` lines `server`, and
/// `sinks` — sink tables and the `[[routes]]` to them.
pub fn write_config(dir: &Path, port: u16, server: &str, sinks: &str) {
    write_config_with(dir, port, server, sinks, "listen = \"127.0.0.1:0\"");
}

/// [`write_config`] with the `[admin]` table's lines.
pub fn write_config_with(dir: &Path, port: u16, server: &str, sinks: &str, admin: &str) {
    let config = format!(
        r#"version = 1
[server]
listen = "127.0.0.1:{port}"
{server}

[plugins.n]
path = "{plugin}"
kind = "normalizer"
settings = {{ vendor = "acme", fields = {{ vendor_event_id = "id" }} }}

[[sources]]
id = "in"
path = "/in"
normalizer = "n"
max_body_bytes = 8388608

{sinks}

[admin]
{admin}
"#,
        plugin = plugin_path("normalize-json").display()
    );
    std::fs::write(dir.join("router.toml"), config).expect("write config");
}

/// A file sink `events` (`<data_dir>/events.jsonl`) and a route of every event to it.
pub const FILE_SINK: &str =
    "[sinks.events]\ntype = \"file\"\npath = \"events.jsonl\"\n\n[[routes]]\nsinks = [\"events\"]";

/// A first-party plugin as built by `cargo xtask plugins`.
pub fn plugin_path(name: &str) -> PathBuf {
    crate::plugins_dir().join(format!("{name}.wasm"))
}

/// The path of a Debian-packaged server the tests start (`scripts/<script>` installs it when
/// missing and prints where it is).
pub fn installed(script: &str) -> PathBuf {
    let out = Command::new("bash")
        .arg(crate::workspace().join("scripts").join(script))
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("run scripts/{script}: {e}"));
    assert!(out.status.success(), "scripts/{script} failed");
    let path = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or("")
        .trim()
        .to_string();
    assert!(!path.is_empty(), "scripts/{script} printed no path");
    PathBuf::from(path)
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Starts `switchyard run --config <config>` and returns once it logs that it listens; its log
/// keeps being drained so the router never blocks on a full pipe.
pub fn spawn_router(config: &Path) -> std::process::Child {
    let mut command = bin();
    command.args(["run", "--config"]).arg(config);
    wait_listening(command)
}

/// [`spawn_router`] with the open-file limit (soft and hard) lowered to `nofile`, as on a
/// host with the default limit of a service manager (`prlimit`, util-linux).
pub fn spawn_router_with_nofile(config: &Path, nofile: u64) -> std::process::Child {
    let mut command = Command::new("prlimit");
    command
        .arg(format!("--nofile={nofile}:{nofile}"))
        .arg("--")
        .arg(binary())
        .args(["run", "--config"])
        .arg(config);
    wait_listening(command)
}

/// Starts `command` (a router) and returns once it logs that it listens.
pub fn wait_listening(mut command: Command) -> std::process::Child {
    let mut child = command.stderr(Stdio::piped()).spawn().expect("spawn");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    loop {
        let Some(line) = lines.next() else {
            panic!("router exited early:\n{}", seen.join("\n"));
        };
        let line = line.expect("read");
        if line.contains("Router listening.") {
            break;
        }
        seen.push(line);
        assert!(Instant::now() < deadline, "router did not start:\n{}", seen.join("\n"));
    }
    std::thread::spawn(move || for _ in lines {});
    child
}

/// A router process killed when this is dropped, so a failing assertion does not leave it
/// running.
pub struct Running(pub std::process::Child);

impl Running {
    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn signal(child: &std::process::Child, name: &str) {
    assert!(
        Command::new("kill")
            .args([name, &child.id().to_string()])
            .status()
            .expect("kill")
            .success()
    );
}

/// One HTTP/1.1 exchange over a plain socket: (status, body).
pub fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    try_http(port, method, path, body).expect("HTTP exchange")
}

/// [`http`], reporting connection errors (a router that was just killed) instead of panicking.
pub fn try_http(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let status = answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// The sum of the `/metrics` samples on `port` whose line starts with `prefix` (every label
/// set of a metric when `prefix` ends before its labels); 0 when the router does not answer.
pub fn metric(port: u16, prefix: &str) -> u64 {
    let Ok((_, text)) = try_http(port, "GET", "/metrics", "") else {
        return 0;
    };
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next())
        .map(|v| v.trim().parse::<f64>().unwrap_or(0.0) as u64)
        .sum()
}
