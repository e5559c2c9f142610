//! `drop-unmatched`: a filter that keeps only recognition events that matched someone.
//!
//! Face-recognition platforms report every face they see; most consumers only care about the
//! ones that matched a watch list. Events of other categories (access, alarms, attendance…)
//! always pass. Settings:
//!
//! ```toml
//! [plugins.drop-unmatched.settings]
//! categories = ["recognition"]   # where the rule applies (default: recognition)
//! min_score = 0.75               # a match scoring below this counts as unmatched (default: none)
//! drop_unknown = false           # drop events with no match result at all (default: keep)
//! ```

use router_plugin_sdk::names::{action_name, category_name, parse_category};
use router_plugin_sdk::types::{Action, Category, Event, PluginError, Verdict};
use serde::Deserialize;

router_plugin_sdk::bindings!("../../wit", "filter");

use bindings::exports::router::plugin::filter_api::Guest;

/// The plugin's settings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Categories (schema names) the rule applies to.
    #[serde(default = "default_categories")]
    pub categories: Vec<String>,
    /// Minimum `match.score` for a match to count.
    #[serde(default)]
    pub min_score: Option<f64>,
    /// Drop events that carry no match result.
    #[serde(default)]
    pub drop_unknown: bool,
}

fn default_categories() -> Vec<String> {
    vec!["recognition".to_string()]
}

/// The rule, with settings validated.
pub struct Rule {
    categories: Vec<Category>,
    min_score: Option<f64>,
    drop_unknown: bool,
}

impl Rule {
    /// Validates settings.
    pub fn new(settings: Settings) -> Result<Rule, PluginError> {
        let categories = settings
            .categories
            .iter()
            .map(|c| {
                parse_category(c)
                    .ok_or_else(|| PluginError::BadSettings(format!("unknown category `{c}` in `categories`")))
            })
            .collect::<Result<_, _>>()?;
        if let Some(min) = settings.min_score
            && !(0.0..=1.0).contains(&min)
        {
            return Err(PluginError::BadSettings(format!(
                "`min_score` must be within 0..1, got {min}"
            )));
        }
        Ok(Rule {
            categories,
            min_score: settings.min_score,
            drop_unknown: settings.drop_unknown,
        })
    }

    /// Keep or drop one event.
    pub fn judge(&self, event: &Event) -> Verdict {
        if !self.categories.contains(&event.category) {
            return Verdict::Keep;
        }
        let result = event.match_.as_ref();
        let matched = result.and_then(|m| m.matched).or(match event.action {
            Action::FaceUnmatched | Action::Stranger | Action::VehicleDetected => Some(false),
            Action::FaceMatched | Action::VehicleMatched | Action::BlacklistHit => Some(true),
            _ => None,
        });
        match matched {
            Some(true) => match (self.min_score, result.and_then(|m| m.score)) {
                (Some(min), Some(score)) if score < min => {
                    Verdict::Drop(format!("match score {score} is below min_score {min}"))
                }
                _ => Verdict::Keep,
            },
            Some(false) => Verdict::Drop(format!(
                "unmatched {} event ({})",
                category_name(event.category),
                action_name(event.action)
            )),
            None if self.drop_unknown => Verdict::Drop("no match result and drop_unknown = true".to_string()),
            None => Verdict::Keep,
        }
    }
}

struct Plugin;

impl Guest for Plugin {
    fn filter(event: Event) -> Result<Verdict, PluginError> {
        let rule = Rule::new(router_plugin_sdk::settings::load()?)?;
        Ok(rule.judge(&event))
    }
}

impl bindings::exports::router::plugin::setup_api::Guest for Plugin {
    fn validate_settings() -> Result<(), PluginError> {
        router_plugin_sdk::settings::validate(Rule::new)
    }
}

bindings::export!(Plugin with_types_in bindings);

#[cfg(test)]
mod tests {
    use super::*;
    use router_plugin_sdk::event::blank;
    use router_plugin_sdk::types::{Liveness, MatchInfo};

    fn rule(json: &str) -> Rule {
        Rule::new(router_plugin_sdk::settings::parse(json).unwrap()).unwrap()
    }

    fn event(category: Category, action: Action, matched: Option<bool>, score: Option<f64>) -> Event {
        let mut e = blank("test", category, action);
        e.match_ = Some(MatchInfo {
            matched,
            score,
            score_raw: None,
            candidates: vec![],
            liveness: Liveness::Unknown,
            liveness_score: None,
            quality: None,
            track_id: None,
            track_start: None,
            track_end: None,
        });
        e
    }

    #[test]
    fn drops_unmatched_recognition_only() {
        let r = rule("{}");
        assert_eq!(
            r.judge(&event(Category::Recognition, Action::FaceMatched, Some(true), None)),
            Verdict::Keep
        );
        assert!(
            matches!(r.judge(&event(Category::Recognition, Action::FaceUnmatched, Some(false), None)), Verdict::Drop(m) if m.contains("unmatched recognition event (face_unmatched)"))
        );
        assert_eq!(
            r.judge(&event(Category::Access, Action::AccessDenied, Some(false), None)),
            Verdict::Keep
        );
    }

    #[test]
    fn min_score_and_unknown() {
        let r = rule(r#"{"min_score": 0.8, "drop_unknown": true}"#);
        assert!(matches!(
            r.judge(&event(
                Category::Recognition,
                Action::FaceMatched,
                Some(true),
                Some(0.5)
            )),
            Verdict::Drop(_)
        ));
        assert_eq!(
            r.judge(&event(
                Category::Recognition,
                Action::FaceMatched,
                Some(true),
                Some(0.9)
            )),
            Verdict::Keep
        );
        let mut e = blank("t", Category::Recognition, Action::FaceDetected);
        e.match_ = None;
        assert!(matches!(r.judge(&e), Verdict::Drop(_)));
        assert_eq!(rule("{}").judge(&e), Verdict::Keep);
    }

    #[test]
    fn stranger_action_counts_as_unmatched_without_a_match_record() {
        let e = blank("t", Category::Recognition, Action::Stranger);
        assert!(matches!(rule("{}").judge(&e), Verdict::Drop(_)));
    }

    #[test]
    fn bad_settings_are_named() {
        let err = Rule::new(router_plugin_sdk::settings::parse(r#"{"categories": ["faces"]}"#).unwrap())
            .err()
            .unwrap();
        assert!(matches!(err, PluginError::BadSettings(m) if m.contains("faces")));
        assert!(matches!(
            router_plugin_sdk::settings::parse::<Settings>(r#"{"min_scor": 1}"#),
            Err(PluginError::BadSettings(_))
        ));
    }
}
