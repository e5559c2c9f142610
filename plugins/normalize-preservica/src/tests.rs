use super::*;
use router_plugin_sdk::types::{Action, Category, TzSource};
use serde_json::Value;

const SIGNED: &str = include_str!("../../../tests/fixtures/samples/preservica-indexed-signed-request.json");
const BAD: &str = include_str!("../../../tests/fixtures/samples/preservica-indexed-bad-signature-request.json");
const CHALLENGE: &str = include_str!("../../../tests/fixtures/samples/preservica-challenge-request.json");
const MOVED: &str = include_str!("../../../tests/fixtures/samples/preservica-moved-multi-event.json");
const EMPTY: &str = include_str!("../../../tests/fixtures/samples/preservica-empty-events.json");

fn request(envelope: &str) -> (HttpRequest, Value) {
    let v: Value = serde_json::from_str(envelope).unwrap();
    let http = &v["http"];
    let query = http["query"]
        .as_object()
        .map(|q| {
            q.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
                .collect::<Vec<_>>()
                .join("&")
        })
        .unwrap_or_default();
    let headers = http["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| Header {
            name: k.clone(),
            value: v.as_str().unwrap().to_string(),
        })
        .collect();
    let req = HttpRequest {
        method: "POST".into(),
        path: "/".into(),
        query,
        headers,
        body: v["raw_body"].as_str().unwrap().as_bytes().to_vec(),
        remote_addr: None,
        source_id: "preservica".into(),
        delivery_id: "d".into(),
        received_at: "2024-01-01T00:00:00Z".into(),
    };
    (req, v)
}

