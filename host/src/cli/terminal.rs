//! `switchyard terminal subscribe`: point a SenseNebula Pass terminal's event push at this
//! router (`POST <device>/v1/event/subscribe` with `event_dest`), so nobody has to do it by
//! hand on the device's web page.

use crate::tls::{TlsOptions, client_config};
use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// Largest device answer read.
const MAX_ANSWER: usize = 64 << 10;

/// One request over a fresh connection, TLS for `https`.
async fn exchange(
    url: &hyper::Uri,
    request: hyper::Request<Full<Bytes>>,
    tls: &TlsOptions,
) -> anyhow::Result<hyper::Response<Incoming>> {
    let host = url
        .host()
        .context("the device URL has no host")?
        .trim_matches(['[', ']']);
    let https = url.scheme_str() == Some("https");
    let port = url.port_u16().unwrap_or(if https { 443 } else { 80 });
    let tcp = tokio::net::TcpStream::connect((host, port))
        .await
        .with_context(|| format!("cannot reach {host}:{port}"))?;
    if !https {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
        tokio::spawn(conn);
        return Ok(sender.send_request(request).await?);
    }
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config(tls)?));
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .with_context(|| format!("`{host}` is not a valid TLS server name"))?;
    let stream = connector.connect(name, tcp).await.with_context(|| {
        format!("TLS handshake with {host}:{port} failed (terminals often use self-signed certificates: pass --ca <device.pem>, or --insecure)")
    })?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender.send_request(request).await?)
}

/// Sets (or, with `enabled = false`, disables) a terminal's push destination; returns the
/// device's answer.
pub async fn terminal_subscribe(
    device: &str,
    dest: &str,
    token: Option<&str>,
    enabled: bool,
    tls: &TlsOptions,
) -> anyhow::Result<Value> {
    let base = device.trim_end_matches('/');
    let url: hyper::Uri = format!("{base}/v1/event/subscribe")
        .parse()
        .with_context(|| format!("`{device}` is not a device URL"))?;
    if !matches!(url.scheme_str(), Some("http" | "https")) {
        bail!("the device URL must start with https:// or http://, got `{device}`");
    }
    let dest_uri = dest.parse::<hyper::Uri>().ok();
    if dest_uri
        .as_ref()
        .is_none_or(|u| u.scheme().is_none() || u.host().is_none())
    {
        bail!("--dest must be an absolute URL the device can reach, e.g. http://10.0.0.2:8080/ingest/sensenebula");
    }
    let body = json!({ "event_dest": dest, "enabled": enabled });
    let authority = url.authority().map(|a| a.to_string()).unwrap_or_default();
    let mut request = hyper::Request::post(url.path())
        .header(hyper::header::HOST, authority)
        .header(hyper::header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(hyper::header::AUTHORIZATION, token);
    }
    let request = request.body(Full::new(Bytes::from(body.to_string())))?;
    let response = tokio::time::timeout(Duration::from_secs(15), exchange(&url, request, tls))
        .await
        .with_context(|| format!("{url} did not answer within 15 s"))??;
    let status = response.status();
    let bytes = match crate::body::read_capped(response.into_body(), MAX_ANSWER).await {
        Ok(b) | Err(crate::body::BodyError::TooLarge { prefix: b, .. }) => b,
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
