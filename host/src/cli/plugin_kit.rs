//! The plugin author's commands: `plugin new` (a project in Rust, Python, JavaScript or C),
//! `plugin build` (the right toolchain for the project), `plugin inspect` (what a component
//! is), and `plugin test`'s loop around one run: a project's defaults, golden comparison
//! (`--expect`, `--bless`) and `--watch`.

use super::plugin_test::{TestCase, parse_settings, run_case};
use crate::plugin::{PluginKind, Runtime};
use anyhow::Context;
use router_plugin_kit::manifest::Project;
use router_plugin_kit::{Kind, Lang};
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

/// `plugin inspect FILE` (or `--config F --plugin ID`): what the component is, its digest and
/// its signature — checked against that config's `[trust]` for the plugin when given.
pub fn plugin_inspect(path: Option<&Path>, config: Option<(&Path, &str)>) -> anyhow::Result<String> {
    let configured = match config {
        Some((config, id)) => {
            let case = TestCase::from_config(config, id, Path::new(""))?;
            Some((id, case.plugin, case.signature))
        }
        None => None,
    };
    let path = match (path, &configured) {
        (Some(path), _) => path.to_path_buf(),
        (None, Some((_, plugin, _))) => plugin.clone(),
        (None, None) => anyhow::bail!("name the component, or --config and --plugin"),
    };
    let bytes = crate::plugin::builtin::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let report = router_plugin_kit::inspect::inspect(&bytes)?;
    let digest = crate::digest::hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    let signature = if crate::plugin::builtin::name_of(&path).is_some() {
        "signature: built into this binary (not checked)\n".to_string()
    } else {
        super::plugin_sign::signature_lines(&bytes, configured.as_ref().map(|(id, _, rule)| (*id, rule)))?
    };
    Ok(format!(
        "file:      {}\nsha256:    {digest}\n{report}{signature}",
        path.display()
    ))
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
    /// `--watch`: rebuild (the project, or the project whose component `--config` or the path
    /// names) and rerun on every change.
    pub watch: bool,
    /// The base case (limits, source id, site options) the flags described.
    pub base: Option<TestCase>,
    /// Where to look for the project when no plugin is named (default: the current
    /// directory).
    pub project: Option<PathBuf>,
    /// Cargo's target directory for rebuilds of a Rust project (as `plugin build
    /// --target-dir`).
    pub target_dir: Option<PathBuf>,
    /// Where compiled components are kept between runs (default: the user's cache,
    /// `~/.cache/switchyard/compiled`; a router's is `<data_dir>/cache`).
    pub cache: Option<PathBuf>,
}

/// Where `plugin test` keeps compiled components: `--config`'s router cache (so the router
/// it tests for finds the component compiled), else the user's, which routers also read.
fn test_cache(args: &TestArgs) -> PathBuf {
    if let Some(dir) = &args.cache {
        return dir.clone();
    }
    args.config
        .as_ref()
        .and_then(|(config, _)| crate::config::load(config).ok())
        .map(|spec| spec.server.data_dir.join("cache"))
        .unwrap_or_else(crate::plugin::disk_cache::user_dir)
}

/// One resolved test: the case, where its golden output is, and the project around it.
struct Resolved {
    case: TestCase,
    expect: Option<PathBuf>,
    project: Option<Project>,
}

