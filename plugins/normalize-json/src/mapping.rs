//! From a JSON body to events, per the settings.

use crate::Settings;
use crate::fields::Target;
use router_plugin_sdk::event::blank;
use router_plugin_sdk::lazy::{self, Body, Element, Object};
use router_plugin_sdk::names::{parse_action, parse_category};
use router_plugin_sdk::paths::names;
use router_plugin_sdk::reader::Reader;
use router_plugin_sdk::types::{Action, Category, Event, PluginError};
use serde_json::{Map, Value};

/// Normalizes a whole body.
pub(crate) fn normalize(settings: &Settings, body: &[u8], source_id: &str) -> Result<Vec<Event>, PluginError> {
    let fields = compile_fields(settings)?;
    let default_category = match &settings.category {
        Some(name) => parse_category(name).ok_or_else(|| bad(format!("unknown category `{name}`")))?,
        None => Category::Unknown,
    };
    let default_action = match &settings.action {
        Some(name) => parse_action(name).ok_or_else(|| bad(format!("unknown action `{name}`")))?,
        None => Action::Unknown,
    };
    // Read lazily (`router_plugin_sdk::lazy`): only the mapped paths are parsed, the rest is
    // copied into extras as text.
    let Some(root) = lazy::parse_body(body)? else {
        return Err(PluginError::InvalidInput(
            "empty body: expected a JSON object or array".into(),
        ));
    };
    let (items, envelope) = split_envelope(root, settings.events.as_deref(), body)?;
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            let Element::Object(item) = item else {
                return Err(PluginError::InvalidInput(format!("event {index} is not a JSON object")));
            };
            let mut event = blank(&settings.vendor, default_category, default_action);
            event.vendor_product = settings.vendor_product.clone();
            map_one(&fields, item, envelope.as_ref(), &mut event);
            if event.dedup_key.is_none() {
                event.dedup_key = event
                    .vendor_event_id
                    .as_ref()
                    .map(|id| format!("{}:{source_id}:{id}", settings.vendor));
            }
            Ok(event)
        })
        .collect()
}

fn bad(message: String) -> PluginError {
    PluginError::BadSettings(message)
}

fn compile_fields(settings: &Settings) -> Result<Vec<(Target, String)>, PluginError> {
    settings
        .fields
        .iter()
        .map(|(target, path)| {
            Target::parse(target).map(|t| (t, path.clone())).ok_or_else(|| {
                bad(format!(
                    "unknown normalized field `{target}`; known: {}",
                    names().collect::<Vec<_>>().join(", ")
                ))
            })
        })
        .collect()
}

