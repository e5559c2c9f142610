//! The compiler's context — the problems found so far, the config text and its directory —
//! and the small checks every section's compiler shares (integers in bounds, ids, paths,
//! plugin references, secrets).

use super::bounds::Int;
use super::error::Problem;
use super::spec::SecretRef;
use crate::plugin::PluginKind;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// What the section compilers share while one config is compiled.
pub(super) struct Ctx<'t> {
    pub(super) problems: Vec<Problem>,
    /// The config text, for line numbers the built router quotes later (a plugin's `path`).
    pub(super) text: &'t str,
    pub(super) base: PathBuf,
    pub(super) broken_plugins: BTreeSet<String>,
}

impl Ctx<'_> {
    pub(super) fn err(&mut self, message: impl Into<String>, span: Range<usize>) {
        self.problems.push(Problem::at(message, span));
    }

    /// An integer key checked against its bounds (absent: its default).
    pub(super) fn key(&mut self, value: Option<&Spanned<i64>>, key: &Int) -> i64 {
        self.int(value, key.label, key.default, key.min, key.max)
    }

    pub(super) fn int(&mut self, value: Option<&Spanned<i64>>, name: &str, default: i64, min: i64, max: i64) -> i64 {
        match value {
            None => default,
            Some(v) if (min..=max).contains(v.get_ref()) => *v.get_ref(),
            Some(v) => {
                self.err(
                    format!("`{name}` must be between {min} and {max}, got {}", v.get_ref()),
                    v.span(),
                );
                default
            }
        }
    }

    /// The 1-based line of a byte offset in the config.
    pub(super) fn line_of(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())].matches('\n').count() + 1
    }

    pub(super) fn resolve(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        }
    }

    pub(super) fn id(&mut self, id: &Spanned<String>, what: &str) {
        let s = id.get_ref();
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit());
        if !ok {
            self.err(
                format!(
                    "{what} id `{s}` must be 1–64 characters of a-z, 0-9, `-` and `_`, starting with a letter or digit"
                ),
                id.span(),
            );
        }
    }
}

/// Plugin settings travel as JSON; TOML datetimes become their RFC 3339 text.
pub fn toml_to_json(table: &toml::Table) -> serde_json::Value {
    fn value(v: &toml::Value) -> serde_json::Value {
        match v {
            toml::Value::String(s) => s.clone().into(),
            toml::Value::Integer(i) => (*i).into(),
            toml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into),
            toml::Value::Boolean(b) => (*b).into(),
            toml::Value::Datetime(d) => d.to_string().into(),
            toml::Value::Array(items) => items.iter().map(value).collect(),
            toml::Value::Table(t) => toml_to_json(t),
        }
    }
    serde_json::Value::Object(table.iter().map(|(k, v)| (k.clone(), value(v))).collect())
}

pub(super) fn plugin_ref(
    cx: &mut Ctx<'_>,
    kinds: &BTreeMap<&str, PluginKind>,
    id: &Spanned<String>,
    want: PluginKind,
    field: &str,
) -> String {
    match kinds.get(id.get_ref().as_str()) {
        // Already reported where the plugin itself is broken.
        None if cx.broken_plugins.contains(id.get_ref()) => {}
        None => cx.err(
            format!(
                "`{field}` names plugin `{}`, which is not defined under [plugins]",
                id.get_ref()
            ),
            id.span(),
        ),
        Some(kind) if *kind != want => cx.err(
            format!(
                "`{field}` needs a {} plugin, but `{}` is a {}",
                want.as_str(),
                id.get_ref(),
                kind.as_str()
            ),
            id.span(),
        ),
        Some(_) => {}
    }
    id.get_ref().clone()
}

pub(super) fn secret(
    cx: &mut Ctx<'_>,
    env: &Option<String>,
    file: &Option<String>,
    what: &str,
    span: Range<usize>,
) -> SecretRef {
    match (env, file) {
        (Some(e), None) if !e.is_empty() => SecretRef::Env(e.clone()),
        (None, Some(f)) if !f.is_empty() => SecretRef::File(cx.resolve(f)),
        _ => {
            let (env, file) = if what == "secret" {
                ("env".to_string(), "file".to_string())
            } else {
                (format!("{what}_env"), format!("{what}_file"))
            };
            cx.err(format!("set exactly one of `{env}` (an environment variable) or `{file}` (a file holding it); secrets never go in router.toml"), span);
            SecretRef::Env(String::new())
        }
    }
}
