//! The plugin author's commands: `plugin new` (a project in Rust, Python, JavaScript or C),
//! `plugin build` (the right toolchain for the project), `plugin inspect` (what a component
//! is), and `plugin test`'s loop around one run: a project's defaults, golden comparison
//! (`--expect`, `--bless`) and `--watch`.

use super::plugin_test::{TestCase, parse_settings, run_case};
use crate::plugin::{PluginKind, Runtime};
use anyhow::Context;
use router_plugin_kit::{Kind, Lang, manifest::Project};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `plugin new NAME --kind K --lang L [--dir DIR]`: writes the project; returns what to tell
/// the author.
pub fn plugin_new(name: &str, kind: &str, lang: &str, dir: Option<&Path>) -> anyhow::Result<String> {
    let (kind, lang) = (Kind::parse(kind)?, Lang::parse(lang)?);
    let dir = dir.map_or_else(|| PathBuf::from(name), Path::to_path_buf);
    let files = router_plugin_kit::scaffold::new_project(&dir, name, kind, lang)?;
    let shown: Vec<String> = files
        .iter()
        .filter(|f| !f.starts_with("vendor") && !f.starts_with("wit"))
        .map(|f| format!("  {}", f.display()))
        .collect();
    Ok(format!(
        "Created {} {} `{name}` in {}:\n{}\n  wit/ (router:plugin@{}){}\n\nNext:\n  cd {}\n  switchyard plugin build\n  switchyard plugin test --bless   # first run: records samples/expected.json\n  switchyard plugin test\nThen paste router-snippet.toml into router.toml and run `switchyard check`.",
        lang.as_str(),
        kind.as_str(),
        dir.display(),
        shown.join("\n"),
        router_plugin_kit::wit::VERSION,
        if lang == Lang::Rust {
            "\n  vendor/router-plugin-sdk/ (the guest SDK)"
        } else {
            ""
        },
        dir.display(),
    ))
}

/// `plugin build [DIR] [--target-dir T]`: builds the project around `dir` (blocking:
/// toolchains run as child processes); returns the component's path.
pub fn plugin_build(dir: &Path, target_dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    let project = Project::find(dir)?;
    let options = router_plugin_kit::build::Options {
        target_dir: target_dir.map(Path::to_path_buf),
    };
    router_plugin_kit::build::build(&project, &options)
}

/// `plugin inspect FILE`: what the component is.
pub fn plugin_inspect(path: &Path) -> anyhow::Result<String> {
    let bytes = crate::plugin::builtin::read(path).with_context(|| format!("reading {}", path.display()))?;
    let report = router_plugin_kit::inspect::inspect(&bytes)?;
    Ok(format!("file:      {}\n{report}", path.display()))
}

/// What `plugin test` was asked.
#[derive(Debug, Clone, Default)]
pub struct TestArgs {
    /// The component (default: the project's).
    pub plugin: Option<PathBuf>,
    /// The input (default: the project's sample).
    pub input: Option<PathBuf>,
    /// `--settings` (default: the project's settings.toml, else `{}`).
    pub settings: Option<String>,
    /// `--config` and `--plugin`: take the plugin as that config loads it.
    pub config: Option<(PathBuf, String)>,
    /// `--expect` (default: the project's expected output, when it exists or with `--bless`).
    pub expect: Option<PathBuf>,
    /// `--bless`: write the expected output instead of comparing.
    pub bless: bool,
    /// `--watch`: rebuild (in a project) and rerun on every change.
    pub watch: bool,
    /// The base case (limits, source id, site options) the flags described.
    pub base: Option<TestCase>,
    /// Where to look for the project when no plugin is named (default: the current
    /// directory).
    pub project: Option<PathBuf>,
    /// Where compiled components are kept between runs (default: the user's cache,
    /// `~/.cache/switchyard/compiled`; a router's is `<data_dir>/cache`).
    pub cache: Option<PathBuf>,
}

/// Where `plugin test` keeps compiled components between runs.
fn compile_cache() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("switchyard/compiled")
}

/// One resolved test: the case, where its golden output is, and the project around it.
struct Resolved {
    case: TestCase,
    expect: Option<PathBuf>,
    project: Option<Project>,
}

