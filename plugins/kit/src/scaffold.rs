//! `switchyard plugin new`: writes a standalone plugin project — source in the chosen
//! language, the WIT, a sample input, the plugin's settings, a router.toml snippet and a
//! README with the three commands (build, test, load) — that builds outside this repository.

use crate::{Kind, Lang, manifest, wit};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// The Rust guest SDK's sources, vendored into Rust projects (`vendor/router-plugin-sdk`).
const SDK_SOURCES: [(&str, &str); 19] = [
    ("lib.rs", include_str!("../../sdk/src/lib.rs")),
    ("base64.rs", include_str!("../../sdk/src/base64.rs")),
    ("event.rs", include_str!("../../sdk/src/event.rs")),
    ("json.rs", include_str!("../../sdk/src/json.rs")),
    ("lazy/mod.rs", include_str!("../../sdk/src/lazy/mod.rs")),
    ("lazy/de.rs", include_str!("../../sdk/src/lazy/de.rs")),
    ("lazy/find.rs", include_str!("../../sdk/src/lazy/find.rs")),
    ("lazy/text.rs", include_str!("../../sdk/src/lazy/text.rs")),
    ("lazy/tests.rs", include_str!("../../sdk/src/lazy/tests.rs")),
    ("media.rs", include_str!("../../sdk/src/media.rs")),
    ("names.rs", include_str!("../../sdk/src/names.rs")),
    ("panic.rs", include_str!("../../sdk/src/panic.rs")),
    ("paths.rs", include_str!("../../sdk/src/paths.rs")),
    ("query.rs", include_str!("../../sdk/src/query.rs")),
    ("reader.rs", include_str!("../../sdk/src/reader.rs")),
    ("settings.rs", include_str!("../../sdk/src/settings.rs")),
    ("time.rs", include_str!("../../sdk/src/time.rs")),
    ("url.rs", include_str!("../../sdk/src/url.rs")),
    ("Cargo.toml", include_str!("../templates/rust/sdk-Cargo.toml")),
];

fn source(kind: Kind, lang: Lang) -> (&'static str, &'static str) {
    match (lang, kind) {
        (Lang::Rust, Kind::Normalizer) => ("src/lib.rs", include_str!("../templates/rust/normalizer.rs")),
        (Lang::Rust, Kind::Filter) => ("src/lib.rs", include_str!("../templates/rust/filter.rs")),
        (Lang::Rust, Kind::Transform) => ("src/lib.rs", include_str!("../templates/rust/transform.rs")),
        (Lang::Rust, Kind::Decider) => ("src/lib.rs", include_str!("../templates/rust/decider.rs")),
        (Lang::Python, Kind::Normalizer) => ("app.py", include_str!("../templates/python/normalizer.py")),
        (Lang::Python, Kind::Filter) => ("app.py", include_str!("../templates/python/filter.py")),
        (Lang::Python, Kind::Transform) => ("app.py", include_str!("../templates/python/transform.py")),
        (Lang::Python, Kind::Decider) => ("app.py", include_str!("../templates/python/decider.py")),
        (Lang::Js, Kind::Normalizer) => ("app.js", include_str!("../templates/js/normalizer.js")),
        (Lang::Js, Kind::Filter) => ("app.js", include_str!("../templates/js/filter.js")),
        (Lang::Js, Kind::Transform) => ("app.js", include_str!("../templates/js/transform.js")),
        (Lang::Js, Kind::Decider) => ("app.js", include_str!("../templates/js/decider.js")),
        (Lang::C, Kind::Normalizer) => ("app.c", include_str!("../templates/c/normalizer.c")),
        (Lang::C, Kind::Filter) => ("app.c", include_str!("../templates/c/filter.c")),
        (Lang::C, Kind::Transform) => ("app.c", include_str!("../templates/c/transform.c")),
        (Lang::C, Kind::Decider) => ("app.c", include_str!("../templates/c/decider.c")),
    }
}

/// The settings each kind's template reads, as a TOML table (`settings.toml`).
fn settings(kind: Kind) -> &'static str {
    match kind {
        Kind::Normalizer => "vendor = \"acme\"\n",
        Kind::Filter => "min_score = 0.8\n",
        Kind::Transform => "site = \"north-gate\"\ntag = \"building-a\"\n",
        Kind::Decider => "allow = [\"p-17\"]\ngrant_tip = \"Welcome\"\ndeny_tip = \"Not registered\"\n",
    }
}

