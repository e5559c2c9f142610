//! The outbox file's queries: opening a connection with the router's settings, and every
//! read and dead-letter action outside the writer thread. Any process may run them next to a
//! running router (SQLite in WAL mode; writes wait on the router's lock for `BUSY_TIMEOUT`).

use crate::queue::{Chosen, DeadLetter, Depth, Queued, Selection};
use anyhow::Context;
use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a connection waits for another process's write lock (the CLI's `dlq replay`).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The outbox file under a data dir.
pub fn path_in(data_dir: &Path) -> PathBuf {
    data_dir.join("outbox.db")
}

/// Opens (creating if needed) the outbox database with the router's settings. Any process may
/// open it: the CLI does, next to a running router.
pub fn connect(path: &Path) -> anyhow::Result<Connection> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let conn = Connection::open(path).with_context(|| format!("opening the outbox {}", path.display()))?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        anyhow::bail!("the outbox {} cannot use WAL mode (got {mode})", path.display());
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    super::schema::open(&conn).with_context(|| format!("opening the outbox {}", path.display()))?;
    Ok(conn)
}

fn queued_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<Queued> {
    Ok(Queued {
        id: row.get(0)?,
        webhook_id: row.get(1)?,
        ordering_key: row.get(2)?,
        created_ms: row.get(3)?,
        attempts: row.get(4)?,
        next_ms: row.get(5)?,
        last_error: row.get(6)?,
        payload: Bytes::from(row.get::<_, Vec<u8>>(7)?),
    })
}

/// Events waiting in the outbox under `data_dir`; 0 without one (nothing is created).
pub fn waiting_in(data_dir: &Path) -> anyhow::Result<u64> {
    let path = path_in(data_dir);
    if !path.exists() {
        return Ok(0);
    }
    Ok(depths(&connect(&path)?)?.values().map(|d| d.queued).sum())
}

/// Reads up to `limit` waiting events of `sink` with ids above `after`, oldest first.
pub fn load(conn: &Connection, sink: &str, after: i64, limit: usize) -> anyhow::Result<Vec<Queued>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, webhook_id, ordering_key, created_ms, attempts, next_ms, last_error, payload
         FROM outbox WHERE sink = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![sink, after, limit as i64], queued_of)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Whether `sink` has any event waiting (an index probe, cheap however long the queue).
pub fn has_waiting(conn: &Connection, sink: &str) -> anyhow::Result<bool> {
    let mut stmt = conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM outbox WHERE sink = ?1)")?;
    Ok(stmt.query_row(params![sink], |r| r.get(0))?)
}

/// Every sink's share of the outbox (counts every row: for metrics scrapes).
pub fn depths(conn: &Connection) -> anyhow::Result<BTreeMap<String, Depth>> {
    let mut out: BTreeMap<String, Depth> = BTreeMap::new();
    let mut stmt = conn.prepare_cached("SELECT sink, count(*), min(created_ms) FROM outbox GROUP BY sink")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, Option<i64>>(2)?))
    })?;
    for row in rows {
        let (sink, n, oldest) = row?;
        let depth = out.entry(sink).or_default();
        depth.queued = n as u64;
        depth.oldest_ms = oldest;
    }
    let mut stmt = conn.prepare_cached("SELECT sink, count(*) FROM dead GROUP BY sink")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (sink, n) = row?;
        out.entry(sink).or_default().dead = n as u64;
    }
    Ok(out)
}

/// The `dead` columns [`dead_letter_of`] reads, in its order.
const DEAD_COLUMNS: &str = "id, sink, webhook_id, ordering_key, created_ms, failed_ms, attempts, last_error, payload";

fn dead_letter_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeadLetter> {
    Ok(DeadLetter {
        id: r.get(0)?,
        sink: r.get(1)?,
        webhook_id: r.get(2)?,
        ordering_key: r.get(3)?,
        created_ms: r.get(4)?,
        failed_ms: r.get(5)?,
        attempts: r.get(6)?,
        last_error: r.get(7)?,
        payload: Bytes::from(r.get::<_, Vec<u8>>(8)?),
    })
}

