//! A small real filesystem for storage-fault tests: a tmpfs mounted on a temp directory (root
//! only), unmounted when dropped. Filling it with a ballast file and deleting the ballast is
//! how the tests make a disk full and free it again.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A mounted tmpfs.
pub struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `bytes` on a fresh directory. `None` (with a note on stderr) when the
    /// process may not mount, i.e. is not root; as root a failed mount is a test failure.
    pub fn mount(bytes: u64) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("tempdir");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}")])
            .arg("tmpfs")
            .arg(dir.path())
            .status();
        match status {
            Ok(s) if s.success() => Some(Tmpfs { dir }),
            other => {
                let root = Command::new("id")
                    .arg("-u")
                    .output()
                    .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
                assert!(!root, "running as root but `mount -t tmpfs` failed: {other:?}");
                eprintln!("skipped: mounting a tmpfs needs root ({other:?})");
                None
            }
        }
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Bytes still free.
    pub fn free(&self) -> u64 {
        switchyard::disk::DiskBudget::free_bytes(self.path()).expect("statvfs")
    }

    /// Writes a ballast file that leaves about `leave` bytes free; returns its path.
    pub fn fill_leaving(&self, leave: u64) -> PathBuf {
        let path = self.path().join(format!("ballast-{}", self.free()));
        let size = self.free().saturating_sub(leave);
        let file = std::fs::File::create(&path).expect("ballast");
        // Written, not just sized: tmpfs reserves pages only for data actually written.
        let chunk = vec![0xa5u8; 1 << 20];
        let mut left = size;
        let mut f = std::io::BufWriter::new(file);
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            if std::io::Write::write_all(&mut f, &chunk[..n]).is_err() {
                break;
            }
            left -= n as u64;
        }
        let _ = std::io::Write::flush(&mut f);
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: a router still shutting down may hold files open.
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}
