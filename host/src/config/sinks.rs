//! `[sinks.<id>]`: webhook delivery settings (retries, concurrency, ordering, format,
//! signing, TLS) and file sinks' paths.

use super::bounds::Int;
use super::ctx::{Ctx, secret};
use super::raw::{RawConfig, RawFile, RawSink, RawWebhook};
use super::{spec::*, spec_io::*};
use std::path::Path;

const DEFAULT_WEBHOOK_TIMEOUT_MS: i64 = 5_000;
// Retries are cheap for a durable outbox: keep trying for hours (attempts are spread by full
// jitter up to a 10-minute ceiling) and let `max_age` (a day) bound how long an event waits.
const DEFAULT_WEBHOOK_ATTEMPTS: i64 = 100;
const DEFAULT_WEBHOOK_BACKOFF_MS: i64 = 500;
const DEFAULT_WEBHOOK_MAX_BACKOFF_MS: i64 = 600_000;
const DEFAULT_WEBHOOK_MAX_AGE_SECS: i64 = 86_400;
const DEFAULT_WEBHOOK_CONCURRENCY: i64 = 16;

pub(super) const WEBHOOK_TIMEOUT_MS: Int = Int {
    label: "timeout_ms",
    default: DEFAULT_WEBHOOK_TIMEOUT_MS,
    min: 1,
    max: 300_000,
};

pub(super) const WEBHOOK_MAX_ATTEMPTS: Int = Int {
    label: "max_attempts",
    default: DEFAULT_WEBHOOK_ATTEMPTS,
    min: 1,
    max: 10_000,
};

pub(super) const WEBHOOK_BACKOFF_MS: Int = Int {
    label: "backoff_ms",
    default: DEFAULT_WEBHOOK_BACKOFF_MS,
    min: 0,
    max: 600_000,
};

pub(super) const WEBHOOK_MAX_BACKOFF_MS: Int = Int {
    label: "max_backoff_ms",
    default: DEFAULT_WEBHOOK_MAX_BACKOFF_MS,
    min: 1,
    max: 86_400_000,
};

pub(super) const WEBHOOK_MAX_AGE_SECS: Int = Int {
    label: "max_age_secs",
    default: DEFAULT_WEBHOOK_MAX_AGE_SECS,
    min: 1,
    max: 365 * 86_400,
};

pub(super) const WEBHOOK_CONCURRENCY: Int = Int {
    label: "concurrency",
    default: DEFAULT_WEBHOOK_CONCURRENCY,
    min: 1,
    max: 1024,
};

pub(super) fn sinks(
    cx: &mut Ctx<'_>,
    raw: &RawConfig,
    data_dir: &Path,
    cluster: Option<&ClusterSpec>,
) -> Vec<SinkSpec> {
    raw.sinks
        .iter()
        .map(|(id, s)| {
            cx.id(id, "sink");
            let kind = match s.get_ref() {
                RawSink::Nats(n) => SinkKind::Nats(super::cluster::nats_sink(cx, n, cluster)),
                RawSink::File(RawFile { path, .. }) => {
                    let p = Path::new(path);
                    SinkKind::File {
                        path: if p.is_absolute() {
                            p.to_path_buf()
                        } else {
                            data_dir.join(p)
                        },
                    }
                }
                RawSink::Webhook(RawWebhook {
                    url,
                    timeout_ms,
                    max_attempts,
                    backoff_ms,
                    max_backoff_ms,
                    max_age_secs,
                    concurrency,
                    ordering_key,
                    format,
                    signing_secret_env,
                    signing_secret_file,
                    headers,
                    ca_file,
                    ..
                }) => {
                    let format = match format.as_ref().map(|f| (f.get_ref().as_str(), f.span())) {
                        None | Some(("json", _)) => WebhookFormat::Json,
                        Some(("cloudevents", _)) => WebhookFormat::CloudEventsStructured,
                        Some(("cloudevents-binary", _)) => WebhookFormat::CloudEventsBinary,
                        Some((other, span)) => {
                            cx.err(
                                format!("unknown `format` `{other}`, expected `json`, `cloudevents` or `cloudevents-binary`"),
                                span,
                            );
                            WebhookFormat::Json
                        }
                    };
                    if let Some(key) = ordering_key
                        && !key.get_ref().starts_with('/')
                    {
                        cx.err(
                            format!(
                                "`ordering_key` is a JSON pointer into the event and starts with `/` (e.g. `/source/device_id`), got `{}`",
                                key.get_ref()
                            ),
                            key.span(),
                        );
                    }
                    let signing_secret = (signing_secret_env.is_some() || signing_secret_file.is_some())
                        .then(|| secret(cx, signing_secret_env, signing_secret_file, "signing_secret", s.span()));
                    let uri = match url.get_ref().parse::<hyper::Uri>() {
                        Ok(u) if u.scheme_str() == Some("http") && u.host().is_some() => u,
                        Ok(u) if u.scheme_str() == Some("https") && u.host().is_some() => u,
                        _ => {
                            cx.err(
                                format!(
                                    "`url` must be an absolute http:// or https:// URL, got `{}`",
                                    url.get_ref()
                                ),
                                url.span(),
                            );
                            hyper::Uri::from_static("http://invalid")
                        }
                    };
                    for (name, value) in headers {
                        if hyper::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                            cx.err(format!("`{name}` is not a valid HTTP header name"), s.span());
                        } else if hyper::header::HeaderValue::from_str(value).is_err() {
                            // Caught here, not at delivery, where every event would be refused.
                            cx.err(
                                format!("header `{name}` has a value HTTP cannot carry (control characters or non-ASCII)"),
                                s.span(),
                            );
                        }
                    }
                    SinkKind::Webhook(WebhookSpec {
                        url: uri,
                        timeout_ms: cx.key(timeout_ms.as_ref(), &WEBHOOK_TIMEOUT_MS) as u64,
                        max_attempts: cx.key(max_attempts.as_ref(), &WEBHOOK_MAX_ATTEMPTS)
                            as u32,
                        backoff_ms: cx.key(backoff_ms.as_ref(), &WEBHOOK_BACKOFF_MS) as u64,
                        max_backoff_ms: cx.key(max_backoff_ms.as_ref(), &WEBHOOK_MAX_BACKOFF_MS) as u64,
                        max_age_secs: cx.key(max_age_secs.as_ref(), &WEBHOOK_MAX_AGE_SECS) as u64,
                        concurrency: cx.key(concurrency.as_ref(), &WEBHOOK_CONCURRENCY)
                            as usize,
                        ordering_key: ordering_key.as_ref().map(|k| k.get_ref().clone()),
                        format,
                        signing_secret,
                        headers: headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                        ca_file: ca_file.as_deref().map(|f| cx.resolve(f)),
                    })
                }
            };
            let encoding = match s.get_ref() {
                RawSink::File(f) => f.encoding,
                RawSink::Webhook(w) => w.encoding,
                RawSink::Nats(n) => n.encoding,
            };
            SinkSpec {
                id: id.get_ref().clone(),
                kind,
                encoding: encoding.unwrap_or_default(),
            }
        })
        .collect()
}
