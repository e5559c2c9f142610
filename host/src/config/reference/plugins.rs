//! `[plugins.<id>]` and its nested tables.

use super::{Dflt, Key, Table, Ty};
use crate::config::{decision, plugins};

pub(super) static PLUGIN: Table = Table {
    path: "plugins.<id>",
    about: "One WebAssembly component and how it runs. The id (a-z, 0-9, `-`, `_`) is what sources name. A changed component file is reloaded by itself; a new version that fails too often is rolled back.",
    keys: &[
        Key::opt(
            "builtin",
            Ty::EnumFn(builtin_names),
            Dflt::None,
            "A plugin compiled into the router (`switchyard plugin list`); its kind is implied. Give `builtin` or `path`.",
        ),
        Key::opt(
            "path",
            Ty::Str,
            Dflt::None,
            "A component file (`.wasm`), relative to the config's folder; or `builtin:<name>`.",
        ),
        Key::opt(
            "source",
            Ty::Str,
            Dflt::None,
            "A module in an OCI registry: `oci://registry/repository:tag@sha256:<manifest digest>` (pin the digest; a tag alone is resolved once, logged and remembered). Fetched into `<data_dir>/oci` and used from there, also offline. Give one of `builtin`, `path`, `source`.",
        ),
        Key::opt(
            "kind",
            Ty::Enum(&["normalizer", "filter", "transform", "decider"]),
            Dflt::Said("the built-in plugin's own; required with `path` and `source`"),
            "The WIT world it implements: a normalizer turns a request into events, a filter keeps or drops an event, a transform rewrites one, a decider rules on a door.",
        ),
        Key::int(
            "timeout_ms",
            &plugins::PLUGIN_TIMEOUT_MS,
            "CPU budget of one call, in milliseconds of the plugin's own CPU time.",
        ),
        Key::int(
            "timeout_ms_per_mib",
            &plugins::PLUGIN_TIMEOUT_MS_PER_MIB,
            "More CPU budget per MiB of the call's input, so large batches are not cut short.",
        ),
        Key::int(
            "max_memory_bytes",
            &plugins::PLUGIN_MAX_MEMORY_BYTES,
            "Linear-memory cap of one instance.",
        ),
        Key::opt(
            "reuse",
            Ty::Enum(&["fresh", "warm"]),
            Dflt::Said("`\"warm\"` for `builtin` plugins, `\"fresh\"` for `path` ones"),
            "`fresh`: a new instance per request. `warm`: instances are kept and reused one request at a time (faster: no instantiation, no fresh memory to fault in; what a guest keeps in memory carries over, see README \"Isolation\"). The built-in plugins keep nothing between requests, so they run warm unless told otherwise.",
        ),
        Key::opt(
            "settings",
            Ty::AnyTable,
            Dflt::None,
            "The plugin's own settings, passed as JSON; a plugin that exports `validate-settings` checks them at load.",
        ),
        Key::opt(
            "secrets",
            Ty::Map(&Ty::Table(&SECRET)),
            Dflt::None,
            "Named keys the plugin may use through `host.hmac-sha256` (it never sees the values): `secrets = { hmac = { env = \"X\" } }`.",
        ),
        Key::opt(
            "rollback",
            Ty::Table(&ROLLBACK),
            Dflt::Said("{ max_failure_ratio = 0.5, min_calls = 10, window_secs = 300 }"),
            "When a newly loaded version is replaced by the previous one.",
        ),
        Key::opt(
            "roster",
            Ty::Table(&ROSTER),
            Dflt::None,
            "A decider's roster file (CSV or JSON), read through `site.roster-lookup`; reloaded when it changes.",
        ),
        Key::opt(
            "signers",
            Ty::List(&Ty::Str),
            Dflt::None,
            "`[trust] keys` ids allowed to sign this plugin's component; naming any requires a signature by one of them.",
        ),
        Key::opt(
            "require_signature",
            Ty::Bool,
            Dflt::Said("`[trust] require_signature`, or `true` when `signers` is given"),
            "Refuse this plugin's component unless a trusted key signed it (`switchyard plugin sign`). Built-in plugins are part of the binary and never checked.",
        ),
    ],
};

