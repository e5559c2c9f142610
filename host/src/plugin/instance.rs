//! One loaded plugin: its `InstancePre`, limits and idle warm instances, and the entry points
//! the pipeline calls (one stage of a request on the plugin threads). A call's instance is a
//! [`Session`].

use super::bindings::{answer_api, decide_api, filter_api, normalize_api, setup_api, transform_api};
use super::error::Error;
use super::session::{Guest, Session};
use super::state::{Identity, PluginState, Provisions};
use super::types::{Filtered, Normalized, PluginKind, PluginLimits, Reply, Request, Ruling, Verdict};
use crate::event::Event;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wasmtime::component::InstancePre;
use wasmtime::{Engine, Store};

/// Idle warm instances kept per plugin.
pub(super) const MAX_WARM_IDLE: usize = 8;

pub(super) enum Exports {
    /// A normalizer, and its `answer-api` when it exports one (world `access-normalizer`).
    Normalize(normalize_api::GuestIndices, Option<answer_api::GuestIndices>),
    Filter(filter_api::GuestIndices),
    Transform(transform_api::GuestIndices),
    Decide(decide_api::GuestIndices),
}

/// A loaded, linked plugin. Cheap to share (`Arc` it); instantiated per request.
pub struct Plugin {
    pub(super) identity: Arc<Identity>,
    pub(super) kind: PluginKind,
    path: PathBuf,
    sha256: String,
    pub(super) limits: PluginLimits,
    pub(super) pre: InstancePre<PluginState>,
    pub(super) exports: Exports,
    /// `setup-api`, when the guest exports it (0.1.2 and later).
    pub(super) setup: Option<setup_api::GuestIndices>,
    pub(super) engine: Engine,
    /// Call statistics of this plugin id (shared with its earlier and later versions).
    pub(super) stats: Arc<super::stats::Stats>,
    pub(super) health: Arc<super::health::Health>,
    /// Idle instances for `Reuse::Warm`.
    pub(super) warm: std::sync::Mutex<Vec<Live>>,
}

/// A live instance: its store and its export.
pub(super) struct Live {
    pub(super) store: Store<PluginState>,
    pub(super) guest: Guest,
    pub(super) setup: Option<setup_api::Guest>,
    /// Requests it has served.
    pub(super) uses: u32,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("id", &self.identity.id)
            .field("kind", &self.kind)
            .field("sha256", &self.sha256)
            .finish()
    }
}

