//! Loading a config: reading, parsing strictly, compiling; and the published config as a
//! node runs it.

use super::compile::compile;
use super::error::Errors;
use super::raw;
use super::{RouterSpec, SinkKind};
use std::path::Path;

/// Reads, parses and compiles a config file.
pub fn load(path: &Path) -> Result<RouterSpec, Errors> {
    let text = std::fs::read_to_string(path).map_err(|e| Errors::io(path, &e))?;
    load_str(&text, path)
}

impl RouterSpec {
    /// A config published to a cluster (`run --from-cluster`), as this node runs it: the
    /// settings that belong to the node come from `node`, its own file — `server.listen`,
    /// `server.data_dir`, `admin.listen` and `[cluster]` (its node name and credentials).
    pub fn for_node(mut self, node: &RouterSpec) -> RouterSpec {
        // File sinks' relative paths were resolved against the published data dir.
        for sink in &mut self.sinks {
            if let SinkKind::File { path } = &mut sink.kind
                && let Ok(rest) = path.strip_prefix(&self.server.data_dir)
            {
                *path = node.server.data_dir.join(rest);
            }
        }
        self.server.listen = node.server.listen;
        self.server.data_dir = node.server.data_dir.clone();
        self.admin.listen = node.admin.listen;
        self.admin.listen_chosen = node.admin.listen_chosen;
        self.cluster = node.cluster.clone();
        self
    }
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

/// Where each `[trust] keys` entry's `public_key_file` is in config text, with the key's id
/// and the path as written: `switchyard publish` carries those files to the cluster as it
/// carries plugin files, so every node checks signatures against the same keys.
pub fn trust_key_file_spans(text: &str) -> Vec<(String, String, std::ops::Range<usize>)> {
    match raw::parse(text) {
        Ok((raw, _)) => raw
            .trust
            .iter()
            .flat_map(|t| t.get_ref().keys.iter())
            .filter_map(|k| {
                let k = k.get_ref();
                let file = k.public_key_file.as_ref()?;
                Some((k.id.get_ref().clone(), file.get_ref().clone(), file.span()))
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
