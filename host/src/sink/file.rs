//! The `file` sink: one JSON object per line, appended. The embedded default, so the router is
//! useful with no other server. The file is its own durable store: lines are written and
//! fdatasync'ed before the sender is answered.
//!
//! One writer thread per file (shared by every sink and every reloaded pipeline that names the
//! same path) applies appends in **group commits**: whatever requests queued while the previous
//! group was being synced are written together and covered by one fdatasync. Because one
//! thread owns the file, a failed group can be taken back whole:
//! - a failed or short write, or a failed sync, truncates the file back to where the group
//!   started, so the file never holds a torn line or lines whose sender was told they failed
//!   (the sender's retry would otherwise store them twice);
//! - a torn tail left by a crash (an unacknowledged group cut short) is truncated back to the
//!   last complete line when the writer starts, with a warning;
//! - a file moved away (log rotation) or deleted is noticed before the next group, which
//!   starts a new file at the configured path.

use crate::event::Encoding;
use anyhow::Context;
use bytes::Bytes;
use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, Weak, mpsc};
use tokio::sync::oneshot;

/// Bytes written in one group at most (a group is one write + one fdatasync).
const MAX_GROUP_BYTES: usize = 16 << 20;
/// How far back a torn tail is searched for the last complete line, per read.
const TAIL_CHUNK: u64 = 64 << 10;

/// Appends events to a JSON Lines file.
#[derive(Debug)]
pub struct FileSink {
    id: String,
    path: PathBuf,
    writer: Arc<Writer>,
    encoding: Encoding,
}

/// One append request: encoded lines, and who to tell.
struct Job {
    lines: Vec<u8>,
    done: oneshot::Sender<Result<(), String>>,
}

/// The handle on a file's writer thread; the thread ends when the last handle is dropped.
struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Writer")
    }
}

/// The writer of each file in this process: two writers truncating one file on failure would
/// cut each other's acknowledged lines, so a reload reuses the running one.
static WRITERS: LazyLock<Mutex<HashMap<PathBuf, Weak<Writer>>>> = LazyLock::new(Mutex::default);

impl FileSink {
    /// Prepares the sink; the file is created on first write, its directory now.
    pub fn open(id: &str, path: &Path) -> anyhow::Result<FileSink> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let mut writers = WRITERS.lock().unwrap_or_else(|p| p.into_inner());
        writers.retain(|_, w| w.strong_count() > 0);
        let writer = match writers.get(path).and_then(Weak::upgrade) {
            Some(w) => w,
            None => {
                let (jobs, queue) = mpsc::channel();
                let appender = Appender {
                    path: path.to_path_buf(),
                    file: None,
                    suspect: true,
                };
                std::thread::Builder::new()
                    .name(format!("file-sink-{id}"))
                    .spawn(move || appender.run(queue))
                    .context("starting the file sink's writer thread")?;
                let w = Arc::new(Writer { jobs });
                writers.insert(path.to_path_buf(), Arc::downgrade(&w));
                w
            }
        };
        Ok(FileSink {
            id: id.to_string(),
            path: path.to_path_buf(),
            writer,
            encoding: Encoding::Full,
        })
    }

    /// The same sink writing its events as `encoding`.
    pub fn with_encoding(mut self, encoding: Encoding) -> FileSink {
        self.encoding = encoding;
        self
    }

    /// The sink id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The file it writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How it writes events ([`FileSink::append`] takes them already in it).
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Appends events, each already JSON in this sink's [`encoding`](FileSink::encoding), as
    /// whole lines (concurrent requests never interleave) and returns once they are on disk;
    /// on error none of them is in the file.
    pub async fn append(&self, events: &[Bytes]) -> anyhow::Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut lines = Vec::with_capacity(events.iter().map(|e| e.len() + 1).sum());
        for event in events {
            lines.extend_from_slice(event);
            lines.push(b'\n');
        }
        let (done, written) = oneshot::channel();
        self.writer
            .jobs
            .send(Job { lines, done })
            .map_err(|_| anyhow::anyhow!("the writer of {} has stopped", self.path.display()))?;
        match written.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(anyhow::anyhow!(e)),
            Err(_) => anyhow::bail!("the writer of {} has stopped", self.path.display()),
        }
    }
}

/// The writer thread's state.
struct Appender {
    path: PathBuf,
    /// The open file and its identity (device, inode).
    file: Option<(File, (u64, u64))>,
    /// The file may end in a torn line (at start, after reopening, after a failed repair).
    suspect: bool,
}

impl Appender {
    fn run(mut self, queue: mpsc::Receiver<Job>) {
        // A torn tail left by a crash is repaired (and reported) at startup, not at the first
        // event after it.
        if self.path.exists()
            && let Err(e) = self.file()
        {
            tracing::warn!(path = %self.path.display(), error = %format!("{e:#}"), "Could not check the end of the file sink's file; retrying at the next write.");
        }
        while let Ok(first) = queue.recv() {
            let mut size = first.lines.len();
            let mut group = vec![first];
            while size < MAX_GROUP_BYTES {
                match queue.try_recv() {
                    Ok(job) => {
                        size += job.lines.len();
                        group.push(job);
                    }
                    Err(_) => break,
                }
            }
            let result = self.write_group(&group).map_err(|e| format!("{e:#}"));
            if let Err(e) = &result {
                tracing::error!(path = %self.path.display(), requests = group.len(), error = %e, "File sink write failed; nothing of it was kept.");
            }
            for job in group {
                let _ = job.done.send(result.clone());
            }
        }
    }

