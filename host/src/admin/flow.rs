//! The console's Flow view: the pipeline as a graph (sources → plugins → routes → sinks) with
//! a rate and an error rate on every node and edge, and a sparkline of the last 15 minutes.
//!
//! Every node has two cumulative counters (ok, failed). Sources and routes count here (the
//! request handler feeds them); plugins and webhook sinks already count elsewhere (plugin
//! statistics, delivery counters) and are read from there. A sampler takes the deltas every
//! [`INTERVAL`] into a ring of [`POINTS`]; the current rate is the last full interval's.

use crate::pipeline::Pipeline;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

/// One sparkline point.
pub(crate) const INTERVAL: Duration = Duration::from_secs(5);
/// 15 minutes of points.
pub(crate) const POINTS: usize = 180;

/// Cumulative counts per node (`source:<id>`, `route:<name>`, `sink:<id>` of file sinks).
#[derive(Debug, Default)]
pub(crate) struct Counters(Mutex<HashMap<String, (u64, u64)>>);

impl Counters {
    /// Adds `ok` and `failed` to a node.
    pub(crate) fn add(&self, node: &str, ok: u64, failed: u64) {
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match all.get_mut(node) {
            Some(c) => {
                c.0 += ok;
                c.1 += failed;
            }
            None => {
                all.insert(node.to_string(), (ok, failed));
            }
        }
    }

    fn get(&self, node: &str) -> (u64, u64) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(node)
            .copied()
            .unwrap_or_default()
    }
}

/// The sampled history of every node.
#[derive(Debug, Default)]
pub(crate) struct History {
    last: HashMap<String, (u64, u64)>,
    points: HashMap<String, VecDeque<(u64, u64)>>,
}

impl History {
    /// Records the counts at the end of an interval.
    fn sample(&mut self, totals: &BTreeMap<String, (u64, u64)>) {
        for (node, &(ok, failed)) in totals {
            let (last_ok, last_failed) = self.last.insert(node.clone(), (ok, failed)).unwrap_or((ok, failed));
            let ring = self.points.entry(node.clone()).or_default();
            if ring.len() == POINTS {
                ring.pop_front();
            }
            ring.push_back((ok.saturating_sub(last_ok), failed.saturating_sub(last_failed)));
        }
    }
}

/// A node of the graph.
struct Node {
    id: String,
    kind: &'static str,
    label: String,
    detail: Option<String>,
}

/// The nodes and edges of a pipeline, in drawing order.
fn graph(pipeline: &Pipeline) -> (Vec<Node>, Vec<(String, String)>) {
    let spec = pipeline.spec();
    let mut nodes: Vec<Node> = Vec::new();
    let mut edges: Vec<(String, String)> = Vec::new();
    let add = |nodes: &mut Vec<Node>, id: String, kind: &'static str, label: &str, detail: Option<String>| {
        if !nodes.iter().any(|n| n.id == id) {
            nodes.push(Node {
                id,
                kind,
                label: label.to_string(),
                detail,
            });
        }
    };
    for source in &spec.sources {
        let id = format!("source:{}", source.id);
        let detail = Some(source.kind.endpoint());
        add(&mut nodes, id.clone(), "source", &source.id, detail);
        let Some(live) = pipeline.source_by_id(&source.id) else {
            continue;
        };
        let mut chain = vec![(live.normalizer.id().to_string(), "normalizer")];
        if let Some(d) = &live.decider {
            chain.push((d.plugin.id().to_string(), "decider"));
        }
        chain.extend(live.filters.iter().map(|f| (f.id().to_string(), "filter")));
        chain.extend(live.transforms.iter().map(|t| (t.id().to_string(), "transform")));
        let mut previous = id;
        for (plugin, role) in chain {
            let node = format!("plugin:{plugin}");
            add(&mut nodes, node.clone(), "plugin", &plugin, Some(role.to_string()));
            edges.push((previous, node.clone()));
            previous = node;
        }
        for route in &spec.routes {
            if route.matcher.source.is_empty() || route.matcher.source.contains(&source.id) {
                edges.push((previous.clone(), format!("route:{}", route.name)));
            }
        }
    }
    for route in &spec.routes {
        let id = format!("route:{}", route.name);
        add(&mut nodes, id.clone(), "route", &route.name, None);
        for sink in &route.sinks {
            edges.push((id.clone(), format!("sink:{sink}")));
        }
    }
    for sink in &spec.sinks {
        let kind = match pipeline.sink(&sink.id).map(|s| s.as_ref()) {
            Some(crate::sink::Sink::File(_)) => "file",
            Some(crate::sink::Sink::Nats(_)) => "nats",
            _ => "webhook",
        };
        add(
            &mut nodes,
            format!("sink:{}", sink.id),
            "sink",
            &sink.id,
            Some(kind.to_string()),
        );
    }
    // Two sources sharing a plugin reach the same route from it: one edge.
    let mut seen = std::collections::HashSet::new();
    edges.retain(|e| seen.insert(e.clone()));
    (nodes, edges)
}

