//! `switchyard check`: every bad config in `ui/invalid/` produces exactly its `.err` golden
//! (file, line, column, caret; all errors at once). `BLESS=1` rewrites the goldens.

use router_tests::{golden, workspace};

#[tokio::test]
async fn invalid_configs_match_their_goldens() {
    let dir = workspace().join("tests/ui/invalid");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("ui/invalid")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 5,
        "expected the invalid-config cases in {}",
        dir.display()
    );
    // Run from tests/ so reported paths are relative and identical on every machine.
    std::env::set_current_dir(workspace().join("tests")).expect("cd");
    for case in cases {
        let name = case.file_name().expect("name").to_string_lossy().to_string();
        let relative = std::path::Path::new("ui/invalid").join(&name);
        let (report, ok) = switchyard::cli::check(&relative, false).await;
        assert!(!ok, "{name} should fail to check");
        golden(
            &format!("ui/invalid/{}", name.replace(".toml", ".err")),
            &(report + "\n"),
        );
    }
}

#[tokio::test]
async fn all_errors_are_reported_at_once() {
    let text = r#"
version = 1
[server]
listen = "nowhere"
bogus = 1

[plugins.n]
path = "n.wasm"
kind = "normaliser"

[[sources]]
id = "a"
path = "/a"
normalizer = "missing"
filters = ["also-missing"]

[sinks.out]
type = "carrier-pigeon"

[[routes]]
sinks = ["nope"]
"#;
    let errors = switchyard::config::load_str(text, std::path::Path::new("router.toml")).expect_err("broken config");
    let lines: Vec<Option<usize>> = errors.0.iter().map(|e| e.line).collect();
    assert_eq!(errors.0.len(), 6, "{errors}");
    assert_eq!(
        lines,
        vec![Some(5), Some(9), Some(14), Some(15), Some(18), Some(21)],
        "{errors}"
    );
}

/// The first TOML block under `heading` in the README, compiled as a config.
fn readme_example(heading: &str) -> switchyard::config::RouterSpec {
    let readme = std::fs::read_to_string(workspace().join("README.md")).expect("README");
    let section = &readme[readme.find(heading).expect("section")..];
    let start = section.find("```toml\n").expect("toml block") + "```toml\n".len();
    let block = &section[start..start + section[start..].find("```").expect("block end")];
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("router.toml");
    std::fs::write(&path, format!("version = 1\n{block}")).expect("write");
    switchyard::config::load(&path).unwrap_or_else(|e| panic!("README example under {heading}:\n{e}"))
}

/// The sink shown under "Delivery guarantees" in the README compiles as written.
#[tokio::test]
async fn readme_delivery_example_compiles() {
    let spec = readme_example("## Delivery guarantees");
    let switchyard::config::SinkKind::Webhook(hook) = &spec.sinks[0].kind else {
        panic!("a webhook sink")
    };
    assert_eq!(
        (hook.concurrency, hook.ordering_key.as_deref(), hook.format.as_str()),
        (16, Some("/source/device_id"), "cloudevents")
    );
}

/// The `[cluster]` table shown under "Cluster mode" in the README compiles as written.
#[tokio::test]
async fn readme_cluster_example_compiles() {
    let spec = readme_example("## Cluster mode");
    let cluster = spec.cluster.expect("[cluster]");
    assert_eq!(cluster.node, "gate-a");
    assert_eq!(cluster.replicas, 3);
    assert_eq!(
        cluster.auth,
        switchyard::config::NatsAuth::CredentialsFile("/run/secrets/nats.creds".into())
    );
}
