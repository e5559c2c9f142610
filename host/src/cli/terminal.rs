//! `switchyard terminal subscribe`: point a SenseNebula Pass terminal's event push at this
//! router (`POST <device>/v1/event/subscribe` with `event_dest`), so nobody has to do it by
//! hand on the device's web page.

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use std::time::Duration;

/// Largest device answer read.
const MAX_ANSWER: usize = 64 << 10;

/// Sets (or, with `enabled = false`, disables) a terminal's push destination; returns the
/// device's answer.
pub async fn terminal_subscribe(device: &str, dest: &str, token: Option<&str>, enabled: bool) -> anyhow::Result<Value> {
    let base = device.trim_end_matches('/');
    let url: hyper::Uri = format!("{base}/v1/event/subscribe")
        .parse()
        .with_context(|| format!("`{device}` is not a device URL"))?;
    match url.scheme_str() {
        Some("http") => {}
        Some("https") => {
            bail!("https devices are not supported yet: reach the device's API through a local TLS proxy over http")
        }
        _ => bail!("the device URL must start with http://, got `{device}`"),
    }
    let dest_uri = dest.parse::<hyper::Uri>().ok();
    if dest_uri
        .as_ref()
        .is_none_or(|u| u.scheme().is_none() || u.host().is_none())
    {
        bail!("--dest must be an absolute URL the device can reach, e.g. http://10.0.0.2:8080/ingest/sensenebula");
    }
    let body = json!({ "event_dest": dest, "enabled": enabled });
    let mut request = hyper::Request::post(url.clone()).header(hyper::header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(hyper::header::AUTHORIZATION, token);
    }
    let request = request.body(Full::new(Bytes::from(body.to_string())))?;
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let response = tokio::time::timeout(Duration::from_secs(15), client.request(request))
        .await
        .with_context(|| format!("{url} did not answer within 15 s"))?
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let bytes = match crate::ingest::read_capped(response.into_body(), MAX_ANSWER).await {
        Ok(b) | Err(crate::ingest::BodyError::TooLarge { prefix: b, .. }) => b,
        Err(e) => bail!("reading the device's answer: {e}"),
    };
    let answer: Value =
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    if !status.is_success() {
        bail!("the device answered HTTP {status}: {answer}");
    }
    // The device reports success as `code: 200` inside a 200 answer.
    match answer.get("code").and_then(Value::as_i64) {
        Some(200) | None => Ok(answer),
        Some(code) => bail!(
            "the device refused (code {code}): {}",
            answer.get("msg").or(answer.get("message")).unwrap_or(&answer)
        ),
    }
}
