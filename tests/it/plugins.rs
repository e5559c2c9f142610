//! The shipped plugins as components: they import nothing but `router:plugin/*` (no WASI, no
//! network, no files), export their world's interface, and run under `switchyard plugin test`.

use router_tests::{plugins_dir, samples_dir};
use switchyard::plugin::{PluginKind, PluginLimits, Runtime};

const SHIPPED: &[(&str, PluginKind)] = &[
    ("normalize-json", PluginKind::Normalizer),
    ("normalize-findface", PluginKind::Normalizer),
    ("normalize-noahface", PluginKind::Normalizer),
    ("normalize-preservica", PluginKind::Normalizer),
    ("normalize-sensenebula", PluginKind::Normalizer),
    ("normalize-omni", PluginKind::Normalizer),
    ("drop-unmatched", PluginKind::Filter),
    ("redact", PluginKind::Transform),
    ("decide-roster", PluginKind::Decider),
];

#[test]
fn shipped_plugins_import_only_the_router_interfaces() {
    let engine = wasmtime::Engine::default();
    for (name, _) in SHIPPED {
        let bytes = std::fs::read(plugins_dir().join(format!("{name}.wasm"))).expect("plugin");
        let component = wasmtime::component::Component::new(&engine, &bytes).expect("a valid component");
        let ty = component.component_type();
        let imports: Vec<String> = ty.imports(&engine).map(|(n, _)| n.to_string()).collect();
        assert!(!imports.is_empty(), "{name} imports at least the host interface");
        for import in &imports {
            assert!(
                import.starts_with("router:plugin/") && import.ends_with("@0.1.2"),
                "{name} imports {import}"
            );
        }
    }
}

#[test]
fn shipped_plugins_load_as_their_kind() {
    let runtime = Runtime::new().expect("runtime");
    let limits = PluginLimits {
        timeout_ms: 1000,
        ..PluginLimits::DEFAULT
    };
    for (name, kind) in SHIPPED {
        let plugin = runtime
            .load(
                name,
                &plugins_dir().join(format!("{name}.wasm")),
                *kind,
                limits,
                &serde_json::json!({}),
            )
            .expect("load");
        assert_eq!(plugin.sha256().len(), 64);
        // The terminals' normalizers can render a door decision (world access-normalizer).
        let answers = matches!(*name, "normalize-sensenebula" | "normalize-noahface");
        assert_eq!(plugin.answers(), answers, "{name}");
    }
}

/// Each first-party plugin with a `settings-schema.toml` carries exactly that schema, and the
/// schema names exactly the settings the plugin itself accepts: the plugin's own refusal of an
/// unknown key (serde's "expected one of …", with the schema taken out so the plugin answers)
/// lists the same keys. A setting added to one and not the other fails here.
#[tokio::test]
async fn shipped_schemas_are_built_in_and_name_what_each_plugin_accepts() {
    let tmp = tempfile::tempdir().expect("tmp");
    let runtime = Runtime::new().expect("runtime");
    let mut checked = 0;
    for (name, kind) in SHIPPED {
        let file = router_tests::workspace().join(format!("plugins/{name}/settings-schema.toml"));
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let declared: router_plugin_kit::schema::Schema = toml::from_str(&text).expect("schema");
        let bytes = std::fs::read(plugins_dir().join(format!("{name}.wasm"))).expect("plugin");
        assert_eq!(
            router_plugin_kit::schema::read(&bytes).expect("read"),
            Some(declared.clone()),
            "{name}: `cargo xtask plugins` builds the schema in"
        );
        let bare = tmp.path().join(format!("{name}.wasm"));
        std::fs::write(
            &bare,
            router_plugin_kit::schema::embed(&bytes, &Default::default()).expect("strip"),
        )
        .expect("write");
        let plugin = std::sync::Arc::new(
            runtime
                .load(
                    name,
                    &bare,
                    *kind,
                    PluginLimits::DEFAULT,
                    &serde_json::json!({ "zz_not_a_setting": 1 }),
                )
                .expect("load"),
        );
        let refused = plugin.probe().await.expect_err("an unknown key").to_string();
        let accepted: std::collections::BTreeSet<String> = refused
            .split("expected ")
            .nth(1)
            .unwrap_or_else(|| panic!("{name}: {refused}"))
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect();
        let keys: std::collections::BTreeSet<String> = declared.settings.keys().cloned().collect();
        assert_eq!(keys, accepted, "{name}: the schema's keys and the plugin's ({refused})");
        checked += 1;
    }
    assert!(
        checked >= 6,
        "the first-party plugins with settings have schemas ({checked})"
    );
}

