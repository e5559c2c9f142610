//! Misbehaving plugins (hand-written WAT): an infinite loop, memory growth past the cap and a
//! trap each fail with their own typed error, only for their own request; the router goes on.

use router_tests::{TestRouter, post_json, wat_guest};
use std::time::{Duration, Instant};
use switchyard::event::{Action, Category};
use switchyard::plugin::{Error, PluginKind, PluginLimits, Runtime, Verdict};

fn event() -> switchyard::event::Event {
    let json = serde_json::json!({
        "schema": "router.event/v1", "event_uid": "u", "dedup_key": null, "vendor": "t", "vendor_product": null,
        "vendor_event_id": null, "vendor_event_type": null, "category": "recognition", "action": "face_matched",
        "occurred_at": null, "occurred_at_raw": null, "occurred_at_tz_source": "missing", "local_time": null,
        "utc_offset_minutes": null, "received_at": "2024-01-01T00:00:00Z", "source": {}, "subject": null, "match": null,
        "attributes": null, "media": [], "location": null, "access": null, "alarm": null, "repository": null,
        "delivery": {"transport": "http_post", "delivery_id": "d", "batch_index": null, "batch_size": null, "auth": "none",
                     "signature_valid": null, "duplicate_of": null, "replay_suspected": false},
        "vendor_extras": {}, "vendor_fields_raw": {}, "warnings": []
    });
    let e: switchyard::event::Event = serde_json::from_value(json).expect("event");
    assert_eq!((e.category, e.action), (Category::Recognition, Action::FaceMatched));
    e
}

async fn run_filter(guest: &str, limits: PluginLimits) -> (Result<Verdict, Error>, Duration) {
    let dir = tempfile::tempdir().expect("tmp");
    let path = wat_guest(guest, "filter", dir.path());
    let runtime = Runtime::new().expect("runtime");
    let plugin = runtime
        .load(guest, &path, PluginKind::Filter, limits, &serde_json::json!({}))
        .expect("load");
    let started = Instant::now();
    let result = match plugin.session().await {
        Ok(mut s) => s.filter(&event()).await,
        Err(e) => Err(e),
    };
    (result, started.elapsed())
}

const LIMITS: PluginLimits = PluginLimits {
    timeout_ms: 200,
    timeout_ms_per_mib: 0,
    max_memory_bytes: 4 << 20,
    reuse: switchyard::plugin::Reuse::Fresh,
};

#[tokio::test]
async fn a_well_behaved_wat_guest_keeps() {
    let (result, _) = run_filter("limits_keep", LIMITS).await;
    assert_eq!(result.expect("keep"), Verdict::Keep);
}

