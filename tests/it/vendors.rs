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
methods = ["GET", "PUT", "POST"]   # NoahFace sends events by all three

[plugins.normalize-preservica]
path = "{plugins}/normalize-preservica.wasm"
kind = "normalizer"
secrets = { hmac = { file = "{dir}/preservica-secret" } }

[[sources]]
id = "preservica"
path = "/ingest/preservica"
normalizer = "normalize-preservica"

[plugins.normalize-sensenebula]
path = "{plugins}/normalize-sensenebula.wasm"
kind = "normalizer"

[[sources]]
id = "sensenebula"
path = "/ingest/sensenebula"
normalizer = "normalize-sensenebula"
methods = ["GET", "POST"]          # heartbeats are GET

[plugins.normalize-omni]
path = "{plugins}/normalize-omni.wasm"
kind = "normalizer"

[[sources]]
id = "omni"
path = "/ingest/omni"
normalizer = "normalize-omni"

[sinks.events]
type = "file"
path = "events.jsonl"

[[routes]]
sinks = ["events"]
"#;

/// Sample-name prefix → the source path it is posted to.
const VENDORS: &[(&str, &str)] = &[
    ("findface-", "/ingest/findface"),
    ("noahface-", "/ingest/noahface"),
    ("preservica-", "/ingest/preservica"),
    ("nebulapass-", "/ingest/sensenebula"),
    ("omni-", "/ingest/omni"),
];

/// The shared secret the Preservica samples were signed with.
const PRESERVICA_SECRET: &str = "my_shared_secret";

/// Hex HMAC-SHA256 of `message` with the Preservica secret (challenge answers are this).
fn preservica_mac(message: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(PRESERVICA_SECRET.as_bytes()).expect("key");
    mac.update(message);
    switchyard::digest::hex(&mac.finalize().into_bytes())
}

/// `Preservica-Signature` for a body, as Preservica computes it.
fn preservica_signature(body: &[u8]) -> String {
    preservica_mac(&[b"preservica-webhook-auth".as_slice(), body].concat())
}

/// POSTs a Preservica delivery with the given `Preservica-Signature`.
async fn post_preservica(addr: std::net::SocketAddr, body: &[u8], signature: &str) -> router_tests::Answer {
    let headers = [
        ("content-type", "application/json"),
        ("Preservica-Signature", signature),
    ];
    send(addr, "POST", "/ingest/preservica", &headers, body.to_vec())
        .await
        .expect("send")
}

/// The request a sample describes: a bare body is POSTed as JSON; a request envelope
/// (`{"http": {method, query_string, headers}, "raw_body"}`, see the samples README) is sent
/// as it says, byte for byte.
async fn send_sample(addr: std::net::SocketAddr, path: &str, bytes: Vec<u8>) -> router_tests::Answer {
    let envelope = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .filter(|v| v.get("http").is_some_and(|h| h.is_object()));
    let Some(envelope) = envelope else {
        // Bare Preservica bodies are signed here, as Preservica would sign them.
        if path == "/ingest/preservica" {
            let signature = preservica_signature(&bytes);
            let headers = [
                ("content-type", "application/json"),
                ("preservica-signature", signature.as_str()),
            ];
            return send(addr, "POST", path, &headers, bytes).await.expect("send");
        }
        return post_json(addr, path, bytes).await;
    };
    let http = &envelope["http"];
    let method = http["method"].as_str().unwrap_or("POST");
    let query = match (http["query_string"].as_str(), http["query"].as_object()) {
        (Some(q), _) => q.to_string(),
        (None, Some(q)) => q
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("&"),
        (None, None) => String::new(),
    };
    let target = if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
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
    // Every sample is mapped on its own here: duplicate suppression has its own test.
    let config = CONFIG.replacen("version = 1\n", "version = 1\n[server]\ndedup_window_secs = 0\n", 1);
    let router = TestRouter::start_with(&config, &[("preservica-secret", PRESERVICA_SECRET)]).await;
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
        // `*-response.json` files are what a vendor expects back, not requests.
        if name.ends_with("-response.json") {
            continue;
        }
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
    assert!(covered >= 24, "only {covered} samples covered");
    router.stop().await;
}

