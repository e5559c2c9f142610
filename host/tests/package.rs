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

use router_tests::process::{free_port, http};
use router_tests::workspace;
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
        "./usr/share/man/man5/switchyard.toml.5.gz",
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
    // The environment file may hold secrets: root's alone (systemd reads it). The config
    // names secrets, never holds them, and the service's dynamic user must read it.
    let mode = |path: &str| {
        listing
            .lines()
            .find(|l| l.ends_with(path))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(mode("./etc/default/switchyard"), "-rw-r-----");
    assert_eq!(mode("./etc/switchyard/router.toml"), "-rw-r--r--");

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
    // …and it runs as packaged, with only what belongs to this machine moved aside (the test
    // must not write /var/lib or take port 8080): every vendor's source served, a FindFace
    // batch normalized by the built-in plugin.
    let packaged_run = work.path().join("packaged");
    std::fs::create_dir(&packaged_run).expect("dir");
    let port = free_port();
    let moved = packaged
        .replace(
            "data_dir = \"/var/lib/switchyard\"",
            "data_dir = \"data\"              ",
        )
        .replace("listen = \"127.0.0.1:8080\"", &format!("listen = \"127.0.0.1:{port}\""))
        .replace("listen = \"127.0.0.1:8081\"", "listen = \"off\"");
    assert_ne!(moved, packaged);
    std::fs::write(packaged_run.join("router.toml"), &moved).expect("config");
    let mut command = Command::new(&binary);
    command
        .args(["run", "--config", "router.toml"])
        .current_dir(&packaged_run)
        .env_remove("NOTIFY_SOCKET");
    let router = router_tests::process::Running(router_tests::process::wait_listening(command));
    let findface = std::fs::read_to_string(workspace().join("examples/findface/sample.json")).expect("sample");
    let (status, body) = http(port, "POST", "/ingest/findface", &findface);
    assert_eq!(status, 200, "{body}");
    for vendor in ["omni", "sensenebula", "noahface", "preservica"] {
        let (status, _) = http(port, "POST", &format!("/ingest/{vendor}"), "");
        assert_ne!(status, 404, "the packaged config serves /ingest/{vendor}");
    }
    drop(router);
    let events = std::fs::read_to_string(packaged_run.join("data/events.jsonl")).expect("events");
    assert!(events.contains("\"vendor\":\"findface\""), "{events}");
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
    // As the service runs: an unprivileged user (the unit's DynamicUser), every system call
    // recorded (strace -c) to be held against the unit's filter below.
    use std::os::unix::fs::PermissionsExt;
    for (path, mode) in [
        (work.path(), 0o755),
        (site.as_path(), 0o777),
        (notify_path.as_path(), 0o777),
    ] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    let syscalls = work.path().join("syscalls.txt");
    let tracer = Command::new("strace")
        .args(["-f", "-c", "-u", "nobody", "-o"])
        .arg(&syscalls)
        .arg("--")
        .arg(&binary)
        .args(["run", "--config", "router.toml"])
        .current_dir(&site)
        .env("NOTIFY_SOCKET", &notify_path)
        .env_remove("SWITCHYARD_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run the packaged binary");
    let tracer = router_tests::process::Running(tracer);
    let ready = next_notification(&notify);
    assert!(ready.contains(&"READY=1".to_string()), "{ready:?}");
    // Signals go to the router itself, strace's child.
    let children = format!("/proc/{0}/task/{0}/children", tracer.id());
    let router_pid: u32 = std::fs::read_to_string(&children)
        .expect("strace's children")
        .split_whitespace()
        .next()
        .expect("the router")
        .parse()
        .expect("a pid");
    let kill = |sig: &str| run(Command::new("kill").arg(sig).arg(router_pid.to_string()));
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
            .stderr(Stdio::null())
            .status()
            .expect("sh")
    };
    assert!(
        healthy(&probe).success(),
        "the health check fails on a serving router: {probe}"
    );

    // `systemctl reload`: RELOADING (with the monotonic time notify-reload wants), then READY.
    kill("-HUP");
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
    kill("-TERM");
    let stopping = next_notification(&notify);
    assert!(stopping.contains(&"STOPPING=1".to_string()), "{stopping:?}");
    let mut tracer = tracer;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = tracer.0.try_wait().expect("wait") {
            assert!(status.success(), "the router (under strace) exited with {status}");
            break;
        }
        assert!(Instant::now() < deadline, "the router did not stop");
        #[expect(clippy::disallowed_methods, reason = "a synchronous test polling a child process")]
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!healthy(&probe).success(), "the health check passes with no router");

    // Every system call it made — start, compile and run plugins, serve, write, reload, stop —
    // is one the unit's SystemCallFilter allows: the sandbox does not break the service.
    let used: std::collections::BTreeSet<String> = std::fs::read_to_string(&syscalls)
        .expect("strace's summary")
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .filter(|name| {
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
        .filter(|name| *name != "total" && *name != "syscall")
        .map(str::to_string)
        .collect();
    assert!(used.len() > 30, "{used:?}");
    let (mut allowed, mut denied) = (std::collections::BTreeSet::new(), std::collections::BTreeSet::new());
    for line in unit.lines() {
        let Some(filter) = line.strip_prefix("SystemCallFilter=") else {
            continue;
        };
        let (into, list) = match filter.strip_prefix('~') {
            Some(list) => (&mut denied, list),
            None => (&mut allowed, filter),
        };
        for group in list.split_whitespace() {
            into.extend(syscall_set(group));
        }
    }
    let refused: Vec<&String> = used
        .iter()
        .filter(|name| !allowed.contains(*name) || denied.contains(*name))
        .collect();
    assert!(
        refused.is_empty(),
        "the unit's SystemCallFilter would refuse {refused:?} (used: {used:?})"
    );
}

/// The system calls a `SystemCallFilter=` name stands for (groups expanded by systemd-analyze).
fn syscall_set(name: &str) -> std::collections::BTreeSet<String> {
    if !name.starts_with('@') {
        return [name.to_string()].into();
    }
    run(Command::new("systemd-analyze").args(["syscall-filter", name]))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && *l != name)
        .flat_map(syscall_set)
        .collect()
}
