//! The `file` sink: one JSON object per line, appended. The embedded default, so the router is
//! useful with no other server.

use crate::event::Event;
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

/// Appends events to a JSON Lines file.
#[derive(Debug)]
pub struct FileSink {
    id: String,
    path: PathBuf,
    file: Mutex<Option<tokio::fs::File>>,
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

    /// Appends the events as one write, so concurrent requests never interleave lines.
    pub async fn append(&self, events: &[Arc<Event>]) -> anyhow::Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::with_capacity(events.len() * 1024);
        for event in events {
            serde_json::to_writer(&mut buf, event.as_ref())?;
            buf.push(b'\n');
        }
        let mut guard = self.file.lock().await;
        if guard.is_none() {
            let file = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .await
                .with_context(|| format!("opening {}", self.path.display()))?;
            *guard = Some(file);
        }
        let file = guard.as_mut().context("file sink not open")?;
        file.write_all(&buf)
            .await
            .with_context(|| format!("writing {}", self.path.display()))?;
        file.flush().await?;
        Ok(())
    }
}
