//! `{{name}}`: a switchyard transform. It stamps every event with the site it comes from
//! (`source.site`, when the vendor left it empty) and a tag in `extras`.
//!
//! ```toml
//! [plugins.{{name}}.settings]
//! site = "north-gate"
//! tag = "building-a"   # optional
//! ```

// Print output reaches the router's log (std's `println!` writes nowhere on wasm32).
#[allow(unused_imports)]
use router_plugin_sdk::{eprintln, println};
use router_plugin_sdk::types::{Event, PluginError};
use serde::Deserialize;

mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "transform",
        with: {
            "router:plugin/types@{{wit_version}}": router_plugin_sdk::types,
            "router:plugin/host@{{wit_version}}": router_plugin_sdk::host,
        },
    });
}

/// The settings, as written in router.toml (unknown keys are an error: typos show at check).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub site: String,
    #[serde(default)]
    pub tag: Option<String>,
}

/// The stamp, with its settings checked.
pub struct Stamp {
    settings: Settings,
}

impl Stamp {
    pub fn new(settings: Settings) -> Result<Stamp, PluginError> {
        if settings.site.trim().is_empty() {
            return Err(PluginError::BadSettings("`site` must not be empty".to_string()));
        }
        Ok(Stamp { settings })
    }

    pub fn apply(&self, mut event: Event) -> Result<Event, PluginError> {
        if event.source.site.is_none() {
            event.source.site = Some(self.settings.site.clone());
        }
        if let Some(tag) = &self.settings.tag {
            let mut extras: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&event.extras)
                .map_err(|e| PluginError::InvalidInput(format!("`extras` is not a JSON object: {e}")))?;
            extras.insert("tag".to_string(), serde_json::Value::String(tag.clone()));
            event.extras = serde_json::Value::Object(extras).to_string();
        }
        Ok(event)
    }
}

struct Plugin;

impl bindings::exports::router::plugin::transform_api::Guest for Plugin {
    fn transform(event: Event) -> Result<Vec<Event>, PluginError> {
        let stamp = Stamp::new(router_plugin_sdk::settings::load()?)?;
        Ok(vec![stamp.apply(event)?])
    }
}

impl bindings::exports::router::plugin::setup_api::Guest for Plugin {
    /// Called once when the router loads the plugin: a settings mistake stops `check`.
    fn validate_settings() -> Result<(), PluginError> {
        router_plugin_sdk::settings::validate(Stamp::new)
    }
}

bindings::export!(Plugin with_types_in bindings);

#[cfg(test)]
mod tests {
    use super::*;
    use router_plugin_sdk::types::{Action, Category};

    #[test]
    fn the_site_is_filled_only_when_missing_and_the_tag_is_added() {
        let stamp = Stamp::new(router_plugin_sdk::settings::parse(r#"{"site": "s1", "tag": "t"}"#).unwrap()).unwrap();
        let event = router_plugin_sdk::event::blank("acme", Category::Access, Action::AccessGranted);
        let out = stamp.apply(event.clone()).unwrap();
        assert_eq!(out.source.site.as_deref(), Some("s1"));
        assert!(out.extras.contains("\"tag\":\"t\""));
        let mut sited = event;
        sited.source.site = Some("own".into());
        assert_eq!(stamp.apply(sited).unwrap().source.site.as_deref(), Some("own"));
    }

    #[test]
    fn an_empty_site_is_refused() {
        let settings = router_plugin_sdk::settings::parse(r#"{"site": " "}"#).unwrap();
        assert!(matches!(Stamp::new(settings), Err(PluginError::BadSettings(_))));
    }
}
