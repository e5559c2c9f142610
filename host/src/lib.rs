//! switchyard: a WebAssembly-pluggable event router.
//!
//! Vendor systems (face recognition, access terminals, attendance) push events over HTTP, or
//! the router follows their websocket feeds and NATS subjects. Each request enters through a
//! **source** (`ingest`, the HTTP edge), is turned into normalized `router.event/v1` records by
//! a **normalizer plugin**, may get a **door decision** from a decider plugin (`decision`),
//! passes the source's **filter** and **transform** plugins, and is delivered by **routes** to
//! **sinks** (`sink`: file, NATS, webhook). Webhook events are committed to the **durable
//! queue** (`queue`: the embedded SQLite `outbox`, or JetStream shared by several routers in
//! `cluster` mode) before the sender is answered, then delivered with retries; what fails for
//! good becomes a dead letter. Plugins are WebAssembly components defined by the WIT package in
//! `wit/` and run in `plugin` with a CPU deadline and memory cap each. `config` reads
//! router.toml strictly; `pipeline` builds an immutable snapshot from it; `router` is the
//! running router that `reload` swaps snapshots into; `admin` is the operator console and API;
//! `cli` the command line (run, check, replay, dlq, publish, the plugin kit). Anything that
//! cannot be processed is kept in the `quarantine`. AGENTS.md maps the rooms and what each may
//! import.

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
pub mod oci;
pub mod outbox;
pub mod pipeline;
pub mod plugin;
pub mod quarantine;
pub mod queue;
pub mod reload;
pub mod router;
pub mod shutdown;
pub mod sink;
pub mod systemd;
pub mod telemetry;
pub mod tls;

use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub use shutdown::Shutdown;

/// How long queued deliveries get to finish at shutdown before they are left in the queue.
const SINK_DRAIN_DEADLINE: Duration = Duration::from_secs(10);

/// How `run` behaves beyond the config file.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Watch router.toml and its plugins and reload on change.
    pub watch: bool,
    /// Running a config published to a cluster: this node's own config, whose node settings
    /// every load of the published one takes (see [`config::RouterSpec::for_node`]).
    pub node: Option<config::RouterSpec>,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            watch: true,
            node: None,
        }
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
        .map(|s| format!("{} → {}", s.kind.endpoint(), s.id))
        .collect();
    let config_path = pipeline.spec().config_path.clone();
    let config_text = std::fs::read_to_string(&config_path).unwrap_or_default();
    let console = Arc::new(admin::Console::new(config_text));

    // Hot reload: one controller task; the file watcher, SIGHUP and /admin/reload feed it.
    let (reloads, requests) = tokio::sync::mpsc::channel(16);
    let router = Arc::new(router::Router::new(
        pipeline,
        console.clone(),
        reloads.clone(),
        shutdown.clone(),
    ));
    router.queue().report_backlog(&router.pipeline().webhooks()).await;
    let controller = reload::Controller::new(
        config_path.clone(),
        runtime.clone(),
        router.clone(),
        options.node.clone(),
    );
    tokio::spawn(controller.run(requests));
    let _watcher = if options.watch {
        match reload::Watcher::start(config_path, router.clone(), reloads.clone()) {
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

    let edge = Arc::new(ingest::Edge::new(router.clone()));
    let admin = Arc::new(admin::Admin {
        router: router.clone(),
        edge: edge.clone(),
        console: console.clone(),
    });
    edge.serve_operator(admin::operator(admin.clone()));
    let listener_of_console = admin::bind(&router.pipeline().spec().admin).await?;
    let console_addr = listener_of_console.as_ref().and_then(|l| l.local_addr().ok());
    if let Some(listener) = listener_of_console {
        if let Some(a) = console_addr {
            let _ = console.address.set(a);
        }
        tokio::spawn(admin::serve(listener, admin.clone(), shutdown.clone()));
    }
    tokio::spawn(admin::sampler(admin.clone(), shutdown.clone()));
    if router.pipeline().cluster().is_some() {
        tokio::spawn(router::report_to_cluster(router.clone(), shutdown.clone()));
    }
    let admin_spec = router.pipeline().spec().admin.clone();
    if admin_spec.expects_token() && admin_spec.token().is_none() {
        tracing::warn!(
            "The admin token (`admin.token_env` / `admin.token_file`) is not set or empty: only loopback peers and `[admin] allow` reach the console, /metrics and /admin."
        );
    }
    // Logged once everything that reacts to changes is in place.
    tracing::info!(
        %addr,
        console = %console_addr.map_or_else(|| "off".to_string(), |a| format!("http://{a}/ui")),
        sources = ?sources,
        max_connections = edge.max_connections(),
        "Router listening."
    );

    // The edge follows the pipeline's feeds from now on, and every reload's.
    tokio::spawn(ingest::follow_swaps(edge.clone(), shutdown.clone()));
    systemd::ready(&format!("Serving {} sources on {addr}.", sources.len()));
    let stopping = shutdown.clone();
    tokio::spawn(async move {
        stopping.cancelled().await;
        systemd::stopping();
    });
    ingest::serve(listener, edge, shutdown).await?;
    // Give queued deliveries a moment (a clean stop usually leaves nothing behind); whatever
    // is still waiting stays in the queue and goes out after the next start (in cluster
    // mode, from the other routers).
    let _ = tokio::time::timeout(SINK_DRAIN_DEADLINE, router.queue().drain()).await;
    router.queue().stop().await;
    Ok(())
}

/// SIGHUP asks for a reload, like an edited file. The handler is registered before this
/// returns (an unhandled SIGHUP would terminate the process); the loop runs in a task.
fn hangups(reloads: tokio::sync::mpsc::Sender<router::ReloadRequest>, shutdown: Shutdown) {
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
                let request = router::ReloadRequest {
                    trigger: router::Trigger::Signal,
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
