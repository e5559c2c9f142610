//! `[server]`: listen address, data dir, concurrency, dedup, and the storage limits (disk
//! budget, quarantine caps); the edge limits are `edge`'s.

use super::compile::{Ctx, DEFAULT_LISTEN};
use super::raw::{RawConfig, RawQuarantine};
use super::spec::ServerSpec;
use crate::quarantine::Limits;
use toml::Spanned;

const DEFAULT_DATA_DIR: &str = "data";
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
    let max_in_flight = cx.int(
        s.and_then(|s| s.max_in_flight.as_ref()),
        "max_in_flight",
        DEFAULT_MAX_IN_FLIGHT,
        1,
        100_000,
    ) as usize;
    let dedup_window_secs = cx.int(
        s.and_then(|s| s.dedup_window_secs.as_ref()),
        "dedup_window_secs",
        DEFAULT_DEDUP_WINDOW_SECS,
        0,
        7 * 86_400,
    ) as u64;
    let dedup_max_keys = cx.int(
        s.and_then(|s| s.dedup_max_keys.as_ref()),
        "dedup_max_keys",
        DEFAULT_DEDUP_MAX_KEYS,
        1,
        100_000_000,
    ) as usize;
    let min_free_bytes = cx.int(
        s.and_then(|s| s.min_free_bytes.as_ref()),
        "min_free_bytes",
        DEFAULT_MIN_FREE_BYTES,
        0,
        i64::MAX,
    ) as u64;
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
    let max_bytes = cx.int(
        raw.and_then(|q| q.max_bytes.as_ref()),
        "quarantine.max_bytes",
        DEFAULT_QUARANTINE_MAX_BYTES,
        0,
        i64::MAX,
    );
    let max_entries = cx.int(
        raw.and_then(|q| q.max_entries.as_ref()),
        "quarantine.max_entries",
        DEFAULT_QUARANTINE_MAX_ENTRIES,
        0,
        i64::MAX,
    );
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
