//! CPU budgets fit real batches: the budget is the guest's own CPU time, plus time per MiB of
//! input, so the largest body a source accepts passes, and a batch that passes alone passes
//! under concurrent senders. (A spinning guest is still stopped: `limits.rs`.)

use router_tests::load::{findface_batch, findface_batch_within};
use router_tests::{Answer, Config, TestRouter, post_json};

const MAX_BODY: usize = 8 << 20;

/// FindFace → file sink, with the plugin's default budget and an 8 MiB body cap.
fn findface_to_file() -> String {
    findface_to_file_with(&[])
}

/// Like [`findface_to_file`], with extra lines for the plugin.
fn findface_to_file_with(plugin: &[&str]) -> String {
    Config::new()
        .server("dedup_window_secs = 0")
        .server("min_free_bytes = 0")
        .plugin("normalize-findface", "normalize-findface", "normalizer", plugin)
        .source(
            "findface",
            "/ingest/findface",
            "normalize-findface",
            &[&format!("max_body_bytes = {MAX_BODY}")],
        )
        .file_sink("events", "events.jsonl")
        .route(&["events"])
        .to_string()
}

/// `body` POSTed to the FindFace source by `senders` clients at once; their answers.
async fn post_concurrently(router: &TestRouter, body: &bytes::Bytes, senders: usize) -> Vec<Answer> {
    let tasks: Vec<_> = (0..senders)
        .map(|_| {
            let (addr, body) = (router.addr, body.clone());
            tokio::spawn(async move { post_json(addr, "/ingest/findface", body).await })
        })
        .collect();
    let mut answers = Vec::with_capacity(senders);
    for task in tasks {
        answers.push(task.await.expect("sender"));
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_findface_batch_as_large_as_the_body_cap_passes() {
    let router = TestRouter::start(&findface_to_file()).await;
    let (body, n) = findface_batch_within(MAX_BODY);
    assert!(body.len() > MAX_BODY - (64 << 10), "the batch should fill the cap");
    let answer = post_json(router.addr, "/ingest/findface", body).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let events = router.jsonl("events.jsonl");
    assert_eq!(events.len(), n);
    assert_eq!(events[n - 1]["delivery"]["batch_index"], n - 1);
    router.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_passes_alone_passes_under_16_concurrent_senders() {
    let router = TestRouter::start(&findface_to_file()).await;
    let body = bytes::Bytes::from(findface_batch(400));
    let alone = post_json(router.addr, "/ingest/findface", body.clone()).await;
    assert_eq!(alone.status, 200, "{}", alone.text());
    for answer in post_concurrently(&router, &body, 16).await {
        assert_eq!(answer.status, 200, "{}", answer.text());
    }
    assert_eq!(router.jsonl("events.jsonl").len(), 17 * 400);
    router.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_instances_serve_concurrent_senders_like_fresh_ones() {
    let router = TestRouter::start(&findface_to_file_with(&["reuse = \"warm\""])).await;
    let body = bytes::Bytes::from(findface_batch(50));
    for round in 0..3 {
        for answer in post_concurrently(&router, &body, 16).await {
            assert_eq!(answer.status, 200, "round {round}: {}", answer.text());
        }
    }
    let events = router.jsonl("events.jsonl");
    assert_eq!(events.len(), 3 * 16 * 50);
    // Reused instances give the same events as fresh ones (the normalizer keeps no state).
    let fresh = TestRouter::start(&findface_to_file()).await;
    assert_eq!(post_json(fresh.addr, "/ingest/findface", body).await.status, 200);
    let expected = fresh.jsonl("events.jsonl");
    let strip = |e: &serde_json::Value| {
        let mut e = e.clone();
        for volatile in ["event_uid", "received_at", "delivery"] {
            e[volatile] = serde_json::Value::Null;
        }
        e
    };
    assert_eq!(strip(&events[events.len() - 1]), strip(&expected[expected.len() - 1]));
    fresh.stop().await;
    router.stop().await;
}
