//! The serde mirror of router.toml. Every struct denies unknown fields. Each top-level entity
//! is deserialized on its own, so one typo does not hide the errors in the rest of the file.
//!
//! ```toml
//! version = 1
//!
//! [server]
//! listen = "127.0.0.1:8080"     # default
//! data_dir = "./data"           # default, relative to this file
//! dedup_window_secs = 600       # drop repeated events (same dedup_key and content); 0 = off
//! min_free_bytes = 268435456    # disk budget: below it, new requests get 503 (default 256 MiB)
//! quarantine = { max_bytes = 1073741824, max_entries = 100000, source_max_bytes = 268435456 }
//!
//! [server.limits]                # edge limits (defaults shown; see SECURITY.md)
//! header_timeout_ms = 10000      # accept (or end of the last reply) → complete request head;
//!                                # also the keep-alive idle timeout
//! body_timeout_ms = 60000        # whole body, however fast it trickles
//! min_body_bytes_per_sec = 4096  # and at least this fast after the first 5 s
//! max_connections = 10000        # kept below the open-file limit
//! max_connections_per_peer = 128
//! max_buffered_body_bytes = 268435456   # bodies held in memory at once, all senders
//! peer_buffered_body_bytes = 67108864   # … and from one peer address
//! max_processing_bytes = 268435456      # memory of requests being processed (body × 8 each)
//! max_events_per_request = 10000 # a normalizer or transform returning more is in error
//! max_event_bytes = 1048576      # one event, as JSON
//! max_reply_bytes = 1048576      # a normalizer's reply body
//!
//! [admin]                        # the console, /metrics and /admin/*: loopback clients, and
//! listen = "127.0.0.1:8081"      # the console's listener ("off": none)
//! allow = ["10.0.0.0/8"]         # these addresses/networks, and
//! token_env = "SWITCHYARD_ADMIN_TOKEN"   # whoever sends `Authorization: Bearer <token>`
//! token_file = "/run/secrets/admin-token" # (or the token from a file)
//!
//! [cluster]                      # several routers sharing NATS JetStream (see README)
//! nats_url = "nats://127.0.0.1:4222"     # comma-separated for several servers
//! node = "gate-a"                # this router's name (default: hostname-port)
//! credentials_file = "/run/secrets/nats.creds"   # or token_env, or user + password_env
//! stream = "SWITCHYARD"          # the shared outbox stream (default)
//! dead_stream = "SWITCHYARD_DEAD"
//! subject_prefix = "switchyard"  # outbox: <prefix>.out.<sink>; dead: <prefix>.dead.<sink>
//! replicas = 1                   # stream replicas (3 on a 3-server NATS cluster)
//! ack_wait_secs = 30             # an unacknowledged delivery goes to another router after this
//! publish_timeout_ms = 5000      # a sender waits at most this for JetStream's ack, else 503
//!
//! [trust]                       # who may sign plugins (see config::trust, docs/plugins/distributing.md)
//! require_signature = false
//! keys = [{ id = "acme", public_key = "ed25519:…" }]
//!
//! [plugins.normalize-json]
//! path = "target/plugins/normalize-json.wasm"
//! kind = "normalizer"           # normalizer | filter | transform | decider
//! timeout_ms = 100              # CPU budget per call (default 100)
//! timeout_ms_per_mib = 250      # plus this much per MiB of the call's input (default 250)
//! max_memory_bytes = 67108864   # linear-memory cap (default 64 MiB)
//! reuse = "fresh"               # fresh: a new instance per request (default for `path`);
//!                               # warm: keep instances and reuse them (default for `builtin`;
//!                               # state carries over; see README)
//! settings = { vendor = "acme" }
//! secrets = { hmac = { env = "ACME_SECRET" } }   # keys for host.hmac-sha256, never values
//! rollback = { max_failure_ratio = 0.5, min_calls = 10, window_secs = 300 }   # the default
//! signers = ["acme"]            # [trust] key ids allowed to sign it (implies a signature)
//!
//! [plugins.normalize-acme]       # a vendor's module from an OCI registry (see `oci`)
//! source = "oci://registry.example/acme/normalize-acme:1.4.0@sha256:…"
//! kind = "normalizer"
//!
//! [plugins.door-policy]
//! path = "target/plugins/decide-roster.wasm"
//! kind = "decider"
//! roster = { path = "roster.csv", key = "person_id" }   # CSV or JSON; site.roster-lookup
//!
//! [[sources]]
//! id = "json"
//! path = "/ingest/json"          # an HTTP path, or instead:
//! # websocket = { url = "ws://omni/event-service/ws?endpoint_id=…", reconnect_max_secs = 30 }
//! # nats = { subject = "acme.events.>", stream = "ACME" }   # url: default the [cluster]'s
//! normalizer = "normalize-json"
//! # decider = "door-policy"     # door decisions (the normalizer must export answer-api)
//! # decision = { deadline_ms = 300, fallback = "deny", tip_on_fallback = "See reception",
//! #              time_zone = "Europe/Berlin" }   # fallback: deny | grant | device
//! filters = []                  # filter plugin ids, in order
//! transforms = []               # transform plugin ids, in order
//! auth = { type = "bearer", token_env = "JSON_TOKEN" }   # none | basic | bearer
//! max_body_bytes = 1048576
//! methods = ["POST"]            # HTTP methods accepted (default POST); others get 405
//! rate_limit = { per_second = 50, burst = 100 }   # authenticated requests; over it: 429
//! samples = ["samples/a.json", { request = "samples/b.json", expect = "samples/b.expected.json" }]
//!                               # run on every reload before the new config goes live
//!
//! [sinks.events]
//! type = "file"                 # file | webhook | nats
//! path = "events.jsonl"         # relative to data_dir
//! # type = "nats", subject = "faces.{vendor}.{/source/device_id}", jetstream = true,
//! # url = "nats://…" (default: the [cluster]'s), timeout_ms = 5000
//! encoding = "full"             # full: every schema field, nulls included (default);
//!                               # compact: null and empty fields left out (file and webhook)
//!
//! [[routes]]
//! match = { category = ["recognition"] }   # vendor, category, action, source
//! sinks = ["events"]
//! ```