/// One .wasm behind several plugin ids, loaded in parallel (as a pipeline build does): it is
/// compiled once, and the disk cache is written once without collisions.
#[tokio::test]
async fn one_file_behind_many_ids_is_compiled_once() {
    let cache = tempfile::tempdir().expect("tmp");
    let runtime = Runtime::with_disk_cache(Some(cache.path().to_path_buf())).expect("runtime");
    let path = plugins_dir().join("drop-unmatched.wasm");
    let loads: Vec<_> = (0..6)
        .map(|i| {
            let (runtime, path) = (runtime.clone(), path.clone());
            tokio::task::spawn_blocking(move || {
                runtime.load(
                    &format!("filter-{i}"),
                    &path,
                    PluginKind::Filter,
                    PluginLimits::DEFAULT,
                    &serde_json::json!({}),
                )
            })
        })
        .collect();
    for load in loads {
        load.await.expect("join").expect("load");
    }
    assert_eq!(runtime.compiles(), 1);
    // (`functions/` beside it is the per-function compile cache.)
    let files: Vec<_> = std::fs::read_dir(cache.path())
        .expect("cache dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n != "functions"))
        .collect();
    assert_eq!(files.len(), 1, "one compiled file, no temp files left: {files:?}");
    // A core module is refused every time it is loaded, with the hint.
    let core = cache.path().join("core.wasm");
    std::fs::write(&core, wat::parse_str("(module)").expect("wat")).expect("write");
    for _ in 0..2 {
        let err = runtime
            .load(
                "core",
                &core,
                PluginKind::Filter,
                PluginLimits::DEFAULT,
                &serde_json::json!({}),
            )
            .expect_err("a core module");
        assert!(err.to_string().contains("not a component"), "{err}");
    }
}

#[tokio::test]
async fn plugin_test_runs_a_normalizer_on_a_captured_body() {
    let settings = r#"{"vendor": "noahface", "category": "attendance", "fields": {"vendor_event_id": "eventid", "action": "type", "occurred_at": "utc"}}"#;
    let limits = PluginLimits {
        timeout_ms: 1000,
        ..PluginLimits::DEFAULT
    };
    let report = switchyard::cli::plugin_test(
        &plugins_dir().join("normalize-json.wasm"),
        &samples_dir().join("noahface-clockin-post.json"),
        settings,
        "noahface",
        limits,
    )
    .await
    .expect("plugin test");
    assert_eq!(report["plugin"]["kind"], "normalizer");
    let event = &report["events"][0];
    assert_eq!(event["vendor_event_id"], "109997645");
    assert_eq!(event["action"], "unknown", "`clockin` is not a schema action name…");
    assert_eq!(event["vendor_event_type"], "clockin", "…so the raw value is kept");
    assert!(
        event["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .any(|w| w == "enum_unknown:action=clockin")
    );
    assert_eq!(event["occurred_at"], "2018-12-21T21:03:47Z");
}

#[tokio::test]
async fn plugin_test_runs_a_filter_and_a_transform_on_an_event() {
    let dir = tempfile::tempdir().expect("tmp");
    let limits = PluginLimits {
        timeout_ms: 1000,
        ..PluginLimits::DEFAULT
    };
    // First normalize a sample, then feed the event to the other plugins, as an integrator would.
    let normalized = switchyard::cli::plugin_test(
        &plugins_dir().join("normalize-json.wasm"),
        &dir_file(dir.path(), "in.json", r#"{"id": "1", "ok": false, "doc": "AB123456"}"#),
        r#"{"category": "recognition", "fields": {"vendor_event_id": "id", "match.matched": "ok", "subject.id_document_number": "doc"}}"#,
        "t",
        limits,
    )
    .await
    .expect("normalize");
    let event = dir_file(dir.path(), "event.json", &normalized["events"][0].to_string());
    let verdict = switchyard::cli::plugin_test(&plugins_dir().join("drop-unmatched.wasm"), &event, "{}", "t", limits)
        .await
        .expect("filter");
    assert_eq!(verdict["verdict"], "drop");
    assert!(verdict["reason"].as_str().expect("reason").contains("unmatched"));
    let redacted = switchyard::cli::plugin_test(
        &plugins_dir().join("redact.wasm"),
        &event,
        r#"{"fields": ["subject.id_document_number"]}"#,
        "t",
        limits,
    )
    .await
    .expect("transform");
    assert_eq!(redacted["events"][0]["subject"]["id_document_number"], "***");
}

/// A decider under `plugin test` reads the roster and clock it is given, as in the router.
#[tokio::test]
async fn plugin_test_gives_a_decider_its_roster_and_time_zone() {
    let dir = tempfile::tempdir().expect("tmp");
    let golden: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            router_tests::workspace().join("tests/golden/vendors/nebulapass-v13-remote-auth-request.json"),
        )
        .expect("golden"),
    )
    .expect("json");
    let event = dir_file(dir.path(), "event.json", &golden["events"][0].to_string());
    let roster = dir_file(
        dir.path(),
        "roster.csv",
        "person_id,name,groups\n4bf5d479-f64e-4e35-907b-23a162b5d80f,Cohen,staff\n",
    );
    let settings = r#"{"rules": [{"name": "staff", "groups": ["staff"], "tip": "Hi {name}"}]}"#;
    let limits = PluginLimits {
        timeout_ms: 1000,
        ..PluginLimits::DEFAULT
    };
    let decider = plugins_dir().join("decide-roster.wasm");
    let site = switchyard::cli::SiteOptions {
        roster: Some((roster, "person_id".into())),
        time_zone: Some("Asia/Shanghai".into()),
    };
    let granted = switchyard::cli::plugin_test_with(&decider, &event, settings, "t", limits, &site)
        .await
        .expect("decide");
    assert_eq!(granted["plugin"]["kind"], "decider");
    assert_eq!(granted["ruling"]["decision"], "granted");
    assert_eq!(granted["ruling"]["custom_tip"], "Hi Cohen");
    // Without a roster nobody can be listed (`site.roster-size` is 0), and the reason says so.
    let denied = switchyard::cli::plugin_test(&decider, &event, settings, "t", limits)
        .await
        .expect("decide");
    assert_eq!(denied["ruling"]["details"]["reason"], "no-roster");
    let bad_zone = switchyard::cli::SiteOptions {
        time_zone: Some("Nowhere/Else".into()),
        ..site
    };
    let err = switchyard::cli::plugin_test_with(&decider, &event, settings, "t", limits, &bad_zone)
        .await
        .expect_err("bad zone");
    assert!(format!("{err:#}").contains("Nowhere/Else"), "{err:#}");
}

#[tokio::test]
async fn bad_plugin_settings_are_reported_by_name() {
    let dir = tempfile::tempdir().expect("tmp");
    let limits = PluginLimits {
        timeout_ms: 1000,
        ..PluginLimits::DEFAULT
    };
    let err = switchyard::cli::plugin_test(
        &plugins_dir().join("normalize-json.wasm"),
        &dir_file(dir.path(), "in.json", "{}"),
        r#"{"fields": {"subject.shoe_size": "x"}}"#,
        "t",
        limits,
    )
    .await
    .expect_err("bad settings");
    let text = err.to_string();
    assert!(
        text.contains("invalid settings") && text.contains("subject.shoe_size"),
        "{text}"
    );
}

fn dir_file(dir: &std::path::Path, name: &str, content: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write");
    path
}

#[test]
fn compiled_plugins_are_cached_on_disk_across_restarts() {
    use std::os::unix::fs::MetadataExt;
    let cache = tempfile::tempdir().expect("tmp");
    let wasm = plugins_dir().join("redact.wasm");
    let limits = PluginLimits {
        timeout_ms: 1000,
        ..PluginLimits::DEFAULT
    };
    let load = |wasm: &std::path::Path| {
        let runtime = Runtime::with_disk_cache(Some(cache.path().to_path_buf())).expect("runtime");
        runtime
            .load("redact", wasm, PluginKind::Transform, limits, &serde_json::json!({}))
            .expect("load");
    };
    let compiled = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(cache.path())
            .expect("cache dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
            .collect()
    };
    let functions = || walkdir_files(&cache.path().join("functions"));
    load(&wasm);
    let files = compiled();
    assert_eq!(files.len(), 1, "{files:?}");
    let cached = &files[0];
    let written = std::fs::metadata(cached).expect("meta").ino();
    let compiled_functions = functions();
    assert!(
        compiled_functions > 10,
        "each function compiled is kept: {compiled_functions}"
    );
    load(&wasm);
    assert_eq!(
        std::fs::metadata(cached).expect("meta").ino(),
        written,
        "a restart reuses the compiled code (the file is not written again)"
    );
    // A new build whose code is the same (here: only a custom section differs, as after an
    // edit of a comment) is a new component, compiled from the function cache.
    let rebuilt = cache.path().join("rebuilt.wasm");
    let schema: router_plugin_kit::schema::Schema = toml::from_str("[settings.x]\ntype = \"string\"").expect("schema");
    std::fs::write(
        &rebuilt,
        router_plugin_kit::schema::embed(&std::fs::read(&wasm).expect("read"), &schema).expect("embed"),
    )
    .expect("write");
    load(&rebuilt);
    assert_eq!(compiled().len(), 2);
    // (Trampolines and adapters between the component's parts are keyed with their place in
    // it, so some are compiled again — 22 to 32 of ~300 here; the guest's own functions come
    // from the cache.)
    let grown = functions() - compiled_functions;
    assert!(
        grown * 4 < compiled_functions,
        "most functions came from the cache: {grown} new of {compiled_functions}"
    );
    // A damaged cache file is not trusted: the plugin is recompiled and the file rewritten.
    std::fs::write(cached, b"garbage").expect("corrupt");
    load(&wasm);
    assert!(std::fs::metadata(cached).expect("meta").len() > 1000);
}

/// Files under `dir`, one level of folders deep (the function cache's layout).
fn walkdir_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|d| std::fs::read_dir(d.path()).map_or(0, |f| f.count()))
        .sum()
}