/// A mac that answers with the signature the sample says is right for exactly this message.
fn sample_mac(expected_message: Vec<u8>, answer: Vec<u8>) -> impl Fn(&[u8]) -> Result<Vec<u8>, String> {
    move |m: &[u8]| {
        Ok(if m == expected_message.as_slice() {
            answer.clone()
        } else {
            vec![0; 32]
        })
    }
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn signed_delivery_is_verified_and_mapped() {
    let (req, v) = request(SIGNED);
    let sig = v["http"]["headers"]["Preservica-Signature"].as_str().unwrap();
    let mut message = b"preservica-webhook-auth".to_vec();
    message.extend_from_slice(&req.body);
    let mac = sample_mac(message, unhex(sig));
    let (events, reply) = handle(&req, &Settings::default(), &mac).unwrap();
    assert!(reply.is_none());
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!((e.category, e.action), (Category::Repository, Action::EntityIndexed));
    assert_eq!(
        e.vendor_event_type.as_deref(),
        Some("FULL_TEXT_INDEXED/FullTextIndexed")
    );
    assert_eq!(e.vendor_product.as_deref(), Some("preservica-6.10"));
    assert_eq!(
        (e.occurred_at.as_deref(), e.occurred_at_tz_source),
        (Some("2023-10-11T10:52:42.469Z"), TzSource::AssumedUtc)
    );
    assert_eq!(e.delivery.signature_valid, Some(true));
    assert_eq!(
        e.repository.as_ref().unwrap().entity_ref.as_deref(),
        Some("7fdea7e0-1e72-4fb1-aadb-d7f9ee6ed8c2")
    );
}

#[test]
fn wrong_or_missing_signatures_are_unauthorized() {
    let (req, v) = request(BAD);
    let sig = v["http"]["headers"]["Preservica-Signature"].as_str().unwrap();
    // The mac gives the *correct* signature (the bad one with its last digit restored).
    let mut good = sig[..63].to_string();
    good.push('f');
    let mut message = b"preservica-webhook-auth".to_vec();
    message.extend_from_slice(&req.body);
    let mac = sample_mac(message, unhex(&good));
    assert!(
        matches!(handle(&req, &Settings::default(), &mac), Err(PluginError::Unauthorized(m)) if m.contains("does not match"))
    );
    let mut unsigned = req.clone();
    unsigned.headers.clear();
    assert!(
        matches!(handle(&unsigned, &Settings::default(), &mac), Err(PluginError::Unauthorized(m)) if m.contains("missing"))
    );
}

#[test]
fn challenge_is_answered_exactly() {
    let (req, v) = request(CHALLENGE);
    let expected = &v["expected_response"]["body"];
    let code = expected["challengeCode"].as_str().unwrap();
    let mac = sample_mac(
        code.as_bytes().to_vec(),
        unhex(expected["challengeResponse"].as_str().unwrap()),
    );
    let (events, reply) = handle(&req, &Settings::default(), &mac).unwrap();
    assert!(events.is_empty());
    let reply = reply.unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(serde_json::from_slice::<Value>(&reply.body).unwrap(), *expected);
}

/// Percent-encodes every byte outside the unreserved set, as an HTTP client would.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The forgery the handshake must never allow: a challenge whose code is the delivery prefix
/// plus a body would be answered with exactly that body's signature.
#[test]
fn challenges_that_could_sign_a_delivery_are_refused() {
    let (signed, v) = request(SIGNED);
    let body = v["raw_body"].as_str().unwrap();
    let secret_mac = |m: &[u8]| -> Result<Vec<u8>, String> {
        // A real HMAC stand-in: any deterministic function of the message shows the oracle.
        Ok(m.iter().rev().copied().collect())
    };
    let forged_code = format!("{DELIVERY_PREFIX}{body}");
    let mut challenge = signed.clone();
    challenge.headers.clear();
    challenge.body.clear();
    for code in [
        forged_code.as_str(),
        "preservica-webhook-auth",
        "PRESERVICA-WEBHOOK-AUTH123",
        "",
        "has space",
        "a{b}",
        &"x".repeat(CHALLENGE_MAX_LEN + 1),
    ] {
        challenge.query = format!("challengeCode={}", encode(code));
        match handle(&challenge, &Settings::default(), &secret_mac) {
            Err(PluginError::Unauthorized(reason)) => assert!(reason.contains("challengeCode refused"), "{reason}"),
            other => panic!("challenge {code:?} was answered: {other:?}"),
        }
    }
    for code in [
        "3f1c6a2e-5b7d-4e8f-9a0b-1c2d3e4f5a6b",
        "abc",
        "A.b_c~d-1",
        &"x".repeat(CHALLENGE_MAX_LEN),
    ] {
        challenge.query = format!("challengeCode={code}");
        assert!(handle(&challenge, &Settings::default(), &secret_mac).is_ok(), "{code}");
    }
}

#[test]
fn multi_and_empty_deliveries() {
    let events = map::events(MOVED.as_bytes()).unwrap();
    assert_eq!(events.len(), 2);
    assert!(
        events
            .iter()
            .all(|e| e.action == Action::EntityMoved && e.source.tenant.as_deref() == Some("BRAMA"))
    );
    let ids = &events[0].repository.as_ref().unwrap().identifiers;
    assert_eq!(
        (ids[0].type_.as_str(), ids[0].value.as_str()),
        ("BatchId", "AMI-2024-001")
    );
    assert_ne!(events[0].dedup_key, events[1].dedup_key);
    assert!(map::events(EMPTY.as_bytes()).unwrap().is_empty());
    assert!(matches!(map::events(b"{}"), Err(PluginError::InvalidInput(m)) if m.contains("no `events`")));
}

#[test]
fn latin1_signed_bodies_are_accepted_and_flagged() {
    let body = "{\"events\":[],\"tenant\":\"Café\"}";
    let mut latin1 = b"preservica-webhook-auth".to_vec();
    latin1.extend(body.chars().map(|c| c as u8));
    let mac = sample_mac(latin1, vec![7; 32]);
    let mut warnings = Vec::new();
    verify::check(body.as_bytes(), &hex(&[7; 32]), &mac, &mut warnings).unwrap();
    assert_eq!(warnings, vec!["signature_latin1".to_string()]);
}
