//! The compiled configuration: ids resolved, paths absolute, defaults applied, references
//! checked. Pure data; `pipeline::build` turns it into live objects.

use crate::event::{Action, Category};
use crate::plugin::{PluginKind, PluginLimits};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

/// `[server]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSpec {
    /// Listen address.
    pub listen: SocketAddr,
    /// Where quarantine, blobs and file sinks' relative paths live.
    pub data_dir: PathBuf,
    /// Requests processed at once; more wait for a slot.
    pub max_in_flight: usize,
    /// How long a `dedup_key` is remembered (zero disables duplicate suppression).
    pub dedup_window_secs: u64,
    /// At most this many keys are remembered (oldest forgotten first).
    pub dedup_max_keys: usize,
    /// Below this many free bytes on any filesystem the router writes to, new requests get 503.
    pub min_free_bytes: u64,
    /// The quarantine's caps.
    pub quarantine: crate::quarantine::Limits,
    /// What one connection, sender or plugin result may cost.
    pub limits: EdgeLimits,
}

/// `[server.limits]`, every value with a default (see `config::edge`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EdgeLimits {
    /// From accept, or from the end of the previous reply, to a complete request head (so
    /// also the keep-alive idle timeout).
    pub header_timeout: std::time::Duration,
    /// The whole body, however it trickles.
    pub body_timeout: std::time::Duration,
    /// After a short grace, a body must keep arriving at least this fast (bytes per second).
    pub min_body_bytes_per_sec: u64,
    /// Open connections, all peers (further capped below the open-file limit at startup).
    pub max_connections: usize,
    /// Open connections from one peer address.
    pub max_connections_per_peer: usize,
    /// Request bodies held in memory at once, all peers; reserved before a body is read.
    pub max_buffered_body_bytes: u64,
    /// … from one peer address.
    pub peer_buffered_body_bytes: u64,
    /// Memory of requests being processed at once (decoded events, plugin input and output):
    /// each reserves its estimate before its plugins run, and waits for room.
    pub max_processing_bytes: u64,
    /// Events a normalizer (or a transform stage) may return for one request.
    pub max_events_per_request: usize,
    /// One event's size as JSON.
    pub max_event_bytes: usize,
    /// A normalizer's reply body.
    pub max_reply_bytes: usize,
}

/// `[admin]`: besides loopback clients, who may use `/metrics` and `/admin/*`, and where the
/// console listens.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminSpec {
    /// Peer addresses or networks allowed without a token.
    pub allow: Vec<Cidr>,
    /// The environment variable holding a bearer token that admits any peer.
    pub token_env: Option<String>,
    /// A file holding that token (first line), for secrets mounted as files.
    pub token_file: Option<std::path::PathBuf>,
    /// Where the operator console and the admin API listen (`admin.listen`); `None` when
    /// `"off"`.
    pub listen: Option<std::net::SocketAddr>,
    /// Whether `listen` was written in router.toml (a default address that is taken is a
    /// warning; a chosen one that is taken stops the start).
    pub listen_chosen: bool,
}

impl AdminSpec {
    /// The admin token: from `token_env`, else `token_file`; `None` when neither is set or
    /// the value is empty.
    pub fn token(&self) -> Option<String> {
        let from_env = self.token_env.as_deref().and_then(|n| std::env::var(n).ok());
        let from_file = || {
            self.token_file
                .as_deref()
                .and_then(|p| std::fs::read_to_string(p).ok())
                .and_then(|t| t.lines().next().map(str::to_string))
        };
        from_env
            .or_else(from_file)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
    }

    /// Whether a token is configured (set or not).
    pub fn expects_token(&self) -> bool {
        self.token_env.is_some() || self.token_file.is_some()
    }
}

impl Default for AdminSpec {
    fn default() -> AdminSpec {
        AdminSpec {
            allow: Vec::new(),
            token_env: None,
            token_file: None,
            listen: Some(DEFAULT_ADMIN_LISTEN.parse().expect("valid default")),
            listen_chosen: false,
        }
    }
}

