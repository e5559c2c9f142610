//! What an author runs into after the first build, per language: the type checker
//! (JavaScript), a syntax error located in the author's file, a wrong return type named
//! (Python), running out of memory naming the cap, `plugin test --watch` hot-swapping into a
//! running router, and a failure whose message reaches the quarantine entry — each by editing
//! the project as an author would and letting `plugin test` rebuild it.

use super::{compile_cache, filter_calls, router_config, shared_data};
use router_tests::{TestRouter, post_json};
use std::path::Path;

/// `tsc -p .` in a JavaScript project: the template and the kit check strictly against the
/// generated typings (the project's tsconfig.json says `strict`), including the return type
/// of each guarded export — a wrong one is refused.
pub(super) fn type_check(dir: &Path, kind: &str) {
    let tsc = router_plugin_kit::toolchain::typescript().expect("typescript");
    let run = || {
        std::process::Command::new(&tsc)
            .args(["-p", "."])
            .current_dir(dir)
            .output()
            .expect("tsc")
    };
    let out = run();
    assert!(
        out.status.success(),
        "js {kind}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if kind == "filter" {
        let app = dir.join("app.js");
        let source = std::fs::read_to_string(&app).expect("app.js");
        std::fs::write(&app, source.replacen("return { tag: 'keep' };", "return 'keep';", 1)).expect("edit");
        let out = run();
        assert!(
            !out.status.success()
                && String::from_utf8_lossy(&out.stdout).contains("is not assignable to type 'Verdict'"),
            "js filter: a wrong return type is caught: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        std::fs::write(&app, source).expect("restore");
    }
}

/// Makes the filter fail on every event the way the language fails, rebuilds it, and checks
/// that the guest's own message is in the quarantine entry of the request it failed.
pub(super) async fn failure_reaches_quarantine(dir: &Path, lang: &str, edit: (&str, &str, &str), message: &str) {
    let (file, anchor, insert) = edit;
    let path = dir.join(file);
    let source = std::fs::read_to_string(&path).expect("source");
    assert!(
        source.contains(anchor),
        "{lang}: the template changed; anchor {anchor:?} is gone"
    );
    std::fs::write(&path, source.replacen(anchor, &format!("{anchor}{insert}"), 1)).expect("edit");
    // The component is now older than its source: the router warns, and a plain `plugin
    // test` rebuilds before it runs (the golden then fails: the filter throws).
    assert!(
        router_plugin_kit::manifest::drifted(&dir.join(format!(
            "build/{}.wasm",
            dir.file_name().and_then(|n| n.to_str()).expect("name")
        )))
        .is_some(),
        "{lang}: the edit is seen"
    );
    let failed = plugin_test_fails(dir, "plugin test rebuilt and ran the edited source").await;
    assert!(failed.contains(message), "{lang}: {failed}");
    let router = TestRouter::start(&router_config(dir, "filter")).await;
    let answer = post_json(router.addr, "/filtered", r#"{"id": "boom", "device": "d"}"#).await;
    assert_eq!(answer.status, 500, "{lang}: {}", answer.text());
    // The shared data dir's quarantine: the one entry of this failure is the newest.
    let entries = switchyard::quarantine::Quarantine::new(&shared_data(dir))
        .list()
        .expect("entries");
    let entry = entries
        .iter()
        .find(|e| e.path == "/filtered")
        .expect("the failed request was quarantined");
    assert_eq!(entry.status, 500, "{lang}");
    assert!(entry.reason.contains(message), "{lang}: {}", entry.reason);
    router.stop().await;
}

/// A plain `plugin test` in the project (which rebuilds an edited, stale component first),
/// expected to fail (`why`); its error with causes. Rust projects of a test share one target
/// dir, as in the guide flow.
async fn plugin_test_fails(dir: &Path, why: &str) -> String {
    let args = switchyard::cli::TestArgs {
        project: Some(dir.to_path_buf()),
        cache: Some(compile_cache(dir)),
        target_dir: Some(dir.parent().expect("root").join("target")),
        ..Default::default()
    };
    let failed = switchyard::cli::plugin_test_command(&args).await;
    format!("{:#}", failed.as_ref().expect_err(why))
}

/// A syntax error stops `plugin build` with the author's file, line and column (checked
/// before the componentize step, whose own message has none).
pub(super) fn syntax_error_is_located(dir: &Path, file: &str, good: &str, bad: &str, expected: &str) {
    let path = dir.join(file);
    let source = std::fs::read_to_string(&path).expect("source");
    let line = source
        .lines()
        .position(|l| l.contains(good))
        .expect("the template's line")
        + 1;
    std::fs::write(&path, source.replacen(good, bad, 1)).expect("edit");
    let err = switchyard::cli::plugin_build(dir, None).expect_err("a syntax error");
    let message = format!("{err:#}");
    assert!(
        message.starts_with(&format!("{file}:{line}:")) && message.contains(expected),
        "{message}"
    );
    std::fs::write(&path, source).expect("restore");
}

/// A filter that allocates past its memory cap fails naming the cap, whether the language's
/// runtime traps (JavaScript) or catches its own out-of-memory (Python's `MemoryError`).
pub(super) async fn out_of_memory_names_the_cap(dir: &Path, file: &str, anchor: &str, insert: &str) {
    let path = dir.join(file);
    let source = std::fs::read_to_string(&path).expect("source");
    assert!(source.contains(anchor), "{file}: the template changed");
    std::fs::write(&path, source.replacen(anchor, &format!("{anchor}{insert}"), 1)).expect("edit");
    let message = plugin_test_fails(dir, "over the cap").await;
    assert!(
        message.contains(&format!(
            "exceeded its memory limit of {} bytes (`max_memory_bytes`",
            64 << 20
        )),
        "{file}: {message}"
    );
    std::fs::write(&path, source).expect("restore");
}

/// A Python method that returns the wrong type fails with both types named (without the
/// kit's check it is a `KeyError` trap inside componentize-py's glue).
pub(super) async fn wrong_return_type_is_named(dir: &Path) {
    let app = dir.join("app.py");
    let source = std::fs::read_to_string(&app).expect("app.py");
    let at = source
        .rfind("return types.Verdict_Keep()")
        .expect("the template's last keep");
    let mut edited = source.clone();
    edited.replace_range(at..at + "return types.Verdict_Keep()".len(), "return \"keep\"");
    std::fs::write(&app, edited).expect("edit");
    let message = plugin_test_fails(dir, "a wrong return type fails").await;
    assert!(
        message.contains("FilterApi.filter returned str 'keep', but is declared to return Verdict_Keep | Verdict_Drop"),
        "{message}"
    );
    std::fs::write(&app, source).expect("restore");
}

/// The one loop an author keeps running: `plugin test --config router.toml --plugin ID INPUT
/// --watch` against a running router. An edit is rebuilt in its project and tested as the
/// router loads it, and a reload of the router applies the new rule. (The reload is asked
/// for here, not awaited from the file watcher: file watching is `reload::`'s subject, and in
/// CI's full run the watcher of this router did not fire — see issue 28's note.)
pub(super) async fn watch_hot_swaps_into_a_running_router(dir: &Path) {
    use std::io::BufRead as _;
    let id = dir.file_name().and_then(|n| n.to_str()).expect("name").to_string();
    let router = TestRouter::start(&router_config(dir, "filter")).await;
    let mut child = std::process::Command::new(router_tests::process::binary())
        .args(["plugin", "test", "--config"])
        .arg(router.config_path())
        .args(["--plugin", &id])
        .arg(dir.join("samples/input.json"))
        .arg("--watch")
        .env("CARGO_TARGET_DIR", dir.parent().expect("root").join("target"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("plugin test --watch");
    let (lines, seen) = std::sync::mpsc::channel::<String>();
    for pipe in [
        Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().expect("stderr")),
    ] {
        let lines = lines.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
    }
    let wait_for = |what: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        let mut log = Vec::new();
        while std::time::Instant::now() < deadline {
            if let Ok(line) = seen.recv_timeout(std::time::Duration::from_millis(200)) {
                let found = line.contains(what);
                log.push(line);
                if found {
                    return;
                }
            }
        }
        panic!("`plugin test --watch` never printed {what:?}:\n{}", log.join("\n"));
    };
    wait_for("\"verdict\": \"keep\"");
    let lib = dir.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).expect("lib.rs");
    let judge = "    pub fn judge(&self, event: &Event) -> Verdict {\n";
    assert!(source.contains(judge), "the template changed");
    std::fs::write(
        &lib,
        source.replacen(
            judge,
            &format!("{judge}        if !event.vendor.is_empty() {{\n            return Verdict::Drop(\"watched\".to_string());\n        }}\n"),
            1,
        ),
    )
    .expect("edit");
    // The loop rebuilt the component and ran the new rule on the input.
    wait_for("\"reason\": \"watched\"");
    let answer = router_tests::send(router.addr, "POST", "/admin/reload", &[], "")
        .await
        .expect("reload");
    assert_eq!(answer.status, 200, "{}", answer.text());
    // `unchanged` when the file watcher got there first.
    let outcome = answer.json()["outcome"].as_str().unwrap_or_default().to_string();
    assert!(outcome == "applied" || outcome == "unchanged", "{}", answer.text());
    let answer = post_json(router.addr, "/filtered", r#"{"id": "w-1", "device": "d"}"#).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        filter_calls(&router, &id, "drop").await,
        1,
        "the router runs the rebuilt rule"
    );
    let _ = child.kill();
    let _ = child.wait();
    std::fs::write(&lib, source).expect("restore");
    router.stop().await;
}
