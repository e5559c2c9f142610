//! Plugins are proven when they load — at `switchyard check`, at startup and on reload — not
//! on the first request: their settings (`setup-api.validate-settings`, WIT 0.1.2), their ABI
//! (an unsupported `router:plugin` version is named with the versions this router binds; an
//! export whose types differ is refused), their file (a missing one names its config line and
//! how to build it) and the sources' samples at startup. Per-plugin call metrics are counted.

use router_tests::{Config, plugins_dir, wat_component, wat_component_with, workspace};
use switchyard::plugin::{CallOutcome, PluginKind, PluginLimits, Runtime};

/// Writes `config` (with `{plugins}` filled in) to a temp dir and runs `switchyard check`.
async fn check(config: &str) -> (String, bool) {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("router.toml");
    let text = config
        .replace("{plugins}", &plugins_dir().display().to_string())
        .replace("{dir}", &dir.path().display().to_string());
    std::fs::write(&path, text).expect("config");
    switchyard::cli::check(&path, true).await
}

fn drop_unmatched(settings: &str) -> String {
    Config::new()
        .plugin("drop", "drop-unmatched", "filter", &[settings])
        .json_source("in", "/in")
        .file_sink("events", "events.jsonl")
        .route(&["events"])
        .to_string()
}

#[tokio::test]
async fn a_settings_typo_fails_check_and_startup_with_its_config_line() {
    let config = drop_unmatched("settings = { min_scor = 0.5 }");
    let (report, ok) = check(&config).await;
    assert!(!ok, "{report}");
    // The built-in's schema (plugins/drop-unmatched/settings-schema.toml) answers first.
    assert!(
        report.contains("plugin `drop` has invalid settings: unknown setting `min_scor` (did you mean `min_score`?)"),
        "{report}"
    );
    assert!(
        report.contains("router.toml:6 (`min_scor` in the settings of `[plugins.drop]`)"),
        "{report}"
    );
    let (report, ok) = check(&drop_unmatched("settings = { min_score = 7 }")).await;
    assert!(
        !ok && report.contains("setting `min_score` must be within 0..1, found 7"),
        "{report}"
    );
    // What a schema cannot say, the plugin's own check (`validate-settings`) does, at the
    // settings' line.
    let (report, ok) = check(&drop_unmatched("settings = { categories = [\"faces\"] }")).await;
    assert!(
        !ok && report.contains("plugin `drop` has invalid settings: unknown category `faces` in `categories`")
            && report.contains("router.toml:6 (the `settings` of `[plugins.drop]`)"),
        "{report}"
    );
    // The router does not start on it either.
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("router.toml");
    std::fs::write(&path, config.replace("{plugins}", &plugins_dir().display().to_string())).expect("config");
    let spec = switchyard::config::load(&path).expect("the config itself is valid");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let err = switchyard::run(spec, listener, switchyard::shutdown::Shutdown::new())
        .await
        .expect_err("startup refuses the settings");
    assert!(format!("{err:#}").contains("unknown setting `min_scor`"), "{err:#}");
    // Correct settings pass.
    let (report, ok) = check(&drop_unmatched("settings = { min_score = 0.5 }")).await;
    assert!(ok, "{report}");
}

/// `drop-unmatched` with a settings schema in its component, as `plugin build` writes one
/// from a project's `[settings]`.
fn drop_unmatched_with_schema(dir: &std::path::Path) -> std::path::PathBuf {
    let schema: router_plugin_kit::schema::Schema = toml::from_str(
        r#"
        [settings.min_score]
        type = "number"
        min = 0
        max = 1
        [settings.categories]
        type = "list<string>"
        default = ["recognition"]
        [settings.drop_unknown]
        type = "boolean"
        default = false
        "#,
    )
    .expect("schema");
    let bytes = std::fs::read(plugins_dir().join("drop-unmatched.wasm")).expect("built plugin");
    let path = dir.join("drop-unmatched.wasm");
    std::fs::write(&path, router_plugin_kit::schema::embed(&bytes, &schema).expect("embed")).expect("write");
    path
}

