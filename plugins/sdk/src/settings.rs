//! Reading a plugin's own `settings` table from router.toml.

use crate::types::PluginError;
use serde::de::DeserializeOwned;

/// Parses settings JSON (as `host::settings()` returns it) into `T`; a mismatch becomes
/// `plugin-error::bad-settings` naming the problem, so `switchyard check`-time self-tests and
/// the first request both say exactly what is wrong.
pub fn parse<T: DeserializeOwned>(json: &str) -> Result<T, PluginError> {
    serde_json::from_str(json).map_err(|e| PluginError::BadSettings(e.to_string()))
}

/// Reads and parses this plugin's settings from the host.
pub fn load<T: DeserializeOwned>() -> Result<T, PluginError> {
    parse(&crate::host::settings())
}

/// `setup-api.validate-settings` for a plugin whose settings deserialize into `T`: parses
/// them and, when given, runs `check` on the result (ranges, names, combinations). The router
/// calls it at `switchyard check`, startup and reload, so write `check` as the same code the
/// calls use (usually the constructor that turns settings into the plugin's rule).
pub fn validate<T: DeserializeOwned, R>(check: impl FnOnce(T) -> Result<R, PluginError>) -> Result<(), PluginError> {
    check(load::<T>()?).map(drop)
}

/// Settings of a plugin that takes none: anything but an empty table is a mistake worth
/// reporting (usually settings written under the wrong plugin id).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoSettings {}

/// `setup-api.validate-settings` for a plugin that takes no settings.
pub fn validate_none() -> Result<(), PluginError> {
    load::<NoSettings>().map(drop).map_err(|e| match e {
        PluginError::BadSettings(m) => PluginError::BadSettings(format!("this plugin takes no settings: {m}")),
        other => other,
    })
}
