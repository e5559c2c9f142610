//! router.toml: parsed strictly (`raw`), compiled purely into a [`RouterSpec`] (`compile`),
//! with every problem reported at once, each with file, line and column (`error`).
//! Building live objects from the spec (reading plugins, secrets, sockets) is `pipeline`'s job.

mod cluster;
mod compile;
mod decision;
mod edge;
mod error;
mod raw;
mod server;
mod sinks;
mod spec;

use compile::compile;
pub use compile::{DEFAULT_LISTEN, normalize_path, toml_to_json};
pub use error::{Error, Errors};
pub use spec::*;

use std::path::Path;

/// Reads, parses and compiles a config file.
pub fn load(path: &Path) -> Result<RouterSpec, Errors> {
    let text = std::fs::read_to_string(path).map_err(|e| Errors::io(path, &e))?;
    load_str(&text, path)
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