use super::error::Problem;
use crate::event::{Action, Category};
use crate::plugin::PluginKind;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, BTreeSet};
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

/// The whole file, entity by entity. Entities that failed to parse are left out, but their
/// ids are remembered so that references to them are not reported a second time.
#[derive(Debug, Default)]
pub(crate) struct RawConfig {
    pub(crate) broken_plugins: BTreeSet<String>,
    pub(crate) broken_sinks: BTreeSet<String>,
    pub(crate) broken_sources: bool,
    pub(crate) version: Option<Spanned<i64>>,
    pub(crate) server: Option<Spanned<RawServer>>,
    pub(crate) admin: Option<Spanned<RawAdmin>>,
    pub(crate) cluster: Option<Spanned<RawCluster>>,
    pub(crate) trust: Option<Spanned<super::trust::RawTrust>>,
    pub(crate) plugins: Vec<(Spanned<String>, Spanned<RawPlugin>)>,
    pub(crate) sources: Vec<Spanned<RawSource>>,
    pub(crate) sinks: Vec<(Spanned<String>, Spanned<RawSink>)>,
    pub(crate) routes: Vec<Spanned<RawRoute>>,
}

/// `[server]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServer {
    pub(crate) listen: Option<Spanned<String>>,
    pub(crate) data_dir: Option<String>,
    pub(crate) max_in_flight: Option<Spanned<i64>>,
    pub(crate) dedup_window_secs: Option<Spanned<i64>>,
    pub(crate) dedup_max_keys: Option<Spanned<i64>>,
    pub(crate) min_free_bytes: Option<Spanned<i64>>,
    pub(crate) quarantine: Option<RawQuarantine>,
    pub(crate) limits: Option<RawLimits>,
}

