//! One loaded plugin (`InstancePre` + limits) and one request's session with it (a fresh
//! `Store`, instantiated once and reused for every event of that request).

use super::bindings::{decide_api, filter_api, normalize_api, transform_api};
use super::convert;
use super::cpu;
use super::error::Error;
use super::state::{Identity, PluginState, Secrets};
use crate::event::{Decision, Event};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wasmtime::component::InstancePre;
use wasmtime::{Engine, Store, Trap, UpdateDeadline};

/// The four plugin worlds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginKind {
    /// `world normalizer`: HTTP request → events (+ reply).
    Normalizer,
    /// `world filter`: event → keep / drop.
    Filter,
    /// `world transform`: event → events.
    Transform,
    /// `world decider`: event → access ruling.
    Decider,
}

impl PluginKind {
    /// The WIT interface a plugin of this kind must export.
    pub fn interface(self) -> &'static str {
        match self {
            PluginKind::Normalizer => "router:plugin/normalize-api@0.1.0",
            PluginKind::Filter => "router:plugin/filter-api@0.1.0",
            PluginKind::Transform => "router:plugin/transform-api@0.1.0",
            PluginKind::Decider => "router:plugin/decide-api@0.1.0",
        }
    }

    /// The router.toml name.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Normalizer => "normalizer",
            PluginKind::Filter => "filter",
            PluginKind::Transform => "transform",
            PluginKind::Decider => "decider",
        }
    }
}

/// Per-plugin budgets from router.toml.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PluginLimits {
    /// CPU time one call may use, whatever its input.
    pub timeout_ms: u64,
    /// Further CPU time per MiB of the call's input (a normalizer's request body), so the
    /// largest body a source accepts gets time in proportion.
    pub timeout_ms_per_mib: u64,
    /// Linear memory the plugin may grow to.
    pub max_memory_bytes: u64,
    /// Whether instances outlive the request they served.
    pub reuse: Reuse,
}

/// How a plugin's instances are used (`reuse` in router.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reuse {
    /// A fresh instance per request (per stage): nothing a guest leaves in its memory or
    /// globals reaches the next request. The default.
    #[default]
    Fresh,
    /// Instances are kept warm and reused by later requests, one request at a time each; one
    /// that traps, runs out of budget or memory is discarded, and each is replaced after
    /// [`MAX_WARM_USES`] requests. For guests whose start-up dominates (Python and JS
    /// components initialise an interpreter): state a guest keeps in memory carries over
    /// from one request to the next, so only plugins trusted not to leak one sender's data
    /// into another's results should use it.
    Warm,
}

/// Requests one warm instance serves before it is replaced (bounds heap fragmentation and
/// any state a guest accumulates).
pub const MAX_WARM_USES: u32 = 10_000;
/// Idle warm instances kept per plugin.
const MAX_WARM_IDLE: usize = 8;

impl PluginLimits {
    /// router.toml's defaults: 100 ms per call plus 250 ms per MiB of input, 64 MiB of memory.
    pub const DEFAULT: PluginLimits = PluginLimits {
        timeout_ms: 100,
        timeout_ms_per_mib: 250,
        max_memory_bytes: 64 << 20,
        reuse: Reuse::Fresh,
    };
}

impl Default for PluginLimits {
    fn default() -> PluginLimits {
        PluginLimits::DEFAULT
    }
}

/// A raw request handed to a normalizer.
#[derive(Debug, Clone)]
pub struct Request {
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Raw query string without `?`.
    pub query: String,
    /// Headers (lossy UTF-8 values).
    pub headers: Vec<(String, String)>,
    /// Exact body bytes.
    pub body: bytes::Bytes,
    /// Peer address.
    pub remote_addr: Option<String>,
    /// The `[[sources]]` id.
    pub source_id: String,
    /// The router's id of this request.
    pub delivery_id: String,
    /// RFC 3339 receive time.
    pub received_at: String,
}

