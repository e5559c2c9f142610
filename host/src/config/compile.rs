//! Pure compilation of a parsed config: defaults, limits, id syntax, path resolution, and
//! every cross-reference (source → plugins of the right kind, route → sinks and sources).
//! No I/O: it never opens a plugin, reads a secret or binds a socket.

use super::bounds::Int;
use super::ctx::{Ctx, plugin_ref, secret};
use super::error::Problem;
use super::raw::{RawAuth, RawConfig};
use super::{RouterSpec, spec::*, spec_io::*};
use crate::plugin::PluginKind;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Enough for any vendor batch we know of (FindFace batches, base64 snapshots), small enough
/// that one sender cannot exhaust memory.
const DEFAULT_MAX_BODY_BYTES: i64 = 1 << 20;
const MAX_BODY_BYTES_LIMIT: i64 = 64 << 20;
pub(super) const SOURCE_MAX_BODY_BYTES: Int = Int {
    label: "max_body_bytes",
    default: DEFAULT_MAX_BODY_BYTES,
    min: 1,
    max: MAX_BODY_BYTES_LIMIT,
};

pub(super) const WEBSOCKET_RECONNECT_MAX_SECS: Int = Int {
    label: "reconnect_max_secs",
    default: DEFAULT_RECONNECT_MAX_SECS,
    min: 1,
    max: 3600,
};

/// Compiles a parsed config into a [`RouterSpec`], or returns every problem found.
pub(crate) fn compile(raw: RawConfig, text: &str, config_path: &Path) -> Result<RouterSpec, Vec<Problem>> {
    let base = config_path.parent().map(Path::to_path_buf).unwrap_or_default();
    let base = if base.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base
    };
    let mut cx = Ctx {
        problems: Vec::new(),
        text,
        base,
        broken_plugins: raw.broken_plugins.clone(),
    };

    match &raw.version {
        Some(v) if *v.get_ref() == 1 => {}
        Some(v) => cx.err(
            format!(
                "unsupported config version {}; this router reads version = 1",
                v.get_ref()
            ),
            v.span(),
        ),
        None => cx
            .problems
            .push(Problem::new("missing `version = 1` at the top of the file", Some(0..0))),
    }

    let server = super::server::server(&mut cx, &raw);
    let admin = super::edge::admin(&mut cx, raw.admin.as_ref());
    let cluster = raw
        .cluster
        .as_ref()
        .map(|c| super::cluster::cluster(&mut cx, c.get_ref(), server.listen.port()));
    let plugins = super::plugins::plugins(&mut cx, &raw);
    let kinds: BTreeMap<&str, PluginKind> = plugins.iter().map(|p| (p.id.as_str(), p.kind)).collect();
    let sources = sources(&mut cx, &raw, &kinds, cluster.as_ref());
    let sinks = super::sinks::sinks(&mut cx, &raw, &server.data_dir, cluster.as_ref());
    let sink_ids: BTreeSet<&str> = sinks.iter().map(|s| s.id.as_str()).collect();
    let source_ids: BTreeSet<&str> = sources.iter().map(|s| s.id.as_str()).collect();
    let routes = routes(&mut cx, &raw, &sink_ids, &source_ids);

    if cx.problems.is_empty() {
        Ok(RouterSpec {
            config_path: config_path.to_path_buf(),
            server,
            admin,
            cluster,
            plugins,
            sources,
            sinks,
            routes,
        })
    } else {
        Err(cx.problems)
    }
}

