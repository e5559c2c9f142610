//! `switchyard replay`: quarantined requests go through the current plugins once the cause is
//! fixed; what still fails stays quarantined.

use router_tests::{TestRouter, plugins_dir, post_json, wat_guest};

fn config(filter: &str) -> String {
    format!(
        r#"
version = 1
[plugins.n]
path = "{{plugins}}/normalize-json.wasm"
kind = "normalizer"
settings = {{ vendor = "acme", fields = {{ vendor_event_id = "id" }} }}

[plugins.f]
path = "{{dir}}/{filter}.wasm"
kind = "filter"
rollback = {{ enabled = false }}

[[sources]]
id = "in"
path = "/in"
normalizer = "n"
filters = ["f"]

[sinks.file]
type = "file"
path = "events.jsonl"

[[routes]]
sinks = ["file"]
"#
    )
}

#[tokio::test]
async fn fixed_plugins_replay_the_quarantine() {
    let guests = tempfile::tempdir().expect("tmp");
    let trap = std::fs::read(wat_guest("limits_trap", "filter", guests.path())).expect("guest");
    let keep = std::fs::read(wat_guest("limits_keep", "filter", guests.path())).expect("guest");
    let router = TestRouter::start_with_files(&config("broken"), &[("broken.wasm", trap), ("fixed.wasm", keep)]).await;
    assert_eq!(post_json(router.addr, "/in", r#"{"id": "lost-1"}"#).await.status, 500);
    assert_eq!(post_json(router.addr, "/in", r#"{"id": "lost-2"}"#).await.status, 500);
    assert_eq!(post_json(router.addr, "/in", r#"{"id": 1,}"#).await.status, 400);
    assert_eq!(router.quarantined().len(), 3);
    let (config_path, data) = (router.config_path(), router.data());
    let _files = router.stop().await;

    // The fix: a working filter.
    let text = config("fixed")
        .replace("{plugins}", &plugins_dir().display().to_string())
        .replace("{dir}", &config_path.parent().expect("dir").display().to_string());
    std::fs::write(&config_path, text).expect("config");
    let progress = switchyard::cli::Progress::buffer();
    let summary = switchyard::cli::replay(&config_path, None, None, &progress)
        .await
        .expect("replay");
    let progress = progress.captured();
    assert_eq!(
        (summary.total, summary.replayed, summary.failed),
        (3, 2, 1),
        "{progress}"
    );
    assert!(
        progress.contains("[3/3]") && progress.contains("still failing"),
        "{progress}"
    );
    let events = router_tests::read_jsonl(&data.join("events.jsonl"));
    let ids: Vec<_> = events
        .iter()
        .map(|e| e["vendor_event_id"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(ids, ["lost-1", "lost-2"]);
    let left = switchyard::quarantine::Quarantine::new(&data).list().expect("list");
    assert_eq!(left.len(), 1, "only the malformed request is still quarantined");
    assert_eq!(
        std::fs::read_dir(data.join("quarantine/replayed"))
            .expect("replayed")
            .count(),
        2
    );
}
