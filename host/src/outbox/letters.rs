//! The outbox's dead letters (the `dead` table), for the running router and for
//! `switchyard dlq` in another process next to it: SQLite in WAL mode serves both. A replay
//! by the running router wakes the sink's dispatcher at once; one from another process is
//! found by the dispatcher's poll within a second.

use super::sql;
use super::store::Store;
use crate::queue::{Chosen, DeadLetter, DeadLetters, Selection};
use futures_util::future::BoxFuture;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The dead letters of the outbox at a path.
pub struct Letters {
    path: PathBuf,
    /// The running router's store (to wake dispatchers after a replay).
    store: Option<Store>,
}

impl Letters {
    /// The dead letters of the outbox under `data_dir`, from a process that is not the router.
    pub fn in_data_dir(data_dir: &Path) -> Letters {
        Letters {
            path: sql::path_in(data_dir),
            store: None,
        }
    }

    /// The dead letters of the running router's outbox.
    pub(super) fn of(store: &Store) -> Letters {
        Letters {
            path: store.path().to_path_buf(),
            store: Some(store.clone()),
        }
    }

    /// Runs `f` on a connection of its own, off the async threads. A data dir without an
    /// outbox has no dead letters: `f` gets `None` (nothing is created by looking).
    async fn with<T: Send + Default + 'static>(
        &self,
        f: impl FnOnce(&mut rusqlite::Connection) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            if !path.exists() {
                return Ok(T::default());
            }
            f(&mut sql::connect(&path)?)
        })
        .await
        .map_err(|e| anyhow::anyhow!("reading the outbox's dead letters panicked: {e}"))?
    }
}

impl DeadLetters for Letters {
    fn list<'a>(&'a self, selection: &'a Selection) -> BoxFuture<'a, anyhow::Result<Vec<DeadLetter>>> {
        let selection = selection.clone();
        Box::pin(self.with(move |c| {
            let letters = sql::dead_letters(c, selection.sink.as_deref(), selection.since_ms)?;
            Ok(letters
                .into_iter()
                .filter(|d| selection.matches(d.id, &d.sink, d.failed_ms))
                .collect())
        }))
    }

    fn recent<'a>(
        &'a self,
        sink: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, anyhow::Result<(Vec<DeadLetter>, usize)>> {
        let sink = sink.map(str::to_string);
        Box::pin(self.with(move |c| {
            let (letters, total) = sql::recent_dead_letters(c, sink.as_deref(), limit)?;
            Ok((letters, total as usize))
        }))
    }

    fn select<'a>(&'a self, selection: &'a Selection) -> BoxFuture<'a, anyhow::Result<Vec<Chosen>>> {
        let selection = selection.clone();
        Box::pin(self.with(move |c| sql::select_dead(c, &selection)))
    }

    fn replay<'a>(&'a self, chosen: &'a [Chosen]) -> BoxFuture<'a, anyhow::Result<usize>> {
        let ids: Vec<i64> = chosen.iter().map(|c| c.id).collect();
        Box::pin(async move {
            let moved = self.with(move |c| sql::requeue(c, &ids)).await?;
            if let Some(store) = &self.store {
                let sinks: HashSet<&str> = chosen.iter().map(|c| c.sink.as_str()).collect();
                for sink in sinks {
                    store.waker(sink).notify_one();
                }
            }
            Ok(moved)
        })
    }

    fn purge<'a>(&'a self, chosen: &'a [Chosen]) -> BoxFuture<'a, anyhow::Result<usize>> {
        let ids: Vec<i64> = chosen.iter().map(|c| c.id).collect();
        Box::pin(self.with(move |c| sql::purge_ids(c, &ids)))
    }

    fn settled<'a>(&'a self, chosen: &'a [Chosen], since_ms: i64) -> BoxFuture<'a, anyhow::Result<(usize, usize)>> {
        let ids: HashSet<String> = chosen.iter().map(|c| c.webhook_id.clone()).collect();
        let mut sinks: Vec<String> = chosen.iter().map(|c| c.sink.clone()).collect();
        sinks.sort_unstable();
        sinks.dedup();
        // Ids only: following a replay must not read every payload again and again.
        Box::pin(self.with(move |c| {
            let (mut waiting, mut failed) = (0, 0);
            for sink in &sinks {
                let (queued, dead) = sql::webhook_ids(c, sink, since_ms)?;
                waiting += queued.iter().filter(|id| ids.contains(*id)).count();
                failed += dead.iter().filter(|id| ids.contains(*id)).count();
            }
            Ok((waiting, failed))
        }))
    }
}
