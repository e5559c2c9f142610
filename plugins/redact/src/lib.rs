//! `redact`: a transform that removes or masks sensitive values before events leave the router.
//!
//! Typical targets: credentials inside camera RTSP URLs (FindFace sends the full camera object,
//! password included), ID-document numbers, card numbers. Settings:
//!
//! ```toml
//! [plugins.redact.settings]
//! fields = ["subject.id_document_number", "extras.camera.url"]  # schema names, or extras./fields_raw. paths
//! mode = "mask"            # or "remove" (default: mask)
//! mask = "***"             # replacement text (default: ***)
//! keep_last = 4            # keep this many trailing characters when masking (default: 0)
//! url_credentials = true   # mask user:password@ in every URL-like string (default: true)
//! ```

use router_plugin_sdk::paths::{self, Kind};
use router_plugin_sdk::types::{Event, PluginError};
use router_plugin_sdk::url;
use serde::Deserialize;
use serde_json::Value;

router_plugin_sdk::bindings!("../../wit", "transform");

use bindings::exports::router::plugin::transform_api::Guest;

/// What happens to a named value.
#[derive(Debug, Default, Clone, Copy, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Replace it with `mask` (numbers and booleans are removed: they cannot hold a mask).
    #[default]
    Mask,
    /// Remove it.
    Remove,
}

/// The plugin's settings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Field names to redact.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Mask or remove.
    #[serde(default)]
    pub mode: Mode,
    /// Replacement text.
    #[serde(default = "default_mask")]
    pub mask: String,
    /// Trailing characters kept visible when masking.
    #[serde(default)]
    pub keep_last: usize,
    /// Mask URL user-info everywhere.
    #[serde(default = "default_true")]
    pub url_credentials: bool,
}

fn default_mask() -> String {
    "***".to_string()
}

fn default_true() -> bool {
    true
}

enum Target {
    Typed(paths::Field),
    Json { extras: bool, path: String },
}

/// Validated settings.
pub struct Redactor {
    targets: Vec<Target>,
    mode: Mode,
    mask: String,
    keep_last: usize,
    url_credentials: bool,
}

impl Redactor {
    /// Validates settings; an unknown field name is an error naming it.
    pub fn new(settings: Settings) -> Result<Redactor, PluginError> {
        let targets = settings
            .fields
            .iter()
            .map(|name| {
                if let Some(path) = name.strip_prefix("extras.") {
                    Ok(Target::Json { extras: true, path: path.to_string() })
                } else if let Some(path) = name.strip_prefix("fields_raw.") {
                    Ok(Target::Json { extras: false, path: path.to_string() })
                } else {
                    match paths::lookup(name) {
                        Some(field @ paths::Field { kind: Kind::Str(_) | Kind::Num(_) | Kind::Bool(_), .. }) => Ok(Target::Typed(field)),
                        Some(_) => Err(PluginError::BadSettings(format!("`{name}` cannot be redacted (it is an enum or time, not a value)"))),
                        None => Err(PluginError::BadSettings(format!("unknown field `{name}` in `fields`: use a schema name such as subject.card_number, or extras.<path>"))),
                    }
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Redactor {
            targets,
            mode: settings.mode,
            mask: settings.mask,
            keep_last: settings.keep_last,
            url_credentials: settings.url_credentials,
        })
    }

    fn masked(&self, text: &str) -> String {
        let count = text.chars().count();
        if self.keep_last == 0 || count <= self.keep_last {
            return self.mask.clone();
        }
        let tail: String = text.chars().skip(count - self.keep_last).collect();
        format!("{}{tail}", self.mask)
    }

    /// Redacts one event in place.
    pub fn apply(&self, event: &mut Event) -> Result<(), PluginError> {
        let mut extras = parse_object(&event.extras, "extras")?;
        let mut raw = parse_object(&event.fields_raw, "fields_raw")?;
        for target in &self.targets {
            match target {
                Target::Typed(field) => self.typed(event, *field),
                Target::Json { extras: true, path } => self.json(&mut extras, path),
                Target::Json { extras: false, path } => self.json(&mut raw, path),
            }
        }
        if self.url_credentials {
            let mask = &self.mask;
            scrub(&mut extras, mask);
            scrub(&mut raw, mask);
            for media in &mut event.media {
                if let Some(u) = &mut media.url {
                    *u = url::redact_credentials(u, mask);
                }
            }
            for field in paths::all() {
                if let Kind::Str(slot) = field.kind
                    && let Some(Some(text)) = slot(event, false)
                {
                    *text = url::redact_credentials(text, mask);
                }
            }
        }
        event.extras = extras.to_string();
        event.fields_raw = raw.to_string();
        Ok(())
    }

    fn typed(&self, event: &mut Event, field: paths::Field) {
        match field.kind {
            Kind::Str(slot) => {
                if let Some(value) = slot(event, false) {
                    *value = match (self.mode, value.take()) {
                        (Mode::Mask, Some(text)) => Some(self.masked(&text)),
                        _ => None,
                    };
                }
            }
            Kind::Num(slot) => {
                if let Some(value) = slot(event, false) {
                    *value = None;
                }
            }
            Kind::Bool(slot) => {
                if let Some(value) = slot(event, false) {
                    *value = None;
                }
            }
            _ => {}
        }
    }

    fn json(&self, root: &mut Value, path: &str) {
        let Some(removed) = router_plugin_sdk::json::take(root, path) else {
            return;
        };
        if self.mode == Mode::Mask
            && let Some(map) = root.as_object_mut()
        {
            let text = match &removed {
                Value::String(s) => self.masked(s),
                _ => self.mask.clone(),
            };
            router_plugin_sdk::json::set(map, path, Value::String(text));
        }
    }
}

fn parse_object(text: &str, what: &str) -> Result<Value, PluginError> {
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) | Err(_) => Err(PluginError::InvalidInput(format!(
            "event `{what}` is not a JSON object"
        ))),
    }
}

fn scrub(value: &mut Value, mask: &str) {
    match value {
        Value::String(s) => *s = url::redact_credentials(s, mask),
        Value::Array(items) => items.iter_mut().for_each(|v| scrub(v, mask)),
        Value::Object(map) => map.values_mut().for_each(|v| scrub(v, mask)),
        _ => {}
    }
}

struct Plugin;

impl Guest for Plugin {
    fn transform(mut event: Event) -> Result<Vec<Event>, PluginError> {
        let redactor = Redactor::new(router_plugin_sdk::settings::load()?)?;
        redactor.apply(&mut event)?;
        Ok(vec![event])
    }
}

impl bindings::exports::router::plugin::setup_api::Guest for Plugin {
    fn validate_settings() -> Result<(), PluginError> {
        router_plugin_sdk::settings::validate(Redactor::new)
    }
}

bindings::export!(Plugin with_types_in bindings);

#[cfg(test)]
mod tests;