/// `[cluster]` (see `config::cluster`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterSpec {
    /// NATS server URLs, comma-separated.
    pub nats_url: String,
    /// This router's name in the cluster.
    pub node: String,
    /// How the router proves itself to NATS.
    pub auth: NatsAuth,
    /// The outbox stream.
    pub stream: String,
    /// The dead-letter stream.
    pub dead_stream: String,
    /// Subjects start with this (`<prefix>.out.<sink>`, `<prefix>.dead.<sink>`).
    pub subject_prefix: String,
    /// Stream replicas.
    pub replicas: usize,
    /// How long a delivery may stay unacknowledged before another router gets it.
    pub ack_wait: std::time::Duration,
    /// How long a sender waits for JetStream to store its events.
    pub publish_timeout: std::time::Duration,
}

/// Credentials for NATS.
#[derive(Debug, Clone, PartialEq)]
pub enum NatsAuth {
    /// None (a loopback or trusted network server).
    None,
    /// A `.creds` file (JWT + nkey seed).
    CredentialsFile(PathBuf),
    /// A token from this environment variable.
    TokenEnv(String),
    /// A user, and the password from this environment variable.
    UserPassword {
        /// The user.
        user: String,
        /// The environment variable holding the password.
        password_env: String,
    },
}

/// Where the console listens unless `admin.listen` says otherwise: loopback only.
pub const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:8081";

/// An address or network (`10.0.0.0/8`, `2001:db8::/32`, `192.168.1.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// The network address.
    pub addr: std::net::IpAddr,
    /// Leading bits that must match.
    pub prefix: u8,
}

impl Cidr {
    /// Whether `ip` lies in this network; an IPv4-mapped IPv6 peer (`::ffff:10.1.2.3`, as a
    /// dual-stack listener sees IPv4 clients) is matched as the IPv4 address it is.
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let (a, b, bits) = match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(a.to_bits()), u128::from(b.to_bits()), 32),
            (IpAddr::V6(a), IpAddr::V6(b)) => (a.to_bits(), b.to_bits(), 128),
            _ => return false,
        };
        let prefix = u32::from(self.prefix.min(bits));
        prefix == 0 || (a ^ b) >> (bits as u32 - prefix) == 0
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Cidr, String> {
        let (addr, prefix) = s.split_once('/').map_or((s, None), |(a, p)| (a, Some(p)));
        let addr: std::net::IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not an IP address or network like \"10.0.0.0/8\""))?;
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(p) => match p.trim().parse::<u8>() {
                Ok(p) if p <= bits => p,
                _ => return Err(format!("`{s}`: the prefix length must be 0 to {bits}")),
            },
        };
        Ok(Cidr { addr, prefix })
    }
}

/// A source's `rate_limit`: a token bucket per source.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Requests per second, sustained.
    pub per_second: f64,
    /// Requests allowed at once after a quiet spell.
    pub burst: u32,
}

/// `[plugins.<id>]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginSpec {
    /// The id.
    pub id: String,
    /// Absolute path of the .wasm component.
    pub path: PathBuf,
    /// The line of `path` in the config file, for messages about the file.
    pub path_line: usize,
    /// Which world it implements.
    pub kind: PluginKind,
    /// CPU and memory budgets.
    pub limits: PluginLimits,
    /// Its `settings` table, as JSON.
    pub settings: serde_json::Value,
    /// Where the settings are in the config file.
    pub settings_lines: SettingsLines,
    /// Named secrets it may use as HMAC keys (values are read at build time).
    pub secrets: Vec<(String, SecretRef)>,
    /// When a reloaded version of it is replaced by the previous one (`None`: never).
    pub rollback: Option<crate::plugin::RollbackPolicy>,
    /// The roster a decider reads (`site.roster-lookup`).
    pub roster: Option<RosterSpec>,
    /// What its signature must satisfy (`[trust]`, `signers`, `require_signature`).
    pub signature: crate::plugin::trust::SignatureRule,
    /// Where to fetch it from when it comes from a registry (`source`); `path` is then the
    /// reference as written until the pipeline fetches the file.
    pub source: Option<crate::oci::Reference>,
}