/// `[server.limits]`: what one connection, sender or plugin result may cost.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLimits {
    pub(crate) header_timeout_ms: Option<Spanned<i64>>,
    pub(crate) body_timeout_ms: Option<Spanned<i64>>,
    pub(crate) min_body_bytes_per_sec: Option<Spanned<i64>>,
    pub(crate) max_connections: Option<Spanned<i64>>,
    pub(crate) max_connections_per_peer: Option<Spanned<i64>>,
    pub(crate) max_buffered_body_bytes: Option<Spanned<i64>>,
    pub(crate) peer_buffered_body_bytes: Option<Spanned<i64>>,
    pub(crate) max_processing_bytes: Option<Spanned<i64>>,
    pub(crate) max_events_per_request: Option<Spanned<i64>>,
    pub(crate) max_event_bytes: Option<Spanned<i64>>,
    pub(crate) max_reply_bytes: Option<Spanned<i64>>,
}

/// `[admin]`: who may use `/metrics` and `/admin/*` besides loopback clients.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAdmin {
    #[serde(default)]
    pub(crate) allow: Vec<Spanned<String>>,
    pub(crate) token_env: Option<Spanned<String>>,
    pub(crate) token_file: Option<Spanned<String>>,
    pub(crate) listen: Option<Spanned<String>>,
}

/// `[cluster]`: the NATS JetStream a cluster of routers shares.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCluster {
    pub(crate) nats_url: Spanned<String>,
    pub(crate) node: Option<Spanned<String>>,
    pub(crate) credentials_file: Option<Spanned<String>>,
    pub(crate) token_env: Option<Spanned<String>>,
    pub(crate) user: Option<Spanned<String>>,
    pub(crate) password_env: Option<Spanned<String>>,
    pub(crate) stream: Option<Spanned<String>>,
    pub(crate) dead_stream: Option<Spanned<String>>,
    pub(crate) subject_prefix: Option<Spanned<String>>,
    pub(crate) replicas: Option<Spanned<i64>>,
    pub(crate) ack_wait_secs: Option<Spanned<i64>>,
    pub(crate) publish_timeout_ms: Option<Spanned<i64>>,
}

/// A source's `rate_limit = { per_second = 50, burst = 100 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRateLimit {
    pub(crate) per_second: Spanned<f64>,
    pub(crate) burst: Option<Spanned<i64>>,
}

/// `[server] quarantine = { … }`: the quarantine's caps.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawQuarantine {
    pub(crate) max_bytes: Option<Spanned<i64>>,
    pub(crate) max_entries: Option<Spanned<i64>>,
    pub(crate) source_max_bytes: Option<Spanned<i64>>,
}

/// `[plugins.<id>]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPlugin {
    pub(crate) path: Option<Spanned<String>>,
    pub(crate) builtin: Option<Spanned<String>>,
    /// `oci://registry/repository:tag@sha256:…` (see `oci`).
    pub(crate) source: Option<Spanned<String>>,
    pub(crate) kind: Option<Spanned<PluginKind>>,
    pub(crate) timeout_ms: Option<Spanned<i64>>,
    pub(crate) timeout_ms_per_mib: Option<Spanned<i64>>,
    pub(crate) max_memory_bytes: Option<Spanned<i64>>,
    pub(crate) reuse: Option<crate::plugin::Reuse>,
    /// Each key spanned, so a bad setting is reported at its own line.
    pub(crate) settings: Option<Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
    pub(crate) secrets: Option<BTreeMap<String, Spanned<RawSecret>>>,
    pub(crate) rollback: Option<RawRollback>,
    pub(crate) roster: Option<Spanned<RawRoster>>,
    /// `[trust] keys` ids allowed to sign it (see `config::trust`).
    pub(crate) signers: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) require_signature: Option<bool>,
}