fn resolve(args: &TestArgs) -> anyhow::Result<Resolved> {
    let project = if args.plugin.is_none() && args.config.is_none() {
        Some(Project::find(args.project.as_deref().unwrap_or(Path::new(".")))?)
    } else {
        None
    };
    let input = match (&args.input, &project) {
        (Some(input), _) => input.clone(),
        (None, Some(p)) => p.sample.clone(),
        (None, None) => anyhow::bail!("name the input file: `plugin test PLUGIN INPUT`"),
    };
    let mut case = match (&args.config, &args.plugin, &project) {
        (Some((config, id)), _, _) => TestCase::from_config(config, id, &input)?,
        (None, Some(plugin), _) => {
            let mut case = args
                .base
                .clone()
                .unwrap_or_else(|| TestCase::new(plugin, &input, Value::Null));
            case.plugin = plugin.clone();
            case.input = input.clone();
            case
        }
        (None, None, Some(p)) => {
            anyhow::ensure!(
                p.output.exists() || args.watch,
                "{} is not built yet: run `switchyard plugin build` in {} first (or `plugin test --watch`, which builds)",
                p.output.display(),
                p.dir.display()
            );
            let mut case = args
                .base
                .clone()
                .unwrap_or_else(|| TestCase::new(&p.output, &input, Value::Null));
            case.plugin = p.output.clone();
            case.input = input.clone();
            case.id = p.name.clone();
            case.kind = Some(kind_of(p.kind));
            case
        }
        (None, None, None) => unreachable!("a project is found when no plugin is named"),
    };
    if args.config.is_none() {
        case.settings = match (&args.settings, &project) {
            (Some(text), _) => parse_settings(text)?,
            (None, Some(p)) if p.dir.join("settings.toml").exists() => {
                parse_settings(&format!("@{}", p.dir.join("settings.toml").display()))?
            }
            _ => serde_json::json!({}),
        };
    }
    let expect = args.expect.clone().or_else(|| {
        project
            .as_ref()
            .map(|p| p.expect.clone())
            .filter(|e| args.bless || e.exists())
    });
    Ok(Resolved { case, expect, project })
}

fn kind_of(kind: Kind) -> PluginKind {
    match kind {
        Kind::Normalizer => PluginKind::Normalizer,
        Kind::Filter => PluginKind::Filter,
        Kind::Transform => PluginKind::Transform,
        Kind::Decider => PluginKind::Decider,
    }
}

/// The part of a report a golden file holds: everything but the component's path and hash
/// (which change with every build), with per-run values masked.
fn comparable(report: &Value) -> Value {
    let mut value = report.clone();
    if let Value::Object(map) = &mut value {
        map.remove("plugin");
    }
    crate::reload::mask_volatile(&mut value);
    value
}