pub(super) static TRUST: Table = Table {
    path: "trust",
    about: "Whose plugins run: the keys trusted to sign components (`switchyard plugin keygen`, `plugin sign`) and whether a signature is required. Checked by `check`, at start and on every reload, before a component is compiled; a signed component that was changed, or whose `expires` claim has passed, is always refused. See docs/plugins/distributing.md.",
    keys: &[
        Key::opt(
            "require_signature",
            Ty::Bool,
            Dflt::Bool(false),
            "Every plugin from a file must be signed by one of `keys` (a plugin's own `require_signature` overrides it).",
        ),
        Key::opt(
            "keys",
            Ty::Array(&TRUST_KEY),
            Dflt::None,
            "The trusted public keys, each with the id that `signers` and `/admin/status` name it by.",
        ),
    ],
};

pub(super) static TRUST_KEY: Table = Table {
    path: "trust.keys",
    about: "One trusted ed25519 public key: inline or from a file (one of them).",
    keys: &[
        Key::req("id", Ty::Str, "The operator's name for the key (a-z, 0-9, `-`, `_`)."),
        Key::opt(
            "public_key",
            Ty::Str,
            Dflt::None,
            "`ed25519:<base64>`, as `switchyard plugin keygen` prints it.",
        ),
        Key::opt(
            "public_key_file",
            Ty::Str,
            Dflt::None,
            "A file holding the key (`ed25519:<base64>`, or PEM as `openssl pkey -pubout` writes it), relative to the config's folder; read on every start and reload.",
        ),
    ],
};

pub(super) static SECRET: Table = Table {
    path: "plugins.<id>.secrets.<name>",
    about: "Where one secret's value is read from: an environment variable or a file (one of them).",
    keys: &[
        Key::opt("env", Ty::Str, Dflt::None, "An environment variable holding the value."),
        Key::opt(
            "file",
            Ty::Str,
            Dflt::None,
            "A file holding the value (trailing newlines dropped); relative to the config's folder.",
        ),
    ],
};

pub(super) static ROLLBACK: Table = Table {
    path: "plugins.<id>.rollback",
    about: "A new version faulting on more than `max_failure_ratio` of its first `min_calls` calls within `window_secs` is taken back.",
    keys: &[
        Key::opt(
            "enabled",
            Ty::Bool,
            Dflt::Bool(true),
            "`false`: never roll this plugin back.",
        ),
        Key::opt(
            "max_failure_ratio",
            Ty::Float { min: 0.0, max: 1.0 },
            Dflt::Float(0.5),
            "The share of faulting calls that condemns a new version.",
        ),
        Key::int(
            "min_calls",
            &plugins::ROLLBACK_MIN_CALLS,
            "Calls judged before deciding.",
        ),
        Key::int(
            "window_secs",
            &plugins::ROLLBACK_WINDOW_SECS,
            "How long after loading a version may still be taken back.",
        ),
    ],
};

pub(super) static ROSTER: Table = Table {
    path: "plugins.<id>.roster",
    about: "The operator's roster for a decider.",
    keys: &[
        Key::req(
            "path",
            Ty::Str,
            "The CSV (header row) or JSON (array of objects) file; relative to the config's folder.",
        ),
        Key::opt(
            "key",
            Ty::Str,
            Dflt::Str(decision::DEFAULT_ROSTER_KEY),
            "The column (or member) holding each entry's key, which `site.roster-lookup` looks up.",
        ),
    ],
};

fn builtin_names() -> Vec<&'static str> {
    crate::plugin::builtin::FIRST_PARTY.iter().map(|b| b.name).collect()
}
