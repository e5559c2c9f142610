//! Plugins from an OCI registry: `switchyard plugin push FILE oci://host/repo:tag`, `plugin
//! pull`, and `source = "oci://host/repo:tag@sha256:…"` in router.toml.
//!
//! The layout is the Wasm OCI artifact that wasm-pkg-tools (`wkg oci`) and wasmCloud use: an
//! image manifest whose config is `application/vnd.wasm.config.v0+json` and whose one layer is
//! the component, `application/wasm`. A router keeps what it pulled in a content-addressed
//! cache in its data dir (`<data_dir>/oci`), so it starts and reloads offline once a module is
//! there; a tag is resolved once, its digest logged and remembered, so a moved tag never changes
//! what runs behind the operator's back.

mod artifact;
mod cache;
mod reference;
mod registry;

pub use artifact::{CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE, MANIFEST_MEDIA_TYPE};
pub use cache::{Cache, fetch};
pub use reference::Reference;
pub use registry::{Credentials, Registry};
