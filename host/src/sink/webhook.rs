//! The `webhook` sink: POST each event as JSON, retrying with exponential backoff; events that
//! fail permanently or exhaust their attempts go to a dead-letter file with the last error.

use super::DeliveryError;
use super::retry::{Class, Schedule, classify};
use crate::config::WebhookSpec;
use crate::event::Event;
use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::{Notify, Semaphore};

/// Deliveries in flight per sink: enough to keep a receiver busy, few enough not to drown it.
const CONCURRENCY: usize = 16;
/// Longest wait between attempts, whatever the backoff or `Retry-After` say.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Bytes of an error answer kept for logs and the dead-letter record.
const ERROR_BODY_BYTES: usize = 512;

/// A webhook sink.
#[derive(Debug, Clone)]
pub struct WebhookSink {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    id: String,
    spec: WebhookSpec,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    permits: Semaphore,
    pending: AtomicUsize,
    idle: Notify,
    dead_letter: PathBuf,
    dead_letter_lock: tokio::sync::Mutex<()>,
}

impl WebhookSink {
    /// Builds the sink and its HTTP(S) client (public web roots, plus `ca_file` if set).
    pub fn new(id: &str, spec: &WebhookSpec, dead_letter: PathBuf) -> anyhow::Result<WebhookSink> {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_millis(spec.timeout_ms)));
        connector.set_nodelay(true);
        // The URL decides: plain TCP for http://, rustls for https://.
        connector.enforce_http(false);
        let tls = crate::tls::client_config(&crate::tls::TlsOptions {
            ca: spec.ca_file.clone(),
            insecure: false,
        })?;
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(WebhookSink {
            inner: Arc::new(Inner {
                id: id.to_string(),
                spec: spec.clone(),
                client,
                permits: Semaphore::new(CONCURRENCY),
                pending: AtomicUsize::new(0),
                idle: Notify::new(),
                dead_letter,
                dead_letter_lock: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// The sink id.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// Queues one event for delivery.
    pub fn enqueue(&self, event: Arc<Event>) {
        self.inner.pending.fetch_add(1, Ordering::SeqCst);
        let inner = self.inner.clone();
        tokio::spawn(async move {
            inner.deliver(&event).await;
            if inner.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
                inner.idle.notify_waiters();
            }
        });
    }

    /// Waits until no delivery is pending.
    pub async fn drain(&self) {
        loop {
            let idle = self.inner.idle.notified();
            if self.inner.pending.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }
}

impl Inner {
    async fn deliver(&self, event: &Event) {
        let body = match serde_json::to_vec(event) {
            Ok(b) => Bytes::from(b),
            Err(e) => return self.dead_letter(event, 0, &DeliveryError::Request(e.to_string())).await,
        };
        let schedule = Schedule {
            max_attempts: self.spec.max_attempts,
            base: Duration::from_millis(self.spec.backoff_ms),
            cap: MAX_BACKOFF,
        };
        let mut attempt = 1;
        loop {
            let result = {
                let _permit = self.permits.acquire().await;
                self.attempt(event, body.clone()).await
            };
            let error = match result {
                Ok(()) => {
                    tracing::debug!(sink = %self.id, event_uid = %event.event_uid, attempt, "Delivered.");
                    return;
                }
                Err(e) => e,
            };
            let retry = match classify(&error) {
                Class::Retryable => schedule.delay(attempt + 1, &error),
                Class::Permanent => None,
            };
            match retry {
                Some(delay) => {
                    tracing::warn!(sink = %self.id, event_uid = %event.event_uid, attempt, error = %error, retry_in_ms = delay.as_millis() as u64, "Delivery failed; will retry.");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                None => return self.dead_letter(event, attempt, &error).await,
            }
        }
    }

    async fn attempt(&self, event: &Event, body: Bytes) -> Result<(), DeliveryError> {
        let mut request = hyper::Request::post(self.spec.url.clone())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(
                hyper::header::USER_AGENT,
                concat!("switchyard/", env!("CARGO_PKG_VERSION")),
            )
            .header("switchyard-event-uid", event.event_uid.as_str());
        for (name, value) in &self.spec.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = request
            .body(Full::new(body))
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
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = match tokio::time::timeout(
            timeout,
            crate::ingest::read_capped(response.into_body(), ERROR_BODY_BYTES),
        )
        .await
        {
            Ok(Ok(b)) | Ok(Err(crate::ingest::BodyError::TooLarge { prefix: b, .. })) => {
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

    async fn dead_letter(&self, event: &Event, attempts: u32, error: &DeliveryError) {
        tracing::error!(sink = %self.id, event_uid = %event.event_uid, attempts, error = %error, path = %self.dead_letter.display(), "Delivery gave up; event written to the dead-letter file.");
        let record = serde_json::json!({
            "sink": self.id,
            "failed_at": crate::clock::now_rfc3339(),
            "attempts": attempts,
            "last_error": error.to_string(),
            "event": event,
        });
        let mut line = record.to_string();
        line.push('\n');
        let _guard = self.dead_letter_lock.lock().await;
        let written = async {
            if let Some(dir) = self.dead_letter.parent() {
                tokio::fs::create_dir_all(dir).await?;
            }
            let mut f = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.dead_letter)
                .await?;
            f.write_all(line.as_bytes()).await?;
            f.flush().await
        };
        if let Err(e) = written.await {
            tracing::error!(sink = %self.id, event_uid = %event.event_uid, error = %e, "Could not write the dead-letter file; the event is lost.");
        }
    }
}
