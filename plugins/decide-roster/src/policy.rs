//! The rules, validated from settings, and the decision itself (pure: the roster lookup and
//! the clock are passed in, so it runs natively in tests).

use router_plugin_sdk::types::{Category, Decision, Event, PersonType, PluginError, Ruling};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The plugin's settings (see the crate docs).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Categories (schema names) it rules on; others get `unknown` (default: access,
    /// recognition).
    #[serde(default)]
    pub categories: Option<Vec<String>>,
    /// The subject field looked up in the roster.
    #[serde(default)]
    pub match_on: Option<String>,
    /// Matches scoring below this are denied.
    #[serde(default)]
    pub min_score: Option<f64>,
    /// Roster column listing the person's groups.
    #[serde(default)]
    pub groups_column: Option<String>,
    /// Roster column whose blocking values deny.
    #[serde(default)]
    pub status_column: Option<String>,
    /// Roster column with the person's name (`{name}` in tips).
    #[serde(default)]
    pub name_column: Option<String>,
    /// Tip per denial reason (`stranger`, `low_score`, `not_listed`, `blocked`, `no_rule`,
    /// `outside_hours`).
    #[serde(default)]
    pub tips: BTreeMap<String, String>,
    /// Who may pass when.
    #[serde(default)]
    pub rules: Vec<RuleSettings>,
}

/// One `[[rules]]` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSettings {
    /// Its name: the `reason` of the grants it gives.
    pub name: String,
    /// Roster groups it covers.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Roster keys it covers.
    #[serde(default)]
    pub persons: Vec<String>,
    /// `mon` … `sun`; default every day.
    #[serde(default)]
    pub days: Vec<String>,
    /// `HH:MM-HH:MM` local windows; default all day.
    #[serde(default)]
    pub hours: Vec<String>,
    /// The terminal's text on a grant (`{name}` is replaced).
    #[serde(default)]
    pub tip: Option<String>,
}

/// Where the site's clock stands: ISO weekday (1 = Monday) and minute of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// 1 = Monday … 7 = Sunday.
    pub weekday: u8,
    /// 0..1439.
    pub minute: u16,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const MATCH_ON: [&str; 4] = ["person_id", "external_id", "employee_number", "card_number"];
const DENIALS: [&str; 6] = [
    "stranger",
    "low_score",
    "not_listed",
    "blocked",
    "no_rule",
    "outside_hours",
];
const BLOCKING: [&str; 4] = ["blocked", "inactive", "disabled", "suspended"];
/// Terminals show about ten characters; the host refuses tips over 256 bytes.
const MAX_TIP_BYTES: usize = 256;

#[derive(Debug)]
struct Window {
    from: u16,
    until: u16,
}

#[derive(Debug)]
struct Rule {
    name: String,
    groups: Vec<String>,
    persons: Vec<String>,
    /// Bit `d - 1` set: open on ISO weekday `d`.
    days: u8,
    windows: Vec<Window>,
    tip: Option<String>,
}

impl Rule {
    fn covers(&self, key: &str, groups: &[String]) -> bool {
        self.persons.iter().any(|p| p == key) || self.groups.iter().any(|g| groups.contains(g))
    }

    fn open_on(&self, weekday: u8) -> bool {
        (1..=7).contains(&weekday) && self.days & (1 << (weekday - 1)) != 0
    }

    /// Open at `clock`; a window past midnight belongs to the day it starts on.
    fn open(&self, clock: Clock) -> bool {
        let yesterday = if clock.weekday <= 1 { 7 } else { clock.weekday - 1 };
        self.windows.iter().any(|w| {
            if w.from < w.until {
                self.open_on(clock.weekday) && (w.from..w.until).contains(&clock.minute)
            } else {
                (self.open_on(clock.weekday) && clock.minute >= w.from)
                    || (self.open_on(yesterday) && clock.minute < w.until)
            }
        })
    }
}

