//! Plugins: WebAssembly components defined by `wit/`, run by wasmtime.
//!
//! One [`Runtime`] (one `Engine`, pooling allocator, epoch ticker) serves every plugin.
//! A [`Plugin`] is a compiled component plus its `InstancePre`, built once per file content;
//! each request gets a fresh [`Session`] (a new `Store` and instance) with the plugin's CPU
//! deadline and memory cap, so a misbehaving plugin fails only its own request. This module
//! must not know about HTTP or sinks; nothing outside it names a generated WIT type.

mod bindings;
mod convert;
mod cpu;
mod engine;
mod error;
mod health;
mod host;
mod instance;
mod pool;
mod session;
mod state;
mod types;

pub use engine::MAX_PLUGIN_MEMORY_BYTES;
pub use engine::Runtime;
pub use error::Error;
pub use health::{Health, RollbackPolicy};
pub use instance::Plugin;
pub use session::Session;
pub use state::Secrets;
pub use types::{
    Filtered, MAX_WARM_USES, Normalized, PluginKind, PluginLimits, Reply, Request, Reuse, Ruling, Verdict,
};
