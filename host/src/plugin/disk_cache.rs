//! Compiled components on disk, so that a component is compiled once — by whichever of
//! `plugin test`, `switchyard check` or the router meets it first — and loads in
//! milliseconds everywhere after. Python and JavaScript components take 10–30 s to compile.
//!
//! A router keeps its own cache in `<data_dir>/cache` and reads the user's cache
//! (`$XDG_CACHE_HOME/switchyard/compiled`, where `plugin test` writes) as a second place: a
//! component an author just tested is not compiled again when the router reloads it.
//! Compiled code is native code, so a second place is only read when it and the file belong to
//! this user and nobody else can write them.
//!
//! Bounded: files are used least-recently-first (a hit marks the file used), and after each
//! write the oldest files go until the cache is under its size (the file just written stays).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

/// What a cache may hold before the least recently used files go: about 30 Python or
/// JavaScript components, hundreds of Rust or C ones.
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;

/// The extension of compiled files (anything else in the directory is left alone).
const EXTENSION: &str = "cwasm";

/// The user's compile cache: `$XDG_CACHE_HOME/switchyard/compiled`, else
/// `~/.cache/switchyard/compiled`.
pub fn user_dir() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("switchyard/compiled")
}

/// A cache directory and the places it may borrow from.
#[derive(Debug, Clone)]
pub struct DiskCache {
    dir: PathBuf,
    also: Vec<PathBuf>,
    max_bytes: u64,
}

/// One compiled file.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its path.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// When it was last written or used.
    pub used: SystemTime,
}

impl DiskCache {
    /// The cache in `dir`, also reading the user's cache when `dir` is another directory.
    pub fn new(dir: PathBuf) -> DiskCache {
        let user = user_dir();
        let also = if same_dir(&user, &dir) { Vec::new() } else { vec![user] };
        DiskCache {
            dir,
            also,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of `name` in this cache if it is there or could be taken from a second place
    /// (copied in, so this cache keeps it when the other is pruned); marks it used.
    pub fn get(&self, name: &str) -> Option<PathBuf> {
        let own = self.dir.join(name);
        if own.is_file() {
            touch(&own);
            return Some(own);
        }
        let borrowed = self.also.iter().map(|d| d.join(name)).find(|p| trusted(p))?;
        match self.store_from(name, &borrowed) {
            Ok(path) => Some(path),
            // This cache cannot be written (a read-only data dir): use the other in place.
            Err(_) => {
                touch(&borrowed);
                Some(borrowed)
            }
        }
    }

    fn store_from(&self, name: &str, from: &Path) -> std::io::Result<PathBuf> {
        let code = std::fs::read(from)?;
        self.put(name, &code)
    }

    /// Writes `name` whole (never half: a temp file renamed), then prunes to the bound.
    pub fn put(&self, name: &str, code: &[u8]) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.dir.join(name);
        // Unique per writer: another process sharing the directory may write the same file.
        static WRITES: AtomicU64 = AtomicU64::new(0);
        let tmp = path.with_extension(format!(
            "tmp{}-{}",
            std::process::id(),
            WRITES.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&tmp, code).and_then(|()| std::fs::rename(&tmp, &path))?;
        prune(&self.dir, self.max_bytes, Some(&path));
        Ok(path)
    }
}

/// Every compiled file in `dir`, least recently used first.
pub fn entries(dir: &Path) -> Vec<Entry> {
    let mut out: Vec<Entry> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == EXTENSION))
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            Some(Entry {
                path: e.path(),
                bytes: meta.len(),
                used: meta.modified().ok()?,
            })
        })
        .collect();
    out.sort_by_key(|e| (e.used, e.path.clone()));
    out
}

