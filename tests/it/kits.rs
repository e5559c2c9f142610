//! Plugin kits, as a new author uses them: the author guide's own commands (copied from
//! docs/plugins/README.md by the test) in each language and for each kind — `plugin new`,
//! `plugin build` (the language's own toolchain, installed when missing), `plugin test
//! --bless` / `plugin test` against the golden file, `plugin inspect` — run by the real binary;
//! then the project's router.toml snippet loaded by a running router, settings that are
//! unknown or of the wrong type refused by `switchyard check` at their line (the schema built
//! into the component), JavaScript checked by `tsc --strict`, build errors located in the
//! author's file, a stale component rebuilt by `plugin test`, out-of-memory naming the cap,
//! and a panic or exception whose message reaches the quarantine entry. Slow by nature
//! (Python and JavaScript components take seconds to build): one test per language, its
//! kinds in turn.

mod edits;

use edits::*;
use router_tests::{Config, TestRouter, post_json, samples_dir};
use serde_json::Value;
use std::path::{Path, PathBuf};

const KINDS: [&str; 4] = ["normalizer", "filter", "transform", "decider"];

/// The router's remote-auth sample: a SenseNebula terminal asking whether to open.
const REMOTE_AUTH: &str = "nebulapass-v13-remote-auth-request.json";

