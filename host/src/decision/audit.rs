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

/// The file being appended to, and its length up to the last line known to be written whole.
struct Current {
    file: std::fs::File,
    bytes: u64,
}

fn open_current(dir: &Path) -> std::io::Result<Current> {
    std::fs::create_dir_all(dir)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(AUDIT_FILE))?;
    let bytes = file.metadata()?.len();
    Ok(Current { file, bytes })
}

/// Lines gathered for one write; a write that fails drops (and counts) all of them, and cuts
/// the file back to its last whole line, so the log never holds a torn line.
#[derive(Default)]
struct Batch {
    text: Vec<u8>,
    lines: u64,
}

/// Gathered lines are written once they reach this size (or the queue goes quiet).
const BATCH_BYTES: usize = 64 << 10;

struct Writer<'a> {
    dir: &'a Path,
    max_bytes: u64,
    dropped: &'a AtomicU64,
    current: Option<Current>,
    batch: Batch,
    warned: bool,
}

impl Writer<'_> {
    /// Adds a line, rotating first when it would take the file past `max_bytes`.
    fn push(&mut self, line: &str) {
        if self.current.is_none() {
            match open_current(self.dir) {
                Ok(c) => self.current = Some(c),
                Err(e) => {
                    let lines = self.batch.lines + 1;
                    self.batch = Batch::default();
                    return self.failed(&e, lines);
                }
            }
        }
        let line_bytes = line.len() as u64 + 1;
        let logical = self.current.as_ref().map_or(0, |c| c.bytes) + self.batch.text.len() as u64;
        if logical > 0 && logical + line_bytes > self.max_bytes {
            self.flush();
            self.current = None;
            if let Err(e) = std::fs::rename(self.dir.join(AUDIT_FILE), self.dir.join(AUDIT_PREVIOUS_FILE)) {
                self.failed(&e, 0);
            }
        }
        self.batch.text.extend_from_slice(line.as_bytes());
        self.batch.text.push(b'\n');
        self.batch.lines += 1;
        if self.batch.text.len() >= BATCH_BYTES {
            self.flush();
        }
    }

    /// Writes the gathered lines in one append.
    fn flush(&mut self) {
        if self.batch.lines == 0 {
            return;
        }
        let batch = std::mem::take(&mut self.batch);
        let result = (|| -> std::io::Result<()> {
            let c = match &mut self.current {
                Some(c) => c,
                slot @ None => slot.insert(open_current(self.dir)?),
            };
            match c.file.write_all(&batch.text) {
                Ok(()) => {
                    c.bytes += batch.text.len() as u64;
                    Ok(())
                }
                Err(e) => {
                    // Part of the batch may be in the file: cut it back to the last whole line.
                    let _ = c.file.set_len(c.bytes);
                    Err(e)
                }
            }
        })();
        match result {
            Ok(()) => self.warned = false,
            Err(e) => self.failed(&e, batch.lines),
        }
    }

    fn failed(&mut self, e: &std::io::Error, lines: u64) {
        self.dropped.fetch_add(lines, Ordering::Relaxed);
        // Reopened (and re-measured) for the next batch.
        self.current = None;
        if !self.warned {
            tracing::warn!(dir = %self.dir.display(), error = %e, "Cannot write the decision audit log; decisions go on, their audit lines are dropped.");
            self.warned = true;
        }
    }
}

fn write_lines(dir: &Path, max_bytes: u64, lines: &Receiver<String>, dropped: &AtomicU64) {
    let mut writer = Writer {
        dir,
        max_bytes,
        dropped,
        current: None,
        batch: Batch::default(),
        warned: false,
    };
    loop {
        match lines.recv_timeout(FLUSH_AFTER) {
            Ok(line) => writer.push(&line),
            Err(RecvTimeoutError::Timeout) => writer.flush(),
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    writer.flush();
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
