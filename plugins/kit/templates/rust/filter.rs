//! `{{name}}`: a switchyard filter. It keeps recognition events whose match score reaches
//! `min_score` and drops the rest; events of other categories always pass.
//!
//! ```toml
//! [plugins.{{name}}.settings]
//! min_score = 0.8   # 0..1
//! ```

// Print output reaches the router's log (std's `println!` writes nowhere on wasm32).
#[allow(unused_imports)]
use router_plugin_sdk::{eprintln, println};
use router_plugin_sdk::types::{Category, Event, PluginError, Verdict};
use serde::Deserialize;

mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "filter",
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
    #[serde(default = "default_min_score")]
    pub min_score: f64,
}

fn default_min_score() -> f64 {
    0.8
}

/// The rule, with its settings checked.
pub struct Rule {
    min_score: f64,
}

impl Rule {
    pub fn new(settings: Settings) -> Result<Rule, PluginError> {
        if !(0.0..=1.0).contains(&settings.min_score) {
            return Err(PluginError::BadSettings(format!(
                "`min_score` must be within 0..1, got {}",
                settings.min_score
            )));
        }
        Ok(Rule { min_score: settings.min_score })
    }

    pub fn judge(&self, event: &Event) -> Verdict {
        if event.category != Category::Recognition {
            return Verdict::Keep;
        }
        match event.match_.as_ref().and_then(|m| m.score) {
            Some(score) if score >= self.min_score => Verdict::Keep,
            Some(score) => Verdict::Drop(format!("match score {score} is below min_score {}", self.min_score)),
            None => Verdict::Drop("no match score".to_string()),
        }
    }
}

struct Plugin;

impl bindings::exports::router::plugin::filter_api::Guest for Plugin {
    fn filter(event: Event) -> Result<Verdict, PluginError> {
        let rule = Rule::new(router_plugin_sdk::settings::load()?)?;
        Ok(rule.judge(&event))
    }
}

impl bindings::exports::router::plugin::setup_api::Guest for Plugin {
    /// Called once when the router loads the plugin: a settings mistake stops `check`.
    fn validate_settings() -> Result<(), PluginError> {
        router_plugin_sdk::settings::validate(Rule::new)
    }
}

bindings::export!(Plugin with_types_in bindings);

#[cfg(test)]
mod tests {
    use super::*;
    use router_plugin_sdk::types::Action;

    fn rule(json: &str) -> Result<Rule, PluginError> {
        Rule::new(router_plugin_sdk::settings::parse(json)?)
    }

    #[test]
    fn low_scores_are_dropped_and_other_categories_pass() {
        let rule = rule(r#"{"min_score": 0.9}"#).unwrap();
        let mut event = router_plugin_sdk::event::blank("acme", Category::Recognition, Action::FaceMatched);
        router_plugin_sdk::event::set_score(&mut event, 0.95);
        assert_eq!(rule.judge(&event), Verdict::Keep);
        router_plugin_sdk::event::set_score(&mut event, 0.5);
        assert!(matches!(rule.judge(&event), Verdict::Drop(_)));
        let door = router_plugin_sdk::event::blank("acme", Category::Access, Action::AccessGranted);
        assert_eq!(rule.judge(&door), Verdict::Keep);
    }

    #[test]
    fn settings_mistakes_are_named() {
        assert!(matches!(rule(r#"{"min_score": 2}"#), Err(PluginError::BadSettings(m)) if m.contains("min_score")));
        assert!(matches!(rule(r#"{"min_scor": 0.5}"#), Err(PluginError::BadSettings(m)) if m.contains("min_scor")));
    }
}
