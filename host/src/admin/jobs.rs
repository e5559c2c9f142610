//! Long admin actions (bulk dead-letter replay) run as jobs: the request that starts one
//! returns its id at once, and `GET jobs/<id>` reports progress until it is done, so the
//! console can show a progress bar and a CLI can poll.

use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Finished jobs remembered (the oldest are forgotten).
const KEPT: usize = 100;

/// One job's progress.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Job {
    pub(crate) id: u64,
    /// What it does (`replay dead letters`).
    pub(crate) action: String,
    /// Items to do.
    pub(crate) total: u64,
    /// Items done.
    pub(crate) done: u64,
    /// `running`, `done` or `failed`.
    pub(crate) state: &'static str,
    /// The result (`done`) or error (`failed`).
    pub(crate) message: Option<String>,
}

/// The jobs of this run.
#[derive(Debug, Default)]
pub(crate) struct Jobs {
    next: Mutex<u64>,
    all: Mutex<BTreeMap<u64, Job>>,
}

/// A handle to update one job.
pub(crate) struct Progress {
    jobs: Arc<super::Console>,
    id: u64,
}

impl Progress {
    fn update(&self, f: impl FnOnce(&mut Job)) {
        if let Some(job) = self
            .jobs
            .jobs
            .all
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(&self.id)
        {
            f(job);
        }
    }

    /// Sets how many items there are.
    pub(crate) fn total(&self, total: u64) {
        self.update(|j| j.total = total);
    }

    /// Counts items done.
    pub(crate) fn advance(&self, n: u64) {
        self.update(|j| j.done += n);
    }

    /// Ends the job.
    pub(crate) fn finish(&self, result: Result<String, String>) {
        self.update(|j| match result {
            Ok(m) => {
                j.state = "done";
                j.message = Some(m);
            }
            Err(e) => {
                j.state = "failed";
                j.message = Some(e);
            }
        });
    }
}

impl Jobs {
    /// Registers a running job.
    pub(crate) fn start(console: &Arc<super::Console>, action: &str) -> (u64, Progress) {
        let id = {
            let mut next = console.jobs.next.lock().unwrap_or_else(|p| p.into_inner());
            *next += 1;
            *next
        };
        let mut all = console.jobs.all.lock().unwrap_or_else(|p| p.into_inner());
        while all.len() >= KEPT {
            let Some(oldest) = all.keys().next().copied() else {
                break;
            };
            all.remove(&oldest);
        }
        all.insert(
            id,
            Job {
                id,
                action: action.to_string(),
                total: 0,
                done: 0,
                state: "running",
                message: None,
            },
        );
        (
            id,
            Progress {
                jobs: console.clone(),
                id,
            },
        )
    }

    /// A job by id.
    pub(crate) fn get(&self, id: u64) -> Option<Job> {
        self.all.lock().unwrap_or_else(|p| p.into_inner()).get(&id).cloned()
    }
}