/// The schema of the settings each kind's template reads (the `[settings]` of
/// `switchyard-plugin.toml`): the router checks router.toml against it before the plugin runs.
fn schema(kind: Kind) -> String {
    let declared = match kind {
        Kind::Normalizer => {
            "[settings.vendor]\ntype = \"string\"\ndefault = \"{{name}}\"\ndoc = \"The `vendor` of the events it makes.\"\n"
        }
        Kind::Filter => {
            "[settings.min_score]\ntype = \"number\"\nmin = 0\nmax = 1\ndefault = 0.8\ndoc = \"Recognitions that matched below this score are dropped.\"\n"
        }
        Kind::Transform => {
            "[settings.site]\ntype = \"string\"\nrequired = true\ndoc = \"Written into `source.site` when the vendor left it empty.\"\n\n\
             [settings.tag]\ntype = \"string\"\ndoc = \"Added to the event's extras as `tag` (optional).\"\n"
        }
        Kind::Decider => {
            "[settings.allow]\ntype = \"list<string>\"\ndefault = []\ndoc = \"Person ids let in without a roster entry.\"\n\n\
             [settings.grant_tip]\ntype = \"string\"\ndefault = \"Welcome\"\ndoc = \"What the terminal shows when it opens.\"\n\n\
             [settings.deny_tip]\ntype = \"string\"\ndefault = \"Not registered\"\ndoc = \"What the terminal shows when it stays shut.\"\n"
        }
    };
    format!(
        "# The plugin's settings: `[plugins.<id>.settings]` in router.toml. `plugin build` puts this\n\
         # schema into the component; the router refuses settings that do not fit it (wrong type,\n\
         # unknown key, out of range) at `switchyard check`, in every language, and fills in defaults.\n\
         # Types: string, integer, number, boolean, table, list<…>; also required, default, values,\n\
         # min, max, doc.\n\n{declared}"
    )
}

fn sample(kind: Kind, lang: Lang) -> &'static str {
    match kind {
        // C has no JSON parser at hand: its normalizer template reads a form-encoded push.
        Kind::Normalizer if lang == Lang::C => include_str!("../templates/c/request.json"),
        Kind::Normalizer => include_str!("../templates/common/request.json"),
        Kind::Filter | Kind::Transform => include_str!("../templates/common/event.json"),
        Kind::Decider => include_str!("../templates/common/access-event.json"),
    }
}

/// Checks a plugin name: it becomes the plugin id in router.toml, the Rust crate name and the
/// component's file name.
pub fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !ok {
        bail!("plugin name `{name}` must be 1–64 characters of a-z, 0-9, `-` and `_`, starting with a letter");
    }
    Ok(())
}

