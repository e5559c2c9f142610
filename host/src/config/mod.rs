//! router.toml: parsed strictly (`raw`), compiled purely into a [`RouterSpec`] (`compile`),
//! with every problem reported at once, each with file, line and column (`error`).
//! Building live objects from the spec (reading plugins, secrets, sockets) is `pipeline`'s job.

mod bounds;
mod cluster;
mod compile;
mod ctx;
mod decision;
mod edge;
mod error;
mod plugins;
mod raw;
pub mod reference;
mod server;
mod sinks;
mod spec;

use compile::compile;
pub use compile::normalize_path;
pub use ctx::toml_to_json;
pub use error::{Error, Errors};
pub use server::DEFAULT_LISTEN;
pub use spec::*;

use std::path::Path;

/// Reads, parses and compiles a config file (with this node's own settings over it when the
/// router runs from a cluster's published config, see [`set_node_overlay`]).
pub fn load(path: &Path) -> Result<RouterSpec, Errors> {
    let text = std::fs::read_to_string(path).map_err(|e| Errors::io(path, &e))?;
    load_str(&text, path).map(overlay)
}

/// A router started with `--from-cluster` runs a config published for every node, with the
/// settings that belong to this node taken from its own file: `server.listen`,
/// `server.data_dir`, `admin.listen` and `[cluster]` (its node name and credentials).
static NODE_OVERLAY: std::sync::OnceLock<RouterSpec> = std::sync::OnceLock::new();

/// Makes every later [`load`] in this process apply `node`'s own settings (once per process).
pub fn set_node_overlay(node: RouterSpec) {
    let _ = NODE_OVERLAY.set(node);
}

fn overlay(mut spec: RouterSpec) -> RouterSpec {
    let Some(node) = NODE_OVERLAY.get() else {
        return spec;
    };
    // File sinks' relative paths were resolved against the published data dir.
    for sink in &mut spec.sinks {
        if let SinkKind::File { path } = &mut sink.kind
            && let Ok(rest) = path.strip_prefix(&spec.server.data_dir)
        {
            *path = node.server.data_dir.join(rest);
        }
    }
    spec.server.listen = node.server.listen;
    spec.server.data_dir = node.server.data_dir.clone();
    spec.admin.listen = node.admin.listen;
    spec.admin.listen_chosen = node.admin.listen_chosen;
    spec.cluster = node.cluster.clone();
    spec
}

/// Each plugin's id and the byte range of its `path` value (quotes included) in `text`, for
/// rewriting the paths of a config published to a cluster.
pub fn plugin_path_spans(text: &str) -> Vec<(String, std::ops::Range<usize>)> {
    match raw::parse(text) {
        Ok((raw, _)) => raw
            .plugins
            .iter()
            .filter_map(|(id, p)| {
                let path = p.get_ref().path.as_ref()?;
                // A built-in plugin travels as its name: every router carries it.
                let builtin = path.get_ref().starts_with(crate::plugin::builtin::SCHEME);
                (!builtin).then(|| (id.get_ref().clone(), path.span()))
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Parses and compiles config text; `path` names it in errors and anchors relative paths.
pub fn load_str(text: &str, path: &Path) -> Result<RouterSpec, Errors> {
    let (raw, mut problems) = raw::parse(text).map_err(|errs| Errors::new(path, text, errs))?;
    match compile(raw, text, path) {
        Ok(spec) if problems.is_empty() => Ok(spec),
        Ok(_) => Err(Errors::new(path, text, problems)),
        Err(more) => {
            problems.extend(more);
            Err(Errors::new(path, text, problems))
        }
    }
}
