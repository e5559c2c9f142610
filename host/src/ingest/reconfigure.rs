//! What the edge does when a reload swaps the pipeline: the processing budget takes the new
//! size, and the feeds the new config added (websocket and NATS sources) are followed. A
//! follower whose feed a reload removed ends by itself (each re-reads its source).

use super::edge::Edge;
use crate::shutdown::Shutdown;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Starts following the pipeline's feeds, then follows its swaps until shutdown.
pub async fn follow_swaps(edge: Arc<Edge>, shutdown: Shutdown) {
    let mut swaps = edge.router.swaps();
    let mut followed = BTreeSet::new();
    loop {
        let pipeline = edge.router.pipeline();
        edge.processing
            .resize(pipeline.spec().server.limits.max_processing_bytes);
        // A feed is its id and its kind: one that turned from a websocket into a NATS
        // subject (or back) gets a new follower, as the old one ends.
        let now: BTreeSet<(String, bool)> = pipeline
            .feeds()
            .iter()
            .map(|f| (f.spec.id.clone(), f.spec.kind.nats().is_some()))
            .collect();
        for (id, nats) in now.difference(&followed) {
            follow(&edge, id.clone(), *nats, &shutdown);
        }
        followed = now;
        tokio::select! {
            _ = shutdown.cancelled() => return,
            changed = swaps.changed() => if changed.is_err() { return },
        }
    }
}

/// Starts following a feed — a websocket or a NATS subject.
fn follow(edge: &Arc<Edge>, id: String, nats: bool, shutdown: &Shutdown) {
    if nats {
        tokio::spawn(super::nats::follow(id, edge.clone(), shutdown.clone()));
    } else {
        tokio::spawn(super::websocket::follow(id, edge.clone(), shutdown.clone()));
    }
}
