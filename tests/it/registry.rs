//! Vendor modules from an OCI registry (a real `docker-registry` on loopback): signed, pushed,
//! pulled by digest with `require_signature`, run on a sample; a changed byte, an unknown
//! signer, an expired claim and a wrong digest are each refused at `check`, at start and at hot
//! reload (the running version keeps serving); a tag is resolved once; the router starts
//! offline from its cache. The kit's Rust normalizer goes through the same flow
//! (`kits::rust_kit…`).

use router_tests::config::Config;
use router_tests::registry::Registry;
use router_tests::{TestRouter, plugins_dir, post_json, send};
use std::path::Path;

pub(crate) struct Module<'a> {
    /// The component the flow signs and pushes.
    pub(crate) component: &'a Path,
    /// Its `settings = …` line.
    pub(crate) settings: &'a str,
    /// A request body it normalizes.
    pub(crate) body: &'a str,
    /// How many events that body makes.
    pub(crate) events_per_request: usize,
}

fn sign(dir: &Path, component: &Path, key: &Path, claims: &str, out: &str) -> std::path::PathBuf {
    let out = dir.join(out);
    switchyard::cli::plugin_sign(component, key, Some(claims), Some(&out)).expect("sign");
    out
}

/// Pushes `file` as `reference`; returns the pinned reference `plugin push` printed.
async fn push(file: &Path, reference: &str) -> String {
    let said = switchyard::cli::plugin_push(file, reference).await.expect("push");
    said.lines()
        .find_map(|l| l.strip_prefix("source = \""))
        .and_then(|l| l.strip_suffix('"'))
        .unwrap_or_else(|| panic!("no pinned reference in: {said}"))
        .to_string()
}

