//! The data directory's lock: one router per data dir. Two routers sharing an outbox would
//! both deliver every event; the second one refuses to start instead. The lock is an OS file
//! lock on `<data_dir>/router.lock`, so it goes away with the process, even after `kill -9`.
//! The CLI (`dlq`, `replay`) does not take it: it works next to a running router.
//!
//! Also the data dir's housekeeping at start: temp files that a crash left half-written
//! (quarantine entries and blobs are written to `.<name>.tmp`, then renamed).

use anyhow::Context;
use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::Duration;

/// Temp files older than this at startup were left by a crash: a write takes milliseconds, and
/// a younger one may belong to a `switchyard replay` running beside the router.
pub const STALE_TMP_AGE: Duration = Duration::from_secs(60);

/// Held for as long as the router runs.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// Locks `data_dir` for this process, or says which process holds it.
pub fn lock(data_dir: &Path) -> anyhow::Result<DataDirLock> {
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let path = data_dir.join("router.lock");
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            anyhow::bail!(
                "another switchyard (pid {}) is running with data dir {}; two routers on one outbox would deliver every event twice",
                holder.trim(),
                data_dir.display()
            );
        }
        Err(TryLockError::Error(e)) => return Err(e).with_context(|| format!("locking {}", path.display())),
    }
    file.set_len(0)?;
    file.rewind()?;
    write!(file, "{}", std::process::id())?;
    Ok(DataDirLock { _file: file })
}

/// Removes the temp files a crash left in the quarantine and the blob store of `data_dir`,
/// logging how many.
pub fn remove_stale_temp_files(data_dir: &Path) {
    let quarantine = remove_stale_in(&data_dir.join("quarantine"), STALE_TMP_AGE);
    let blobs: usize = std::fs::read_dir(data_dir.join("blobs"))
        .map(|shards| {
            shards
                .flatten()
                .map(|shard| remove_stale_in(&shard.path(), STALE_TMP_AGE))
                .sum()
        })
        .unwrap_or(0);
    if quarantine + blobs > 0 {
        tracing::warn!(quarantine, blobs, "Removed half-written files left by a crash.");
    }
}

/// Removes the `.<name>.tmp` files in `dir` (not below it) older than `age`; returns how many.
fn remove_stale_in(dir: &Path, age: Duration) -> usize {
    let Ok(files) = std::fs::read_dir(dir) else {
        return 0;
    };
    files
        .flatten()
        .filter(|file| {
            let name = file.file_name();
            let name = name.to_string_lossy();
            name.starts_with('.') && name.ends_with(".tmp")
        })
        .filter(|file| {
            file.metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|m| m.elapsed().ok())
                .is_some_and(|e| e >= age)
        })
        .filter(|file| std::fs::remove_file(file.path()).is_ok())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_stale_temp_files_are_removed() {
        let dir = tempfile::tempdir().expect("tmp");
        let quarantine = dir.path().join("quarantine");
        let shard = dir.path().join("blobs/ab");
        std::fs::create_dir_all(&quarantine).expect("mkdir");
        std::fs::create_dir_all(&shard).expect("mkdir");
        let old = std::time::SystemTime::now() - 2 * STALE_TMP_AGE;
        for path in [quarantine.join(".a.tmp"), shard.join(".ab12.x.tmp")] {
            std::fs::File::create(&path)
                .and_then(|f| f.set_modified(old))
                .expect("an old temp file");
        }
        std::fs::write(quarantine.join(".fresh.tmp"), b"half").expect("write");
        std::fs::write(quarantine.join("kept.json"), b"{}").expect("write");
        remove_stale_temp_files(dir.path());
        assert!(!quarantine.join(".a.tmp").exists() && !shard.join(".ab12.x.tmp").exists());
        assert!(
            quarantine.join(".fresh.tmp").exists(),
            "a fresh temp file may be another writer's"
        );
        assert!(quarantine.join("kept.json").exists());
    }
}