/// A reply a plugin wants the sender to receive.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// A normalizer's output, host-side.
#[derive(Debug, Clone)]
pub struct Normalized {
    /// The events, in order.
    pub events: Vec<Event>,
    /// The reply, if the plugin chose one.
    pub reply: Option<Reply>,
    /// Media content the normalizer decoded, per event index and media index.
    pub media_content: Vec<(usize, usize, Vec<u8>)>,
    /// The reply carries an HMAC the plugin had the host compute during this call (a
    /// challenge answer: a MAC of caller-chosen bytes, which the host rate-limits).
    pub reply_carries_mac: bool,
}

/// A filter's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Keep the event.
    Keep,
    /// Drop it, for this reason.
    Drop(String),
}

/// What a filter stage did to a request's events.
#[derive(Debug, Clone)]
pub struct Filtered {
    /// Kept events, in order.
    pub kept: Vec<Event>,
    /// `(event uid, reason)` of each dropped event.
    pub dropped: Vec<(String, String)>,
}

/// A decider's ruling.
#[derive(Debug, Clone, PartialEq)]
pub struct Ruling {
    /// Granted / denied.
    pub decision: Decision,
    /// Text for the terminal's screen.
    pub custom_tip: Option<String>,
    /// Extra reply fields.
    pub details: serde_json::Value,
}

enum Exports {
    Normalize(normalize_api::GuestIndices),
    Filter(filter_api::GuestIndices),
    Transform(transform_api::GuestIndices),
    Decide(decide_api::GuestIndices),
}

/// A loaded, linked plugin. Cheap to share (`Arc` it); instantiated per request.
pub struct Plugin {
    identity: Arc<Identity>,
    kind: PluginKind,
    path: PathBuf,
    sha256: String,
    limits: PluginLimits,
    pre: InstancePre<PluginState>,
    exports: Exports,
    engine: Engine,
    health: Arc<super::health::Health>,
    /// Idle instances for `Reuse::Warm`.
    warm: std::sync::Mutex<Vec<Live>>,
}

/// A live instance: its store and its export.
struct Live {
    store: Store<PluginState>,
    guest: Guest,
    /// Requests it has served.
    uses: u32,
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
        secrets: Secrets,
        sha256: String,
        pre: InstancePre<PluginState>,
        engine: Engine,
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
            PluginKind::Normalizer => Exports::Normalize(normalize_api::GuestIndices::new(&pre).map_err(missing)?),
            PluginKind::Filter => Exports::Filter(filter_api::GuestIndices::new(&pre).map_err(missing)?),
            PluginKind::Transform => Exports::Transform(transform_api::GuestIndices::new(&pre).map_err(missing)?),
            PluginKind::Decider => Exports::Decide(decide_api::GuestIndices::new(&pre).map_err(missing)?),
        };
        let identity = Arc::new(Identity {
            id: id.to_string(),
            settings: settings.to_string(),
            secrets,
        });
        Ok(Plugin {
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

    /// Hex sha256 of the .wasm file.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Normalizes one request in a fresh instance, on the plugin threads (see `pool`).
    pub async fn normalize_request(self: &Arc<Self>, request: &Request) -> Result<Normalized, Error> {
        let (plugin, request) = (self.clone(), request.clone());
        super::pool::run(
            self.id(),
            async move { plugin.session().await?.normalize(&request).await },
        )
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

    /// Starts a session for one request: a fresh store and instance, or with `Reuse::Warm` an
    /// idle one when there is one.
    pub async fn session(&self) -> Result<Session<'_>, Error> {
        if self.limits.reuse == Reuse::Warm {
            let idle = self.warm.lock().unwrap_or_else(|p| p.into_inner()).pop();
            if let Some(live) = idle {
                return Ok(Session {
                    plugin: self,
                    store: Some(live.store),
                    guest: Some(live.guest),
                    uses: live.uses,
                    spoiled: false,
                });
            }
        }
        let mut store = Store::new(
            &self.engine,
            PluginState::new(self.identity.clone(), self.limits.max_memory_bytes),
        );
        store.limiter(|state| &mut state.limits);
        // Every epoch tick while the guest runs, compare the CPU time it has used with its
        // budget (see `cpu`); within budget it yields to tokio, so a spinning plugin cannot
        // starve other requests.
        store.epoch_deadline_callback(|mut ctx| {
            let state = ctx.data_mut();
            if state.cpu.spent_ns() >= state.budget_ms.saturating_mul(1_000_000) {
                state.deadline_hit = true;
                return Ok(UpdateDeadline::Interrupt);
            }
            Ok(UpdateDeadline::Yield(1))
        });
        let mut session = Session {
            plugin: self,
            store: Some(store),
            guest: None,
            uses: 0,
            spoiled: false,
        };
        session.arm(0);
        let meter = session.meter();
        let instance = cpu::metered(&meter, self.pre.instantiate_async(session.store()))
            .await
            .map_err(|e| session.fault(e))?;
        let store = session.store();
        let guest = match &self.exports {
            Exports::Normalize(ix) => ix.load(&mut *store, &instance).map(Guest::Normalize),
            Exports::Filter(ix) => ix.load(&mut *store, &instance).map(Guest::Filter),
            Exports::Transform(ix) => ix.load(&mut *store, &instance).map(Guest::Transform),
            Exports::Decide(ix) => ix.load(&mut *store, &instance).map(Guest::Decide),
        };
        session.guest = Some(guest.map_err(|e| session.fault(e))?);
        Ok(session)
    }
}

enum Guest {
    Normalize(normalize_api::Guest),
    Filter(filter_api::Guest),
    Transform(transform_api::Guest),
    Decide(decide_api::Guest),
}

/// One request's instance of a plugin.
pub struct Session<'p> {
    plugin: &'p Plugin,
    /// Always `Some` until dropped (taken then to return it to the warm pool).
    store: Option<Store<PluginState>>,
    guest: Option<Guest>,
    /// Requests this instance served before this one.
    uses: u32,
    /// A trap, deadline or resource limit hit this instance: never reuse it.
    spoiled: bool,
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        if self.plugin.limits.reuse != Reuse::Warm || self.spoiled || self.uses + 1 >= MAX_WARM_USES {
            return;
        }
        let (Some(store), Some(guest)) = (self.store.take(), self.guest.take()) else {
            return;
        };
        let mut idle = self.plugin.warm.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_WARM_IDLE {
            idle.push(Live {
                store,
                guest,
                uses: self.uses + 1,
            });
        }
    }
}

