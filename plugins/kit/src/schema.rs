//! A plugin's settings schema: declared once by its author in `switchyard-plugin.toml`
//! (`[settings.<key>]` tables), written into the component by `plugin build` as a custom
//! section, and enforced by the router for every language before the plugin's own
//! `validate-settings` runs. The router also fills in the declared defaults, so a plugin
//! reads complete settings of the declared types.
//!
//! ```toml
//! [settings.min_score]
//! type = "number"
//! default = 0.8
//! min = 0
//! max = 1
//! doc = "Recognitions that matched below this score are dropped."
//! ```
//!
//! Types: `string`, `integer`, `number` (an integer or a float), `boolean`, `table` (any
//! table, passed on as it is) and `list<T>` of any of those. `values` lists the strings a
//! `string` (or `list<string>`) may hold; `min`/`max` bound a number, an integer or the
//! length of a list; `required = true` refuses a missing key; `default` fills one in.
//!
//! Why a custom section and not the manifest alone: the .wasm file is what ships (a vendor's
//! module, a copied build), and the schema must travel with it.

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// The custom section's name.
pub const SECTION: &str = "switchyard:settings-schema";

/// The section's format version (its JSON carries it, so a later router can read older ones).
const FORMAT: u32 = 1;

/// What each setting may be.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    /// The settings by key.
    #[serde(default)]
    pub settings: BTreeMap<String, Setting>,
}

/// One declared setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    /// `string`, `integer`, `number`, `boolean`, `table` or `list<…>` of one of them.
    #[serde(rename = "type")]
    pub ty: Type,
    /// Refuse the plugin's settings without this key.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// The value the plugin gets when the key is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// The strings allowed (for `string` and `list<string>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
    /// The lowest number allowed (the shortest length, for a list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// The highest number allowed (the longest length, for a list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// What the setting does, for `plugin inspect` and the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A setting's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// A single value.
    Scalar(Scalar),
    /// A list of values of one type.
    List(Scalar),
}

/// A single value's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    /// Text.
    String,
    /// A whole number.
    Integer,
    /// A whole or fractional number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// Any table, passed on unchecked.
    Table,
}

impl Scalar {
    const ALL: [Scalar; 5] = [
        Scalar::String,
        Scalar::Integer,
        Scalar::Number,
        Scalar::Boolean,
        Scalar::Table,
    ];

    fn name(self) -> &'static str {
        match self {
            Scalar::String => "string",
            Scalar::Integer => "integer",
            Scalar::Number => "number",
            Scalar::Boolean => "boolean",
            Scalar::Table => "table",
        }
    }

    /// "a string", "an integer", …: how a message names it.
    fn article(self) -> &'static str {
        match self {
            Scalar::String => "a string",
            Scalar::Integer => "an integer",
            Scalar::Number => "a number",
            Scalar::Boolean => "true or false",
            Scalar::Table => "a table",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Scalar::String => "strings",
            Scalar::Integer => "integers",
            Scalar::Number => "numbers",
            Scalar::Boolean => "booleans",
            Scalar::Table => "tables",
        }
    }

    fn matches(self, v: &Value) -> bool {
        match self {
            Scalar::String => v.is_string(),
            Scalar::Integer => v.is_i64() || v.is_u64(),
            Scalar::Number => v.is_number(),
            Scalar::Boolean => v.is_boolean(),
            Scalar::Table => v.is_object(),
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Scalar(s) => f.write_str(s.name()),
            Type::List(s) => write!(f, "list<{}>", s.name()),
        }
    }
}

impl std::str::FromStr for Type {
    type Err = String;
    fn from_str(text: &str) -> Result<Type, String> {
        let scalar = |name: &str| Scalar::ALL.into_iter().find(|s| s.name() == name.trim());
        let inner = text
            .trim()
            .strip_prefix("list<")
            .and_then(|rest| rest.strip_suffix('>'));
        let found = match inner {
            Some(item) => scalar(item).map(Type::List),
            None => scalar(text).map(Type::Scalar),
        };
        found.ok_or_else(|| {
            format!(
                "unknown settings type `{text}`; expected string, integer, number, boolean, table or list<…> of one of them"
            )
        })
    }
}

