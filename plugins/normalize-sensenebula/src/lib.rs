//! `normalize-sensenebula`: SenseTime SenseNebula Pass face terminals → `router.event/v1`.
//!
//! One source path serves the three things a terminal sends (VENDORS.md §3):
//! - **event push** `{type, data}` — `type 0` recognition/pass, `type 1` device alarm —
//!   answered `{"code":200,"msg":"success","data":{}}` (anything else makes the device cache
//!   and resend the record);
//! - **remote authentication**: a flat body with `deviceSN` — the reply decides the door
//!   (`data.pass`, `customtips`, `verify_code`). On a source with a `decider` the ruling
//!   comes through `answer` (world `access-normalizer`); without one the policy comes from
//!   settings and the event records the router's decision;
//! - **heartbeat**: `GET` with no body every 30 s — answered 200, no event.
//!
//! ```toml
//! [plugins.normalize-sensenebula.settings]
//! remote_auth = { pass = false, customtips = "Please see reception" }   # default: deny, no tip
//! ```

mod map;

use router_plugin_sdk::types::{Action, Decision, Event, Header, HttpRequest, Normalized, PluginError, Reply, Ruling};
use serde::Deserialize;
use serde_json::{Value, json};

router_plugin_sdk::bindings!("../../wit", "access-normalizer");

use bindings::exports::router::plugin::{answer_api, normalize_api::Guest};

/// The answer to remote-authentication requests (default: deny, no tip).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteAuth {
    /// Open the door?
    #[serde(default)]
    pub pass: bool,
    /// Text shown on the terminal (the vendor recommends ≤ 10 characters).
    #[serde(default)]
    pub customtips: String,
}

/// The plugin's settings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Policy for remote-authentication requests.
    #[serde(default)]
    pub remote_auth: RemoteAuth,
}

fn reply(body: Value) -> Reply {
    Reply {
        status: 200,
        headers: vec![Header {
            name: "content-type".into(),
            value: "application/json".into(),
        }],
        body: body.to_string().into_bytes(),
    }
}

/// Handles one request (pure).
pub fn handle(
    method: &str,
    body: &[u8],
    remote_addr: Option<&str>,
    settings: &Settings,
) -> Result<(Vec<Event>, Reply), PluginError> {
    let Some(root) = router_plugin_sdk::lazy::parse_body(body)? else {
        if method.eq_ignore_ascii_case("GET") {
            // The remote-auth heartbeat: the device only needs a 200.
            return Ok((Vec::new(), reply(json!({ "code": 200, "msg": "success", "data": {} }))));
        }
        return Err(PluginError::InvalidInput(
            "empty body: expected a SenseNebula push `{type, data}` or a remote-auth request".into(),
        ));
    };
    let router_plugin_sdk::lazy::Body::Object(root) = root else {
        return Err(PluginError::InvalidInput("expected a JSON object".into()));
    };
    if root.has("type") && root.has("data") {
        let event = map::push(root, remote_addr)?;
        return Ok((vec![event], reply(json!({ "code": 200, "msg": "success", "data": {} }))));
    }
    if root.has("deviceSN") {
        let policy = &settings.remote_auth;
        let event = map::remote_auth(root, policy);
        let answer = json!({
            "code": 200,
            "msg": "success",
            "data": { "pass": policy.pass, "customtips": policy.customtips, "verify_code": if policy.pass { 2 } else { 3 } },
        });
        return Ok((vec![event], reply(answer)));
    }
    Err(PluginError::InvalidInput(
        "not a SenseNebula message: neither `{type, data}` nor a remote-auth request with `deviceSN`".into(),
    ))
}

/// `verify_code` of a remote-auth reply (VENDORS.md §3.4: 1 not activated, 2 success, 3 no
/// permission, 4 match failed, 5 outside allowed time), from the ruling's `reason`.
fn verify_code(decision: Decision, reason: Option<&str>) -> u8 {
    match (decision, reason) {
        (Decision::Granted, _) => 2,
        (_, Some("outside-hours")) => 5,
        (_, Some("stranger" | "low-score" | "not-recognised" | "match-failed")) => 4,
        (_, Some("not-activated")) => 1,
        _ => 3,
    }
}

/// A ruling in the device's reply shape: `{code, msg, data{pass, customtips, …}}`. For a
/// remote-auth request `data` also gets `verify_code` (from the ruling's `reason` unless the
/// decider set it) and the ruling's other detail fields (`user_id`, `user_name`,
/// `ic_number`, `verify_score`); a recognition push gets `pass` and `customtips`, which
/// V1.0 firmware reads from the push acknowledgement (later firmware ignores them).
pub fn answer(event: &Event, ruling: &Ruling) -> Result<Reply, PluginError> {
    let details = match serde_json::from_str::<Value>(&ruling.details) {
        Ok(Value::Object(map)) => map,
        _ if ruling.details.trim().is_empty() => Default::default(),
        _ => {
            return Err(PluginError::InvalidInput(
                "ruling `details` is not a JSON object".into(),
            ));
        }
    };
    let pass = ruling.decision == Decision::Granted;
    let tip = ruling.custom_tip.clone().unwrap_or_default();
    let mut data = serde_json::Map::new();
    if event.action == Action::AccessRequest {
        let reason = details.get("reason").and_then(Value::as_str);
        data.insert("verify_code".into(), verify_code(ruling.decision, reason).into());
        for (k, v) in details {
            if !matches!(k.as_str(), "reason" | "pass" | "customtips") {
                data.insert(k, v);
            }
        }
    }
    data.insert("pass".into(), pass.into());
    data.insert("customtips".into(), tip.into());
    Ok(reply(json!({ "code": 200, "msg": "success", "data": data })))
}

struct Plugin;

impl answer_api::Guest for Plugin {
    fn answer(_request: HttpRequest, event: Event, ruling: Ruling) -> Result<Reply, PluginError> {
        answer(&event, &ruling)
    }
}

impl Guest for Plugin {
    fn normalize(request: HttpRequest) -> Result<Normalized, PluginError> {
        let settings: Settings = router_plugin_sdk::settings::load()?;
        let (events, reply) = handle(
            &request.method,
            &request.body,
            request.remote_addr.as_deref(),
            &settings,
        )?;
        Ok(Normalized {
            events,
            reply: Some(reply),
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
