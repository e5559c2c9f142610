//! The NATS connection of a router in cluster mode and the two streams it shares with the
//! other routers (created by whichever router starts first; later ones find them).

use crate::config::ClusterSpec;
use async_nats::jetstream::{self, stream};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// How long startup waits for NATS before it gives up with an error naming the server: an
/// unreachable cluster is a config or network fault the operator has to see, not one to hide
/// behind a router that answers every request with 503.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Used when `dedup_window_secs = 0` (JetStream needs some window; two minutes is its own
/// default and only catches a publish that was retried after a lost ack).
const MIN_DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// This router's cluster counters.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Events stored in the outbox stream.
    pub(crate) published: AtomicU64,
    /// Events JetStream dropped as already stored (its duplicate window).
    pub(crate) duplicates: AtomicU64,
    /// Requests whose events could not be stored (answered 503).
    pub(crate) publish_failures: AtomicU64,
}

/// A router's handle on the cluster: shared by the pipeline (publishing) and the workers.
pub struct Cluster {
    pub(super) spec: ClusterSpec,
    pub(super) client: async_nats::Client,
    pub(super) js: jetstream::Context,
    pub(super) counters: Arc<Counters>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster").field("node", &self.spec.node).finish()
    }
}

impl Cluster {
    /// Connects to NATS and makes sure both streams exist. `dedup_window` becomes the outbox
    /// stream's duplicate window.
    pub async fn connect(spec: &ClusterSpec, dedup_window: Duration) -> anyhow::Result<Arc<Cluster>> {
        let client = crate::nats::connect(&spec.node, &spec.auth, &spec.nats_url, CONNECT_TIMEOUT)
            .await
            .map_err(|e| anyhow::anyhow!("cluster: {e:#}"))?;
        let js = jetstream::ContextBuilder::new()
            .timeout(spec.publish_timeout)
            .build(client.clone());
        let cluster = Cluster {
            spec: spec.clone(),
            client,
            js,
            counters: Arc::default(),
        };
        cluster.ensure_streams(dedup_window).await?;
        tracing::info!(nats = %spec.nats_url, node = %spec.node, stream = %spec.stream, "Cluster mode: events are stored in JetStream.");
        Ok(Arc::new(cluster))
    }

    /// This node's name.
    pub fn node(&self) -> &str {
        &self.spec.node
    }

    /// The settings it was connected with.
    pub fn spec(&self) -> &ClusterSpec {
        &self.spec
    }

    /// Whether the connection to NATS is up now.
    pub fn connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// The outbox subject of `sink`.
    pub(super) fn out_subject(&self, sink: &str) -> String {
        format!("{}.out.{sink}", self.spec.subject_prefix)
    }

    /// The dead-letter subject of `sink`.
    pub(super) fn dead_subject(&self, sink: &str) -> String {
        format!("{}.dead.{sink}", self.spec.subject_prefix)
    }

    /// Creates the streams if missing; sets the outbox stream's duplicate window to
    /// `dedup_window` (also after a reload that changed `dedup_window_secs`).
    pub(crate) async fn ensure_streams(&self, dedup_window: Duration) -> anyhow::Result<()> {
        let prefix = &self.spec.subject_prefix;
        let outbox = stream::Config {
            name: self.spec.stream.clone(),
            description: Some("switchyard: webhook events waiting for delivery".into()),
            subjects: vec![format!("{prefix}.out.>")],
            // One delivery per event across the cluster: an acknowledged event is removed, and
            // consumers on one subject may not overlap.
            retention: stream::RetentionPolicy::WorkQueue,
            storage: stream::StorageType::File,
            num_replicas: self.spec.replicas,
            duplicate_window: dedup_window.max(MIN_DUPLICATE_WINDOW),
            ..Default::default()
        };
        let dead = stream::Config {
            name: self.spec.dead_stream.clone(),
            description: Some("switchyard: dead letters (switchyard dlq)".into()),
            subjects: vec![format!("{prefix}.dead.>")],
            retention: stream::RetentionPolicy::Limits,
            storage: stream::StorageType::File,
            num_replicas: self.spec.replicas,
            ..Default::default()
        };
        for config in [outbox, dead] {
            let name = config.name.clone();
            let mut existing = self
                .js
                .get_or_create_stream(config.clone())
                .await
                .map_err(|e| anyhow::anyhow!("cluster: creating stream `{name}` on {}: {e}", self.spec.nats_url))?;
            let info = existing
                .info()
                .await
                .map_err(|e| anyhow::anyhow!("cluster: reading stream `{name}`: {e}"))?;
            if info.config.subjects != config.subjects {
                anyhow::bail!(
                    "cluster: stream `{name}` exists with subjects {:?}, not {:?}; another \
                     application uses the name, or `subject_prefix` changed (set `cluster.stream`)",
                    info.config.subjects,
                    config.subjects
                );
            }
            // The duplicate window follows dedup_window_secs; a router started with another
            // value updates it for all (the last one started wins, and says so).
            if info.config.duplicate_window != config.duplicate_window {
                let mut updated = info.config.clone();
                updated.duplicate_window = config.duplicate_window;
                self.js
                    .update_stream(updated)
                    .await
                    .map_err(|e| anyhow::anyhow!("cluster: updating stream `{name}`: {e}"))?;
                tracing::info!(stream = %name, window_secs = config.duplicate_window.as_secs(), "Stream duplicate window updated to this router's dedup_window_secs.");
            }
        }
        Ok(())
    }
}
