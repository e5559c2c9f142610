//! Core wasm module → component, in-process with `wit-component` (no `wasm-tools` needed).
//! A module built with wit-bindgen carries its WIT world in a custom section, which is all the
//! encoder needs; a C module built against wasi-libc also needs the WASI preview1 adapter.

use anyhow::Context;

/// Turns a core module into a component; `adapter` is the `wasi_snapshot_preview1` reactor
/// adapter for modules that import WASI preview1 (C with wasi-libc).
pub fn componentize(module: &[u8], adapter: Option<&[u8]>) -> anyhow::Result<Vec<u8>> {
    let mut encoder = wit_component::ComponentEncoder::default()
        .module(module)?
        .validate(true);
    if let Some(adapter) = adapter {
        encoder = encoder.adapter("wasi_snapshot_preview1", adapter)?;
    }
    encoder.encode().context("turning the core module into a component")
}

/// Whether `bytes` is a core module (not yet a component): preamble `\0asm` + version 1; a
/// component shares the magic but has version `0d 00` and layer `01 00`.
pub fn is_core_module(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && &bytes[..4] == b"\0asm" && bytes[4..8] == [1, 0, 0, 0]
}

/// Writes `bytes` to `dest` only when they differ from what is there: the router's hot
/// reload watches plugin files, and an unchanged rewrite would reload for nothing.
pub fn write_if_changed(dest: &std::path::Path, bytes: &[u8]) -> anyhow::Result<bool> {
    if std::fs::read(dest).ok().as_deref() == Some(bytes) {
        return Ok(false);
    }
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // Whole or nothing: a watcher never sees a half-written component.
    let tmp = dest.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, dest).with_context(|| format!("renaming to {}", dest.display()))?;
    Ok(true)
}
