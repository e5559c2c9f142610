//! Plugins: WebAssembly components defined by `wit/`, run by wasmtime.
//!
//! One [`Runtime`] (one `Engine`, pooling allocator, epoch ticker) serves every plugin.
//! A [`Plugin`] is a compiled component plus its `InstancePre`, built once per file content;
//! each request gets a [`Session`] per stage — a new `Store` and instance, or an idle warm one
//! with `reuse = "warm"` — with the plugin's CPU budget (`cpu`: the guest's own CPU time,
//! scaled by input) and memory cap, so a misbehaving plugin fails only its own request. The
//! pipeline's calls run on the plugin threads (`pool`), away from the I/O threads. This module
//! must not know about HTTP or sinks; nothing outside it names a generated WIT type.

mod abi;
mod bindings;
pub mod builtin;
mod calls;
mod convert;
mod cpu;
pub mod disk_cache;
mod engine;
mod error;
pub mod function_cache;
mod health;
mod host;
mod instance;
#[cfg(feature = "native-plugins")]
mod native;
mod output;
mod pool;
mod session;
mod site;
mod state;
mod stats;
pub mod trust;
mod types;

pub use abi::SUPPORTED_ABI;
pub(crate) use abi::abi_versions;
pub use engine::MAX_PLUGIN_MEMORY_BYTES;
pub use engine::Runtime;
pub use error::Error;
pub use health::{Health, RollbackPolicy};
pub use instance::Plugin;
pub use pool::Place;
pub use session::Session;
pub use state::{Provisions, Secrets};
pub use stats::{
    Outcome as CallOutcome, Stats, Summary as StatsSummary, render as render_stats, render_info as render_plugin_info,
};
pub use types::{
    Filtered, MAX_WARM_USES, Normalized, PluginKind, PluginLimits, Reply, Request, Reuse, Ruling, Verdict,
};
