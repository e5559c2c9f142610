//! One loaded plugin: its `InstancePre`, export indices, limits and idle warm instances.
//! What the pipeline calls on it is in `calls`; a call's instance is a `Session`.

use super::bindings::{answer_api, decide_api, filter_api, normalize_api, setup_api, transform_api};
use super::error::Error;
use super::state::{Identity, PluginState, Provisions};
use super::types::{PluginKind, PluginLimits};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wasmtime::component::InstancePre;
use wasmtime::{Engine, Store};

/// Idle warm instances kept per plugin.
pub(super) const MAX_WARM_IDLE: usize = 8;

pub(super) enum Guest {
    Normalize(normalize_api::Guest, Option<answer_api::Guest>),
    Filter(filter_api::Guest),
    Transform(transform_api::Guest),
    Decide(decide_api::Guest),
}

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
    /// Who signed this version, when it is signed (see `plugin::trust`).
    pub(super) signer: Option<super::trust::Signer>,
    /// The bench-only native build of this built-in plugin (see `plugin::native`).
    #[cfg(feature = "native-plugins")]
    pub(super) native: Option<super::native::Normalize>,
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
            signer: None,
            #[cfg(feature = "native-plugins")]
            native: path
                .to_str()
                .and_then(|p| p.strip_prefix(super::builtin::SCHEME))
                .and_then(super::native::lookup),
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

    /// Who signed it, when it is signed.
    pub fn signer(&self) -> Option<&super::trust::Signer> {
        self.signer.as_ref()
    }
}
