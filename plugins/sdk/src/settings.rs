//! Reading a plugin's own `settings` table from router.toml.

use crate::types::PluginError;
use serde::de::DeserializeOwned;

/// Parses settings JSON (as `host::settings()` returns it) into `T`; a mismatch becomes
/// `plugin-error::bad-settings` naming the problem, so `switchyard check`-time self-tests and
/// the first request both say exactly what is wrong.
pub fn parse<T: DeserializeOwned>(json: &str) -> Result<T, PluginError> {
    serde_json::from_str(json).map_err(|e| PluginError::BadSettings(format!("invalid settings: {e}")))
}

/// Reads and parses this plugin's settings from the host.
pub fn load<T: DeserializeOwned>() -> Result<T, PluginError> {
    parse(&crate::host::settings())
}