/// A decider's `roster = { path = "roster.csv", key = "person_id" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoster {
    pub(crate) path: Spanned<String>,
    pub(crate) key: Option<Spanned<String>>,
}

/// A source's `decision = { deadline_ms = 300, fallback = "deny", … }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDecision {
    pub(crate) deadline_ms: Option<Spanned<i64>>,
    pub(crate) fallback: Option<super::spec::Fallback>,
    pub(crate) tip_on_fallback: Option<Spanned<String>>,
    pub(crate) time_zone: Option<Spanned<String>>,
}

/// A plugin's `rollback` table: when a newly loaded version is replaced by the previous one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRollback {
    pub(crate) enabled: Option<bool>,
    pub(crate) max_failure_ratio: Option<Spanned<f64>>,
    pub(crate) min_calls: Option<Spanned<i64>>,
    pub(crate) window_secs: Option<Spanned<i64>>,
}

/// One named secret of a plugin: `hmac = { env = "PRESERVICA_SECRET" }` or `{ file = "…" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSecret {
    pub(crate) env: Option<String>,
    pub(crate) file: Option<String>,
}

/// `[[sources]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSource {
    pub(crate) id: Spanned<String>,
    pub(crate) path: Option<Spanned<String>>,
    pub(crate) websocket: Option<Spanned<RawWebsocket>>,
    pub(crate) nats: Option<Spanned<RawNatsSource>>,
    pub(crate) normalizer: Spanned<String>,
    pub(crate) decider: Option<Spanned<String>>,
    pub(crate) decision: Option<Spanned<RawDecision>>,
    #[serde(default)]
    pub(crate) filters: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) transforms: Vec<Spanned<String>>,
    pub(crate) auth: Option<Spanned<RawAuth>>,
    pub(crate) max_body_bytes: Option<Spanned<i64>>,
    pub(crate) methods: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) rate_limit: Option<Spanned<RawRateLimit>>,
    #[serde(default)]
    pub(crate) samples: Vec<RawSample>,
}

/// A self-test sample: a capture file, or `{ request = "…", expect = "…" }` where `expect`
/// holds the events it must normalize to.
#[derive(Debug, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub(crate) enum RawSample {
    Path(String),
    Full { request: String, expect: Option<String> },
}

/// A websocket client source: `websocket = { url = "ws://…", reconnect_max_secs = 30 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWebsocket {
    pub(crate) url: Spanned<String>,
    pub(crate) reconnect_max_secs: Option<Spanned<i64>>,
}

/// A NATS source: `nats = { subject = "acme.events.>", stream = "ACME", url = "nats://…" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNatsSource {
    pub(crate) subject: Spanned<String>,
    pub(crate) url: Option<Spanned<String>>,
    pub(crate) stream: Option<Spanned<String>>,
    pub(crate) credentials_file: Option<Spanned<String>>,
    pub(crate) token_env: Option<Spanned<String>>,
    pub(crate) user: Option<Spanned<String>>,
    pub(crate) password_env: Option<Spanned<String>>,
}

/// A source's `auth` table.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum RawAuth {
    /// A struct variant, not a unit one: serde lets a unit variant of an internally tagged
    /// enum carry any other keys, and `{ type = "none", token_env = "X" }` must be an error.
    None {},
    Basic {
        username: String,
        password_env: Option<String>,
        password_file: Option<String>,
    },
    Bearer {
        token_env: Option<String>,
        token_file: Option<String>,
    },
}

/// `[sinks.<id>]`, by its `type`. Not a serde-tagged enum: tagged enums buffer their content
/// and lose the source positions every error message needs, so `parse` reads `type` first
/// and then deserializes the matching struct.
#[derive(Debug)]
pub(crate) enum RawSink {
    Webhook(RawWebhook),
    File(RawFile),
    Nats(RawNatsSink),
}

