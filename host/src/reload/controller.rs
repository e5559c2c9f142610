//! The reload controller: one task, so reloads never overlap.

use crate::config::RouterSpec;
use crate::pipeline::{Pipeline, build_with};
use crate::plugin::Plugin;
use crate::plugin::Runtime;
use crate::router::{Outcome, ReloadRequest, Router, Trigger};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::mpsc;

/// Loads, builds, self-tests and swaps pipelines.
pub struct Controller {
    config_path: PathBuf,
    runtime: Runtime,
    router: Arc<Router>,
    /// `run --from-cluster`: this node's own config, whose node settings every published
    /// config takes (see `RouterSpec::for_node`).
    node: Option<RouterSpec>,
    /// Per plugin id, the version that was live before the current one (its last good).
    last_good: Mutex<HashMap<String, Arc<Plugin>>>,
    /// (plugin id, sha256) of versions taken back: reloading the same broken file again
    /// would only repeat the failure, so it is refused until the file changes.
    rolled_back: Mutex<HashSet<(String, String)>>,
}

/// sha256 of a file's bytes (a plugin), if it can be read.
pub(crate) fn file_digest(path: &Path) -> Option<String> {
    crate::plugin::builtin::read(path)
        .ok()
        .map(|b| crate::digest::sha256(&b))
}

impl Controller {
    /// A controller for `router`, reading `config_path`.
    pub fn new(config_path: PathBuf, runtime: Runtime, router: Arc<Router>, node: Option<RouterSpec>) -> Controller {
        Controller {
            config_path,
            runtime,
            router,
            node,
            last_good: Mutex::new(HashMap::new()),
            rolled_back: Mutex::new(HashSet::new()),
        }
    }

    /// Serves reload requests until the channel closes.
    pub async fn run(self, mut requests: mpsc::Receiver<ReloadRequest>) {
        while let Some(request) = requests.recv().await {
            let outcome = match (request.trigger, &request.plugin) {
                (Trigger::Rollback, Some(id)) => self.rollback(id),
                (trigger, _) => self.reload(trigger).await,
            };
            if let Some(reply) = request.reply {
                let _ = reply.send(outcome);
            }
        }
    }

    /// One reload attempt, reported in logs, metrics and the status.
    pub async fn reload(&self, trigger: Trigger) -> Outcome {
        let started = Instant::now();
        let text = std::fs::read(&self.config_path);
        let digest = text.as_ref().ok().map(|t| crate::digest::sha256(t));
        let tried = text.as_ref().ok().map(|t| String::from_utf8_lossy(t).into_owned());
        let result = match text {
            Err(e) => Err(format!("cannot read {}: {e}", self.config_path.display())),
            Ok(_) => self.try_reload(digest.as_deref().unwrap_or_default()).await,
        };
        let (outcome, reason) = match result {
            Ok(true) => ("applied", None),
            Ok(false) => ("unchanged", None),
            Err(reason) => ("rejected", Some(reason)),
        };
        let report = Outcome {
            outcome,
            reason,
            trigger,
            at: crate::clock::now_rfc3339(),
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
            config_sha256: digest.clone(),
        };
        match outcome {
            "applied" => tracing::info!(?trigger, duration_ms = report.duration_ms, "Reload applied."),
            "unchanged" => tracing::debug!(?trigger, "Reload found nothing changed."),
            _ => tracing::error!(
                ?trigger,
                reason = report.reason.as_deref().unwrap_or(""),
                "Reload rejected; the running configuration keeps serving."
            ),
        }
        self.router.metrics().reload(outcome);
        if outcome != "unchanged" {
            self.router.observer().reloaded(&report, tried);
        }
        self.router.update_status(|s| {
            if outcome == "applied"
                && let Some(d) = &digest
            {
                s.config_sha256 = d.clone();
            }
            s.last_reload = Some(report.clone());
        });
        report
    }