#[tokio::test]
async fn a_wrong_typed_setting_is_refused_by_the_schema_at_its_own_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let plugin = drop_unmatched_with_schema(dir.path());
    let config = |settings: &[&str]| {
        let mut lines = vec!["", "[plugins.drop.settings]"];
        lines.extend_from_slice(settings);
        Config::new()
            .plugin_at("drop", &plugin, "filter", &lines)
            .json_source("in", "/in")
            .file_sink("events", "events.jsonl")
            .route(&["events"])
            .to_string()
    };
    let (report, ok) = check(&config(&["min_score = 0.5", "categories = \"recognition\""])).await;
    assert!(!ok, "{report}");
    // The plugin itself (serde in Rust) would have said "line 1 column …" of its JSON; the
    // schema names the setting, what it must be, and where it is written.
    assert!(
        report.contains(
            "plugin `drop` has invalid settings: setting `categories` must be a list of strings, found a string (\"recognition\")\n  --> "
        ) && report.contains("router.toml:9 (`categories` in the settings of `[plugins.drop]`)"),
        "{report}"
    );
    // Every problem at once, each at its line; a near-miss key gets a suggestion.
    let (report, ok) = check(&config(&[
        "min_score = 2",
        "drop_unknwn = true",
        "categories = [\"a\", 1]",
    ]))
    .await;
    assert!(!ok, "{report}");
    for (message, line) in [
        ("setting `min_score` must be within 0..1, found 2", 8),
        ("unknown setting `drop_unknwn` (did you mean `drop_unknown`?)", 9),
        ("setting `categories[1]` must be a string, found an integer (1)", 10),
    ] {
        assert!(
            report.contains(&format!("{message}\n  --> ")) && report.contains(&format!("router.toml:{line} (")),
            "{message}: {report}"
        );
    }
    // Good settings pass the schema and then the plugin's own check; the runtime refuses a
    // wrong type itself, whoever loads the plugin (`plugin test`, a reload).
    let (report, ok) = check(&config(&["min_score = 0.5"])).await;
    assert!(ok, "{report}");
    let runtime = Runtime::new().expect("runtime");
    let loaded = runtime.load(
        "drop",
        &plugin,
        PluginKind::Filter,
        PluginLimits::DEFAULT,
        &serde_json::json!({ "min_score": "high" }),
    );
    assert!(
        matches!(&loaded, Err(switchyard::plugin::Error::SettingsSchema { problems, .. }) if problems.len() == 1),
        "{:?}",
        loaded.err()
    );
}

#[tokio::test]
async fn a_missing_plugin_file_names_its_config_line_and_how_to_build_it() {
    let config = Config::new()
        .plugin_at("ghost", std::path::Path::new("/nonexistent/ghost.wasm"), "filter", &[])
        .json_source("in", "/in")
        .file_sink("events", "events.jsonl")
        .route(&["events"])
        .to_string();
    let (report, ok) = check(&config).await;
    assert!(!ok, "{report}");
    assert!(
        report.contains("cannot load plugin `ghost` from /nonexistent/ghost.wasm"),
        "{report}"
    );
    assert!(report.contains("router.toml:4 (`path` of plugin `ghost`)"), "{report}");
    assert!(
        report.contains("cargo xtask plugins") && report.contains("switchyard plugin build"),
        "{report}"
    );
}

/// The 0.1.0 WIT with its package version rewritten (a guest built for another version).
fn wit_variant(dir: &std::path::Path, edit: impl Fn(String) -> String) -> std::path::PathBuf {
    let out = dir.join("wit");
    std::fs::create_dir_all(&out).expect("dir");
    for name in ["types.wit", "host.wit", "world.wit"] {
        let text = std::fs::read_to_string(workspace().join("tests/fixtures/wit-0.1.0").join(name)).expect("wit");
        std::fs::write(out.join(name), edit(text)).expect("write");
    }
    out
}

fn keep_filter_wat(version: &str) -> String {
    std::fs::read_to_string(workspace().join("tests/wat/limits_keep.wat"))
        .expect("wat")
        .replace("@0.1.0#", &format!("@{version}#"))
}

#[tokio::test]
async fn a_guest_built_for_another_abi_is_named_with_the_supported_versions() {
    let dir = tempfile::tempdir().expect("tmp");
    let wit = wit_variant(dir.path(), |t| t.replace("router:plugin@0.1.0", "router:plugin@0.2.0"));
    let wasm = dir.path().join("future.wasm");
    std::fs::write(&wasm, wat_component_with("filter", &keep_filter_wat("0.2.0"), &wit)).expect("guest");
    let err = Runtime::new()
        .expect("runtime")
        .load(
            "future",
            &wasm,
            PluginKind::Filter,
            PluginLimits::DEFAULT,
            &serde_json::json!({}),
        )
        .expect_err("0.2.0 is not bound");
    let text = err.to_string();
    assert!(
        text.contains("built against router:plugin@0.2.0") && text.contains("router:plugin@0.1.x: 0.1.0, 0.1.1, 0.1.2"),
        "{text}"
    );
    // `plugin inspect` says the same before anything is loaded.
    let inspected = switchyard::cli::plugin_inspect(Some(&wasm), None).expect("inspect");
    assert!(inspected.contains("router:plugin@0.2.0 — NOT supported"), "{inspected}");
}

