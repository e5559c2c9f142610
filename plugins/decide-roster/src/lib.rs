//! `decide-roster`: door decisions from the operator's roster.
//!
//! The roster is a CSV or JSON file named in router.toml (`[plugins.<id>] roster = { path,
//! key }`); this plugin reads it only through `site.roster-lookup`, and the time through
//! `site.local-now` (the source's `decision.time_zone`). For each access or recognition event
//! it rules, in this order (the first that applies wins):
//!
//! 1. no one recognised (no subject, a stranger, `match.matched = false`, no key) → deny, `stranger`;
//! 2. `match.score` below `min_score` → deny, `low-score`;
//! 3. no roster is loaded (none configured, or empty) → deny, `no-roster`; the key is not in
//!    the roster → deny, `not-listed`;
//! 4. the entry's status column says `blocked` (or `inactive`, `disabled`, `suspended`) → deny, `blocked`;
//! 5. no rule names the person or one of their groups → deny, `no-rule`;
//! 6. a rule covering them is open now → grant, the rule's name as the reason, its tip;
//! 7. otherwise → deny, `outside-hours`.
//!
//! Other categories (alarms, heartbeats…) get `unknown`: the plugin abstains and the
//! normalizer's own reply stands.
//!
//! ```toml
//! [plugins.door-policy]
//! path = "target/plugins/decide-roster.wasm"
//! kind = "decider"
//! roster = { path = "roster.csv", key = "person_id" }
//!
//! [plugins.door-policy.settings]
//! categories = ["access", "recognition"]   # what it rules on (the default); others: unknown
//! match_on = "person_id"       # subject field looked up: person_id | external_id | employee_number | card_number
//! min_score = 0.8              # deny matches scoring below (0..1; default: none)
//! groups_column = "groups"     # roster column of groups, `;`- or `,`-separated (JSON: also an array)
//! status_column = "status"     # roster column; blocked / inactive / disabled / suspended deny
//! name_column = "name"         # `{name}` in tips
//! tips = { stranger = "Unknown face", low_score = "Please retry", not_listed = "Not registered",
//!          no_roster = "See reception", blocked = "Access blocked", no_rule = "No access",
//!          outside_hours = "Not now" }
//!
//! [[plugins.door-policy.settings.rules]]
//! name = "staff-weekdays"
//! groups = ["staff"]           # and/or persons = ["p-17"]
//! days = ["mon", "tue", "wed", "thu", "fri"]   # default: every day
//! hours = ["07:00-19:00"]      # local time; "22:00-06:00" runs past midnight; default: all day
//! tip = "Welcome {name}"
//! ```

mod policy;

pub use policy::{Clock, Policy, Settings};

use router_plugin_sdk::types::{Event, PluginError, Ruling};
use std::sync::OnceLock;

router_plugin_sdk::bindings!("../../wit", "decider", site);

use bindings::exports::router::plugin::decide_api::Guest;

/// The validated settings of this instance (they cannot change during its life: a reload
/// makes new instances).
static POLICY: OnceLock<Result<Policy, String>> = OnceLock::new();

struct Plugin;

impl Guest for Plugin {
    fn decide(event: Event) -> Result<Ruling, PluginError> {
        let policy = POLICY
            .get_or_init(|| {
                let settings: Settings = router_plugin_sdk::settings::load().map_err(|e| match e {
                    PluginError::BadSettings(m) => m,
                    other => format!("{other:?}"),
                })?;
                Policy::new(settings).map_err(|e| match e {
                    PluginError::BadSettings(m) => m,
                    other => format!("{other:?}"),
                })
            })
            .as_ref()
            .map_err(|m| PluginError::BadSettings(m.clone()))?;
        let now = router_plugin_sdk::site::local_now();
        let clock = Clock {
            weekday: now.weekday,
            minute: now.minute_of_day,
        };
        let size = router_plugin_sdk::site::roster_size();
        Ok(policy.decide(&event, clock, size, router_plugin_sdk::site::roster_lookup))
    }
}

impl bindings::exports::router::plugin::setup_api::Guest for Plugin {
    fn validate_settings() -> Result<(), PluginError> {
        router_plugin_sdk::settings::validate(Policy::new)
    }
}

bindings::export!(Plugin with_types_in bindings);

#[cfg(test)]
mod tests;
