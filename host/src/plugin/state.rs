//! Per-store state: the plugin's identity and settings for host imports, its resource limits,
//! and a deny-all WASI context (components built by componentize-py/-js import WASI; linking
//! it with no preopens, no env, no network and no stdin lets them load without granting any
//! capability). stdout and stderr go to capped in-memory captures (`output`), which the
//! session writes to the router log after every call.

use std::sync::Arc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// A plugin's secrets by name: the value, or why it is unavailable (never printed).
pub type Secrets = std::collections::HashMap<String, Result<Vec<u8>, String>>;

/// What a plugin is given besides its settings: secrets and, for deciders, a roster.
#[derive(Debug, Default)]
pub struct Provisions {
    /// Keys for `host.hmac-sha256`.
    pub secrets: Secrets,
    /// The roster behind `site.roster-lookup`.
    pub roster: Option<Arc<crate::decision::Roster>>,
    /// What its signature must satisfy before it is compiled.
    pub signature: super::trust::SignatureRule,
}

/// What the host imports of one plugin need to know.
pub(crate) struct Identity {
    pub(crate) id: String,
    /// The plugin's settings table as JSON text (what `host.settings()` returns).
    pub(crate) settings: String,
    /// Keys for `host.hmac-sha256`.
    pub(crate) secrets: Secrets,
    /// The operator's roster for `site.roster-lookup` (deciders with `roster` in router.toml).
    pub(crate) roster: Option<Arc<crate::decision::Roster>>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("id", &self.id)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

pub(crate) struct PluginState {
    pub(crate) identity: Arc<Identity>,
    pub(crate) limits: Limits,
    /// CPU time the current call has used (see `cpu`).
    pub(crate) cpu: Arc<super::cpu::CpuMeter>,
    /// The current call's CPU budget.
    pub(crate) budget_ms: u64,
    /// Set when the epoch callback interrupted the guest: tells a deadline from other traps.
    pub(crate) deadline_hit: bool,
    /// A wall-clock cut-off for the current call (a decider's decision deadline), checked at
    /// every epoch tick like the CPU budget: exact whatever the executor does with timers.
    pub(crate) wall_deadline: Option<std::time::Instant>,
    /// Set when the epoch callback interrupted the guest at `wall_deadline`.
    pub(crate) late_hit: bool,
    /// What was left of the decision deadline when the call started (for the error).
    pub(crate) late_after_ms: f64,
    /// HMACs computed for the guest in this session (to recognise them in its reply).
    pub(crate) macs: Vec<Vec<u8>>,
    /// The site's zone for `site.local-now`, set before each decision (UTC otherwise).
    pub(crate) time_zone: jiff::tz::TimeZone,
    /// The guest's stdout/stderr and last logged error.
    pub(crate) output: super::output::Output,
    wasi: WasiCtx,
    table: ResourceTable,
}

impl PluginState {
    pub(crate) fn new(identity: Arc<Identity>, max_memory_bytes: u64) -> PluginState {
        let output = super::output::Output::default();
        let wasi = WasiCtx::builder()
            .stdout(output.stdout.clone())
            .stderr(output.stderr.clone())
            .build();
        PluginState {
            identity,
            limits: Limits {
                max_memory_bytes,
                limit_hit: false,
            },
            cpu: Arc::default(),
            budget_ms: 0,
            deadline_hit: false,
            wall_deadline: None,
            late_hit: false,
            late_after_ms: 0.0,
            macs: Vec::new(),
            time_zone: jiff::tz::TimeZone::UTC,
            output,
            wasi,
            table: ResourceTable::new(),
        }
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Memory and table caps of one store. Growth past the cap is refused (the guest sees
/// `memory.grow` return -1, as the spec allows) and remembered, so the failure that usually
/// follows is reported as a resource limit rather than a generic trap.
pub(crate) struct Limits {
    max_memory_bytes: u64,
    pub(crate) limit_hit: bool,
}

/// Table elements a plugin may have; generous for any real guest, small enough to stop abuse.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl wasmtime::ResourceLimiter for Limits {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let allowed = desired as u64 <= self.max_memory_bytes;
        if !allowed {
            self.limit_hit = true;
        }
        Ok(allowed)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let allowed = desired <= MAX_TABLE_ELEMENTS;
        if !allowed {
            self.limit_hit = true;
        }
        Ok(allowed)
    }
}
