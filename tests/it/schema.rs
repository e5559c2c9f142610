//! `switchyard config schema` against real configs, as an editor (taplo) or a CI step would
//! use it: every shipped config and every config `switchyard init` writes validates, and a
//! typo or a wrong type is rejected naming the key and where it is.

use router_tests::workspace;
use std::path::PathBuf;

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&switchyard::config::reference::schema()).expect("the schema is valid draft-07")
}

fn as_json(toml_text: &str) -> serde_json::Value {
    let table: toml::Table = toml::from_str(toml_text).expect("TOML");
    switchyard::config::toml_to_json(&table)
}

/// The schema's complaints about `text`, one line each: `<path>: <message>`.
fn complaints(text: &str) -> Vec<String> {
    validator()
        .iter_errors(&as_json(text))
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect()
}

fn shipped() -> Vec<PathBuf> {
    let mut configs = vec![workspace().join("router.toml")];
    for entry in std::fs::read_dir(workspace().join("examples"))
        .expect("examples")
        .flatten()
    {
        let config = entry.path().join("router.toml");
        if config.exists() {
            configs.push(config);
        }
    }
    configs
}

#[test]
fn every_shipped_and_generated_config_validates() {
    let mut checked = 0;
    for path in shipped() {
        let text = std::fs::read_to_string(&path).expect("config");
        let errors = complaints(&text);
        assert!(errors.is_empty(), "{}:\n{}", path.display(), errors.join("\n"));
        checked += 1;
    }
    assert!(checked >= 8, "router.toml and the examples: {checked}");
    let vendors = switchyard::cli::init_vendors();
    for chosen in [vec![], vendors.iter().map(|v| v.to_string()).collect::<Vec<_>>()] {
        let text = switchyard::cli::init_config(&switchyard::cli::InitOptions {
            dir: PathBuf::from("."),
            vendors: chosen,
            listen: "127.0.0.1:8080".into(),
            admin_listen: "off".into(),
            data_dir: "/var/lib/switchyard".into(),
            force: false,
        })
        .expect("init config");
        let errors = complaints(&text);
        assert!(errors.is_empty(), "init:\n{}\n{text}", errors.join("\n"));
    }
}

#[test]
fn a_typo_is_rejected_with_the_keys_name_and_place() {
    let base = std::fs::read_to_string(workspace().join("examples/findface/router.toml")).expect("config");
    let typo = base.replace("dedup_window_secs = 600", "dedup_windw_secs = 600");
    let errors = complaints(&typo);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("dedup_windw_secs"), "{errors:?}");
    assert!(errors[0].starts_with("/server"), "{errors:?}");

    // Inside a sink told apart by its `type`: still the key's own name, not "no shape matched".
    let typo = base.replace("ordering_key = ", "ordering_kye = ");
    let errors = complaints(&typo);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("ordering_kye") && e.starts_with("/sinks/security-desk")),
        "{errors:?}"
    );

    // A wrong type and an out-of-range value name their key too.
    let wrong = base.replace("max_body_bytes = 8388608", "max_body_bytes = \"8 MiB\"");
    let errors = complaints(&wrong);
    assert!(
        errors.iter().any(|e| e.starts_with("/sources/0/max_body_bytes")),
        "{errors:?}"
    );
    let big = base.replace("max_body_bytes = 8388608", "max_body_bytes = 999999999999");
    let errors = complaints(&big);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("/sources/0/max_body_bytes") && e.contains("maximum")),
        "{errors:?}"
    );
    // And the router itself agrees with the schema about each.
    for bad in [typo, wrong, big] {
        assert!(switchyard::config::load_str(&bad, std::path::Path::new("x.toml")).is_err());
    }
}

#[test]
fn the_schema_knows_the_built_in_plugins_and_the_schema_enums() {
    let text = "[plugins.x]\nbuiltin = \"normalize-findfce\"\n";
    let errors = complaints(text);
    assert!(errors.iter().any(|e| e.starts_with("/plugins/x/builtin")), "{errors:?}");
    let text = "[[routes]]\nsinks = [\"a\"]\nmatch = { category = [\"recogniton\"] }\n";
    let errors = complaints(text);
    assert!(errors.iter().any(|e| e.contains("recogniton")), "{errors:?}");
}
