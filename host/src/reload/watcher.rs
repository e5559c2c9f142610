//! Watches router.toml and the plugin (and roster) files it references. Editors and build tools replace
//! files by rename, so the *directories* are watched and events filtered by file name; the
//! watch list is refreshed after every batch (a reload may reference new plugins). Changes are
//! debounced, then sent as one reload request: the watcher never reloads anything itself.

use crate::router::Router;
use crate::router::{ReloadRequest, Trigger};
use notify::{RecursiveMode, Watcher as _};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Quiet time after the last change before a reload is requested: a build writing several
/// plugins, or an editor's write-then-rename, becomes one reload.
const DEBOUNCE: Duration = Duration::from_millis(400);

/// The running watcher; dropping it stops the thread.
pub struct Watcher {
    _stop: std::sync::mpsc::Sender<()>,
}

fn watched_files(config: &Path, router: &Router) -> BTreeSet<PathBuf> {
    let mut files: BTreeSet<PathBuf> = router
        .pipeline()
        .plugins()
        .iter()
        .map(|p| p.path().to_path_buf())
        // A built-in plugin changes only with the binary.
        .filter(|p| crate::plugin::builtin::name_of(p).is_none())
        .collect();
    files.insert(config.to_path_buf());
    for plugin in &router.pipeline().spec().plugins {
        if let Some(roster) = &plugin.roster {
            files.insert(roster.path.clone());
        }
    }
    for source in &router.pipeline().spec().sources {
        for sample in &source.samples {
            files.insert(sample.request.clone());
            files.extend(sample.expect.clone());
        }
    }
    files
}

/// `canonicalize` when possible, so events name files the same way the config does.
fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Points the notify watcher at the directories of every file that matters; returns the files.
fn sync(
    watcher: &mut notify::RecommendedWatcher,
    dirs: &mut BTreeSet<PathBuf>,
    config: &Path,
    router: &Router,
) -> BTreeSet<PathBuf> {
    let wanted: BTreeSet<PathBuf> = watched_files(config, router).iter().map(|f| canonical(f)).collect();
    let wanted_dirs: BTreeSet<PathBuf> = wanted
        .iter()
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .collect();
    for dir in wanted_dirs.difference(dirs) {
        if let Err(e) = watcher.watch(dir, RecursiveMode::NonRecursive) {
            tracing::warn!(dir = %dir.display(), error = %e, "Cannot watch directory; edits there need SIGHUP or /admin/reload.");
        }
    }
    for dir in dirs.difference(&wanted_dirs) {
        let _ = watcher.unwatch(dir);
    }
    *dirs = wanted_dirs;
    wanted
}

impl Watcher {
    /// Starts watching; requests go to `requests`. The watches are in place when this returns,
    /// and a change made between loading the config and now is caught by an initial check.
    pub fn start(
        config: PathBuf,
        router: Arc<Router>,
        requests: mpsc::Sender<ReloadRequest>,
    ) -> anyhow::Result<Watcher> {
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let (event_tx, event_rx) = std::sync::mpsc::channel::<notify::Result<notify::Event>>();
        let mut watcher = notify::recommended_watcher(event_tx)?;
        let mut dirs = BTreeSet::new();
        let mut files = sync(&mut watcher, &mut dirs, &config, &router);
        // Edited while the pipeline was being built? Then reload right away.
        let mut changed = crate::digest::file_sha256(&config).is_some_and(|d| d != router.status().config_sha256)
            || router
                .pipeline()
                .plugins()
                .iter()
                .any(|p| crate::reload::controller::file_digest(p.path()).as_deref() != Some(p.sha256()));
        std::thread::Builder::new()
            .name("switchyard-watch".into())
            .spawn(move || {
                loop {
                    // Wait for a relevant change, then for quiet.
                    let relevant = |event: &notify::Event| {
                        !matches!(event.kind, notify::EventKind::Access(_))
                            && event.paths.iter().any(|p| {
                                files.contains(&canonical(p))
                                    || files
                                        .iter()
                                        .any(|f| f.file_name() == p.file_name() && f.parent() == p.parent())
                            })
                    };
                    // The quiet period counts from the last *relevant* event: the watched
                    // directories also hold files nobody asked about (a data dir's WAL, a build's
                    // other outputs) whose steady writes must not postpone the reload forever.
                    let mut quiet_from = changed.then(Instant::now);
                    loop {
                        // Dropping the `Watcher` closes the channel: stop.
                        if !matches!(stop_rx.try_recv(), Err(std::sync::mpsc::TryRecvError::Empty)) {
                            return;
                        }
                        let timeout = match quiet_from {
                            Some(at) => match DEBOUNCE.checked_sub(at.elapsed()) {
                                Some(left) if !left.is_zero() => left,
                                _ => break,
                            },
                            None => Duration::from_millis(250),
                        };
                        match event_rx.recv_timeout(timeout) {
                            Ok(Ok(event)) if relevant(&event) => quiet_from = Some(Instant::now()),
                            Ok(_) | Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                        }
                    }
                    changed = false;
                    let (reply, done) = tokio::sync::oneshot::channel();
                    let request = ReloadRequest {
                        trigger: Trigger::Watcher,
                        plugin: None,
                        reply: Some(reply),
                    };
                    if requests.blocking_send(request).is_err() {
                        return;
                    }
                    // Wait for this reload before re-syncing the watch list against its result.
                    let _ = done.blocking_recv();
                    files = sync(&mut watcher, &mut dirs, &config, &router);
                }
            })?;
        Ok(Watcher { _stop: stop_tx })
    }
}
