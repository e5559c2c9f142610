//! Test guests written in WAT: a core module plus the WIT it implements, componentized exactly
//! as Rust guests are (`tests/wat/*.wat`).

use crate::workspace;
use std::path::{Path, PathBuf};

/// Builds a component from a WAT core module implementing `world` of `wit/`: the WIT type
/// information is embedded and the module componentized, exactly as for Rust guests.
///
/// A guest whose exports name `@0.1.0` is built against the published 0.1.0 package
/// (`tests/fixtures/wit-0.1.0`, a copy of `wit/` as 0.1.0 was released), so every such test
/// also shows that plugins built for 0.1.0 still run on this host.
pub fn wat_component(world: &str, wat_text: &str) -> Vec<u8> {
    // Guests exporting older names are built against that version's WIT (kept as fixtures):
    // the router must go on loading them.
    let wit = if wat_text.contains("@0.1.0#") {
        workspace().join("tests/fixtures/wit-0.1.0")
    } else if wat_text.contains("@0.1.1#") {
        workspace().join("tests/fixtures/wit-0.1.1")
    } else {
        workspace().join("wit")
    };
    wat_component_with(world, wat_text, &wit)
}

/// [`wat_component`] against the WIT package in `wit` (a variant a test wrote, e.g. a future
/// version or a changed record).
pub fn wat_component_with(world: &str, wat_text: &str, wit: &Path) -> Vec<u8> {
    let mut module = wat::parse_str(wat_text).unwrap_or_else(|e| panic!("bad WAT: {e}"));
    let mut resolve = wit_parser::Resolve::default();
    let (pkg, _) = resolve.push_dir(wit).expect("parse the WIT package");
    let world = resolve.select_world(&[pkg], Some(world)).expect("world");
    wit_component::embed_component_metadata(&mut module, &resolve, world, wit_component::StringEncoding::UTF8)
        .expect("embed");
    wit_component::ComponentEncoder::default()
        .module(&module)
        .expect("module")
        .validate(true)
        .encode()
        .expect("componentize")
}

/// Builds `tests/wat/<name>.wat` as a component of `world` and writes it into `dir`.
pub fn wat_guest(name: &str, world: &str, dir: &Path) -> PathBuf {
    let src = workspace().join("tests/wat").join(format!("{name}.wat"));
    let text = std::fs::read_to_string(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, wat_component(world, &text)).expect("write guest");
    path
}
