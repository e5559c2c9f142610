//! The accept loop: HTTP/1.1 on a bound listener, one task per connection, graceful drain on
//! shutdown (open connections finish their requests, bounded by a deadline).

use super::handler::{Shared, handle};
use crate::shutdown::Shutdown;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long open connections get to finish after shutdown starts.
const DRAIN_DEADLINE: Duration = Duration::from_secs(10);

/// Serves until `shutdown` fires, then drains.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, shutdown: Shutdown) -> anyhow::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let http = hyper::server::conn::http1::Builder::new();
    loop {
        let (stream, remote) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and similar: back off instead of spinning.
                    tracing::warn!(error = %e, "Accept failed.");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let service = service_fn(move |req| {
            let shared = shared.clone();
            async move { Ok::<_, std::convert::Infallible>(handle(shared, req, remote).await) }
        });
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%remote, error = %e, "Connection ended with an error.");
            }
        });
    }
    tracing::info!("Shutting down: draining open connections.");
    if tokio::time::timeout(DRAIN_DEADLINE, graceful.shutdown()).await.is_err() {
        tracing::warn!(
            deadline_secs = DRAIN_DEADLINE.as_secs(),
            "Connections still open at the drain deadline; closing them."
        );
    }
    Ok(())
}
