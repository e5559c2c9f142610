//! The host-side types of plugin calls: the four kinds, per-plugin limits and instance
//! policy, and what goes into and comes out of a call. No generated WIT type appears here.

use crate::event::{Decision, Event};

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
    /// globals reaches the next request. The default for plugins loaded from a file.
    #[default]
    Fresh,
    /// Instances are kept warm and reused by later requests, one request at a time each; one
    /// that traps, runs out of budget or memory is discarded, and each is replaced after
    /// [`MAX_WARM_USES`] requests. For guests whose start-up dominates (Python and JS
    /// components initialise an interpreter): state a guest keeps in memory carries over
    /// from one request to the next, so only plugins trusted not to leak one sender's data
    /// into another's results should use it. The default for the built-in plugins.
    Warm,
}

/// Requests one warm instance serves before it is replaced (bounds heap fragmentation and
/// any state a guest accumulates).
pub const MAX_WARM_USES: u32 = 10_000;

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
