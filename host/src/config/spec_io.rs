//! The compiled specs of where events come from and go to: sources (HTTP paths, websocket
//! feeds, NATS subjects) with their authentication, and sinks (files, NATS, webhooks).

use super::spec::*;
use std::path::PathBuf;

/// How a source authenticates senders.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthSpec {
    /// Anyone may post.
    None,
    /// HTTP Basic.
    Basic {
        /// Expected user name.
        username: String,
        /// Expected password.
        password: SecretRef,
    },
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// Expected token.
        token: SecretRef,
    },
}

/// `[[sources]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSpec {
    /// The id (events carry it; routes match on it).
    pub id: String,
    /// Where its events come from.
    pub kind: SourceKind,
    /// Normalizer plugin id.
    pub normalizer: String,
    /// Its door decisions, when it names a `decider`.
    pub decision: Option<DecisionSpec>,
    /// Filter plugin ids, in order.
    pub filters: Vec<String>,
    /// Transform plugin ids, in order.
    pub transforms: Vec<String>,
    /// Sender authentication.
    pub auth: AuthSpec,
    /// Largest accepted body.
    pub max_body_bytes: usize,
    /// HTTP methods accepted (upper case); others are answered 405 and not quarantined.
    pub methods: Vec<String>,
    /// Authenticated requests per second beyond which the source answers 429.
    pub rate_limit: Option<RateLimit>,
    /// Self-test samples run before a reloaded config goes live.
    pub samples: Vec<SampleSpec>,
}

/// Where a source's events come from.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceKind {
    /// Requests to this URL path of the ingest listener.
    Http {
        /// The path (normalized: no trailing slash).
        path: String,
    },
    /// A websocket feed the router connects to.
    Websocket(WebsocketSpec),
    /// A NATS subject the router subscribes to.
    Nats(NatsSourceSpec),
}

impl SourceKind {
    /// The URL path of an HTTP source.
    pub fn path(&self) -> Option<&str> {
        match self {
            SourceKind::Http { path } => Some(path),
            _ => None,
        }
    }

    /// The feed of a websocket source.
    pub fn websocket(&self) -> Option<&WebsocketSpec> {
        match self {
            SourceKind::Websocket(ws) => Some(ws),
            _ => None,
        }
    }

    /// The subject of a NATS source.
    pub fn nats(&self) -> Option<&NatsSourceSpec> {
        match self {
            SourceKind::Nats(nats) => Some(nats),
            _ => None,
        }
    }

    /// Where it takes events from, for people: its URL path, feed URL or NATS subject.
    pub fn endpoint(&self) -> String {
        match self {
            SourceKind::Http { path } => path.clone(),
            SourceKind::Websocket(ws) => ws.url.to_string(),
            SourceKind::Nats(nats) => format!("nats {} ({})", nats.subject, nats.url),
        }
    }
}

/// A self-test sample.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleSpec {
    /// A capture file (request envelope or body).
    pub request: PathBuf,
    /// Expected normalized events (JSON array, volatile ids masked), if any.
    pub expect: Option<PathBuf>,
}

/// A websocket feed the router connects to and reads events from.
#[derive(Debug, Clone, PartialEq)]
pub struct WebsocketSpec {
    /// `ws://` URL.
    pub url: hyper::Uri,
    /// Longest wait between reconnection attempts.
    pub reconnect_max_secs: u64,
}

/// `[sinks.<id>]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkSpec {
    /// The id.
    pub id: String,
    /// What kind.
    pub kind: SinkKind,
    /// How events are written.
    pub encoding: crate::event::Encoding,
}

/// The sink kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum SinkKind {
    /// POST each event as JSON.
    Webhook(WebhookSpec),
    /// Append JSON Lines to a file.
    File {
        /// Absolute path.
        path: PathBuf,
    },
    /// Publish each event to NATS.
    Nats(NatsSinkSpec),
}

/// A NATS source: messages on a subject, each one handled like a request body.
#[derive(Debug, Clone, PartialEq)]
pub struct NatsSourceSpec {
    /// NATS server URLs, comma-separated.
    pub url: String,
    /// Credentials.
    pub auth: NatsAuth,
    /// The subject (wildcards allowed).
    pub subject: String,
    /// The JetStream stream holding the subject: read through a durable consumer
    /// (`source-<id>`), each message acknowledged once processed or quarantined. Without it:
    /// a core NATS queue subscription (`switchyard-<id>`), at most once.
    pub stream: Option<String>,
}

/// A NATS sink.
#[derive(Debug, Clone, PartialEq)]
pub struct NatsSinkSpec {
    /// NATS server URLs, comma-separated.
    pub url: String,
    /// Credentials.
    pub auth: NatsAuth,
    /// The subject, literal parts and event fields (see `sink::nats`).
    pub subject: Vec<SubjectPart>,
    /// The template as written (for messages).
    pub subject_template: String,
    /// Await a JetStream stream's acknowledgement of each event before the sender's 2xx.
    pub jetstream: bool,
    /// How long a publish (and its ack) may take before the request fails with 503.
    pub timeout: std::time::Duration,
}

/// A piece of a NATS sink's subject template.
#[derive(Debug, Clone, PartialEq)]
pub enum SubjectPart {
    /// Written as is.
    Literal(String),
    /// An event field by JSON pointer (`{vendor}` is `{/vendor}`).
    Field(String),
}

/// A webhook sink.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSpec {
    /// Target URL (http or https).
    pub url: hyper::Uri,
    /// Per-attempt timeout.
    pub timeout_ms: u64,
    /// Attempts before the event is dead-lettered (≥ 1).
    pub max_attempts: u32,
    /// Backoff scale: retry n waits a random time up to `backoff_ms · 2^(n-1)` (full jitter).
    pub backoff_ms: u64,
    /// Longest backoff between two attempts.
    pub max_backoff_ms: u64,
    /// Age (from commit) after which an undelivered event is dead-lettered.
    pub max_age_secs: u64,
    /// Deliveries in flight at once.
    pub concurrency: usize,
    /// JSON pointer into the event (e.g. `/source/device_id`): events with the same value are
    /// delivered one at a time, in commit order. None: no ordering, full concurrency.
    pub ordering_key: Option<String>,
    /// Body format.
    pub format: WebhookFormat,
    /// Standard Webhooks signing secret (`whsec_…`), if requests are signed.
    pub signing_secret: Option<SecretRef>,
    /// Extra request headers.
    pub headers: Vec<(String, String)>,
    /// Extra trusted certificate(s) for an https receiver with a private CA (PEM).
    pub ca_file: Option<PathBuf>,
}

/// How a webhook sink encodes events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    /// The router.event/v1 JSON as is (`json`).
    Json,
    /// A CloudEvents 1.0 JSON envelope with the event as `data` (`cloudevents`).
    CloudEventsStructured,
    /// CloudEvents 1.0 binary mode: `ce-*` headers, the event JSON as body (`cloudevents-binary`).
    CloudEventsBinary,
}

impl WebhookFormat {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Json => "json",
            WebhookFormat::CloudEventsStructured => "cloudevents",
            WebhookFormat::CloudEventsBinary => "cloudevents-binary",
        }
    }
}