/// `type = "webhook"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWebhook {
    #[serde(rename = "type")]
    _type: String,
    pub(crate) url: Spanned<String>,
    pub(crate) timeout_ms: Option<Spanned<i64>>,
    pub(crate) max_attempts: Option<Spanned<i64>>,
    pub(crate) backoff_ms: Option<Spanned<i64>>,
    pub(crate) max_backoff_ms: Option<Spanned<i64>>,
    pub(crate) max_age_secs: Option<Spanned<i64>>,
    pub(crate) concurrency: Option<Spanned<i64>>,
    pub(crate) ordering_key: Option<Spanned<String>>,
    pub(crate) format: Option<Spanned<String>>,
    pub(crate) encoding: Option<crate::event::Encoding>,
    pub(crate) signing_secret_env: Option<String>,
    pub(crate) signing_secret_file: Option<String>,
    #[serde(default)]
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) ca_file: Option<String>,
}

/// `type = "file"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    #[serde(rename = "type")]
    _type: String,
    pub(crate) path: String,
    pub(crate) encoding: Option<crate::event::Encoding>,
}

/// `type = "nats"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNatsSink {
    #[serde(rename = "type")]
    _type: String,
    pub(crate) subject: Spanned<String>,
    pub(crate) url: Option<Spanned<String>>,
    pub(crate) jetstream: Option<bool>,
    pub(crate) timeout_ms: Option<Spanned<i64>>,
    pub(crate) credentials_file: Option<Spanned<String>>,
    pub(crate) token_env: Option<Spanned<String>>,
    pub(crate) user: Option<Spanned<String>>,
    pub(crate) password_env: Option<Spanned<String>>,
    pub(crate) encoding: Option<crate::event::Encoding>,
}

const SINK_TYPES: &str = "`webhook`, `file` or `nats`";

fn sink(value: Spanned<DeValue<'_>>, problems: &mut Vec<Problem>) -> Option<Spanned<RawSink>> {
    let span = value.span();
    let kind = match value.get_ref() {
        DeValue::Table(t) => t
            .get("type")
            .map(|v| (v.get_ref().as_str().map(str::to_string), v.span())),
        other => {
            problems.push(Problem::at(
                format!("a sink must be a table, found {}", other.type_str()),
                span,
            ));
            return None;
        }
    };
    match kind {
        Some((Some(k), _)) if k == "webhook" => {
            entity::<RawWebhook>(value, problems).map(|s| Spanned::new(span, RawSink::Webhook(s.into_inner())))
        }
        Some((Some(k), _)) if k == "file" => {
            entity::<RawFile>(value, problems).map(|s| Spanned::new(span, RawSink::File(s.into_inner())))
        }
        Some((Some(k), _)) if k == "nats" => {
            entity::<RawNatsSink>(value, problems).map(|s| Spanned::new(span, RawSink::Nats(s.into_inner())))
        }
        Some((Some(k), at)) => {
            problems.push(Problem::at(
                format!("unknown sink type `{k}`, expected {SINK_TYPES}"),
                at,
            ));
            None
        }
        Some((None, at)) => {
            problems.push(Problem::at(format!("sink `type` must be a string: {SINK_TYPES}"), at));
            None
        }
        None => {
            problems.push(Problem::at(format!("missing field `type` ({SINK_TYPES})"), span));
            None
        }
    }
}

/// `[[routes]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoute {
    pub(crate) name: Option<String>,
    #[serde(rename = "match", default)]
    pub(crate) matcher: RawMatch,
    pub(crate) sinks: Spanned<Vec<Spanned<String>>>,
}

/// A route's `match` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMatch {
    #[serde(default)]
    pub(crate) vendor: Vec<String>,
    #[serde(default)]
    pub(crate) category: Vec<Category>,
    #[serde(default)]
    pub(crate) action: Vec<Action>,
    #[serde(default)]
    pub(crate) source: Vec<Spanned<String>>,
}

pub(super) const TOP_LEVEL: &str =
    "`version`, `server`, `admin`, `cluster`, `trust`, `plugins`, `sources`, `sinks`, `routes`";

