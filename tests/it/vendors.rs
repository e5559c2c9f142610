//! Golden scenarios: every vendor sample in `tests/fixtures/samples/` whose vendor has a
//! normalizer goes through the real router and the built plugin; the sender's answer and the
//! normalized events must match `tests/golden/vendors/<sample>.json` (`BLESS=1` rewrites them;
//! review the diff by eye).

use router_tests::{TestRouter, golden, mask_volatile, post_json, samples_dir, send};

const CONFIG: &str = r#"
version = 1
[plugins.normalize-findface]
path = "{plugins}/normalize-findface.wasm"
kind = "normalizer"

[[sources]]
id = "findface"
path = "/ingest/findface"
normalizer = "normalize-findface"

[plugins.normalize-noahface]
path = "{plugins}/normalize-noahface.wasm"
kind = "normalizer"

[[sources]]
id = "noahface"
path = "/ingest/noahface"
normalizer = "normalize-noahface"

[sinks.events]
type = "file"
path = "events.jsonl"

[[routes]]
sinks = ["events"]
"#;

/// Sample-name prefix → the source path it is posted to.
const VENDORS: &[(&str, &str)] = &[("findface-", "/ingest/findface"), ("noahface-", "/ingest/noahface")];

/// The request a sample describes: a bare body is POSTed as JSON; a request envelope
/// (`{"http": {method, query_string, headers}, "raw_body"}`, see the samples README) is sent
/// as it says, byte for byte.
async fn send_sample(addr: std::net::SocketAddr, path: &str, bytes: Vec<u8>) -> router_tests::Answer {
    let envelope = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .filter(|v| v.get("http").is_some_and(|h| h.is_object()));
    let Some(envelope) = envelope else {
        return post_json(addr, path, bytes).await;
    };
    let http = &envelope["http"];
    let method = http["method"].as_str().unwrap_or("POST");
    let target = match http["query_string"].as_str() {
        Some(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path.to_string(),
    };
    let headers: Vec<(String, String)> = http["headers"]
        .as_object()
        .map(|h| {
            h.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    // The client frames the body itself; framing headers from the capture would conflict.
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("transfer-encoding") && !k.eq_ignore_ascii_case("content-length"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let body = envelope["raw_body"].as_str().unwrap_or_default().to_string();
    send(addr, method, &target, &headers, body).await.expect("send sample")
}

#[tokio::test]
async fn vendor_samples_match_their_goldens() {
    let router = TestRouter::start(CONFIG).await;
    let mut samples: Vec<_> = std::fs::read_dir(samples_dir())
        .expect("samples")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    samples.sort();
    let mut covered = 0;
    let mut seen = 0;
    for sample in samples {
        let name = sample.file_name().expect("name").to_string_lossy().to_string();
        let Some((_, path)) = VENDORS.iter().find(|(prefix, _)| name.starts_with(prefix)) else {
            continue;
        };
        let body = std::fs::read(&sample).expect("read sample");
        let answer = send_sample(router.addr, path, body).await;
        let events = router.jsonl("events.jsonl");
        let mut new: serde_json::Value = events[seen..].to_vec().into();
        seen = events.len();
        mask_volatile(&mut new);
        let mut reply = serde_json::from_slice::<serde_json::Value>(&answer.body)
            .unwrap_or_else(|_| String::from_utf8_lossy(&answer.body).into());
        mask_volatile(&mut reply);
        let record = serde_json::json!({ "status": answer.status, "reply": reply, "events": new });
        golden(
            &format!("golden/vendors/{name}"),
            &(serde_json::to_string_pretty(&record).expect("json") + "\n"),
        );
        covered += 1;
    }
    assert!(covered >= 9, "only {covered} samples covered");
    router.stop().await;
}