impl Serialize for Type {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Type {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Type, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One thing wrong with a plugin's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The top-level key it concerns (where the router.toml line comes from); `None` for a
    /// missing required key.
    pub key: Option<String>,
    /// What is wrong, naming the key path (`ignore_cameras[2]`).
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Schema {
    /// Whether it declares nothing (a project without `[settings]`: nothing is enforced).
    pub fn is_empty(&self) -> bool {
        self.settings.is_empty()
    }

    /// Checks the schema itself: every default and `values` entry fits its setting, `values`
    /// only on strings, `min`/`max` only on numbers and lists. `plugin build` refuses a schema
    /// that fails here, so a component never carries one.
    pub fn validate(&self) -> anyhow::Result<()> {
        for (key, s) in &self.settings {
            if key.is_empty() {
                bail!("a setting needs a name");
            }
            let item = match s.ty {
                Type::Scalar(item) | Type::List(item) => item,
            };
            if s.values.is_some() && item != Scalar::String {
                bail!(
                    "setting `{key}`: `values` applies to string settings only, this one is {}",
                    s.ty
                );
            }
            if (s.min.is_some() || s.max.is_some())
                && !matches!(s.ty, Type::Scalar(Scalar::Integer | Scalar::Number) | Type::List(_))
            {
                bail!(
                    "setting `{key}`: `min`/`max` apply to numbers and lists only, this one is {}",
                    s.ty
                );
            }
            if let (Some(min), Some(max)) = (s.min, s.max)
                && min > max
            {
                bail!("setting `{key}`: min {min} is above max {max}");
            }
            if s.required && s.default.is_some() {
                bail!("setting `{key}`: a required setting has no default (drop one of them)");
            }
            if let Some(default) = &s.default {
                let mut problems = Vec::new();
                s.check(key, default, &mut problems);
                if let Some(p) = problems.first() {
                    bail!("setting `{key}`: its default does not fit: {p}");
                }
            }
        }
        Ok(())
    }

    /// Checks `given` (the `[plugins.<id>.settings]` table as JSON) and returns it with the
    /// declared defaults filled in, or every problem found.
    pub fn apply(&self, given: &Value) -> Result<Value, Vec<Problem>> {
        let empty = serde_json::Map::new();
        let given = match given {
            Value::Object(map) => map,
            Value::Null => &empty,
            other => {
                return Err(vec![Problem {
                    key: None,
                    message: format!("settings must be a table, found {}", found(other)),
                }]);
            }
        };
        let mut problems = Vec::new();
        for (key, value) in given {
            match self.settings.get(key) {
                Some(setting) => setting.check(key, value, &mut problems),
                None => problems.push(Problem {
                    key: Some(key.clone()),
                    message: self.unknown(key),
                }),
            }
        }
        let mut out = given.clone();
        for (key, setting) in &self.settings {
            if given.contains_key(key) {
                continue;
            }
            match &setting.default {
                Some(default) => {
                    out.insert(key.clone(), default.clone());
                }
                None if setting.required => problems.push(Problem {
                    key: None,
                    message: format!("setting `{key}` is required ({}{})", setting.ty, doc_suffix(setting)),
                }),
                None => {}
            }
        }
        if problems.is_empty() {
            Ok(Value::Object(out))
        } else {
            Err(problems)
        }
    }

    fn unknown(&self, key: &str) -> String {
        let names: Vec<String> = self.settings.keys().map(|k| format!("`{k}`")).collect();
        let near = self
            .settings
            .keys()
            .filter(|k| distance(k, key) <= 2)
            .min_by_key(|k| distance(k, key));
        match near {
            Some(near) => format!("unknown setting `{key}` (did you mean `{near}`?)"),
            None => format!(
                "unknown setting `{key}`; this plugin's settings are {}",
                names.join(", ")
            ),
        }
    }

    /// The section's bytes: JSON with a format version.
    pub fn to_section(&self) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({ "format": FORMAT, "settings": self.settings }))
            .expect("a schema serializes")
    }

    /// Parses a section's bytes.
    pub fn from_section(bytes: &[u8]) -> anyhow::Result<Schema> {
        #[derive(Deserialize)]
        struct Section {
            format: u32,
            #[serde(default)]
            settings: BTreeMap<String, Setting>,
        }
        let section: Section = serde_json::from_slice(bytes).context("its settings schema is not valid")?;
        if section.format != FORMAT {
            bail!(
                "its settings schema has format {}, this router reads format {FORMAT}; use a newer router",
                section.format
            );
        }
        Ok(Schema {
            settings: section.settings,
        })
    }
}

fn doc_suffix(s: &Setting) -> String {
    s.doc.as_ref().map(|d| format!(": {d}")).unwrap_or_default()
}

