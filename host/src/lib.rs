//! switchyard: a WebAssembly-pluggable event router.
//!
//! Vendor systems (face recognition, access terminals, attendance) push events over HTTP.
//! Each request enters through a **source** (`ingest`), is turned into normalized
//! `router.event/v1` records by a **normalizer plugin**, passes the source's **filter** and
//! **transform** plugins, and is delivered by **routes** to **sinks** (`sink`); webhook sinks'
//! events are committed to the durable **outbox** (`outbox`) before the sender is answered.
//! Plugins are WebAssembly components defined by the WIT package in `wit/` and run in `plugin`
//! with a CPU deadline and memory cap each. `config` reads router.toml strictly; `pipeline` builds an
//! immutable snapshot from it. Anything that cannot be processed is kept in the `quarantine`.

#![warn(missing_docs)]

pub mod admin;
pub mod blobs;
pub mod body;
pub mod capture;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod datadir;
pub mod decision;
pub mod dedup;
pub mod digest;
pub mod disk;
pub mod event;
pub mod formats;
pub mod ingest;
pub mod metrics;
pub mod nats;
pub mod outbox;
pub mod pipeline;
pub mod plugin;
pub mod quarantine;
pub mod reload;
pub mod shutdown;
pub mod sink;
pub mod systemd;
pub mod telemetry;
pub mod tls;

use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub use shutdown::Shutdown;

/// How long queued deliveries get to finish at shutdown before they are left in the outbox.
const SINK_DRAIN_DEADLINE: Duration = Duration::from_secs(10);

/// How `run` behaves beyond the config file.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Watch router.toml and its plugins and reload on change.
    pub watch: bool,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions { watch: true }
    }
}

/// Builds the pipeline for `spec` and serves on `listener` until `shutdown` fires, reloading
/// when the config or a plugin changes.
pub async fn run(spec: config::RouterSpec, listener: TcpListener, shutdown: Shutdown) -> anyhow::Result<()> {
    run_with(spec, listener, shutdown, RunOptions::default()).await
}

/// [`run`] with explicit options.
pub async fn run_with(
    spec: config::RouterSpec,
    listener: TcpListener,
    shutdown: Shutdown,
    options: RunOptions,
) -> anyhow::Result<()> {
    let _lock = datadir::lock(&spec.server.data_dir)?;
    let runtime = plugin::Runtime::with_disk_cache(Some(spec.server.data_dir.join("cache")))?;
    let pipeline = pipeline::build(spec, &runtime).await?;
    // The sources' samples run now, as on every reload: a config whose plugins fail them
    // would fail real requests, so the router does not start on it.
    let samples = reload::self_test(&pipeline)
        .await
        .map_err(|e| anyhow::anyhow!("self-test failed, not starting: {e:#}"))?;
    if samples > 0 {
        tracing::info!(samples, "Self-test passed.");
    }
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
    let config_path = pipeline.spec().config_path.clone();
    let shared = Arc::new(ingest::Shared::new(pipeline));
    shared.delivery().report_backlog(&shared.pipeline()).await;

    // Hot reload: one controller task; the file watcher, SIGHUP and /admin/reload feed it.
    let (reloads, requests) = tokio::sync::mpsc::channel(16);
    shared.attach(reloads.clone(), shutdown.clone());
    let controller = reload::Controller::new(config_path.clone(), runtime.clone(), shared.clone());
    tokio::spawn(controller.run(requests));
    let _watcher = if options.watch {
        match reload::Watcher::start(config_path, shared.clone(), reloads.clone()) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(error = %e, "File watching unavailable; reload with SIGHUP or POST /admin/reload.");
                None
            }
        }
    } else {
        None
    };
    hangups(reloads, shutdown.clone());
    let console = admin::bind(&shared.pipeline().spec().admin).await?;
    let console_addr = console.as_ref().and_then(|l| l.local_addr().ok());
    if let Some(listener) = console {
        if let Some(a) = console_addr {
            let _ = shared.console().address.set(a);
        }
        tokio::spawn(admin::serve(listener, shared.clone(), shutdown.clone()));
    }
    tokio::spawn(admin::sampler(shared.clone(), shutdown.clone()));
    if shared.pipeline().cluster().is_some() {
        tokio::spawn(cluster::report_status(shared.clone(), shutdown.clone()));
    }
    if shared.pipeline().spec().admin.expects_token() && shared.pipeline().spec().admin.token().is_none() {
        tracing::warn!(
            "The admin token (`admin.token_env` / `admin.token_file`) is not set or empty: only loopback peers and `[admin] allow` reach the console, /metrics and /admin."
        );
    }
    // Logged once everything that reacts to changes is in place.
    tracing::info!(
        %addr,
        console = %console_addr.map_or_else(|| "off".to_string(), |a| format!("http://{a}/ui")),
        sources = ?sources,
        max_connections = shared.max_connections(),
        "Router listening."
    );

    for feed in shared.pipeline().feeds() {
        shared.follow_feed(feed.spec.id.clone());
    }
    systemd::ready(&format!("Serving {} sources on {addr}.", sources.len()));
    let stopping = shutdown.clone();
    tokio::spawn(async move {
        stopping.cancelled().await;
        systemd::stopping();
    });
    ingest::serve(listener, shared.clone(), shutdown).await?;
    // Give queued deliveries a moment (a clean stop usually leaves nothing behind); whatever
    // is still waiting stays in the outbox and goes out after the next start.
    // In cluster mode nothing is drained: what this router did not deliver, the others do.
    let _ = tokio::time::timeout(SINK_DRAIN_DEADLINE, shared.delivery().drain()).await;
    shared.stop_delivery().await;
    Ok(())
}

/// SIGHUP asks for a reload, like an edited file. The handler is registered before this
/// returns (an unhandled SIGHUP would terminate the process); the loop runs in a task.
fn hangups(reloads: tokio::sync::mpsc::Sender<reload::ReloadRequest>, shutdown: Shutdown) {
    #[cfg(unix)]
    {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
            tracing::warn!("Cannot handle SIGHUP; reload with POST /admin/reload.");
            return;
        };
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    s = hup.recv() => if s.is_none() { return },
                }
                tracing::info!("SIGHUP: reloading.");
                // `systemctl reload` (ExecReload=kill -HUP) learns when the reload is over:
                // RELOADING now, READY once the controller answers, whatever the outcome.
                systemd::reloading();
                let (reply, outcome) = tokio::sync::oneshot::channel();
                let request = reload::ReloadRequest {
                    trigger: reload::Trigger::Signal,
                    plugin: None,
                    reply: Some(reply),
                };
                if reloads.send(request).await.is_err() {
                    return;
                }
                let status = match outcome.await {
                    Ok(o) => match &o.reason {
                        Some(reason) => format!("Reload {}: {reason}", o.outcome),
                        None => format!("Reload {}.", o.outcome),
                    },
                    Err(_) => "Reload not answered.".to_string(),
                };
                systemd::ready(&status);
            }
        });
    }
    #[cfg(not(unix))]
    {
        let _ = (reloads, shutdown);
    }
}
