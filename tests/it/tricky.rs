//! Tricky inputs at the edge (VENDORS.md §9.1): wrong or missing Content-Type, a UTF-8 BOM,
//! compressed bodies, chunked transfer with a signature over the de-chunked bytes.

use router_tests::{TestRouter, samples_dir, send};
use std::io::{Read, Write};

const CONFIG: &str = r#"
version = 1
[server]
dedup_window_secs = 0   # the same sample is posted several ways on purpose

[plugins.normalize-findface]
path = "{plugins}/normalize-findface.wasm"
kind = "normalizer"

[plugins.normalize-preservica]
path = "{plugins}/normalize-preservica.wasm"
kind = "normalizer"
secrets = { hmac = { file = "{dir}/secret" } }

[[sources]]
id = "findface"
path = "/ff"
normalizer = "normalize-findface"

[[sources]]
id = "preservica"
path = "/pv"
normalizer = "normalize-preservica"

[sinks.events]
type = "file"
path = "events.jsonl"

[[routes]]
sinks = ["events"]
"#;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).expect("gzip");
    enc.finish().expect("gzip")
}

#[tokio::test]
async fn content_type_bom_and_compression() {
    let router = TestRouter::start_with(CONFIG, &[("secret", "my_shared_secret")]).await;
    let sample = std::fs::read(samples_dir().join("findface-multi-face-unmatched.json")).expect("sample");
    let plain = send(
        router.addr,
        "POST",
        "/ff",
        &[("content-type", "text/plain")],
        sample.clone(),
    )
    .await
    .expect("send");
    assert_eq!(plain.status, 200, "Content-Type is not trusted either way");
    let missing = send(router.addr, "POST", "/ff", &[], sample.clone())
        .await
        .expect("send");
    assert_eq!(missing.status, 200);
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(&sample);
    assert_eq!(
        send(router.addr, "POST", "/ff", &[], bom).await.expect("send").status,
        200
    );
    let zipped = send(
        router.addr,
        "POST",
        "/ff",
        &[("content-encoding", "gzip")],
        gzip(&sample),
    )
    .await
    .expect("send");
    assert_eq!(zipped.status, 200, "{}", String::from_utf8_lossy(&zipped.body));
    let events = router.jsonl("events.jsonl");
    assert_eq!(events.len(), 4);
    assert!(events.iter().all(|e| e["vendor_event_id"] == "4589692001122334455"));

    let brotli = send(router.addr, "POST", "/ff", &[("content-encoding", "br")], sample)
        .await
        .expect("send");
    assert_eq!(brotli.status, 415);
    assert!(
        brotli.json()["error"]
            .as_str()
            .expect("error")
            .contains("unsupported Content-Encoding `br`")
    );
    let corrupt = send(router.addr, "POST", "/ff", &[("content-encoding", "gzip")], "not gzip")
        .await
        .expect("send");
    assert_eq!(corrupt.status, 400);
    assert_eq!(router.quarantined().len(), 2, "undecodable bodies are kept");
    router.stop().await;
}

/// Preservica's reference sender posts chunked bodies; the signature covers the bytes after
/// de-chunking, which is what the plugin must verify.
#[tokio::test]
async fn chunked_preservica_delivery_verifies() {
    let router = TestRouter::start_with(CONFIG, &[("secret", "my_shared_secret")]).await;
    let envelope: serde_json::Value = serde_json::from_slice(
        &std::fs::read(samples_dir().join("preservica-indexed-signed-request.json")).expect("sample"),
    )
    .expect("json");
    let body = envelope["raw_body"].as_str().expect("body");
    let signature = envelope["http"]["headers"]["Preservica-Signature"]
        .as_str()
        .expect("sig");
    let (first, second) = body.split_at(body.len() / 2);
    let request = format!(
        "POST /pv HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\npreservica-signature: {signature}\r\nconnection: close\r\n\r\n{:x}\r\n{first}\r\n{:x}\r\n{second}\r\n0\r\n\r\n",
        first.len(),
        second.len()
    );
    let addr = router.addr;
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream.write_all(request.as_bytes()).expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        answer
    })
    .await
    .expect("join");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(router.jsonl("events.jsonl")[0]["delivery"]["signature_valid"], true);
    router.stop().await;
}
