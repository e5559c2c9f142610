//! The `file` sink: one JSON object per line, appended. The embedded default, so the router is
//! useful with no other server. The file is its own durable store: lines are written and
//! fdatasync'ed before the sender is answered, with **group sync** — one fdatasync covers every
//! request that appended while the previous one ran.

use crate::event::Event;
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

/// Appends events to a JSON Lines file.
#[derive(Debug)]
pub struct FileSink {
    id: String,
    path: PathBuf,
    file: Mutex<Option<tokio::fs::File>>,
    /// Appends made so far (a generation number).
    written: AtomicU64,
    /// The generation the last fdatasync covered, and the handle it syncs through.
    synced: Mutex<(u64, Option<tokio::fs::File>)>,
}

impl FileSink {
    /// Prepares the sink; the file is created on first write, its directory now.
    pub fn open(id: &str, path: &Path) -> anyhow::Result<FileSink> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        Ok(FileSink {
            id: id.to_string(),
            path: path.to_path_buf(),
            file: Mutex::new(None),
            written: AtomicU64::new(0),
            synced: Mutex::new((0, None)),
        })
    }

    /// The sink id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The file it writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn open_append(&self) -> anyhow::Result<tokio::fs::File> {
        tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await
            .with_context(|| format!("opening {}", self.path.display()))
    }

    /// Appends the events as one write (concurrent requests never interleave lines) and
    /// returns once they are on disk.
    pub async fn append(&self, events: &[Arc<Event>]) -> anyhow::Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::with_capacity(events.len() * 1024);
        for event in events {
            serde_json::to_writer(&mut buf, event.as_ref())?;
            buf.push(b'\n');
        }
        let generation = {
            let mut guard = self.file.lock().await;
            if guard.is_none() {
                *guard = Some(self.open_append().await?);
            }
            let file = guard.as_mut().context("file sink not open")?;
            file.write_all(&buf)
                .await
                .with_context(|| format!("writing {}", self.path.display()))?;
            file.flush().await?;
            self.written.fetch_add(1, Ordering::SeqCst) + 1
        };
        let mut synced = self.synced.lock().await;
        if synced.0 >= generation {
            // Another request's fdatasync, started after our write, covered it.
            return Ok(());
        }
        let covers = self.written.load(Ordering::SeqCst);
        if synced.1.is_none() {
            synced.1 = Some(self.open_append().await?);
        }
        synced
            .1
            .as_ref()
            .context("file sink not open")?
            .sync_data()
            .await
            .with_context(|| format!("syncing {}", self.path.display()))?;
        synced.0 = covers;
        Ok(())
    }
}
