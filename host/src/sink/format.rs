//! What a webhook request looks like: the event as plain JSON or as a CloudEvents 1.0 event
//! (structured or binary content mode), optionally signed per Standard Webhooks.

use super::DeliveryError;
use crate::config::WebhookFormat;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A rendered request: content type, extra headers, body.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Format headers (`ce-*` in binary mode).
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Bytes,
}

/// CloudEvents context attributes of a router.event/v1 record.
struct Attributes {
    source: String,
    kind: String,
    time: Option<String>,
    subject: Option<String>,
}

fn attributes(event: &serde_json::Value) -> Attributes {
    let text = |pointer: &str| event.pointer(pointer).and_then(|v| v.as_str()).map(str::to_string);
    Attributes {
        source: format!("/switchyard/{}", text("/vendor").unwrap_or_else(|| "unknown".into())),
        kind: format!(
            "router.event.v1.{}.{}",
            text("/category").unwrap_or_else(|| "unknown".into()),
            text("/action").unwrap_or_else(|| "unknown".into())
        ),
        time: text("/occurred_at").or_else(|| text("/received_at")),
        subject: text("/source/device_id"),
    }
}

/// A CloudEvents attribute as an HTTP header value (HTTP binding §3.1.3.2): bytes outside
/// printable ASCII, space, `"` and `%` are percent-encoded, so a camera named in Cyrillic
/// makes a valid header instead of a request that can never be sent.
fn header_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if (0x21..=0x7e).contains(&b) && b != b'"' && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Renders the stored event JSON `payload` as `format`; `id` is the stable webhook-id.
pub fn render(format: WebhookFormat, id: &str, payload: &Bytes) -> Result<Rendered, DeliveryError> {
    match format {
        WebhookFormat::Json => Ok(Rendered {
            content_type: "application/json",
            headers: Vec::new(),
            body: payload.clone(),
        }),
        WebhookFormat::CloudEventsStructured | WebhookFormat::CloudEventsBinary => {
            let event: serde_json::Value = serde_json::from_slice(payload)
                .map_err(|e| DeliveryError::Request(format!("stored event is not JSON: {e}")))?;
            let a = attributes(&event);
            if format == WebhookFormat::CloudEventsBinary {
                let mut headers = vec![
                    ("ce-specversion", "1.0".to_string()),
                    ("ce-id", header_value(id)),
                    ("ce-source", header_value(&a.source)),
                    ("ce-type", header_value(&a.kind)),
                ];
                headers.extend(a.time.map(|t| ("ce-time", header_value(&t))));
                headers.extend(a.subject.map(|s| ("ce-subject", header_value(&s))));
                return Ok(Rendered {
                    content_type: "application/json",
                    headers,
                    body: payload.clone(),
                });
            }
            let mut envelope = serde_json::json!({
                "specversion": "1.0",
                "id": id,
                "source": a.source,
                "type": a.kind,
                "datacontenttype": "application/json",
            });
            if let Some(t) = a.time {
                envelope["time"] = t.into();
            }
            if let Some(s) = a.subject {
                envelope["subject"] = s.into();
            }
            envelope["data"] = event;
            Ok(Rendered {
                content_type: "application/cloudevents+json",
                headers: Vec::new(),
                body: Bytes::from(serde_json::to_vec(&envelope).map_err(|e| DeliveryError::Request(e.to_string()))?),
            })
        }
    }
}

/// A Standard Webhooks signing secret (`whsec_` + base64 key).
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(***)")
    }
}

impl SigningKey {
    /// Parses `whsec_<base64>`; the error never contains the secret.
    pub fn parse(secret: &str) -> Result<SigningKey, String> {
        let Some(encoded) = secret.trim().strip_prefix("whsec_") else {
            return Err("a signing secret must start with `whsec_` (Standard Webhooks)".into());
        };
        match STANDARD.decode(encoded) {
            Ok(key) if key.len() >= 24 => Ok(SigningKey(key)),
            Ok(key) => Err(format!(
                "the signing secret's key is {} bytes; use 24 to 64 random bytes",
                key.len()
            )),
            Err(_) => Err("the signing secret after `whsec_` is not valid base64".into()),
        }
    }

    /// The `webhook-signature` value for a message: `v1,` + base64(HMAC-SHA256(key,
    /// "{id}.{timestamp}.{body}")).
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_webhooks_reference_vector() {
        // The example from the Standard Webhooks specification (and its reference libraries).
        let key = SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("key");
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            key.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn bad_secrets_are_named_not_printed() {
        assert!(
            SigningKey::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
                .unwrap_err()
                .contains("whsec_")
        );
        assert!(SigningKey::parse("whsec_!!!").unwrap_err().contains("base64"));
        assert!(SigningKey::parse("whsec_AAAA").unwrap_err().contains("3 bytes"));
    }

    #[test]
    fn cloudevents_modes() {
        let payload = Bytes::from_static(
            br#"{"vendor":"findface","category":"face","action":"face_recognized","occurred_at":"2024-01-01T00:00:00Z","received_at":"x","source":{"device_id":"cam-1"}}"#,
        );
        let s = render(WebhookFormat::CloudEventsStructured, "msg_1", &payload).expect("structured");
        assert_eq!(s.content_type, "application/cloudevents+json");
        let v: serde_json::Value = serde_json::from_slice(&s.body).expect("json");
        assert_eq!(
            (
                v["specversion"].as_str(),
                v["id"].as_str(),
                v["source"].as_str(),
                v["type"].as_str()
            ),
            (
                Some("1.0"),
                Some("msg_1"),
                Some("/switchyard/findface"),
                Some("router.event.v1.face.face_recognized")
            )
        );
        assert_eq!(
            (v["time"].as_str(), v["subject"].as_str()),
            (Some("2024-01-01T00:00:00Z"), Some("cam-1"))
        );
        assert_eq!(v["data"]["vendor"], "findface");

        let b = render(WebhookFormat::CloudEventsBinary, "msg_1", &payload).expect("binary");
        assert_eq!((b.content_type, &b.body), ("application/json", &payload));
        assert!(b.headers.contains(&("ce-id", "msg_1".to_string())));
        assert!(b.headers.contains(&("ce-subject", "cam-1".to_string())));

        let cyrillic = Bytes::from_static("{\"vendor\":\"x\",\"source\":{\"device_id\":\"Вход 1\"}}".as_bytes());
        let b = render(WebhookFormat::CloudEventsBinary, "msg_2", &cyrillic).expect("binary");
        assert!(
            b.headers
                .contains(&("ce-subject", "%D0%92%D1%85%D0%BE%D0%B4%201".to_string())),
            "{:?}",
            b.headers
        );
    }
}