/// The validated policy.
#[derive(Debug)]
pub struct Policy {
    categories: Vec<Category>,
    match_on: String,
    min_score: Option<f64>,
    groups_column: String,
    status_column: String,
    name_column: String,
    tips: BTreeMap<String, String>,
    rules: Vec<Rule>,
}

fn bad(message: String) -> PluginError {
    PluginError::BadSettings(message)
}

fn minute(text: &str) -> Option<u16> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    // 24:00 ends a day.
    ((h < 24 && m < 60) || (h == 24 && m == 0)).then_some(h * 60 + m)
}

fn window(text: &str) -> Option<Window> {
    let (from, until) = text.split_once('-')?;
    let (from, until) = (minute(from)?, minute(until)?);
    (from != until && from < 24 * 60).then_some(Window { from, until })
}

fn tip(text: Option<String>, what: &str) -> Result<Option<String>, PluginError> {
    match text {
        Some(t) if t.len() > MAX_TIP_BYTES || t.chars().any(char::is_control) => Err(bad(format!(
            "{what}: a tip must be at most {MAX_TIP_BYTES} bytes without control characters"
        ))),
        other => Ok(other),
    }
}

impl Policy {
    /// Validates settings; every problem names the setting.
    pub fn new(s: Settings) -> Result<Policy, PluginError> {
        let match_on = s.match_on.unwrap_or_else(|| "person_id".into());
        if !MATCH_ON.contains(&match_on.as_str()) {
            return Err(bad(format!(
                "`match_on` must be one of {}, got `{match_on}`",
                MATCH_ON.join(", ")
            )));
        }
        if let Some(min) = s.min_score
            && !(0.0..=1.0).contains(&min)
        {
            return Err(bad(format!("`min_score` must be within 0..1, got {min}")));
        }
        let categories = match &s.categories {
            None => vec![Category::Access, Category::Recognition],
            Some(names) => names
                .iter()
                .map(|c| {
                    router_plugin_sdk::names::parse_category(c)
                        .ok_or_else(|| bad(format!("unknown category `{c}` in `categories`")))
                })
                .collect::<Result<_, _>>()?,
        };
        for (reason, text) in &s.tips {
            if !DENIALS.contains(&reason.as_str()) {
                return Err(bad(format!(
                    "`tips.{reason}`: tips are given per denial reason: {}",
                    DENIALS.join(", ")
                )));
            }
            tip(Some(text.clone()), &format!("`tips.{reason}`"))?;
        }
        if s.rules.is_empty() {
            return Err(bad(
                "no `rules`: with none, every listed person would be denied; add [[settings.rules]] with groups or persons".into(),
            ));
        }
        let mut rules = Vec::with_capacity(s.rules.len());
        for (index, r) in s.rules.into_iter().enumerate() {
            let what = format!("rule {} (`{}`)", index + 1, r.name);
            if r.name.trim().is_empty() {
                return Err(bad(format!("rule {}: `name` is empty", index + 1)));
            }
            if rules.iter().any(|known: &Rule| known.name == r.name) {
                return Err(bad(format!("{what}: another rule has this name")));
            }
            if r.groups.is_empty() && r.persons.is_empty() {
                return Err(bad(format!("{what}: name `groups` or `persons` it covers")));
            }
            let mut days = 0u8;
            for day in &r.days {
                let Some(i) = DAYS.iter().position(|d| d.eq_ignore_ascii_case(day.trim())) else {
                    return Err(bad(format!("{what}: day `{day}` is not one of {}", DAYS.join(", "))));
                };
                days |= 1 << i;
            }
            if r.days.is_empty() {
                days = 0x7f;
            }
            let mut windows = Vec::with_capacity(r.hours.len().max(1));
            for h in &r.hours {
                windows.push(window(h).ok_or_else(|| {
                    bad(format!(
                        "{what}: hours `{h}` is not a window like \"07:00-19:00\" (or \"22:00-06:00\" past midnight)"
                    ))
                })?);
            }
            if windows.is_empty() {
                windows.push(Window {
                    from: 0,
                    until: 24 * 60,
                });
            }
            rules.push(Rule {
                tip: tip(r.tip, &what)?,
                name: r.name,
                groups: r.groups,
                persons: r.persons,
                days,
                windows,
            });
        }
        Ok(Policy {
            categories,
            match_on,
            min_score: s.min_score,
            groups_column: s.groups_column.unwrap_or_else(|| "groups".into()),
            status_column: s.status_column.unwrap_or_else(|| "status".into()),
            name_column: s.name_column.unwrap_or_else(|| "name".into()),
            tips: s.tips,
            rules,
        })
    }

