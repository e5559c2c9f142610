//! The `router:plugin/host` interface: what plugins may ask of the router.
//!
//! `hmac-sha256` keys a MAC with a secret the plugin never sees. A MAC that goes back to the
//! caller is a **signing oracle** if the caller chose the bytes (a challenge handshake), so the
//! host remembers the MACs of each call and flags a reply that carries one
//! ([`reply_carries`]); ingest logs every such reply and rate-limits them per source.

use super::bindings::wit_host::{Host, Instant, Level};
use super::state::PluginState;

/// Longest log line a plugin may write; longer ones are cut so a chatty guest cannot flood
/// logs (and a call's lines are capped like its stdout: `output::Output::may_log`).
const MAX_LOG_BYTES: usize = 4096;
/// MACs remembered per call for [`reply_carries`].
const MAX_REMEMBERED_MACS: usize = 16;

/// Whether `reply` (body or a header value) carries one of `macs` in a usual text encoding:
/// hex (either case) or base64 (standard or URL-safe, padded or not), or as raw bytes.
pub(crate) fn reply_carries(reply: &super::Reply, macs: &[Vec<u8>]) -> bool {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let contains = |hay: &[u8], needle: &[u8]| !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle);
    macs.iter().any(|mac| {
        let hex = crate::digest::hex(mac);
        let forms = [
            mac.clone(),
            hex.clone().into_bytes(),
            hex.to_ascii_uppercase().into_bytes(),
            STANDARD_NO_PAD.encode(mac).into_bytes(),
            URL_SAFE_NO_PAD.encode(mac).into_bytes(),
        ];
        forms
            .iter()
            .any(|form| contains(&reply.body, form) || reply.headers.iter().any(|(_, v)| contains(v.as_bytes(), form)))
    })
}

impl Host for PluginState {
    fn log(&mut self, level: Level, message: String) {
        let mut message = message;
        if message.len() > MAX_LOG_BYTES {
            let mut cut = MAX_LOG_BYTES;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        if !self.output.may_log() {
            if matches!(level, Level::Error) {
                self.output.last_error = Some(message);
            }
            return;
        }
        let plugin = self.identity.id.as_str();
        match level {
            Level::Trace => tracing::trace!(plugin, "{message}"),
            Level::Debug => tracing::debug!(plugin, "{message}"),
            Level::Info => tracing::info!(plugin, "{message}"),
            Level::Warn => tracing::warn!(plugin, "{message}"),
            Level::Error => {
                tracing::error!(plugin, "{message}");
                // Quoted in the trap report if the call dies next (a Rust panic logs its
                // message here just before it aborts).
                self.output.last_error = Some(message);
            }
        }
    }

    fn settings(&mut self) -> String {
        self.identity.settings.clone()
    }

    fn hmac_sha256(&mut self, key: String, message: Vec<u8>) -> Result<Vec<u8>, String> {
        use hmac::Mac;
        match self.identity.secrets.get(&key) {
            None => Err(format!(
                "no secret named `{key}` is configured for plugin `{}` ([plugins.{}.secrets])",
                self.identity.id, self.identity.id
            )),
            Some(Err(reason)) => Err(format!("secret `{key}` is unavailable: {reason}")),
            Some(Ok(secret)) => {
                let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).map_err(|e| e.to_string())?;
                mac.update(&message);
                let mac = mac.finalize().into_bytes().to_vec();
                // Bounded: a guest verifying in a loop keeps only its latest MACs.
                if self.macs.len() >= MAX_REMEMBERED_MACS {
                    self.macs.remove(0);
                }
                self.macs.push(mac.clone());
                Ok(mac)
            }
        }
    }

    fn now(&mut self) -> Instant {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Instant {
            seconds: now.as_secs() as i64,
            nanoseconds: now.subsec_nanos(),
        }
    }
}

// `types` holds only types; its generated `Host` trait has no methods.
impl super::bindings::wit::Host for PluginState {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::state::Identity;
    use std::sync::Arc;

    fn state(secrets: crate::plugin::Secrets) -> PluginState {
        let identity = Arc::new(Identity {
            id: "p".into(),
            settings: "{}".into(),
            secrets,
            roster: None,
        });
        PluginState::new(identity, 1 << 20)
    }

    #[test]
    fn hmac_matches_a_real_preservica_signature() {
        let sample: serde_json::Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/samples/preservica-indexed-signed-request.json"
        ))
        .unwrap();
        let secret = sample["test_secret"].as_str().unwrap().as_bytes().to_vec();
        let mut s = state([("hmac".to_string(), Ok(secret))].into_iter().collect());
        let message = format!("preservica-webhook-auth{}", sample["raw_body"].as_str().unwrap());
        let mac = s.hmac_sha256("hmac".into(), message.into_bytes()).unwrap();
        assert_eq!(
            crate::digest::hex(&mac),
            sample["http"]["headers"]["Preservica-Signature"].as_str().unwrap()
        );
    }

    #[test]
    fn replies_carrying_a_mac_of_the_call_are_recognised() {
        let mut s = state([("hmac".to_string(), Ok(b"secret".to_vec()))].into_iter().collect());
        let mac = s.hmac_sha256("hmac".into(), b"challenge".to_vec()).unwrap();
        let hex = crate::digest::hex(&mac);
        let reply = |body: String, headers: Vec<(String, String)>| crate::plugin::Reply {
            status: 200,
            headers,
            body: body.into_bytes(),
        };
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&mac);
        assert!(reply_carries(&reply(format!("{{\"r\":\"{hex}\"}}"), vec![]), &s.macs));
        assert!(reply_carries(&reply(hex.to_uppercase(), vec![]), &s.macs));
        assert!(reply_carries(
            &reply(String::new(), vec![("x-sig".into(), b64)]),
            &s.macs
        ));
        assert!(!reply_carries(&reply("{\"ok\":true}".into(), vec![]), &s.macs));
        assert!(!reply_carries(&reply(hex, vec![]), &[]), "no MAC computed in this call");
    }

    #[test]
    fn missing_secrets_are_named_never_shown() {
        let mut s = state(
            [("hmac".to_string(), Err("environment variable X is not set".to_string()))]
                .into_iter()
                .collect(),
        );
        assert_eq!(
            s.hmac_sha256("hmac".into(), vec![]).unwrap_err(),
            "secret `hmac` is unavailable: environment variable X is not set"
        );
        assert!(
            s.hmac_sha256("other".into(), vec![])
                .unwrap_err()
                .contains("no secret named `other`")
        );
    }
}
