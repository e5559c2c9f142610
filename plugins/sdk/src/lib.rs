//! Guest-side SDK shared by switchyard's plugins.
//!
//! It binds the `router:plugin` shared types and host imports once (plugin crates reuse them
//! through `generate!`'s `with` option, so every plugin speaks the same Rust types) and holds
//! the pure helpers every normalizer needs: JSON paths, vendor time formats, enum names.
//! Nothing here touches the outside world: plugins get time, settings and logging from the host.

#[expect(missing_docs, reason = "wit-bindgen generated code")]
mod bindings {
    wit_bindgen::generate!({
        // `wit` is a link to the repository's `wit/` (cargo packages it as files), so the
        // crate builds on its own: from crates.io, or vendored by `switchyard plugin new`.
        path: "wit",
        world: "guest-sdk",
        generate_all,
        additional_derives: [PartialEq],
    });
}

pub use bindings::router::plugin::{host, site, types};
pub use wit_bindgen;

pub mod base64;
pub mod event;
pub mod json;
pub mod media;
pub mod names;
pub mod panic;
pub mod paths;
pub mod query;
pub mod reader;
pub mod settings;
pub mod time;
pub mod url;

/// Logs through the host at `info` level.
pub fn log_info(message: &str) {
    host::log(host::Level::Info, message);
}

/// Logs through the host at `warn` level.
pub fn log_warn(message: &str) {
    host::log(host::Level::Warn, message);
}
