//! Dead letters in cluster mode: a stream of their own (`<prefix>.dead.<sink>`, limits
//! retention, so nothing leaves it but a replay or a purge). A dead letter keeps the event's
//! headers and adds the attempts, the last error and when it was given up on; its id in
//! `switchyard dlq` is its stream sequence.

use super::connect::Cluster;
use super::header;
use crate::queue::{Chosen, DeadLetter, DeadLetters, Queued, Selection};
use async_nats::jetstream::message::PublishMessage;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use std::sync::Arc;

/// Dead letters read per listing at most: a listing is for people; beyond this, narrow it
/// with `--sink`/`--since`.
const MAX_LISTED: usize = 100_000;

impl Cluster {
    /// Stores `item` as a dead letter of `sink` (awaiting JetStream's ack).
    pub(super) async fn bury(&self, sink: &str, item: &Queued, attempts: u32, error: &str) -> anyhow::Result<()> {
        let mut message = PublishMessage::build()
            .payload(item.payload.clone())
            // One dead letter per outbox message, even if two routers give up on it.
            .message_id(format!("{sink}:{}:dead:{}", item.webhook_id, item.id))
            .header(header::WEBHOOK_ID, item.webhook_id.as_str())
            .header(header::CREATED_MS, item.created_ms.to_string())
            .header(header::ATTEMPTS, attempts.to_string())
            .header(header::FAILED_MS, crate::clock::now_ms().to_string())
            .header(header::NODE, self.spec.node.as_str())
            // Header values are one line.
            .header(header::ERROR, error.replace(['\r', '\n'], " "));
        if let Some(key) = &item.ordering_key {
            message = message.header(header::ORDERING_KEY, key.as_str());
        }
        self.js
            .send_publish(self.dead_subject(sink), message)
            .await?
            .await
            .map_err(|e| anyhow::anyhow!("storing a dead letter in `{}`: {e}", self.spec.dead_stream))?;
        Ok(())
    }
}

/// The cluster's dead letters: for the running router's console and for `switchyard dlq`
/// from any machine that reaches NATS.
pub struct Letters {
    cluster: Arc<Cluster>,
}

/// Connects to the cluster of `spec` for its dead letters.
pub async fn dead_letters(spec: &crate::config::RouterSpec) -> anyhow::Result<Letters> {
    let cluster_spec = spec
        .cluster
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("{} has no [cluster]", spec.config_path.display()))?;
    let window = std::time::Duration::from_secs(spec.server.dedup_window_secs);
    Ok(Letters {
        cluster: Cluster::connect(cluster_spec, window).await?,
    })
}

impl Letters {
    /// The dead letters of a running router's cluster connection.
    pub fn of(cluster: Arc<Cluster>) -> Letters {
        Letters { cluster }
    }

    /// The selected dead letters, oldest first (the stream is read in sequence order).
    async fn scan(&self, selection: &Selection) -> anyhow::Result<Vec<DeadLetter>> {
        let spec = &self.cluster.spec;
        let mut stream = self.cluster.js.get_stream(&spec.dead_stream).await?;
        let state = stream.info().await?.state.clone();
        let mut out = Vec::new();
        if state.messages == 0 {
            return Ok(out);
        }
        let sequences: Vec<u64> = match &selection.ids {
            Some(ids) => ids.iter().filter_map(|id| u64::try_from(*id).ok()).collect(),
            None => (state.first_sequence..=state.last_sequence).collect(),
        };
        for sequence in sequences {
            if out.len() >= MAX_LISTED {
                break;
            }
            // Replayed and purged letters leave gaps.
            let Some(letter) = self.letter_at(&stream, sequence).await else {
                continue;
            };
            if selection.matches(letter.id, &letter.sink, letter.failed_ms) {
                out.push(letter);
            }
        }
        Ok(out)
    }

    /// The dead letter at `sequence`, if there is one.
    async fn letter_at(&self, stream: &async_nats::jetstream::stream::Stream, sequence: u64) -> Option<DeadLetter> {
        let prefix = format!("{}.dead.", self.cluster.spec.subject_prefix);
        let message = stream.get_raw_message(sequence).await.ok()?;
        let sink = message.subject.as_str().strip_prefix(&prefix)?;
        let get = |name: &str| message.headers.get(name).map(|v| v.as_str().to_string());
        let num = |name: &str| get(name).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        Some(DeadLetter {
            id: sequence as i64,
            sink: sink.to_string(),
            webhook_id: get(header::WEBHOOK_ID).unwrap_or_default(),
            ordering_key: get(header::ORDERING_KEY),
            created_ms: num(header::CREATED_MS),
            failed_ms: num(header::FAILED_MS),
            attempts: u32::try_from(num(header::ATTEMPTS)).unwrap_or(0),
            last_error: get(header::ERROR).unwrap_or_default(),
            payload: message.payload.clone(),
        })
    }

