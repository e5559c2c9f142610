//! A Preservica delivery → one event per `events[]` element (VENDORS.md §8.5).

use router_plugin_sdk::event::blank;
use router_plugin_sdk::lazy;
use router_plugin_sdk::paths;
use router_plugin_sdk::reader::Reader;
use router_plugin_sdk::types::{Action, Category, Event, Identifier, PluginError, SubjectKind, TzSource};
use serde_json::Value;

fn action_of(trigger: &str) -> Option<Action> {
    Some(match trigger {
        "FULL_TEXT_INDEXED" | "INDEXED" => Action::EntityIndexed,
        "MOVED" => Action::EntityMoved,
        "CHANGED_SECURITY_DESCRIPTOR" | "SECURITY_CHANGED" => Action::EntitySecurityChanged,
        "INGEST_FAILED" => Action::EntityIngestFailed,
        "CHANGE_ASSET_VISIBILITY" => Action::EntityVisibilityChanged,
        _ => return None,
    })
}

pub(crate) fn events(body: &[u8]) -> Result<Vec<Event>, PluginError> {
    // Read lazily (see `router_plugin_sdk::lazy`); the words of a JSON error are serde_json's.
    let root = lazy::from_slice(body).map_err(|e| PluginError::InvalidInput(format!("body is not valid JSON: {e}")))?;
    let lazy::Body::Object(root) = root else {
        return Err(PluginError::InvalidInput("expected a JSON object with `events`".into()));
    };
    let mut env = Reader::lazy(root);
    let items = match env.take_array("events") {
        Some(items) => items,
        None if env.has("events") => return Err(PluginError::InvalidInput("`events` is not an array".into())),
        None => {
            return Err(PluginError::InvalidInput(
                "not a Preservica delivery: no `events` array".into(),
            ));
        }
    };
    // Envelope fields, copied into every event.
    let mut template = blank("preservica", Category::Repository, Action::Unknown);
    let trigger = env.string("trigger", "repository.trigger");
    if let Some(t) = &trigger {
        match action_of(t) {
            Some(a) => template.action = a,
            None => env.warn(format!("enum_unknown:trigger={t}")),
        }
    }
    template.vendor_product = env
        .string("version", "vendor_product")
        .map(|v| format!("preservica-{v}"));
    template.source.subscription_id = env.string("subscriptionId", "source.subscription_id");
    template.source.tenant = env.string("tenant", "source.tenant");
    let timestamp = env.peek_str("timestamp").unwrap_or("").to_string();
    env.occurred_at("timestamp", &mut template, TzSource::AssumedUtc);
    env.finish(&mut template);
    let envelope_rest: Value = serde_json::from_str(&template.extras).unwrap_or(Value::Null);

    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let lazy::Element::Object(item) = item else {
                return Err(PluginError::InvalidInput(format!("events[{i}] is not a JSON object")));
            };
            let mut e = template.clone();
            let mut r = Reader::lazy(item);
            let name = r.string("event", "vendor_event_type");
            e.vendor_event_type = Some(format!(
                "{}/{}",
                trigger.as_deref().unwrap_or(""),
                name.as_deref().unwrap_or("")
            ));
            let entity_type = r.string("entityType", "repository.entity_type");
            let entity_ref = r.string("entityRef", "repository.entity_ref");
            let identifiers = identifiers(&mut r);
            let repo = paths::repository(&mut e, true).expect("created");
            repo.entity_type = entity_type;
            repo.entity_ref = entity_ref.clone();
            repo.trigger = trigger.clone();
            repo.identifiers = identifiers;
            paths::subject(&mut e, true).expect("created").kind = SubjectKind::RepositoryEntity;
            e.dedup_key = Some(format!(
                "preservica:{}:{timestamp}:{}:{}",
                e.source.subscription_id.as_deref().unwrap_or(""),
                name.as_deref().unwrap_or(""),
                entity_ref.as_deref().unwrap_or("")
            ));
            r.finish(&mut e);
            if envelope_rest.as_object().is_some_and(|m| !m.is_empty())
                && let Ok(Value::Object(mut extras)) = serde_json::from_str::<Value>(&e.extras)
            {
                extras.insert("envelope".into(), envelope_rest.clone());
                e.extras = Value::Object(extras).to_string();
            }
            Ok(e)
        })
        .collect()
}

/// `identifiers: [{"BatchId": "x"}]` → `{type: "BatchId", value: "x"}`; other shapes stay in extras.
fn identifiers(r: &mut Reader<'_>) -> Vec<Identifier> {
    let Some(Value::Array(items)) = r.peek("identifiers").cloned() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in &items {
        match item {
            Value::Object(map) => {
                for (k, v) in map {
                    let value = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    out.push(Identifier {
                        type_: k.clone(),
                        value,
                    });
                }
            }
            _ => {
                r.warn("identifiers_unexpected_shape");
                return out;
            }
        }
    }
    r.take("identifiers");
    out
}
