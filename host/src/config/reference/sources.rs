//! `[[sources]]` and its nested tables.

use super::{Dflt, Key, Table, Ty, server};
use crate::config::{compile, decision};

pub(super) static SOURCE: Table = Table {
    path: "sources",
    about: "Where events come from — an HTTP path, a websocket feed the router connects to, or a NATS subject (exactly one) — and the plugins each request goes through.",
    keys: &[
        Key::req(
            "id",
            Ty::Str,
            "The source's name (a-z, 0-9, `-`, `_`): in events (`source.id`), routes, metrics and the quarantine.",
        ),
        Key::opt(
            "path",
            Ty::Str,
            Dflt::None,
            "An HTTP path on the ingest listener (`/ingest/findface`); sub-paths reach the same source.",
        ),
        Key::opt(
            "websocket",
            Ty::Table(&WEBSOCKET),
            Dflt::None,
            "A websocket event feed to connect to (3DiVi OMNI), instead of `path`.",
        ),
        Key::opt(
            "nats",
            Ty::Table(&NATS),
            Dflt::None,
            "A NATS subject to subscribe to, instead of `path`.",
        ),
        Key::req(
            "normalizer",
            Ty::Str,
            "The id of the normalizer plugin that turns each request into events.",
        ),
        Key::opt(
            "decider",
            Ty::Str,
            Dflt::None,
            "The id of a decider plugin ruling on door requests (the normalizer must export `answer-api`).",
        ),
        Key::opt(
            "decision",
            Ty::Table(&DECISION),
            Dflt::None,
            "Deadline and fallback of door decisions.",
        ),
        Key::opt(
            "filters",
            Ty::List(&Ty::Str),
            Dflt::Said("[]"),
            "Filter plugin ids, applied in order; a dropped event goes nowhere (counted).",
        ),
        Key::opt(
            "transforms",
            Ty::List(&Ty::Str),
            Dflt::Said("[]"),
            "Transform plugin ids, applied in order after the filters.",
        ),
        Key::opt(
            "auth",
            Ty::Tagged(&[("none", &AUTH_NONE), ("basic", &AUTH_BASIC), ("bearer", &AUTH_BEARER)]),
            Dflt::Said("{ type = \"none\" }"),
            "How senders authenticate. A missing secret answers 503 until it is set; a wrong one 401.",
        ),
        Key::int(
            "max_body_bytes",
            &compile::SOURCE_MAX_BODY_BYTES,
            "The largest request body (or websocket message); larger gets 413.",
        ),
        Key::opt(
            "methods",
            Ty::List(&Ty::Enum(compile::METHODS)),
            Dflt::Said("[\"POST\"]"),
            "HTTP methods accepted; others get 405.",
        ),
        Key::opt(
            "rate_limit",
            Ty::Table(&RATE_LIMIT),
            Dflt::None,
            "Authenticated requests per second, shared fairly between peers; over it: 429 with Retry-After.",
        ),
        Key::opt(
            "samples",
            Ty::ListOrTable(&SAMPLE),
            Dflt::Said("[]"),
            "Requests run through the pipeline on every reload before the new config goes live: a capture file, or `{ request, expect }`. A failing sample keeps the previous config.",
        ),
    ],
};

pub(super) static WEBSOCKET: Table = Table {
    path: "sources.websocket",
    about: "A websocket feed the router connects to and follows, reconnecting with backoff.",
    keys: &[
        Key::req("url", Ty::Str, "The feed, `ws://host/path?query`."),
        Key::int(
            "reconnect_max_secs",
            &compile::WEBSOCKET_RECONNECT_MAX_SECS,
            "The longest wait between reconnection attempts.",
        ),
    ],
};

