//! NATS sources: the router subscribes to a subject and hands every message to the source's
//! plugin chain like a request body (its subject as the path, its headers as headers).
//!
//! - With `stream`, messages are read through a durable JetStream consumer (`source-<id>`,
//!   shared by every router of a cluster, so each message is handled once): acknowledged once
//!   its events are stored or, if it cannot be processed, once it is quarantined; when storage
//!   fails it is negatively acknowledged and JetStream redelivers it later. Nothing is lost.
//! - Without, a core NATS queue subscription (`switchyard-<id>`): one router of the cluster
//!   gets each message, and what arrives while no router listens is gone, as core NATS is.
//!
//! Messages are handled one at a time per source, in order. Below the disk budget the
//! follower stops taking messages until storage is back. A reload that changes the source's
//! `nats` table resubscribes; one that removes the source ends the follower.

use super::edge::Edge;
use super::handler::keep;
use super::response::Error;
use crate::config::NatsSourceSpec;
use crate::event::AuthKind;
use crate::pipeline::ProcessError;
use crate::plugin::Request;
use crate::shutdown::Shutdown;
use async_nats::jetstream::AckKind;
use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How often the follower looks for a changed or removed source, and rechecks storage.
const RECHECK: Duration = Duration::from_secs(1);
/// When storing failed, JetStream offers the message again after this.
const RETRY_STORE: Duration = Duration::from_secs(2);

enum Ended {
    Stopped,
    Changed,
}

/// What became of one message.
enum Handled {
    /// Its events are stored, or it is quarantined: done with.
    Done,
    /// Storing failed: offer it again later (JetStream sources).
    Retry,
}

fn current(edge: &Edge, id: &str) -> Option<NatsSourceSpec> {
    edge.router
        .pipeline()
        .feed(id)
        .and_then(|s| s.spec.kind.nats().cloned())
}

