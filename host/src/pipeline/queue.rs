//! The durable queue a config names: the embedded outbox, or JetStream with `[cluster]`. One
//! per process: a reload keeps the open one (its writer thread or its NATS connection, and the
//! workers delivering from it) — the reload controller refuses a changed `server.data_dir` or
//! `[cluster]` — and a changed dedup window only updates the stream.

use super::Pipeline;
use crate::cluster::{Cluster, JetStream};
use crate::config::RouterSpec;
use crate::outbox::{Letters, Outbox};
use crate::queue::{DeadLetters, DurableQueue};
use std::sync::Arc;
use std::time::Duration;

/// The queue (and in cluster mode the cluster connection) for a pipeline built from `spec`.
pub(super) async fn open(
    spec: &RouterSpec,
    previous: Option<&Pipeline>,
) -> anyhow::Result<(Arc<dyn DurableQueue>, Option<Arc<Cluster>>)> {
    let dedup_window = Duration::from_secs(spec.server.dedup_window_secs);
    if let Some(p) = previous {
        if let Some(cluster) = &p.cluster
            && p.spec.server.dedup_window_secs != spec.server.dedup_window_secs
        {
            cluster.ensure_streams(dedup_window).await?;
        }
        return Ok((p.queue.clone(), p.cluster.clone()));
    }
    Ok(match &spec.cluster {
        Some(c) => {
            let cluster = Cluster::connect(c, dedup_window).await?;
            let mut queue = JetStream::new(cluster.clone());
            if let Some(outbox) = left_in_outbox(&spec.server.data_dir).await? {
                let stats = queue.stats().clone();
                queue = queue.draining(outbox.counting_into(stats));
            }
            (Arc::new(queue), Some(cluster))
        }
        None => {
            let data_dir = spec.server.data_dir.clone();
            let outbox = tokio::task::spawn_blocking(move || Outbox::open(&data_dir)).await??;
            (Arc::new(outbox), None)
        }
    })
}

/// The dead letters of the queue `spec` names, from a process that is not the router
/// (`switchyard dlq`): the outbox file under the data dir, or the cluster's stream.
pub async fn dead_letters(spec: &RouterSpec) -> anyhow::Result<Arc<dyn DeadLetters>> {
    Ok(match &spec.cluster {
        Some(_) => Arc::new(crate::cluster::dead_letters(spec).await?),
        None => Arc::new(Letters::in_data_dir(&spec.server.data_dir)),
    })
}

/// The embedded outbox, opened, when it still holds events from before `[cluster]`: the
/// cluster's queue delivers them too, so switching to cluster mode strands nothing.
async fn left_in_outbox(data_dir: &std::path::Path) -> anyhow::Result<Option<Outbox>> {
    let dir = data_dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let waiting = crate::outbox::sql::waiting_in(&dir)?;
        if waiting == 0 {
            return Ok(None);
        }
        tracing::info!(
            waiting,
            "The outbox holds events from before cluster mode; they are delivered from it."
        );
        Outbox::open(&dir).map(Some)
    })
    .await?
}