    /// Ok(true) when a new pipeline went live, Ok(false) when nothing changed.
    async fn try_reload(&self, digest: &str) -> Result<bool, String> {
        let current = self.router.pipeline();
        if digest == self.router.status().config_sha256 && plugins_unchanged(&current) {
            return Ok(false);
        }
        let mut spec = crate::config::load(&self.config_path).map_err(|e| e.to_string())?;
        if let Some(node) = &self.node {
            spec = spec.for_node(node);
        }
        let server = &current.spec().server;
        let mut fixed = Vec::new();
        if spec.server.listen != server.listen {
            fixed.push("server.listen");
        }
        if spec.server.data_dir != server.data_dir {
            fixed.push("server.data_dir");
        }
        if spec.server.max_in_flight != server.max_in_flight {
            fixed.push("server.max_in_flight");
        }
        // The console keeps the listener it started with (`:0` stays whatever port it got).
        if spec.admin.listen != current.spec().admin.listen {
            fixed.push("admin.listen");
        }
        // The workers and the connection belong to the cluster the router joined at start.
        if spec.cluster != current.spec().cluster {
            fixed.push("cluster");
        }
        if !fixed.is_empty() {
            return Err(format!(
                "{} cannot change while the router runs; restart to apply",
                fixed.join(", ")
            ));
        }
        {
            let refused = lock(&self.rolled_back);
            for plugin in &spec.plugins {
                let sha = file_digest(&plugin.path).unwrap_or_default();
                if refused.contains(&(plugin.id.clone(), sha.clone())) {
                    return Err(format!(
                        "plugin `{}` version {} was rolled back after failing; change the file to deploy a new version",
                        plugin.id,
                        &sha[..12.min(sha.len())]
                    ));
                }
            }
        }
        let next = build_with(spec, &self.runtime, Some(&current))
            .await
            .map_err(|e| format!("{e:#}"))?;
        let samples = crate::reload::self_test(&next)
            .await
            .map_err(|e| format!("self-test failed: {e:#}"))?;
        // Feeds to start: new ids, and ids whose kind changed (websocket ↔ NATS; the old
        // follower ends by itself when it finds its kind gone).
        tracing::debug!(samples, "Self-test passed.");
        {
            // The versions being replaced become the last good ones of their ids.
            let mut last_good = lock(&self.last_good);
            for plugin in next.plugins() {
                if let Some(old) = current.plugin(plugin.id())
                    && old.sha256() != plugin.sha256()
                {
                    last_good.insert(plugin.id().to_string(), old.clone());
                }
            }
        }
        // The edge follows the swap: it starts the feeds this config added.
        self.router.swap(next);
        Ok(true)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Controller {
    /// Takes plugin `id` back to its last good version, if it still breaks its policy.
    fn rollback(&self, id: &str) -> Outcome {
        let started = Instant::now();
        let current = self.router.pipeline();
        let report = |outcome: &'static str, reason: String| Outcome {
            outcome,
            reason: Some(reason),
            trigger: Trigger::Rollback,
            at: crate::clock::now_rfc3339(),
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
            config_sha256: None,
        };
        let Some(bad) = current.plugin(id).cloned() else {
            return report("unchanged", format!("plugin `{id}` is no longer loaded"));
        };
        let Some(good) = lock(&self.last_good).get(id).cloned() else {
            tracing::error!(
                plugin = id,
                "Plugin keeps failing but has no earlier version to roll back to."
            );
            return report(
                "rejected",
                format!("plugin `{id}` has no earlier version to roll back to"),
            );
        };
        let (calls, faults) = bad.health().counts();
        self.router.swap(current.with_plugin(id, good.clone()));
        lock(&self.rolled_back).insert((id.to_string(), bad.sha256().to_string()));
        self.router.metrics().rollback();
        self.router.observer().rolled_back(id);
        let reason = format!(
            "plugin `{id}` version {} faulted on {faults} of {calls} calls; rolled back to {}",
            &bad.sha256()[..12],
            &good.sha256()[..12]
        );
        tracing::error!(
            plugin = id,
            faults,
            calls,
            "Plugin version rolled back to its last good version."
        );
        let outcome = report("rolled_back", reason);
        self.router.observer().reloaded(&outcome, None);
        self.router.update_status(|s| s.last_reload = Some(outcome.clone()));
        outcome
    }
}

/// Whether every plugin file still has the content the pipeline loaded.
/// Every plugin file, and every decider's roster, is as it was loaded.
fn plugins_unchanged(pipeline: &Pipeline) -> bool {
    pipeline.plugins().iter().all(|p| {
        file_digest(p.path()).as_deref() == Some(p.sha256())
            && p.roster()
                .is_none_or(|r| file_digest(r.path()).as_deref() == Some(r.sha256()))
    })
}