/// Follows NATS source `id` until shutdown or until the source is removed.
pub(super) async fn follow(id: String, edge: Arc<Edge>, shutdown: Shutdown) {
    let mut backoff = Duration::from_secs(1);
    let mut down = false;
    loop {
        let Some(spec) = current(&edge, &id) else { return };
        match session(&id, &spec, &edge, &shutdown).await {
            Ok(Ended::Stopped) => return,
            Ok(Ended::Changed) => {
                backoff = Duration::from_secs(1);
                continue;
            }
            Err(e) => {
                if !std::mem::replace(&mut down, true) {
                    tracing::warn!(source = %id, subject = %spec.subject, error = %format!("{e:#}"), "NATS source unavailable; retrying.");
                }
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn session(id: &str, spec: &NatsSourceSpec, edge: &Edge, shutdown: &Shutdown) -> anyhow::Result<Ended> {
    let client = crate::nats::connect(&format!("source {id}"), &spec.auth, &spec.url, CONNECT_TIMEOUT).await?;
    // Both kinds deliver messages one by one; a JetStream message carries its acknowledgement.
    let mut messages: futures_util::stream::BoxStream<'static, anyhow::Result<(async_nats::Message, Option<JsAck>)>> =
        match &spec.stream {
            Some(stream) => {
                let js = async_nats::jetstream::new(client.clone());
                let stream = js.get_stream(stream).await?;
                let name = format!("source-{id}");
                let consumer: PullConsumer = stream
                    .get_or_create_consumer(
                        &name,
                        pull::Config {
                            durable_name: Some(name.clone()),
                            description: Some(format!("switchyard: source `{id}`")),
                            filter_subject: spec.subject.clone(),
                            ack_policy: AckPolicy::Explicit,
                            ..Default::default()
                        },
                    )
                    .await?;
                let pulled = consumer
                    .stream()
                    .max_messages_per_batch(16)
                    .heartbeat(Duration::from_secs(5))
                    .messages()
                    .await?;
                tracing::info!(source = %id, subject = %spec.subject, consumer = %name, "NATS source following its stream.");
                pulled
                    .map(|next| {
                        let message = next.map_err(|e| anyhow::anyhow!("pulling from the stream: {e}"))?;
                        let (message, acker) = message.split();
                        Ok((message, Some(acker)))
                    })
                    .boxed()
            }
            None => {
                let subscription = client
                    .queue_subscribe(spec.subject.clone(), format!("switchyard-{id}"))
                    .await?;
                tracing::info!(source = %id, subject = %spec.subject, "NATS source subscribed (core NATS, queue group).");
                subscription.map(|message| Ok((message, None))).boxed()
            }
        };
    let mut recheck = tokio::time::interval(RECHECK);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(Ended::Stopped),
            _ = recheck.tick() => {
                if current(edge, id).as_ref() != Some(spec) {
                    return Ok(Ended::Changed);
                }
            }
            next = messages.next() => {
                let Some(next) = next else { anyhow::bail!("the subscription ended") };
                let (message, acker) = next?;
                if !storage_ok(id, edge, shutdown).await {
                    return Ok(Ended::Stopped);
                }
                // Core NATS cannot take a message back: a storage failure is quarantined.
                let redeliverable = acker.is_some();
                let handled = handle(id, edge, &spec.url, &message.subject, message.headers.as_ref(), message.payload, redeliverable).await;
                let Some(acker) = acker else { continue };
                let ack = match handled {
                    Handled::Done => acker.double_ack().await,
                    Handled::Retry => acker.ack_with(AckKind::Nak(Some(RETRY_STORE))).await,
                };
                if let Err(e) = ack {
                    tracing::warn!(source = %id, error = %e, "Acknowledging a NATS message failed; JetStream may offer it again (its events dedup by webhook-id).");
                }
            }
        }
    }
}

/// A JetStream message's acknowledgement, split from the message.
type JsAck = async_nats::jetstream::message::Acker;

/// Waits while storage is below the disk budget; false on shutdown.
async fn storage_ok(id: &str, edge: &Edge, shutdown: &Shutdown) -> bool {
    let mut paused = false;
    while edge.router.pipeline().disk().check().is_err() {
        if !std::mem::replace(&mut paused, true) {
            tracing::warn!(source = %id, "NATS source paused: storage is below the disk budget.");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return false,
            _ = tokio::time::sleep(RECHECK) => {}
        }
    }
    if paused {
        tracing::info!(source = %id, "NATS source resumed: storage is back above the disk budget.");
    }
    true
}

/// One message through the pipeline.
async fn handle(
    id: &str,
    edge: &Edge,
    url: &str,
    subject: &str,
    headers: Option<&async_nats::HeaderMap>,
    body: bytes::Bytes,
    redeliverable: bool,
) -> Handled {
    let pipeline = edge.router.pipeline();
    let Some(source) = pipeline.feed(id).cloned() else {
        return Handled::Retry;
    };
    let request = Request {
        method: "NATS".to_string(),
        path: subject.to_string(),
        query: String::new(),
        headers: headers
            .map(|h| {
                h.iter()
                    .flat_map(|(name, values)| {
                        values
                            .iter()
                            .map(move |v| (name.to_string().to_ascii_lowercase(), v.as_str().to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        body,
        remote_addr: Some(url.to_string()),
        source_id: id.to_string(),
        delivery_id: crate::clock::new_ulid(),
        received_at: crate::clock::now_rfc3339(),
    };
    match super::feed::process(edge, &pipeline, &source, &request, AuthKind::None).await {
        Ok(p) => {
            tracing::debug!(source = %id, delivery_id = %request.delivery_id, emitted = p.emitted, "NATS message processed.");
            Handled::Done
        }
        Err(error) => {
            let storage = matches!(
                error,
                Error::Process(ProcessError::Outbox(_) | ProcessError::Sink { .. } | ProcessError::Media(_))
            );
            // A JetStream message whose events could not be stored is offered again by
            // JetStream (nothing to replay by hand); anything else is quarantined.
            if storage && redeliverable {
                tracing::warn!(source = %id, delivery_id = %request.delivery_id, error = %error, "Storing a NATS message's events failed; JetStream offers it again.");
                return Handled::Retry;
            }
            tracing::warn!(source = %id, delivery_id = %request.delivery_id, bytes = request.body.len(), error = %crate::telemetry::one_line(&error.to_string()), "NATS message failed; kept in quarantine.");
            keep(&pipeline, crate::disk::Share::All, &request, &error, false).await;
            Handled::Done
        }
    }
}
