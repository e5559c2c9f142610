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
mod load;
mod plugins;
mod raw;
pub mod reference;
mod router_spec;
mod server;
mod sinks;
mod spec;
mod spec_io;
mod trust;

pub use compile::normalize_path;
pub use ctx::toml_to_json;
pub use error::{Error, Errors};
pub use load::{load, load_str, plugin_path_spans, trust_key_file_spans};
pub use router_spec::RouterSpec;
pub use server::DEFAULT_LISTEN;
pub use spec::*;
pub use spec_io::*;
