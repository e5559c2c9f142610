//! How a loaded plugin version has behaved since it was loaded: calls and faults (traps,
//! deadlines, memory overruns — not the errors a plugin reports on bad input). The reload
//! controller reads it to roll a freshly deployed plugin back to its last good version.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Counters of one loaded plugin version.
#[derive(Debug)]
pub struct Health {
    loaded: Instant,
    calls: AtomicU64,
    faults: AtomicU64,
    rollback_claimed: std::sync::atomic::AtomicBool,
}

impl Default for Health {
    fn default() -> Health {
        Health {
            loaded: Instant::now(),
            calls: AtomicU64::new(0),
            faults: AtomicU64::new(0),
            rollback_claimed: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

/// When a new plugin version is taken back: more than `max_failure_ratio` of at least
/// `min_calls` calls faulted within `window` of loading it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RollbackPolicy {
    /// Faulted calls / calls above which the version is rolled back.
    pub max_failure_ratio: f64,
    /// Calls needed before judging.
    pub min_calls: u64,
    /// How long after loading a version is on probation.
    pub window: Duration,
}

impl Health {
    pub(crate) fn call(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn fault(&self) {
        self.faults.fetch_add(1, Ordering::Relaxed);
    }

    /// True the first time it is called for this version: one rollback request is enough.
    pub fn claim_rollback(&self) -> bool {
        !self.rollback_claimed.swap(true, Ordering::Relaxed)
    }

    /// (calls, faults) so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.calls.load(Ordering::Relaxed), self.faults.load(Ordering::Relaxed))
    }

    /// Whether this version breaks `policy` (and is still on probation).
    pub fn breaks(&self, policy: &RollbackPolicy) -> bool {
        let (calls, faults) = self.counts();
        self.loaded.elapsed() <= policy.window
            && calls >= policy.min_calls
            && faults as f64 > policy.max_failure_ratio * calls as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judged_only_with_enough_calls_within_the_window() {
        let policy = RollbackPolicy {
            max_failure_ratio: 0.5,
            min_calls: 4,
            window: Duration::from_secs(60),
        };
        let h = Health::default();
        for _ in 0..3 {
            h.call();
            h.fault();
        }
        assert!(!h.breaks(&policy), "3 calls are not enough to judge");
        h.call();
        assert!(h.breaks(&policy), "3 of 4 faulted");
        let expired = RollbackPolicy {
            window: Duration::ZERO,
            ..policy
        };
        assert!(!h.breaks(&expired), "out of probation");
    }
}
