//! The Debian package, built from this build's binary and used as an operator would, without
//! installing it on the test machine: its files and control data, its systemd unit
//! (`systemd-analyze verify` and `security`), its man pages, completions and config; then the
//! packaged binary alone — no checkout, no `target/plugins` — runs a config `switchyard init`
//! wrote in an empty directory, normalizes a FindFace and a SenseNebula sample with its
//! built-in plugins, and tells a service manager (a `$NOTIFY_SOCKET` the test listens on)
//! when it is ready, reloading and stopping.
//!
//! The package is built with `--fast` (gzip -1) from the debug binary; `make deb` runs the
//! same script on the release binary.

mod common;

use common::{free_port, http, signal, workspace};
use std::io::Read;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn run(command: &mut Command) -> String {
    let out = command.output().expect("spawn");
    assert!(
        out.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Builds the package into `out`; returns its path.
fn build_deb(out: &Path) -> PathBuf {
    run(Command::new("bash").arg(workspace().join("scripts/package-tools.sh")));
    let printed = run(Command::new("bash")
        .arg(workspace().join("packaging/build-deb.sh"))
        .arg("--fast")
        .arg(env!("CARGO_BIN_EXE_switchyard"))
        .arg(out));
    PathBuf::from(printed.trim())
}

/// The next notification the router sends, as its lines.
fn next_notification(socket: &UnixDatagram) -> Vec<String> {
    let mut buf = [0u8; 4096];
    let n = socket.recv(&mut buf).expect("a notification before the timeout");
    String::from_utf8_lossy(&buf[..n]).lines().map(str::to_string).collect()
}

#[test]
fn the_package_carries_a_hardened_service_that_runs_from_an_empty_directory() {
    let work = tempfile::tempdir().expect("tempdir");
    let deb = build_deb(&work.path().join("out"));
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        deb.ends_with(format!("switchyard_{version}_amd64.deb")),
        "{}",
        deb.display()
    );

    // What it holds.
    let listing = run(Command::new("dpkg-deb").arg("--contents").arg(&deb));
    for path in [
        "./usr/bin/switchyard",
        "./etc/switchyard/router.toml",
        "./etc/default/switchyard",
        "./lib/systemd/system/switchyard.service",
        "./usr/share/man/man1/switchyard.1.gz",
        "./usr/share/man/man1/switchyard-run.1.gz",
        "./usr/share/man/man1/switchyard-init.1.gz",
        "./usr/share/bash-completion/completions/switchyard",
        "./usr/share/zsh/vendor-completions/_switchyard",
        "./usr/share/fish/vendor_completions.d/switchyard.fish",
        "./usr/share/doc/switchyard/copyright",
        "./usr/share/doc/switchyard/changelog.gz",
        "./usr/share/doc/switchyard/config.md",
        "./usr/share/doc/switchyard/upgrading.md",
    ] {
        assert!(
            listing.lines().any(|l| l.ends_with(path)),
            "{path} missing from the package:\n{listing}"
        );
    }
    // Files that may hold secrets are not world-readable.
    for line in listing.lines().filter(|l| l.contains("./etc/")) {
        if !line.starts_with('d') {
            assert!(line.starts_with("-rw-r-----"), "{line}");
        }
    }

    // Its control data: version, dependencies, conffiles, maintainer scripts, checksums.
    let control = work.path().join("control");
    run(Command::new("dpkg-deb").arg("--control").arg(&deb).arg(&control));
    let fields = std::fs::read_to_string(control.join("control")).expect("control");
    assert!(fields.contains(&format!("Version: {version}\n")), "{fields}");
    assert!(fields.contains("Depends: libc6"), "{fields}");
    assert_eq!(
        std::fs::read_to_string(control.join("conffiles")).expect("conffiles"),
        "/etc/switchyard/router.toml\n/etc/default/switchyard\n"
    );
    for script in ["postinst", "prerm", "postrm"] {
        run(Command::new("sh").arg("-n").arg(control.join(script)));
    }
    let root = work.path().join("root");
    run(Command::new("dpkg-deb").arg("--extract").arg(&deb).arg(&root));
    run(Command::new("md5sum")
        .arg("--check")
        .arg("--quiet")
        .arg(control.join("md5sums"))
        .current_dir(&root));

    // The unit: valid for systemd (with ExecStart pointed at the extracted binary, as
    // installed it points at /usr/bin), and sandboxed: exposure at most 2.0 of 10.
    let unit = std::fs::read_to_string(root.join("lib/systemd/system/switchyard.service")).expect("unit");
    for directive in [
        "Type=notify",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "DynamicUser=yes",
        "StateDirectory=switchyard",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "SystemCallFilter=@system-service",
        "LimitNOFILE=65536",
    ] {
        assert!(unit.lines().any(|l| l == directive), "the unit lacks {directive}");
    }
    let binary = root.join("usr/bin/switchyard");
    let checked_unit = work.path().join("switchyard.service");
    std::fs::write(
        &checked_unit,
        unit.replace("/usr/bin/switchyard", &binary.display().to_string()),
    )
    .expect("unit copy");
    run(Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&checked_unit));
    let security = run(Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--threshold=20", "--no-pager"])
        .arg(&checked_unit));
    assert!(security.contains("Overall exposure level"), "{security}");

    // The packaged config is what `init` writes for the service's data dir, and it compiles.
    let packaged = std::fs::read_to_string(root.join("etc/switchyard/router.toml")).expect("packaged config");
    assert!(packaged.contains("data_dir = \"/var/lib/switchyard\""), "{packaged}");
    run(Command::new(&binary)
        .args(["check", "--no-plugins", "--config"])
        .arg(root.join("etc/switchyard/router.toml")));
    let mut page = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(root.join("usr/share/man/man1/switchyard-init.1.gz")).expect("man page"),
    )
    .read_to_string(&mut page)
    .expect("gzip");
    assert!(
        page.starts_with(".ie") || page.contains(".TH switchyard-init"),
        "{page}"
    );
    let completion =
        std::fs::read_to_string(root.join("usr/share/bash-completion/completions/switchyard")).expect("completion");
    assert!(completion.contains("init") && completion.contains("--vendor"));

    // The packaged binary on its own, in an empty directory of a machine with no checkout.
    let site = work.path().join("site");
    std::fs::create_dir(&site).expect("site dir");
    let port = free_port();
    run(Command::new(&binary)
        .args(["init", ".", "--vendor", "findface,sensenebula", "--admin-listen", "off"])
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .current_dir(&site));
    assert!(!site.join("target").exists());
    let notify_path = work.path().join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).expect("notify socket");
    notify.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
    let child = Command::new(&binary)
        .args(["run", "--config", "router.toml"])
        .current_dir(&site)
        .env("NOTIFY_SOCKET", &notify_path)
        .env_remove("SWITCHYARD_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run the packaged binary");
    let router = common::Running(child);
    let ready = next_notification(&notify);
    assert!(ready.contains(&"READY=1".to_string()), "{ready:?}");
    assert!(
        ready.iter().any(|l| l.starts_with("STATUS=Serving 2 sources")),
        "{ready:?}"
    );

    let findface = std::fs::read_to_string(workspace().join("examples/findface/sample.json")).expect("sample");
    let (status, body) = http(port, "POST", "/ingest/findface", &findface);
    assert_eq!(status, 200, "{body}");
    let sensenebula = std::fs::read_to_string(workspace().join("examples/sensenebula/sample.json")).expect("sample");
    let (status, body) = http(port, "POST", "/ingest/sensenebula", &sensenebula);
    assert_eq!(status, 200, "{body}");
    let events = std::fs::read_to_string(site.join("data/events.jsonl")).expect("the file sink");
    let vendors: std::collections::BTreeSet<String> = events
        .lines()
        .map(|l| {
            let event: serde_json::Value = serde_json::from_str(l).expect("an event per line");
            assert_eq!(event["schema"], "router.event/v1", "{l}");
            event["vendor"].as_str().expect("vendor").to_string()
        })
        .collect();
    assert_eq!(
        vendors.into_iter().collect::<Vec<_>>(),
        ["findface", "sensenebula_pass"],
        "{events}"
    );

    // The container image's health check (packaging/Containerfile), run as it is against
    // this router's port.
    let containerfile = std::fs::read_to_string(workspace().join("packaging/Containerfile")).expect("Containerfile");
    let probe = containerfile
        .lines()
        .find_map(|l| l.trim().strip_prefix("CMD bash -c "))
        .expect("a HEALTHCHECK command")
        .replace("/8080", &format!("/{port}"));
    let healthy = |probe: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(format!("bash -c {probe}"))
            .status()
            .expect("sh")
    };
    assert!(
        healthy(&probe).success(),
        "the health check fails on a serving router: {probe}"
    );

    // `systemctl reload`: RELOADING (with the monotonic time notify-reload wants), then READY.
    signal(&router.0, "-HUP");
    let reloading = next_notification(&notify);
    assert!(reloading.contains(&"RELOADING=1".to_string()), "{reloading:?}");
    assert!(
        reloading.iter().any(|l| l.starts_with("MONOTONIC_USEC=")),
        "{reloading:?}"
    );
    let reloaded = next_notification(&notify);
    assert!(reloaded.contains(&"READY=1".to_string()), "{reloaded:?}");
    assert!(reloaded.iter().any(|l| l.starts_with("STATUS=Reload ")), "{reloaded:?}");

    // `systemctl stop`: STOPPING, then a clean exit.
    signal(&router.0, "-TERM");
    let stopping = next_notification(&notify);
    assert!(stopping.contains(&"STOPPING=1".to_string()), "{stopping:?}");
    let mut router = router;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = router.0.try_wait().expect("wait") {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(Instant::now() < deadline, "the router did not stop");
        #[expect(clippy::disallowed_methods, reason = "a synchronous test polling a child process")]
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!healthy(&probe).success(), "the health check passes with no router");
}
