//! Sink encodings: `compact` leaves out null and empty fields (the vendor's own data kept as
//! it came), for file and webhook sinks alike; `full` stays the default.

use router_tests::load::findface_batch;
use router_tests::{Config, MockSink, TestRouter, post_json};
use serde_json::Value;

/// Whether `value` holds a null, `[]` or `{}` anywhere outside the vendor's own data.
fn has_empty(value: &Value, top: bool) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty() || items.iter().any(|v| has_empty(v, false)),
        Value::Object(members) => {
            members.is_empty()
                || members
                    .iter()
                    .filter(|(k, _)| !(top && (*k == "vendor_extras" || *k == "vendor_fields_raw")))
                    .any(|(_, v)| has_empty(v, false))
        }
        _ => false,
    }
}

/// Null, `[]`, or an object of nothing but such members: what compact leaves out.
fn is_void(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(members) => members.values().all(is_void),
        _ => false,
    }
}

/// `full` with the members `compact` left out filled back in as null / empty.
fn same_event(full: &Value, compact: &Value) -> bool {
    match (full, compact) {
        (Value::Object(f), Value::Object(c)) => {
            f.iter().all(|(k, v)| match c.get(k) {
                Some(cv) => same_event(v, cv),
                None => is_void(v),
            }) && c.keys().all(|k| f.contains_key(k))
        }
        (Value::Array(f), Value::Array(c)) => f.len() == c.len() && f.iter().zip(c).all(|(f, c)| same_event(f, c)),
        (f, c) => f == c,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compact_sinks_leave_out_empty_fields_and_keep_the_rest() {
    let mock = MockSink::start().await;
    let config = Config::new()
        .server("dedup_window_secs = 0")
        .plugin("normalize-findface", "normalize-findface", "normalizer", &[])
        .source("findface", "/ingest/findface", "normalize-findface", &[])
        .file_sink("full", "full.jsonl")
        .file_sink_with("compact", "compact.jsonl", &["encoding = \"compact\""])
        .webhook("hook", &mock.url(), &["encoding = \"compact\""])
        .route(&["full", "compact", "hook"])
        .to_string();
    let router = TestRouter::start(&config).await;
    let answer = post_json(router.addr, "/ingest/findface", findface_batch(3)).await;
    assert_eq!(answer.status, 200, "{}", answer.text());

    let full = router.jsonl("full.jsonl");
    let compact = router.jsonl("compact.jsonl");
    assert_eq!((full.len(), compact.len()), (3, 3));
    assert!(has_empty(&full[0], true), "full keeps every schema field");
    let full_bytes = std::fs::read(router.data().join("full.jsonl")).expect("full");
    let compact_bytes = std::fs::read(router.data().join("compact.jsonl")).expect("compact");
    // FindFace events carry much vendor data (kept whole); the schema's empty parts go.
    assert!(
        compact_bytes.len() * 10 < full_bytes.len() * 9,
        "compact should be smaller: {} vs {} bytes",
        compact_bytes.len(),
        full_bytes.len()
    );
    for (f, c) in full.iter().zip(&compact) {
        assert!(!has_empty(c, true), "compact left an empty field: {c}");
        assert!(same_event(f, c), "compact lost information:\nfull: {f}\ncompact: {c}");
        // The vendor's unmapped data is kept whole.
        assert_eq!(f["vendor_extras"], c["vendor_extras"]);
    }
    let delivered = mock.wait_for(3).await;
    for request in &delivered {
        let body: Value = serde_json::from_slice(&request.body).expect("JSON");
        assert!(!has_empty(&body, true), "the webhook got a full event: {body}");
        assert_eq!(body["schema"], "router.event/v1");
    }
    router.stop().await;
}
