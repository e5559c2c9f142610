//! `switchyard plugin cache`: what the compile cache holds (the user's, or a router's with
//! `--config`) and pruning it to a size. The cache prunes itself after every write; this is
//! for seeing why a disk filled up, or emptying it on purpose.

use crate::plugin::{disk_cache, function_cache};
use std::path::{Path, PathBuf};

/// Which cache: `--dir`, else `--config`'s `<data_dir>/cache`, else the user's.
pub fn plugin_cache_dir(dir: Option<&Path>, config: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = dir {
        return Ok(dir.to_path_buf());
    }
    match config {
        Some(config) => {
            let spec = crate::config::load(config).map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(spec.server.data_dir.join("cache"))
        }
        None => Ok(disk_cache::user_dir()),
    }
}

/// Lists the cache in `dir`, or prunes it to `max_bytes` first when given; returns the text.
pub fn plugin_cache(dir: &Path, prune_to: Option<u64>) -> String {
    let mut out = String::new();
    if let Some(max) = prune_to {
        let (files, bytes) = disk_cache::prune(dir, max, None);
        out.push_str(&format!("pruned {files} file{} ({})\n", plural(files), size(bytes)));
        function_cache::prune_tree(&dir.join("functions"), max);
    }
    let entries = disk_cache::entries(dir);
    let total: u64 = entries.iter().map(|e| e.bytes).sum();
    out.push_str(&format!(
        "{}: {} compiled component{}, {} (pruned to {} as it grows, least recently used first)\n",
        dir.display(),
        entries.len(),
        plural(entries.len()),
        size(total),
        size(disk_cache::DEFAULT_MAX_BYTES)
    ));
    let (functions, function_bytes) = function_cache::usage(&dir.join("functions"));
    out.push_str(&format!(
        "{}: {functions} compiled function{}, {} (reused when an edited component is compiled; pruned to {})\n",
        dir.join("functions").display(),
        plural(functions),
        size(function_bytes),
        size(function_cache::MAX_BYTES)
    ));
    let now = std::time::SystemTime::now();
    for e in entries.iter().rev() {
        let ago = now.duration_since(e.used).unwrap_or_default().as_secs();
        out.push_str(&format!(
            "  {:>10}  used {:>6} ago  {}\n",
            size(e.bytes),
            age(ago),
            e.path.file_name().unwrap_or_default().to_string_lossy()
        ));
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / f64::from(1u32 << 30)),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

fn age(secs: u64) -> String {
    match secs {
        s if s >= 86_400 => format!("{}d", s / 86_400),
        s if s >= 3_600 => format!("{}h", s / 3_600),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_newest_first_and_prunes_to_the_size_asked() {
        let tmp = tempfile::tempdir().expect("tmp");
        for (name, len) in [("a.cwasm", 3000), ("b.cwasm", 2048)] {
            std::fs::write(tmp.path().join(name), vec![0; len]).expect("write");
        }
        let listed = plugin_cache(tmp.path(), None);
        assert!(listed.contains("2 compiled components, 4.9 KiB"), "{listed}");
        assert!(
            listed.contains("2.0 KiB  used") && listed.contains("b.cwasm"),
            "{listed}"
        );
        let pruned = plugin_cache(tmp.path(), Some(0));
        assert!(pruned.starts_with("pruned 2 files (4.9 KiB)\n"), "{pruned}");
        assert!(pruned.contains("0 compiled components, 0 B"), "{pruned}");
    }
}
