//! Finding (and where it is missing, installing) each language's guest toolchain.
//!
//! Rust: `scripts/guest-toolchain.sh` (embedded here) picks rustup's wasm32 target when it is
//! installed and otherwise Debian's rustc-web, whose std is built from source
//! (`-Zbuild-std`). Python: componentize-py from PyPI. JavaScript: componentize-js from npm.
//! C: Debian's clang, lld and wasi-libc (the bindings are generated in-process).

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The pinned tool versions (the ones the docs' measurements were made with).
pub const COMPONENTIZE_PY: &str = "0.25.1";
/// componentize-js on npm.
pub const COMPONENTIZE_JS: &str = "0.23.0";
/// TypeScript, whose `tsc` checks a JavaScript plugin against its typings (`tsc -p .`).
pub const TYPESCRIPT: &str = "5.9.3";

const GUEST_TOOLCHAIN_SH: &str = include_str!("../../../scripts/guest-toolchain.sh");

/// A Rust toolchain that builds wasm32-unknown-unknown.
#[derive(Debug, Clone)]
pub struct RustGuest {
    /// The cargo to run.
    pub cargo: String,
    /// The rustc it must use.
    pub rustc: String,
    /// Whether std must be built from source (`-Zbuild-std`, Debian's rustc-web).
    pub build_std: bool,
}

/// The Rust guest target: no WASI, so a Rust plugin imports nothing but `router:plugin`.
pub const RUST_TARGET: &str = "wasm32-unknown-unknown";

impl RustGuest {
    /// `cargo rustc --lib --crate-type cdylib --target wasm32-unknown-unknown` run in `dir`
    /// into `target_dir`, with this toolchain's rustc (and std built from source where it
    /// must be); the caller adds the profile and package. A plugin crate stays an rlib
    /// natively, because component export names are not valid native linker symbols.
    pub fn cdylib(&self, dir: &Path, target_dir: &Path) -> Command {
        let mut cmd = Command::new(&self.cargo);
        cmd.current_dir(dir)
            .args(["rustc", "--lib", "--crate-type", "cdylib", "--target", RUST_TARGET])
            .env("RUSTC", &self.rustc)
            .env("CARGO_TARGET_DIR", target_dir)
            // An outer cargo's settings (`cargo xtask`, a `cargo run` of switchyard) must not
            // reach the guest build.
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("RUSTC_WRAPPER")
            .env_remove("RUSTC_WORKSPACE_WRAPPER")
            .env_remove("CARGO_BUILD_TARGET")
            .env_remove("CARGO_MANIFEST_DIR");
        if self.build_std {
            // Debian's rustc-web ships std as source: build it (a nightly flag, hence bootstrap).
            cmd.arg("-Zbuild-std=std,panic_abort").env("RUSTC_BOOTSTRAP", "1");
        }
        cmd
    }
}

/// Finds or installs the Rust guest toolchain (messages go to stderr).
pub fn rust_guest() -> anyhow::Result<RustGuest> {
    let script = std::env::temp_dir().join(format!("switchyard-guest-toolchain-{}.sh", std::process::id()));
    std::fs::write(&script, GUEST_TOOLCHAIN_SH)?;
    let output = Command::new("bash")
        .arg(&script)
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("running the guest toolchain script (bash)");
    let _ = std::fs::remove_file(&script);
    let output = output?;
    if !output.status.success() {
        bail!(
            "no wasm32 guest toolchain: install rustup's target (`rustup target add wasm32-unknown-unknown`) or Debian's rustc-web, cargo-web, rust-web-src and lld-22"
        );
    }
    let text = String::from_utf8(output.stdout)?;
    let get = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
            .map(str::to_string)
            .with_context(|| format!("the guest toolchain script printed no {key}"))
    };
    Ok(RustGuest {
        cargo: get("GUEST_CARGO")?,
        rustc: get("GUEST_RUSTC")?,
        build_std: get("GUEST_BUILD_STD")? == "1",
    })
}

/// Where the kit keeps tools it installs itself (componentize-js, typescript):
/// `$SWITCHYARD_TOOLS`, else `$XDG_CACHE_HOME/switchyard/tools`, else `~/.cache/switchyard/tools`.
pub fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SWITCHYARD_TOOLS") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("switchyard/tools")
}

/// Whether `program` runs (`program --version` succeeds).
pub fn runs(program: &Path) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// componentize-py: on PATH, else installed with pip (`pip install componentize-py==…`).
pub fn componentize_py() -> anyhow::Result<PathBuf> {
    let on_path = PathBuf::from("componentize-py");
    if runs(&on_path) {
        return Ok(on_path);
    }
    eprintln!("switchyard: installing componentize-py {COMPONENTIZE_PY} from PyPI (about 30 s, once)");
    let pip = ["pip3", "pip"].into_iter().find(|p| runs(Path::new(p))).context(
        "componentize-py is not installed and there is no pip to install it with (install Python 3 and pip)",
    )?;
    run(Command::new(pip).args(["install", "-q", &format!("componentize-py=={COMPONENTIZE_PY}")]))?;
    if runs(&on_path) {
        Ok(on_path)
    } else {
        bail!("componentize-py was installed but is not on PATH (pip's script directory)")
    }
}

/// componentize-js: in the kit's tools dir, installed there with npm when missing.
pub fn componentize_js() -> anyhow::Result<PathBuf> {
    npm_tool(
        "@bytecodealliance/componentize-js",
        COMPONENTIZE_JS,
        "componentize-js",
        "about 30 s, once",
    )
}

/// `tsc`: in the kit's tools dir, installed there with npm when missing. The kit does not
/// need it to build; authors run it (`tsc -p .` in a JavaScript project) to check their code
/// against the typings, and the kit's own tests do.
pub fn typescript() -> anyhow::Result<PathBuf> {
    npm_tool("typescript", TYPESCRIPT, "tsc", "about 10 s, once")
}

/// An npm package's command, installed into `<tools>/<name>-<version>` when missing (saying
/// what and how long it usually takes: never a silent install).
fn npm_tool(package: &str, version: &str, bin: &str, takes: &str) -> anyhow::Result<PathBuf> {
    let name = package.rsplit('/').next().unwrap_or(package);
    let dir = tools_dir().join(format!("{name}-{version}"));
    let path = dir.join("node_modules/.bin").join(bin);
    if path.exists() {
        return Ok(path);
    }
    eprintln!(
        "switchyard: installing {package} {version} from npm into {} ({takes})",
        dir.display()
    );
    std::fs::create_dir_all(&dir)?;
    run(Command::new("npm").args([
        "install",
        "--silent",
        "--no-audit",
        "--no-fund",
        "--prefix",
        &dir.to_string_lossy(),
        &format!("{package}@{version}"),
    ]))
    .with_context(|| format!("installing {package} with npm (is Node.js installed?)"))?;
    anyhow::ensure!(
        path.exists(),
        "npm installed {package} but {} is missing",
        path.display()
    );
    Ok(path)
}

/// Runs a command, failing with its name and exit status.
pub fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("running {:?}", cmd.get_program()))?;
    if !status.success() {
        bail!("{:?} failed ({status})", cmd.get_program());
    }
    Ok(())
}

/// Reads and removes a tool's output file.
pub(crate) fn take(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let _ = std::fs::remove_file(path);
    if bytes.is_empty() {
        bail!("{} is empty", path.display());
    }
    Ok(bytes)
}
