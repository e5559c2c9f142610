//! C plugins: wit-bindgen's C generator writes the bindings (in-process, the library behind
//! `wit-bindgen c`), clang builds them with the plugin against wasi-libc (Debian's
//! `wasi-libc`), and the module becomes a component with WASI preview1 adapted to preview2
//! (the adapter ships inside this binary).

use crate::manifest::Project;
use crate::toolchain;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's wasi-libc, in the multiarch places clang's `wasm32-wasi` target looks.
const WASI_LIBC: &str = "/usr/lib/wasm32-wasi/libc.a";
/// Debian packages the C build needs.
const DEBIAN_PACKAGES: [&str; 4] = ["clang", "lld", "wasi-libc", "libclang-rt-14-dev-wasm32"];

/// Builds an `app.c` project into a component.
pub(crate) fn build(project: &Project) -> anyhow::Result<Vec<u8>> {
    let clang = clang()?;
    let world = project.kind.as_str();
    let bindings = project.dir.join("build/bindings");
    generate_bindings(&project.dir.join("wit"), world, &bindings).context("generating the C bindings from wit/")?;
    let core = project.dir.join("build/.core.wasm");
    toolchain::run(
        Command::new(&clang)
            .current_dir(&project.dir)
            .args([
                "--target=wasm32-wasi",
                "-mexec-model=reactor",
                "-O2",
                "-Wall",
                "-Werror=implicit-function-declaration",
                "-I",
            ])
            .arg(&bindings)
            .arg("app.c")
            .arg(bindings.join(format!("{world}.c")))
            .arg(bindings.join(format!("{world}_component_type.o")))
            .arg("-o")
            .arg(&core),
    )
    .context("clang could not build app.c (its messages are above)")?;
    let module = toolchain::take(&core)?;
    crate::componentize::componentize(
        &module,
        Some(wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER),
    )
}

/// Writes `<world>.h`, `<world>.c` and `<world>_component_type.o` for the world of the WIT
/// package in `wit` into `out` (what `wit-bindgen c wit --world W --out-dir out` writes).
fn generate_bindings(wit: &Path, world: &str, out: &Path) -> anyhow::Result<()> {
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve.push_dir(wit)?;
    let world = resolve.select_world(&[package], Some(world))?;
    let mut files = wit_bindgen_core::Files::default();
    wit_bindgen_c::Opts::default()
        .build()
        .generate(&mut resolve, world, &mut files)?;
    std::fs::create_dir_all(out)?;
    for (name, contents) in files.iter() {
        let path = out.join(name);
        crate::componentize::write_if_changed(&path, contents)?;
    }
    Ok(())
}

/// clang with the wasm32 target, wasi-libc and compiler-rt: Debian's packages, installed
/// with apt-get when missing (as root, or through sudo).
fn clang() -> anyhow::Result<PathBuf> {
    let ready = || {
        toolchain::runs(Path::new("clang")) && Path::new(WASI_LIBC).exists() && toolchain::runs(Path::new("wasm-ld"))
    };
    if !ready() {
        eprintln!(
            "switchyard: installing {} with apt-get (about a minute, once)",
            DEBIAN_PACKAGES.join(" ")
        );
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0"));
        let mut update = if root { Command::new("apt-get") } else { sudo("apt-get") };
        let _ = update.args(["update", "-qq"]).status();
        let mut install = if root { Command::new("apt-get") } else { sudo("apt-get") };
        toolchain::run(
            install
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args(["install", "-y", "-qq", "--no-install-recommends"])
                .args(DEBIAN_PACKAGES),
        )
        .with_context(|| format!("C plugins need {}", DEBIAN_PACKAGES.join(", ")))?;
        if !ready() {
            bail!("clang, wasm-ld or wasi-libc ({WASI_LIBC}) still missing after installing them");
        }
    }
    Ok(PathBuf::from("clang"))
}

fn sudo(program: &str) -> Command {
    let mut cmd = Command::new("sudo");
    cmd.arg(program);
    cmd
}
