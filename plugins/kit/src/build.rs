//! `switchyard plugin build`: builds a project made by `plugin new` into its component with
//! the toolchain its language needs, installing a missing one where it can.

use crate::manifest::Project;
use crate::{Lang, componentize, toolchain};
use anyhow::Context;
use std::process::Command;

/// How to build.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Cargo's target directory for Rust projects (`--target-dir`; else `CARGO_TARGET_DIR`,
    /// else the project's `target/`). Projects sharing one build their dependencies once.
    pub target_dir: Option<std::path::PathBuf>,
}

/// Builds `project`; returns the component's path.
pub fn build(project: &Project, options: &Options) -> anyhow::Result<std::path::PathBuf> {
    let component = match project.lang {
        Lang::Rust => rust(project, options)?,
        Lang::Python => python(project)?,
        Lang::Js => js(project)?,
        Lang::C => crate::c::build(project)?,
    };
    // The settings schema travels inside the component (the file is what ships).
    let component = crate::schema::embed(&component, &project.schema)?;
    if !componentize::write_if_changed(&project.output, &component)? {
        // Same bytes (an edit that changed nothing the build sees): the file stays as it
        // is for the router's watcher, but is marked built now so it is not stale.
        std::fs::File::options()
            .write(true)
            .open(&project.output)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()))
            .with_context(|| format!("marking {} as built", project.output.display()))?;
    }
    write_snippet(project)?;
    Ok(project.output.clone())
}

/// Writes `router-snippet.toml` again from the manifest and `settings.toml`, so what an
/// author pastes into router.toml follows their edits.
pub fn write_snippet(project: &Project) -> anyhow::Result<()> {
    let settings = std::fs::read_to_string(project.dir.join("settings.toml")).unwrap_or_default();
    // settings.toml's own header comment says where the settings go; the snippet has its own.
    let body: Vec<&str> = settings.lines().skip_while(|l| l.starts_with('#')).collect();
    let text = crate::scaffold::snippet(&project.name, project.kind, &project.output, &body.join("\n"));
    componentize::write_if_changed(&project.dir.join("router-snippet.toml"), text.as_bytes())?;
    Ok(())
}

fn rust(project: &Project, options: &Options) -> anyhow::Result<Vec<u8>> {
    let tc = toolchain::rust_guest()?;
    let target_dir = options
        .target_dir
        .clone()
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(Into::into))
        .unwrap_or_else(|| project.dir.join("target"));
    let mut cmd = tc.cdylib(&project.dir, &target_dir);
    cmd.arg("--release");
    toolchain::run(&mut cmd).context("cargo could not build the plugin (its messages are above)")?;
    let core = target_dir
        .join(toolchain::RUST_TARGET)
        .join("release")
        .join(format!("{}.wasm", project.name.replace('-', "_")));
    let module = std::fs::read(&core).with_context(|| format!("reading {}", core.display()))?;
    componentize::componentize(&module, None)
}

fn python(project: &Project) -> anyhow::Result<Vec<u8>> {
    crate::diagnose::python_syntax(project)?;
    let tool = toolchain::componentize_py()?;
    let out = project.dir.join("build/.componentize-py.wasm");
    std::fs::create_dir_all(project.dir.join("build"))?;
    let run = Command::new(tool)
        .current_dir(&project.dir)
        .args(["-d", "wit", "-w", project.kind.as_str(), "componentize", "app", "-o"])
        .arg(&out)
        // Its own Rust backtrace is 60 lines about componentize-py, none about app.py.
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LIB_BACKTRACE", "0")
        .output()
        .context("running componentize-py")?;
    if !run.status.success() {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        anyhow::bail!("{}", crate::diagnose::componentize_py_failure(&text));
    }
    toolchain::take(&out)
}

fn js(project: &Project) -> anyhow::Result<Vec<u8>> {
    crate::diagnose::js_syntax(project)?;
    let tool = toolchain::componentize_js()?;
    let out = project.dir.join("build/.componentize-js.wasm");
    std::fs::create_dir_all(project.dir.join("build"))?;
    // wasi:http is left out: the router links WASI deny-all and has no HTTP for guests.
    toolchain::run(
        Command::new(tool)
            .current_dir(&project.dir)
            .args([
                "--wit",
                "wit",
                "--world-name",
                project.kind.as_str(),
                "-d",
                "http",
                "fetch-event",
                "-o",
            ])
            .env("RUST_BACKTRACE", "0")
            .arg(&out)
            .arg("app.js"),
    )
    .context("componentize-js could not build app.js (its messages are above)")?;
    toolchain::take(&out)
}
