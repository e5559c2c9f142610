//! The quarantine's caps and the ledger that keeps them: the config's totals and per-source
//! share, and the fixed budgets of requests that failed authentication or were cut off.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// Requests that failed authentication may use this much of the quarantine, whatever the
/// config: they are kept so that a misconfigured secret can be fixed and the requests replayed,
/// but nobody without credentials gets to fill the disk.
pub const UNAUTHENTICATED_MAX_BYTES: u64 = 8 << 20;
/// …and at most this many entries.
pub const UNAUTHENTICATED_MAX_ENTRIES: u64 = 256;
/// Requests cut off before their body was complete (too slow, too large) may use this much:
/// they cannot be replayed, only read, and anyone can make them (an empty 408 costs a sender
/// nothing), so a flood of them must not use up the room real failures need.
pub const CUT_MAX_BYTES: u64 = 16 << 20;
/// …and at most this many entries.
pub const CUT_MAX_ENTRIES: u64 = 256;
/// The caps (`[server.quarantine]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Total size of pending entries.
    pub max_bytes: u64,
    /// Number of pending entries.
    pub max_entries: u64,
    /// Size of one source's pending entries.
    pub source_max_bytes: u64,
}

impl Limits {
    /// No caps (tools that only read the quarantine).
    pub const NONE: Limits = Limits {
        max_bytes: u64::MAX,
        max_entries: u64::MAX,
        source_max_bytes: u64::MAX,
    };
}

/// Why an entry was not kept.
#[derive(Debug, thiserror::Error)]
pub enum NotKept {
    /// A cap is reached.
    #[error("the quarantine is full ({0})")]
    Full(&'static str),
    /// Writing it would take storage below the disk budget.
    #[error(transparent)]
    Disk(#[from] crate::disk::Low),
    /// Writing failed.
    #[error("writing the quarantine failed: {0:#}")]
    Io(#[from] anyhow::Error),
}

impl NotKept {
    pub(super) fn label(&self) -> &'static str {
        match self {
            NotKept::Full(cap) => cap,
            NotKept::Disk(_) => "disk_budget",
            NotKept::Io(_) => "io_error",
        }
    }
}

/// What the router knows of a pending entry.
#[derive(Debug)]
pub(super) struct Kept {
    pub(super) source: String,
    pub(super) bytes: u64,
    pub(super) class: Class,
    /// Its file is in place (false while it is being written: not to be pruned).
    pub(super) written: bool,
}

/// The pending entries' sizes, shared by the pipelines of one router.
#[derive(Debug, Default)]
pub(super) struct Ledger {
    pub(super) entries: HashMap<String, Kept>,
    pub(super) bytes: u64,
    pub(super) by_source: HashMap<String, u64>,
    /// Bytes and entries of the classes with caps of their own.
    pub(super) unauthenticated: (u64, u64),
    pub(super) cut: (u64, u64),
    pub(super) pruned: Option<Instant>,
    pub(super) refused: BTreeMap<&'static str, u64>,
    pub(super) refusing: bool,
}

impl Ledger {
    pub(super) fn add(&mut self, id: String, kept: Kept) {
        self.bytes += kept.bytes;
        *self.by_source.entry(kept.source.clone()).or_default() += kept.bytes;
        if let Some(class) = self.class_mut(kept.class) {
            class.0 += kept.bytes;
            class.1 += 1;
        }
        self.entries.insert(id, kept);
    }

    pub(super) fn remove(&mut self, id: &str) {
        if let Some(kept) = self.entries.remove(id) {
            self.bytes -= kept.bytes;
            if let Some(b) = self.by_source.get_mut(&kept.source) {
                *b -= kept.bytes;
            }
            if let Some(class) = self.class_mut(kept.class) {
                class.0 -= kept.bytes;
                class.1 -= 1;
            }
        }
    }

    pub(super) fn class_mut(&mut self, class: Class) -> Option<&mut (u64, u64)> {
        match class {
            Class::Replayable => None,
            Class::Unauthenticated => Some(&mut self.unauthenticated),
            Class::Cut => Some(&mut self.cut),
        }
    }

    /// The cap an entry would break, if any.
    pub(super) fn over(&self, limits: &Limits, kept: &Kept) -> Option<&'static str> {
        let (held, caps, cap) = match kept.class {
            Class::Replayable => ((0, 0), (u64::MAX, u64::MAX), ""),
            Class::Unauthenticated => (
                self.unauthenticated,
                (UNAUTHENTICATED_MAX_BYTES, UNAUTHENTICATED_MAX_ENTRIES),
                "unauthenticated",
            ),
            Class::Cut => (self.cut, (CUT_MAX_BYTES, CUT_MAX_ENTRIES), "cut"),
        };
        if held.0 + kept.bytes > caps.0 || held.1 + 1 > caps.1 {
            return Some(cap);
        }
        if self.by_source.get(&kept.source).copied().unwrap_or(0) + kept.bytes > limits.source_max_bytes {
            return Some("source_max_bytes");
        }
        if self.bytes + kept.bytes > limits.max_bytes {
            return Some("max_bytes");
        }
        if self.entries.len() as u64 + 1 > limits.max_entries {
            return Some("max_entries");
        }
        None
    }
}

/// Entries with caps of their own besides the config's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    /// A whole request that failed: what the quarantine is for.
    Replayable,
    /// Refused by the source's auth ([`UNAUTHENTICATED_MAX_BYTES`]).
    Unauthenticated,
    /// Cut off mid-body ([`CUT_MAX_BYTES`]).
    Cut,
}

impl Class {
    pub(super) fn of(status: u16, truncated: bool) -> Class {
        if status == 401 || status == 403 {
            Class::Unauthenticated
        } else if truncated {
            Class::Cut
        } else {
            Class::Replayable
        }
    }
}
