//! `[sinks.<id>]` (by `type`) and `[[routes]]`.

use super::{Dflt, Key, Table, Ty, server};
use crate::config::{cluster, sinks};
use crate::event::{Action, Category};

/// `[sinks.<id>]`: one of three shapes, by `type`.
pub(super) static SINK: Ty = Ty::Tagged(&[("webhook", &WEBHOOK), ("file", &FILE), ("nats", &NATS)]);

const ENCODING: Key = Key::opt(
    "encoding",
    Ty::Enum(&["full", "compact"]),
    Dflt::Str("full"),
    "`full`: every field of router.event/v1, nulls included; `compact`: null and empty fields left out.",
);

pub(super) static WEBHOOK: Table = Table {
    path: "sinks.<id> (webhook)",
    about: "HTTP POST of each event, durably: committed to the outbox first, retried with backoff, dead-lettered after `max_attempts` or `max_age_secs` (`switchyard dlq`). Every attempt carries the same `webhook-id` for the receiver's dedup.",
    keys: &[
        Key::req("type", Ty::Enum(&["webhook"]), "`webhook`."),
        Key::req("url", Ty::Str, "The receiver, `http://` or `https://`."),
        Key::int(
            "timeout_ms",
            &sinks::WEBHOOK_TIMEOUT_MS,
            "One attempt, connect to response.",
        ),
        Key::int(
            "max_attempts",
            &sinks::WEBHOOK_MAX_ATTEMPTS,
            "Attempts before the event becomes a dead letter.",
        ),
        Key::int(
            "backoff_ms",
            &sinks::WEBHOOK_BACKOFF_MS,
            "The first retry's delay; it doubles (with jitter) up to `max_backoff_ms`. A `Retry-After` from the receiver is honoured.",
        ),
        Key::int(
            "max_backoff_ms",
            &sinks::WEBHOOK_MAX_BACKOFF_MS,
            "The longest delay between attempts.",
        ),
        Key::int(
            "max_age_secs",
            &sinks::WEBHOOK_MAX_AGE_SECS,
            "An event older than this becomes a dead letter, whatever its attempts.",
        ),
        Key::int(
            "concurrency",
            &sinks::WEBHOOK_CONCURRENCY,
            "Attempts in flight at once.",
        ),
        Key::opt(
            "ordering_key",
            Ty::Str,
            Dflt::None,
            "A JSON pointer (`/source/device_id`): events with the same value are delivered in order, one at a time.",
        ),
        Key::opt(
            "format",
            Ty::Enum(&["json", "cloudevents", "cloudevents-binary"]),
            Dflt::Str("json"),
            "`json`: the event as the body; `cloudevents`: a CloudEvents 1.0 JSON envelope; `cloudevents-binary`: `ce-*` headers with the event as the body.",
        ),
        ENCODING,
        Key::opt(
            "signing_secret_env",
            Ty::Str,
            Dflt::None,
            "An environment variable holding a Standard Webhooks secret (`whsec_<base64>`): requests are signed (`webhook-signature`). Until it is set, events wait in the outbox.",
        ),
        Key::opt(
            "signing_secret_file",
            Ty::Str,
            Dflt::None,
            "A file holding the signing secret, instead of `signing_secret_env`.",
        ),
        Key::opt(
            "headers",
            Ty::Map(&Ty::Str),
            Dflt::None,
            "Extra request headers (`{ x-api-key = \"…\" }`); names and values must be valid HTTP.",
        ),
        Key::opt(
            "ca_file",
            Ty::Str,
            Dflt::None,
            "PEM certificates trusted for an `https://` receiver besides the public roots.",
        ),
    ],
};

pub(super) static FILE: Table = Table {
    path: "sinks.<id> (file)",
    about: "JSON Lines: one event per line, appended and fsynced before the sender's request is answered.",
    keys: &[
        Key::req("type", Ty::Enum(&["file"]), "`file`."),
        Key::req("path", Ty::Str, "The file; relative to `data_dir`."),
        ENCODING,
    ],
};

pub(super) static NATS: Table = Table {
    path: "sinks.<id> (nats)",
    about: "Publishes each event to a NATS subject.",
    keys: &[
        Key::req("type", Ty::Enum(&["nats"]), "`nats`."),
        Key::req(
            "subject",
            Ty::Str,
            "The subject to publish to; `{field}` or `{/json/pointer}` is filled in from the event (`faces.{vendor}.{/source/device_id}`). No wildcards.",
        ),
        Key::opt(
            "url",
            Ty::Str,
            Dflt::Said("the [cluster]'s nats_url"),
            "The NATS servers.",
        ),
        Key::opt(
            "jetstream",
            Ty::Bool,
            Dflt::Bool(false),
            "Wait for the ack of the stream holding the subject (the sender's request waits too).",
        ),
        Key::int(
            "timeout_ms",
            &cluster::NATS_SINK_TIMEOUT_MS,
            "One publish (and its ack).",
        ),
        server::NATS_CREDENTIALS_FILE,
        server::NATS_TOKEN_ENV,
        server::NATS_USER,
        server::NATS_PASSWORD_ENV,
        ENCODING,
    ],
};

pub(super) static ROUTE: Table = Table {
    path: "routes",
    about: "Every event goes to the sinks of every route it matches (each sink once).",
    keys: &[
        Key::opt("name", Ty::Str, Dflt::None, "A name for metrics and the console."),
        Key::opt(
            "match",
            Ty::Table(&MATCH),
            Dflt::Said("{} (every event)"),
            "Which events: all the fields given must match (any of the values listed for each).",
        ),
        Key::req("sinks", Ty::List(&Ty::Str), "Sink ids."),
    ],
};

pub(super) static MATCH: Table = Table {
    path: "routes.match",
    about: "Conditions on the normalized event; an empty list matches everything.",
    keys: &[
        Key::opt(
            "vendor",
            Ty::List(&Ty::Str),
            Dflt::Said("[]"),
            "`vendor` values (`findface`, `omni`…).",
        ),
        Key::opt(
            "category",
            Ty::List(&Ty::EnumFn(categories)),
            Dflt::Said("[]"),
            "`category` values.",
        ),
        Key::opt(
            "action",
            Ty::List(&Ty::EnumFn(actions)),
            Dflt::Said("[]"),
            "`action` values.",
        ),
        Key::opt("source", Ty::List(&Ty::Str), Dflt::Said("[]"), "Source ids."),
    ],
};

fn categories() -> Vec<&'static str> {
    Category::ALL.iter().map(|c| c.as_str()).collect()
}

fn actions() -> Vec<&'static str> {
    Action::ALL.iter().map(|a| a.as_str()).collect()
}