    /// The open file, (re)opened when the path no longer names it: moved away by log rotation,
    /// deleted, or never opened.
    fn file(&mut self) -> anyhow::Result<&mut File> {
        let current = std::fs::metadata(&self.path).ok().map(|m| (m.dev(), m.ino()));
        let stale = match (&self.file, current) {
            (Some((_, open)), Some(now)) => *open != now,
            _ => true,
        };
        if stale {
            if self.file.is_some() {
                tracing::warn!(path = %self.path.display(), "File sink's file was moved or deleted; starting a new one at its path.");
            }
            self.file = None;
            // The directory may have gone too (`rm -rf data`).
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .read(true)
                .open(&self.path)
                .with_context(|| format!("opening {}", self.path.display()))?;
            let meta = file.metadata()?;
            self.file = Some((file, (meta.dev(), meta.ino())));
            self.suspect = true;
        }
        let (file, _) = self.file.as_mut().context("file sink not open")?;
        if self.suspect {
            repair_tail(file, &self.path)?;
            self.suspect = false;
        }
        Ok(file)
    }

    fn write_group(&mut self, group: &[Job]) -> anyhow::Result<()> {
        let path = self.path.clone();
        let file = self.file()?;
        let start = file.metadata()?.len();
        let written = group
            .iter()
            .try_for_each(|job| file.write_all(&job.lines))
            .with_context(|| format!("writing {}", path.display()))
            .and_then(|()| file.sync_data().with_context(|| format!("syncing {}", path.display())));
        if let Err(e) = written {
            // Take back whatever part of the group reached the file: its senders are told it
            // failed and will retry, so keeping it would store those events twice (or leave a
            // torn line in front of the next append).
            if let Err(undo) = file.set_len(start).and_then(|()| file.sync_data()) {
                tracing::error!(path = %path.display(), error = %undo, "Could not truncate a failed write; the file is repaired before the next one.");
                self.suspect = true;
            }
            return Err(e);
        }
        Ok(())
    }
}

/// Cuts a file that does not end with a newline back to its last complete line.
fn repair_tail(file: &File, path: &Path) -> anyhow::Result<()> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(());
    }
    let mut end = len;
    let mut keep = 0;
    let mut chunk = vec![0u8; TAIL_CHUNK as usize];
    'search: while end > 0 {
        let from = end.saturating_sub(TAIL_CHUNK);
        let buf = &mut chunk[..(end - from) as usize];
        file.read_exact_at(buf, from)
            .with_context(|| format!("reading the end of {}", path.display()))?;
        if end == len && buf.last() == Some(&b'\n') {
            return Ok(());
        }
        if let Some(i) = buf.iter().rposition(|&b| b == b'\n') {
            keep = from + i as u64 + 1;
            break 'search;
        }
        end = from;
    }
    file.set_len(keep)
        .and_then(|()| file.sync_data())
        .with_context(|| format!("truncating the torn tail of {}", path.display()))?;
    tracing::warn!(path = %path.display(), bytes = len - keep, "File sink ended in a torn line (a write cut short by a crash, never acknowledged); truncated it back to the last complete line.");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Event `n` as its line's JSON.
    fn event(n: u32) -> Bytes {
        let mut e = crate::dedup::tests::event(&format!("k{n}"), &format!("u{n}"), 1.0);
        e.dedup_key = None;
        Bytes::from(crate::event::encode(&e, Encoding::Full).expect("encode"))
    }

    fn lines(path: &Path) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        assert!(text.is_empty() || text.ends_with('\n'), "ends on a complete line");
        text.lines()
            .map(|l| serde_json::from_str(l).expect("every line parses"))
            .collect()
    }

    #[tokio::test]
    async fn a_torn_tail_is_cut_back_at_start_and_appends_start_on_a_clean_line() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("events.jsonl");
        std::fs::write(&path, "{\"a\":1}\n{\"b\":").expect("write");
        let sink = FileSink::open("s", &path).expect("open");
        sink.append(&[event(1)]).await.expect("append");
        let got = lines(&path);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], serde_json::json!({"a": 1}));
        assert_eq!(got[1]["event_uid"], "u1");
    }

    #[tokio::test]
    async fn a_rotated_file_is_followed_by_a_new_one() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("events.jsonl");
        let sink = FileSink::open("s", &path).expect("open");
        sink.append(&[event(1)]).await.expect("append");
        std::fs::rename(&path, dir.path().join("events.jsonl.1")).expect("rotate");
        sink.append(&[event(2)]).await.expect("append");
        assert_eq!(lines(&path).len(), 1, "the new file holds the new event only");
        assert_eq!(lines(&dir.path().join("events.jsonl.1")).len(), 1);
        std::fs::remove_file(&path).expect("delete");
        sink.append(&[event(3)]).await.expect("append after deletion");
        assert_eq!(lines(&path)[0]["event_uid"], "u3");
        std::fs::remove_dir_all(dir.path()).expect("delete the directory");
        sink.append(&[event(4)]).await.expect("append after the directory went");
        assert_eq!(lines(&path)[0]["event_uid"], "u4");
    }

    #[tokio::test]
    async fn sinks_on_one_path_share_one_writer() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("events.jsonl");
        let a = FileSink::open("a", &path).expect("open");
        let b = FileSink::open("b", &path).expect("open");
        assert!(Arc::ptr_eq(&a.writer, &b.writer));
        let (first, second) = ([event(1), event(2)], [event(3)]);
        let (x, y) = tokio::join!(a.append(&first), b.append(&second));
        x.and(y).expect("append");
        assert_eq!(lines(&path).len(), 3);
    }
}