    fn key(&self, event: &Event) -> Option<String> {
        let s = event.subject.as_ref()?;
        let key = match self.match_on.as_str() {
            "external_id" => &s.external_id,
            "employee_number" => &s.employee_number,
            "card_number" => &s.card_number,
            _ => &s.person_id,
        };
        key.clone().filter(|k| !k.trim().is_empty())
    }

    fn deny(&self, reason: &str, details: Value) -> Ruling {
        let mut details = details;
        details["reason"] = reason.replace('_', "-").into();
        Ruling {
            decision: Decision::Denied,
            custom_tip: self.tips.get(reason).cloned(),
            details: details.to_string(),
        }
    }

    /// Rules on `event` at `clock`; `lookup` returns a roster entry (JSON text) by key, from a
    /// roster of `roster_size` entries (0: none is loaded, so nobody can be listed).
    pub fn decide(
        &self,
        event: &Event,
        clock: Clock,
        roster_size: u32,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Ruling {
        if !self.categories.contains(&event.category) {
            return Ruling {
                decision: Decision::Unknown,
                custom_tip: None,
                details: json!({ "reason": "not-an-access-event" }).to_string(),
            };
        }
        let stranger = event
            .subject
            .as_ref()
            .is_none_or(|s| s.person_type == PersonType::Stranger)
            || event.match_.as_ref().and_then(|m| m.matched) == Some(false);
        let key = self.key(event);
        let Some(key) = key.filter(|_| !stranger) else {
            return self.deny("stranger", json!({}));
        };
        if let (Some(min), Some(score)) = (self.min_score, event.match_.as_ref().and_then(|m| m.score))
            && score < min
        {
            return self.deny("low_score", json!({ "user_id": key }));
        }
        if roster_size == 0 {
            // Not the person's fault: the operator named no roster, or an empty one.
            return self.deny("no_roster", json!({ "user_id": key }));
        }
        let Some(entry) = lookup(&key).and_then(|text| serde_json::from_str::<Value>(&text).ok()) else {
            return self.deny("not_listed", json!({ "user_id": key }));
        };
        let name = entry
            .get(&self.name_column)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let details = if name.is_empty() {
            json!({ "user_id": key })
        } else {
            json!({ "user_id": key, "user_name": name })
        };
        let status = entry.get(&self.status_column).and_then(Value::as_str).unwrap_or("");
        if BLOCKING.iter().any(|b| b.eq_ignore_ascii_case(status.trim())) {
            return self.deny("blocked", details);
        }
        let groups: Vec<String> = match entry.get(&self.groups_column) {
            Some(Value::String(s)) => s
                .split([';', ','])
                .map(|g| g.trim().to_string())
                .filter(|g| !g.is_empty())
                .collect(),
            Some(Value::Array(items)) => items.iter().filter_map(|g| g.as_str().map(str::to_string)).collect(),
            _ => Vec::new(),
        };
        let covering: Vec<&Rule> = self.rules.iter().filter(|r| r.covers(&key, &groups)).collect();
        if covering.is_empty() {
            return self.deny("no_rule", details);
        }
        match covering.iter().find(|r| r.open(clock)) {
            Some(rule) => {
                let mut details = details;
                details["reason"] = rule.name.clone().into();
                Ruling {
                    decision: Decision::Granted,
                    custom_tip: rule.tip.as_ref().map(|t| t.replace("{name}", &name)),
                    details: details.to_string(),
                }
            }
            None => self.deny("outside_hours", details),
        }
    }
}
