//! `normalize-findface`: FindFace (NtechLab) webhooks → `router.event/v1`.
//!
//! FindFace POSTs a JSON array of events (batch size ≥ 1; an empty array is valid). Two
//! generations are told apart by shape (VENDORS.md §7.4): Security 4.x (`webhook_type:
//! "events"`, `face`/`frame` images, nested `camera`/`camera_group`/`matched_lists` objects,
//! `matched_dossier`) and Multi 2.x (`object_type` face/car/body, `thumbnail`/`fullframe`,
//! integer ids, `matched_card`). One event per array element; ids stay strings (uint64 > 2^53
//! survives); everything unmapped is kept in `vendor_extras`, RTSP credentials masked.
//! No settings.

mod map;

use router_plugin_sdk::lazy::{self, Body, Element};
use router_plugin_sdk::types::{HttpRequest, Normalized, PluginError};

router_plugin_sdk::bindings!("../../wit", "normalizer");

use bindings::exports::router::plugin::normalize_api::Guest;

/// Normalizes a whole body (pure; the guest entry point only adds nothing). The body is read
/// lazily: only the members the mapping reads are parsed (see `router_plugin_sdk::lazy`).
pub fn normalize_body(body: &[u8], source_id: &str) -> Result<Vec<router_plugin_sdk::types::Event>, PluginError> {
    let Some(root) = lazy::parse_body(body)? else {
        return Err(PluginError::InvalidInput(
            "empty body: FindFace sends a JSON array of events".into(),
        ));
    };
    let (items, single) = match root {
        Body::Array(items) => (items, false),
        // Some captures hold one event copied out of the array: accept it, and say so.
        Body::Object(object) => (vec![Element::Object(object)], true),
        Body::Scalar => {
            return Err(PluginError::InvalidInput(
                "expected a JSON array of FindFace events".into(),
            ));
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let Element::Object(object) = item else {
                return Err(PluginError::InvalidInput(format!(
                    "element {i} of the batch is not a JSON object"
                )));
            };
            let mut event = map::event(object, source_id);
            if single {
                event.warnings.push("single_object_body".into());
            }
            Ok(event)
        })
        .collect()
}

struct Plugin;

impl Guest for Plugin {
    fn normalize(request: HttpRequest) -> Result<Normalized, PluginError> {
        let events = normalize_body(&request.body, &request.source_id)?;
        Ok(Normalized { events, reply: None })
    }
}

impl bindings::exports::router::plugin::setup_api::Guest for Plugin {
    fn validate_settings() -> Result<(), PluginError> {
        router_plugin_sdk::settings::validate_none()
    }
}

bindings::export!(Plugin with_types_in bindings);

#[cfg(test)]
mod tests;
