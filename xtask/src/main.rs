//! Project automation that needs more than a shell line.
//!
//! `cargo xtask plugins [--out DIR]`: makes sure a wasm32 guest toolchain exists
//! (`scripts/guest-toolchain.sh`, through the plugin kit), builds every plugin crate under `plugins/` for
//! `wasm32-unknown-unknown` in one cargo invocation (std is compiled once per target dir),
//! then turns each core module into a component with `wit-component` — in-process, so no
//! external `wasm-tools` binary is needed — and writes `target/plugins/<name>.wasm`.

use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use router_plugin_kit::toolchain::RUST_TARGET as TARGET;
const PROFILE: &str = "plugin";
const USAGE: &str = "usage: cargo xtask plugins [--out DIR] [--only NAME]... (NAME: a folder of plugins/)";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    match args.first().map(String::as_str) {
        Some("plugins") => {
            let mut out = root.join("target/plugins");
            let mut only = Vec::new();
            let mut rest = args[1..].iter();
            while let Some(arg) = rest.next() {
                match arg.as_str() {
                    "--out" => out = PathBuf::from(rest.next().context("--out needs a directory")?),
                    "--only" => only.push(rest.next().context("--only needs a plugin folder name")?.clone()),
                    other => bail!("unknown argument `{other}`; {USAGE}"),
                }
            }
            build_plugins(&root, &out, &only)
        }
        _ => bail!("{USAGE}"),
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Plugin crates: every `plugins/*/Cargo.toml` with a `[package.metadata.switchyard]` table,
/// keyed by directory name.
fn plugin_crates(root: &Path) -> Result<BTreeMap<String, String>> {
    let mut crates = BTreeMap::new();
    for entry in std::fs::read_dir(root.join("plugins")).context("reading plugins/")? {
        let dir = entry?.path();
        let manifest = dir.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        if !text.contains("[package.metadata.switchyard]") {
            continue;
        }
        let package = text
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("name = ")
                    .map(|n| n.trim_matches('"').to_string())
            })
            .with_context(|| format!("no package name in {}", manifest.display()))?;
        let dir_name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .context("plugin dir name")?
            .to_string();
        crates.insert(dir_name, package);
    }
    Ok(crates)
}

/// Builds the plugin crates (all, or the folders named in `only`) into components in `out`.
fn build_plugins(root: &Path, out: &Path, only: &[String]) -> Result<()> {
    let mut crates = plugin_crates(root)?;
    if let Some(unknown) = only.iter().find(|name| !crates.contains_key(*name)) {
        bail!(
            "no plugin `{unknown}` (plugins: {})",
            crates.keys().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    if !only.is_empty() {
        crates.retain(|name, _| only.contains(name));
    }
    let tc = router_plugin_kit::toolchain::rust_guest()?;
    let target_dir = root.join("target/wasm");
    for package in crates.values() {
        build_one(root, &tc, &target_dir, package)?;
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for (name, package) in &crates {
        let core = target_dir
            .join(TARGET)
            .join(PROFILE)
            .join(format!("{}.wasm", package.replace('-', "_")));
        let module = std::fs::read(&core).with_context(|| format!("reading {}", core.display()))?;
        let component = router_plugin_kit::componentize::componentize(&module, None)
            .with_context(|| format!("componentizing {}", core.display()))?;
        let component = with_schema(root, name, component)?;
        let dest = out.join(format!("{name}.wasm"));
        // Rewritten only on change, atomically: the router's hot reload watches these files.
        router_plugin_kit::componentize::write_if_changed(&dest, &component)?;
        eprintln!("plugin {name}: {} ({} bytes)", dest.display(), component.len());
    }
    Ok(())
}

/// The component with `plugins/<name>/settings-schema.toml` built in, when the plugin has
/// one: the router then checks the plugin's settings against it, each mistake at its line.
fn with_schema(root: &Path, name: &str, component: Vec<u8>) -> Result<Vec<u8>> {
    let file = root.join("plugins").join(name).join("settings-schema.toml");
    if !file.exists() {
        return Ok(component);
    }
    let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let schema: router_plugin_kit::schema::Schema =
        toml::from_str(&text).with_context(|| format!("{}", file.display()))?;
    schema.validate().with_context(|| format!("{}", file.display()))?;
    router_plugin_kit::schema::embed(&component, &schema)
}

/// Builds one plugin as a wasm cdylib. All plugins share `target_dir`, so std (with
/// build-std) and common dependencies compile once.
fn build_one(
    root: &Path,
    tc: &router_plugin_kit::toolchain::RustGuest,
    target_dir: &Path,
    package: &str,
) -> Result<()> {
    let mut cmd = tc.cdylib(root, target_dir);
    cmd.args(["--locked", "--profile", PROFILE, "--package", package]);
    let status = cmd.status().with_context(|| format!("running {}", tc.cargo))?;
    if !status.success() {
        bail!("building plugin {package} for {TARGET} failed");
    }
    Ok(())
}