#[tokio::test]
async fn an_export_whose_types_differ_from_the_hosts_fails_check() {
    let dir = tempfile::tempdir().expect("tmp");
    // Same version, but the guest's `event` has an extra field: an ABI break.
    let wit = wit_variant(dir.path(), |t| {
        t.replace(
            "        warnings: list<string>,\n    }",
            "        warnings: list<string>,\n        shoe-size: u32,\n    }",
        )
    });
    let wasm = dir.path().join("skewed.wasm");
    std::fs::write(&wasm, wat_component_with("filter", &keep_filter_wat("0.1.0"), &wit)).expect("guest");
    let config = Config::new()
        .plugin_at("skewed", &wasm, "filter", &[])
        .json_source("in", "/in")
        .file_sink("events", "events.jsonl")
        .route(&["events"])
        .to_string();
    let (report, ok) = check(&config).await;
    assert!(!ok, "{report}");
    assert!(
        report.contains("plugin `skewed`") && report.contains("do not match this router's `router:plugin` ABI"),
        "{report}"
    );
}

#[tokio::test]
async fn guests_from_before_setup_api_still_load_and_run() {
    // 0.1.0 guests have no validate-settings: they are instantiated once, then serve.
    let dir = tempfile::tempdir().expect("tmp");
    let wasm = dir.path().join("old.wasm");
    std::fs::write(&wasm, wat_component("filter", &keep_filter_wat("0.1.0"))).expect("guest");
    let plugin = std::sync::Arc::new(
        Runtime::new()
            .expect("runtime")
            .load(
                "old",
                &wasm,
                PluginKind::Filter,
                PluginLimits::DEFAULT,
                &serde_json::json!({"any": 1}),
            )
            .expect("load"),
    );
    assert!(!plugin.validates_settings());
    assert!(!plugin.probe().await.expect("instantiates"), "nothing to validate");
}

#[tokio::test]
async fn plugin_calls_are_counted_by_outcome_with_drop_reasons() {
    let runtime = Runtime::new().expect("runtime");
    let load = |file: &str, kind, settings: serde_json::Value| {
        std::sync::Arc::new(
            runtime
                .load(
                    file,
                    &plugins_dir().join(format!("{file}.wasm")),
                    kind,
                    PluginLimits::DEFAULT,
                    &settings,
                )
                .expect("load"),
        )
    };
    let normalizer = load(
        "normalize-json",
        PluginKind::Normalizer,
        serde_json::json!({"category": "recognition", "fields": {"match.matched": "ok", "match.score": "score"}}),
    );
    let request = |body: &str| switchyard::capture::request_from(body.as_bytes(), "t").expect("request");
    let events = [
        r#"{"ok": false}"#,
        r#"{"ok": true, "score": 0.41}"#,
        r#"{"ok": true, "score": 0.52}"#,
        r#"{"ok": true, "score": 0.9}"#,
    ]
    .iter()
    .map(|body| async {
        normalizer
            .normalize_request(&request(body))
            .await
            .expect("normalize")
            .events
    })
    .collect::<Vec<_>>();
    let mut all = Vec::new();
    for e in events {
        all.extend(e.await);
    }
    let filter = load(
        "drop-unmatched",
        PluginKind::Filter,
        serde_json::json!({"min_score": 0.75}),
    );
    let filtered = filter
        .filter_events(all, switchyard::plugin::Place::Pool)
        .await
        .expect("filter");
    assert_eq!(filtered.kept.len(), 1);
    assert_eq!(filter.stats().calls("filter", CallOutcome::Drop), 3);
    assert_eq!(filter.stats().calls("filter", CallOutcome::Ok), 1);
    assert_eq!(normalizer.stats().calls("normalize", CallOutcome::Ok), 4);
    let text = switchyard::plugin::render_stats([(filter.id(), filter.stats())].into_iter());
    // Two scores, one reason: numbers are masked so the label set stays small.
    assert!(
        text.contains(
            "switchyard_plugin_drops_total{plugin=\"drop-unmatched\",reason=\"match score N is below min_score N\"} 2"
        ),
        "{text}"
    );
    assert!(
        text.contains("switchyard_plugin_call_seconds_count{plugin=\"drop-unmatched\"} 4"),
        "{text}"
    );
}
