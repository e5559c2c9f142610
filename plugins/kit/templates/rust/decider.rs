//! `{{name}}`: a switchyard decider. It grants access to the people listed in `allow` or in
//! the operator's roster (`roster = { path = "roster.csv" }` in router.toml) and denies
//! everyone else, with the tip text the terminal shows.
//!
//! ```toml
//! [plugins.{{name}}.settings]
//! allow = ["p-17"]
//! grant_tip = "Welcome"
//! deny_tip = "Not registered"
//! ```

// Print output reaches the router's log (std's `println!` writes nowhere on wasm32).
#[allow(unused_imports)]
use router_plugin_sdk::{eprintln, println};
use router_plugin_sdk::types::{Decision, Event, PluginError, Ruling};
use serde::Deserialize;

mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "decider",
        with: {
            "router:plugin/types@{{wit_version}}": router_plugin_sdk::types,
            "router:plugin/host@{{wit_version}}": router_plugin_sdk::host,
            "router:plugin/site@{{wit_version}}": router_plugin_sdk::site,
        },
    });
}

/// The settings, as written in router.toml (unknown keys are an error: typos show at check).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default = "default_grant_tip")]
    pub grant_tip: String,
    #[serde(default = "default_deny_tip")]
    pub deny_tip: String,
}

fn default_grant_tip() -> String {
    "Welcome".to_string()
}

fn default_deny_tip() -> String {
    "Not registered".to_string()
}

/// The policy, with its settings checked.
pub struct Policy {
    settings: Settings,
}

impl Policy {
    pub fn new(settings: Settings) -> Result<Policy, PluginError> {
        if let Some(blank) = settings.allow.iter().find(|id| id.trim().is_empty()) {
            return Err(PluginError::BadSettings(format!("`allow` holds an empty person id ({blank:?})")));
        }
        Ok(Policy { settings })
    }

    /// Rules on `event`; `listed` says whether a person id is in the operator's roster.
    pub fn decide(&self, event: &Event, listed: impl Fn(&str) -> bool) -> Ruling {
        let person = event.subject.as_ref().and_then(|s| s.person_id.as_deref());
        let (decision, tip, reason) = match person {
            Some(id) if self.settings.allow.iter().any(|a| a == id) => (Decision::Granted, &self.settings.grant_tip, "in allow"),
            Some(id) if listed(id) => (Decision::Granted, &self.settings.grant_tip, "in roster"),
            Some(_) => (Decision::Denied, &self.settings.deny_tip, "not listed"),
            None => (Decision::Denied, &self.settings.deny_tip, "no person id"),
        };
        Ruling {
            decision,
            custom_tip: Some(tip.clone()),
            details: serde_json::json!({ "reason": reason }).to_string(),
        }
    }
}

struct Plugin;

impl bindings::exports::router::plugin::decide_api::Guest for Plugin {
    fn decide(event: Event) -> Result<Ruling, PluginError> {
        let policy = Policy::new(router_plugin_sdk::settings::load()?)?;
        Ok(policy.decide(&event, |id| router_plugin_sdk::site::roster_lookup(id).is_some()))
    }
}

impl bindings::exports::router::plugin::setup_api::Guest for Plugin {
    /// Called once when the router loads the plugin: a settings mistake stops `check`.
    fn validate_settings() -> Result<(), PluginError> {
        router_plugin_sdk::settings::validate(Policy::new)
    }
}

bindings::export!(Plugin with_types_in bindings);

#[cfg(test)]
mod tests {
    use super::*;
    use router_plugin_sdk::types::{Action, Category};

    fn event(person: Option<&str>) -> Event {
        let mut e = router_plugin_sdk::event::blank("acme", Category::Access, Action::AccessRequest);
        if let Some(id) = person {
            router_plugin_sdk::paths::subject(&mut e, true).unwrap().person_id = Some(id.to_string());
        }
        e
    }

    #[test]
    fn allow_and_roster_grant_everyone_else_is_denied() {
        let policy = Policy::new(router_plugin_sdk::settings::parse(r#"{"allow": ["p-1"]}"#).unwrap()).unwrap();
        assert_eq!(policy.decide(&event(Some("p-1")), |_| false).decision, Decision::Granted);
        assert_eq!(policy.decide(&event(Some("p-2")), |id| id == "p-2").decision, Decision::Granted);
        assert_eq!(policy.decide(&event(Some("p-3")), |_| false).decision, Decision::Denied);
        assert_eq!(policy.decide(&event(None), |_| true).decision, Decision::Denied);
    }
}
