//! `[server]`: listen address, data dir, concurrency, dedup, and the storage limits (disk
//! budget, quarantine caps); the edge limits are `edge`'s.

use super::bounds::Int;
use super::ctx::Ctx;
use super::raw::{RawConfig, RawQuarantine};
use super::spec::ServerSpec;
use crate::quarantine::Limits;
use toml::Spanned;

/// Default listen address: loopback, so a fresh install is not exposed to the network.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

pub(super) const DEFAULT_DATA_DIR: &str = "data";
const DEFAULT_MAX_IN_FLIGHT: i64 = 256;
/// Ten minutes covers FindFace's retry schedule (≤ 100 s apart) and OMNI's 5-second re-sends;
/// longer offline-cache replays can be covered by raising it.
const DEFAULT_DEDUP_WINDOW_SECS: i64 = 600;
/// About 200 MB at the worst; a busy router sees far fewer distinct keys per window.
const DEFAULT_DEDUP_MAX_KEYS: i64 = 1_000_000;
/// Room for SQLite's WAL checkpoints and a few minutes of traffic at full speed after the
/// router stops taking requests, so it stops cleanly instead of failing mid-write.
const DEFAULT_MIN_FREE_BYTES: i64 = 256 << 20;
/// A generous audit trail of failed requests that still cannot eat a small disk.
const DEFAULT_QUARANTINE_MAX_BYTES: i64 = 1 << 30;
const DEFAULT_QUARANTINE_MAX_ENTRIES: i64 = 100_000;
/// A quarter of the total: one noisy source cannot take the room the others need.
const DEFAULT_QUARANTINE_SOURCE_MAX_BYTES: i64 = 256 << 20;

pub(super) const MAX_IN_FLIGHT: Int = Int {
    label: "max_in_flight",
    default: DEFAULT_MAX_IN_FLIGHT,
    min: 1,
    max: 100_000,
};

pub(super) const DEDUP_WINDOW_SECS: Int = Int {
    label: "dedup_window_secs",
    default: DEFAULT_DEDUP_WINDOW_SECS,
    min: 0,
    max: 7 * 86_400,
};

pub(super) const DEDUP_MAX_KEYS: Int = Int {
    label: "dedup_max_keys",
    default: DEFAULT_DEDUP_MAX_KEYS,
    min: 1,
    max: 100_000_000,
};

pub(super) const MIN_FREE_BYTES: Int = Int {
    label: "min_free_bytes",
    default: DEFAULT_MIN_FREE_BYTES,
    min: 0,
    max: i64::MAX,
};

pub(super) const QUARANTINE_MAX_BYTES: Int = Int {
    label: "quarantine.max_bytes",
    default: DEFAULT_QUARANTINE_MAX_BYTES,
    min: 0,
    max: i64::MAX,
};

pub(super) const QUARANTINE_MAX_ENTRIES: Int = Int {
    label: "quarantine.max_entries",
    default: DEFAULT_QUARANTINE_MAX_ENTRIES,
    min: 0,
    max: i64::MAX,
};

pub(super) fn server(cx: &mut Ctx<'_>, raw: &RawConfig) -> ServerSpec {
    let s = raw.server.as_ref().map(Spanned::get_ref);
    let listen = match s.and_then(|s| s.listen.as_ref()) {
        Some(l) => l.get_ref().parse().unwrap_or_else(|e| {
            cx.err(
                format!("`listen` must be an address like \"127.0.0.1:8080\": {e}"),
                l.span(),
            );
            DEFAULT_LISTEN.parse().expect("valid default")
        }),
        None => DEFAULT_LISTEN.parse().expect("valid default"),
    };
    let data_dir = cx.resolve(s.and_then(|s| s.data_dir.as_deref()).unwrap_or(DEFAULT_DATA_DIR));
    let max_in_flight = cx.key(s.and_then(|s| s.max_in_flight.as_ref()), &MAX_IN_FLIGHT) as usize;
    let dedup_window_secs = cx.key(s.and_then(|s| s.dedup_window_secs.as_ref()), &DEDUP_WINDOW_SECS) as u64;
    let dedup_max_keys = cx.key(s.and_then(|s| s.dedup_max_keys.as_ref()), &DEDUP_MAX_KEYS) as usize;
    let min_free_bytes = cx.key(s.and_then(|s| s.min_free_bytes.as_ref()), &MIN_FREE_BYTES) as u64;
    let quarantine = quarantine(cx, s.and_then(|s| s.quarantine.as_ref()));
    let limits = super::edge::limits(cx, s.and_then(|s| s.limits.as_ref()));
    ServerSpec {
        listen,
        data_dir,
        max_in_flight,
        dedup_window_secs,
        dedup_max_keys,
        min_free_bytes,
        quarantine,
        limits,
    }
}

fn quarantine(cx: &mut Ctx<'_>, raw: Option<&RawQuarantine>) -> Limits {
    let max_bytes = cx.key(raw.and_then(|q| q.max_bytes.as_ref()), &QUARANTINE_MAX_BYTES);
    let max_entries = cx.key(raw.and_then(|q| q.max_entries.as_ref()), &QUARANTINE_MAX_ENTRIES);
    let source_max_bytes = cx.int(
        raw.and_then(|q| q.source_max_bytes.as_ref()),
        "quarantine.source_max_bytes",
        DEFAULT_QUARANTINE_SOURCE_MAX_BYTES.min(max_bytes),
        0,
        max_bytes,
    );
    Limits {
        max_bytes: max_bytes as u64,
        max_entries: max_entries as u64,
        source_max_bytes: source_max_bytes as u64,
    }
}
