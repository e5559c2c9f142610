//! How a JSON value is stored in the normalized field a `[fields]` entry names.

use router_plugin_sdk::json::{self, Read};
use router_plugin_sdk::names::{parse_action, parse_category};
use router_plugin_sdk::paths::{self, Field, Kind};
use router_plugin_sdk::time;
use router_plugin_sdk::types::{Decision, Event, TzSource};
use serde_json::{Map, Value};

/// A `[fields]` key, resolved.
#[derive(Clone, Copy)]
pub(crate) struct Target(Field);

impl Target {
    pub(crate) fn parse(name: &str) -> Option<Target> {
        paths::lookup(name).map(Target)
    }

    pub(crate) fn name(&self) -> &'static str {
        self.0.name
    }

    /// Stores `value`; false when it cannot be used (wrong JSON type, unparseable time).
    pub(crate) fn apply(&self, event: &mut Event, raw: &mut Map<String, Value>, value: &Value) -> bool {
        let name = self.0.name;
        let mut note = |event: &mut Event, coerced: Option<&'static str>| {
            if let Some(kind) = coerced {
                event.warnings.push(format!("{kind}:{name}"));
                raw.insert(name.to_string(), value.clone());
            }
        };
        match self.0.kind {
            Kind::Str(slot) => store(event, json::string(value), slot, &mut note),
            Kind::Num(slot) => store(event, json::number(value), slot, &mut note),
            Kind::Bool(slot) => store(event, json::boolean(value), slot, &mut note),
            Kind::Category => {
                let Some(Read { value: text, .. }) = json::string(value) else {
                    return false;
                };
                match parse_category(&text.to_ascii_lowercase()) {
                    Some(c) => event.category = c,
                    None => event.warnings.push(format!("enum_unknown:category={text}")),
                }
                true
            }
            Kind::Action => {
                let Some(Read { value: text, .. }) = json::string(value) else {
                    return false;
                };
                match parse_action(&text.to_ascii_lowercase()) {
                    Some(a) => event.action = a,
                    None => event.warnings.push(format!("enum_unknown:action={text}")),
                }
                event.vendor_event_type.get_or_insert(text);
                true
            }
            Kind::Decision => {
                let decision = match value {
                    Value::Bool(true) => Decision::Granted,
                    Value::Bool(false) => Decision::Denied,
                    Value::String(s) => match s.to_ascii_lowercase().as_str() {
                        "granted" | "allow" | "allowed" | "true" | "pass" => Decision::Granted,
                        "denied" | "deny" | "false" | "reject" | "rejected" => Decision::Denied,
                        other => {
                            event.warnings.push(format!("enum_unknown:access.decision={other}"));
                            Decision::Unknown
                        }
                    },
                    _ => return false,
                };
                if let Some(access) = paths::access(event, true) {
                    access.decision = decision;
                }
                true
            }
            Kind::OccurredAt => occurred_at(event, value),
        }
    }
}

fn store<T>(
    event: &mut Event,
    read: Option<Read<T>>,
    slot: fn(&mut Event, bool) -> Option<&mut Option<T>>,
    note: &mut impl FnMut(&mut Event, Option<&'static str>),
) -> bool {
    match read {
        Some(Read { value, coerced }) => {
            if let Some(field) = slot(event, true) {
                *field = Some(value);
            }
            note(event, coerced);
            true
        }
        None => false,
    }
}

fn occurred_at(event: &mut Event, value: &Value) -> bool {
    let parsed = match value {
        Value::Number(n) => match n.as_f64().and_then(time::from_unix) {
            Some((p, millis)) => {
                if millis {
                    event.warnings.push("unix_millis".to_string());
                }
                p
            }
            None => return false,
        },
        Value::String(s) => match time::parse(s) {
            Ok(p) => p,
            Err(why) => {
                event.warnings.push(format!("time_unparsed:{why}"));
                return false;
            }
        },
        _ => return false,
    };
    event.occurred_at = Some(parsed.to_rfc3339());
    event.occurred_at_raw = json::raw_text(value);
    event.occurred_at_tz_source = if parsed.explicit_zone {
        TzSource::Explicit
    } else {
        event.warnings.push("tz_assumed_utc".to_string());
        TzSource::AssumedUtc
    };
    true
}
