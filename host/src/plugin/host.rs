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
