//! Golden scenarios: every vendor sample in `tests/fixtures/samples/` whose vendor has a
//! normalizer goes through the real router and the built plugin; the sender's answer and the
//! normalized events must match `tests/golden/vendors/<sample>.json` (`BLESS=1` rewrites them;
//! review the diff by eye).

use router_tests::{TestRouter, golden, mask_volatile, post_json, samples_dir};

const CONFIG: &str = r#"
version = 1
[plugins.normalize-findface]
path = "{plugins}/normalize-findface.wasm"
kind = "normalizer"

[[sources]]
id = "findface"
path = "/ingest/findface"
normalizer = "normalize-findface"

[sinks.events]
type = "file"
path = "events.jsonl"

[[routes]]
sinks = ["events"]
"#;

/// Sample-name prefix → the source path it is posted to.
const VENDORS: &[(&str, &str)] = &[("findface-", "/ingest/findface")];

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
        let answer = post_json(router.addr, path, body).await;
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
    assert!(covered >= 5, "only {covered} samples covered");
    router.stop().await;
}
