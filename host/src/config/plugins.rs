//! `[plugins.<id>]`: where each component comes from (a file or a built-in plugin), its kind,
//! CPU and memory budgets, settings, secrets, rollback policy and roster.

use super::bounds::Int;
use super::ctx::Ctx;
use super::raw::{RawConfig, RawPlugin};
use super::spec::PluginSpec;
use crate::plugin::{MAX_PLUGIN_MEMORY_BYTES, PluginKind, PluginLimits};
use std::collections::BTreeMap;
use std::path::PathBuf;
use toml::Spanned;

const DEFAULT_TIMEOUT_MS: i64 = PluginLimits::DEFAULT.timeout_ms as i64;
const DEFAULT_TIMEOUT_MS_PER_MIB: i64 = PluginLimits::DEFAULT.timeout_ms_per_mib as i64;
const MAX_TIMEOUT_MS: i64 = 60_000;
const DEFAULT_MAX_MEMORY_BYTES: i64 = PluginLimits::DEFAULT.max_memory_bytes as i64;
/// One wasm page: no plugin can run in less.
const MIN_MEMORY_BYTES: i64 = 64 << 10;

pub(super) const PLUGIN_TIMEOUT_MS: Int = Int {
    label: "timeout_ms",
    default: DEFAULT_TIMEOUT_MS,
    min: 1,
    max: MAX_TIMEOUT_MS,
};

pub(super) const PLUGIN_TIMEOUT_MS_PER_MIB: Int = Int {
    label: "timeout_ms_per_mib",
    default: DEFAULT_TIMEOUT_MS_PER_MIB,
    min: 0,
    max: MAX_TIMEOUT_MS,
};

pub(super) const PLUGIN_MAX_MEMORY_BYTES: Int = Int {
    label: "max_memory_bytes",
    default: DEFAULT_MAX_MEMORY_BYTES,
    min: MIN_MEMORY_BYTES,
    max: MAX_PLUGIN_MEMORY_BYTES as i64,
};

