//! The quarantine directory: keeping an entry within the caps, listing, reading, resolving.

use super::caps::{Class, Kept, Ledger, Limits, NotKept};
use super::entry::{Entry, parse};
use crate::disk::{DiskBudget, Share};
use serde::Deserialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often a full quarantine re-checks which entries were replayed or deleted meanwhile.
const PRUNE_INTERVAL: Duration = Duration::from_secs(1);

/// The quarantine directory.
#[derive(Debug, Clone)]
pub struct Quarantine {
    dir: PathBuf,
    limits: Limits,
    ledger: Arc<Mutex<Ledger>>,
}

/// The parts of an entry the ledger needs (the body is skipped over, not decoded).
#[derive(Deserialize)]
struct Head {
    #[serde(default = "crate::formats::first")]
    format: u32,
    source_id: Option<String>,
    status: u16,
    #[serde(default)]
    truncated: bool,
}

impl Quarantine {
    /// Uses `<data_dir>/quarantine`, for reading it (no caps, nothing scanned).
    pub fn new(data_dir: &Path) -> Quarantine {
        Quarantine {
            dir: data_dir.join("quarantine"),
            limits: Limits::NONE,
            ledger: Arc::default(),
        }
    }

    /// Opens `<data_dir>/quarantine` for a router: measures the pending entries against
    /// `limits`.
    pub fn open(data_dir: &Path, limits: Limits) -> anyhow::Result<Quarantine> {
        let q = Quarantine {
            limits,
            ..Quarantine::new(data_dir)
        };
        let Ok(dir) = std::fs::read_dir(&q.dir) else {
            return Ok(q);
        };
        let mut ledger = Ledger::default();
        for item in dir.flatten() {
            let path = item.path();
            let name = item.file_name().to_string_lossy().into_owned();
            let Ok(meta) = item.metadata() else { continue };
            let Some(id) = name.strip_suffix(".json") else { continue };
            let head: Option<Head> = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice(&b).ok());
            if let Some(h) = &head {
                // An entry from a newer release may hold what this one would misread on replay.
                crate::formats::QUARANTINE.open(h.format, path.display(), None)?;
            }
            let (source, class) = head.map_or((String::new(), Class::Replayable), |h| {
                (h.source_id.unwrap_or_default(), Class::of(h.status, h.truncated))
            });
            ledger.add(
                id.to_string(),
                Kept {
                    source,
                    bytes: meta.len(),
                    class,
                    written: true,
                },
            );
        }
        *q.ledger.lock().unwrap_or_else(|p| p.into_inner()) = ledger;
        Ok(q)
    }

    /// The same quarantine (and its ledger) with other caps, for a reloaded config.
    pub fn with_limits(&self, limits: Limits) -> Quarantine {
        Quarantine { limits, ..self.clone() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes an entry if the caps and the disk budget allow (to a temp name, then renamed: a
    /// reader never sees half a file, and a failed write leaves nothing behind).
    pub async fn keep(&self, entry: &Entry, disk: &DiskBudget) -> Result<PathBuf, NotKept> {
        self.keep_for(entry, disk, Share::All).await
    }

    /// [`Quarantine::keep`] within `share`'s part of the disk budget (a door's request may be
    /// kept down to half of it: see `disk`).
    pub async fn keep_for(&self, entry: &Entry, disk: &DiskBudget, share: Share) -> Result<PathBuf, NotKept> {
        let result = self.try_keep(entry, disk, share).await;
        let mut ledger = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        match &result {
            Ok(_) if ledger.refusing => {
                ledger.refusing = false;
                tracing::info!(dir = %self.dir.display(), "The quarantine is taking entries again.");
            }
            Ok(_) => {}
            Err(e) => {
                *ledger.refused.entry(e.label()).or_default() += 1;
                if !std::mem::replace(&mut ledger.refusing, true) {
                    tracing::warn!(dir = %self.dir.display(), reason = %e, "The quarantine is refusing new entries; failed requests are answered but not kept.");
                }
            }
        }
        result
    }

    async fn try_keep(&self, entry: &Entry, disk: &DiskBudget, share: Share) -> Result<PathBuf, NotKept> {
        let bytes = serde_json::to_vec(entry).map_err(anyhow::Error::from)?;
        let kept = Kept {
            source: entry.source_id.clone().unwrap_or_default(),
            bytes: bytes.len() as u64,
            class: Class::of(entry.status, entry.truncated),
            written: false,
        };
        self.reserve(&entry.delivery_id, kept)?;
        let written = async {
            disk.room_for(&self.dir, bytes.len() as u64, share)?;
            self.write(&entry.delivery_id, &bytes).await.map_err(NotKept::Io)
        }
        .await;
        let mut ledger = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        match &written {
            Ok(_) => {
                if let Some(kept) = ledger.entries.get_mut(&entry.delivery_id) {
                    kept.written = true;
                }
            }
            Err(_) => ledger.remove(&entry.delivery_id),
        }
        written
    }

    /// Counts an entry against the caps before it is written.
    fn reserve(&self, id: &str, kept: Kept) -> Result<(), NotKept> {
        let mut ledger = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        if ledger.over(&self.limits, &kept).is_some() && ledger.pruned.is_none_or(|t| t.elapsed() >= PRUNE_INTERVAL) {
            // Entries replayed or deleted by the CLI since no longer count.
            ledger.pruned = Some(Instant::now());
            let gone: Vec<String> = ledger
                .entries
                .iter()
                .filter(|(id, kept)| kept.written && !self.dir.join(format!("{id}.json")).exists())
                .map(|(id, _)| id.clone())
                .collect();
            for id in gone {
                ledger.remove(&id);
            }
        }
        if let Some(cap) = ledger.over(&self.limits, &kept) {
            return Err(NotKept::Full(cap));
        }
        ledger.add(id.to_string(), kept);
        Ok(())
    }

    async fn write(&self, id: &str, bytes: &[u8]) -> anyhow::Result<PathBuf> {
        tokio::fs::create_dir_all(&self.dir).await?;
        let path = self.dir.join(format!("{id}.json"));
        let tmp = self.dir.join(format!(".{id}.tmp"));
        let result = async {
            tokio::fs::write(&tmp, bytes).await?;
            tokio::fs::rename(&tmp, &path).await
        }
        .await;
        if let Err(e) = result {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e.into());
        }
        Ok(path)
    }

    /// Moves an entry out of the quarantine into `replayed/` (kept for audit, no longer pending).
    pub async fn resolve(&self, delivery_id: &str) -> anyhow::Result<()> {
        let done = self.dir.join("replayed");
        tokio::fs::create_dir_all(&done).await?;
        let name = format!("{delivery_id}.json");
        tokio::fs::rename(self.dir.join(&name), done.join(&name)).await?;
        self.ledger
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(delivery_id);
        Ok(())
    }

    /// Every entry, oldest first.
    pub fn list(&self) -> anyhow::Result<Vec<Entry>> {
        let mut entries = Vec::new();
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return Ok(entries);
        };
        let mut paths: Vec<PathBuf> = dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for p in paths {
            entries.push(parse(&p, &std::fs::read(&p)?)?);
        }
        Ok(entries)
    }

    /// The newest `limit` pending entries (`source`'s only if given), newest first. Entry
    /// names are ULIDs, so the names alone order them and only those shown are read.
    pub fn newest(&self, source: Option<&str>, limit: usize) -> anyhow::Result<Vec<Entry>> {
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return Ok(Vec::new());
        };
        let mut paths: Vec<PathBuf> = dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        let mut entries = Vec::new();
        for p in paths.iter().rev() {
            if entries.len() == limit {
                break;
            }
            // An entry replayed or deleted meanwhile is skipped.
            let Ok(bytes) = std::fs::read(p) else { continue };
            let entry = parse(p, &bytes)?;
            if source.is_none_or(|s| entry.source_id.as_deref() == Some(s)) {
                entries.push(entry);
            }
        }
        Ok(entries)
    }

    /// One pending entry by delivery id.
    pub fn get(&self, delivery_id: &str) -> anyhow::Result<Option<Entry>> {
        if delivery_id.is_empty() || !delivery_id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Ok(None);
        }
        let path = self.dir.join(format!("{delivery_id}.json"));
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(parse(&path, &bytes)?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Pending entries and their bytes.
    pub fn usage(&self) -> (u64, u64) {
        let ledger = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        (ledger.entries.len() as u64, ledger.bytes)
    }

    /// Prometheus text: pending entries and bytes, refusals by cap.
    pub fn render(&self) -> String {
        let ledger = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP switchyard_quarantine_entries Requests kept in the quarantine, pending replay.
# TYPE switchyard_quarantine_entries gauge
switchyard_quarantine_entries {}",
            ledger.entries.len()
        );
        let _ = writeln!(
            out,
            "# HELP switchyard_quarantine_bytes Size of the pending quarantine entries.
# TYPE switchyard_quarantine_bytes gauge
switchyard_quarantine_bytes {}",
            ledger.bytes
        );
        let _ = writeln!(
            out,
            "# HELP switchyard_quarantine_refused_total Failed requests not kept, by the cap that refused them.
# TYPE switchyard_quarantine_refused_total counter"
        );
        for (reason, n) in &ledger.refused {
            let _ = writeln!(out, "switchyard_quarantine_refused_total{{reason=\"{reason}\"}} {n}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quarantine::{CUT_MAX_ENTRIES, UNAUTHENTICATED_MAX_ENTRIES};

    fn entry(id: &str, source: &str, status: u16, body: usize) -> Entry {
        Entry {
            format: crate::formats::QUARANTINE.current,
            delivery_id: id.into(),
            received_at: "2026-01-01T00:00:00Z".into(),
            source_id: Some(source.into()),
            method: "POST".into(),
            path: "/in".into(),
            query: String::new(),
            headers: vec![],
            remote_addr: None,
            status,
            reason: "bad".into(),
            body_base64: Entry::encode_body(&vec![b'x'; body]),
            truncated: false,
        }
    }

    #[tokio::test]
    async fn caps_refuse_new_entries_and_replays_make_room() {
        let dir = tempfile::tempdir().expect("tmp");
        let disk = DiskBudget::new(0, vec![dir.path().to_path_buf()]);
        let limits = Limits {
            max_bytes: 200_000,
            max_entries: 1_000,
            source_max_bytes: 5_000,
        };
        let q = Quarantine::open(dir.path(), limits).expect("open");
        for i in 0..3 {
            q.keep(&entry(&format!("a{i}"), "a", 400, 1000), &disk)
                .await
                .expect("kept");
        }
        assert!(matches!(
            q.keep(&entry("a9", "a", 400, 1000), &disk).await,
            Err(NotKept::Full("source_max_bytes"))
        ));
        q.keep(&entry("b0", "b", 400, 1000), &disk)
            .await
            .expect("another source has room");
        for i in 0..UNAUTHENTICATED_MAX_ENTRIES {
            if q.keep(&entry(&format!("u{i}"), &format!("c{i}"), 401, 0), &disk)
                .await
                .is_err()
            {
                break;
            }
        }
        assert!(matches!(
            q.keep(&entry("u-last", "c-last", 401, 0), &disk).await,
            Err(NotKept::Full("unauthenticated"))
        ));
        // The CLI replays one entry; a reopened router counts what is on disk.
        std::fs::remove_file(q.dir().join("a0.json")).expect("rm");
        tokio::time::sleep(PRUNE_INTERVAL).await;
        q.keep(&entry("a10", "a", 400, 1000), &disk).await.expect("room again");
        let reopened = Quarantine::open(dir.path(), limits).expect("open");
        assert!(matches!(
            reopened.keep(&entry("a11", "a", 400, 1000), &disk).await,
            Err(NotKept::Full("source_max_bytes"))
        ));
        assert!(
            reopened
                .render()
                .contains("switchyard_quarantine_refused_total{reason=\"source_max_bytes\"} 1")
        );
        let tight = DiskBudget::new(u64::MAX / 2, vec![dir.path().to_path_buf()]);
        assert!(matches!(
            reopened.keep(&entry("d0", "d", 400, 10), &tight).await,
            Err(NotKept::Disk(_))
        ));
        assert!(!reopened.dir().join("d0.json").exists());
    }

    #[tokio::test]
    async fn cut_bodies_have_a_share_of_their_own() {
        let dir = tempfile::tempdir().expect("tmp");
        let disk = DiskBudget::new(0, vec![dir.path().to_path_buf()]);
        let limits = Limits {
            max_bytes: u64::MAX,
            max_entries: CUT_MAX_ENTRIES + 10,
            source_max_bytes: u64::MAX,
        };
        let q = Quarantine::open(dir.path(), limits).expect("open");
        let cut = |id: String| Entry {
            truncated: true,
            ..entry(&id, "a", 408, 0)
        };
        for i in 0..CUT_MAX_ENTRIES {
            q.keep(&cut(format!("c{i}")), &disk).await.expect("kept");
        }
        assert!(matches!(
            q.keep(&cut("c-more".into()), &disk).await,
            Err(NotKept::Full("cut"))
        ));
        // The entries a flood of empty 408s cannot take are still there for real failures.
        for i in 0..10 {
            q.keep(&entry(&format!("r{i}"), "a", 500, 10), &disk)
                .await
                .expect("a whole request is kept");
        }
        let reopened = Quarantine::open(dir.path(), limits).expect("open");
        assert!(matches!(
            reopened.keep(&cut("c-after".into()), &disk).await,
            Err(NotKept::Full("cut"))
        ));
    }
}
