//! The host's rooms and what each may import, as AGENTS.md's map draws them: every file of a
//! room may name (`crate::<room>`) only rooms on a lower layer. A file that reaches up — the
//! pipeline naming the HTTP edge, a backend naming the console — fails here, with the line.
//!
//! Test modules (`#[cfg(test)]` and below) are left out: a test may build what it needs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Top to bottom; the rooms of one layer do not name each other either. `main.rs` and
/// `lib.rs` wire everything and stand above all.
const LAYERS: &[&[&str]] = &[
    &["cli", "admin"],
    &["ingest", "reload"],
    &["router"],
    &["pipeline"],
    &["cluster", "outbox"],
    &["queue"],
    &["sink"],
    &["nats"],
    &["config"],
    &["capture", "quarantine"],
    &["plugin"],
    &["decision", "dedup", "blobs", "oci"],
    &[
        "body",
        "clock",
        "datadir",
        "digest",
        "disk",
        "event",
        "formats",
        "metrics",
        "shutdown",
        "systemd",
        "telemetry",
        "tls",
    ],
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn layer_of(room: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&room))
}

/// Every `.rs` file under `dir`.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The room a file belongs to: its folder under src/, or its own name.
fn room_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).expect("under src");
    let first = rel.components().next().expect("a path").as_os_str().to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The rooms a file's product code names, with the line of each first mention.
fn named(text: &str) -> BTreeMap<String, usize> {
    let product = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut out = BTreeMap::new();
    for (n, line) in product.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let room: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if !room.is_empty() {
                out.entry(room).or_insert(n + 1);
            }
        }
    }
    out
}

#[test]
fn every_room_imports_only_the_layers_below_it() {
    let mut all = Vec::new();
    files(&src(), &mut all);
    all.sort();
    let mut broken = Vec::new();
    for file in &all {
        let room = room_of(file);
        if room == "main" || room == "lib" {
            continue;
        }
        let Some(own) = layer_of(&room) else {
            broken.push(format!(
                "{}: room `{room}` is on no layer: place it in LAYERS here and in AGENTS.md's map",
                file.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("read");
        for (other, line) in named(&text) {
            if other == room {
                continue;
            }
            match layer_of(&other) {
                Some(layer) if layer > own => {}
                Some(_) => broken.push(format!(
                    "{}:{line}: `{room}` names `crate::{other}`, which is not on a lower layer",
                    file.display()
                )),
                // Items of lib.rs itself (`crate::Shutdown`, `crate::run`) are the top: a room
                // must take them from their own room.
                None => broken.push(format!(
                    "{}:{line}: `{room}` names `crate::{other}`, which is lib.rs or no room: name the room instead",
                    file.display()
                )),
            }
        }
    }
    assert!(broken.is_empty(), "imports running up:\n{}", broken.join("\n"));
}

#[test]
fn agents_md_maps_every_room() {
    let map = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../AGENTS.md")).expect("AGENTS.md");
    let missing: Vec<&str> = LAYERS
        .iter()
        .flat_map(|l| l.iter())
        .filter(|room| !map.contains(&format!("`{room}`")))
        .copied()
        .collect();
    assert!(missing.is_empty(), "AGENTS.md's map does not name {missing:?}");
}

#[test]
fn the_scanner_sees_an_upward_import() {
    // The rule is only as good as the scan: a line that reaches up must be found.
    let found = named("use crate::ingest::Edge;\nfn f() { crate::admin::x(); }\n#[cfg(test)]\nuse crate::cli;");
    assert_eq!(found.keys().collect::<Vec<_>>(), ["admin", "ingest"]);
    assert!(layer_of("pipeline") > layer_of("ingest"));
}
