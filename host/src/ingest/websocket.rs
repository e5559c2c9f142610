//! Websocket client sources: the router connects to a vendor's event feed (OMNI's
//! `ws://HOST/event-service/ws?endpoint_id=…`), hands every frame to the source's plugin chain
//! like a request body, and reconnects with exponential backoff when the feed drops. The feed
//! does not redeliver what it sent while nobody listened, so every gap is logged with its
//! length. Frames that cannot be processed are quarantined like HTTP requests. Below the disk
//! budget the follower stops reading (the feed's socket buffers, then the sender holds back)
//! instead of processing frames it could not keep.

use super::edge::Edge;
use super::handler::keep;
use super::response::Error;
use crate::event::AuthKind;
use crate::plugin::Request;
use crate::shutdown::Shutdown;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// How often a follower paused by the disk budget checks storage again.
const STORAGE_RECHECK: Duration = Duration::from_secs(1);

/// A connection that lasted this long resets the backoff: the feed was healthy.
const HEALTHY_CONNECTION: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Follows the feed of websocket source `id` until shutdown.
pub(super) async fn follow(id: String, edge: Arc<Edge>, shutdown: Shutdown) {
    let mut backoff = Duration::from_secs(1);
    let mut down_since: Option<Instant> = None;
    loop {
        // Re-read the source each time: a reload may have changed its URL or plugins.
        let Some(source) = edge.router.pipeline().feed(&id).cloned() else {
            return;
        };
        let Some(ws) = source.spec.kind.websocket().cloned() else {
            return;
        };
        let max = Duration::from_secs(ws.reconnect_max_secs);
        let url = ws.url.to_string();
        // The reader never buffers more than the source's cap (an HTTP body is cut there too);
        // a bigger message ends the connection with a capacity error, noted below.
        let cap = source.spec.max_body_bytes;
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(cap))
            .max_frame_size(Some(cap));
        let connected = tokio::select! {
            _ = shutdown.cancelled() => return,
            c = tokio::time::timeout(
                CONNECT_TIMEOUT,
                tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), false),
            ) => c,
        };
        match connected {
            Ok(Ok((mut stream, _))) => {
                match down_since.take() {
                    Some(since) => {
                        tracing::warn!(source = %id, %url, gap_secs = since.elapsed().as_secs_f64(), "Websocket feed reconnected; events sent during the gap are not redelivered by the sender.")
                    }
                    None => tracing::info!(source = %id, %url, "Websocket feed connected."),
                }
                let started = Instant::now();
                loop {
                    let message = tokio::select! {
                        _ = shutdown.cancelled() => return,
                        m = stream.next() => m,
                    };
                    if matches!(message, Some(Ok(Message::Text(_) | Message::Binary(_)))) {
                        // Below the disk budget the frame waits here and nothing more is read:
                        // it could be neither stored nor quarantined, and the feed does not
                        // redeliver.
                        let mut paused = false;
                        while edge.router.pipeline().disk().check().is_err() {
                            if !std::mem::replace(&mut paused, true) {
                                tracing::warn!(source = %id, %url, "Websocket feed paused: storage is below the disk budget.");
                            }
                            tokio::select! {
                                _ = shutdown.cancelled() => return,
                                _ = tokio::time::sleep(STORAGE_RECHECK) => {},
                            }
                        }
                        if paused {
                            tracing::info!(source = %id, %url, "Websocket feed resumed: storage is back above the disk budget.");
                        }
                    }
                    match message {
                        Some(Ok(Message::Text(text))) => {
                            frame(&id, &edge, &url, bytes::Bytes::from(text.as_bytes().to_vec())).await
                        }
                        Some(Ok(Message::Binary(data))) => frame(&id, &edge, &url, data).await,
                        Some(Ok(Message::Close(_))) | None => break,
                        Some(Ok(_)) => {}
                        Some(Err(tokio_tungstenite::tungstenite::Error::Capacity(e))) => {
                            // Nothing of it is kept in memory to quarantine: the entry says
                            // what came and why it was not taken.
                            tracing::warn!(source = %id, %url, error = %e, limit = cap, "Websocket message over the source's max_body_bytes; reconnecting.");
                            oversize(&id, &edge, &url, cap).await;
                            break;
                        }
                        Some(Err(e)) => {
                            tracing::warn!(source = %id, %url, error = %e, "Websocket feed failed.");
                            break;
                        }
                    }
                }
                if started.elapsed() >= HEALTHY_CONNECTION {
                    backoff = Duration::from_secs(1);
                }
                tracing::warn!(source = %id, %url, "Websocket feed disconnected; reconnecting.");
            }
            Ok(Err(e)) => {
                tracing::warn!(source = %id, %url, error = %e, retry_in_secs = backoff.as_secs(), "Websocket feed unreachable.")
            }
            Err(_) => {
                tracing::warn!(source = %id, %url, retry_in_secs = backoff.as_secs(), "Websocket feed connection timed out.")
            }
        }
        down_since.get_or_insert_with(Instant::now);
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(backoff) => {},
        }
        backoff = (backoff * 2).min(max);
    }
}

/// A message over the cap, which the reader refused: a cut entry in the quarantine (no body)
/// says it came.
async fn oversize(id: &str, edge: &Edge, url: &str, limit: usize) {
    let pipeline = edge.router.pipeline();
    let request = request(id, url, bytes::Bytes::new());
    keep(
        &pipeline,
        crate::disk::Share::All,
        &request,
        &Error::TooLarge { limit },
        true,
    )
    .await;
}

fn request(id: &str, url: &str, body: bytes::Bytes) -> Request {
    let uri: hyper::Uri = url.parse().unwrap_or_default();
    Request {
        method: "WEBSOCKET".to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or("").to_string(),
        headers: Vec::new(),
        body,
        remote_addr: uri.authority().map(|a| a.to_string()),
        source_id: id.to_string(),
        delivery_id: crate::clock::new_ulid(),
        received_at: crate::clock::now_rfc3339(),
    }
}

/// One frame through the pipeline; failures are quarantined (the feed has no one to answer).
async fn frame(id: &str, edge: &Edge, url: &str, body: bytes::Bytes) {
    let pipeline = edge.router.pipeline();
    let Some(source) = pipeline.feed(id).cloned() else {
        return;
    };
    let request = request(id, url, body);
    match super::feed::process(edge, &pipeline, &source, &request, AuthKind::UrlToken).await {
        Ok(p) => {
            tracing::info!(source = %id, delivery_id = %request.delivery_id, emitted = p.emitted, duplicates = p.duplicates, "Websocket frame processed.")
        }
        Err(error) => {
            tracing::warn!(source = %id, delivery_id = %request.delivery_id, bytes = request.body.len(), error = %error, "Websocket frame failed; kept in quarantine.");
            keep(&pipeline, crate::disk::Share::All, &request, &error, false).await;
        }
    }
}
