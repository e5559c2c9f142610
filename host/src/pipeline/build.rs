//! `build`: the I/O half of loading a config — plugins read and compiled (on blocking threads,
//! all at once, every failure reported), secrets resolved, sinks opened.

use super::Pipeline;
use crate::blobs::BlobStore;
use crate::config::{AuthSpec, RouterSpec, SourceSpec};
use crate::plugin::{Plugin, Runtime};
use crate::quarantine::Quarantine;
use crate::sink::Sink;
use std::collections::HashMap;
use std::sync::Arc;

/// A source's resolved authentication.
#[derive(Clone)]
pub enum Auth {
    /// Open.
    None,
    /// HTTP Basic with these credentials.
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: String,
    },
    /// Bearer token.
    Bearer {
        /// Token.
        token: String,
    },
    /// The secret is not available; every request is refused with 503 and this reason.
    Unavailable {
        /// Why (names the variable or file, never a value).
        reason: String,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets.
        match self {
            Auth::None => f.write_str("None"),
            Auth::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            Auth::Bearer { .. } => f.write_str("Bearer(***)"),
            Auth::Unavailable { reason } => write!(f, "Unavailable({reason})"),
        }
    }
}

/// A source with its plugin chain.
#[derive(Debug)]
pub struct Source {
    /// Its spec.
    pub spec: SourceSpec,
    /// Resolved authentication.
    pub auth: Auth,
    pub(crate) normalizer: Arc<Plugin>,
    /// Its door decisions, when it names a `decider`.
    pub(crate) decider: Option<Decider>,
    pub(crate) filters: Vec<Arc<Plugin>>,
    pub(crate) transforms: Vec<Arc<Plugin>>,
}

/// A source's decider, ready to call.
#[derive(Debug, Clone)]
pub(crate) struct Decider {
    pub(crate) plugin: Arc<Plugin>,
    pub(crate) spec: crate::config::DecisionSpec,
    /// `spec.time_zone`, looked up once.
    pub(crate) zone: jiff::tz::TimeZone,
}

/// Why `source` cannot have its decider: its normalizer does not render rulings (the build
/// and `switchyard check` say the same).
pub(crate) fn cannot_answer(source: &SourceSpec, decision: &crate::config::DecisionSpec) -> String {
    format!(
        "source `{}` names decider `{}`, but its normalizer `{}` does not export \
         `router:plugin/answer-api` (world `access-normalizer`), so it cannot put a ruling into its reply",
        source.id, decision.decider, source.normalizer
    )
}

/// Loads a decider's roster now (a broken one fails the build, so a reload keeps the old).
fn plugin_roster(
    plugin: &crate::config::PluginSpec,
) -> Result<Option<Arc<crate::decision::Roster>>, crate::plugin::Error> {
    let Some(roster) = &plugin.roster else {
        return Ok(None);
    };
    crate::decision::Roster::load(&roster.path, &roster.key)
        .map(|r| Some(Arc::new(r)))
        .map_err(|e| crate::plugin::Error::Load {
            plugin: plugin.id.clone(),
            path: roster.path.display().to_string(),
            reason: format!("{e:#}"),
        })
}

/// A plugin's secrets, read now; a missing one is logged and left for the plugin to report.
pub(crate) fn plugin_secrets(plugin: &crate::config::PluginSpec) -> crate::plugin::Secrets {
    plugin
        .secrets
        .iter()
        .map(|(name, secret)| {
            let value = secret.read().map(String::into_bytes);
            if let Err(reason) = &value {
                tracing::warn!(plugin = %plugin.id, secret = %name, %reason, "Plugin secret unavailable; requests that need it will be refused.");
            }
            (name.clone(), value)
        })
        .collect()
}

fn resolve_auth(source: &SourceSpec) -> Auth {
    let resolved = match &source.auth {
        AuthSpec::None => Ok(Auth::None),
        AuthSpec::Basic { username, password } => password.read().map(|password| Auth::Basic {
            username: username.clone(),
            password,
        }),
        AuthSpec::Bearer { token } => token.read().map(|token| Auth::Bearer { token }),
    };
    resolved.unwrap_or_else(|reason| {
        tracing::warn!(source = %source.id, %reason, "Source secret unavailable; its requests will be refused with 503 until it is set.");
        Auth::Unavailable { reason: format!("source `{}` is not configured: {reason}", source.id) }
    })
}

