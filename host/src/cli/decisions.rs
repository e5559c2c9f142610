//! `switchyard decisions tail`: the latest door decisions from the audit log, and new ones as
//! they are made (`--follow`). Reads the files only; the router need not be running.

use crate::decision::{AUDIT_FILE, AUDIT_PREVIOUS_FILE, Record, audit_dir};
use anyhow::Context;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How often `--follow` looks for new lines.
const FOLLOW_POLL: Duration = Duration::from_millis(250);

fn dir_of(config: &Path) -> anyhow::Result<PathBuf> {
    let spec = crate::config::load(config).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(audit_dir(&spec.server.data_dir))
}

/// Records in `text` (whole lines only); lines that are not records are skipped.
fn records(text: &str) -> impl Iterator<Item = Record> + '_ {
    text.lines().filter_map(|l| serde_json::from_str(l).ok())
}

/// The latest `n` decisions (oldest first), and where the current file ends (for `--follow`).
pub fn decisions_tail(config: &Path, n: usize) -> anyhow::Result<(Vec<Record>, u64)> {
    let dir = dir_of(config)?;
    let read = |name: &str| match std::fs::read_to_string(dir.join(name)) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", dir.join(name).display())),
    };
    let previous = read(AUDIT_PREVIOUS_FILE)?;
    let current = read(AUDIT_FILE)?;
    // Only whole lines count: the writer may be halfway through one.
    let complete = current.rfind('\n').map_or(0, |i| i + 1);
    let mut all: Vec<Record> = records(&previous).chain(records(&current[..complete])).collect();
    let skip = all.len().saturating_sub(n);
    all.drain(..skip);
    Ok((all, complete as u64))
}

/// Prints decisions appended after `position` as they come, until interrupted. A rotation
/// (the file starts over) is followed.
pub async fn decisions_follow(config: &Path, mut position: u64, mut print: impl FnMut(&Record)) -> anyhow::Result<()> {
    let path = dir_of(config)?.join(AUDIT_FILE);
    loop {
        tokio::time::sleep(FOLLOW_POLL).await;
        let Ok(mut file) = std::fs::File::open(&path) else {
            continue;
        };
        let len = file.metadata()?.len();
        if len < position {
            position = 0;
        }
        if len == position {
            continue;
        }
        file.seek(SeekFrom::Start(position))?;
        let mut text = String::new();
        file.take(len - position).read_to_string(&mut text)?;
        let complete = text.rfind('\n').map_or(0, |i| i + 1);
        records(&text[..complete]).for_each(|r| print(&r));
        position += complete as u64;
    }
}
