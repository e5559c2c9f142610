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

/// One `plugin test` run: which component, as what, on which input, with what around it.
#[derive(Debug, Clone)]
pub struct TestCase {
    /// The component.
    pub plugin: std::path::PathBuf,
    /// Its kind; `None` finds it from the component's exports.
    pub kind: Option<PluginKind>,
    /// The plugin id its log lines carry.
    pub id: String,
    /// The input file: a capture or body (normalizers); an event, a normalizer report or
    /// events.jsonl lines (the other kinds).
    pub input: std::path::PathBuf,
    /// Its settings (a JSON object).
    pub settings: Value,
    /// Its secrets, for `host.hmac-sha256`.
    pub secrets: crate::plugin::Secrets,
    /// The source id a normalizer's request pretends to come from.
    pub source_id: String,
    /// CPU and memory limits.
    pub limits: PluginLimits,
    /// What a decider sees through `site`.
    pub site: SiteOptions,
    /// What its signature must satisfy (a config's `[trust]`; none for a bare file).
    pub signature: crate::plugin::trust::SignatureRule,
}

impl TestCase {
    /// A case with default limits, no secrets and no site options.
    pub fn new(plugin: &Path, input: &Path, settings: Value) -> TestCase {
        TestCase {
            plugin: plugin.to_path_buf(),
            kind: None,
            id: "test".to_string(),
            input: input.to_path_buf(),
            settings,
            secrets: Default::default(),
            source_id: "test".to_string(),
            limits: PluginLimits::DEFAULT,
            site: SiteOptions::default(),
            signature: Default::default(),
        }
    }