/// Dead letters, oldest failure first, optionally only one sink's and only those that failed
/// at or after `since_ms`.
pub fn dead_letters(conn: &Connection, sink: Option<&str>, since_ms: Option<i64>) -> anyhow::Result<Vec<DeadLetter>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {DEAD_COLUMNS} FROM dead WHERE (?1 IS NULL OR sink = ?1) AND failed_ms >= ?2 ORDER BY failed_ms, id"
    ))?;
    let rows = stmt.query_map(params![sink, since_ms.unwrap_or(i64::MIN)], dead_letter_of)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The newest `limit` dead letters (`sink`'s only if given), newest failure first, and how
/// many match in all: what the console lists.
pub fn recent_dead_letters(
    conn: &Connection,
    sink: Option<&str>,
    limit: usize,
) -> anyhow::Result<(Vec<DeadLetter>, u64)> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {DEAD_COLUMNS} FROM dead WHERE (?1 IS NULL OR sink = ?1) ORDER BY failed_ms DESC, id DESC LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![sink, limit as i64], dead_letter_of)?;
    let letters = rows.collect::<Result<_, _>>()?;
    let total: i64 = conn.query_row(
        "SELECT count(*) FROM dead WHERE (?1 IS NULL OR sink = ?1)",
        params![sink],
        |r| r.get(0),
    )?;
    Ok((letters, total as u64))
}

/// The selected dead letters without their payloads, oldest failure first.
pub fn select_dead(conn: &Connection, selection: &Selection) -> anyhow::Result<Vec<Chosen>> {
    let chosen = |r: &rusqlite::Row<'_>| {
        Ok((
            Chosen {
                id: r.get(0)?,
                sink: r.get(1)?,
                webhook_id: r.get(2)?,
            },
            r.get::<_, i64>(3)?,
        ))
    };
    let rows: Vec<(Chosen, i64)> = match &selection.ids {
        // By id: one index probe each, however many dead letters there are.
        Some(ids) => {
            let mut stmt = conn.prepare_cached("SELECT id, sink, webhook_id, failed_ms FROM dead WHERE id = ?1")?;
            let mut out = Vec::new();
            for id in ids {
                if let Some(row) = stmt.query_row(params![id], chosen).optional()? {
                    out.push(row);
                }
            }
            out
        }
        None => {
            let mut stmt = conn.prepare_cached(
                "SELECT id, sink, webhook_id, failed_ms FROM dead WHERE (?1 IS NULL OR sink = ?1) ORDER BY failed_ms, id",
            )?;
            stmt.query_map(params![selection.sink], chosen)?
                .collect::<Result<_, _>>()?
        }
    };
    Ok(rows
        .into_iter()
        .filter(|(c, failed_ms)| selection.matches(c.id, &c.sink, *failed_ms))
        .map(|(c, _)| c)
        .collect())
}

/// Deletes these dead letters for good; returns how many.
pub fn purge_ids(conn: &mut Connection, ids: &[i64]) -> anyhow::Result<usize> {
    let tx = conn.transaction()?;
    let mut purged = 0;
    {
        let mut delete = tx.prepare_cached("DELETE FROM dead WHERE id = ?1")?;
        for id in ids {
            purged += delete.execute(params![id])?;
        }
    }
    tx.commit()?;
    Ok(purged)
}

/// The webhook-ids of `sink`'s waiting events and of the dead letters since `since_ms` (ids
/// only: following a replay should not read every payload again and again).
pub fn webhook_ids(conn: &Connection, sink: &str, since_ms: i64) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let mut waiting = conn.prepare_cached("SELECT webhook_id FROM outbox WHERE sink = ?1")?;
    let waiting = waiting
        .query_map(params![sink], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut dead = conn.prepare_cached("SELECT webhook_id FROM dead WHERE sink = ?1 AND failed_ms >= ?2")?;
    let dead = dead
        .query_map(params![sink, since_ms], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok((waiting, dead))
}

/// Moves dead letters back into the outbox (fresh attempts, fresh age, same webhook-id so the
/// receiver can still dedup) in one transaction; returns how many moved. A running router
/// picks them up within its poll interval.
pub fn requeue(conn: &mut Connection, ids: &[i64]) -> anyhow::Result<usize> {
    let tx = conn.transaction()?;
    let now = crate::clock::now_ms();
    let mut moved = 0;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO outbox (sink, webhook_id, ordering_key, created_ms, attempts, next_ms, payload)
             SELECT sink, webhook_id, ordering_key, ?2, 0, 0, payload FROM dead WHERE id = ?1",
        )?;
        let mut delete = tx.prepare_cached("DELETE FROM dead WHERE id = ?1")?;
        for id in ids {
            if insert.execute(params![id, now])? == 1 {
                delete.execute(params![id])?;
                moved += 1;
            }
        }
    }
    tx.commit()?;
    Ok(moved)
}
