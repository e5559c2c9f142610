//! Signed plugins: a component signed with `plugin sign` by a key in `[trust]` loads and
//! runs; unsigned (when required), an unknown signer, an expired claim and a changed byte are
//! each refused — by `check`, at start and at hot reload (the running version keeps serving) —
//! with the plugin, the file and the reason.

use router_tests::config::{Config, JSON_SETTINGS};
use router_tests::{TestRouter, plugins_dir, post_json, send};
use std::path::Path;

/// A key pair made by `plugin keygen` in `dir`: (private key file, public key text).
pub(crate) fn keygen(dir: &Path, name: &str) -> (std::path::PathBuf, String) {
    switchyard::cli::plugin_keygen(name, Some(dir)).expect("keygen");
    let public = std::fs::read_to_string(dir.join(format!("{name}.pub"))).expect("public key");
    (dir.join(format!("{name}.pem")), public.trim().to_string())
}

/// `normalize-json` signed by `key` with `claims`, as `plugin sign` writes it.
fn signed(dir: &Path, key: &Path, claims: &str) -> Vec<u8> {
    let out = dir.join("signed.wasm");
    switchyard::cli::plugin_sign(
        &plugins_dir().join("normalize-json.wasm"),
        key,
        Some(claims),
        Some(&out),
    )
    .expect("sign");
    std::fs::read(out).expect("signed component")
}

/// A changed byte outside the signature: the name of the component's `producers` section.
pub(crate) fn tampered(mut wasm: Vec<u8>) -> Vec<u8> {
    let at = wasm
        .windows(9)
        .position(|w| w == b"producers")
        .expect("a producers section");
    wasm[at + 8] = b'z';
    wasm
}

fn config(trusted_key: &str) -> String {
    Config::new()
        .server("dedup_window_secs = 0")
        .trust("require_signature = true")
        .trust(&format!(r#"keys = [{{ id = "acme", public_key = "{trusted_key}" }}]"#))
        .plugin_at("n", Path::new("{dir}/n.wasm"), "normalizer", &[JSON_SETTINGS])
        .source("in", "/in", "n", &[])
        .file_sink("file", "events.jsonl")
        .route(&["file"])
        .to_string()
}

/// Every reason to refuse, with the words its message starts with.
fn refusals(keys: &Path) -> (String, Vec<(&'static str, Vec<u8>)>) {
    let (acme, acme_public) = keygen(keys, "acme");
    let (stranger, _) = keygen(keys, "stranger");
    let cases = vec![
        (
            "unsigned",
            std::fs::read(plugins_dir().join("normalize-json.wasm")).expect("plugin"),
        ),
        ("unknown signer", signed(keys, &stranger, "name=n")),
        ("expired", signed(keys, &acme, "name=n,expires=2020-01-01")),
        ("digest mismatch", tampered(signed(keys, &acme, "name=n"))),
    ];
    (acme_public, cases)
}

#[tokio::test]
async fn each_refusal_is_named_by_check_and_at_start() {
    let keys = tempfile::tempdir().expect("keys");
    let (acme_public, cases) = refusals(keys.path());
    for (reason, wasm) in cases {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("n.wasm"), &wasm).expect("plugin");
        let path = dir.path().join("router.toml");
        let config = config(&acme_public).replace("{dir}", &dir.path().display().to_string());
        std::fs::write(&path, &config).expect("config");
        let plugin_line = 1 + config
            .lines()
            .position(|l| l.starts_with("path = "))
            .expect("the plugin's path");
        // `check`: the plugin, the file, the reason and the config line.
        let (text, ok) = switchyard::cli::check(&path, true).await;
        assert!(!ok, "{reason}: {text}");
        assert!(
            text.contains("cannot load plugin `n`")
                && text.contains("n.wasm")
                && text.contains(&format!("signature refused — {reason}"))
                && text.contains(&format!("router.toml:{plugin_line}")),
            "{reason}: {text}"
        );
        // Start: the router refuses to run with it.
        let failed = router_tests::start_refused(&path).await;
        assert!(failed.contains(reason), "{reason}: {failed}");
    }
}

#[tokio::test]
async fn a_trusted_plugin_runs_and_a_refused_reload_keeps_it_serving() {
    let keys = tempfile::tempdir().expect("keys");
    let (acme, _) = keygen(keys.path(), "acme");
    let acme_public = std::fs::read_to_string(keys.path().join("acme.pub")).expect("pub");
    let good = signed(
        keys.path(),
        &acme,
        "name=n,version=1.0.0,vendor=Acme,expires=2099-12-31",
    );
    let router = TestRouter::start_with_files(&config(acme_public.trim()), &[("n.wasm", good.clone())]).await;
    let answer = post_json(router.addr, "/in", r#"{"id": "first"}"#).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let status = router.status().await;
    let plugin = &status["plugins"][0];
    assert_eq!(plugin["signer"]["trusted_as"], "acme", "{status}");
    assert_eq!(plugin["signer"]["claims"]["version"], "1.0.0", "{status}");
    let serving = plugin["sha256"].clone();
    let metrics = router_tests::get(router.addr, "/metrics")
        .await
        .expect("metrics")
        .text();
    let info = format!(
        "switchyard_plugin_info{{plugin=\"n\",sha256={serving},signer=\"acme\",fingerprint={},version=\"1.0.0\"}} 1",
        plugin["signer"]["fingerprint"]
    );
    assert!(metrics.contains(&info), "{info} in:\n{metrics}");

    // The refusals' own "acme" is another key than the trusted one: a signature by it is an
    // unknown signer's, like the stranger's.
    let other_keys = tempfile::tempdir().expect("keys");
    let (_, cases) = refusals(other_keys.path());
    let path = router.config_path().with_file_name("n.wasm");
    for (reason, wasm) in cases {
        std::fs::write(&path, &wasm).expect("replace the plugin");
        let answer = send(router.addr, "POST", "/admin/reload", &[], "")
            .await
            .expect("reload");
        let outcome = answer.json();
        assert_eq!(
            (answer.status, outcome["outcome"].as_str()),
            (409, Some("rejected")),
            "{outcome}"
        );
        // The digest and the expiry are checked before the key, so the expired and the
        // changed component are named as such although their signer is not trusted either.
        assert!(
            outcome["reason"].as_str().is_some_and(|r| r.contains(reason)),
            "{reason}: {outcome}"
        );
        let answer = post_json(router.addr, "/in", format!(r#"{{"id": "after {reason}"}}"#)).await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert_eq!(router.status().await["plugins"][0]["sha256"], serving);
    }
    // A new signed version goes live.
    std::fs::write(&path, signed(keys.path(), &acme, "name=n,version=1.0.1")).expect("new version");
    let answer = send(router.addr, "POST", "/admin/reload", &[], "")
        .await
        .expect("reload");
    assert_eq!(answer.json()["outcome"], "applied", "{}", answer.text());
    assert_eq!(
        router.status().await["plugins"][0]["signer"]["claims"]["version"],
        "1.0.1"
    );
    assert_eq!(router.jsonl("events.jsonl").len(), 5);
    router.stop().await;
}
