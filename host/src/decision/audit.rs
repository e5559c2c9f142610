//! The decision audit log: one JSON line per decision in `<data_dir>/decisions/decisions.jsonl`,
//! bounded — at [`AUDIT_FILE_BYTES`] the file becomes `decisions.1.jsonl` (replacing the older
//! one) and a new one starts, so it never holds more than twice that.
//!
//! The decision path never waits on it: lines go through a bounded queue to a writer thread,
//! which writes without fsync (a crash may lose the last lines; the events themselves are
//! committed by the outbox). A full queue or a failing disk drops lines and counts them
//! (`switchyard_decision_audit_dropped_total`), never a decision.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::Duration;

/// The current file, in [`audit_dir`].
pub const AUDIT_FILE: &str = "decisions.jsonl";
/// The previous file.
pub const AUDIT_PREVIOUS_FILE: &str = "decisions.1.jsonl";
/// Size at which the file is rotated: about 100 000 decisions each.
pub const AUDIT_FILE_BYTES: u64 = 32 << 20;
/// Lines waiting for the writer; a burst beyond this (a disk stalled for seconds) is dropped.
const QUEUE_LINES: usize = 8192;
/// Buffered lines are flushed once the queue has been quiet this long.
const FLUSH_AFTER: Duration = Duration::from_millis(50);

/// Where the audit log lives.
pub fn audit_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("decisions")
}

/// The writer's handle. Cheap to share; the thread ends when the last handle is dropped.
#[derive(Debug)]
pub struct AuditLog {
    queue: SyncSender<String>,
    dropped: Arc<AtomicU64>,
}

impl AuditLog {
    /// Starts the writer for `dir` (created on demand), rotating at `max_bytes`, counting
    /// dropped lines in `dropped`.
    pub fn open(dir: PathBuf, max_bytes: u64, dropped: Arc<AtomicU64>) -> AuditLog {
        let (queue, lines) = std::sync::mpsc::sync_channel(QUEUE_LINES);
        let counted = dropped.clone();
        let spawned = std::thread::Builder::new()
            .name("switchyard-audit".into())
            .spawn(move || write_lines(&dir, max_bytes, &lines, &counted));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "Could not start the decision audit writer; decisions are logged but not audited.");
        }
        AuditLog { queue, dropped }
    }

    /// Queues one decision; never blocks.
    pub fn record(&self, record: &super::Record) {
        let line = match serde_json::to_string(record) {
            Ok(line) => line,
            Err(_) => return,
        };
        match self.queue.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Lines dropped so far (queue full, or the write failed).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

struct Current {
    file: std::io::BufWriter<std::fs::File>,
    bytes: u64,
}

fn open_current(dir: &Path) -> std::io::Result<Current> {
    std::fs::create_dir_all(dir)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(AUDIT_FILE))?;
    let bytes = file.metadata()?.len();
    Ok(Current {
        file: std::io::BufWriter::new(file),
        bytes,
    })
}

fn write_lines(dir: &Path, max_bytes: u64, lines: &Receiver<String>, dropped: &AtomicU64) {
    let mut current: Option<Current> = None;
    let mut warned = false;
    loop {
        let line = match lines.recv_timeout(FLUSH_AFTER) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => {
                if let Some(c) = &mut current {
                    let _ = c.file.flush();
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let result = (|| -> std::io::Result<()> {
            if current
                .as_ref()
                .is_some_and(|c| c.bytes + line.len() as u64 + 1 > max_bytes)
            {
                if let Some(mut old) = current.take() {
                    old.file.flush()?;
                }
                std::fs::rename(dir.join(AUDIT_FILE), dir.join(AUDIT_PREVIOUS_FILE))?;
            }
            let c = match &mut current {
                Some(c) => c,
                slot @ None => slot.insert(open_current(dir)?),
            };
            c.file.write_all(line.as_bytes())?;
            c.file.write_all(b"\n")?;
            c.bytes += line.len() as u64 + 1;
            Ok(())
        })();
        match result {
            Ok(()) => warned = false,
            Err(e) => {
                dropped.fetch_add(1, Ordering::Relaxed);
                // A write error leaves the buffer in an unknown state: start over next line.
                current = None;
                if !warned {
                    tracing::warn!(dir = %dir.display(), error = %e, "Cannot write the decision audit log; decisions go on, their audit lines are dropped.");
                    warned = true;
                }
            }
        }
    }
    if let Some(c) = &mut current {
        let _ = c.file.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::{Outcome, Record};

    fn record(n: usize) -> Record {
        Record {
            at: "2026-12-01T00:00:00Z".into(),
            source: "door".into(),
            delivery_id: format!("d{n}"),
            event_uid: format!("e{n}"),
            person_id: Some("p-1".into()),
            device_id: None,
            decision: crate::event::Decision::Granted,
            decided_by: crate::event::DecidedBy::Plugin("door-policy".into()),
            outcome: Outcome::Granted,
            reason: Some("staff".into()),
            tip: Some("Welcome".into()),
            latency_ms: 0.4,
        }
    }

    #[test]
    fn the_log_rotates_and_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let line_bytes = serde_json::to_string(&record(100)).unwrap().len() as u64 + 1;
        let log = AuditLog::open(dir.path().to_path_buf(), line_bytes * 10, Arc::default());
        for n in 100..125 {
            log.record(&record(n));
        }
        drop(log);
        // The writer drains its queue and exits once the handle is gone.
        let current = dir.path().join(AUDIT_FILE);
        let previous = dir.path().join(AUDIT_PREVIOUS_FILE);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let text = std::fs::read_to_string(&current).unwrap_or_default();
            if text.contains("\"d124\"") || std::time::Instant::now() > deadline {
                break;
            }
            std::thread::yield_now();
        }
        let text = std::fs::read_to_string(&current).unwrap();
        let older = std::fs::read_to_string(&previous).unwrap();
        assert!(text.contains("\"d124\""), "{text}");
        assert_eq!(text.lines().count(), 5, "{text}");
        assert_eq!(older.lines().count(), 10);
        assert!(older.contains("\"d110\"") && !older.contains("\"d109\""), "{older}");
        let back: Record = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(back, record(124));
    }
}
