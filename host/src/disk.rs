//! The disk budget (`server.min_free_bytes`): the router stops taking new work *before* its
//! storage is full, instead of failing halfway through a write. Every filesystem it writes to
//! (the data dir: outbox, quarantine, blobs; and each file sink's directory) must keep at
//! least `min_free_bytes` free; below that, ingest answers `503` with `Retry-After` before
//! reading the body, and the quarantine refuses entries that would cross the line. One log line
//! per change of state, and gauges in `/metrics`.
//!
//! Doors are the exception, and still bounded: a source with a `decider` keeps taking requests
//! until storage falls below **half** the budget ([`Share::Doors`]), and its failed requests
//! may be quarantined down to that line too. A person at a door is answered while the disk is
//! merely low, and every answered door still has the room to store or quarantine its event;
//! below half the budget doors are refused (`503`) like everything else.
//!
//! Free space is what an unprivileged writer may use (`f_bavail`): the root-reserved blocks are
//! the operator's last resort, not the router's.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What senders are told to wait before retrying while storage is low.
pub const RETRY_AFTER_SECS: u64 = 10;

/// Whose writes a check is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Share {
    /// Everything: the whole budget stays free.
    All,
    /// Door decisions (and their quarantine): down to half the budget.
    Doors,
}

/// Storage below the budget.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} has {free} bytes free, below the {min_free}-byte budget (server.min_free_bytes)", path.display())]
pub struct Low {
    /// The directory whose filesystem is short.
    pub path: PathBuf,
    /// Bytes free there.
    pub free: u64,
    /// The budget.
    pub min_free: u64,
}

/// The budget and the directories it watches, shared by every pipeline of a router.
#[derive(Debug, Default)]
pub struct DiskBudget {
    watch: Mutex<Watch>,
    low: AtomicBool,
    refused: AtomicU64,
}

#[derive(Debug, Default)]
struct Watch {
    min_free: u64,
    dirs: Vec<PathBuf>,
}

impl DiskBudget {
    /// A budget of `min_free` bytes on the filesystems of `dirs`.
    pub fn new(min_free: u64, dirs: Vec<PathBuf>) -> DiskBudget {
        let budget = DiskBudget::default();
        budget.configure(min_free, dirs);
        budget
    }

    /// Changes the budget or the directories (after a reload).
    pub fn configure(&self, min_free: u64, mut dirs: Vec<PathBuf>) {
        dirs.sort();
        dirs.dedup();
        *self.watch.lock().unwrap_or_else(|p| p.into_inner()) = Watch { min_free, dirs };
    }

