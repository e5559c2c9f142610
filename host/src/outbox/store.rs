//! The outbox's SQLite file (`<data_dir>/outbox.db`, WAL mode): the `outbox` table holds events
//! waiting for a sink, `dead` holds the ones given up on. One writer thread owns the write
//! connection and applies commands in **group commits**: whatever queued up while the previous
//! transaction was being fsynced goes into the next one, so concurrent requests share one
//! fsync instead of paying one each.
//!
//! Only batches that carry new events (or a flush) are fsynced (`synchronous=FULL`); a batch of
//! acks and retry bookkeeping alone commits with `synchronous=NORMAL`. Losing such a batch in
//! a power cut means an event is delivered again with the same webhook-id, never lost.
//!
//! **The file is watched.** Before every batch, after every durable one and once a second when
//! idle, the writer compares the open file's identity (device, inode) with what the path names
//! now. If `outbox.db` was deleted or replaced, nothing more is acknowledged into the lost file:
//! the writer rebuilds the outbox at its path from the copy it still holds open (`VACUUM INTO`:
//! every waiting event and dead letter, ids kept, so dispatchers carry on), moves a replacement
//! aside as `outbox.db.replaced-<ms>`, logs an error and counts it. While that cannot be done
//! (e.g. the disk is full), commits fail and senders get 503 until it succeeds.

use super::sql::{connect, path_in};
use super::stats::CommitStats;
use super::watch::{Watched, identity};
use crate::queue::NewRow;
use anyhow::Context;

use rusqlite::{Connection, params};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;
use tokio::sync::{Notify, oneshot};

/// Commands applied in one transaction at most.
const MAX_BATCH: usize = 4096;
/// How often an idle writer checks that its file is still the one at the path.
const WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// What the writer thread applies.
enum Command {
    Enqueue {
        rows: Vec<NewRow>,
        done: oneshot::Sender<Result<(), String>>,
    },
    Delivered(i64),
    Retry {
        id: i64,
        attempts: u32,
        next_ms: i64,
        error: String,
    },
    Bury {
        id: i64,
        attempts: u32,
        error: String,
    },
    Flush(oneshot::Sender<Result<(), String>>),
}

/// The router's handle on the outbox file: the writer thread plus a read connection.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    commands: Mutex<mpsc::Sender<Command>>,
    reader: Arc<Mutex<Connection>>,
    wakers: Arc<Mutex<HashMap<String, Arc<Notify>>>>,
    stats: Arc<CommitStats>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.inner.path).finish()
    }
}

