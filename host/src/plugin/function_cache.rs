//! Cranelift's incremental compilation cache on disk: compiled code per *function*, keyed by
//! the function's own contents. A Python or JavaScript component is a language runtime of
//! thousands of functions plus a little of the author's code; after an edit almost every
//! function is unchanged, so recompiling the new component reuses them instead of compiling
//! 10–20 MB of wasm again (the compile step of the edit → test loop; BENCHMARKS.md).
//!
//! Lives beside the component cache (`<cache>/functions/`), pruned the same way: least
//! recently used first, under a bound.

use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// What the function cache may hold before the least recently used entries go.
pub const MAX_BYTES: u64 = 512 << 20;

/// Compiled functions in a directory, one file each (fanned out over 256 folders).
#[derive(Debug)]
pub(crate) struct FunctionCache {
    dir: PathBuf,
}

impl FunctionCache {
    /// The cache in `dir` (created on first write).
    pub(super) fn new(dir: PathBuf) -> FunctionCache {
        FunctionCache { dir }
    }

    fn path(&self, key: &[u8]) -> PathBuf {
        let name = crate::digest::hex(&Sha256::digest(key));
        self.dir.join(&name[..2]).join(&name[2..])
    }

    /// Drops the least recently used entries until the cache holds at most `max_bytes`.
    pub(super) fn prune(&self, max_bytes: u64) {
        prune_tree(&self.dir, max_bytes);
    }
}

impl wasmtime::CacheStore for FunctionCache {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        let path = self.path(key);
        let bytes = std::fs::read(&path).ok()?;
        // The mtime is the LRU clock; failing to set it only ages the entry.
        let _ = std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()));
        Some(Cow::Owned(bytes))
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        let path = self.path(key);
        static WRITES: AtomicU64 = AtomicU64::new(0);
        let tmp = path.with_extension(format!(
            "tmp{}-{}",
            std::process::id(),
            WRITES.fetch_add(1, Ordering::Relaxed)
        ));
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&tmp, &value))
            .and_then(|()| std::fs::rename(&tmp, &path));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written.is_ok()
    }
}

/// The entries under a function cache directory and their total size.
pub fn usage(dir: &Path) -> (usize, u64) {
    let files = files(dir);
    (files.len(), files.iter().map(|f| f.1).sum())
}

fn files(dir: &Path) -> Vec<(std::time::SystemTime, u64, PathBuf)> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .filter_map(|f| {
            let meta = f.metadata().ok()?;
            Some((meta.modified().ok()?, meta.len(), f.path()))
        })
        .collect()
}

/// Removes the oldest files under `dir` (one level of folders) until it holds `max_bytes`.
pub fn prune_tree(dir: &Path, max_bytes: u64) {
    let mut files = files(dir);
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    if total <= max_bytes {
        return;
    }
    files.sort();
    for (_, len, path) in files {
        if total <= max_bytes {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::CacheStore as _;

    #[test]
    fn entries_round_trip_and_the_oldest_go_first() {
        let tmp = tempfile::tempdir().expect("tmp");
        let cache = FunctionCache::new(tmp.path().join("functions"));
        assert!(cache.get(b"f").is_none());
        assert!(cache.insert(b"f", vec![1; 100]));
        assert!(cache.insert(b"g", vec![2; 100]));
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(cache.path(b"f"))
            .and_then(|f| f.set_modified(old))
            .expect("age");
        cache.prune(150);
        assert!(cache.get(b"f").is_none(), "the older entry went");
        assert_eq!(cache.get(b"g").as_deref(), Some(&[2u8; 100][..]));
    }
}
