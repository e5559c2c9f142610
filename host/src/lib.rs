//! switchyard: a WebAssembly-pluggable event router.
//!
//! Vendor systems (face recognition, access terminals, attendance) push events over HTTP.
//! Each request enters through a **source** (`ingest`), is turned into normalized
//! `router.event/v1` records by a **normalizer plugin**, passes the source's **filter** and
//! **transform** plugins, and is delivered by **routes** to **sinks** (`sink`). Plugins are
//! WebAssembly components defined by the WIT package in `wit/` and run in `plugin` with a CPU
//! deadline and memory cap each. `config` reads router.toml strictly; `pipeline` builds an
//! immutable snapshot from it. Anything that cannot be processed is kept in the `quarantine`.

#![warn(missing_docs)]

pub mod blobs;
pub mod cli;
pub mod clock;
pub mod config;
pub mod dedup;
pub mod event;
pub mod ingest;
pub mod pipeline;
pub mod plugin;
pub mod quarantine;
pub mod shutdown;
pub mod sink;
pub mod telemetry;

use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub use shutdown::Shutdown;

/// How long sinks get to finish queued deliveries at shutdown.
const SINK_DRAIN_DEADLINE: Duration = Duration::from_secs(10);

/// Builds the pipeline for `spec` and serves on `listener` until `shutdown` fires.
pub async fn run(spec: config::RouterSpec, listener: TcpListener, shutdown: Shutdown) -> anyhow::Result<()> {
    let runtime = plugin::Runtime::with_disk_cache(Some(spec.server.data_dir.join("cache")))?;
    let pipeline = pipeline::build(spec, &runtime).await?;
    let addr = listener.local_addr()?;
    let sources: Vec<String> = pipeline
        .spec()
        .sources
        .iter()
        .map(|s| match (&s.path, &s.websocket) {
            (Some(path), _) => format!("{path} → {}", s.id),
            (None, Some(ws)) => format!("{} → {}", ws.url, s.id),
            (None, None) => s.id.clone(),
        })
        .collect();
    tracing::info!(%addr, sources = ?sources, "Router listening.");
    let feeds: Vec<String> = pipeline.feeds().iter().map(|s| s.spec.id.clone()).collect();
    let shared = Arc::new(ingest::Shared::new(pipeline));
    let followers: Vec<_> = feeds
        .into_iter()
        .map(|id| tokio::spawn(ingest::follow(id, shared.clone(), shutdown.clone())))
        .collect();
    ingest::serve(listener, shared.clone(), shutdown).await?;
    for follower in followers {
        let _ = follower.await;
    }
    let pipeline = shared.pipeline();
    if tokio::time::timeout(SINK_DRAIN_DEADLINE, pipeline.drain())
        .await
        .is_err()
    {
        tracing::warn!("Sink deliveries still pending at shutdown; they are not retried after exit.");
    }
    Ok(())
}
