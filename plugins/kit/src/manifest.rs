//! `switchyard-plugin.toml`: what `plugin new` wrote and `plugin build` / `plugin test` read —
//! the plugin's name, kind, language, where its component goes, the schema of its settings
//! (`[settings.<key>]`, built into the component) and, for a decider, the roster its tests read.

use crate::schema::{Schema, Setting};
use crate::{Kind, Lang};
use anyhow::Context;
use std::collections::BTreeMap;
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
    /// A decider's roster for `plugin test` (`site.roster-lookup`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    roster: Option<RawRoster>,
    /// The settings' schema.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    settings: BTreeMap<String, Setting>,
}

/// `roster = { path = "samples/roster.csv", key = "person_id" }`.
#[derive(Debug, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct RawRoster {
    path: String,
    #[serde(default = "default_roster_key")]
    key: String,
}

fn default_roster_key() -> String {
    "person_id".to_string()
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
    /// A decider's roster file and its key column, for `plugin test`.
    pub roster: Option<(PathBuf, String)>,
    /// What its settings may be (empty: not declared, nothing enforced).
    pub schema: Schema,
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
        let file = dir.join(FILE);
        let text = std::fs::read_to_string(&file)?;
        let raw: Raw = toml::from_str(&text).with_context(|| format!("{}", file.display()))?;
        let schema = Schema { settings: raw.settings };
        schema
            .validate()
            .with_context(|| format!("{}: the `[settings]` schema", file.display()))?;
        Ok(Project {
            roster: raw.roster.map(|r| (dir.join(r.path), r.key)),
            schema,
            name: raw.name,
            kind: Kind::parse(&raw.kind)?,
            lang: Lang::parse(&raw.lang)?,
            output: dir.join(raw.output),
            sample: dir.join(raw.sample),
            expect: dir.join(raw.expect),
            dir,
        })
    }

    /// The files a build reads: sources, headers, the WIT, the manifest (its `[settings]`
    /// go into the component) — not what builds write or what only tests read.
    pub fn sources(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![self.dir.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().to_string();
                if path.is_dir() {
                    if !matches!(
                        name.as_str(),
                        "target" | "build" | "node_modules" | "samples" | "__pycache__" | ".git"
                    ) {
                        stack.push(path);
                    }
                } else if [".rs", ".py", ".js", ".mjs", ".c", ".h", ".wit", "Cargo.toml", FILE]
                    .iter()
                    .any(|s| name.ends_with(s))
                {
                    out.push(path);
                }
            }
        }
        out.sort();
        out
    }

    /// Why the component is older than its sources (the newest source that changed after
    /// it was built), or `None` when it is up to date. A missing component is stale too.
    pub fn stale(&self) -> Option<String> {
        let built = match std::fs::metadata(&self.output).and_then(|m| m.modified()) {
            Ok(t) => t,
            Err(_) => return Some(format!("{} is not built yet", self.output.display())),
        };
        self.sources()
            .into_iter()
            .filter_map(|p| Some((std::fs::metadata(&p).and_then(|m| m.modified()).ok()?, p)))
            .filter(|(t, _)| *t > built)
            .max()
            .map(|(_, p)| {
                format!(
                    "{} changed after {} was built",
                    p.strip_prefix(&self.dir).unwrap_or(&p).display(),
                    self.output.strip_prefix(&self.dir).unwrap_or(&self.output).display()
                )
            })
    }

    /// The manifest text for a new project: the flat part, then the settings schema the
    /// template reads (`schema`, TOML text with comments).
    pub(crate) fn text(name: &str, kind: Kind, lang: Lang, schema: &str) -> String {
        format!(
            "# Written by `switchyard plugin new`; read by `switchyard plugin build` and `plugin test`.\n{}\n{schema}",
            toml::to_string(&Raw {
                name: name.to_string(),
                kind: kind.as_str().to_string(),
                lang: lang.as_str().to_string(),
                output: format!("build/{name}.wasm"),
                sample: "samples/input.json".to_string(),
                expect: "samples/expected.json".to_string(),
                // A decider's golden is recorded with the sample roster, so every plain
                // `plugin test` reads it too.
                roster: (kind == Kind::Decider).then(|| RawRoster {
                    path: "samples/roster.csv".to_string(),
                    key: default_roster_key(),
                }),
                settings: BTreeMap::new(),
            })
            .expect("a flat table serializes")
        )
    }
}

/// When `component` is the output of a plugin project whose sources changed after it was
/// built: why. The router and `check` warn with it (they load what is there); `plugin test`
/// rebuilds.
pub fn drifted(component: &Path) -> Option<String> {
    Project::of_component(component)?.stale()
}

impl Project {
    /// The project whose output `component` is (found from the component's folder up), if
    /// any: a path in router.toml or on the command line may name a project's build.
    pub fn of_component(component: &Path) -> Option<Project> {
        let project = Project::find(component.parent()?).ok()?;
        let same = std::fs::canonicalize(&project.output).ok()? == std::fs::canonicalize(component).ok()?;
        same.then_some(project)
    }
}
