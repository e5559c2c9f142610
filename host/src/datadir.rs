//! The data directory's lock: one router per data dir. Two routers sharing an outbox would
//! both deliver every event; the second one refuses to start instead. The lock is an OS file
//! lock on `<data_dir>/router.lock`, so it goes away with the process, even after `kill -9`.
//! The CLI (`dlq`, `replay`) does not take it: it works next to a running router.

use anyhow::Context;
use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

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
