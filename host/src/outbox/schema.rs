//! The outbox file's schema and its versions (`formats::OUTBOX`, SQLite `user_version`): a
//! new file gets the current schema, an older one is migrated in place step by step, a newer
//! one is refused before anything in it changes. `store::connect` runs this on every open.

use rusqlite::{Connection, params};

/// Format 1's tables. A new file is made as format 1 and taken through every migration, so
/// a format change is written once, as its migration.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    sink         TEXT    NOT NULL,
    webhook_id   TEXT    NOT NULL,
    ordering_key TEXT,
    created_ms   INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_ms      INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    payload      BLOB    NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_by_sink ON outbox (sink, id);
CREATE TABLE IF NOT EXISTS dead (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    sink         TEXT    NOT NULL,
    webhook_id   TEXT    NOT NULL,
    ordering_key TEXT,
    created_ms   INTEGER NOT NULL,
    failed_ms    INTEGER NOT NULL,
    attempts     INTEGER NOT NULL,
    last_error   TEXT    NOT NULL,
    payload      BLOB    NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_by_sink ON dead (sink, failed_ms);
";

/// Each step from one format to the next (`MIGRATIONS[v - 1]` takes v to v + 1), run in one
/// transaction with the new `user_version`. See `formats::OUTBOX`.
const MIGRATIONS: &[&str] = &[
    // 1 → 2: who wrote the file, so a newer file refused by an older router names its release.
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
     INSERT OR IGNORE INTO meta (key, value) VALUES ('created_by', '0.1.0 or earlier');",
];

/// Creates the schema of a new file, migrates an older one in place, refuses a newer one.
/// In one write transaction: a router and a CLI opening the same old file migrate it once.
pub(super) fn open(conn: &Connection) -> anyhow::Result<()> {
    use crate::formats::{OUTBOX, Open};
    let version = env!("CARGO_PKG_VERSION");
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    // The common case, without taking the write lock: the file is current.
    if found == i64::from(OUTBOX.current) {
        note_opened(conn, version);
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| -> anyhow::Result<()> {
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let tables: i64 = conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'outbox'",
            [],
            |r| r.get(0),
        )?;
        let fresh = found == 0 && tables == 0;
        if fresh {
            conn.execute_batch(SCHEMA)?;
        }
        let written_by = conn
            .query_row("SELECT value FROM meta WHERE key = 'last_opened_by'", [], |r| r.get(0))
            .ok();
        let at = conn.path().unwrap_or("outbox.db").to_string();
        // A file from before versions were recorded holds the format-1 tables.
        match OUTBOX.open(u32::try_from(found.max(1)).unwrap_or(u32::MAX), at, written_by)? {
            Open::Current => {}
            Open::Older(from) => {
                for step in &MIGRATIONS[from as usize - 1..] {
                    conn.execute_batch(step)?;
                }
                if !fresh {
                    tracing::info!(from, to = OUTBOX.current, "Outbox migrated to the current format.");
                }
            }
        }
        if fresh {
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('created_by', ?1)",
                params![version],
            )?;
        }
        conn.pragma_update(None, "user_version", OUTBOX.current)?;
        Ok(())
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT")?,
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e);
        }
    }
    note_opened(conn, version);
    Ok(())
}

/// Records the release that opened the file last; best effort (a read-only copy cannot).
/// Reads first: a write would wait for the router's write lock on every CLI connect.
fn note_opened(conn: &Connection, version: &str) {
    let recorded: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'last_opened_by'", [], |r| r.get(0))
        .ok();
    if recorded.as_deref() != Some(version) {
        let _ = conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('last_opened_by', ?1)",
            params![version],
        );
    }
}