/// The commands of the author guide's first block (docs/plugins/README.md), as written there:
/// the test runs what the docs tell an author to type, so the two cannot drift apart.
fn guide_commands() -> Vec<String> {
    let guide = std::fs::read_to_string(router_tests::workspace().join("docs/plugins/README.md")).expect("guide");
    let block = guide
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the guide's first sh block");
    block
        .lines()
        .map(|l| l.split(" #").next().unwrap_or(l).trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// A project made, built, blessed, tested and inspected by the guide's own commands, run by
/// the real binary for `lang` and `kind`; returns its directory and golden output.
async fn from_the_guide(root: &Path, lang: &str, kind: &str) -> (PathBuf, Value) {
    let name = format!("{lang}-{kind}");
    let mut cwd = root.to_path_buf();
    for command in guide_commands() {
        let command = command
            .replace("my-filter", &name)
            .replace("--kind filter", &format!("--kind {kind}"))
            .replace("--lang python", &format!("--lang {lang}"));
        if let Some(dir) = command.strip_prefix("cd ") {
            cwd = cwd.join(dir);
            continue;
        }
        if command.contains("--watch") {
            continue; // runs until stopped; `plugin test` rebuilding stale components is tested below
        }
        let args: Vec<String> = command
            .strip_prefix("switchyard ")
            .unwrap_or_else(|| panic!("the guide's block runs switchyard only: {command}"))
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let cwd_now = cwd.clone();
        let target = root.join("target");
        let out = tokio::task::spawn_blocking(move || {
            router_tests::process::bin()
                .args(&args)
                .current_dir(&cwd_now)
                // Rust projects of one test share a target dir: the SDK builds once.
                .env("CARGO_TARGET_DIR", target)
                .output()
                .expect("switchyard")
        })
        .await
        .expect("join");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{lang} {kind}: `{command}` failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if command.contains("plugin new") {
            assert!(stdout.contains("switchyard plugin build"), "{stdout}");
        }
        if command.contains("plugin inspect") {
            assert!(stdout.contains(&format!("kind:      {kind}")), "{stdout}");
        }
    }
    let dir = root.join(&name);
    assert_eq!(cwd, dir, "the guide goes into the project");
    let text = std::fs::read_to_string(dir.join("samples/expected.json")).expect("expected.json");
    (dir, serde_json::from_str(&text).expect("golden JSON"))
}

/// One data dir for all the routers and checks of a language's test (one at a time), so a
/// 12–19 MB Python or JavaScript component is compiled once per build, not once per use.
fn shared_data(dir: &Path) -> PathBuf {
    dir.parent().expect("root").join("data")
}

fn compile_cache(dir: &Path) -> PathBuf {
    shared_data(dir).join("cache")
}

/// The project's router.toml snippet, in a config that feeds the plugin real requests (its
/// events written to `events.jsonl` in the project).
fn router_config(dir: &Path, kind: &str) -> String {
    let snippet = std::fs::read_to_string(dir.join("router-snippet.toml")).expect("snippet");
    let id = dir.file_name().and_then(|n| n.to_str()).expect("name");
    let config = Config::new()
        .server("dedup_window_secs = 0")
        .server(&format!("data_dir = {:?}", shared_data(dir).display().to_string()))
        .snippet(&snippet);
    let config = match kind {
        "normalizer" => config,
        "filter" => config.json_source("in", "/in").source(
            "filtered",
            "/filtered",
            "normalize-json",
            &[&format!("filters = [\"{id}\"]")],
        ),
        "transform" => config.json_source("in", "/in").source(
            "stamped",
            "/stamped",
            "normalize-json",
            &[&format!("transforms = [\"{id}\"]")],
        ),
        _ => config
            .plugin("normalize-sensenebula", "normalize-sensenebula", "normalizer", &[])
            .source(
                "door",
                "/ingest/sensenebula",
                "normalize-sensenebula",
                &[
                    &format!("decider = \"{id}\""),
                    "decision = { deadline_ms = 2000, fallback = \"grant\", tip_on_fallback = \"fallback\" }",
                ],
            ),
    };
    config
        .file_sink("events", &events_file(dir).display().to_string())
        .route(&["events"])
        .to_string()
}

fn events_file(dir: &Path) -> PathBuf {
    dir.join("events.jsonl")
}

/// `switchyard_plugin_calls_total` of plugin `id`'s filter calls with `outcome`.
async fn filter_calls(router: &TestRouter, id: &str, outcome: &str) -> u64 {
    let metrics = router_tests::get(router.addr, "/metrics")
        .await
        .expect("metrics")
        .text();
    router_tests::metric_value(
        &metrics,
        &format!("switchyard_plugin_calls_total{{plugin=\"{id}\",call=\"filter\",outcome=\"{outcome}\"}}"),
    )
}

/// Loads the project's plugin in a running router and sends it one real request.
async fn serve(dir: &Path, kind: &str, lang: &str) {
    let router = TestRouter::start(&router_config(dir, kind)).await;
    let id = dir.file_name().and_then(|n| n.to_str()).expect("name").to_string();
    match kind {
        "normalizer" => {
            let sample: Value =
                serde_json::from_slice(&std::fs::read(dir.join("samples/input.json")).expect("sample")).expect("JSON");
            let body = sample["raw_body"].as_str().expect("raw_body").to_string();
            let content_type = sample["http"]["headers"]["content-type"]
                .as_str()
                .expect("content type");
            let answer = router_tests::send(
                router.addr,
                "POST",
                &format!("/ingest/{id}"),
                &[("content-type", content_type)],
                body,
            )
            .await
            .expect("post");
            assert_eq!(answer.status, 200, "{lang}: {}", answer.text());
            let events = router_tests::read_jsonl(&events_file(dir));
            assert!(!events.is_empty(), "{lang}");
            assert_eq!(
                events[0]["vendor"], "acme",
                "{lang}: the snippet's settings reached the plugin"
            );
            assert_eq!(events[0]["subject"]["person_id"], "p-17", "{lang}");
        }
        "filter" => {
            let answer = post_json(router.addr, "/filtered", r#"{"id": "f-1", "device": "d"}"#).await;
            assert_eq!(answer.status, 200, "{lang}: {}", answer.text());
            assert_eq!(filter_calls(&router, &id, "ok").await, 1, "{lang}");
        }
        "transform" => {
            let answer = post_json(router.addr, "/stamped", r#"{"id": "t-1", "device": "d"}"#).await;
            assert_eq!(answer.status, 200, "{lang}: {}", answer.text());
            let events = router_tests::read_jsonl(&events_file(dir));
            assert_eq!(events[0]["source"]["site"], "north-gate", "{lang}: {}", events[0]);
        }
        _ => {
            let sample = std::fs::read(samples_dir().join(REMOTE_AUTH)).expect("sample");
            let answer = post_json(router.addr, "/ingest/sensenebula", sample).await;
            assert_eq!(answer.status, 200, "{lang}: {}", answer.text());
            // The sample's person is not in `allow = ["p-17"]`: the plugin denies, with its tip
            // (the fallback would have granted, with another).
            let reply = answer.json();
            assert_eq!(reply["data"]["pass"], false, "{lang}: {reply}");
            assert_eq!(reply["data"]["customtips"], "Not registered", "{lang}: {reply}");
        }
    }
    router.stop().await;
}

/// `switchyard check` on the project's config with `line` added to the plugin's settings.
async fn check_with_setting(dir: &Path, kind: &str, line: &str) -> (String, bool, usize) {
    let id = dir.file_name().and_then(|n| n.to_str()).expect("name");
    let config = router_config(dir, kind);
    // The key's line from settings.toml is replaced, else the line is added.
    let key = line.split(" = ").next().expect("key = value");
    let config = match config.lines().find(|l| l.starts_with(&format!("{key} = "))) {
        Some(given) => config.replacen(given, line, 1),
        None => config.replace(
            &format!("[plugins.{id}.settings]\n"),
            &format!("[plugins.{id}.settings]\n{line}\n"),
        ),
    };
    let at = config.lines().position(|l| l == line).expect("the line") + 1;
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("router.toml");
    std::fs::write(
        &path,
        config.replace("{plugins}", &router_tests::plugins_dir().display().to_string()),
    )
    .expect("config");
    let (report, ok) = switchyard::cli::check(&path, true).await;
    (report, ok, at)
}

/// A typo in the plugin's settings, and a value of the wrong type, fail `switchyard check`
/// naming the plugin, the key and its router.toml line — the schema of the project's
/// switchyard-plugin.toml, built into the component and enforced by the router whatever the
/// language.
async fn bad_settings_fail_check(dir: &Path, kind: &str, lang: &str) {
    let id = dir.file_name().and_then(|n| n.to_str()).expect("name");
    let (report, ok, at) = check_with_setting(dir, kind, "colour = \"blue\"").await;
    assert!(!ok, "{lang} {kind}: {report}");
    assert!(
        report.contains(&format!("plugin `{id}` has invalid settings: unknown setting `colour`"))
            && report.contains(&format!(
                "router.toml:{at} (`colour` in the settings of `[plugins.{id}]`)"
            )),
        "{lang} {kind}: {report}"
    );
    let (wrong, expected) = match kind {
        "normalizer" => ("vendor = 7", "setting `vendor` must be a string, found an integer (7)"),
        "filter" => (
            "min_score = \"high\"",
            "setting `min_score` must be a number, found a string (\"high\")",
        ),
        "transform" => ("tag = [\"a\"]", "setting `tag` must be a string, found a list"),
        _ => (
            "allow = \"p-17\"",
            "setting `allow` must be a list of strings, found a string (\"p-17\")",
        ),
    };
    let (report, ok, at) = check_with_setting(dir, kind, wrong).await;
    assert!(!ok, "{lang} {kind}: {report}");
    assert!(
        report.contains(&format!("plugin `{id}` has invalid settings: {expected}"))
            && report.contains(&format!("router.toml:{at} (")),
        "{lang} {kind}: {report}"
    );
    let inspected =
        switchyard::cli::plugin_inspect(Some(&dir.join(format!("build/{id}.wasm"))), None).expect("inspect");
    assert!(
        inspected.contains("schema:    settings checked by the router"),
        "{inspected}"
    );
}

async fn every_kind(lang: &str) -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().expect("tmp");
    let mut filter = PathBuf::new();
    for kind in KINDS {
        let (dir, expected) = from_the_guide(root.path(), lang, kind).await;
        match kind {
            "normalizer" => {
                assert_eq!(
                    expected["events"][0]["subject"]["person_id"], "p-17",
                    "{lang}: {expected}"
                );
                // Every language's template says the same about the same person.
                assert_eq!(expected["events"][0]["subject"]["kind"], "person", "{lang}: {expected}");
            }
            "filter" => assert_eq!(expected["verdict"], "keep", "{lang}: {expected}"),
            "transform" => assert_eq!(
                expected["events"][0]["source"]["site"], "north-gate",
                "{lang}: {expected}"
            ),
            // The sample's person is in the template's `allow`.
            _ => assert_eq!(expected["ruling"]["decision"], "granted", "{lang}: {expected}"),
        }
        if lang == "js" {
            type_check(&dir, kind);
        }
        serve(&dir, kind, lang).await;
        bad_settings_fail_check(&dir, kind, lang).await;
        if kind == "filter" {
            filter = dir;
        }
    }
    (root, filter)
}

#[tokio::test]
async fn rust_kit_scaffolds_build_test_load_and_report_panics() {
    let (root, filter) = every_kind("rust").await;
    // The kit's normalizer, as a vendor ships it: signed, pushed to a registry, pulled by
    // digest by a router that requires signatures.
    let normalizer = root.path().join("rust-normalizer");
    let sample: Value =
        serde_json::from_slice(&std::fs::read(normalizer.join("samples/input.json")).expect("sample")).expect("JSON");
    crate::registry::from_a_registry(crate::registry::Module {
        component: &normalizer.join("build/rust-normalizer.wasm"),
        settings: r#"settings = { vendor = "acme" }"#,
        body: sample["raw_body"].as_str().expect("raw_body"),
        events_per_request: 2,
    })
    .await;
    watch_hot_swaps_into_a_running_router(&filter).await;
    failure_reaches_quarantine(
        &filter,
        "rust",
        (
            "src/lib.rs",
            "fn filter(event: Event) -> Result<Verdict, PluginError> {\n",
            "        let none: Option<u8> = None;\n        none.expect(\"boom from rust\");\n",
        ),
        "panicked at src/lib.rs",
    )
    .await;
}

#[tokio::test]
async fn python_kit_scaffolds_build_test_load_and_report_exceptions() {
    let (_root, filter) = every_kind("python").await;
    syntax_error_is_located(
        &filter,
        "app.py",
        "def rule() -> dict:",
        "def rule() -> dict",
        ":19: SyntaxError: expected ':'",
    );
    wrong_return_type_is_named(&filter).await;
    out_of_memory_names_the_cap(
        &filter,
        "app.py",
        "    def filter(self, event: types.Event) -> types.Verdict:\n",
        "        hog = bytearray(200 * 1024 * 1024)\n",
    )
    .await;
    failure_reaches_quarantine(
        &filter,
        "python",
        (
            "app.py",
            "    def filter(self, event: types.Event) -> types.Verdict:\n",
            "        raise RuntimeError(\"boom from python\")\n",
        ),
        "RuntimeError: boom from python",
    )
    .await;
}

#[tokio::test]
async fn javascript_kit_scaffolds_build_test_load_and_report_exceptions() {
    let (_root, filter) = every_kind("js").await;
    syntax_error_is_located(
        &filter,
        "app.js",
        "filter: guard((event) => {",
        "filter: guard((event) => {)",
        "SyntaxError: Unexpected token ')'",
    );
    out_of_memory_names_the_cap(
        &filter,
        "app.js",
        "  filter: guard((event) => {\n",
        "    const hog = new Uint8Array(200 * 1024 * 1024); hog[0] = 1;\n",
    )
    .await;
    failure_reaches_quarantine(
        &filter,
        "js",
        (
            "app.js",
            "  filter: guard((event) => {\n",
            "    throw new Error('boom from js');\n",
        ),
        "Error: boom from js",
    )
    .await;
}

#[tokio::test]
async fn c_kit_scaffolds_build_test_load_and_report_aborts() {
    let (_root, filter) = every_kind("c").await;
    failure_reaches_quarantine(
        &filter,
        "c",
        (
            "app.c",
            "  bool ok = rule(&min_score, err);\n",
            "  fprintf(stderr, \"boom from c\\n\");\n  abort();\n",
        ),
        "boom from c",
    )
    .await;
}