/// Removes the least recently used files of `dir` until it holds at most `max_bytes`
/// (`keep` stays whatever its size); returns the files removed and the bytes freed.
pub fn prune(dir: &Path, max_bytes: u64, keep: Option<&Path>) -> (usize, u64) {
    let all = entries(dir);
    let mut total: u64 = all.iter().map(|e| e.bytes).sum();
    let (mut removed, mut freed) = (0, 0);
    for entry in all {
        if total <= max_bytes {
            break;
        }
        if keep.is_some_and(|k| k == entry.path) {
            continue;
        }
        if std::fs::remove_file(&entry.path).is_ok() {
            total -= entry.bytes;
            removed += 1;
            freed += entry.bytes;
        }
    }
    (removed, freed)
}

/// Marks a file used now (its mtime is the LRU clock). Failing is harmless: it only ages.
fn touch(path: &Path) {
    let _ = std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(SystemTime::now()));
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Whether compiled code at `path` may be loaded from a second place: the file and its
/// directory belong to this user and neither group nor others can write them.
fn trusted(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let me = rustix::process::geteuid().as_raw();
    let ok = |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.uid() == me && m.mode() & 0o022 == 0);
    path.is_file() && ok(path) && path.parent().is_some_and(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aged(path: &Path, secs_ago: u64) {
        std::fs::File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_modified(SystemTime::now() - std::time::Duration::from_secs(secs_ago)))
            .expect("mtime");
    }

    #[test]
    fn the_least_recently_used_files_go_first_and_the_new_one_stays() {
        let tmp = tempfile::tempdir().expect("tmp");
        let cache = DiskCache {
            dir: tmp.path().to_path_buf(),
            also: Vec::new(),
            max_bytes: 250,
        };
        for (name, age) in [("a.cwasm", 300), ("b.cwasm", 200), ("c.cwasm", 100)] {
            cache.put(name, &[0; 100]).expect("put");
            aged(&tmp.path().join(name), age);
        }
        // Three files of 100 bytes under a bound of 250: the oldest went when `c` was written.
        let names = |dir: &Path| -> Vec<String> {
            entries(dir)
                .iter()
                .map(|e| e.path.file_name().expect("name").to_string_lossy().to_string())
                .collect()
        };
        assert_eq!(names(tmp.path()), ["b.cwasm", "c.cwasm"]);
        // Using `b` makes `c` the oldest: it goes next.
        assert!(cache.get("b.cwasm").is_some());
        cache.put("d.cwasm", &[0; 100]).expect("put");
        assert_eq!(names(tmp.path()), ["b.cwasm", "d.cwasm"]);
        // A file bigger than the bound is still kept when it is the one just written.
        cache.put("huge.cwasm", &[0; 400]).expect("put");
        assert_eq!(names(tmp.path()), ["huge.cwasm"]);
        std::fs::write(tmp.path().join("notes.txt"), "mine").expect("other file");
        assert_eq!(prune(tmp.path(), 0, None), (1, 400));
        assert!(tmp.path().join("notes.txt").exists(), "only compiled files are pruned");
    }

    #[test]
    fn a_second_place_is_read_when_it_is_this_users_alone() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().expect("tmp");
        let (own, user) = (tmp.path().join("own"), tmp.path().join("user"));
        std::fs::create_dir_all(&user).expect("dir");
        std::fs::set_permissions(&user, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::fs::write(user.join("x.cwasm"), b"code").expect("write");
        std::fs::set_permissions(user.join("x.cwasm"), std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let cache = DiskCache {
            dir: own.clone(),
            also: vec![user.clone()],
            max_bytes: DEFAULT_MAX_BYTES,
        };
        assert_eq!(cache.get("x.cwasm"), Some(own.join("x.cwasm")), "copied in");
        assert_eq!(std::fs::read(own.join("x.cwasm")).expect("copy"), b"code");
        assert_eq!(cache.get("missing.cwasm"), None);
        // A file others may write could hold anyone's native code: not loaded.
        std::fs::write(user.join("y.cwasm"), b"code").expect("write");
        std::fs::set_permissions(user.join("y.cwasm"), std::fs::Permissions::from_mode(0o666)).expect("chmod");
        assert_eq!(cache.get("y.cwasm"), None);
    }
}