impl Setting {
    fn check(&self, path: &str, v: &Value, problems: &mut Vec<Problem>) {
        let key = path.split(['[', '.']).next().unwrap_or(path).to_string();
        let mut problem = |message: String| {
            problems.push(Problem {
                key: Some(key.clone()),
                message,
            })
        };
        match self.ty {
            Type::Scalar(s) => {
                if !s.matches(v) {
                    problem(format!("setting `{path}` must be {}, found {}", s.article(), found(v)));
                    return;
                }
                if let Some(message) = self.bounds(path, v) {
                    problem(message);
                }
            }
            Type::List(s) => {
                let Some(items) = v.as_array() else {
                    problem(format!(
                        "setting `{path}` must be a list of {}, found {}",
                        s.plural(),
                        found(v)
                    ));
                    return;
                };
                let len = items.len() as f64;
                if let Some(min) = self.min.filter(|m| len < *m) {
                    problem(format!(
                        "setting `{path}` needs at least {min} entries, found {}",
                        items.len()
                    ));
                }
                if let Some(max) = self.max.filter(|m| len > *m) {
                    problem(format!(
                        "setting `{path}` takes at most {max} entries, found {}",
                        items.len()
                    ));
                }
                for (i, item) in items.iter().enumerate() {
                    let at = format!("{path}[{i}]");
                    if !s.matches(item) {
                        problem(format!("setting `{at}` must be {}, found {}", s.article(), found(item)));
                    } else if let Some(message) = self.allowed(&at, item) {
                        problem(message);
                    }
                }
            }
        }
    }

    /// `values`, `min` and `max` of a single value.
    fn bounds(&self, path: &str, v: &Value) -> Option<String> {
        if let Some(message) = self.allowed(path, v) {
            return Some(message);
        }
        let n = v.as_f64()?;
        match (self.min, self.max) {
            (Some(min), Some(max)) if !(min..=max).contains(&n) => {
                Some(format!("setting `{path}` must be within {min}..{max}, found {n}"))
            }
            (Some(min), None) if n < min => Some(format!("setting `{path}` must be at least {min}, found {n}")),
            (None, Some(max)) if n > max => Some(format!("setting `{path}` must be at most {max}, found {n}")),
            _ => None,
        }
    }

    fn allowed(&self, path: &str, v: &Value) -> Option<String> {
        let (values, text) = (self.values.as_ref()?, v.as_str()?);
        if values.iter().any(|a| a == text) {
            return None;
        }
        let list: Vec<String> = values.iter().map(|a| format!("{a:?}")).collect();
        Some(format!(
            "setting `{path}` must be one of {}, found {text:?}",
            list.join(", ")
        ))
    }

    /// One line for `plugin inspect` and the docs: type, bounds, default, doc.
    pub fn summary(&self) -> String {
        let mut out = self.ty.to_string();
        if self.required {
            out.push_str(", required");
        }
        if let Some(values) = &self.values {
            let list: Vec<String> = values.iter().map(|a| format!("{a:?}")).collect();
            out.push_str(&format!(", one of {}", list.join(" | ")));
        }
        match (self.min, self.max) {
            (Some(min), Some(max)) => out.push_str(&format!(", {min}..{max}")),
            (Some(min), None) => out.push_str(&format!(", ≥ {min}")),
            (None, Some(max)) => out.push_str(&format!(", ≤ {max}")),
            (None, None) => {}
        }
        if let Some(default) = &self.default {
            out.push_str(&format!(", default {default}"));
        }
        if let Some(doc) = &self.doc {
            out.push_str(&format!(" — {doc}"));
        }
        out
    }
}

/// How a message names a value it did not expect: its type and, when short, itself.
fn found(v: &Value) -> String {
    let shown = |kind: &str| {
        let text = v.to_string();
        if text.chars().count() <= 40 {
            format!("{kind} ({text})")
        } else {
            kind.to_string()
        }
    };
    match v {
        Value::Null => "nothing".to_string(),
        Value::Bool(_) => shown("a boolean"),
        Value::Number(n) if n.is_f64() => shown("a float"),
        Value::Number(_) => shown("an integer"),
        Value::String(_) => shown("a string"),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "a table".to_string(),
    }
}

/// Edit distance, for "did you mean": settings keys are short.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.settings.keys().map(String::len).max().unwrap_or(0);
        for (key, setting) in &self.settings {
            writeln!(f, "  {key:width$}  {}", setting.summary())?;
        }
        Ok(())
    }
}

/// The schema a component carries, if any.
pub fn read(wasm: &[u8]) -> anyhow::Result<Option<Schema>> {
    match crate::section::find(wasm, SECTION)? {
        Some(bytes) => Schema::from_section(bytes).map(Some),
        None => Ok(None),
    }
}

/// `wasm` with `schema` as its settings section (replacing one it had; none for an empty
/// schema).
pub fn embed(wasm: &[u8], schema: &Schema) -> anyhow::Result<Vec<u8>> {
    let payload = (!schema.is_empty()).then(|| schema.to_section());
    crate::section::replace(wasm, SECTION, payload.as_deref())
}

#[cfg(test)]
mod tests;