    /// The case of plugin `id` in a router config: its file, kind, limits, settings, secrets
    /// and roster, exactly as the router would load it.
    pub fn from_config(config: &Path, id: &str, input: &Path) -> anyhow::Result<TestCase> {
        let spec = crate::config::load(config).map_err(|e| anyhow::anyhow!("{e}"))?;
        let p = spec.plugins.iter().find(|p| p.id == id).with_context(|| {
            format!(
                "{} has no plugin `{id}` (it has: {})",
                config.display(),
                spec.plugins
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        let time_zone = spec.sources.iter().find_map(|s| {
            s.decision
                .as_ref()
                .filter(|d| d.decider == id)
                .map(|d| d.time_zone.clone())
        });
        // A registry module: the file the router would use, from its data dir's cache.
        let plugin = match &p.source {
            Some(reference) => {
                let cache = crate::oci::Cache::new(&spec.server.data_dir);
                reference
                    .digest
                    .clone()
                    .or_else(|| cache.resolved(reference))
                    .and_then(|digest| cache.component_of(&digest))
                    .with_context(|| {
                        format!(
                            "plugin `{id}` ({reference}) is not in this router's cache yet: `switchyard check --config {}` fetches it",
                            config.display()
                        )
                    })?
            }
            None => p.path.clone(),
        };
        Ok(TestCase {
            plugin,
            kind: Some(p.kind),
            id: id.to_string(),
            input: input.to_path_buf(),
            settings: p.settings.clone(),
            secrets: crate::pipeline::plugin_secrets(p),
            source_id: spec
                .sources
                .iter()
                .find(|s| s.normalizer == id)
                .map_or_else(|| "test".to_string(), |s| s.id.clone()),
            limits: p.limits,
            site: SiteOptions {
                roster: p.roster.as_ref().map(|r| (r.path.clone(), r.key.clone())),
                time_zone,
            },
            signature: p.signature.clone(),
        })
    }
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
    let mut case = TestCase::new(plugin, input, parse_settings(settings)?);
    case.source_id = source_id.to_string();
    case.limits = limits;
    case.site = site.clone();
    run_case(&case, &Runtime::new()?).await
}

/// Runs one case on `runtime` (share one with a disk cache across runs: a Python or
/// JavaScript component then compiles once, not on every edit). The plugin first checks its
/// settings (`setup-api`), as at `switchyard check`.
pub async fn run_case(case: &TestCase, runtime: &Runtime) -> anyhow::Result<Value> {
    let zone = match &case.site.time_zone {
        None => jiff::tz::TimeZone::UTC,
        Some(name) => jiff::tz::TimeZone::get(name).with_context(|| format!("time zone `{name}`"))?,
    };
    let roster = match &case.site.roster {
        None => None,
        Some((path, key)) => Some(std::sync::Arc::new(crate::decision::Roster::load(path, key)?)),
    };
    let kinds = match case.kind {
        Some(kind) => vec![kind],
        None => vec![
            PluginKind::Normalizer,
            PluginKind::Filter,
            PluginKind::Transform,
            PluginKind::Decider,
        ],
    };
    let mut last = None;
    let mut loaded = None;
    for kind in kinds {
        let provisions = crate::plugin::Provisions {
            secrets: case.secrets.clone(),
            roster: roster.clone().filter(|_| kind == PluginKind::Decider),
            signature: case.signature.clone(),
        };
        match runtime.load_with(&case.id, &case.plugin, kind, case.limits, &case.settings, provisions) {
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
            case.plugin.display(),
            last.map(|e| e.to_string()).unwrap_or_default()
        );
    };
    let plugin = std::sync::Arc::new(plugin);
    plugin.probe().await?;
    let bytes = std::fs::read(&case.input).with_context(|| format!("reading {}", case.input.display()))?;
    let about = json!({ "path": plugin.path(), "kind": plugin.kind().as_str(), "sha256": plugin.sha256() });
    let mut session = plugin.session().await?;
    let result = match plugin.kind() {
        PluginKind::Normalizer => {
            let request = crate::capture::request_from(&bytes, &case.source_id)?;
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
        kind => {
            let events = events_from(&bytes)?;
            let mut results = Vec::with_capacity(events.len());
            for event in &events {
                results.push(match kind {
                    PluginKind::Filter => match session.filter(event).await? {
                        Verdict::Keep => json!({ "verdict": "keep" }),
                        Verdict::Drop(reason) => json!({ "verdict": "drop", "reason": reason }),
                    },
                    PluginKind::Transform => json!({ "events": session.transform(event).await? }),
                    _ => {
                        let r = session.decide(event, &zone, None).await?;
                        json!({ "ruling": { "decision": r.decision, "custom_tip": r.custom_tip, "details": r.details } })
                    }
                });
            }
            // One event: its result at the top level; several: one result each, in order.
            if results.len() == 1 {
                results.remove(0)
            } else {
                json!({ "results": results })
            }
        }
    };
    let mut report = json!({ "plugin": about });
    if let (Value::Object(report), Value::Object(result)) = (&mut report, result) {
        report.extend(result);
    }
    Ok(report)
}

/// `--settings`: a JSON object, or `@file.json` / `@file.toml` (a TOML table of settings).
pub fn parse_settings(text: &str) -> anyhow::Result<Value> {
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

/// The events in a filter's, transform's or decider's input: one event object, a normalizer
/// report (`plugin test`'s own output, or any object with an `events` array), or
/// events.jsonl lines (a file sink's output).
fn events_from(bytes: &[u8]) -> anyhow::Result<Vec<Event>> {
    let parse = |value: Value| serde_json::from_value::<Event>(value).context("not a router.event/v1 JSON object");
    if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        if let Some(Value::Array(events)) = value.get("events") {
            anyhow::ensure!(!events.is_empty(), "the report holds no events");
            return events
                .iter()
                .enumerate()
                .map(|(i, e)| parse(e.clone()).with_context(|| format!("events[{i}]")))
                .collect();
        }
        return Ok(vec![parse(value).context("input")?]);
    }
    let text = std::str::from_utf8(bytes).context("input is neither JSON nor JSON lines")?;
    let events: Vec<Event> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| {
            let value: Value = serde_json::from_str(line).with_context(|| format!("line {} is not JSON", i + 1))?;
            parse(value).with_context(|| format!("line {}", i + 1))
        })
        .collect::<anyhow::Result<_>>()?;
    anyhow::ensure!(!events.is_empty(), "the input holds no events");
    Ok(events)
}
