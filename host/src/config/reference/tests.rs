//! The registry against the code: serde's own field lists, the reload controller's fixed keys,
//! the compiler's bounds, and the generated files checked in (docs/config.md,
//! docs/router.schema.json; `BLESS=1` rewrites them).

use super::*;
use crate::config::raw;
use serde::de::DeserializeOwned;
use std::collections::BTreeSet;

/// The `quoted` words of a message or a list.
fn backticked(text: &str) -> BTreeSet<String> {
    text.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

/// The fields serde accepts for `T` with `text` besides an unknown key, from its error;
/// `None` when the error lists none (a shape without fields).
fn probe<T: DeserializeOwned + std::fmt::Debug>(text: &str) -> Option<BTreeSet<String>> {
    let err = toml::from_str::<T>(&format!("{text}\nzz_probe = 1"))
        .expect_err("a probe key is unknown")
        .to_string();
    err.split_once("expected").map(|(_, list)| backticked(list))
}

/// The fields serde accepts for `T`.
fn serde_fields<T: DeserializeOwned + std::fmt::Debug>() -> BTreeSet<String> {
    probe::<T>("").expect("a field list in the unknown-field error")
}

fn registry_fields(t: &Table) -> BTreeSet<String> {
    t.keys.iter().map(|k| k.name.to_string()).collect()
}

#[test]
fn every_raw_table_matches_its_reference_key_for_key() {
    let pairs: Vec<(&str, BTreeSet<String>, &Table)> = vec![
        ("RawServer", serde_fields::<raw::RawServer>(), &server::SERVER),
        ("RawLimits", serde_fields::<raw::RawLimits>(), &server::LIMITS),
        (
            "RawQuarantine",
            serde_fields::<raw::RawQuarantine>(),
            &server::QUARANTINE,
        ),
        ("RawAdmin", serde_fields::<raw::RawAdmin>(), &server::ADMIN),
        ("RawCluster", serde_fields::<raw::RawCluster>(), &server::CLUSTER),
        ("RawPlugin", serde_fields::<raw::RawPlugin>(), &plugins::PLUGIN),
        ("RawSecret", serde_fields::<raw::RawSecret>(), &plugins::SECRET),
        ("RawRollback", serde_fields::<raw::RawRollback>(), &plugins::ROLLBACK),
        ("RawRoster", serde_fields::<raw::RawRoster>(), &plugins::ROSTER),
        (
            "RawTrust",
            serde_fields::<crate::config::trust::RawTrust>(),
            &plugins::TRUST,
        ),
        (
            "RawTrustKey",
            serde_fields::<crate::config::trust::RawTrustKey>(),
            &plugins::TRUST_KEY,
        ),
        ("RawSource", serde_fields::<raw::RawSource>(), &sources::SOURCE),
        ("RawWebsocket", serde_fields::<raw::RawWebsocket>(), &sources::WEBSOCKET),
        ("RawNatsSource", serde_fields::<raw::RawNatsSource>(), &sources::NATS),
        ("RawDecision", serde_fields::<raw::RawDecision>(), &sources::DECISION),
        (
            "RawRateLimit",
            serde_fields::<raw::RawRateLimit>(),
            &sources::RATE_LIMIT,
        ),
        ("RawWebhook", serde_fields::<raw::RawWebhook>(), &sinks::WEBHOOK),
        ("RawFile", serde_fields::<raw::RawFile>(), &sinks::FILE),
        ("RawNatsSink", serde_fields::<raw::RawNatsSink>(), &sinks::NATS),
        ("RawRoute", serde_fields::<raw::RawRoute>(), &sinks::ROUTE),
        ("RawMatch", serde_fields::<raw::RawMatch>(), &sinks::MATCH),
    ];
    for (name, code, reference) in pairs {
        let documented = registry_fields(reference);
        let undocumented: Vec<&String> = code.difference(&documented).collect();
        let stale: Vec<&String> = documented.difference(&code).collect();
        assert!(
            undocumented.is_empty() && stale.is_empty(),
            "{name} vs reference `{}`: keys the parser takes but the reference lacks: {undocumented:?}; \
             keys the reference lists but the parser rejects: {stale:?}",
            reference.path
        );
    }
    // The top level, and the shapes told apart by `type`.
    assert_eq!(backticked(raw::TOP_LEVEL), registry_fields(&ROOT));
    for (tag, table) in [
        ("none", &sources::AUTH_NONE),
        ("basic", &sources::AUTH_BASIC),
        ("bearer", &sources::AUTH_BEARER),
    ] {
        let mut fields = probe::<raw::RawAuth>(&format!("type = \"{tag}\"")).unwrap_or_default();
        fields.insert("type".into());
        assert_eq!(fields, registry_fields(table), "auth `{tag}`");
    }
    // Samples are untagged (a string or a table): both shapes, and nothing else, parse.
    #[derive(Debug, serde::Deserialize)]
    struct Probe {
        #[expect(dead_code, reason = "only whether it parses matters")]
        samples: Vec<raw::RawSample>,
    }
    let keys: Vec<String> = sources::SAMPLE
        .keys
        .iter()
        .map(|k| format!("{} = \"x\"", k.name))
        .collect();
    toml::from_str::<Probe>(&format!("samples = [\"a\", {{ {} }}]", keys.join(", ")))
        .expect("every documented sample key");
    assert!(toml::from_str::<Probe>("samples = [{ request = \"a\", zz_probe = 1 }]").is_err());
}

#[test]
fn the_keys_a_reload_cannot_change_are_the_controllers() {
    let controller = include_str!("../../reload/controller.rs");
    let fixed: BTreeSet<String> = controller
        .split("fixed.push(\"")
        .skip(1)
        .map(|rest| rest.split('"').next().expect("a quoted key").to_string())
        .collect();
    let documented: BTreeSet<String> = restart_keys().into_iter().collect();
    assert_eq!(
        fixed, documented,
        "reload/controller.rs rejects changes to these; the reference says restart"
    );
}

#[test]
fn every_key_says_what_it_is_for_and_its_bounds_hold_its_default() {
    for t in tables() {
        assert!(!t.about.trim().is_empty(), "table `{}` has no description", t.path);
        for key in t.keys {
            assert!(
                key.about.trim().len() > 3 && key.about.trim_end().ends_with(['.', ')']),
                "`{}.{}` needs a description (a sentence)",
                t.path,
                key.name
            );
            if let Ty::Int(i) = key.ty {
                assert!(
                    (i.min..=i.max).contains(&i.default),
                    "`{}.{}`: default {} outside {}..={}",
                    t.path,
                    key.name,
                    i.default,
                    i.min,
                    i.max
                );
            }
            assert!(
                !key.required || matches!(key.default, Dflt::None),
                "`{}.{}` is required and has a default",
                t.path,
                key.name
            );
        }
    }
}

/// Compares a generated file with the checked-in one; `BLESS=1` rewrites it.
fn golden(relative: &str, generated: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, generated).expect("write golden");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == generated,
        "{relative} is not what the code generates: run `BLESS=1 cargo test -p switchyard reference` and commit it"
    );
}

#[test]
fn docs_config_md_is_generated_from_the_code() {
    golden("docs/config.md", &markdown());
}

#[test]
fn docs_router_schema_json_is_generated_from_the_code() {
    golden(
        "docs/router.schema.json",
        &(serde_json::to_string_pretty(&schema()).expect("json") + "\n"),
    );
}
