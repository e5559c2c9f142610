//! The outbox's own counters: its group commits and the state of its file, beside the
//! delivery counters every backend shares (`queue::DeliveryStats`).

use std::sync::atomic::{AtomicU64, Ordering};

/// Group-commit counters.
#[derive(Debug, Default)]
pub struct CommitStats {
    /// Transactions committed.
    pub commits: AtomicU64,
    /// Of which fsynced.
    pub fsyncs: AtomicU64,
    /// Events committed into the outbox.
    pub rows: AtomicU64,
    /// Times the file was found deleted or replaced and rebuilt from the open copy.
    pub rebuilds: AtomicU64,
    /// 1 while the open file is the one at the path (commits are acknowledged), else 0.
    pub file_ok: AtomicU64,
}

impl CommitStats {
    /// Prometheus text for the group commits and the file's state.
    pub fn render(&self) -> String {
        let commits = self;
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, values: Vec<(String, u64)>| {
            crate::metrics::family(&mut out, name, kind, help, values)
        };
        family(
            "switchyard_outbox_commits_total",
            "counter",
            "Outbox transactions (group commits).",
            vec![(String::new(), commits.commits.load(Ordering::Relaxed))],
        );
        family(
            "switchyard_outbox_fsyncs_total",
            "counter",
            "Outbox transactions that were fsynced.",
            vec![(String::new(), commits.fsyncs.load(Ordering::Relaxed))],
        );
        family(
            "switchyard_outbox_file_ok",
            "gauge",
            "1 while outbox.db is the file the router has open; 0 while it is missing or replaced and not yet rebuilt (new events get 503).",
            vec![(String::new(), commits.file_ok.load(Ordering::Relaxed))],
        );
        family(
            "switchyard_outbox_rebuilds_total",
            "counter",
            "Times outbox.db was found deleted or replaced and rebuilt from the open copy.",
            vec![(String::new(), commits.rebuilds.load(Ordering::Relaxed))],
        );
        family(
            "switchyard_outbox_committed_events_total",
            "counter",
            "Events committed into the outbox.",
            vec![(String::new(), commits.rows.load(Ordering::Relaxed))],
        );
        out
    }
}