/// Writes a new project for plugin `name` into `dir` (which must not exist or be empty);
/// returns the files written, relative to `dir`.
pub fn new_project(dir: &Path, name: &str, kind: Kind, lang: Lang) -> anyhow::Result<Vec<PathBuf>> {
    check_name(name)?;
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        bail!("{} already exists and is not empty", dir.display());
    }
    let dir = std::path::absolute(dir)?;
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{crate}}", &name.replace('-', "_"))
            .replace("{{kind}}", kind.as_str())
            .replace("{{wit_version}}", wit::VERSION)
            .replace("{{sdk_version}}", env!("CARGO_PKG_VERSION"))
            .replace(
                "{{output}}",
                &dir.join("build").join(format!("{name}.wasm")).display().to_string(),
            )
            .replace("{{dir}}", &dir.display().to_string())
    };
    let mut files: Vec<(PathBuf, String)> = vec![
        (
            manifest::FILE.into(),
            fill(&manifest::Project::text(name, kind, lang, &schema(kind))),
        ),
        (
            "settings.toml".into(),
            format!(
                "# This plugin's settings: `[plugins.{name}.settings]` in router.toml.\n{}",
                settings(kind)
            ),
        ),
        ("samples/input.json".into(), fill(sample(kind, lang))),
        (
            "router-snippet.toml".into(),
            snippet(
                name,
                kind,
                &dir.join("build").join(format!("{name}.wasm")),
                settings(kind),
            ),
        ),
        ("README.md".into(), fill(&readme(kind, lang))),
        (
            ".gitignore".into(),
            include_str!("../templates/common/gitignore").to_string(),
        ),
    ];
    let (path, text) = source(kind, lang);
    files.push((path.into(), fill(text)));
    if kind == Kind::Decider {
        files.push((
            "samples/roster.csv".into(),
            include_str!("../templates/common/roster.csv").to_string(),
        ));
    }
    match lang {
        Lang::Rust => {
            files.push(("Cargo.toml".into(), fill(include_str!("../templates/rust/Cargo.toml"))));
            for (file, text) in SDK_SOURCES {
                let at = if file == "Cargo.toml" {
                    file.to_string()
                } else {
                    format!("src/{file}")
                };
                files.push((PathBuf::from("vendor/router-plugin-sdk").join(at), fill(text)));
            }
        }
        Lang::Python => {
            files.push((
                "switchyard_kit.py".into(),
                include_str!("../templates/python/switchyard_kit.py").to_string(),
            ));
        }
        Lang::Js => {
            files.push((
                "switchyard-kit.js".into(),
                fill(include_str!("../templates/js/switchyard-kit.js")),
            ));
            for (file, text) in crate::typings::typescript(kind)? {
                files.push((file.into(), text));
            }
            files.push((
                "package.json".into(),
                fill(include_str!("../templates/js/package.json")),
            ));
            // `npx tsc` (or an editor) checks app.js against the typings, strictly.
            files.push((
                "tsconfig.json".into(),
                include_str!("../templates/js/tsconfig.json").to_string(),
            ));
        }
        Lang::C => {
            files.push((
                "switchyard_kit.h".into(),
                include_str!("../templates/c/switchyard_kit.h").to_string(),
            ));
        }
    }
    for (path, text) in &files {
        let at = dir.join(path);
        std::fs::create_dir_all(at.parent().expect("a file in the project"))?;
        std::fs::write(&at, text).with_context(|| format!("writing {}", at.display()))?;
    }
    wit::write(&dir.join("wit"))?;
    if lang == Lang::Rust {
        wit::write(&dir.join("vendor/router-plugin-sdk/wit"))?;
    }
    let mut written: Vec<PathBuf> = files.into_iter().map(|(p, _)| p).collect();
    written.extend(wit::FILES.iter().map(|(f, _)| PathBuf::from("wit").join(f)));
    written.sort();
    Ok(written)
}

/// The project's `router-snippet.toml`: its plugin table with the settings of
/// `settings.toml` (`plugin build` writes it again, so it follows both).
pub(crate) fn snippet(name: &str, kind: Kind, output: &Path, settings: &str) -> String {
    let mut settings = settings.trim_end().to_string();
    if !settings.is_empty() {
        settings.push('\n');
    }
    let plugin = format!(
        "# Written by `switchyard plugin build` from switchyard-plugin.toml and settings.toml.\n\
         # Paste into router.toml (then `switchyard check`).\n[plugins.{name}]\npath = {:?}\nkind = \"{}\"\n\n\
         [plugins.{name}.settings]\n{settings}",
        output.display().to_string(),
        kind.as_str(),
    );
    let usage = match kind {
        Kind::Normalizer => {
            format!(
                "\n# A source that uses it:\n[[sources]]\nid = \"{name}\"\npath = \"/ingest/{name}\"\nnormalizer = \"{name}\"\n"
            )
        }
        Kind::Filter => format!("\n# Then name it in a source: filters = [\"{name}\"]\n"),
        Kind::Transform => format!("\n# Then name it in a source: transforms = [\"{name}\"]\n"),
        Kind::Decider => format!(
            "\n# An operator roster it can read (optional): roster = {{ path = \"roster.csv\", key = \"person_id\" }}\n\
             # Then name it in a source whose normalizer answers terminals (world access-normalizer):\n\
             # decider = \"{name}\"\n# decision = {{ deadline_ms = 300, fallback = \"deny\" }}\n"
        ),
    };
    plugin + &usage
}