impl Session<'_> {
    fn store(&mut self) -> &mut Store<PluginState> {
        self.store
            .as_mut()
            .expect("a session's store is only taken when it is dropped")
    }

    fn state(&self) -> &PluginState {
        self.store
            .as_ref()
            .expect("a session's store is only taken when it is dropped")
            .data()
    }

    /// Resets the CPU budget for the next call, whose input is `input_bytes` long.
    fn arm(&mut self, input_bytes: usize) {
        let limits = self.plugin.limits;
        let store = self.store();
        let state = store.data_mut();
        state.budget_ms = cpu::budget_ms(limits.timeout_ms, limits.timeout_ms_per_mib, input_bytes);
        state.cpu.reset();
        state.deadline_hit = false;
        state.limits.limit_hit = false;
        store.set_epoch_deadline(1);
    }

    /// The CPU meter of this session's store, for [`cpu::metered`].
    fn meter(&self) -> Arc<cpu::CpuMeter> {
        self.state().cpu.clone()
    }

    fn id(&self) -> String {
        self.plugin.identity.id.clone()
    }

    /// Classifies a wasmtime error: deadline, resource limit, or another trap. The instance
    /// is spoiled either way.
    fn fault(&mut self, e: wasmtime::Error) -> Error {
        self.spoiled = true;
        self.plugin.health.fault();
        let state = self.state();
        if state.deadline_hit || matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
            Error::DeadlineExceeded {
                plugin: self.id(),
                budget_ms: state.budget_ms,
            }
        } else if state.limits.limit_hit {
            Error::ResourceLimit {
                plugin: self.id(),
                limit_bytes: self.plugin.limits.max_memory_bytes,
            }
        } else {
            Error::Trapped {
                plugin: self.id(),
                message: format!("{e:?}"),
            }
        }
    }

    fn reported(&self, e: super::bindings::wit::PluginError) -> Error {
        use super::bindings::wit::PluginError as P;
        match e {
            P::InvalidInput(reason) => Error::Rejected {
                plugin: self.id(),
                reason,
            },
            P::Unauthorized(reason) => Error::Unauthorized {
                plugin: self.id(),
                reason,
            },
            P::Unavailable(reason) => Error::Unavailable {
                plugin: self.id(),
                reason,
            },
            P::BadSettings(reason) => Error::BadSettings {
                plugin: self.id(),
                reason,
            },
            P::Internal(reason) => Error::Failed {
                plugin: self.id(),
                reason,
            },
        }
    }

    fn wrong_kind(&self, wanted: PluginKind) -> Error {
        Error::Contract {
            plugin: self.id(),
            reason: format!(
                "called as a {} but it is a {}",
                wanted.as_str(),
                self.plugin.kind.as_str()
            ),
        }
    }

    /// Runs a normalizer on a request.
    pub async fn normalize(&mut self, request: &Request) -> Result<Normalized, Error> {
        self.plugin.health.call();
        self.arm(request.body.len());
        let Some(Guest::Normalize(guest)) = &self.guest else {
            return Err(self.wrong_kind(PluginKind::Normalizer));
        };
        let guest = guest.clone();
        let meter = self.meter();
        let out = cpu::metered(
            &meter,
            guest.call_normalize(self.store(), &convert::request_to_wit(request)),
        )
        .await;
        match out {
            Err(trap) => Err(self.fault(trap)),
            Ok(Err(e)) => Err(self.reported(e)),
            Ok(Ok(normalized)) => {
                let mut normalized = convert::normalized_from_wit(normalized).map_err(|reason| Error::Contract {
                    plugin: self.id(),
                    reason,
                })?;
                let macs = std::mem::take(&mut self.store().data_mut().macs);
                normalized.reply_carries_mac = normalized
                    .reply
                    .as_ref()
                    .is_some_and(|reply| super::host::reply_carries(reply, &macs));
                Ok(normalized)
            }
        }
    }

    /// Runs a filter on one event.
    pub async fn filter(&mut self, event: &Event) -> Result<Verdict, Error> {
        self.plugin.health.call();
        self.arm(0);
        let Some(Guest::Filter(guest)) = &self.guest else {
            return Err(self.wrong_kind(PluginKind::Filter));
        };
        let guest = guest.clone();
        let meter = self.meter();
        match cpu::metered(&meter, guest.call_filter(self.store(), &convert::event_to_wit(event))).await {
            Err(trap) => Err(self.fault(trap)),
            Ok(Err(e)) => Err(self.reported(e)),
            Ok(Ok(verdict)) => Ok(convert::verdict_from_wit(verdict)),
        }
    }

    /// Runs a transform on one event.
    pub async fn transform(&mut self, event: &Event) -> Result<Vec<Event>, Error> {
        self.plugin.health.call();
        self.arm(0);
        let Some(Guest::Transform(guest)) = &self.guest else {
            return Err(self.wrong_kind(PluginKind::Transform));
        };
        let guest = guest.clone();
        let meter = self.meter();
        match cpu::metered(
            &meter,
            guest.call_transform(self.store(), &convert::event_to_wit(event)),
        )
        .await
        {
            Err(trap) => Err(self.fault(trap)),
            Ok(Err(e)) => Err(self.reported(e)),
            Ok(Ok(events)) => events
                .into_iter()
                .map(|e| convert::event_from_wit(e).map(|(event, _)| event))
                .collect::<Result<_, _>>()
                .map_err(|reason| Error::Contract {
                    plugin: self.id(),
                    reason,
                }),
        }
    }

    /// Runs a decider on one event.
    pub async fn decide(&mut self, event: &Event) -> Result<Ruling, Error> {
        self.plugin.health.call();
        self.arm(0);
        let Some(Guest::Decide(guest)) = &self.guest else {
            return Err(self.wrong_kind(PluginKind::Decider));
        };
        let guest = guest.clone();
        let meter = self.meter();
        match cpu::metered(&meter, guest.call_decide(self.store(), &convert::event_to_wit(event))).await {
            Err(trap) => Err(self.fault(trap)),
            Ok(Err(e)) => Err(self.reported(e)),
            Ok(Ok(ruling)) => convert::ruling_from_wit(ruling).map_err(|reason| Error::Contract {
                plugin: self.id(),
                reason,
            }),
        }
    }
}