/// The flow's counters and history (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Flow {
    pub(crate) counters: Counters,
    history: Mutex<History>,
}

impl Flow {
    /// Every node's cumulative (ok, failed) now.
    async fn totals(&self, router: &crate::router::Router) -> BTreeMap<String, (u64, u64)> {
        let pipeline = router.pipeline();
        let (nodes, _) = graph(&pipeline);
        let delivery = router.queue().stats().attempts();
        let mut out = BTreeMap::new();
        for node in nodes {
            let counts = match (node.kind, node.id.split_once(':')) {
                ("plugin", Some((_, id))) => pipeline.plugin(id).map_or((0, 0), |p| {
                    let calls = p.stats().summary().calls;
                    let n = |k: &str| calls.get(k).copied().unwrap_or(0);
                    (n("ok") + n("drop"), n("error") + n("trap") + n("timeout"))
                }),
                ("sink", Some((_, id))) if node.detail.as_deref() == Some("webhook") => {
                    delivery.get(id).copied().unwrap_or_default()
                }
                _ => self.counters.get(&node.id),
            };
            out.insert(node.id, counts);
        }
        out
    }

    /// Takes one sample (the sampler calls it every [`INTERVAL`]).
    pub(crate) async fn sample(&self, router: &crate::router::Router) {
        let totals = self.totals(router).await;
        self.history.lock().unwrap_or_else(|p| p.into_inner()).sample(&totals);
    }

    /// The graph with every node's totals, current rates and sparkline.
    pub(crate) async fn view(&self, router: &crate::router::Router) -> Value {
        let pipeline = router.pipeline();
        let (nodes, edges) = graph(&pipeline);
        let totals = self.totals(router).await;
        let history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        let seconds = INTERVAL.as_secs_f64();
        let stats = |id: &str| {
            let (ok, failed) = totals.get(id).copied().unwrap_or_default();
            let points = history.points.get(id);
            let (last_ok, last_failed) = points.and_then(|p| p.back().copied()).unwrap_or_default();
            json!({
                "ok": ok,
                "failed": failed,
                "rate": last_ok as f64 / seconds,
                "error_rate": last_failed as f64 / seconds,
                "spark": points.map(|p| p.iter().map(|(o, _)| *o).collect::<Vec<_>>()).unwrap_or_default(),
                "spark_failed": points.map(|p| p.iter().map(|(_, f)| *f).collect::<Vec<_>>()).unwrap_or_default(),
            })
        };
        json!({
            "interval_seconds": INTERVAL.as_secs(),
            "points": POINTS,
            "nodes": nodes.iter().map(|n| json!({
                "id": n.id, "kind": n.kind, "label": n.label, "detail": n.detail, "stats": stats(&n.id),
            })).collect::<Vec<_>>(),
            // An edge carries what its start passed on (a plugin shared by two sources is
            // one node: its edges show its whole output).
            "edges": edges.iter().map(|(from, to)| json!({ "from": from, "to": to, "stats": stats(from) })).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keeps_deltas_and_fifteen_minutes() {
        let mut h = History::default();
        let mut totals = BTreeMap::new();
        for i in 0..(POINTS as u64 + 10) {
            totals.insert("source:a".to_string(), (i * 3, i));
            h.sample(&totals);
        }
        let ring = &h.points["source:a"];
        assert_eq!(ring.len(), POINTS);
        assert_eq!(ring.back(), Some(&(3, 1)));
    }
}