pub(super) static NATS: Table = Table {
    path: "sources.nats",
    about: "A NATS subject to take events from (core NATS, or a JetStream stream with `stream`).",
    keys: &[
        Key::req("subject", Ty::Str, "The subject (wildcards allowed: `acme.events.>`)."),
        Key::opt(
            "url",
            Ty::Str,
            Dflt::Said("the [cluster]'s nats_url"),
            "The NATS servers.",
        ),
        Key::opt(
            "stream",
            Ty::Str,
            Dflt::None,
            "A JetStream stream holding the subject: messages are acknowledged once committed.",
        ),
        server::NATS_CREDENTIALS_FILE,
        server::NATS_TOKEN_ENV,
        server::NATS_USER,
        server::NATS_PASSWORD_ENV,
    ],
};

pub(super) static DECISION: Table = Table {
    path: "sources.decision",
    about: "A door is waiting: what answers when the decider cannot in time.",
    keys: &[
        Key::int(
            "deadline_ms",
            &decision::DECISION_DEADLINE_MS,
            "From the complete request to the ruling, wall-clock; past it the fallback answers.",
        ),
        Key::opt(
            "fallback",
            Ty::Enum(&["deny", "grant", "device"]),
            Dflt::Str("deny"),
            "`deny` keeps the door shut, `grant` opens it, `device` answers as if there were no decider.",
        ),
        Key::opt(
            "tip_on_fallback",
            Ty::Str,
            Dflt::None,
            "The text the terminal shows with a fallback answer (at most 256 bytes, no control characters).",
        ),
        Key::opt(
            "time_zone",
            Ty::Str,
            Dflt::Str("UTC"),
            "The site's IANA time zone (`Europe/Berlin`), for `site.local-now` (rules with hours and days).",
        ),
    ],
};

pub(super) static RATE_LIMIT: Table = Table {
    path: "sources.rate_limit",
    about: "A token bucket per source, shared fairly: one peer gets at most its share while others wait.",
    keys: &[
        Key::req(
            "per_second",
            Ty::Float { min: 0.0, max: 1e6 },
            "Requests per second, sustained (above 0).",
        ),
        Key::opt(
            "burst",
            Ty::IntFrom { min: 1, max: 1_000_000 },
            Dflt::Said("one second's worth of per_second (at least 1)"),
            "Requests allowed at once after a quiet spell.",
        ),
    ],
};

pub(super) static AUTH_NONE: Table = Table {
    path: "sources.auth (none)",
    about: "No authentication: keep such a source reachable only by the systems that post to it.",
    keys: &[Key::req("type", Ty::Enum(&["none"]), "`none`.")],
};

pub(super) static AUTH_BASIC: Table = Table {
    path: "sources.auth (basic)",
    about: "HTTP Basic authentication (NoahFace).",
    keys: &[
        Key::req("type", Ty::Enum(&["basic"]), "`basic`."),
        Key::req("username", Ty::Str, "The user name senders give."),
        Key::opt(
            "password_env",
            Ty::Str,
            Dflt::None,
            "An environment variable holding the password (this or `password_file`).",
        ),
        Key::opt(
            "password_file",
            Ty::Str,
            Dflt::None,
            "A file holding the password; relative to the config's folder.",
        ),
    ],
};

pub(super) static AUTH_BEARER: Table = Table {
    path: "sources.auth (bearer)",
    about: "`Authorization: Bearer <token>`.",
    keys: &[
        Key::req("type", Ty::Enum(&["bearer"]), "`bearer`."),
        Key::opt(
            "token_env",
            Ty::Str,
            Dflt::None,
            "An environment variable holding the token (this or `token_file`).",
        ),
        Key::opt(
            "token_file",
            Ty::Str,
            Dflt::None,
            "A file holding the token; relative to the config's folder.",
        ),
    ],
};

pub(super) static SAMPLE: Table = Table {
    path: "sources.samples",
    about: "A self-test sample given as a table (a plain string is a capture file's path).",
    keys: &[
        Key::req(
            "request",
            Ty::Str,
            "A captured request (`switchyard` capture JSON, or a raw body file).",
        ),
        Key::opt(
            "expect",
            Ty::Str,
            Dflt::None,
            "A JSON file with the events it must normalize to.",
        ),
    ],
};
