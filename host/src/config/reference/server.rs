//! `[server]`, `[server.limits]`, `[server] quarantine`, `[admin]`, `[cluster]`.

use super::{Dflt, Key, Table, Ty};
use crate::config::{cluster, edge, server};

pub(super) static SERVER: Table = Table {
    path: "server",
    about: "The ingest listener, the data dir and what the router may keep on disk and in memory.",
    keys: &[
        Key::opt(
            "listen",
            Ty::Str,
            Dflt::Str(crate::config::DEFAULT_LISTEN),
            "Where devices and senders connect (`address:port`; `0.0.0.0:8080` for every interface).",
        )
        .restart(),
        Key::opt(
            "data_dir",
            Ty::Str,
            Dflt::Str(server::DEFAULT_DATA_DIR),
            "The outbox, quarantine, compiled-plugin cache and file sinks. Relative: to the config file's folder. One router per data dir (a lock file enforces it).",
        )
        .restart(),
        Key::int(
            "max_in_flight",
            &server::MAX_IN_FLIGHT,
            "Requests processed at once (plugins running, events being committed); more wait. Also bounds the doors answered but not yet committed.",
        )
        .restart(),
        Key::int(
            "dedup_window_secs",
            &server::DEDUP_WINDOW_SECS,
            "An event repeated within this many seconds (same dedup key and content) is delivered once; 0 turns dedup off. Covers vendors' retries.",
        ),
        Key::int(
            "dedup_max_keys",
            &server::DEDUP_MAX_KEYS,
            "Keys the dedup window remembers at most; the oldest are forgotten first.",
        ),
        Key::int(
            "min_free_bytes",
            &server::MIN_FREE_BYTES,
            "Disk budget: below this much free space on the data dir's file system, new requests get 503 (door decisions go on down to half of it).",
        ),
        Key::opt(
            "quarantine",
            Ty::Table(&QUARANTINE),
            Dflt::None,
            "Caps of the quarantine, where requests that could not be processed are kept for replay.",
        ),
        Key::opt(
            "limits",
            Ty::Table(&LIMITS),
            Dflt::None,
            "Edge limits: what one connection, sender or plugin result may cost (see SECURITY.md).",
        ),
    ],
};

pub(super) static QUARANTINE: Table = Table {
    path: "server.quarantine",
    about: "When a cap is reached new entries are refused (and counted), old ones are never evicted.",
    keys: &[
        Key::int(
            "max_bytes",
            &server::QUARANTINE_MAX_BYTES,
            "Bytes of all entries together.",
        ),
        Key::int("max_entries", &server::QUARANTINE_MAX_ENTRIES, "Entries at most."),
        Key::opt(
            "source_max_bytes",
            Ty::IntFrom { min: 0, max: i64::MAX },
            Dflt::Said("268435456 (256 MiB), or max_bytes if smaller"),
            "Bytes one source's entries may take, so one noisy source cannot use the room the others need; at most `max_bytes`.",
        ),
    ],
};

pub(super) static LIMITS: Table = Table {
    path: "server.limits",
    about: "Timeouts and caps at the edge; they apply to new connections and requests at once after a reload.",
    keys: &[
        Key::int(
            "header_timeout_ms",
            &edge::LIMITS_HEADER_TIMEOUT_MS,
            "From accepting a connection (or the end of the last reply) to a complete request head; also the keep-alive idle timeout.",
        ),
        Key::int(
            "body_timeout_ms",
            &edge::LIMITS_BODY_TIMEOUT_MS,
            "The whole body, however fast it trickles in.",
        ),
        Key::int(
            "min_body_bytes_per_sec",
            &edge::LIMITS_MIN_BODY_BYTES_PER_SEC,
            "After the first 5 s a body must arrive at least this fast; 0: no minimum.",
        ),
        Key::int(
            "max_connections",
            &edge::LIMITS_MAX_CONNECTIONS,
            "Connections at once, all senders; kept below the open-file limit. When full, the slowest connections are closed first.",
        ),
        Key::int(
            "max_connections_per_peer",
            &edge::LIMITS_MAX_CONNECTIONS_PER_PEER,
            "Connections at once from one peer address.",
        ),
        Key::int(
            "max_buffered_body_bytes",
            &edge::LIMITS_MAX_BUFFERED_BODY_BYTES,
            "Request bodies held in memory at once, all senders.",
        ),
        Key::opt(
            "peer_buffered_body_bytes",
            Ty::IntFrom {
                min: 1 << 10,
                max: i64::MAX,
            },
            Dflt::Said("max_buffered_body_bytes / 4"),
            "Request bodies held in memory at once from one peer address; at most `max_buffered_body_bytes`.",
        ),
        Key::int(
            "max_processing_bytes",
            &edge::LIMITS_MAX_PROCESSING_BYTES,
            "Memory of the requests being processed (each counts 16 × its body); more wait their turn.",
        ),
        Key::int(
            "max_events_per_request",
            &edge::LIMITS_MAX_EVENTS_PER_REQUEST,
            "Events one normalizer or transform call may return; more is the plugin's fault (500, quarantined).",
        ),
        Key::int("max_event_bytes", &edge::LIMITS_MAX_EVENT_BYTES, "One event, as JSON."),
        Key::int(
            "max_reply_bytes",
            &edge::LIMITS_MAX_REPLY_BYTES,
            "The body of a normalizer's reply to the sender.",
        ),
    ],
};