fn entity<T: DeserializeOwned>(value: Spanned<DeValue<'_>>, problems: &mut Vec<Problem>) -> Option<Spanned<T>> {
    let span = value.span();
    match T::deserialize(ValueDeserializer::from(value)) {
        Ok(v) => Some(Spanned::new(span, v)),
        Err(e) => {
            let mut p = Problem::from(e);
            p.span = p.span.or(Some(span));
            problems.push(p);
            None
        }
    }
}

fn table_entries<'i>(
    key: &str,
    value: Spanned<DeValue<'i>>,
    problems: &mut Vec<Problem>,
) -> Vec<(Spanned<String>, Spanned<DeValue<'i>>)> {
    let span = value.span();
    match value.into_inner() {
        DeValue::Table(table) => table
            .into_iter()
            .map(|(k, v)| (Spanned::new(k.span(), k.into_inner().into_owned()), v))
            .collect(),
        other => {
            problems.push(Problem::at(
                format!("`{key}` must be a table, found {}", other.type_str()),
                span,
            ));
            Vec::new()
        }
    }
}

fn array_items<'i>(key: &str, value: Spanned<DeValue<'i>>, problems: &mut Vec<Problem>) -> Vec<Spanned<DeValue<'i>>> {
    let span = value.span();
    match value.into_inner() {
        DeValue::Array(items) => items.into_iter().collect(),
        other => {
            problems.push(Problem::at(
                format!(
                    "`{key}` must be an array of tables (`[[{key}]]`), found {}",
                    other.type_str()
                ),
                span,
            ));
            Vec::new()
        }
    }
}

/// Parses config text. A syntax error stops everything; otherwise every entity that parses is
/// returned together with the problems of those that did not, so compilation can still check
/// the rest and all errors are reported at once.
pub(crate) fn parse(text: &str) -> Result<(RawConfig, Vec<Problem>), Vec<Problem>> {
    let root = DeTable::parse(text).map_err(|e| vec![Problem::from(e)])?;
    let mut problems = Vec::new();
    let mut raw = RawConfig::default();
    for (key, value) in root.into_inner() {
        match key.get_ref().as_ref() {
            "version" => raw.version = entity(value, &mut problems),
            "server" => raw.server = entity(value, &mut problems),
            "admin" => raw.admin = entity(value, &mut problems),
            "cluster" => raw.cluster = entity(value, &mut problems),
            "trust" => raw.trust = entity(value, &mut problems),
            "plugins" => {
                for (id, v) in table_entries("plugins", value, &mut problems) {
                    match entity(v, &mut problems) {
                        Some(p) => raw.plugins.push((id, p)),
                        None => {
                            raw.broken_plugins.insert(id.into_inner());
                        }
                    }
                }
            }
            "sinks" => {
                for (id, v) in table_entries("sinks", value, &mut problems) {
                    match sink(v, &mut problems) {
                        Some(s) => raw.sinks.push((id, s)),
                        None => {
                            raw.broken_sinks.insert(id.into_inner());
                        }
                    }
                }
            }
            "sources" => {
                let items = array_items("sources", value, &mut problems);
                let total = items.len();
                raw.sources = items.into_iter().filter_map(|v| entity(v, &mut problems)).collect();
                raw.broken_sources = raw.sources.len() != total;
            }
            "routes" => {
                raw.routes = array_items("routes", value, &mut problems)
                    .into_iter()
                    .filter_map(|v| entity(v, &mut problems))
                    .collect()
            }
            other => problems.push(Problem::at(
                format!("unknown top-level key `{other}`, expected one of {TOP_LEVEL}"),
                key.span(),
            )),
        }
    }
    // Tables iterate in key order; keep entities in file order for stable output.
    raw.plugins.sort_by_key(|(id, _)| id.span().start);
    raw.sinks.sort_by_key(|(id, _)| id.span().start);
    Ok((raw, problems))
}