#[tokio::test]
async fn an_infinite_loop_hits_the_deadline_close_to_its_budget() {
    let (result, elapsed) = run_filter("limits_loop_forever", LIMITS).await;
    match result {
        Err(Error::DeadlineExceeded { plugin, budget_ms }) => {
            assert_eq!((plugin.as_str(), budget_ms), ("limits_loop_forever", 200))
        }
        other => panic!("expected a deadline error, got {other:?}"),
    }
    // The budget is CPU time counted in epoch ticks: never less than the budget, and nowhere
    // near unbounded (the slack absorbs a loaded CI machine).
    assert!(
        elapsed >= Duration::from_millis(190),
        "interrupted too early: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(3), "interrupted too late: {elapsed:?}");
}

#[tokio::test]
async fn memory_growth_past_the_cap_is_a_resource_limit() {
    let (result, _) = run_filter("limits_grow_memory", LIMITS).await;
    match result {
        Err(Error::ResourceLimit { limit_bytes, .. }) => assert_eq!(limit_bytes, 4 << 20),
        other => panic!("expected a resource-limit error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_trap_is_reported_with_the_plugin_name() {
    let (result, _) = run_filter("limits_trap", LIMITS).await;
    match result {
        Err(e @ Error::Trapped { .. }) => {
            let text = e.to_string();
            assert!(text.starts_with("plugin `limits_trap` trapped"), "{text}");
            assert!(text.contains("unreachable"), "{text}");
        }
        other => panic!("expected a trap, got {other:?}"),
    }
}

#[tokio::test]
async fn a_core_module_is_refused_with_a_hint() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("core.wasm");
    std::fs::write(&path, wat::parse_str("(module)").expect("wat")).expect("write");
    let err = Runtime::new()
        .expect("runtime")
        .load("core", &path, PluginKind::Filter, LIMITS, &serde_json::json!({}))
        .expect_err("core module");
    assert!(err.to_string().contains("not a component"), "{err}");
}

#[tokio::test]
async fn a_plugin_of_the_wrong_kind_is_refused_at_load() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = wat_guest("limits_keep", "filter", dir.path());
    let err = Runtime::new()
        .expect("runtime")
        .load("keep", &path, PluginKind::Transform, LIMITS, &serde_json::json!({}))
        .expect_err("wrong kind");
    assert!(err.to_string().contains("router:plugin/transform-api@0.1.0"), "{err}");
}

/// Through the router: each misbehaving filter fails only its own request (500, quarantined
/// with the typed reason) and the next request, on a healthy source, succeeds.
#[tokio::test]
async fn misbehaving_plugins_fail_only_their_own_request() {
    let guests = tempfile::tempdir().expect("tmp");
    let mut config = String::from(
        r#"
version = 1
[plugins.normalize-json]
path = "{plugins}/normalize-json.wasm"
kind = "normalizer"
settings = { vendor = "acme", fields = { vendor_event_id = "id" } }

[[sources]]
id = "healthy"
path = "/healthy"
normalizer = "normalize-json"

[sinks.file]
type = "file"
path = "events.jsonl"

[[routes]]
sinks = ["file"]
"#,
    );
    let cases = [
        ("limits_loop_forever", "exceeded its CPU budget of 200 ms"),
        ("limits_grow_memory", "exceeded its memory limit of 4194304 bytes"),
        ("limits_trap", "trapped"),
    ];
    for (guest, _) in cases {
        let path = wat_guest(guest, "filter", guests.path());
        config.push_str(&format!(
            "\n[plugins.{guest}]\npath = \"{}\"\nkind = \"filter\"\ntimeout_ms = 200\nmax_memory_bytes = 4194304\n\n[[sources]]\nid = \"{guest}\"\npath = \"/{guest}\"\nnormalizer = \"normalize-json\"\nfilters = [\"{guest}\"]\n",
            path.display()
        ));
    }
    let router = TestRouter::start(&config).await;
    for (i, (guest, reason)) in cases.iter().enumerate() {
        let answer = post_json(router.addr, &format!("/{guest}"), r#"{"id": "bad"}"#).await;
        assert_eq!(answer.status, 500, "{guest}");
        let json = answer.json();
        assert_eq!(
            json["error"], "internal error while processing the request",
            "internals are not leaked to senders"
        );
        assert_eq!(json["quarantined"], true);
        let kept = router.quarantined();
        let entry = kept
            .iter()
            .find(|e| e.delivery_id == json["delivery_id"].as_str().expect("id"))
            .expect("quarantined");
        assert!(
            entry.reason.contains(&format!("plugin `{guest}`")) && entry.reason.contains(reason),
            "{}",
            entry.reason
        );
        let ok = post_json(router.addr, "/healthy", format!(r#"{{"id": "good-{i}"}}"#)).await;
        assert_eq!(ok.status, 200, "the router keeps serving after {guest}");
    }
    assert_eq!(router.jsonl("events.jsonl").len(), cases.len());
    router.stop().await;
}

/// One `reuse_once` instance per request (`Fresh`) or kept across requests (`Warm`): the guest
/// traps when an instance is called twice.
async fn reuse_once_runs(reuse: switchyard::plugin::Reuse) -> Vec<Result<Verdict, Error>> {
    let dir = tempfile::tempdir().expect("tmp");
    let path = wat_guest("reuse_once", "filter", dir.path());
    let runtime = Runtime::new().expect("runtime");
    let limits = PluginLimits { reuse, ..LIMITS };
    let plugin = runtime
        .load("reuse_once", &path, PluginKind::Filter, limits, &serde_json::json!({}))
        .expect("load");
    let mut results = Vec::new();
    for _ in 0..3 {
        let result = match plugin.session().await {
            Ok(mut s) => s.filter(&event()).await,
            Err(e) => Err(e),
        };
        results.push(result);
    }
    results
}

#[tokio::test]
async fn fresh_instances_share_nothing_between_requests() {
    for result in reuse_once_runs(switchyard::plugin::Reuse::Fresh).await {
        assert_eq!(result.expect("a fresh instance keeps"), Verdict::Keep);
    }
}

#[tokio::test]
async fn warm_instances_are_reused_and_a_trapped_one_is_discarded() {
    let results = reuse_once_runs(switchyard::plugin::Reuse::Warm).await;
    // 1: a new instance keeps; 2: the same instance again traps (so it was reused);
    // 3: the trapped instance was thrown away, a new one keeps.
    assert_eq!(results[0].as_ref().expect("first"), &Verdict::Keep);
    assert!(
        matches!(&results[1], Err(Error::Trapped { plugin, .. }) if plugin == "reuse_once"),
        "the second request should reuse the instance: {:?}",
        results[1]
    );
    assert_eq!(results[2].as_ref().expect("third"), &Verdict::Keep);
}
