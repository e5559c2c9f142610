//! Watching the outbox file: the writer's connection together with the identity (device,
//! inode) of the file it was opened on. If the path stops naming that file — `outbox.db`
//! deleted, or replaced by another file — nothing more may be acknowledged into the lost file:
//! [`Watched::ensure`] rebuilds the outbox at its path from the copy still open (`VACUUM INTO`
//! keeps every row and id, so dispatchers carry on), moves a replacement aside, and swaps the
//! writer's and the readers' connections to the new file.

use super::sql::connect;
use super::stats::CommitStats;
use anyhow::Context;
use rusqlite::{Connection, params};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

/// The (device, inode) a path names now, if anything.
pub(super) fn identity(path: &Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).map(|m| (m.dev(), m.ino()))
}

/// The writer's connection and the file it was opened on.
pub(super) struct Watched {
    pub(super) path: PathBuf,
    pub(super) identity: (u64, u64),
    pub(super) conn: Connection,
    pub(super) reader: Arc<Mutex<Connection>>,
    pub(super) stats: Arc<CommitStats>,
    /// Copies worked from after a failed swap, removed once a later rebuild succeeds.
    pub(super) orphans: Vec<PathBuf>,
}

impl Watched {
    /// Ok when the path still names the open file, or after the outbox was rebuilt there.
    pub(super) fn ensure(&mut self) -> anyhow::Result<()> {
        let now = identity(&self.path).ok();
        if now == Some(self.identity) {
            return Ok(());
        }
        let first = self.stats.file_ok.swap(0, Ordering::Relaxed) == 1;
        match self.rebuild(now.is_some()) {
            Ok((waiting, dead)) => {
                self.stats.file_ok.store(1, Ordering::Relaxed);
                self.stats.rebuilds.fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    path = %self.path.display(),
                    waiting,
                    dead,
                    how = if now.is_some() { "replaced" } else { "deleted" },
                    "The outbox file was deleted or replaced while the router ran; rebuilt it at its path from the open copy, nothing lost."
                );
                Ok(())
            }
            Err(e) => {
                if first {
                    tracing::error!(path = %self.path.display(), error = %format!("{e:#}"), "The outbox file was deleted or replaced and cannot be rebuilt yet; refusing new events (503) until it can.");
                }
                Err(e.context(format!(
                    "{} was deleted or replaced and cannot be rebuilt yet",
                    self.path.display()
                )))
            }
        }
    }

    /// Writes the open copy to a new file, then puts it at the path: (waiting, dead) rows.
    fn rebuild(&mut self, replaced: bool) -> anyhow::Result<(u64, u64)> {
        let dir = self
            .path
            .parent()
            .context("the outbox path has no directory")?
            .to_path_buf();
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let stamp = crate::clock::now_ms();
        let rescued = dir.join(format!("outbox.db.rescued-{stamp}"));
        let _ = std::fs::remove_file(&rescued);
        // Phase 1: a complete copy beside it. Until it exists the old connections stay: a
        // failure here changes nothing.
        let copied = (|| {
            self.conn
                .execute("VACUUM INTO ?1", params![rescued.to_string_lossy()])
                .context("copying the open outbox")?;
            let counts: (i64, i64) = self.conn.query_row(
                "SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM dead)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            anyhow::Ok(counts)
        })();
        let counts = match copied {
            Ok(c) => c,
            Err(e) => {
                let _ = std::fs::remove_file(&rescued);
                return Err(e);
            }
        };
        // Phase 2: the copy takes the place of the lost file. Readers wait meanwhile. The old
        // connections close first: closing removes their -wal/-shm files by name, which must
        // not be the new file's.
        let mut reader = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        *reader = Connection::open_in_memory()?;
        drop(std::mem::replace(&mut self.conn, Connection::open_in_memory()?));
        let swapped = (|| {
            if replaced {
                let aside = dir.join(format!("outbox.db.replaced-{stamp}"));
                std::fs::rename(&self.path, &aside)
                    .with_context(|| format!("moving the replacement to {}", aside.display()))?;
                tracing::error!(path = %aside.display(), "A different file was put at the outbox path; moved it aside (its events are not delivered).");
            }
            for suffix in ["-wal", "-shm"] {
                let stale = PathBuf::from(format!("{}{suffix}", self.path.display()));
                if stale.exists() {
                    std::fs::rename(&stale, format!("{}.stale-{stamp}", stale.display()))?;
                }
            }
            std::fs::rename(&rescued, &self.path)?;
            std::fs::File::open(&dir)?.sync_all()?;
            self.conn = connect(&self.path)?;
            *reader = connect(&self.path)?;
            self.identity = identity(&self.path)?;
            anyhow::Ok(())
        })();
        if let Err(e) = swapped {
            // The copy is now the only one: work from it (the path still does not name it, so
            // the next check tries again) rather than lose it.
            self.conn = connect(&rescued)?;
            *reader = connect(&rescued)?;
            self.orphans.push(rescued);
            return Err(e);
        }
        for orphan in std::mem::take(&mut self.orphans) {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", orphan.display()));
            }
        }
        Ok((counts.0 as u64, counts.1 as u64))
    }
}
