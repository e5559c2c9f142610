//! `switchyard-plugin.toml`: what `plugin new` wrote and `plugin build` / `plugin test` read —
//! the plugin's name, kind, language and where its component goes.

use crate::{Kind, Lang};
use anyhow::Context;
use std::path::{Path, PathBuf};

/// The manifest's file name, at a project's root.
pub const FILE: &str = "switchyard-plugin.toml";

#[derive(Debug, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: String,
    kind: String,
    lang: String,
    /// The component, relative to the project.
    output: String,
    /// The input `plugin test` runs when given none, relative to the project.
    sample: String,
    /// The output `plugin test --expect` compares with, relative to the project.
    expect: String,
}

/// A plugin project.
#[derive(Debug, Clone)]
pub struct Project {
    /// Its directory.
    pub dir: PathBuf,
    /// The plugin's name (its id in the router.toml snippet).
    pub name: String,
    /// Its kind.
    pub kind: Kind,
    /// Its language.
    pub lang: Lang,
    /// The component it builds.
    pub output: PathBuf,
    /// Its sample input.
    pub sample: PathBuf,
    /// The expected output of the sample.
    pub expect: PathBuf,
}

impl Project {
    /// Reads the manifest in `dir` or the nearest directory above it.
    pub fn find(start: &Path) -> anyhow::Result<Project> {
        let start = std::path::absolute(start)?;
        let dir = start
            .ancestors()
            .find(|d| d.join(FILE).is_file())
            .with_context(|| {
                format!(
                    "no {FILE} in {} or above it: run this in a project made by `switchyard plugin new`",
                    start.display()
                )
            })?
            .to_path_buf();
        let text = std::fs::read_to_string(dir.join(FILE))?;
        let raw: Raw = toml::from_str(&text).with_context(|| format!("{}", dir.join(FILE).display()))?;
        Ok(Project {
            name: raw.name,
            kind: Kind::parse(&raw.kind)?,
            lang: Lang::parse(&raw.lang)?,
            output: dir.join(raw.output),
            sample: dir.join(raw.sample),
            expect: dir.join(raw.expect),
            dir,
        })
    }

    /// The manifest text for a new project.
    pub(crate) fn text(name: &str, kind: Kind, lang: Lang) -> String {
        format!(
            "# Written by `switchyard plugin new`; read by `switchyard plugin build` and `plugin test`.\n{}",
            toml::to_string(&Raw {
                name: name.to_string(),
                kind: kind.as_str().to_string(),
                lang: lang.as_str().to_string(),
                output: format!("build/{name}.wasm"),
                sample: "samples/input.json".to_string(),
                expect: "samples/expected.json".to_string(),
            })
            .expect("a flat table serializes")
        )
    }
}
