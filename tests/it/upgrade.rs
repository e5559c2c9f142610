//! Upgrades over an existing data dir. `tests/fixtures/datadir-0.1.0` was written by switchyard
//! 0.1.0 (its README says how): the current router migrates its outbox in place and delivers
//! what was waiting; dead letters and quarantined requests stay readable. A data dir written
//! by a newer release is refused with a message naming the versions, before anything in it is
//! touched.

use router_tests::{Config, MockSink, TestRouter, workspace};
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    workspace().join("tests/fixtures/datadir-0.1.0")
}

/// The fixture's files as `data/<relative path>`, for the test router's dir.
fn fixture_files() -> Vec<(String, Vec<u8>)> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).expect("fixture dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, base, out);
            } else if path.extension().is_none_or(|x| x != "md") {
                let rel = path.strip_prefix(base).expect("inside").display().to_string();
                out.push((format!("data/{rel}"), std::fs::read(&path).expect("fixture file")));
            }
        }
    }
    let mut out = Vec::new();
    walk(&fixture(), &fixture(), &mut out);
    out
}

/// The 0.1.0 config's shape: `receiver` (dead), `fallback` (where the waiting events go).
fn config(receiver: &str, fallback: &str) -> String {
    Config::new()
        .builtin(
            "json",
            "normalize-json",
            &[r#"settings = { vendor = "acme", category = "recognition", fields = { vendor_event_id = "id", occurred_at = "time" } }"#],
        )
        .source("json", "/ingest/json", "json", &[])
        .webhook("receiver", receiver, &["max_attempts = 2"])
        .webhook("fallback", fallback, &[])
        .route_matching(r#"{ source = ["json"] }"#, &["receiver"])
        .route(&["fallback"])
        .to_string()
}

fn user_version(outbox: &Path) -> i64 {
    let conn = switchyard::outbox::sql::connect(outbox).expect("outbox");
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("user_version")
}

#[tokio::test]
async fn a_data_dir_of_0_1_0_is_migrated_and_what_waited_is_delivered() {
    let files = fixture_files();
    assert!(
        files.iter().any(|(n, _)| n == "data/outbox.db"),
        "{:?}",
        files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    let mock = MockSink::start().await;
    let text = config("http://127.0.0.1:9/events", &mock.url());
    let named: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    let router = TestRouter::start_with_files(&text, &named).await;

    // The three events 0.1.0 left waiting for `fallback` arrive, each once.
    let got = mock.wait_for(3).await;
    let mut ids: Vec<String> = got
        .iter()
        .map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).expect("json")["vendor_event_id"].to_string())
        .collect();
    ids.sort();
    assert_eq!(ids, ["\"evt-1\"", "\"evt-2\"", "\"evt-3\""]);

    // Its dead letters are still listed (and replayable), its quarantined request still kept.
    let dead = switchyard::cli::dlq_list(&router.config_path(), &switchyard::cli::DlqFilter::default())
        .await
        .expect("dlq list");
    assert_eq!(dead.len(), 3, "{dead:?}");
    assert!(
        dead.iter()
            .all(|d| d.sink == "receiver" && d.last_error.contains("connection failed"))
    );
    let kept = router.quarantined();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].format, 1, "an entry of 0.1.0 reads as format 1");
    assert!(kept[0].reason.contains("not valid JSON"), "{}", kept[0].reason);

    // The file is the current format now, and says who created and last opened it.
    let outbox = router.data().join("outbox.db");
    assert_eq!(user_version(&outbox), i64::from(switchyard::formats::OUTBOX.current));
    let conn = switchyard::outbox::sql::connect(&outbox).expect("outbox");
    let meta = |key: &str| -> String {
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .expect(key)
    };
    assert_eq!(meta("created_by"), "0.1.0 or earlier");
    assert_eq!(meta("last_opened_by"), env!("CARGO_PKG_VERSION"));
    router.stop().await;
}

/// Runs the router on `dir` and returns its start-up error.
async fn refusal(dir: &Path) -> String {
    let text = config("http://127.0.0.1:9/a", "http://127.0.0.1:9/b").replace("{plugins}", "");
    let path = dir.join("router.toml");
    std::fs::write(&path, text).expect("config");
    let spec = switchyard::config::load(&path).expect("config compiles");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    match switchyard::run(spec, listener, switchyard::Shutdown::new()).await {
        Ok(()) => panic!("a router started on a data dir from a newer release"),
        Err(e) => format!("{e:#}"),
    }
}

#[tokio::test]
async fn an_outbox_from_a_newer_release_is_refused_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outbox = dir.path().join("data/outbox.db");
    {
        let conn = switchyard::outbox::sql::connect(&outbox).expect("outbox");
        conn.execute_batch("PRAGMA user_version = 99; UPDATE meta SET value = '9.9.9' WHERE key = 'last_opened_by';")
            .expect("pretend a newer release wrote it");
    }
    let err = refusal(dir.path()).await;
    assert!(err.contains("is format 99, written by switchyard 9.9.9"), "{err}");
    assert!(err.contains("reads outbox formats up to 2"), "{err}");
    assert_eq!(header_user_version(&outbox), 99, "the refused file is left as it was");
}

/// `PRAGMA user_version` read without `connect` (which would refuse the file).
fn header_user_version(path: &Path) -> u32 {
    // SQLite's header: the user version is the big-endian u32 at offset 60.
    let bytes = std::fs::read(path).expect("outbox file");
    u32::from_be_bytes(bytes[60..64].try_into().expect("header"))
}

#[tokio::test]
async fn a_quarantine_entry_from_a_newer_release_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, entry) = fixture_files()
        .into_iter()
        .find(|(n, _)| n.starts_with("data/quarantine/"))
        .expect("a quarantined entry in the fixture");
    let mut entry: serde_json::Value = serde_json::from_slice(&entry).expect("entry");
    entry["format"] = serde_json::json!(7);
    let q = dir.path().join("data/quarantine");
    std::fs::create_dir_all(&q).expect("quarantine dir");
    std::fs::write(q.join("01NEWER.json"), entry.to_string()).expect("entry");
    let err = refusal(dir.path()).await;
    assert!(err.contains("quarantine entry"), "{err}");
    assert!(err.contains("01NEWER.json is format 7"), "{err}");
    // Nor does `replay` (or the console) read it as if it understood it.
    let read = switchyard::quarantine::Quarantine::new(&dir.path().join("data")).get("01NEWER");
    let err = format!("{:#}", read.expect_err("a newer entry is refused"));
    assert!(err.contains("is format 7"), "{err}");
}