/// Loads every plugin of `spec` at once (on blocking threads) and proves each one
/// ([`prove_plugin`]); returns the loaded ones and one message per broken one. Shared by the
/// build and `switchyard check`, so both report the same problems in the same words.
pub(crate) async fn load_plugins(spec: &RouterSpec, runtime: &Runtime) -> (HashMap<String, Arc<Plugin>>, Vec<String>) {
    let loads = spec.plugins.iter().map(|p| {
        let runtime = runtime.clone();
        let mut p = p.clone();
        let config = spec.config_path.clone();
        let data_dir = spec.server.data_dir.clone();
        tokio::spawn(async move {
            if let Some(reference) = &p.source {
                // From the data dir's cache when it is there, else pulled and verified.
                p.path = crate::oci::fetch(reference, &data_dir).await.map_err(|e| {
                    format!(
                        "cannot load plugin `{}` from {reference}: {}\n{}",
                        p.id,
                        crate::telemetry::one_line(&format!("{e:#}")),
                        configured_at(&config, &p)
                    )
                })?;
            }
            let loaded = tokio::task::spawn_blocking({
                let p = p.clone();
                move || {
                    let provisions = crate::plugin::Provisions {
                        secrets: plugin_secrets(&p),
                        roster: plugin_roster(&p)?,
                        signature: p.signature.clone(),
                    };
                    if let Some(why) = router_plugin_kit::manifest::drifted(&p.path) {
                        tracing::warn!(plugin = %p.id, path = %p.path.display(), "The plugin is older than its sources ({why}); run `switchyard plugin build` in its project.");
                    }
                    runtime.load_with(&p.id, &p.path, p.kind, p.limits, &p.settings, provisions)
                }
            })
            .await
            .map_err(|join| format!("plugin loader panicked: {join}"))?;
            let plugin = Arc::new(loaded.map_err(|e| explain_load(&config, &p, e))?);
            prove_plugin(&config, &p, &plugin).await?;
            Ok::<_, String>(plugin)
        })
    });
    let mut plugins = HashMap::new();
    let mut errors = Vec::new();
    for load in futures_join(loads).await {
        match load {
            Ok(Ok(plugin)) => {
                plugins.insert(plugin.id().to_string(), plugin);
            }
            Ok(Err(e)) => errors.push(e),
            Err(join) => errors.push(format!("plugin loader panicked: {join}")),
        }
    }
    (plugins, errors)
}

/// `--> router.toml:N`: where plugin `p` is configured (the line of its `path`).
fn configured_at(config: &std::path::Path, p: &crate::config::PluginSpec) -> String {
    format!("  --> {}:{}", config.display(), p.path_line)
}

