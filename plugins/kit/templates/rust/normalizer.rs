//! `{{name}}`: a switchyard normalizer. It turns a terminal's JSON push —
//! `{"events": [{"id", "time", "device", "person", "name", "score"}, …]}` or one such object —
//! into normalized `router.event/v1` events. Replace the mapping with your vendor's.
//!
//! ```toml
//! [plugins.{{name}}.settings]
//! vendor = "acme"   # the `vendor` of every event
//! ```

// Print output reaches the router's log (std's `println!` writes nowhere on wasm32).
#[allow(unused_imports)]
use router_plugin_sdk::{eprintln, println};
use router_plugin_sdk::types::{Action, Category, Event, HttpRequest, Normalized, PluginError, SubjectKind, TzSource};
use serde::Deserialize;
use serde_json::Value;

mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "normalizer",
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
    #[serde(default = "default_vendor")]
    pub vendor: String,
}

fn default_vendor() -> String {
    "{{name}}".to_string()
}

fn checked(settings: Settings) -> Result<Settings, PluginError> {
    if settings.vendor.trim().is_empty() {
        return Err(PluginError::BadSettings("`vendor` must not be empty".to_string()));
    }
    Ok(settings)
}

/// The events in one request body.
pub fn normalize_body(body: &[u8], settings: &Settings) -> Result<Vec<Event>, PluginError> {
    let root: Value =
        serde_json::from_slice(body).map_err(|e| PluginError::InvalidInput(format!("body is not JSON: {e}")))?;
    let items = match root.get("events") {
        Some(Value::Array(items)) => items.clone(),
        Some(_) => return Err(PluginError::InvalidInput("`events` is not an array".to_string())),
        None if root.is_object() => vec![root],
        None => return Err(PluginError::InvalidInput("expected an object or {\"events\": [...]}".to_string())),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.as_object()
                .map(|_| event(item, &settings.vendor))
                .ok_or_else(|| PluginError::InvalidInput(format!("events[{i}] is not an object")))
        })
        .collect()
}

fn event(item: &Value, vendor: &str) -> Event {
    let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_string);
    let person = text("person");
    let action = if person.is_some() { Action::FaceMatched } else { Action::FaceUnmatched };
    let mut e = router_plugin_sdk::event::blank(vendor, Category::Recognition, action);
    e.vendor_event_id = text("id");
    e.vendor_event_type = Some("push".to_string());
    if let Some(time) = text("time") {
        e.occurred_at = Some(time.clone());
        e.occurred_at_raw = Some(time);
        e.occurred_at_tz_source = TzSource::Explicit;
    }
    e.source.device_id = text("device");
    if person.is_some() {
        let subject = router_plugin_sdk::paths::subject(&mut e, true).expect("created on demand");
        subject.kind = SubjectKind::Person;
        subject.person_id = person;
        subject.display_name = text("name");
    }
    if let Some(score) = item.get("score").and_then(Value::as_f64) {
        router_plugin_sdk::event::set_score(&mut e, score);
    }
    e
}

struct Plugin;

impl bindings::exports::router::plugin::normalize_api::Guest for Plugin {
    fn normalize(request: HttpRequest) -> Result<Normalized, PluginError> {
        let settings = checked(router_plugin_sdk::settings::load()?)?;
        Ok(Normalized {
            events: normalize_body(&request.body, &settings)?,
            // None: the router answers 202 with the events' ids. Return a reply for vendors
            // that expect a body of their own.
            reply: None,
        })
    }
}

impl bindings::exports::router::plugin::setup_api::Guest for Plugin {
    /// Called once when the router loads the plugin: a settings mistake stops `check`.
    fn validate_settings() -> Result<(), PluginError> {
        router_plugin_sdk::settings::validate(checked)
    }
}

bindings::export!(Plugin with_types_in bindings);

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings { vendor: "acme".into() }
    }

    #[test]
    fn a_batch_becomes_events() {
        let body = br#"{"events": [{"id": "1", "person": "p-17", "score": 0.93}, {"id": "2"}]}"#;
        let events = normalize_body(body, &settings()).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].action, Action::FaceMatched);
        assert_eq!(events[0].subject.as_ref().unwrap().person_id.as_deref(), Some("p-17"));
        assert_eq!(events[1].action, Action::FaceUnmatched);
    }

    #[test]
    fn malformed_bodies_are_invalid_input() {
        assert!(matches!(normalize_body(b"nope", &settings()), Err(PluginError::InvalidInput(_))));
        assert!(matches!(normalize_body(br#"{"events": [1]}"#, &settings()), Err(PluginError::InvalidInput(_))));
    }
}
