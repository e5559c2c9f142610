//! The quarantine: raw requests the router could not process (malformed input, a failing
//! plugin, an oversize body) kept on disk, one JSON file each under `<data_dir>/quarantine/`,
//! so they can be inspected and replayed once the cause is fixed. Nothing is dropped silently.
//!
//! **Bounded.** Anyone who can reach a source can send garbage, so the quarantine has caps
//! (`[server.quarantine]`): total bytes and entries, bytes per source, and a small fixed budget
//! for requests that failed authentication. When a cap is reached, **new entries are refused**
//! (the sender still gets its error; the refusal is logged once per change of state and counted
//! in /metrics) rather than old ones evicted: the entries kept first are the ones an operator
//! needs (the first failures after a bad deploy), and a flood must not be able to push them
//! out. An entry is also refused when writing it would take storage below the disk budget.
//! Half-written temp files (a crash mid-write) are removed when the router starts
//! (`datadir::remove_stale_temp_files`).
//!
//! - `entry`: one kept request and its file format; `caps`: the caps and the ledger that
//!   enforces them; `store`: the directory (keep, list, read, resolve).

mod caps;
mod entry;
mod store;

pub use caps::{
    CUT_MAX_BYTES, CUT_MAX_ENTRIES, Limits, NotKept, UNAUTHENTICATED_MAX_BYTES, UNAUTHENTICATED_MAX_ENTRIES,
};
pub use entry::Entry;
pub use store::Quarantine;
