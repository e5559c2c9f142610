//! In cluster mode, this router's status report to the cluster: every node puts its address,
//! config hash, plugins and last reload in the cluster's node bucket, so `/admin/status` on
//! any node shows the whole cluster.

use super::state::Router;
use crate::cluster::REPORT_EVERY;
use crate::shutdown::Shutdown;
use std::sync::Arc;
use std::time::Duration;

/// Reports this router's status to the cluster every [`REPORT_EVERY`] until `shutdown`: its
/// address, config hash, plugins and last reload (a node that rejected a config says so here,
/// and keeps running the one before).
pub async fn report_to_cluster(router: Arc<Router>, shutdown: Shutdown) {
    // Checked every second; reported at once after a reload (so an operator sees a rejected
    // publish on every node within a second or two), and every REPORT_EVERY regardless.
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    let mut reported: Option<(tokio::time::Instant, String)> = None;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let pipeline = router.pipeline();
        let Some(cluster) = pipeline.cluster().cloned() else {
            return;
        };
        let status = router.status();
        let reload = status.last_reload.as_ref().map(|r| r.at.clone()).unwrap_or_default();
        if let Some((at, last)) = &reported
            && *last == reload
            && at.elapsed() < REPORT_EVERY
        {
            continue;
        }
        let report = serde_json::json!({
            "node": cluster.node(),
            "version": env!("CARGO_PKG_VERSION"),
            "listen": pipeline.spec().server.listen.to_string(),
            "config_sha256": status.config_sha256,
            "last_reload": status.last_reload,
            "plugins": pipeline.plugins().iter().map(|p| serde_json::json!({ "id": p.id(), "sha256": p.sha256() })).collect::<Vec<_>>(),
            "reported_ms": crate::clock::now_ms(),
        });
        match cluster.report(&report).await {
            Ok(()) => {
                failing = false;
                reported = Some((tokio::time::Instant::now(), reload));
            }
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "Reporting this node's status to the cluster failed; retrying.");
            }
            Err(_) => {}
        }
    }
}