impl Store {
    /// Opens the outbox under `data_dir` and starts its writer thread.
    pub fn open(data_dir: &Path) -> anyhow::Result<Store> {
        let path = path_in(data_dir);
        let writer = connect(&path)?;
        let identity = identity(&path).with_context(|| format!("reading {}", path.display()))?;
        let reader = Arc::new(Mutex::new(connect(&path)?));
        let (tx, rx) = mpsc::channel();
        let wakers: Arc<Mutex<HashMap<String, Arc<Notify>>>> = Arc::default();
        let stats = Arc::new(CommitStats::default());
        stats.file_ok.store(1, Ordering::Relaxed);
        let file = Watched {
            path: path.clone(),
            identity,
            conn: writer,
            reader: reader.clone(),
            stats: stats.clone(),
            orphans: Vec::new(),
        };
        let (w, s) = (wakers.clone(), stats.clone());
        std::thread::Builder::new()
            .name("outbox-writer".into())
            .spawn(move || write_loop(file, rx, w, s))
            .context("starting the outbox writer thread")?;
        Ok(Store {
            inner: Arc::new(Inner {
                path,
                commands: Mutex::new(tx),
                reader,
                wakers,
                stats,
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Group-commit counters.
    pub fn stats(&self) -> &CommitStats {
        &self.inner.stats
    }

    fn send(&self, command: Command) -> bool {
        self.inner
            .commands
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(command)
            .is_ok()
    }

    /// Commits new events; returns once they are on disk (fsynced), or the reason they are not.
    pub async fn enqueue(&self, rows: Vec<NewRow>) -> anyhow::Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let (done, committed) = oneshot::channel();
        if !self.send(Command::Enqueue { rows, done }) {
            anyhow::bail!("the outbox writer has stopped");
        }
        match committed.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => anyhow::bail!("committing to the outbox failed: {e}"),
            Err(_) => anyhow::bail!("the outbox writer has stopped"),
        }
    }

    /// Records a delivery (the event leaves the outbox).
    pub fn delivered(&self, id: i64) {
        self.send(Command::Delivered(id));
    }

    /// Records a failed attempt and when to try next.
    pub fn retry(&self, id: i64, attempts: u32, next_ms: i64, error: String) {
        self.send(Command::Retry {
            id,
            attempts,
            next_ms,
            error,
        });
    }

    /// Moves an event to the dead letters with its last error.
    pub fn bury(&self, id: i64, attempts: u32, error: String) {
        self.send(Command::Bury { id, attempts, error });
    }

    /// Waits until everything sent so far is committed and fsynced.
    pub async fn flush(&self) -> anyhow::Result<()> {
        let (done, flushed) = oneshot::channel();
        if !self.send(Command::Flush(done)) {
            return Ok(());
        }
        match flushed.await {
            Ok(Ok(())) | Err(_) => Ok(()),
            Ok(Err(e)) => anyhow::bail!("flushing the outbox failed: {e}"),
        }
    }

    /// The notification a sink's dispatcher waits on; fired after each commit that adds
    /// events for that sink.
    pub fn waker(&self, sink: &str) -> Arc<Notify> {
        self.inner
            .wakers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(sink.to_string())
            .or_default()
            .clone()
    }

    /// Runs `f` with the read connection on a blocking thread.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner.reader.lock().unwrap_or_else(|p| p.into_inner())))
            .await
            .context("outbox reader panicked")?
    }
}

fn write_loop(
    mut file: Watched,
    commands: mpsc::Receiver<Command>,
    wakers: Arc<Mutex<HashMap<String, Arc<Notify>>>>,
    stats: Arc<CommitStats>,
) {
    loop {
        let first = match commands.recv_timeout(WATCH_INTERVAL) {
            Ok(c) => c,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = file.ensure();
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match commands.try_recv() {
                Ok(c) => batch.push(c),
                Err(_) => break,
            }
        }
        let durable = batch
            .iter()
            .any(|c| matches!(c, Command::Enqueue { .. } | Command::Flush(_)));
        // Never commit into a file that is no longer at the path, and acknowledge only once
        // the path still names the file the commit went to.
        // Acks and retry bookkeeping may go into a lost file: the rebuild copies them along.
        let checked = file.ensure();
        let result = if durable {
            checked
                .and_then(|()| apply(&mut file.conn, &batch, durable))
                .and_then(|()| file.ensure())
        } else {
            apply(&mut file.conn, &batch, durable)
        }
        .map_err(|e| format!("{e:#}"));
        stats.commits.fetch_add(1, Ordering::Relaxed);
        if durable {
            stats.fsyncs.fetch_add(1, Ordering::Relaxed);
        }
        if let Err(e) = &result {
            tracing::error!(error = %e, commands = batch.len(), "Outbox commit failed.");
        }
        let mut woken: Vec<String> = Vec::new();
        for command in batch {
            match command {
                Command::Enqueue { rows, done } => {
                    if result.is_ok() {
                        stats.rows.fetch_add(rows.len() as u64, Ordering::Relaxed);
                        for row in rows {
                            if !woken.contains(&row.sink) {
                                woken.push(row.sink);
                            }
                        }
                    }
                    let _ = done.send(result.clone());
                }
                Command::Flush(done) => {
                    let _ = done.send(result.clone());
                }
                _ => {}
            }
        }
        let wakers = wakers.lock().unwrap_or_else(|p| p.into_inner());
        for sink in woken {
            if let Some(w) = wakers.get(&sink) {
                w.notify_one();
            }
        }
    }
}

fn apply(conn: &mut Connection, batch: &[Command], durable: bool) -> anyhow::Result<()> {
    conn.pragma_update(None, "synchronous", if durable { "FULL" } else { "NORMAL" })?;
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO outbox (sink, webhook_id, ordering_key, created_ms, payload) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut delete = tx.prepare_cached("DELETE FROM outbox WHERE id = ?1")?;
        let mut retry =
            tx.prepare_cached("UPDATE outbox SET attempts = ?2, next_ms = ?3, last_error = ?4 WHERE id = ?1")?;
        let mut bury = tx.prepare_cached(
            "INSERT INTO dead (sink, webhook_id, ordering_key, created_ms, failed_ms, attempts, last_error, payload)
             SELECT sink, webhook_id, ordering_key, created_ms, ?2, ?3, ?4, payload FROM outbox WHERE id = ?1",
        )?;
        for command in batch {
            match command {
                Command::Enqueue { rows, .. } => {
                    for r in rows {
                        insert.execute(params![
                            r.sink,
                            r.webhook_id,
                            r.ordering_key,
                            r.created_ms,
                            r.payload.as_ref()
                        ])?;
                    }
                }
                Command::Delivered(id) => {
                    delete.execute(params![id])?;
                }
                Command::Retry {
                    id,
                    attempts,
                    next_ms,
                    error,
                } => {
                    retry.execute(params![id, attempts, next_ms, error])?;
                }
                Command::Bury { id, attempts, error } => {
                    bury.execute(params![id, crate::clock::now_ms(), attempts, error])?;
                    delete.execute(params![id])?;
                }
                Command::Flush(_) => {}
            }
        }
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::sql::*;
    use bytes::Bytes;

    fn row(sink: &str, n: u32) -> NewRow {
        NewRow {
            sink: sink.to_string(),
            webhook_id: format!("msg_{n}"),
            ordering_key: None,
            created_ms: 1,
            payload: Bytes::from(format!("{{\"n\":{n}}}")),
        }
    }

    #[tokio::test]
    async fn a_deleted_or_replaced_file_is_rebuilt_from_the_open_copy() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("open");
        store.enqueue(vec![row("a", 1), row("a", 2)]).await.expect("enqueue");
        let before = store.read(|c| load(c, "a", 0, 10)).await.expect("load");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", store.path().display()));
        }
        store
            .enqueue(vec![row("a", 3)])
            .await
            .expect("committed into the rebuilt file");
        assert_eq!(store.stats().rebuilds.load(Ordering::Relaxed), 1);
        let conn = connect(store.path()).expect("the path holds the outbox again");
        let after = load(&conn, "a", 0, 10).expect("load");
        assert_eq!(
            after.iter().map(|q| q.webhook_id.as_str()).collect::<Vec<_>>(),
            ["msg_1", "msg_2", "msg_3"]
        );
        assert_eq!(after[0].id, before[0].id, "ids are kept: dispatchers carry on");
        drop(conn);

        std::fs::write(store.path().with_extension("other"), b"not a database").expect("write");
        std::fs::rename(store.path().with_extension("other"), store.path()).expect("replace");
        store.enqueue(vec![row("b", 4)]).await.expect("enqueue");
        let aside: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with("outbox.db.replaced-"))
            .collect();
        assert_eq!(aside.len(), 1, "the replacement is kept aside");
        let depths = store.read(depths).await.expect("depths");
        assert_eq!((depths["a"].queued, depths["b"].queued), (3, 1));
    }

    #[tokio::test]
    async fn events_survive_reopening_and_move_through_dead_letters() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("open");
        store
            .enqueue(vec![row("a", 1), row("a", 2), row("b", 3)])
            .await
            .expect("enqueue");
        let a = store.read(|c| load(c, "a", 0, 10)).await.expect("load");
        assert_eq!(
            a.iter().map(|q| q.webhook_id.as_str()).collect::<Vec<_>>(),
            ["msg_1", "msg_2"]
        );
        store.delivered(a[0].id);
        store.retry(a[1].id, 1, 99, "HTTP 503".into());
        store.flush().await.expect("flush");
        drop(store);

        let store = Store::open(dir.path()).expect("reopen");
        let a = store.read(|c| load(c, "a", 0, 10)).await.expect("load");
        assert_eq!((a.len(), a[0].attempts, a[0].next_ms), (1, 1, 99));
        assert_eq!(a[0].last_error.as_deref(), Some("HTTP 503"));
        store.bury(a[0].id, 2, "HTTP 422: no".into());
        store.flush().await.expect("flush");
        let depths = store.read(depths).await.expect("depths");
        assert_eq!(
            depths.get("a").map(|d| (d.queued, d.dead, d.oldest_ms)),
            Some((0, 1, None))
        );
        assert_eq!(
            depths.get("b").map(|d| (d.queued, d.dead, d.oldest_ms)),
            Some((1, 0, Some(1)))
        );

        let mut conn = connect(store.path()).expect("second connection");
        let dead = dead_letters(&conn, Some("a"), None).expect("dead");
        assert_eq!(
            (dead.len(), dead[0].attempts, dead[0].webhook_id.as_str()),
            (1, 2, "msg_2")
        );
        assert_eq!(requeue(&mut conn, &[dead[0].id]).expect("requeue"), 1);
        let a = store.read(|c| load(c, "a", 0, 10)).await.expect("load");
        assert_eq!((a.len(), a[0].attempts, a[0].webhook_id.as_str()), (1, 0, "msg_2"));
        assert!(dead_letters(&conn, None, None).expect("dead").is_empty());

        store.bury(a[0].id, 1, "HTTP 410".into());
        store.flush().await.expect("flush");
        let select = |conn: &Connection, sink: Option<&str>, before_ms: i64| {
            let selection = crate::queue::Selection {
                sink: sink.map(str::to_string),
                before_ms: Some(before_ms),
                ..Default::default()
            };
            select_dead(conn, &selection).expect("select")
        };
        assert!(select(&conn, Some("b"), i64::MAX).is_empty(), "another sink's");
        assert!(select(&conn, None, 0).is_empty(), "failed after the cut-off");
        let ids: Vec<i64> = select(&conn, Some("a"), i64::MAX).iter().map(|c| c.id).collect();
        assert_eq!(purge_ids(&mut conn, &ids).expect("purge"), 1);
        assert!(dead_letters(&conn, None, None).expect("dead").is_empty());
    }
}
