//! The `webhook` sink's HTTP side: one attempt at delivering one outbox entry — rendered in the
//! sink's format, signed if it has a secret, within its timeout. Scheduling, retries and dead
//! letters are the durable queue's.

use super::DeliveryError;
use super::format::{SigningKey, render};
use crate::config::WebhookSpec;
use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// Bytes of an error answer kept for logs and the dead letter.
const ERROR_BODY_BYTES: usize = 512;

/// A webhook sink: its spec, HTTP(S) client and signing key.
#[derive(Debug)]
pub struct WebhookSink {
    id: String,
    spec: WebhookSpec,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    /// The signing key, or why it is unavailable (events then wait and retry: nothing leaves
    /// unsigned once a secret is configured).
    signing: Option<Result<SigningKey, String>>,
    /// How events are encoded when they are committed for this sink.
    encoding: crate::event::Encoding,
}

impl WebhookSink {
    /// The same sink encoding its events as `encoding`.
    pub fn with_encoding(mut self, encoding: crate::event::Encoding) -> WebhookSink {
        self.encoding = encoding;
        self
    }

    /// How its events are encoded.
    pub fn encoding(&self) -> crate::event::Encoding {
        self.encoding
    }

    /// Builds the sink and its HTTP(S) client (public web roots, plus `ca_file` if set), and
    /// reads its signing secret.
    pub fn new(id: &str, spec: &WebhookSpec) -> anyhow::Result<WebhookSink> {
        let tls = crate::tls::client_config(&crate::tls::TlsOptions {
            ca: spec.ca_file.clone(),
            insecure: false,
        })?;
        let connector = crate::tls::connector(tls, Duration::from_millis(spec.timeout_ms));
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(spec.concurrency)
            .build(connector);
        let signing = spec.signing_secret.as_ref().map(|secret| {
            let key = secret.read().and_then(|s| SigningKey::parse(&s));
            if let Err(reason) = &key {
                tracing::warn!(sink = %id, %reason, "Signing secret unavailable; this sink's events wait in the outbox until it is fixed.");
            }
            key
        });
        Ok(WebhookSink {
            id: id.to_string(),
            spec: spec.clone(),
            client,
            signing,
            encoding: crate::event::Encoding::Full,
        })
    }

    /// The sink id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its spec.
    pub fn spec(&self) -> &WebhookSpec {
        &self.spec
    }

    /// One attempt at delivering an event (its router.event/v1 JSON) under its webhook-id.
    pub async fn send(&self, webhook_id: &str, payload: &Bytes) -> Result<(), DeliveryError> {
        let rendered = render(self.spec.format, webhook_id, payload)?;
        let mut request = hyper::Request::post(self.spec.url.clone())
            .header(hyper::header::CONTENT_TYPE, rendered.content_type)
            .header(
                hyper::header::USER_AGENT,
                concat!("switchyard/", env!("CARGO_PKG_VERSION")),
            )
            .header("webhook-id", webhook_id);
        for (name, value) in &rendered.headers {
            request = request.header(*name, value.as_str());
        }
        match &self.signing {
            None => {}
            Some(Ok(key)) => {
                let timestamp = crate::clock::now_ms() / 1000;
                request = request
                    .header("webhook-timestamp", timestamp.to_string())
                    .header("webhook-signature", key.sign(webhook_id, timestamp, &rendered.body));
            }
            Some(Err(reason)) => return Err(DeliveryError::Config(reason.clone())),
        }
        for (name, value) in &self.spec.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = request
            .body(Full::new(rendered.body))
            .map_err(|e| DeliveryError::Request(e.to_string()))?;
        let timeout = Duration::from_millis(self.spec.timeout_ms);
        let response = match tokio::time::timeout(timeout, self.client.request(request)).await {
            Err(_) => return Err(DeliveryError::Timeout(self.spec.timeout_ms)),
            Ok(Err(e)) => return Err(DeliveryError::Connect(format!("{e:#}"))),
            Ok(Ok(r)) => r,
        };
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after_secs = response
            .headers()
            .get(hyper::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| super::retry_after_secs(v, std::time::SystemTime::now()));
        let body = match tokio::time::timeout(
            timeout,
            crate::body::read_capped(response.into_body(), ERROR_BODY_BYTES),
        )
        .await
        {
            Ok(Ok(b)) | Ok(Err(crate::body::BodyError::TooLarge { prefix: b, .. })) => {
                String::from_utf8_lossy(&b).into_owned()
            }
            _ => String::new(),
        };
        Err(DeliveryError::Status {
            status: status.as_u16(),
            body,
            retry_after_secs,
        })
    }
}
