//! `normalize-preservica`: Preservica (6.8+) webhooks → `router.event/v1`.
//!
//! - **Challenge**: when a subscription is created Preservica POSTs with a `challengeCode`
//!   query parameter and expects `{"challengeCode": c, "challengeResponse": hex(HMAC-SHA256(secret, c))}`.
//!   No event is produced. Every challenge is logged.
//!
//!   The answer is a MAC of caller-chosen bytes with the secret that also signs deliveries, so
//!   an unchecked challenge is a **signing oracle**: the code `"preservica-webhook-auth" +
//!   BODY` would be answered with the valid signature of BODY. A challenge code is answered
//!   only when it has the shape of a code ([`CHALLENGE_MAX_LEN`] characters at most, of
//!   `A–Z a–z 0–9 - _ . ~` — a UUID or a random token fits) and does not start with the
//!   delivery prefix; anything else is `unauthorized`. The host also rate-limits replies that
//!   carry a MAC, per source.
//! - **Delivery**: the `Preservica-Signature` header is `hex(HMAC-SHA256(secret,
//!   "preservica-webhook-auth" + raw body))`, one per request, verified over the exact bytes
//!   in constant time; a missing or wrong signature is `unauthorized` (401, quarantined,
//!   nothing forwarded). Each element of `events[]` becomes one event, envelope copied in.
//!
//! The secret never reaches the plugin: router.toml names it and the host computes the HMAC.
//!
//! ```toml
//! [plugins.normalize-preservica]
//! secrets = { hmac = { env = "PRESERVICA_SECRET" } }
//! settings = { require_signature = true }   # default
//! ```

mod map;
mod verify;

use router_plugin_sdk::types::{Event, Header, HttpRequest, Normalized, PluginError, Reply};
use serde::Deserialize;

router_plugin_sdk::bindings!("../../wit", "normalizer");

use bindings::exports::router::plugin::normalize_api::Guest;

/// The name of the secret in `[plugins.<id>.secrets]`.
pub const SECRET: &str = "hmac";

/// What every delivery signature's message starts with.
pub const DELIVERY_PREFIX: &str = "preservica-webhook-auth";

/// Longest challenge code answered (real codes are UUID-sized).
pub const CHALLENGE_MAX_LEN: usize = 128;

/// Why a challenge code is not answered, if it is not.
pub fn refuse_challenge(code: &str) -> Option<String> {
    if code.is_empty() || code.len() > CHALLENGE_MAX_LEN {
        return Some(format!(
            "challengeCode refused: it must be 1–{CHALLENGE_MAX_LEN} characters long, got {}",
            code.len()
        ));
    }
    if !code
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
    {
        return Some("challengeCode refused: only A–Z, a–z, 0–9, `-`, `_`, `.` and `~` are allowed".into());
    }
    if code.to_ascii_lowercase().starts_with(DELIVERY_PREFIX) {
        return Some(format!(
            "challengeCode refused: it starts with `{DELIVERY_PREFIX}`, the prefix of signed deliveries"
        ));
    }
    None
}

/// The plugin's settings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Refuse deliveries without a valid signature (turn off only behind another verifier).
    #[serde(default = "yes")]
    pub require_signature: bool,
}

fn yes() -> bool {
    true
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            require_signature: true,
        }
    }
}

/// The HMAC the host computes with the configured secret; a function so tests can pass one.
pub type Mac<'a> = &'a dyn Fn(&[u8]) -> Result<Vec<u8>, String>;

/// Handles one request (pure apart from `mac`).
pub fn handle(
    request: &HttpRequest,
    settings: &Settings,
    mac: Mac<'_>,
) -> Result<(Vec<Event>, Option<Reply>), PluginError> {
    let challenge = router_plugin_sdk::query::parse(&request.query)
        .into_iter()
        .find(|(k, _)| k == "challengeCode")
        .map(|(_, v)| v);
    if let Some(code) = challenge {
        if let Some(reason) = refuse_challenge(&code) {
            return Err(PluginError::Unauthorized(reason));
        }
        let response = hex(&mac(code.as_bytes()).map_err(PluginError::Unavailable)?);
        let body = serde_json::json!({ "challengeCode": code, "challengeResponse": response }).to_string();
        let reply = Reply {
            status: 200,
            headers: vec![Header {
                name: "content-type".into(),
                value: "application/json".into(),
            }],
            body: body.into_bytes(),
        };
        return Ok((Vec::new(), Some(reply)));
    }
    let mut warnings = Vec::new();
    let signature = request
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("preservica-signature"))
        .map(|h| h.value.trim().to_string());
    let verified = match (signature, settings.require_signature) {
        (Some(sig), _) => {
            verify::check(&request.body, &sig, mac, &mut warnings)?;
            Some(true)
        }
        (None, true) => return Err(PluginError::Unauthorized("missing Preservica-Signature header".into())),
        (None, false) => None,
    };
    let mut events = map::events(&request.body)?;
    for e in &mut events {
        e.delivery.signature_valid = verified;
        e.warnings.extend(warnings.iter().cloned());
    }
    Ok((events, None))
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

struct Plugin;

impl Guest for Plugin {
    fn normalize(request: HttpRequest) -> Result<Normalized, PluginError> {
        let settings: Settings = router_plugin_sdk::settings::load()?;
        let mac = |message: &[u8]| router_plugin_sdk::host::hmac_sha256(SECRET, message);
        let (events, reply) = handle(&request, &settings, &mac).inspect_err(|e| {
            if let PluginError::Unauthorized(reason) = e {
                router_plugin_sdk::host::log(router_plugin_sdk::host::Level::Warn, reason);
            }
        })?;
        if reply.is_some() {
            let peer = request.remote_addr.as_deref().unwrap_or("unknown peer");
            router_plugin_sdk::host::log(
                router_plugin_sdk::host::Level::Info,
                &format!(
                    "Answered a subscription challenge from {peer} ({}).",
                    request.delivery_id
                ),
            );
        }
        Ok(Normalized { events, reply })
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
