//! What a router says about the cluster: its own counters, the streams' and consumers' state
//! (shared by all routers, read from JetStream), and every node's last report — each router
//! puts its status in a KV bucket (`<stream>_NODES`, entries expire when a node stops
//! reporting), so `/admin/status` on any node shows the whole cluster.

use super::connect::Cluster;
use async_nats::jetstream::kv;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

/// How often a node reports; its entry expires after three missed reports.
pub const REPORT_EVERY: Duration = Duration::from_secs(10);

/// One sink's queue in the cluster.
#[derive(Debug, Clone, Serialize)]
pub struct SinkQueue {
    /// Waiting for a router to pull them.
    pub pending: u64,
    /// Pulled by some router and not yet acknowledged.
    pub in_flight: u64,
    /// Redelivered at least once (a failed attempt or a router that went away).
    pub redelivered: u64,
}

/// The cluster as this router sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterStatus {
    /// This router's name.
    pub node: String,
    /// The NATS servers.
    pub nats_url: String,
    /// Whether this router is connected to NATS now.
    pub connected: bool,
    /// The outbox stream and how many events it holds.
    pub stream: String,
    /// Events in the outbox stream (all sinks).
    pub stream_messages: Option<u64>,
    /// The dead-letter stream and how many it holds.
    pub dead_stream: String,
    /// Dead letters (all sinks).
    pub dead_letters: Option<u64>,
    /// Per sink with a consumer: its queue.
    pub sinks: BTreeMap<String, SinkQueue>,
    /// Every node's last report (this one's included), by node name.
    pub nodes: BTreeMap<String, serde_json::Value>,
    /// Events this router stored / dropped as duplicates / failed to store.
    pub published: u64,
    /// See `published`.
    pub duplicates: u64,
    /// See `published`.
    pub publish_failures: u64,
}

impl Cluster {
    /// The node-status bucket, created if missing (entries expire after three missed reports).
    pub(super) async fn nodes_bucket(&self) -> anyhow::Result<kv::Store> {
        let bucket = format!("{}_NODES", self.spec.stream);
        self.kv_bucket(
            &bucket,
            "switchyard: each router's last status report",
            1,
            REPORT_EVERY * 3,
        )
        .await
    }

    /// Puts this node's `report` (JSON) in the node-status bucket.
    pub async fn report(&self, report: &serde_json::Value) -> anyhow::Result<()> {
        let bucket = self.nodes_bucket().await?;
        bucket
            .put(&self.spec.node, serde_json::to_vec(report)?.into())
            .await
            .map_err(|e| anyhow::anyhow!("cluster: reporting status: {e}"))?;
        Ok(())
    }

    /// The cluster's state (the parts JetStream cannot tell while it is away are `None` or
    /// empty).
    pub async fn status(&self, sinks: &[String]) -> ClusterStatus {
        let mut status = ClusterStatus {
            node: self.spec.node.clone(),
            nats_url: self.spec.nats_url.clone(),
            connected: self.connected(),
            stream: self.spec.stream.clone(),
            stream_messages: None,
            dead_stream: self.spec.dead_stream.clone(),
            dead_letters: None,
            sinks: BTreeMap::new(),
            nodes: BTreeMap::new(),
            published: self.counters.published.load(Relaxed),
            duplicates: self.counters.duplicates.load(Relaxed),
            publish_failures: self.counters.publish_failures.load(Relaxed),
        };
        if !status.connected {
            return status;
        }
        if let Ok(mut stream) = self.js.get_stream(&self.spec.stream).await {
            if let Ok(info) = stream.info().await {
                status.stream_messages = Some(info.state.messages);
            }
            for sink in sinks {
                if let Ok(info) = stream.consumer_info(format!("deliver-{sink}")).await {
                    status.sinks.insert(
                        sink.clone(),
                        SinkQueue {
                            pending: info.num_pending,
                            in_flight: info.num_ack_pending as u64,
                            redelivered: info.num_redelivered as u64,
                        },
                    );
                }
            }
        }
        if let Ok(mut dead) = self.js.get_stream(&self.spec.dead_stream).await
            && let Ok(info) = dead.info().await
        {
            status.dead_letters = Some(info.state.messages);
        }
        if let Ok(bucket) = self.nodes_bucket().await {
            status.nodes = read_nodes(&bucket).await;
        }
        status
    }
}

async fn read_nodes(bucket: &kv::Store) -> BTreeMap<String, serde_json::Value> {
    use futures_util::StreamExt;
    let mut out = BTreeMap::new();
    let Ok(mut keys) = bucket.keys().await else {
        return out;
    };
    let mut names = Vec::new();
    while let Some(Ok(key)) = keys.next().await {
        names.push(key);
    }
    for key in names {
        if let Ok(Some(value)) = bucket.get(&key).await
            && let Ok(json) = serde_json::from_slice(&value)
        {
            out.insert(key, json);
        }
    }
    out
}

impl ClusterStatus {
    /// Prometheus text for the cluster.
    pub fn render_metrics(&self) -> String {
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, values: Vec<(String, u64)>| {
            crate::metrics::family(&mut out, name, kind, help, values)
        };
        family(
            "switchyard_cluster_connected",
            "gauge",
            "1 while this router is connected to NATS.",
            vec![(String::new(), u64::from(self.connected))],
        );
        family(
            "switchyard_cluster_published_total",
            "counter",
            "Events this router stored in the cluster's outbox stream.",
            vec![(String::new(), self.published)],
        );
        family(
            "switchyard_cluster_duplicates_total",
            "counter",
            "Events JetStream dropped as already stored (duplicate window).",
            vec![(String::new(), self.duplicates)],
        );
        family(
            "switchyard_cluster_publish_failures_total",
            "counter",
            "Requests whose events could not be stored in JetStream (answered 503).",
            vec![(String::new(), self.publish_failures)],
        );
        let per_sink = |f: fn(&SinkQueue) -> u64| {
            self.sinks
                .iter()
                .map(|(s, q)| (format!("{{sink=\"{s}\"}}"), f(q)))
                .collect::<Vec<_>>()
        };
        family(
            "switchyard_cluster_pending",
            "gauge",
            "Events waiting in the cluster for a router to deliver them.",
            per_sink(|q| q.pending),
        );
        family(
            "switchyard_cluster_in_flight",
            "gauge",
            "Events pulled by some router and not yet acknowledged.",
            per_sink(|q| q.in_flight),
        );
        if let Some(dead) = self.dead_letters {
            family(
                "switchyard_cluster_dead_letters",
                "gauge",
                "Dead letters in the cluster's dead-letter stream.",
                vec![(String::new(), dead)],
            );
        }
        family(
            "switchyard_cluster_nodes",
            "gauge",
            "Routers that reported their status within the last 30 s.",
            vec![(String::new(), self.nodes.len() as u64)],
        );
        out
    }
}
