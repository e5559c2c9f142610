//! `switchyard plugin test`: the integrator's inner loop — run one plugin on a captured input
//! with the real runtime (same limits, same host imports) and print what it produced.

use crate::event::{AuthKind, Event};
use crate::plugin::{PluginKind, PluginLimits, Runtime, Verdict};
use anyhow::{Context, bail};
use base64::Engine as _;
use serde_json::{Value, json};
use std::path::Path;

/// What a decider under test sees through `site`.
#[derive(Debug, Clone, Default)]
pub struct SiteOptions {
    /// A roster file and its key column (`--roster`, `--roster-key`).
    pub roster: Option<(std::path::PathBuf, String)>,
    /// The IANA zone of `site.local-now` (`--time-zone`; UTC when absent).
    pub time_zone: Option<String>,
}

/// Runs the plugin and returns the JSON report.
pub async fn plugin_test(
    plugin: &Path,
    input: &Path,
    settings: &str,
    source_id: &str,
    limits: PluginLimits,
) -> anyhow::Result<Value> {
    plugin_test_with(plugin, input, settings, source_id, limits, &SiteOptions::default()).await
}

/// [`plugin_test`], giving a decider a roster and a time zone.
pub async fn plugin_test_with(
    plugin: &Path,
    input: &Path,
    settings: &str,
    source_id: &str,
    limits: PluginLimits,
    site: &SiteOptions,
) -> anyhow::Result<Value> {
    let settings = parse_settings(settings)?;
    let zone = match &site.time_zone {
        None => jiff::tz::TimeZone::UTC,
        Some(name) => jiff::tz::TimeZone::get(name).with_context(|| format!("time zone `{name}`"))?,
    };
    let roster = match &site.roster {
        None => None,
        Some((path, key)) => Some(std::sync::Arc::new(crate::decision::Roster::load(path, key)?)),
    };
    let runtime = Runtime::new()?;
    let mut last = None;
    let mut loaded = None;
    for kind in [
        PluginKind::Normalizer,
        PluginKind::Filter,
        PluginKind::Transform,
        PluginKind::Decider,
    ] {
        let provisions = crate::plugin::Provisions {
            secrets: Default::default(),
            roster: roster.clone().filter(|_| kind == PluginKind::Decider),
        };
        match runtime.load_with("test", plugin, kind, limits, &settings, provisions) {
            Ok(p) => {
                loaded = Some(p);
                break;
            }
            Err(e @ crate::plugin::Error::Load { .. }) if e.to_string().contains("does not export") => last = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    let Some(plugin) = loaded else {
        bail!(
            "{} exports none of the router:plugin interfaces ({})",
            plugin.display(),
            last.map(|e| e.to_string()).unwrap_or_default()
        );
    };
    let bytes = std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
    let about = json!({ "path": plugin.path(), "kind": plugin.kind().as_str(), "sha256": plugin.sha256() });
    let mut session = plugin.session().await?;
    let result = match plugin.kind() {
        PluginKind::Normalizer => {
            let request = crate::capture::request_from(&bytes, source_id)?;
            let mut out = session.normalize(&request).await?;
            crate::pipeline::stamp(&mut out.events, &request, AuthKind::None);
            let reply = out.reply.map(|r| {
                let body = match String::from_utf8(r.body.clone()) {
                    Ok(text) => json!(text),
                    Err(_) => json!({ "base64": base64::engine::general_purpose::STANDARD.encode(&r.body) }),
                };
                json!({ "status": r.status, "headers": r.headers, "body": body })
            });
            let media: Vec<Value> = out
                .media_content
                .iter()
                .map(|(e, m, b)| json!({ "event": e, "media": m, "bytes": b.len() }))
                .collect();
            json!({ "events": out.events, "reply": reply, "inline_media": media })
        }
        PluginKind::Filter => match session.filter(&event_from(&bytes)?).await? {
            Verdict::Keep => json!({ "verdict": "keep" }),
            Verdict::Drop(reason) => json!({ "verdict": "drop", "reason": reason }),
        },
        PluginKind::Transform => json!({ "events": session.transform(&event_from(&bytes)?).await? }),
        PluginKind::Decider => {
            let r = session.decide(&event_from(&bytes)?, &zone, None).await?;
            json!({ "ruling": { "decision": r.decision, "custom_tip": r.custom_tip, "details": r.details } })
        }
    };
    let mut report = json!({ "plugin": about });
    if let (Value::Object(report), Value::Object(result)) = (&mut report, result) {
        report.extend(result);
    }
    Ok(report)
}

fn parse_settings(text: &str) -> anyhow::Result<Value> {
    let (content, is_toml) = match text.strip_prefix('@') {
        Some(file) => (
            std::fs::read_to_string(file).with_context(|| format!("reading settings file {file}"))?,
            file.ends_with(".toml"),
        ),
        None => (text.to_string(), false),
    };
    if is_toml {
        let table: toml::Table = toml::from_str(&content).context("settings file is not valid TOML")?;
        return Ok(crate::config::toml_to_json(&table));
    }
    let value: Value = serde_json::from_str(&content).context("--settings is not valid JSON")?;
    anyhow::ensure!(value.is_object(), "--settings must be a JSON object");
    Ok(value)
}

fn event_from(bytes: &[u8]) -> anyhow::Result<Event> {
    serde_json::from_slice(bytes).context("input is not a router.event/v1 JSON object")
}