    /// Bytes an unprivileged writer may still use on the filesystem holding `dir` (or its
    /// nearest existing ancestor, when `dir` was deleted or is not created yet).
    pub fn free_bytes(dir: &Path) -> std::io::Result<u64> {
        let mut at = dir;
        loop {
            match rustix::fs::statvfs(at) {
                Ok(s) => return Ok(s.f_bavail.saturating_mul(s.f_frsize)),
                Err(rustix::io::Errno::NOENT) if at.parent().is_some() => {
                    at = at.parent().unwrap_or(at);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Ok while every watched filesystem has more than the budget free. Logs changes of state.
    pub fn check(&self) -> Result<(), Low> {
        let short = {
            let watch = self.watch.lock().unwrap_or_else(|p| p.into_inner());
            watch.dirs.iter().find_map(|dir| short_of(dir, watch.min_free, 0))
        };
        let low = short.is_some();
        if self.low.swap(low, Ordering::Relaxed) != low {
            match &short {
                Some(s) => {
                    tracing::warn!(path = %s.path.display(), free = s.free, min_free = s.min_free, "Storage is below the disk budget; refusing new requests with 503 until space is freed.")
                }
                None => tracing::info!("Storage is back above the disk budget; taking requests again."),
            }
        }
        short.map_or(Ok(()), Err)
    }

    /// Ok while every watched filesystem keeps half the budget free: whether a door may still
    /// be decided (without changing the state [`DiskBudget::check`] reports).
    pub fn check_doors(&self) -> Result<(), Low> {
        let watch = self.watch.lock().unwrap_or_else(|p| p.into_inner());
        let floor = floor(watch.min_free, Share::Doors);
        watch
            .dirs
            .iter()
            .find_map(|dir| short_of(dir, floor, 0))
            .map_or(Ok(()), Err)
    }

    /// Ok if `bytes` more can be written in `dir` and its filesystem stays above the budget
    /// (the quarantine asks before writing an entry; a refusal here is not low storage).
    pub fn room(&self, dir: &Path, bytes: u64) -> Result<(), Low> {
        self.room_for(dir, bytes, Share::All)
    }

    /// [`DiskBudget::room`] for `share`'s part of the budget.
    pub fn room_for(&self, dir: &Path, bytes: u64, share: Share) -> Result<(), Low> {
        short_of(dir, floor(self.min_free(), share), bytes).map_or(Ok(()), Err)
    }

    /// The budget in bytes.
    pub fn min_free(&self) -> u64 {
        self.watch.lock().unwrap_or_else(|p| p.into_inner()).min_free
    }

    /// Counts a request refused for low storage.
    pub fn refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether the last check found storage low.
    pub fn is_low(&self) -> bool {
        self.low.load(Ordering::Relaxed)
    }

    /// Prometheus text: free bytes per watched directory, the budget, the state, refusals.
    pub fn render(&self) -> String {
        let watch = self.watch.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP switchyard_disk_free_bytes Bytes free on the filesystem of each directory the router writes to.\n# TYPE switchyard_disk_free_bytes gauge"
        );
        for dir in &watch.dirs {
            let free = DiskBudget::free_bytes(dir).unwrap_or(0);
            let _ = writeln!(
                out,
                "switchyard_disk_free_bytes{{path=\"{}\"}} {free}",
                dir.display().to_string().replace('\\', "\\\\").replace('"', "\\\"")
            );
        }
        let _ = writeln!(
            out,
            "# HELP switchyard_disk_min_free_bytes The disk budget (server.min_free_bytes).\n# TYPE switchyard_disk_min_free_bytes gauge\nswitchyard_disk_min_free_bytes {}",
            watch.min_free
        );
        let _ = writeln!(
            out,
            "# HELP switchyard_disk_low 1 while storage is below the budget and new requests get 503.\n# TYPE switchyard_disk_low gauge\nswitchyard_disk_low {}",
            u8::from(self.is_low())
        );
        let _ = writeln!(
            out,
            "# HELP switchyard_disk_refused_total Requests refused with 503 because storage was below the budget.\n# TYPE switchyard_disk_refused_total counter\nswitchyard_disk_refused_total {}",
            self.refused.load(Ordering::Relaxed)
        );
        out
    }
}

/// The free bytes `share` must leave.
fn floor(min_free: u64, share: Share) -> u64 {
    match share {
        Share::All => min_free,
        Share::Doors => min_free / 2,
    }
}

/// `dir`'s shortfall, if writing `extra` bytes there would leave less than `min_free`. An
/// unreadable filesystem is left to the writes themselves to report.
fn short_of(dir: &Path, min_free: u64, extra: u64) -> Option<Low> {
    let free = DiskBudget::free_bytes(dir).ok()?;
    (free < min_free.saturating_add(extra)).then(|| Low {
        path: dir.to_path_buf(),
        free,
        min_free,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_checked_on_every_watched_filesystem() {
        let dir = tempfile::tempdir().expect("tmp");
        let free = DiskBudget::free_bytes(dir.path()).expect("statvfs");
        assert!(free > 0);
        let missing = dir.path().join("not/yet/created");
        assert_eq!(
            DiskBudget::free_bytes(&missing).expect("nearest ancestor") / 1_000_000,
            free / 1_000_000
        );
        let budget = DiskBudget::new(0, vec![dir.path().to_path_buf(), missing]);
        assert_eq!(budget.check(), Ok(()));
        assert!(!budget.is_low());
        budget.configure(u64::MAX, vec![dir.path().to_path_buf()]);
        let low = budget.check().expect_err("nothing has u64::MAX bytes free");
        assert_eq!(low.path, dir.path());
        assert!(budget.is_low());
        assert!(budget.render().contains("switchyard_disk_low 1"));
        budget.configure(0, vec![dir.path().to_path_buf()]);
        assert_eq!(budget.check(), Ok(()));
        assert!(
            budget.room(dir.path(), u64::MAX).is_err(),
            "an entry too big to fit is refused"
        );
        assert!(!budget.is_low(), "without moving the state");
        budget.configure(free + free / 2, vec![dir.path().to_path_buf()]);
        assert!(budget.check().is_err(), "below the budget");
        assert_eq!(budget.check_doors(), Ok(()), "doors keep half of it");
        assert!(budget.room_for(dir.path(), 1, Share::Doors).is_ok());
        assert!(budget.room_for(dir.path(), 1, Share::All).is_err());
        budget.configure(free * 3, vec![dir.path().to_path_buf()]);
        assert!(budget.check_doors().is_err(), "below half the budget doors stop too");
    }
}
