//! The `nats` sink: each event published to a subject built from its fields, before the
//! sender is answered (like the file sink), so integrators can consume normalized events with
//! any NATS client instead of running a webhook receiver.
//!
//! - `jetstream = true`: each publish waits for the acknowledgement of the stream that captures
//!   the subject (the integrator's stream); no stream, or no ack within `timeout_ms`, fails the
//!   request with 503 and quarantines it. The JetStream message id is the event's webhook-id, so
//!   a vendor retry within the stream's duplicate window is stored once.
//! - `jetstream = false` (default): core NATS, flushed before the answer — fire-and-forget for
//!   subscribers that are listening at that moment, as core NATS is.
//!
//! The connection is made on first use and then kept (the client reconnects by itself).

use crate::config::{NatsSinkSpec, SubjectPart};
use crate::event::Encoding;
use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;

/// The message header carrying the event's webhook-id.
const WEBHOOK_ID: &str = "Switchyard-Webhook-Id";

/// A NATS sink.
#[derive(Debug)]
pub struct NatsSink {
    pub(super) id: String,
    spec: NatsSinkSpec,
    encoding: Encoding,
    client: tokio::sync::OnceCell<async_nats::Client>,
}

impl NatsSink {
    /// A sink for `spec` (connects on first use).
    pub fn new(id: &str, spec: &NatsSinkSpec, encoding: Encoding) -> NatsSink {
        NatsSink {
            id: id.to_string(),
            spec: spec.clone(),
            encoding,
            client: tokio::sync::OnceCell::new(),
        }
    }

    /// Its settings.
    pub fn spec(&self) -> &NatsSinkSpec {
        &self.spec
    }

    async fn client(&self) -> anyhow::Result<&async_nats::Client> {
        self.client
            .get_or_try_init(|| async {
                crate::nats::connect(
                    &format!("sink {}", self.id),
                    &self.spec.auth,
                    &self.spec.url,
                    self.spec.timeout,
                )
                .await
            })
            .await
    }

    /// How it writes events ([`NatsSink::message`] takes them already in it).
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Whether its subject names fields of the event (then [`NatsSink::message`] needs them).
    pub fn names_fields(&self) -> bool {
        self.spec.subject.iter().any(|p| matches!(p, SubjectPart::Field(_)))
    }

    /// The message for an event: its JSON in this sink's [`encoding`](NatsSink::encoding), its
    /// webhook-id, and its JSON value when the subject [names fields](NatsSink::names_fields).
    pub fn message(&self, payload: Bytes, webhook_id: String, fields: Option<&serde_json::Value>) -> Message {
        Message {
            subject: subject(&self.spec.subject, fields),
            payload,
            id: webhook_id,
        }
    }

    /// Publishes every message; returns once all are acknowledged (JetStream) or flushed.
    pub async fn publish(&self, messages: Vec<Message>) -> anyhow::Result<()> {
        let client = self.client().await?;
        if client.connection_state() != async_nats::connection::State::Connected {
            anyhow::bail!("not connected to NATS at {}", self.spec.url);
        }
        let work = async {
            if self.spec.jetstream {
                let js = async_nats::jetstream::ContextBuilder::new()
                    .timeout(self.spec.timeout)
                    .build(client.clone());
                let mut acks = Vec::with_capacity(messages.len());
                for Message { subject, payload, id } in messages {
                    let message = PublishMessage::build()
                        .payload(payload)
                        .message_id(&id)
                        .header(WEBHOOK_ID, id.as_str());
                    acks.push(js.send_publish(subject, message).await?.into_future());
                }
                for ack in futures_util::future::join_all(acks).await {
                    ack.map_err(|e| anyhow::anyhow!("no JetStream stream stored the event: {e}"))?;
                }
            } else {
                for Message { subject, payload, id } in messages {
                    let mut headers = async_nats::HeaderMap::new();
                    headers.insert(WEBHOOK_ID, id.as_str());
                    client.publish_with_headers(subject, headers, payload).await?;
                }
                client.flush().await?;
            }
            anyhow::Ok(())
        };
        tokio::time::timeout(self.spec.timeout, work)
            .await
            .map_err(|_| anyhow::anyhow!("publishing to NATS took longer than {:?}", self.spec.timeout))?
            .map_err(|e| anyhow::anyhow!("publishing to {}: {e:#}", self.spec.url))
    }
}

/// One event on its way to a NATS subject.
#[derive(Debug)]
pub struct Message {
    subject: String,
    payload: Bytes,
    id: String,
}

/// The subject for an event (its JSON in `fields`): each field's value as one token — dots,
/// spaces and wildcards replaced by `_`, a missing or empty value as `_`.
pub fn subject(parts: &[SubjectPart], fields: Option<&serde_json::Value>) -> String {
    let mut out = String::new();
    for part in parts {
        match part {
            SubjectPart::Literal(l) => out.push_str(l),
            SubjectPart::Field(pointer) => {
                let value = fields
                    .and_then(|f| crate::event::field_text(f, pointer))
                    .unwrap_or_default();
                let token: String = value
                    .chars()
                    .map(|c| {
                        if c == '.' || c == '*' || c == '>' || c.is_whitespace() || c.is_control() {
                            '_'
                        } else {
                            c
                        }
                    })
                    .collect();
                out.push_str(if token.is_empty() { "_" } else { &token });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_become_single_safe_tokens() {
        let parts = vec![
            SubjectPart::Literal("faces.".into()),
            SubjectPart::Field("/vendor".into()),
            SubjectPart::Literal(".".into()),
            SubjectPart::Field("/source/device_id".into()),
            SubjectPart::Literal(".".into()),
            SubjectPart::Field("/missing".into()),
        ];
        let event = serde_json::json!({ "vendor": "find face", "source": { "device_id": "cam.1>*" } });
        assert_eq!(subject(&parts, Some(&event)), "faces.find_face.cam_1__._");
        assert_eq!(subject(&parts[..1], None), "faces.");
    }
}