    /// Puts `letter` back in the outbox stream (same webhook-id, attempts start over) and
    /// removes it from the dead letters.
    async fn requeue(&self, letter: &DeadLetter) -> anyhow::Result<()> {
        let cluster = &self.cluster;
        let mut message = PublishMessage::build()
            .payload(letter.payload.clone())
            // Not the original message id: the duplicate window would take a replay within it
            // for the vendor retry it is not.
            .message_id(format!("{}:{}:replay:{}", letter.sink, letter.webhook_id, letter.id))
            .header(header::WEBHOOK_ID, letter.webhook_id.as_str())
            .header(header::CREATED_MS, crate::clock::now_ms().to_string())
            .header(header::NODE, cluster.spec.node.as_str());
        if let Some(key) = &letter.ordering_key {
            message = message.header(header::ORDERING_KEY, key.as_str());
        }
        cluster
            .js
            .send_publish(cluster.out_subject(&letter.sink), message)
            .await?
            .await
            .map_err(|e| anyhow::anyhow!("requeueing dead letter {}: {e}", letter.id))?;
        self.delete(letter.id).await
    }

    /// Removes one dead letter.
    async fn delete(&self, id: i64) -> anyhow::Result<()> {
        let stream = self.cluster.js.get_stream(&self.cluster.spec.dead_stream).await?;
        stream
            .delete_message(id as u64)
            .await
            .map_err(|e| anyhow::anyhow!("removing dead letter {id}: {e}"))?;
        Ok(())
    }

    /// Events of `sinks` not yet delivered (waiting or in flight), all routers together.
    async fn waiting(&self, sinks: &[String]) -> anyhow::Result<u64> {
        let stream = self.cluster.js.get_stream(&self.cluster.spec.stream).await?;
        let mut total = 0;
        for sink in sinks {
            let name = format!("deliver-{sink}");
            match stream.consumer_info(&name).await {
                Ok(info) => total += info.num_pending + info.num_ack_pending as u64,
                // No router has delivered to this sink yet: everything of it waits.
                Err(_) => {
                    let mut subjects = stream.info_with_subjects(self.cluster.out_subject(sink)).await?;
                    while let Some(subject) = subjects.next().await {
                        total += subject?.1 as u64;
                    }
                }
            }
        }
        Ok(total)
    }
}

impl DeadLetters for Letters {
    fn list<'a>(&'a self, selection: &'a Selection) -> BoxFuture<'a, anyhow::Result<Vec<DeadLetter>>> {
        Box::pin(self.scan(selection))
    }

    fn recent<'a>(
        &'a self,
        sink: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, anyhow::Result<(Vec<DeadLetter>, usize)>> {
        Box::pin(async move {
            let selection = Selection {
                sink: sink.map(str::to_string),
                ..Selection::default()
            };
            let mut letters = self.scan(&selection).await?;
            let total = letters.len();
            letters.reverse();
            letters.truncate(limit);
            Ok((letters, total))
        })
    }

    fn select<'a>(&'a self, selection: &'a Selection) -> BoxFuture<'a, anyhow::Result<Vec<Chosen>>> {
        Box::pin(async move {
            Ok(self
                .scan(selection)
                .await?
                .into_iter()
                .map(|d| Chosen {
                    id: d.id,
                    sink: d.sink,
                    webhook_id: d.webhook_id,
                })
                .collect())
        })
    }

    fn replay<'a>(&'a self, chosen: &'a [Chosen]) -> BoxFuture<'a, anyhow::Result<usize>> {
        Box::pin(async move {
            let stream = self.cluster.js.get_stream(&self.cluster.spec.dead_stream).await?;
            let mut moved = 0;
            for c in chosen {
                // Gone meanwhile (replayed or purged by someone else): nothing to move.
                if let Some(letter) = self.letter_at(&stream, c.id as u64).await {
                    self.requeue(&letter).await?;
                    moved += 1;
                }
            }
            Ok(moved)
        })
    }

    fn purge<'a>(&'a self, chosen: &'a [Chosen]) -> BoxFuture<'a, anyhow::Result<usize>> {
        Box::pin(async move {
            for c in chosen {
                self.delete(c.id).await?;
            }
            Ok(chosen.len())
        })
    }

    fn settled<'a>(&'a self, chosen: &'a [Chosen], since_ms: i64) -> BoxFuture<'a, anyhow::Result<(usize, usize)>> {
        Box::pin(async move {
            let ids: std::collections::HashSet<&str> = chosen.iter().map(|c| c.webhook_id.as_str()).collect();
            let mut sinks: Vec<String> = chosen.iter().map(|c| c.sink.clone()).collect();
            sinks.sort_unstable();
            sinks.dedup();
            // Waiting counts every event of those sinks, not only the replayed ones: the
            // stream cannot be searched by webhook-id. Zero means all of them were settled.
            let waiting = self.waiting(&sinks).await? as usize;
            let since = Selection {
                since_ms: Some(since_ms),
                ..Selection::default()
            };
            let failed = self
                .scan(&since)
                .await?
                .iter()
                .filter(|d| ids.contains(d.webhook_id.as_str()))
                .count();
            Ok((waiting, failed))
        })
    }
}