fn sources(
    cx: &mut Ctx<'_>,
    raw: &RawConfig,
    kinds: &BTreeMap<&str, PluginKind>,
    cluster: Option<&ClusterSpec>,
) -> Vec<SourceSpec> {
    let mut ids = BTreeSet::new();
    let mut paths = BTreeSet::new();
    raw.sources
        .iter()
        .map(|s| {
            let s = s.get_ref();
            cx.id(&s.id, "source");
            if !ids.insert(s.id.get_ref().clone()) {
                cx.err(format!("duplicate source id `{}`", s.id.get_ref()), s.id.span());
            }
            let given = [s.path.is_some(), s.websocket.is_some(), s.nats.is_some()];
            // A config with a problem is never built, so the placeholder kind of a source
            // with none or several is never used.
            let mut kind = SourceKind::Http { path: String::new() };
            match given.iter().filter(|g| **g).count() {
                1 => {
                    if let Some(p) = &s.path {
                        kind = SourceKind::Http {
                            path: http_path(cx, p, &mut paths),
                        };
                    } else if let Some(w) = &s.websocket {
                        kind = SourceKind::Websocket(self::websocket(cx, w));
                    } else if let Some(n) = &s.nats {
                        kind = SourceKind::Nats(super::cluster::nats_source(cx, n.get_ref(), cluster, s.id.get_ref()));
                    }
                }
                0 => cx.err(
                    format!(
                        "source `{}` needs `path` (HTTP), `websocket` (a feed to connect to) or `nats` (a subject to subscribe to)",
                        s.id.get_ref()
                    ),
                    s.id.span(),
                ),
                _ => {
                    // At the second kind given: the one that is too many.
                    let spans = [
                        s.path.as_ref().map(|p| p.span()),
                        s.websocket.as_ref().map(|w| w.span()),
                        s.nats.as_ref().map(|n| n.span()),
                    ];
                    let extra = spans.into_iter().flatten().nth(1).unwrap_or_else(|| s.id.span());
                    cx.err("a source has one of `path` (HTTP), `websocket` or `nats`, not several", extra);
                }
            }
            let normalizer = plugin_ref(cx, kinds, &s.normalizer, PluginKind::Normalizer, "normalizer");
            let decision = super::decision::decision(cx, s, kinds);
            let filters = s
                .filters
                .iter()
                .map(|f| plugin_ref(cx, kinds, f, PluginKind::Filter, "filters"))
                .collect();
            let transforms = s
                .transforms
                .iter()
                .map(|t| plugin_ref(cx, kinds, t, PluginKind::Transform, "transforms"))
                .collect();
            let auth = match &s.auth {
                None => AuthSpec::None,
                Some(a) => auth(cx, a),
            };
            let max_body_bytes = cx.key(s.max_body_bytes.as_ref(), &SOURCE_MAX_BODY_BYTES) as usize;
            let methods = methods(cx, s.methods.as_ref());
            let rate_limit = super::edge::rate_limit(cx, s.rate_limit.as_ref());
            SourceSpec {
                id: s.id.get_ref().clone(),
                kind,
                methods,
                rate_limit,
                normalizer,
                decision,
                filters,
                transforms,
                auth,
                max_body_bytes,
                samples: s
                    .samples
                    .iter()
                    .map(|sample| match sample {
                        super::raw::RawSample::Path(p) => SampleSpec {
                            request: cx.resolve(p),
                            expect: None,
                        },
                        super::raw::RawSample::Full { request, expect } => SampleSpec {
                            request: cx.resolve(request),
                            expect: expect.as_deref().map(|e| cx.resolve(e)),
                        },
                    })
                    .collect(),
            }
        })
        .collect()
}

/// HTTP methods a source may be sent with: the vendors here use POST (the default), NoahFace
/// also GET and PUT, SenseNebula heartbeats GET.
pub(super) const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

fn methods(cx: &mut Ctx<'_>, raw: Option<&Spanned<Vec<Spanned<String>>>>) -> Vec<String> {
    let Some(raw) = raw else {
        return vec!["POST".to_string()];
    };
    if raw.get_ref().is_empty() {
        cx.err("`methods` must name at least one HTTP method", raw.span());
    }
    let mut out: Vec<String> = Vec::new();
    for m in raw.get_ref() {
        let upper = m.get_ref().to_ascii_uppercase();
        if !METHODS.contains(&upper.as_str()) {
            cx.err(
                format!(
                    "`{}` is not an HTTP method a source accepts ({})",
                    m.get_ref(),
                    METHODS.join(", ")
                ),
                m.span(),
            );
        } else if !out.contains(&upper) {
            out.push(upper);
        }
    }
    out
}

