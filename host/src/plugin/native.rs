//! Bench only (cargo feature `native-plugins`, off in every shipped build): first-party plugin
//! crates linked into the host as native code, so `make bench` can measure the WASM pipeline
//! against the very same pipeline with native plugins — same router, same config, same HTTP,
//! queue and sinks; only the normalizer's code runs natively instead of in wasmtime.
//!
//! A plugin loaded from `builtin = "<name>"` whose crate is linked here keeps everything else
//! (loading, probe, limits, statistics) and has its normalize calls answered by the native
//! function. Its output is converted by the same rules as a guest's (`convert/rules.rs`,
//! included against the SDK's types, which share the WIT package's names and shapes).

use super::error::Error;
use super::types::{Normalized, Request};

/// The conversions of `convert/rules.rs`, against the guest SDK's generated types.
#[allow(dead_code, reason = "only the normalizer's conversions are used natively")]
mod convert {
    use router_plugin_sdk::types as wit;

    include!("convert/rules.rs");
}

/// A native normalizer: the request in, the normalized events out, as the guest would.
pub(crate) type Normalize =
    fn(&Request) -> Result<router_plugin_sdk::types::Normalized, router_plugin_sdk::types::PluginError>;

/// The native build of a first-party plugin, by its built-in name.
pub(crate) fn lookup(name: &str) -> Option<Normalize> {
    match name {
        "normalize-findface" => Some(findface),
        _ => None,
    }
}

fn findface(request: &Request) -> Result<router_plugin_sdk::types::Normalized, router_plugin_sdk::types::PluginError> {
    let events = router_plugin_normalize_findface::normalize_body(&request.body, &request.source_id)?;
    Ok(router_plugin_sdk::types::Normalized { events, reply: None })
}

/// Runs `normalize` as the plugin `id` and converts its result as a guest's would be.
pub(crate) fn call(id: &str, normalize: Normalize, request: &Request) -> Result<Normalized, Error> {
    use router_plugin_sdk::types::PluginError as P;
    let plugin = id.to_string();
    match normalize(request) {
        Ok(normalized) => convert::normalized_from_wit(normalized).map_err(|reason| Error::Contract { plugin, reason }),
        Err(P::InvalidInput(reason)) => Err(Error::Rejected { plugin, reason }),
        Err(P::Unauthorized(reason)) => Err(Error::Unauthorized { plugin, reason }),
        Err(P::Unavailable(reason)) => Err(Error::Unavailable { plugin, reason }),
        Err(P::BadSettings(reason)) => Err(Error::BadSettings { plugin, reason }),
        Err(P::Internal(reason)) => Err(Error::Failed { plugin, reason }),
    }
}
