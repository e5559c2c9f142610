//! The HTTP edge: status codes with messages that name the problem, authentication, body
//! caps, and the quarantine that keeps every request that could not be processed.

use router_tests::{TestRouter, get, post_json, send};

const BASE: &str = r#"
version = 1
[plugins.normalize-json]
path = "{plugins}/normalize-json.wasm"
kind = "normalizer"
settings = { vendor = "acme", fields = { vendor_event_id = "id" } }

[[sources]]
id = "open"
path = "/ingest/open"
normalizer = "normalize-json"
max_body_bytes = 64

[[sources]]
id = "basic"
path = "/ingest/basic"
normalizer = "normalize-json"
auth = { type = "basic", username = "noah", password_file = "{dir}/password" }

[[sources]]
id = "bearer"
path = "/ingest/bearer"
normalizer = "normalize-json"
auth = { type = "bearer", token_env = "SWITCHYARD_TEST_TOKEN_THAT_IS_NEVER_SET" }

[sinks.file]
type = "file"
path = "events.jsonl"

[[routes]]
sinks = ["file"]
"#;

async fn router() -> TestRouter {
    TestRouter::start_with(BASE, &[("password", "s3cret\n")]).await
}

#[tokio::test]
async fn health_and_unknown_paths() {
    let r = router().await;
    let health = get(r.addr, "/healthz").await.expect("get");
    assert_eq!((health.status, health.json()["status"].as_str()), (200, Some("ok")));
    let missing = post_json(r.addr, "/ingest/nowhere", "{}").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"], "no source listens on /ingest/nowhere");
    // A trailing slash reaches the same source.
    assert_eq!(post_json(r.addr, "/ingest/open/", r#"{"id":"1"}"#).await.status, 200);
    r.stop().await;
}

#[tokio::test]
async fn malformed_input_is_a_400_naming_the_problem_and_is_kept() {
    let r = router().await;
    let body = r#"{"id": 1,}"#;
    let answer = post_json(r.addr, "/ingest/open?x=1", body).await;
    assert_eq!(answer.status, 400);
    let json = answer.json();
    let message = json["error"].as_str().expect("error");
    assert!(
        message.contains("normalize-json") && message.contains("not valid JSON"),
        "{message}"
    );
    assert_eq!(json["quarantined"], true);
    let kept = r.quarantined();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].delivery_id, json["delivery_id"].as_str().expect("id"));
    assert_eq!(
        kept[0].body().expect("base64"),
        body.as_bytes(),
        "exact bytes are kept for replay"
    );
    assert_eq!(
        (kept[0].status, kept[0].query.as_str(), kept[0].source_id.as_deref()),
        (400, "x=1", Some("open"))
    );
    // The router keeps serving.
    assert_eq!(post_json(r.addr, "/ingest/open", r#"{"id":"2"}"#).await.status, 200);
    r.stop().await;
}

#[tokio::test]
async fn oversize_bodies_are_413_and_the_prefix_is_kept() {
    let r = router().await;
    let big = format!(r#"{{"id": "{}"}}"#, "x".repeat(100));
    let answer = post_json(r.addr, "/ingest/open", big.clone()).await;
    assert_eq!(answer.status, 413);
    assert!(
        answer.json()["error"]
            .as_str()
            .expect("error")
            .contains("64-byte limit")
    );
    let kept = r.quarantined();
    assert_eq!(kept.len(), 1);
    assert!(kept[0].truncated);
    assert_eq!(kept[0].body().expect("base64"), &big.as_bytes()[..64]);
    r.stop().await;
}

#[tokio::test]
async fn basic_auth_is_enforced_with_a_challenge() {
    let r = router().await;
    let none = post_json(r.addr, "/ingest/basic", r#"{"id":"1"}"#).await;
    assert_eq!(none.status, 401);
    assert!(
        none.headers["www-authenticate"]
            .to_str()
            .expect("ascii")
            .starts_with("Basic realm=")
    );
    let wrong = send(
        r.addr,
        "POST",
        "/ingest/basic",
        &[("authorization", "Basic bm9haDp3cm9uZw==")],
        r#"{"id":"1"}"#,
    )
    .await
    .expect("send");
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json()["error"], "unauthorized: wrong user name or password");
    // noah:s3cret
    let ok = send(
        r.addr,
        "POST",
        "/ingest/basic",
        &[("authorization", "Basic bm9haDpzM2NyZXQ=")],
        r#"{"id":"1"}"#,
    )
    .await
    .expect("send");
    assert_eq!(ok.status, 200);
    let events = r.jsonl("events.jsonl");
    assert_eq!(events.last().expect("event")["delivery"]["auth"], "basic");
    assert!(r.quarantined().is_empty(), "refused requests are not quarantined");
    r.stop().await;
}

#[tokio::test]
async fn a_source_without_its_secret_refuses_with_503() {
    let r = router().await;
    let answer = send(
        r.addr,
        "POST",
        "/ingest/bearer",
        &[("authorization", "Bearer anything")],
        "{}",
    )
    .await
    .expect("send");
    assert_eq!(answer.status, 503);
    let message = answer.json()["error"].as_str().expect("error").to_string();
    assert!(message.contains("SWITCHYARD_TEST_TOKEN_THAT_IS_NEVER_SET"), "{message}");
    r.stop().await;
}