pub(super) static ADMIN: Table = Table {
    path: "admin",
    about: "The console (`/ui`), `/metrics` and `/admin/*`: loopback clients always; others when listed in `allow` or bearing the token.",
    keys: &[
        Key::opt(
            "listen",
            Ty::Str,
            Dflt::Str(crate::config::DEFAULT_ADMIN_LISTEN),
            "The console's own listener (`address:port`), or `\"off\"` for none. `/metrics` and `/admin/*` also answer on the ingest listener.",
        )
        .restart(),
        Key::opt(
            "allow",
            Ty::List(&Ty::Str),
            Dflt::Said("[] (loopback only)"),
            "Addresses or CIDR networks (`10.0.0.0/8`, `2001:db8::/32`) allowed without a token.",
        ),
        Key::opt(
            "token_env",
            Ty::Str,
            Dflt::None,
            "An environment variable holding the admin token: any peer sending `Authorization: Bearer <token>` is let in (the console asks for it once).",
        ),
        Key::opt(
            "token_file",
            Ty::Str,
            Dflt::None,
            "A file holding the admin token (its first line), instead of `token_env`.",
        ),
    ],
};

pub(super) static CLUSTER: Table = Table {
    path: "cluster",
    about: "Routers sharing NATS JetStream: one outbox stream, one dedup window, configs published with `switchyard publish`.",
    keys: &[
        Key::req(
            "nats_url",
            Ty::Str,
            "The NATS servers, `nats://host:4222`; comma-separated for several.",
        ),
        Key::opt(
            "node",
            Ty::Str,
            Dflt::Said("hostname-port"),
            "This router's name in the cluster (status, consumers).",
        ),
        NATS_CREDENTIALS_FILE,
        NATS_TOKEN_ENV,
        NATS_USER,
        NATS_PASSWORD_ENV,
        Key::opt(
            "stream",
            Ty::Str,
            Dflt::Str(cluster::DEFAULT_STREAM),
            "The JetStream stream that is the shared outbox.",
        ),
        Key::opt(
            "dead_stream",
            Ty::Str,
            Dflt::Str(cluster::DEFAULT_DEAD_STREAM),
            "The stream of dead letters.",
        ),
        Key::opt(
            "subject_prefix",
            Ty::Str,
            Dflt::Str(cluster::DEFAULT_SUBJECT_PREFIX),
            "Subjects: `<prefix>.out.<sink>` (outbox) and `<prefix>.dead.<sink>` (dead letters).",
        ),
        Key::int(
            "replicas",
            &cluster::CLUSTER_REPLICAS,
            "Stream replicas (3 on a three-server NATS cluster).",
        ),
        Key::int(
            "ack_wait_secs",
            &cluster::CLUSTER_ACK_WAIT_SECS,
            "A delivery not acknowledged within this goes to another router.",
        ),
        Key::int(
            "publish_timeout_ms",
            &cluster::CLUSTER_PUBLISH_TIMEOUT_MS,
            "How long a sender waits for JetStream's ack before getting 503.",
        ),
    ],
};

/// How a NATS connection authenticates: the same four keys in `[cluster]`, a NATS source and
/// a NATS sink (one of a `.creds` file, a token, or a user and password).
pub(super) const NATS_CREDENTIALS_FILE: Key = Key::opt(
    "credentials_file",
    Ty::Str,
    Dflt::None,
    "A NATS `.creds` file (JWT and NKey seed).",
);
pub(super) const NATS_TOKEN_ENV: Key = Key::opt(
    "token_env",
    Ty::Str,
    Dflt::None,
    "An environment variable holding a NATS token.",
);
pub(super) const NATS_USER: Key = Key::opt("user", Ty::Str, Dflt::None, "A NATS user name (with `password_env`).");
pub(super) const NATS_PASSWORD_ENV: Key = Key::opt(
    "password_env",
    Ty::Str,
    Dflt::None,
    "An environment variable holding the NATS user's password.",
);
