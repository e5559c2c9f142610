//! `switchyard check`: parse and compile strictly, then load every plugin, reporting every
//! problem found rather than the first — as text for people, or as JSON for tooling
//! (`--format json`: editors, CI steps, configuration management).

use crate::config;
use crate::plugin::Runtime;
use serde::Serialize;
use std::path::Path;

/// What `check` found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// Whether the config would run.
    pub ok: bool,
    /// The config file.
    pub config: String,
    /// Every problem, in file order (config errors), then plugin problems.
    pub errors: Vec<Diagnostic>,
    /// What loads but is likely not what was meant (a plugin built before its sources last
    /// changed).
    pub warnings: Vec<Diagnostic>,
    /// What the config holds, when it compiled.
    pub summary: Option<Summary>,
}

/// One problem.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    /// The file it is in, when it is about one.
    pub file: Option<String>,
    /// 1-based line.
    pub line: Option<usize>,
    /// 1-based column.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// The size of a config that compiled.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Sources.
    pub sources: usize,
    /// Plugins.
    pub plugins: usize,
    /// Sinks.
    pub sinks: usize,
    /// Routes.
    pub routes: usize,
    /// The ingest listener.
    pub listen: String,
}

/// Checks a config; returns the report to print and whether it passed.
pub async fn check(path: &Path, load_plugins: bool) -> (String, bool) {
    let (report, text) = check_report(path, load_plugins).await;
    (text, report.ok)
}

/// Checks a config: the structured report and its text rendering (compiler-style snippets).
pub async fn check_report(path: &Path, load_plugins: bool) -> (CheckReport, String) {
    let mut report = CheckReport {
        ok: false,
        config: path.display().to_string(),
        errors: Vec::new(),
        warnings: Vec::new(),
        summary: None,
    };
    let spec = match config::load(path) {
        Ok(spec) => spec,
        Err(errors) => {
            report.errors = errors
                .0
                .iter()
                .map(|e| Diagnostic {
                    file: Some(e.file.display().to_string()),
                    line: e.line,
                    column: e.column,
                    message: e.message.clone(),
                })
                .collect();
            return (report, errors.to_string());
        }
    };
    if load_plugins {
        let problems = plugin_problems(&spec).await;
        if !problems.is_empty() {
            let n = problems.len();
            let text = format!(
                "{}\n{n} error{} in {}",
                problems
                    .iter()
                    .map(|p| format!("error: {p}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
                plural(n),
                path.display()
            );
            report.errors = problems
                .into_iter()
                .map(|message| Diagnostic {
                    file: None,
                    line: None,
                    column: None,
                    message,
                })
                .collect();
            return (report, text);
        }
    }
    for p in &spec.plugins {
        if let Some(why) = router_plugin_kit::manifest::drifted(&p.path) {
            report.warnings.push(Diagnostic {
                file: Some(path.display().to_string()),
                line: Some(p.path_line),
                column: None,
                message: format!(
                    "plugin `{}`: {} is older than its sources ({why}); run `switchyard plugin build` in its project",
                    p.id,
                    p.path.display()
                ),
            });
        }
    }
    let warnings: String = report
        .warnings
        .iter()
        .map(|w| {
            format!(
                "warning: {}\n  --> {}:{}\n",
                w.message,
                path.display(),
                w.line.unwrap_or(0)
            )
        })
        .collect();
    let summary = Summary {
        sources: spec.sources.len(),
        plugins: spec.plugins.len(),
        sinks: spec.sinks.len(),
        routes: spec.routes.len(),
        listen: spec.server.listen.to_string(),
    };
    let text = format!(
        "{warnings}ok: {} — {} source{}, {} plugin{}, {} sink{}, {} route{}; listening on {}",
        path.display(),
        summary.sources,
        plural(summary.sources),
        summary.plugins,
        plural(summary.plugins),
        summary.sinks,
        plural(summary.sinks),
        summary.routes,
        plural(summary.routes),
        summary.listen,
    );
    report.ok = true;
    report.summary = Some(summary);
    (report, text)
}

/// Loads every plugin as the router would; what failed.
async fn plugin_problems(spec: &config::RouterSpec) -> Vec<String> {
    // The router's own compile cache: a check after a build compiles each file once, and
    // the router started next finds it compiled.
    let runtime = match Runtime::with_disk_cache(Some(spec.server.data_dir.join("cache"))) {
        Ok(r) => r,
        Err(e) => return vec![format!("{e:#}")],
    };
    let (loaded_plugins, problems) = crate::pipeline::load_plugins(spec, &runtime).await;
    let mut problems: Vec<String> = problems.into_iter().map(|e| e.to_string()).collect();
    for source in &spec.sources {
        if let (Some(decision), Some(normalizer)) = (&source.decision, loaded_plugins.get(&source.normalizer))
            && !normalizer.answers()
        {
            problems.push(crate::pipeline::cannot_answer(source, decision).to_string());
        }
    }
    problems
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
