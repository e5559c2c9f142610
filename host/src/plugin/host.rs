//! The `router:plugin/host` interface: what plugins may ask of the router.

use super::bindings::wit_host::{Host, Instant, Level};
use super::state::PluginState;

/// Longest log line a plugin may write; longer ones are cut so a chatty guest cannot flood logs.
const MAX_LOG_BYTES: usize = 4096;

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
        let plugin = self.identity.id.as_str();
        match level {
            Level::Trace => tracing::trace!(plugin, "{message}"),
            Level::Debug => tracing::debug!(plugin, "{message}"),
            Level::Info => tracing::info!(plugin, "{message}"),
            Level::Warn => tracing::warn!(plugin, "{message}"),
            Level::Error => tracing::error!(plugin, "{message}"),
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
                Ok(mac.finalize().into_bytes().to_vec())
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
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, sample["http"]["headers"]["Preservica-Signature"].as_str().unwrap());
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