fn http_path(cx: &mut Ctx<'_>, path: &Spanned<String>, seen: &mut BTreeSet<String>) -> String {
    let text = path.get_ref();
    if !text.starts_with('/') || text.contains(['?', '#', ' ']) {
        cx.err(
            format!("source path `{text}` must start with `/` and hold no query, fragment or spaces"),
            path.span(),
        );
    } else if ["/healthz", "/readyz"].contains(&text.as_str()) {
        cx.err(format!("source path `{text}` is reserved by the router"), path.span());
    }
    let normalized = normalize_path(text);
    if !seen.insert(normalized.clone()) {
        cx.err(format!("two sources listen on `{normalized}`"), path.span());
    }
    normalized
}

/// Default ceiling of the reconnect backoff: OMNI drops what it sends while nobody listens,
/// so reconnect attempts stay frequent.
const DEFAULT_RECONNECT_MAX_SECS: i64 = 30;

fn websocket(cx: &mut Ctx<'_>, w: &Spanned<super::raw::RawWebsocket>) -> WebsocketSpec {
    let w = w.get_ref();
    let url = match w.url.get_ref().parse::<hyper::Uri>() {
        Ok(u) if u.scheme_str() == Some("ws") && u.host().is_some() => u,
        Ok(u) if u.scheme_str() == Some("wss") => {
            cx.err(
                "wss:// is not supported yet; reach the feed through a local TLS-terminating proxy over ws://",
                w.url.span(),
            );
            u
        }
        _ => {
            cx.err(
                format!("`url` must be an absolute ws:// URL, got `{}`", w.url.get_ref()),
                w.url.span(),
            );
            hyper::Uri::from_static("ws://invalid")
        }
    };
    let reconnect_max_secs = cx.key(w.reconnect_max_secs.as_ref(), &WEBSOCKET_RECONNECT_MAX_SECS) as u64;
    WebsocketSpec {
        url,
        reconnect_max_secs,
    }
}

/// `/ingest/json/` and `/ingest/json` are the same source path.
pub fn normalize_path(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else {
        trimmed.to_string()
    }
}

fn auth(cx: &mut Ctx<'_>, a: &Spanned<RawAuth>) -> AuthSpec {
    let span = a.span();
    match a.get_ref() {
        RawAuth::None {} => AuthSpec::None,
        RawAuth::Basic {
            username,
            password_env,
            password_file,
        } => {
            if username.is_empty() || username.contains(':') {
                cx.err("basic auth `username` must be non-empty and hold no `:`", span.clone());
            }
            AuthSpec::Basic {
                username: username.clone(),
                password: secret(cx, password_env, password_file, "password", span),
            }
        }
        RawAuth::Bearer { token_env, token_file } => AuthSpec::Bearer {
            token: secret(cx, token_env, token_file, "token", span),
        },
    }
}

fn routes(cx: &mut Ctx<'_>, raw: &RawConfig, sinks: &BTreeSet<&str>, sources: &BTreeSet<&str>) -> Vec<RouteSpec> {
    raw.routes
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let r = r.get_ref();
            if r.sinks.get_ref().is_empty() {
                cx.err("a route needs at least one sink in `sinks`", r.sinks.span());
            }
            for s in r.sinks.get_ref() {
                if !sinks.contains(s.get_ref().as_str()) && !raw.broken_sinks.contains(s.get_ref()) {
                    cx.err(
                        format!(
                            "route sends to sink `{}`, which is not defined under [sinks]",
                            s.get_ref()
                        ),
                        s.span(),
                    );
                }
            }
            for s in &r.matcher.source {
                if !sources.contains(s.get_ref().as_str()) && !raw.broken_sources {
                    cx.err(
                        format!(
                            "route matches source `{}`, which is not defined under [[sources]]",
                            s.get_ref()
                        ),
                        s.span(),
                    );
                }
            }
            RouteSpec {
                name: r.name.clone().unwrap_or_else(|| format!("route-{}", i + 1)),
                matcher: MatchSpec {
                    vendor: r.matcher.vendor.clone(),
                    category: r.matcher.category.clone(),
                    action: r.matcher.action.clone(),
                    source: r.matcher.source.iter().map(|s| s.get_ref().clone()).collect(),
                },
                sinks: r.sinks.get_ref().iter().map(|s| s.get_ref().clone()).collect(),
            }
        })
        .collect()
}