impl Plugin {
    #[expect(
        clippy::too_many_arguments,
        reason = "internal constructor called from Runtime::load only"
    )]
    pub(crate) fn new(
        id: &str,
        path: &Path,
        kind: PluginKind,
        limits: PluginLimits,
        settings: &serde_json::Value,
        provisions: Provisions,
        sha256: String,
        pre: InstancePre<PluginState>,
        engine: Engine,
        stats: Arc<super::stats::Stats>,
    ) -> Result<Plugin, Error> {
        let missing = |e: wasmtime::Error| Error::Load {
            plugin: id.to_string(),
            path: path.display().to_string(),
            reason: format!(
                "it does not export `{}`, so it is not a {} plugin ({e})",
                kind.interface(),
                kind.as_str()
            ),
        };
        let exports = match kind {
            PluginKind::Normalizer => Exports::Normalize(
                normalize_api::GuestIndices::new(&pre).map_err(missing)?,
                answer_api::GuestIndices::new(&pre).ok(),
            ),
            PluginKind::Filter => Exports::Filter(filter_api::GuestIndices::new(&pre).map_err(missing)?),
            PluginKind::Transform => Exports::Transform(transform_api::GuestIndices::new(&pre).map_err(missing)?),
            PluginKind::Decider => Exports::Decide(decide_api::GuestIndices::new(&pre).map_err(missing)?),
        };
        let identity = Arc::new(Identity {
            id: id.to_string(),
            settings: settings.to_string(),
            secrets: provisions.secrets,
            roster: provisions.roster,
        });
        Ok(Plugin {
            setup: setup_api::GuestIndices::new(&pre).ok(),
            stats,
            health: Arc::default(),
            identity,
            kind,
            path: path.to_path_buf(),
            sha256,
            limits,
            pre,
            exports,
            engine,
            warm: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// The plugin id from router.toml.
    pub fn id(&self) -> &str {
        &self.identity.id
    }

    /// Its kind.
    pub fn kind(&self) -> PluginKind {
        self.kind
    }

    /// The .wasm file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How this loaded version has behaved.
    pub fn health(&self) -> &super::health::Health {
        &self.health
    }

    /// Its call statistics (`/metrics`).
    pub fn stats(&self) -> &super::stats::Stats {
        &self.stats
    }

    /// Whether it exports `setup-api` (built against `router:plugin` 0.1.2 or later).
    pub fn validates_settings(&self) -> bool {
        self.setup.is_some()
    }

    /// Proves the plugin works before it serves: instantiates it once in a fresh store (its
    /// imports link, its exports have this host's types) and has it check its settings
    /// (`setup-api.validate-settings`). Returns whether the settings were checked. Run at
    /// `switchyard check`, startup and every reload.
    pub async fn probe(self: &Arc<Self>) -> Result<bool, Error> {
        let plugin = self.clone();
        super::pool::run(self.id(), async move {
            let mut session = Session::open_fresh(&plugin).await?;
            session.validate_settings().await
        })
        .await
    }

    /// Whether it can put a ruling into its reply (a normalizer exporting `answer-api`).
    pub fn answers(&self) -> bool {
        matches!(self.exports, Exports::Normalize(_, Some(_)))
    }

    /// Its roster, if it has one.
    pub fn roster(&self) -> Option<&crate::decision::Roster> {
        self.identity.roster.as_deref()
    }

    /// Hex sha256 of the .wasm file.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Normalizes one request in a fresh instance, on the plugin threads (see `pool`).
    pub async fn normalize_request(self: &Arc<Self>, request: &Request) -> Result<Normalized, Error> {
        self.normalize_request_at(request, super::pool::Place::Pool).await
    }

    /// [`Plugin::normalize_request`] at `place`.
    pub async fn normalize_request_at(
        self: &Arc<Self>,
        request: &Request,
        place: super::pool::Place,
    ) -> Result<Normalized, Error> {
        let (plugin, request) = (self.clone(), request.clone());
        super::pool::run_at(place, self.id(), async move {
            plugin.session().await?.normalize(&request).await
        })
        .await
    }

    /// Filters a request's events in one instance, on the plugin threads: the kept events in
    /// order, and the reasons of the dropped ones (with their event uids).
    pub async fn filter_events(self: &Arc<Self>, events: Vec<Event>) -> Result<Filtered, Error> {
        let plugin = self.clone();
        super::pool::run(self.id(), async move {
            let mut session = plugin.session().await?;
            let mut filtered = Filtered {
                kept: Vec::with_capacity(events.len()),
                dropped: Vec::new(),
            };
            for event in events {
                match session.filter(&event).await? {
                    Verdict::Keep => filtered.kept.push(event),
                    Verdict::Drop(reason) => filtered.dropped.push((event.event_uid, reason)),
                }
            }
            Ok(filtered)
        })
        .await
    }

    /// Transforms a request's events in one instance, on the plugin threads.
    pub async fn transform_events(self: &Arc<Self>, events: Vec<Event>) -> Result<Vec<Event>, Error> {
        let plugin = self.clone();
        super::pool::run(self.id(), async move {
            let mut session = plugin.session().await?;
            let mut out = Vec::with_capacity(events.len());
            for event in &events {
                out.extend(session.transform(event).await?);
            }
            Ok(out)
        })
        .await
    }

    /// Rules on a request's event in one instance at `place`, with the site's clock in
    /// `zone`. The call is cut off at `deadline` (wall-clock, from now) wherever it is —
    /// waiting for a plugin thread, instantiating, or in the guest (at its next epoch yield) —
    /// and then reports [`Error::Late`]; the instance is not reused.
    pub async fn decide_event(
        self: &Arc<Self>,
        event: &Event,
        zone: &jiff::tz::TimeZone,
        deadline: std::time::Duration,
        place: super::pool::Place,
    ) -> Result<Ruling, Error> {
        let (plugin, event, zone) = (self.clone(), event.clone(), zone.clone());
        let until = tokio::time::Instant::now() + deadline;
        // The guest itself is interrupted at the deadline by the epoch callback, wherever it
        // runs and whatever the executor does with timers; this timeout covers the time
        // outside the guest (waiting for a plugin thread, instantiating).
        let work = async move {
            let mut session = plugin.session().await?;
            session.decide(&event, &zone, Some(until.into_std())).await
        };
        tokio::time::timeout_at(until, super::pool::run_at(place, self.id(), work))
            .await
            .unwrap_or_else(|_| {
                Err(Error::Late {
                    plugin: self.id().to_string(),
                    deadline_ms: deadline.as_secs_f64() * 1e3,
                })
            })
    }

    /// Renders `ruling` as the reply to `request` whose first event is `event` (a normalizer
    /// exporting `answer-api`), in one instance at `place`.
    pub async fn answer_request(
        self: &Arc<Self>,
        request: &Request,
        event: &Event,
        ruling: &Ruling,
        place: super::pool::Place,
    ) -> Result<Reply, Error> {
        let (plugin, request, event, ruling) = (self.clone(), request.clone(), event.clone(), ruling.clone());
        super::pool::run_at(place, self.id(), async move {
            plugin.session().await?.answer(&request, &event, &ruling).await
        })
        .await
    }

    /// Starts a session for one request: a fresh store and instance, or with `Reuse::Warm` an
    /// idle one when there is one.
    pub async fn session(&self) -> Result<Session<'_>, Error> {
        Session::open(self).await
    }
}