/// Where a plugin's component comes from — a file (`path`, resolved against the config's
/// folder) or a built-in (`builtin = "<name>"`, or `path = "builtin:<name>"`) — and its kind,
/// which a built-in plugin knows itself.
fn location(cx: &mut Ctx<'_>, id: &str, plugin: &Spanned<RawPlugin>) -> (PathBuf, PluginKind) {
    use crate::plugin::builtin;
    let p = plugin.get_ref();
    let given_kind = p.kind.as_ref().map(|k| *k.get_ref());
    // A module from a registry: the pipeline fetches it (or takes it from the data dir's
    // cache) when it is built; until then its "path" is the reference as written.
    if let Some(source) = &p.source {
        if p.path.is_some() || p.builtin.is_some() {
            cx.err("a plugin has one of `path`, `builtin` or `source`", source.span());
        }
        let kind = given_kind.unwrap_or_else(|| {
            cx.err(
                format!("plugin `{id}` needs `kind` (normalizer | filter | transform | decider)"),
                plugin.span(),
            );
            PluginKind::Normalizer
        });
        return (PathBuf::from(source.get_ref()), kind);
    }
    let named = match (&p.path, &p.builtin) {
        (Some(_), Some(b)) => {
            cx.err("a plugin has `path` or `builtin`, not both", b.span());
            return (PathBuf::new(), given_kind.unwrap_or(PluginKind::Normalizer));
        }
        (None, None) => {
            cx.err(
                format!(
                    "plugin `{id}` needs `path` (a .wasm component), `source` (oci://…) or `builtin` (one of {})",
                    builtin::FIRST_PARTY
                        .iter()
                        .map(|b| b.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                plugin.span(),
            );
            return (PathBuf::new(), given_kind.unwrap_or(PluginKind::Normalizer));
        }
        (None, Some(b)) => Some((b.get_ref().as_str(), b.span())),
        (Some(path), None) => path
            .get_ref()
            .strip_prefix(builtin::SCHEME)
            .map(|name| (name, path.span())),
    };
    let Some((name, span)) = named else {
        let path = p.path.as_ref().expect("a path when not built in");
        if path.get_ref().is_empty() {
            cx.err("`path` must name a .wasm component", path.span());
        }
        let kind = match given_kind {
            Some(kind) => kind,
            None => {
                cx.err(
                    format!("plugin `{id}` needs `kind` (normalizer | filter | transform | decider)"),
                    plugin.span(),
                );
                PluginKind::Normalizer
            }
        };
        return (cx.resolve(path.get_ref()), kind);
    };
    if let Some(problem) = builtin::problem(name) {
        cx.err(problem, span.clone());
    }
    let own = builtin::describe(name).map(|b| b.kind);
    let kind = match (given_kind, own) {
        (Some(given), Some(own)) if given != own => {
            let at = p.kind.as_ref().map_or(span, |k| k.span());
            cx.err(
                format!(
                    "built-in plugin `{name}` is a {}, not a {}",
                    own.as_str(),
                    given.as_str()
                ),
                at,
            );
            own
        }
        (_, Some(own)) => own,
        (given, None) => given.unwrap_or(PluginKind::Normalizer),
    };
    (PathBuf::from(format!("{}{name}", builtin::SCHEME)), kind)
}

pub(super) fn plugins(cx: &mut Ctx<'_>, raw: &RawConfig) -> Vec<PluginSpec> {
    let trust = super::trust::trust(cx, raw.trust.as_ref());
    raw.plugins
        .iter()
        .map(|(id, p)| {
            cx.id(id, "plugin");
            let (location, kind) = location(cx, id.get_ref(), p);
            let p = p.get_ref();
            let timeout_ms = cx.key(p.timeout_ms.as_ref(), &PLUGIN_TIMEOUT_MS) as u64;
            let timeout_ms_per_mib = cx.key(p.timeout_ms_per_mib.as_ref(), &PLUGIN_TIMEOUT_MS_PER_MIB) as u64;
            let max_memory_bytes = cx.key(p.max_memory_bytes.as_ref(), &PLUGIN_MAX_MEMORY_BYTES) as u64;
            let secrets = p
                .secrets
                .iter()
                .flatten()
                .map(|(name, secret)| {
                    let r = secret.get_ref();
                    (
                        name.clone(),
                        super::ctx::secret(cx, &r.env, &r.file, "secret", secret.span()),
                    )
                })
                .collect();
            let rollback = rollback(cx, p.rollback.as_ref());
            let roster = super::decision::roster(cx, p.roster.as_ref(), kind);
            let signature = trust.rule(cx, p.signers.as_ref(), p.require_signature);
            let source = p
                .source
                .as_ref()
                .and_then(|s| match s.get_ref().parse::<crate::oci::Reference>() {
                    Ok(reference) => Some(reference),
                    Err(e) => {
                        cx.err(format!("`source`: {e}"), s.span());
                        None
                    }
                });
            // The first-party plugins keep nothing from one request to the next (no state
            // outside the call but a cache of their own settings), so they run warm unless
            // the operator says otherwise; a plugin from a file is someone else's code and
            // gets a fresh instance per request unless the operator trusts it to run warm.
            let reuse = p.reuse.unwrap_or(
                if location.to_string_lossy().starts_with(crate::plugin::builtin::SCHEME) {
                    crate::plugin::Reuse::Warm
                } else {
                    crate::plugin::Reuse::Fresh
                },
            );
            PluginSpec {
                roster,
                signature,
                source,
                id: id.get_ref().clone(),
                secrets,
                rollback,
                path: location,
                path_line: cx.line_of(
                    p.path
                        .as_ref()
                        .or(p.builtin.as_ref())
                        .or(p.source.as_ref())
                        .map_or(0, |s| s.span().start),
                ),
                kind,
                limits: PluginLimits {
                    timeout_ms,
                    timeout_ms_per_mib,
                    max_memory_bytes,
                    reuse,
                },
                settings_lines: settings_lines(cx, p.settings.as_ref()),
                settings: p.settings.as_ref().map_or_else(
                    || serde_json::json!({}),
                    |s| {
                        let table: toml::Table = s
                            .get_ref()
                            .iter()
                            .map(|(k, v)| (k.clone(), v.get_ref().clone()))
                            .collect();
                        super::ctx::toml_to_json(&table)
                    },
                ),
            }
        })
        .collect()
}

/// Where the settings table and each of its keys are, for messages about one setting.
fn settings_lines(
    cx: &Ctx<'_>,
    settings: Option<&toml::Spanned<BTreeMap<String, toml::Spanned<toml::Value>>>>,
) -> crate::config::SettingsLines {
    let Some(settings) = settings else {
        return crate::config::SettingsLines::default();
    };
    crate::config::SettingsLines {
        table: cx.line_of(settings.span().start),
        keys: settings
            .get_ref()
            .iter()
            .map(|(k, v)| (k.clone(), cx.line_of(v.span().start)))
            .collect(),
    }
}

/// A new version faulting on more than half of its first ten calls within five minutes is
/// taken back: enough calls not to judge on one bad input, soon enough to limit the damage.
const DEFAULT_MAX_FAILURE_RATIO: f64 = 0.5;
pub(super) const ROLLBACK_MIN_CALLS: Int = Int {
    label: "min_calls",
    default: 10,
    min: 1,
    max: 1_000_000,
};
pub(super) const ROLLBACK_WINDOW_SECS: Int = Int {
    label: "window_secs",
    default: 300,
    min: 1,
    max: 7 * 86_400,
};

fn rollback(cx: &mut Ctx<'_>, raw: Option<&super::raw::RawRollback>) -> Option<crate::plugin::RollbackPolicy> {
    let ratio = DEFAULT_MAX_FAILURE_RATIO;
    let Some(raw) = raw else {
        return Some(crate::plugin::RollbackPolicy {
            max_failure_ratio: ratio,
            min_calls: ROLLBACK_MIN_CALLS.default as u64,
            window: std::time::Duration::from_secs(ROLLBACK_WINDOW_SECS.default as u64),
        });
    };
    if raw.enabled == Some(false) {
        return None;
    }
    let max_failure_ratio = match &raw.max_failure_ratio {
        Some(r) if (0.0..=1.0).contains(r.get_ref()) => *r.get_ref(),
        Some(r) => {
            cx.err(
                format!("`max_failure_ratio` must be between 0 and 1, got {}", r.get_ref()),
                r.span(),
            );
            ratio
        }
        None => ratio,
    };
    let min_calls = cx.key(raw.min_calls.as_ref(), &ROLLBACK_MIN_CALLS) as u64;
    let window = cx.key(raw.window_secs.as_ref(), &ROLLBACK_WINDOW_SECS) as u64;
    Some(crate::plugin::RollbackPolicy {
        max_failure_ratio,
        min_calls,
        window: std::time::Duration::from_secs(window),
    })
}
