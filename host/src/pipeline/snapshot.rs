//! The [`Pipeline`] itself: what one snapshot holds, and how a request finds its source.

use super::build::{self, Source};
use crate::blobs::BlobStore;
use crate::config::{RouteSpec, RouterSpec};
use crate::quarantine::Quarantine;
use crate::sink::Sink;
use std::collections::HashMap;
use std::sync::Arc;

/// A built pipeline.
pub struct Pipeline {
    pub(super) spec: RouterSpec,
    /// HTTP sources by URL path.
    pub(super) sources: HashMap<String, Arc<Source>>,
    /// Feeds the router reads itself: websocket and NATS sources.
    pub(super) feeds: Vec<Arc<Source>>,
    /// Sinks by id.
    pub(super) sinks: HashMap<String, Arc<Sink>>,
    pub(super) quarantine: Quarantine,
    /// The free-space budget of every filesystem the router writes to.
    pub(super) disk: Arc<crate::disk::DiskBudget>,
    pub(super) blobs: BlobStore,
    pub(super) dedup: Arc<crate::dedup::Dedup>,
    /// Where webhook sinks' events are committed before the sender is answered.
    pub(super) queue: Arc<dyn crate::queue::DurableQueue>,
    /// Cluster mode: the connection (the queue's, and this node's status reports).
    pub(super) cluster: Option<Arc<crate::cluster::Cluster>>,
    /// Every loaded plugin by id.
    pub(super) plugins: HashMap<String, Arc<crate::plugin::Plugin>>,
}

impl Pipeline {
    /// The spec it was built from.
    pub fn spec(&self) -> &RouterSpec {
        &self.spec
    }

    /// The source for `path`: the one listening on it exactly (trailing slashes ignored), else
    /// the one with the longest path that `path` lies under (`/ingest/sensenebula/auth` →
    /// `/ingest/sensenebula`), so a vendor can use sub-paths for its endpoints.
    pub fn source(&self, path: &str) -> Option<&Arc<Source>> {
        let path = crate::config::normalize_path(path);
        if let Some(exact) = self.sources.get(&path) {
            return Some(exact);
        }
        let mut prefix = path.as_str();
        while let Some(cut) = prefix.rfind('/') {
            prefix = &prefix[..cut];
            if let Some(source) = self.sources.get(if prefix.is_empty() { "/" } else { prefix }) {
                return Some(source);
            }
        }
        None
    }

    /// Loaded plugins, sorted by id.
    pub fn plugins(&self) -> Vec<&Arc<crate::plugin::Plugin>> {
        let mut all: Vec<_> = self.plugins.values().collect();
        all.sort_by(|a, b| a.id().cmp(b.id()));
        all
    }

    /// A loaded plugin by id.
    pub fn plugin(&self, id: &str) -> Option<&Arc<crate::plugin::Plugin>> {
        self.plugins.get(id)
    }

    /// The same pipeline with plugin `id` replaced by `plugin` everywhere it is used (for
    /// rolling back a failing version without rebuilding anything else).
    pub fn with_plugin(&self, id: &str, plugin: Arc<crate::plugin::Plugin>) -> Pipeline {
        let swap = |p: &Arc<crate::plugin::Plugin>| if p.id() == id { plugin.clone() } else { p.clone() };
        let rebuild = |s: &Arc<Source>| {
            Arc::new(Source {
                spec: s.spec.clone(),
                auth: s.auth.clone(),
                normalizer: swap(&s.normalizer),
                decider: s.decider.as_ref().map(|d| build::Decider {
                    plugin: swap(&d.plugin),
                    ..d.clone()
                }),
                filters: s.filters.iter().map(swap).collect(),
                transforms: s.transforms.iter().map(swap).collect(),
            })
        };
        let mut plugins = self.plugins.clone();
        plugins.insert(id.to_string(), plugin.clone());
        Pipeline {
            spec: self.spec.clone(),
            sources: self.sources.iter().map(|(k, s)| (k.clone(), rebuild(s))).collect(),
            feeds: self.feeds.iter().map(rebuild).collect(),
            sinks: self.sinks.clone(),
            quarantine: self.quarantine.clone(),
            disk: self.disk.clone(),
            blobs: self.blobs.clone(),
            dedup: self.dedup.clone(),
            queue: self.queue.clone(),
            cluster: self.cluster.clone(),
            plugins,
        }
    }

    /// Any source (HTTP or feed) by id.
    pub fn source_by_id(&self, id: &str) -> Option<&Arc<Source>> {
        self.sources.values().chain(self.feeds.iter()).find(|s| s.spec.id == id)
    }

    /// The feeds to follow (websocket and NATS sources).
    pub fn feeds(&self) -> &[Arc<Source>] {
        &self.feeds
    }

    /// A feed (websocket or NATS source) by source id.
    pub fn feed(&self, id: &str) -> Option<&Arc<Source>> {
        self.feeds.iter().find(|s| s.spec.id == id)
    }

    /// The quarantine store.
    pub fn quarantine(&self) -> &Quarantine {
        &self.quarantine
    }

    /// The disk budget.
    pub fn disk(&self) -> &crate::disk::DiskBudget {
        &self.disk
    }

    /// The routes.
    pub fn routes(&self) -> &[RouteSpec] {
        &self.spec.routes
    }

    /// A sink by id.
    pub fn sink(&self, id: &str) -> Option<&Arc<Sink>> {
        self.sinks.get(id)
    }

    /// The cluster, in cluster mode.
    pub fn cluster(&self) -> Option<&Arc<crate::cluster::Cluster>> {
        self.cluster.as_ref()
    }

    /// The durable queue.
    pub fn queue(&self) -> &Arc<dyn crate::queue::DurableQueue> {
        &self.queue
    }

    /// The webhook sinks by id: what the queue delivers to.
    pub fn webhooks(&self) -> HashMap<String, Arc<crate::sink::WebhookSink>> {
        self.sinks
            .iter()
            .filter_map(|(id, sink)| match sink.as_ref() {
                Sink::Webhook(w) => Some((id.clone(), w.clone())),
                _ => None,
            })
            .collect()
    }
}