fn config(source: &str, trusted: &str, data: &Path, module: &Module<'_>) -> String {
    Config::new()
        .server("dedup_window_secs = 0")
        .server(&format!("data_dir = {:?}", data.display().to_string()))
        .trust("require_signature = true")
        .trust(&format!(r#"keys = [{{ id = "acme", public_key = "{trusted}" }}]"#))
        .plugin_from("n", source, "normalizer", &[module.settings])
        .source("in", "/in", "n", &[])
        .file_sink("file", "events.jsonl")
        .route(&["file"])
        .to_string()
}

async fn check(dir: &Path, text: &str) -> (String, bool) {
    let path = dir.join("check.toml");
    std::fs::write(&path, text).expect("config");
    switchyard::cli::check(&path, true).await
}

async fn start_fails(dir: &Path, text: &str) -> String {
    let path = dir.join("start.toml");
    std::fs::write(&path, text).expect("config");
    router_tests::start_refused(&path).await
}

/// The whole flow for one module.
pub(crate) async fn from_a_registry(module: Module<'_>) {
    let mut registry = tokio::task::spawn_blocking(Registry::start).await.expect("registry");
    let work = tempfile::tempdir().expect("work");
    let dir = work.path();
    let data = dir.join("data");
    let (acme, trusted) = crate::trust::keygen(dir, "acme");
    let (stranger, _) = crate::trust::keygen(dir, "stranger");

    let good = sign(
        dir,
        module.component,
        &acme,
        "name=n,version=1.0.0,vendor=Acme,expires=2099-12-31",
        "good.wasm",
    );
    let pinned = push(&good, &registry.reference("acme/n:1.0.0")).await;
    assert!(pinned.contains("@sha256:"), "{pinned}");

    // check fetches it into the data dir's cache, verifies it and has it validate its settings.
    let (text, ok) = check(dir, &config(&pinned, &trusted, &data, &module)).await;
    assert!(ok, "{text}");
    let router = TestRouter::start(&config(&pinned, &trusted, &data, &module)).await;
    let answer = post_json(router.addr, "/in", module.body.to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let status = router.status().await;
    assert_eq!(status["plugins"][0]["signer"]["trusted_as"], "acme", "{status}");
    let serving = status["plugins"][0]["sha256"].clone();

    // Each refusal, by check, at start and at reload.
    let tampered = crate::trust::tampered(std::fs::read(&good).expect("good"));
    std::fs::write(dir.join("tampered.wasm"), &tampered).expect("tampered");
    let cases = [
        (
            "digest mismatch",
            push(&dir.join("tampered.wasm"), &registry.reference("acme/n:tampered")).await,
        ),
        (
            "unknown signer",
            push(
                &sign(dir, module.component, &stranger, "name=n", "stranger.wasm"),
                &registry.reference("acme/n:stranger"),
            )
            .await,
        ),
        (
            "expired",
            push(
                &sign(dir, module.component, &acme, "name=n,expires=2020-01-01", "old.wasm"),
                &registry.reference("acme/n:old"),
            )
            .await,
        ),
        // A digest the registry does not have for this repository.
        (
            "manifest unknown",
            registry.reference(&format!("acme/n:1.0.0@sha256:{}", "0".repeat(64))),
        ),
    ];
    for (reason, source) in &cases {
        let text = config(source, &trusted, &data, &module);
        let (said, ok) = check(dir, &text).await;
        assert!(
            !ok && said.contains(reason) && said.contains("plugin `n`"),
            "check, {reason}: {said}"
        );
        // Its own data dir: the running router holds the lock on `data`.
        let failed = start_fails(dir, &config(source, &trusted, &dir.join("start-data"), &module)).await;
        assert!(failed.contains(reason), "start, {reason}: {failed}");
        router.write_config(&text);
        let answer = send(router.addr, "POST", "/admin/reload", &[], "")
            .await
            .expect("reload");
        let outcome = answer.json();
        assert_eq!(outcome["outcome"], "rejected", "reload, {reason}: {outcome}");
        assert!(
            outcome["reason"].as_str().is_some_and(|r| r.contains(reason)),
            "reload, {reason}: {outcome}"
        );
        let answer = post_json(router.addr, "/in", module.body.to_string()).await;
        assert_eq!(answer.status, 200, "still serving after {reason}: {}", answer.text());
        assert_eq!(router.status().await["plugins"][0]["sha256"], serving);
    }

    // A tag alone is resolved once: pushing another build under it changes nothing that runs.
    let tagged = registry.reference("acme/n:1.0.0");
    router.write_config(&config(&tagged, &trusted, &data, &module));
    let answer = send(router.addr, "POST", "/admin/reload", &[], "")
        .await
        .expect("reload");
    assert_ne!(answer.json()["outcome"], "rejected", "{}", answer.text());
    let newer = sign(dir, module.component, &acme, "name=n,version=1.0.1", "newer.wasm");
    push(&newer, &tagged).await;
    router.write_config(
        &config(&tagged, &trusted, &data, &module).replace("dedup_window_secs = 0", "dedup_window_secs = 1"),
    );
    let answer = send(router.addr, "POST", "/admin/reload", &[], "")
        .await
        .expect("reload");
    assert_eq!(answer.json()["outcome"], "applied", "{}", answer.text());
    assert_eq!(
        router.status().await["plugins"][0]["sha256"],
        serving,
        "the tag stays on its first digest"
    );
    let events = router_tests::read_jsonl(&data.join("events.jsonl")).len();
    assert_eq!(
        events,
        (1 + cases.len()) * module.events_per_request,
        "every accepted request's events"
    );
    router.stop().await;

    // Offline: no registry, the same data dir — it starts from the cache and serves.
    registry.stop();
    let router = TestRouter::start(&config(&pinned, &trusted, &data, &module)).await;
    let answer = post_json(router.addr, "/in", module.body.to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(router.status().await["plugins"][0]["sha256"], serving);
    assert_eq!(
        router_tests::read_jsonl(&data.join("events.jsonl")).len(),
        events + module.events_per_request
    );
    router.stop().await;
}

/// A vendor's normalizer (FindFace's, as its maker would ship it) on the vendor's own sample.
#[tokio::test]
async fn a_signed_module_from_a_registry_runs_and_every_refusal_keeps_the_old_one() {
    let sample = std::fs::read_to_string(router_tests::samples_dir().join("findface-security4-face-matched.json"))
        .expect("FindFace sample");
    from_a_registry(Module {
        component: &plugins_dir().join("normalize-findface.wasm"),
        settings: "",
        body: &sample,
        events_per_request: 1,
    })
    .await;
}