/// A delivery whose signature does not match is refused with 401, forwarded nowhere, and kept.
#[tokio::test]
async fn preservica_bad_signature_is_refused_and_kept() {
    let router = TestRouter::start_with(CONFIG, &[("preservica-secret", PRESERVICA_SECRET)]).await;
    let body = std::fs::read(samples_dir().join("preservica-moved-multi-event.json")).expect("sample");
    let mut signature = preservica_signature(&body);
    signature.replace_range(0..1, if signature.starts_with('0') { "1" } else { "0" });
    let answer = post_preservica(router.addr, &body, &signature).await;
    assert_eq!(answer.status, 401);
    assert!(
        answer.json()["error"]
            .as_str()
            .expect("error")
            .contains("does not match")
    );
    assert!(router.jsonl("events.jsonl").is_empty(), "nothing forwarded");
    let kept = router.quarantined();
    assert_eq!((kept.len(), kept[0].status), (1, 401));
    assert_eq!(kept[0].body().expect("body"), body);
    router.stop().await;
}

/// The handshake is not a signing oracle: `challengeCode = "preservica-webhook-auth" + BODY`
/// used to be answered with exactly BODY's delivery signature. Real challenges are answered,
/// a few per source, then 429; failed-signature floods fill only a small fixed budget.
#[tokio::test]
async fn preservica_challenges_cannot_sign_a_forged_delivery() {
    let router = TestRouter::start_with(CONFIG, &[("preservica-secret", PRESERVICA_SECRET)]).await;
    let body = std::fs::read(samples_dir().join("preservica-moved-multi-event.json")).expect("sample");
    let forged = format!(
        "preservica-webhook-auth{}",
        String::from_utf8(body.clone()).expect("utf-8")
    );
    let target = format!(
        "/ingest/preservica?challengeCode={}",
        switchyard::capture::encode(&forged)
    );
    let answer = send(router.addr, "POST", &target, &[], "").await.expect("send");
    assert_eq!(answer.status, 401, "{}", answer.text());
    assert!(answer.text().contains("challengeCode refused"), "{}", answer.text());
    let real_signature = preservica_signature(&body);
    assert!(!answer.text().contains(&real_signature), "the signature leaked");
    let stolen = answer.json()["challengeResponse"].as_str().unwrap_or("").to_string();
    let replay = post_preservica(router.addr, &body, &stolen).await;
    assert_eq!(replay.status, 401, "{}", replay.text());
    assert!(router.jsonl("events.jsonl").is_empty(), "nothing forged got in");

    // Genuine challenges: answered exactly, five in a burst, then refused for a while.
    for n in 0..5 {
        let code = format!("3f1c6a2e-5b7d-4e8f-9a0b-1c2d3e4f5a6{n}");
        let answer = send(
            router.addr,
            "POST",
            &format!("/ingest/preservica?challengeCode={code}"),
            &[],
            "",
        )
        .await
        .expect("send");
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert_eq!(
            answer.json()["challengeResponse"],
            preservica_mac(code.as_bytes()).as_str()
        );
    }
    let over = send(
        router.addr,
        "POST",
        "/ingest/preservica?challengeCode=one-more",
        &[],
        "",
    )
    .await
    .expect("send");
    assert_eq!(over.status, 429, "{}", over.text());
    assert!(over.headers.contains_key("retry-after"));
    assert!(!over.text().contains("challengeResponse"));

    // Requests that fail authentication fill only the fixed budget of the quarantine.
    for _ in 0..switchyard::quarantine::UNAUTHENTICATED_MAX_ENTRIES + 20 {
        assert_eq!(post_preservica(router.addr, &body, "00").await.status, 401);
    }
    let kept = router.quarantined().len() as u64;
    assert_eq!(kept, switchyard::quarantine::UNAUTHENTICATED_MAX_ENTRIES);
    router.stop().await;
}

/// Without its secret the Preservica source answers 503 and names what is missing.
#[tokio::test]
async fn preservica_without_its_secret_is_unavailable() {
    let router = TestRouter::start(CONFIG).await;
    let answer = send(router.addr, "POST", "/ingest/preservica?challengeCode=abc", &[], "")
        .await
        .expect("send");
    assert_eq!(answer.status, 503);
    assert!(
        answer.json()["error"]
            .as_str()
            .expect("error")
            .contains("preservica-secret"),
        "{}",
        answer.json()
    );
    router.stop().await;
}