/// Runs `plugin test`: prints the report and returns whether it passed (matches `--expect`).
pub async fn plugin_test_command(args: &TestArgs) -> anyhow::Result<bool> {
    let runtime = Runtime::with_disk_cache(Some(args.cache.clone().unwrap_or_else(compile_cache)))?;
    if !args.watch {
        let resolved = resolve(args)?;
        return once(&resolved, args.bless, &runtime).await;
    }
    let mut seen = None;
    loop {
        let resolved = resolve(args)?;
        let stamp = fingerprint(&resolved);
        if seen.as_ref() != Some(&stamp) {
            if seen.is_some() {
                eprintln!("\n--- change seen, rerunning ---");
            }
            seen = Some(stamp);
            if let Some(project) = &resolved.project
                && sources_changed(project)
            {
                let dir = project.dir.clone();
                match tokio::task::spawn_blocking(move || plugin_build(&dir, None)).await? {
                    Ok(path) => eprintln!("built {}", path.display()),
                    Err(e) => {
                        eprintln!("build failed: {e:#}");
                        seen = Some(fingerprint(&resolved));
                        continue;
                    }
                }
                seen = Some(fingerprint(&resolved));
            }
            if let Err(e) = once(&resolved, args.bless, &runtime).await {
                eprintln!("error: {e:#}");
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}

async fn once(resolved: &Resolved, bless: bool, runtime: &Runtime) -> anyhow::Result<bool> {
    let report = run_case(&resolved.case, runtime).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    let Some(expect) = &resolved.expect else {
        return Ok(true);
    };
    let got = comparable(&report);
    if bless {
        std::fs::write(expect, serde_json::to_string_pretty(&got)? + "\n")
            .with_context(|| format!("writing {}", expect.display()))?;
        eprintln!("wrote {}", expect.display());
        return Ok(true);
    }
    let text = std::fs::read_to_string(expect).with_context(|| format!("reading {}", expect.display()))?;
    let mut wanted: Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", expect.display()))?;
    crate::reload::mask_volatile(&mut wanted);
    if wanted == got {
        eprintln!("ok: matches {}", expect.display());
        Ok(true)
    } else {
        eprintln!(
            "FAILED: the output differs from {}\n{}\n(rerun with --bless to accept it)",
            expect.display(),
            differences(&wanted, &got, "").join("\n")
        );
        Ok(false)
    }
}

/// Where two JSON values differ, as `path: expected … got …` lines.
fn differences(wanted: &Value, got: &Value, at: &str) -> Vec<String> {
    match (wanted, got) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .flat_map(|k| {
                    differences(
                        a.get(k).unwrap_or(&Value::Null),
                        b.get(k).unwrap_or(&Value::Null),
                        &format!("{at}.{k}"),
                    )
                })
                .collect()
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .flat_map(|(i, (x, y))| differences(x, y, &format!("{at}[{i}]")))
            .collect(),
        (a, b) if a == b => Vec::new(),
        (a, b) => vec![format!(
            "  {}: expected {a}, got {b}",
            if at.is_empty() { "." } else { at }
        )],
    }
}

/// Modification times of everything a run depends on.
fn fingerprint(resolved: &Resolved) -> Vec<Option<std::time::SystemTime>> {
    let mut files = vec![resolved.case.plugin.clone(), resolved.case.input.clone()];
    if let Some(project) = &resolved.project {
        files.extend(source_files(project));
        files.push(project.dir.join("settings.toml"));
    }
    files
        .iter()
        .map(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok())
        .collect()
}

/// A project's own source files (what a rebuild depends on).
fn source_files(project: &Project) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![project.dir.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if path.is_dir() {
                if !matches!(
                    name.as_str(),
                    "target" | "build" | "node_modules" | "vendor" | "__pycache__" | ".git"
                ) {
                    stack.push(path);
                }
            } else if [".rs", ".py", ".js", ".c", ".h", ".wit", "Cargo.toml"]
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

/// Whether a source file is newer than the component.
fn sources_changed(project: &Project) -> bool {
    let built = std::fs::metadata(&project.output).and_then(|m| m.modified()).ok();
    let Some(built) = built else { return true };
    source_files(project)
        .iter()
        .any(|f| std::fs::metadata(f).and_then(|m| m.modified()).is_ok_and(|t| t > built))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn testing_an_unbuilt_project_says_how_to_build_it() {
        let root = tempfile::tempdir().expect("tmp");
        let dir = root.path().join("p");
        router_plugin_kit::scaffold::new_project(&dir, "p", Kind::Filter, Lang::Rust).expect("new");
        let args = TestArgs {
            project: Some(dir.clone()),
            ..Default::default()
        };
        let err = resolve(&args).err().expect("not built");
        assert!(err.to_string().contains("run `switchyard plugin build`"), "{err}");
    }

    #[test]
    fn watch_rebuilds_when_a_source_is_newer_than_the_component() {
        let root = tempfile::tempdir().expect("tmp");
        let dir = root.path().join("p");
        router_plugin_kit::scaffold::new_project(&dir, "p", Kind::Filter, Lang::Python).expect("new");
        let project = Project::find(&dir).expect("project");
        assert!(sources_changed(&project), "never built");
        let sources = source_files(&project);
        assert!(sources.contains(&dir.join("app.py")) && sources.contains(&dir.join("switchyard_kit.py")));
        assert!(!sources.iter().any(|f| f.starts_with(dir.join("build"))), "{sources:?}");
        std::fs::create_dir_all(dir.join("build")).expect("build dir");
        std::fs::write(&project.output, b"component").expect("output");
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&project.output)
            .and_then(|f| f.set_modified(later))
            .expect("mtime");
        assert!(!sources_changed(&project), "built after every source");
        std::fs::File::options()
            .write(true)
            .open(dir.join("app.py"))
            .and_then(|f| f.set_modified(later + std::time::Duration::from_secs(1)))
            .expect("mtime");
        assert!(sources_changed(&project), "an edited source");
    }

    #[test]
    fn differences_name_the_path() {
        let a = serde_json::json!({"verdict": "keep", "events": [{"x": 1}]});
        let b = serde_json::json!({"verdict": "drop", "events": [{"x": 2}]});
        assert_eq!(
            differences(&a, &b, ""),
            vec![
                "  .events[0].x: expected 1, got 2".to_string(),
                "  .verdict: expected \"keep\", got \"drop\"".to_string()
            ]
        );
    }
}