fn resolve(args: &TestArgs) -> anyhow::Result<Resolved> {
    // `plugin test --config router.toml --plugin ID INPUT`: the config names the component,
    // so the one positional argument is the input (clap fills the first slot, `plugin`).
    let args = &match (&args.config, &args.plugin, &args.input) {
        (Some(_), Some(only), None) => TestArgs {
            plugin: None,
            input: Some(only.clone()),
            ..args.clone()
        },
        _ => args.clone(),
    };
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
            let mut case = args
                .base
                .clone()
                .unwrap_or_else(|| TestCase::new(&p.output, &input, Value::Null));
            case.plugin = p.output.clone();
            case.input = input.clone();
            case.id = p.name.clone();
            case.kind = Some(kind_of(p.kind));
            // The project's roster, unless `--roster` named another: a golden recorded with
            // it must pass a plain `plugin test`.
            if case.site.roster.is_none() {
                case.site.roster = p.roster.clone();
            }
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
    let runtime = Runtime::with_disk_cache(Some(test_cache(args)))?;
    if !args.watch {
        let resolved = resolve(args)?;
        if let Some((project, why)) = stale(&resolved) {
            // Testing an old build against new sources is how a reverted fix goes unnoticed.
            eprintln!("rebuilding: {why}");
            rebuild(&project, args).await?;
        }
        return once(&resolved, args.bless, &runtime).await;
    }
    // The loop: every change of a source rebuilds, then reruns. With `--config`, the component
    // the router loads is rebuilt in place and compiled into the router's cache, so a running
    // router hot-reloads it without compiling it again.
    let mut seen = None;
    loop {
        let resolved = resolve(args)?;
        let stamp = fingerprint(&resolved);
        if seen.as_ref() != Some(&stamp) {
            if seen.is_some() {
                eprintln!("\n--- change seen, rerunning ---");
            }
            if let Some((project, why)) = stale(&resolved) {
                eprintln!("rebuilding: {why}");
                let built = rebuild(&project, args).await;
                // Whatever happened, this state of the sources has had its build.
                seen = Some(fingerprint(&resolved));
                match built {
                    Ok(path) => eprintln!("built {}", path.display()),
                    Err(e) => {
                        eprintln!("build failed: {e:#}");
                        continue;
                    }
                }
            } else {
                seen = Some(stamp);
            }
            if let Err(e) = once(&resolved, args.bless, &runtime).await {
                eprintln!("error: {e:#}");
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}

/// The project whose output the tested component is (the one in the current directory, or
/// the one a `--config` or a path names) when its sources changed after it was built.
fn stale(resolved: &Resolved) -> Option<(Project, String)> {
    let project = match &resolved.project {
        Some(p) => p.clone(),
        None => Project::of_component(&resolved.case.plugin)?,
    };
    let why = project.stale()?;
    Some((project, why))
}

async fn rebuild(project: &Project, args: &TestArgs) -> anyhow::Result<PathBuf> {
    let (dir, target) = (project.dir.clone(), args.target_dir.clone());
    tokio::task::spawn_blocking(move || plugin_build(&dir, target.as_deref())).await?
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
    let project = resolved
        .project
        .clone()
        .or_else(|| Project::of_component(&resolved.case.plugin));
    if let Some(project) = project {
        files.extend(project.sources());
        files.push(project.dir.join("settings.toml"));
    }
    files
        .iter()
        .map(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use router_plugin_kit::manifest::drifted;

    #[test]
    fn the_config_form_takes_its_one_argument_as_the_input() {
        let root = tempfile::tempdir().expect("tmp");
        let config = root.path().join("router.toml");
        std::fs::write(
            &config,
            "version = 1\n[plugins.drop]\nbuiltin = \"drop-unmatched\"\nsettings = { min_score = 0.5 }\n\
             [plugins.json]\nbuiltin = \"normalize-json\"\n\
             [[sources]]\nid = \"in\"\npath = \"/in\"\nnormalizer = \"json\"\nfilters = [\"drop\"]\n\
             [sinks.out]\ntype = \"file\"\npath = \"out.jsonl\"\n[[routes]]\nsinks = [\"out\"]\n",
        )
        .expect("config");
        // As clap parses `plugin test --config router.toml --plugin drop event.json`.
        let args = TestArgs {
            plugin: Some(PathBuf::from("event.json")),
            config: Some((config, "drop".to_string())),
            ..Default::default()
        };
        let resolved = resolve(&args).expect("resolved");
        assert_eq!(resolved.case.input, PathBuf::from("event.json"));
        assert_eq!(resolved.case.settings, serde_json::json!({ "min_score": 0.5 }));
        assert!(resolved.case.plugin.to_string_lossy().contains("drop-unmatched"));
    }

    #[test]
    fn a_component_older_than_its_sources_is_stale_and_says_which_source() {
        let root = tempfile::tempdir().expect("tmp");
        let dir = root.path().join("p");
        router_plugin_kit::scaffold::new_project(&dir, "p", Kind::Filter, Lang::Python).expect("new");
        let project = Project::find(&dir).expect("project");
        assert!(
            project.stale().is_some_and(|w| w.contains("not built yet")),
            "never built"
        );
        let sources = project.sources();
        for source in ["app.py", "switchyard_kit.py", "switchyard-plugin.toml", "wit/world.wit"] {
            assert!(sources.contains(&dir.join(source)), "{source}: {sources:?}");
        }
        assert!(!sources.iter().any(|f| f.starts_with(dir.join("build"))), "{sources:?}");
        assert!(
            !sources.iter().any(|f| f.starts_with(dir.join("samples"))),
            "{sources:?}"
        );
        std::fs::create_dir_all(dir.join("build")).expect("build dir");
        std::fs::write(&project.output, b"component").expect("output");
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
        let touch = |path: &Path, at| {
            std::fs::File::options()
                .write(true)
                .open(path)
                .and_then(|f| f.set_modified(at))
                .expect("mtime")
        };
        touch(&project.output, later);
        assert_eq!(project.stale(), None, "built after every source");
        assert_eq!(drifted(&project.output), None);
        touch(&dir.join("app.py"), later + std::time::Duration::from_secs(1));
        assert_eq!(
            project.stale().as_deref(),
            Some("app.py changed after build/p.wasm was built")
        );
        assert_eq!(
            drifted(&project.output).as_deref(),
            Some("app.py changed after build/p.wasm was built"),
            "the component named by path is recognised as the project's"
        );
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