/// The terminal's three channels on one source: pushes, remote auth and heartbeats under a
/// sub-path; inline snapshots are stored content-addressed, never forwarded inside events;
/// the documented malformed alarm is a 400 that is kept.
#[tokio::test]
async fn sensenebula_channels_media_and_malformed_input() {
    let router = TestRouter::start(CONFIG).await;
    let heartbeat = router_tests::get(router.addr, "/ingest/sensenebula/auth")
        .await
        .expect("get");
    assert_eq!(heartbeat.status, 200);
    assert!(router.jsonl("events.jsonl").is_empty(), "heartbeats are not events");

    let auth = std::fs::read(samples_dir().join("nebulapass-v13-remote-auth-request.json")).expect("sample");
    let answer = post_json(router.addr, "/ingest/sensenebula/auth", auth).await;
    assert_eq!(
        (answer.status, answer.json()["data"]["pass"].as_bool()),
        (200, Some(false))
    );

    let stranger = std::fs::read(samples_dir().join("nebulapass-v13-stranger-push-synthetic.json")).expect("sample");
    assert_eq!(
        post_json(router.addr, "/ingest/sensenebula", stranger).await.json()["code"],
        200
    );
    let events = router.jsonl("events.jsonl");
    let media = &events.last().expect("event")["media"][0];
    let hash = media["blob_ref"].as_str().expect("stored");
    let stored = std::fs::read(router.data().join("blobs").join(&hash[..2]).join(hash)).expect("blob file");
    assert_eq!(
        (stored.len() as u64, &stored[..3]),
        (media["bytes"].as_u64().expect("bytes"), &[0xff, 0xd8, 0xff][..])
    );
    assert_eq!(media["mime"], "image/jpeg");
    assert!(
        !events.last().expect("event").to_string().contains("/9j/4AAQ"),
        "no base64 inside events"
    );

    let malformed = std::fs::read(samples_dir().join("nebulapass-v13-alarm-push-malformed.json")).expect("sample");
    let answer = post_json(router.addr, "/ingest/sensenebula", malformed.clone()).await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.json()["error"]
            .as_str()
            .expect("error")
            .contains("trailing comma"),
        "{}",
        answer.json()
    );
    let kept = router.quarantined();
    assert_eq!(kept.last().expect("kept").body().expect("body"), malformed);
    router.stop().await;
}

/// Vendor retries are dropped within the dedup window; updates of the same key (an OMNI
/// process re-sent with a longer interval) are forwarded and point at the first sighting.
#[tokio::test]
async fn repeats_are_dropped_and_updates_marked() {
    let router = TestRouter::start(CONFIG).await;
    let findface = std::fs::read(samples_dir().join("findface-security4-face-matched.json")).expect("sample");
    assert_eq!(
        post_json(router.addr, "/ingest/findface", findface.clone())
            .await
            .json()["duplicates"],
        0
    );
    let retry = post_json(router.addr, "/ingest/findface", findface).await;
    assert_eq!(
        (retry.status, retry.json()["duplicates"].as_u64()),
        (200, Some(1)),
        "a retry is acknowledged, not re-forwarded"
    );
    assert_eq!(router.jsonl("events.jsonl").len(), 1);

    let processes = std::fs::read_to_string(samples_dir().join("omni-agent-processes-synthetic.json")).expect("sample");
    post_json(router.addr, "/ingest/omni", processes.clone()).await;
    let grown = processes.replace("2024-05-29T10:48:30.200Z", "2024-05-29T10:48:35.200Z");
    let answer = post_json(router.addr, "/ingest/omni", grown).await.json();
    assert_eq!(
        (answer["events"].as_u64(), answer["duplicates"].as_u64()),
        (Some(2), Some(1)),
        "{answer}"
    );
    let events = router.jsonl("events.jsonl");
    let first = &events[1];
    let update = events.last().expect("update");
    assert_eq!(update["dedup_key"], first["dedup_key"]);
    assert_eq!(update["delivery"]["duplicate_of"], first["event_uid"]);
    assert_eq!(update["occurred_at"], "2024-05-29T10:48:35.200Z");
    router.stop().await;
}
