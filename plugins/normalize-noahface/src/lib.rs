//! `normalize-noahface`: NoahFace Event Notification API → `router.event/v1`.
//!
//! NoahFace calls the configured URL with GET (event elements as query parameters, every value
//! a string) or PUT/POST (a JSON object), with Basic or Bearer authentication checked by the
//! router's source `auth`. Times come without a zone: `utc` is UTC by the documentation and
//! `time` the device's local wall time, from which the UTC offset is derived. Settings:
//!
//! ```toml
//! [plugins.normalize-noahface.settings]
//! message = "Thanks {firstname}"   # optional X-NOAHFACE-MESSAGE shown on the device (local sync)
//! ```
//!
//! On a source with a `decider` (world `access-normalizer`), `answer` puts the ruling's tip in
//! `X-NOAHFACE-MESSAGE` (the `message` template when the ruling has none) and the decision in
//! the JSON body.

mod map;

use router_plugin_sdk::lazy;
use router_plugin_sdk::types::{Decision, Event, Header, HttpRequest, Normalized, PluginError, Reply, Ruling};
use serde::Deserialize;
use serde_json::{Map, Value};

router_plugin_sdk::bindings!("../../wit", "access-normalizer");

use bindings::exports::router::plugin::{answer_api, normalize_api::Guest};

/// The plugin's settings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Text for the `X-NOAHFACE-MESSAGE` reply header; `{firstname}`, `{lastname}`, `{type}`
    /// are replaced from the event.
    #[serde(default)]
    pub message: Option<String>,
}

/// The event object of a request: the query (GET) or the JSON body (PUT/POST).
pub fn event_object<'a>(
    method: &str,
    query: &str,
    body: &'a [u8],
) -> Result<(lazy::Object<'a>, Vec<String>), PluginError> {
    let mut warnings = Vec::new();
    if method.eq_ignore_ascii_case("GET") {
        let mut map = Map::new();
        for (k, v) in router_plugin_sdk::query::parse(query) {
            if map.insert(k.clone(), Value::String(v)).is_some() {
                warnings.push(format!("repeated_parameter:{k}"));
            }
        }
        if map.is_empty() {
            return Err(PluginError::InvalidInput(
                "GET without query parameters: NoahFace sends the event in the query string".into(),
            ));
        }
        return Ok((lazy::Object::from_map(map), warnings));
    }
    let Some(root) = lazy::parse_body(body)? else {
        return Err(PluginError::InvalidInput(format!(
            "empty body: NoahFace {method} requests carry the event as a JSON object"
        )));
    };
    match root {
        lazy::Body::Object(obj) => Ok((obj, warnings)),
        _ => Err(PluginError::InvalidInput(
            "expected a JSON object (one NoahFace event)".into(),
        )),
    }
}

/// Normalizes one request (pure).
pub fn normalize_request(
    method: &str,
    query: &str,
    body: &[u8],
    settings: &Settings,
) -> Result<(Event, Option<Reply>), PluginError> {
    let (object, warnings) = event_object(method, query, body)?;
    if object.get("eventid").is_none() {
        return Err(PluginError::InvalidInput("not a NoahFace event: no `eventid`".into()));
    }
    let (first, last, kind) = (
        text(&object, "firstname"),
        text(&object, "lastname"),
        text(&object, "type"),
    );
    let mut event = map::event(object);
    event.warnings.extend(warnings);
    let reply = settings.message.as_ref().map(|template| {
        reply(
            Some(&fill(template, &first, &last, &kind)),
            br#"{"status":"accepted"}"#.to_vec(),
        )
    });
    Ok((event, reply))
}

fn fill(template: &str, first: &str, last: &str, kind: &str) -> String {
    template
        .replace("{firstname}", first)
        .replace("{lastname}", last)
        .replace("{type}", kind)
}

fn reply(message: Option<&str>, body: Vec<u8>) -> Reply {
    let mut headers = vec![Header {
        name: "content-type".into(),
        value: "application/json".into(),
    }];
    if let Some(message) = message {
        headers.insert(
            0,
            Header {
                name: "X-NOAHFACE-MESSAGE".into(),
                value: header_text(message),
            },
        );
    }
    Reply {
        status: 200,
        headers,
        body,
    }
}

/// A ruling as NoahFace's local-sync reply: the tip (or the `message` template) in
/// `X-NOAHFACE-MESSAGE`, which the device shows, and the decision in the body.
pub fn answer(request: &HttpRequest, ruling: &Ruling, settings: &Settings) -> Reply {
    let message = ruling.custom_tip.clone().or_else(|| {
        let template = settings.message.as_ref()?;
        let object = event_object(&request.method, &request.query, &request.body).ok()?.0;
        Some(fill(
            template,
            &text(&object, "firstname"),
            &text(&object, "lastname"),
            &text(&object, "type"),
        ))
    });
    let decision = match ruling.decision {
        Decision::Granted => "granted",
        Decision::Denied => "denied",
        Decision::Unknown => "unknown",
    };
    let body = serde_json::json!({ "status": "accepted", "decision": decision }).to_string();
    reply(message.as_deref(), body.into_bytes())
}

/// The sender's text made safe for a header value: control characters (CR, LF, DEL…), which
/// the host refuses in a reply header, become spaces. Non-ASCII letters stay: the device shows
/// names as they were enrolled.
fn header_text(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn text(v: &lazy::Object<'_>, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

struct Plugin;

impl answer_api::Guest for Plugin {
    fn answer(request: HttpRequest, _event: Event, ruling: Ruling) -> Result<Reply, PluginError> {
        let settings: Settings = router_plugin_sdk::settings::load()?;
        Ok(answer(&request, &ruling, &settings))
    }
}

impl Guest for Plugin {
    fn normalize(request: HttpRequest) -> Result<Normalized, PluginError> {
        let settings: Settings = router_plugin_sdk::settings::load()?;
        let (event, reply) = normalize_request(&request.method, &request.query, &request.body, &settings)?;
        Ok(Normalized {
            events: vec![event],
            reply,
        })
    }
}

impl bindings::exports::router::plugin::setup_api::Guest for Plugin {
    fn validate_settings() -> Result<(), PluginError> {
        router_plugin_sdk::settings::validate::<Settings, _>(Ok)
    }
}

bindings::export!(Plugin with_types_in bindings);

#[cfg(test)]
mod tests;
