//! `normalize-omni`: 3DiVi OMNI → `router.event/v1`.
//!
//! The same plugin serves the platform's webhook endpoints and its websocket feed (each
//! websocket frame is handed to it like a request body). Shapes, told apart by content
//! (VENDORS.md §7.4):
//! - Platform / Agent ≤ 2.4.0 event: `{type, camera{}, event{}, candidates[]?, activity_id?}`;
//! - Agent 2.4.1 event: `{type, date, id, object{}, source, identification_data[]}`;
//! - Agent processes: `{processes: [...]}` — one `tracking` event per process, re-sent every
//!   few seconds with the same id (its dedup key marks it for upsert).
//!
//! Base64 best shots and agent images are decoded for the host's blob store. No settings.

mod map;

use router_plugin_sdk::types::{Event, HttpRequest, Normalized, PluginError};

router_plugin_sdk::bindings!("../../wit", "normalizer");

use bindings::exports::router::plugin::normalize_api::Guest;

/// Normalizes one body or websocket frame (pure).
pub fn normalize_body(body: &[u8]) -> Result<Vec<Event>, PluginError> {
    let Some(root) = router_plugin_sdk::lazy::parse_body(body)? else {
        return Err(PluginError::InvalidInput(
            "empty body: expected an OMNI event object".into(),
        ));
    };
    let router_plugin_sdk::lazy::Body::Object(root) = root else {
        return Err(PluginError::InvalidInput("expected a JSON object".into()));
    };
    if root.has("processes") {
        return map::processes(&root);
    }
    if root.has("event") || root.has("camera") {
        return Ok(vec![map::platform_event(root)]);
    }
    if root.has("identification_data") || root.has("object") || root.has("date") {
        return Ok(vec![map::agent_event(root)]);
    }
    Err(PluginError::InvalidInput(
        "not an OMNI message: expected `event`/`camera`, `identification_data` or `processes`".into(),
    ))
}

struct Plugin;

impl Guest for Plugin {
    fn normalize(request: HttpRequest) -> Result<Normalized, PluginError> {
        Ok(Normalized {
            events: normalize_body(&request.body)?,
            reply: None,
        })
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
