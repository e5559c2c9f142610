//! `normalize-json`: a generic normalizer for systems that post plain JSON.
//!
//! The body is a JSON object (one event) or an array of objects (one event each); with
//! `events = "path"` the array is found inside an envelope object, whose other members are
//! copied into each event's `extras` under `envelope`. Each normalized field is read from a
//! dotted path named in `[fields]`; whatever no path consumed stays in `extras`, so nothing
//! the sender said is lost. Example settings:
//!
//! ```toml
//! [plugins.normalize-json.settings]
//! vendor = "acme"
//! events = "items"                    # optional
//! category = "access"                 # default when no `fields.category` path matches
//! [plugins.normalize-json.settings.fields]
//! vendor_event_id = "id"
//! occurred_at = "time"
//! "subject.person_id" = "person.id"
//! ```

mod fields;
mod mapping;

use router_plugin_sdk::types::{HttpRequest, Normalized, PluginError};
use serde::Deserialize;
use std::collections::BTreeMap;

router_plugin_sdk::bindings!("../../wit", "normalizer");

use bindings::exports::router::plugin::normalize_api::Guest;

/// The plugin's settings (router.toml `[plugins.<id>.settings]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The `vendor` of every event.
    #[serde(default = "default_vendor")]
    pub vendor: String,
    /// `vendor_product` of every event.
    #[serde(default)]
    pub vendor_product: Option<String>,
    /// Path of the event array inside an envelope object.
    #[serde(default)]
    pub events: Option<String>,
    /// Category when no `fields.category` value is present (a schema name).
    #[serde(default)]
    pub category: Option<String>,
    /// Action when no `fields.action` value is present (a schema name).
    #[serde(default)]
    pub action: Option<String>,
    /// Normalized field (e.g. `subject.person_id`) → source path in the vendor event.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

fn default_vendor() -> String {
    "generic".to_string()
}

struct Plugin;

impl Guest for Plugin {
    fn normalize(request: HttpRequest) -> Result<Normalized, PluginError> {
        let settings: Settings = router_plugin_sdk::settings::load()?;
        let events = mapping::normalize(&settings, &request.body, &request.source_id)?;
        Ok(Normalized { events, reply: None })
    }
}

impl bindings::exports::router::plugin::setup_api::Guest for Plugin {
    fn validate_settings() -> Result<(), PluginError> {
        router_plugin_sdk::settings::validate::<Settings, _>(Ok)
    }
}

bindings::export!(Plugin with_types_in bindings);
