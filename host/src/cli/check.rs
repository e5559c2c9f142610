//! `switchyard check`: parse and compile strictly, then load every plugin, reporting every
//! problem found rather than the first.

use crate::config;
use crate::plugin::Runtime;
use std::path::Path;

/// Checks a config; returns the report to print and whether it passed.
pub async fn check(path: &Path, load_plugins: bool) -> (String, bool) {
    let spec = match config::load(path) {
        Ok(spec) => spec,
        Err(errors) => return (errors.to_string(), false),
    };
    if load_plugins {
        // The router's own compile cache: a check after a build compiles each file once, and
        // the router started next finds it compiled.
        let runtime = match Runtime::with_disk_cache(Some(spec.server.data_dir.join("cache"))) {
            Ok(r) => r,
            Err(e) => return (format!("error: {e:#}"), false),
        };
        let (loaded_plugins, problems) = crate::pipeline::load_plugins(&spec, &runtime).await;
        let mut problems: Vec<String> = problems.into_iter().map(|e| format!("error: {e}")).collect();
        for source in &spec.sources {
            if let (Some(decision), Some(normalizer)) = (&source.decision, loaded_plugins.get(&source.normalizer))
                && !normalizer.answers()
            {
                problems.push(format!("error: {}", crate::pipeline::cannot_answer(source, decision)));
            }
        }
        if !problems.is_empty() {
            let n = problems.len();
            return (
                format!(
                    "{}\n{n} error{} in {}",
                    problems.join("\n"),
                    if n == 1 { "" } else { "s" },
                    path.display()
                ),
                false,
            );
        }
    }
    let summary = format!(
        "ok: {} — {} source{}, {} plugin{}, {} sink{}, {} route{}; listening on {}",
        path.display(),
        spec.sources.len(),
        plural(spec.sources.len()),
        spec.plugins.len(),
        plural(spec.plugins.len()),
        spec.sinks.len(),
        plural(spec.sinks.len()),
        spec.routes.len(),
        plural(spec.routes.len()),
        spec.server.listen,
    );
    (summary, true)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