/// The events and, when they sit inside an envelope, the envelope's other members.
fn split_envelope<'a>(
    root: Body<'a>,
    events_path: Option<&str>,
    body: &[u8],
) -> Result<(Vec<Element<'a>>, Option<Value>), PluginError> {
    match (events_path, root) {
        (None, Body::Array(items)) => Ok((items, None)),
        (None, Body::Object(object)) => Ok((vec![Element::Object(object)], None)),
        (Some(path), Body::Object(root)) => {
            let mut root = Reader::lazy(root);
            let items = match root.take_array(path) {
                Some(items) => items,
                None => match root.take_object(path) {
                    Some(object) => vec![Element::Object(object)],
                    None if root.take_value(path).is_some() => {
                        return Err(PluginError::InvalidInput(format!("`{path}` is not an array of events")));
                    }
                    None => {
                        return Err(PluginError::InvalidInput(format!(
                            "no `{path}` member holding the events"
                        )));
                    }
                },
            };
            Ok((items, Some(root.into_rest().to_value())))
        }
        (_, other) => {
            let found = match other {
                Body::Array(_) => "an array",
                Body::Object(_) => "an object",
                // A scalar body is rare and refused: parsed again only to name its kind.
                Body::Scalar => router_plugin_sdk::json::parse_body(body)
                    .ok()
                    .flatten()
                    .map_or("a scalar", |v| kind(&v)),
            };
            Err(PluginError::InvalidInput(format!(
                "expected a JSON object or array, found {found}"
            )))
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn map_one(fields: &[(Target, String)], item: Object<'_>, envelope: Option<&Value>, event: &mut Event) {
    let mut raw = Map::new();
    let mut item = Reader::lazy(item);
    for (target, path) in fields {
        let Some(value) = item.take_value(path) else {
            continue;
        };
        if !target.apply(event, &mut raw, &value) {
            // Unusable value (wrong type, unknown enum): keep it where it was, and say so.
            event.warnings.push(format!("unmapped:{}", target.name()));
            item.put_back(path, value);
        }
    }
    if let Some(env) = envelope.filter(|e| e.as_object().is_some_and(|m| !m.is_empty())) {
        item.put_back("envelope", env.clone());
    }
    // Leftovers become extras (URL credentials masked, as every normalizer does).
    item.finish(event);
    event.fields_raw = Value::Object(raw).to_string();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn settings(fields: &[(&str, &str)]) -> Settings {
        Settings {
            vendor: "acme".into(),
            vendor_product: None,
            events: None,
            category: Some("access".into()),
            action: None,
            fields: fields
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn object_and_array_bodies() {
        let s = settings(&[("vendor_event_id", "id")]);
        assert_eq!(normalize(&s, br#"{"id": 1}"#, "src").unwrap().len(), 1);
        assert_eq!(normalize(&s, br#"[{"id": 1}, {"id": 2}]"#, "src").unwrap().len(), 2);
        assert!(normalize(&s, b"[]", "src").unwrap().is_empty());
    }

    #[test]
    fn maps_fields_and_keeps_the_rest_in_extras() {
        let s = settings(&[
            ("vendor_event_id", "id"),
            ("occurred_at", "time"),
            ("subject.person_id", "person.id"),
            ("match.score", "score"),
        ]);
        let body = br#"{"id": 4362414227458589462, "time": "2024-05-29 10:48:27.364000+00:00", "person": {"id": "p1", "name": "Ana"}, "score": "0.93", "door": 3}"#;
        let ev = &normalize(&s, body, "src").unwrap()[0];
        assert_eq!(ev.vendor_event_id.as_deref(), Some("4362414227458589462"));
        assert_eq!(ev.occurred_at.as_deref(), Some("2024-05-29T10:48:27.364Z"));
        assert_eq!(ev.subject.as_ref().unwrap().person_id.as_deref(), Some("p1"));
        assert_eq!(ev.match_.as_ref().unwrap().score, Some(0.93));
        assert_eq!(ev.category, Category::Access);
        assert_eq!(ev.dedup_key.as_deref(), Some("acme:src:4362414227458589462"));
        let extras: Value = serde_json::from_str(&ev.extras).unwrap();
        assert_eq!(extras, serde_json::json!({"person": {"name": "Ana"}, "door": 3}));
        assert!(
            ev.warnings.contains(&"number_from_string:match.score".to_string()),
            "{:?}",
            ev.warnings
        );
        let raw: Value = serde_json::from_str(&ev.fields_raw).unwrap();
        assert_eq!(raw["match.score"], "0.93");
    }

    #[test]
    fn envelope_members_travel_with_each_event() {
        let mut s = settings(&[("vendor_event_id", "id")]);
        s.events = Some("items".into());
        let evs = normalize(&s, br#"{"site": "north", "items": [{"id": "a"}, {"id": "b"}]}"#, "src").unwrap();
        assert_eq!(evs.len(), 2);
        let extras: Value = serde_json::from_str(&evs[1].extras).unwrap();
        assert_eq!(extras["envelope"]["site"], "north");
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let s = settings(&[]);
        let msg = |r: Result<Vec<Event>, PluginError>| match r {
            Err(PluginError::InvalidInput(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(msg(normalize(&s, b"{\"a\":1,}", "src")).contains("not valid JSON"));
        assert!(msg(normalize(&s, b"  ", "src")).contains("empty body"));
        assert!(msg(normalize(&s, b"42", "src")).contains("found a number"));
        assert!(msg(normalize(&s, b"[1]", "src")).contains("event 0 is not a JSON object"));
    }

    #[test]
    fn envelope_paths_that_hold_no_events_are_named() {
        let mut s = settings(&[]);
        s.events = Some("data.items".into());
        let msg = |body: &[u8]| match normalize(&s, body, "src") {
            Err(PluginError::InvalidInput(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            msg(br#"{"data": {"items": 5}}"#),
            "`data.items` is not an array of events"
        );
        assert_eq!(
            msg(br#"{"data": {"items": null}}"#),
            "`data.items` is not an array of events"
        );
        assert_eq!(msg(br#"{"data": {}}"#), "no `data.items` member holding the events");
        assert_eq!(msg(b"[]"), "expected a JSON object or array, found an array");
        // One object instead of an array is one event; the envelope keeps what is left.
        let evs = normalize(&s, br#"{"site": 1, "data": {"items": {"id": "a"}, "page": 2}}"#, "src").unwrap();
        let extras: Value = serde_json::from_str(&evs[0].extras).unwrap();
        assert_eq!(
            extras,
            serde_json::json!({"id": "a", "envelope": {"site": 1, "data": {"page": 2}}})
        );
    }

    #[test]
    fn extras_keep_the_senders_text_without_credentials() {
        let s = settings(&[("vendor_event_id", "id")]);
        let body = br#"{"id": "7", "big": 12345678901234567890123, "cam": {"url": "rtsp://admin:pw@10.0.0.5/s"}}"#;
        let ev = &normalize(&s, body, "src").unwrap()[0];
        assert_eq!(
            ev.extras,
            r#"{"big":12345678901234567890123,"cam":{"url":"rtsp://***@10.0.0.5/s"}}"#
        );
        // A null mapped field is handed to the mapping like any value: unusable, so it stays
        // where it was and is flagged (as with the tree reader).
        let s = settings(&[("match.score", "score")]);
        let ev = &normalize(&s, br#"{"score": null, "k": 1}"#, "src").unwrap()[0];
        assert_eq!(ev.extras, r#"{"score":null,"k":1}"#);
        assert!(ev.warnings.contains(&"unmapped:match.score".to_string()));
    }

    #[test]
    fn unknown_enum_values_stay_visible() {
        let s = settings(&[("action", "kind"), ("category", "cat")]);
        let ev = &normalize(&s, br#"{"kind": "teleported", "cat": "access"}"#, "src").unwrap()[0];
        assert_eq!(ev.action, Action::Unknown);
        assert_eq!(ev.vendor_event_type.as_deref(), Some("teleported"));
        assert!(ev.warnings.contains(&"enum_unknown:action=teleported".to_string()));
    }

    #[test]
    fn unusable_values_stay_in_extras() {
        let s = settings(&[("match.score", "score")]);
        let ev = &normalize(&s, br#"{"score": {"nested": true}}"#, "src").unwrap()[0];
        assert!(ev.match_.is_none());
        assert!(ev.extras.contains("nested"));
        assert!(ev.warnings.contains(&"unmapped:match.score".to_string()));
    }

    #[test]
    fn zoneless_times_are_assumed_utc_and_flagged() {
        let s = settings(&[("occurred_at", "t")]);
        let ev = &normalize(&s, br#"{"t": "2018-12-21 21:03:47"}"#, "src").unwrap()[0];
        assert_eq!(ev.occurred_at.as_deref(), Some("2018-12-21T21:03:47Z"));
        assert!(ev.warnings.contains(&"tz_assumed_utc".to_string()));
        let ev = &normalize(&s, br#"{"t": 1660625866}"#, "src").unwrap()[0];
        assert_eq!(ev.occurred_at.as_deref(), Some("2022-08-16T04:57:46Z"));
        assert_eq!(ev.occurred_at_raw.as_deref(), Some("1660625866"));
    }
}
