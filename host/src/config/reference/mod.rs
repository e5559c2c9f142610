//! The reference of router.toml, from the code: every table and key with its type, default,
//! bounds, whether a running router applies a change (or needs a restart), and what it is for.
//! One registry produces `switchyard config schema` (JSON Schema, for editors and CI),
//! `switchyard config reference` (docs/config.md) and switchyard.toml(5).
//!
//! It cannot drift from the parser or the compiler: the integer bounds and defaults are the
//! very constants `compile` checks values against ([`Int`]), and a test asks serde for each
//! raw struct's fields and compares them with the registry, key by key (`tests` below).

mod manpage;
mod markdown;
mod model;
mod plugins;
mod root;
mod schema;
mod server;
mod sinks;
mod sources;

pub use manpage::manpage;
pub use markdown::markdown;
pub use model::*;
pub use root::{ROOT, restart_keys, tables};
pub use schema::schema;

#[cfg(test)]
mod tests;