fn readme(kind: Kind, lang: Lang) -> String {
    let (language, toolchain, source, unit) = match lang {
        Lang::Rust => (
            "Rust",
            "cargo with the wasm32-unknown-unknown target (rustup's, or Debian's rustc-web: `plugin build` finds or installs one)",
            "src/lib.rs",
            "\n`cargo test` runs the unit tests in src/lib.rs on your machine.\n",
        ),
        Lang::Python => (
            "Python",
            "componentize-py (installed from PyPI by `plugin build` when missing)",
            "app.py",
            "",
        ),
        Lang::Js => (
            "JavaScript",
            "componentize-js (installed from npm by `plugin build` when missing; needs Node.js)",
            "app.js",
            "\nTypings of every WIT type are in types/router-plugin.d.ts (`// @ts-check` works).\n",
        ),
        Lang::C => (
            "C",
            "wit-bindgen's C generator, clang, lld and wasi-libc (`plugin build` installs what is missing)",
            "app.c",
            "",
        ),
    };
    format!(
        "# {{{{name}}}} — a switchyard {kind} in {language}\n\n\
         Made by `switchyard plugin new`. The code is in `{source}`; the plugin's settings in\n\
         `settings.toml`, their schema (types, defaults, ranges: the router enforces it) in\n\
         `switchyard-plugin.toml`; a sample input in `samples/`.\n\n\
         ```sh\n\
         switchyard plugin build            # → build/{{{{name}}}}.wasm\n\
         switchyard plugin test             # runs samples/input.json with settings.toml, compares with samples/expected.json\n\
         switchyard plugin test --bless     # (re)writes samples/expected.json from the current output\n\
         switchyard plugin test --watch     # rebuilds and reruns on every edit\n\
         switchyard plugin inspect build/{{{{name}}}}.wasm\n\
         ```\n\
         {unit}\n\
         To load it, paste `router-snippet.toml` into router.toml and run `switchyard check`: the\n\
         router instantiates the plugin once and asks it to validate its settings, so a typo in them\n\
         fails there, not on the first request. A failure's message (an exception, a panic, anything\n\
         printed to stdout/stderr) appears in the router's log tagged with the plugin id.\n\n\
         Toolchain: {toolchain}.\n\
         The author guide is docs/plugins/ in the switchyard repository.\n",
        kind = kind.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendored_sdk_is_the_whole_sdk_as_it_is() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../sdk/src");
        // Every file under sdk/src, folders included (`lazy/mod.rs`).
        fn walk(root: &Path, at: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(at).expect("sdk/src") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    walk(root, &path, out);
                } else {
                    out.push(path.strip_prefix(root).expect("under").to_string_lossy().to_string());
                }
            }
        }
        let mut on_disk = Vec::new();
        walk(Path::new(dir), Path::new(dir), &mut on_disk);
        on_disk.sort();
        let mut embedded: Vec<String> = SDK_SOURCES
            .iter()
            .map(|(f, _)| f.to_string())
            .filter(|f| f != "Cargo.toml")
            .collect();
        embedded.sort();
        assert_eq!(embedded, on_disk, "add new SDK files to SDK_SOURCES");
        for (file, text) in SDK_SOURCES.iter().filter(|(f, _)| *f != "Cargo.toml") {
            assert_eq!(
                *text,
                std::fs::read_to_string(format!("{dir}/{file}")).expect("read"),
                "{file}"
            );
        }
    }

    #[test]
    fn every_language_and_kind_gets_a_complete_project() {
        let root = tempfile::tempdir().expect("tmp");
        for lang in Lang::ALL {
            for kind in Kind::ALL {
                let dir = root.path().join(format!("{}-{}", lang.as_str(), kind.as_str()));
                let files = new_project(&dir, "my-plugin", kind, lang).expect("new project");
                for common in [
                    manifest::FILE,
                    "settings.toml",
                    "samples/input.json",
                    "router-snippet.toml",
                    "README.md",
                ] {
                    assert!(files.contains(&PathBuf::from(common)), "{lang:?} {kind:?}: {common}");
                }
                let project = manifest::Project::find(&dir).expect("manifest");
                assert_eq!((project.kind, project.lang), (kind, lang));
                let snippet = std::fs::read_to_string(dir.join("router-snippet.toml")).expect("snippet");
                assert!(snippet.contains(&format!("kind = \"{}\"", kind.as_str())), "{snippet}");
                assert!(
                    snippet.contains(&dir.join("build/my-plugin.wasm").display().to_string()),
                    "{snippet}"
                );
                for file in &files {
                    let text = std::fs::read_to_string(dir.join(file)).expect("written");
                    for placeholder in [
                        "{{name}}",
                        "{{crate}}",
                        "{{kind}}",
                        "{{wit_version}}",
                        "{{sdk_version}}",
                        "{{output}}",
                        "{{dir}}",
                    ] {
                        assert!(
                            !text.contains(placeholder),
                            "{lang:?} {kind:?}: {} keeps {placeholder}",
                            file.display()
                        );
                    }
                }
            }
        }
        let err =
            new_project(&root.path().join("rust-filter"), "again", Kind::Filter, Lang::Rust).expect_err("not empty");
        assert!(err.to_string().contains("not empty"), "{err}");
        assert!(check_name("Bad Name").is_err());
    }
}