/// The lines of a plugin's `settings` in the config file (0: not written there).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettingsLines {
    /// The line where the table starts (`[plugins.<id>.settings]` or `settings = {`).
    pub table: usize,
    /// The line of each top-level key's value.
    pub keys: BTreeMap<String, usize>,
}

impl SettingsLines {
    /// The line of setting `key`, else of the table.
    pub fn of(&self, key: Option<&str>) -> usize {
        key.and_then(|k| self.keys.get(k).copied()).unwrap_or(self.table)
    }
}

/// A decider's `roster = { path = "roster.csv", key = "person_id" }`.
#[derive(Debug, Clone, PartialEq)]
pub struct RosterSpec {
    /// Absolute path of the CSV or JSON file.
    pub path: PathBuf,
    /// The column (or member) holding each entry's key.
    pub key: String,
}

/// A source's door decisions: `decider = "…"` and `decision = { … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionSpec {
    /// The decider plugin's id.
    pub decider: String,
    /// From the complete request to the ruling, wall-clock; past it the fallback answers.
    pub deadline: std::time::Duration,
    /// What answers when the decider cannot.
    pub fallback: Fallback,
    /// The terminal's text when the fallback answers.
    pub tip_on_fallback: Option<String>,
    /// The site's IANA time zone (`site.local-now`), checked against the compiled-in database.
    pub time_zone: String,
}

/// `decision.fallback`: the answer when the decider is late, traps, fails or the router is
/// overloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// Keep the door shut (the default: a door that opens for a crashed plugin is a hole).
    Deny,
    /// Open it (e.g. a canteen turnstile where a queue is worse than a stray guest).
    Grant,
    /// Answer as if there were no decider: the normalizer's own reply, the terminal's own
    /// decision stands.
    Device,
}

impl Fallback {
    /// The router.toml word.
    pub fn as_str(self) -> &'static str {
        match self {
            Fallback::Deny => "deny",
            Fallback::Grant => "grant",
            Fallback::Device => "device",
        }
    }
}

/// Where a secret comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum SecretRef {
    /// An environment variable.
    Env(String),
    /// A file (trailing newline trimmed).
    File(PathBuf),
}

impl SecretRef {
    /// The secret's value now: read at build time (and on every reload), never at compile
    /// time, so a config stays checkable without its secrets. `Err` names what is missing.
    pub fn read(&self) -> Result<String, String> {
        match self {
            SecretRef::Env(name) => match std::env::var(name) {
                Ok(v) if !v.is_empty() => Ok(v),
                _ => Err(format!("environment variable {name} is not set")),
            },
            SecretRef::File(path) => match std::fs::read_to_string(path) {
                Ok(v) if !v.trim_end_matches(['\r', '\n']).is_empty() => {
                    Ok(v.trim_end_matches(['\r', '\n']).to_string())
                }
                Ok(_) => Err(format!("secret file {} is empty", path.display())),
                Err(e) => Err(format!("cannot read secret file {}: {e}", path.display())),
            },
        }
    }
}

/// `[[routes]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteSpec {
    /// A name for logs (defaults to `route-<n>`).
    pub name: String,
    /// Conditions; all must hold, an empty list matches anything.
    pub matcher: MatchSpec,
    /// Sink ids.
    pub sinks: Vec<String>,
}

/// Route conditions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatchSpec {
    /// Vendor names.
    pub vendor: Vec<String>,
    /// Categories.
    pub category: Vec<Category>,
    /// Actions.
    pub action: Vec<Action>,
    /// Source ids.
    pub source: Vec<String>,
}