/// A load error with where the plugin is configured and, for a missing file, how to make it.
fn explain_load(config: &std::path::Path, p: &crate::config::PluginSpec, e: crate::plugin::Error) -> String {
    if let crate::plugin::Error::SettingsSchema { plugin, problems } = &e {
        // One message per setting, each at its own line of the config.
        return problems
            .iter()
            .map(|problem| {
                let key = problem.key.as_deref();
                let line = p.settings_lines.of(key);
                let (line, what) = match (line, key) {
                    (0, _) => (p.path_line, format!("plugin `{plugin}`")),
                    (_, Some(key)) if p.settings_lines.keys.contains_key(key) => {
                        (line, format!("`{key}` in the settings of `[plugins.{plugin}]`"))
                    }
                    _ => (line, format!("the settings of `[plugins.{plugin}]`")),
                };
                format!(
                    "plugin `{plugin}` has invalid settings: {problem}\n  --> {}:{line} ({what})",
                    config.display()
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
    }
    let at = configured_at(config, p);
    if crate::plugin::builtin::name_of(&p.path).is_none() && !p.path.exists() {
        return format!(
            "{e}\n{at} (`path` of plugin `{}`)\n  = help: build it first: `cargo xtask plugins` builds this \
             repository's plugins into target/plugins/, `switchyard plugin build` builds a plugin project made by \
             `switchyard plugin new`",
            p.id
        );
    }
    format!("{e}\n{at}")
}

/// Proves a loaded plugin before it serves: one instance (its imports link and its exports
/// have this router's types) and its own settings check (`setup-api.validate-settings`, WIT
/// 0.1.2). A plugin that fails here would fail every request.
async fn prove_plugin(
    config: &std::path::Path,
    p: &crate::config::PluginSpec,
    plugin: &Arc<Plugin>,
) -> Result<(), String> {
    let at = configured_at(config, p);
    match plugin.probe().await {
        Ok(_) => Ok(()),
        Err(e @ crate::plugin::Error::BadSettings { .. }) => {
            // At the settings table when it is written, else at the plugin's `path`.
            let at = match p.settings_lines.table {
                0 => at,
                line => format!("  --> {}:{line}", config.display()),
            };
            Err(format!("{e}\n{at} (the `settings` of `[plugins.{}]`)", p.id))
        }
        Err(e) => Err(format!("{e}\n{at}")),
    }
}

/// Builds a pipeline. Every plugin is loaded even after a failure, so the error lists all
/// broken plugins at once.
pub async fn build(spec: RouterSpec, runtime: &Runtime) -> anyhow::Result<Pipeline> {
    build_with(spec, runtime, None).await
}

/// Like [`build`], carrying over state that must survive a reload from `previous`: the dedup
/// table (when its settings did not change), so a retry that straddles a reload is still
/// recognised.
pub async fn build_with(spec: RouterSpec, runtime: &Runtime, previous: Option<&Pipeline>) -> anyhow::Result<Pipeline> {
    let (plugins, errors) = load_plugins(&spec, runtime).await;
    if !errors.is_empty() {
        anyhow::bail!("{}", errors.join("\n"));
    }
    let mut sinks = HashMap::new();
    for s in &spec.sinks {
        sinks.insert(s.id.clone(), Arc::new(Sink::build(s)?));
    }
    let (queue, cluster) = super::queue::open(&spec, previous).await?;
    let get = |id: &String| {
        plugins
            .get(id)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("plugin `{id}` was not loaded"))
    };
    let mut sources = HashMap::new();
    let mut feeds = Vec::new();
    for s in &spec.sources {
        let normalizer = get(&s.normalizer)?;
        let decider = match &s.decision {
            None => None,
            Some(d) => {
                if !normalizer.answers() {
                    anyhow::bail!("{}", cannot_answer(s, d));
                }
                Some(Decider {
                    plugin: get(&d.decider)?,
                    zone: jiff::tz::TimeZone::get(&d.time_zone)
                        .map_err(|e| anyhow::anyhow!("source `{}`: time zone `{}`: {e}", s.id, d.time_zone))?,
                    spec: d.clone(),
                })
            }
        };
        let source = Source {
            auth: resolve_auth(s),
            normalizer,
            decider,
            filters: s.filters.iter().map(get).collect::<anyhow::Result<_>>()?,
            transforms: s.transforms.iter().map(get).collect::<anyhow::Result<_>>()?,
            spec: s.clone(),
        };
        match s.kind.path() {
            Some(path) => {
                sources.insert(path.to_string(), Arc::new(source));
            }
            None => feeds.push(Arc::new(source)),
        }
    }
    let same_dedup = previous.filter(|p| {
        p.spec.server.dedup_window_secs == spec.server.dedup_window_secs
            && p.spec.server.dedup_max_keys == spec.server.dedup_max_keys
    });
    let dedup = match same_dedup {
        Some(p) => p.dedup.clone(),
        None => Arc::new(crate::dedup::Dedup::new(
            std::time::Duration::from_secs(spec.server.dedup_window_secs),
            spec.server.dedup_max_keys,
        )),
    };
    // The quarantine's ledger and the disk budget's state belong to the data dir, like the
    // outbox: a reload keeps them and applies the new limits.
    let same_dir = previous.filter(|p| p.spec.server.data_dir == spec.server.data_dir);
    let quarantine = match same_dir {
        Some(p) => p.quarantine.with_limits(spec.server.quarantine),
        None => {
            let (data_dir, limits) = (spec.server.data_dir.clone(), spec.server.quarantine);
            tokio::task::spawn_blocking(move || {
                crate::datadir::remove_stale_temp_files(&data_dir);
                Quarantine::open(&data_dir, limits)
            })
            .await??
        }
    };
    let disk = match same_dir {
        Some(p) => {
            p.disk.configure(spec.server.min_free_bytes, storage_dirs(&spec));
            p.disk.clone()
        }
        None => Arc::new(crate::disk::DiskBudget::new(
            spec.server.min_free_bytes,
            storage_dirs(&spec),
        )),
    };
    Ok(Pipeline {
        plugins,
        dedup,
        queue,
        cluster,
        disk,
        quarantine,
        blobs: BlobStore::new(&spec.server.data_dir),
        spec,
        sources,
        feeds,
        sinks,
    })
}

/// Every directory the router writes to: the data dir and each file sink's.
fn storage_dirs(spec: &RouterSpec) -> Vec<std::path::PathBuf> {
    let mut dirs = vec![spec.server.data_dir.clone()];
    for sink in &spec.sinks {
        if let crate::config::SinkKind::File { path } = &sink.kind
            && let Some(dir) = path.parent()
        {
            dirs.push(dir.to_path_buf());
        }
    }
    dirs
}

/// Awaits every handle (in order) without an extra dependency.
async fn futures_join<T>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<Result<T, tokio::task::JoinError>> {
    let handles: Vec<_> = handles.collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await);
    }
    out
}
