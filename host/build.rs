//! Build script: embeds the first-party plugin components (built by `cargo xtask plugins`
//! into `target/plugins/`, or taken from `SWITCHYARD_BUILTIN_PLUGINS`) so a packaged binary
//! needs no plugin files, and records the git commit for `switchyard --version`.
//!
//! A build without the components (a bare `cargo build` before `make plugins`) still works:
//! it carries whichever are present, and `builtin = "…"` names the missing ones in its error.

use std::path::{Path, PathBuf};

/// The first-party components, by file stem. host/src/plugin/builtin.rs describes each; a
/// unit test there keeps the two lists equal.
const BUILTIN: &[&str] = &[
    "normalize-findface",
    "normalize-omni",
    "normalize-sensenebula",
    "normalize-noahface",
    "normalize-preservica",
    "normalize-json",
    "drop-unmatched",
    "redact",
    "decide-roster",
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let dir = match std::env::var_os("SWITCHYARD_BUILTIN_PLUGINS") {
        Some(dir) => PathBuf::from(dir),
        None => manifest.join("../target/plugins"),
    };
    println!("cargo:rerun-if-env-changed=SWITCHYARD_BUILTIN_PLUGINS");
    // The directory and each component. A missing directory is watched too: cargo reruns a
    // script whose watched path is missing on every build, so a binary built before
    // `make plugins` (CI's clippy step) gains them on the first build after it.
    println!("cargo:rerun-if-changed={}", dir.display());
    if !dir.is_dir() {
        println!(
            "cargo:warning=no built-in plugins in {} (run `make plugins`, or `cargo xtask plugins`, first)",
            dir.display()
        );
    }
    let mut table = String::from("&[\n");
    for name in BUILTIN {
        let file = dir.join(format!("{name}.wasm"));
        if file.is_file() {
            println!("cargo:rerun-if-changed={}", file.display());
            let file = file.canonicalize().expect("an existing file canonicalizes");
            table.push_str(&format!(
                "    ({name:?}, include_bytes!({:?})),\n",
                file.display().to_string()
            ));
        }
    }
    table.push(']');
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("builtin_plugins.rs"), table).expect("writing OUT_DIR/builtin_plugins.rs");

    let commit = git_commit(&manifest).unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=SWITCHYARD_GIT_COMMIT={commit}");
    // HEAD moves on commit and checkout; the ref file it names moves on commit.
    let git = manifest.join("../.git");
    if git.is_dir() && std::env::var_os("SWITCHYARD_GIT_COMMIT").is_none() {
        println!("cargo:rerun-if-changed={}", git.join("HEAD").display());
        let head = std::fs::read_to_string(git.join("HEAD")).unwrap_or_default();
        if let Some(branch) = head.trim().strip_prefix("ref: ") {
            let file = git.join(branch);
            if file.is_file() {
                println!("cargo:rerun-if-changed={}", file.display());
            }
        }
    }
}

/// The short commit of the checkout, with `-dirty` when it has changes; `None` outside git
/// (a source tarball) or when a release build sets `SWITCHYARD_GIT_COMMIT` itself.
fn git_commit(manifest: &Path) -> Option<String> {
    println!("cargo:rerun-if-env-changed=SWITCHYARD_GIT_COMMIT");
    if let Ok(given) = std::env::var("SWITCHYARD_GIT_COMMIT") {
        return Some(given);
    }
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(manifest)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).ok()?.trim().to_string())
}
