//! The accept loop: HTTP/1.1 on a bound listener, one task per admitted connection, graceful
//! drain on shutdown (open connections finish their requests, bounded by a deadline).
//!
//! Every connection passes `connections::Connections` first (global and per-peer caps, the
//! connection making the slowest progress closed when full) and gets hyper's header-read
//! timeout, which runs from accept and from the end of each reply, so it is the keep-alive idle
//! timeout too.

use super::connections::{Conn, Refused};
use super::edge::Edge;
use super::handler::handle;
use crate::shutdown::Shutdown;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// How long open connections get to finish after shutdown starts.
const DRAIN_DEADLINE: Duration = Duration::from_secs(10);
/// Request heads larger than this are answered 431: vendors send a few hundred bytes.
const MAX_HEADER_BYTES: usize = 64 << 10;
/// Refusals answered at once; past it a refused connection is closed without an answer, so a
/// flood of refused connections cannot hold descriptors either.
const REFUSALS_IN_FLIGHT: usize = 64;
/// How long a refusal may take to write and linger.
const REFUSAL_DEADLINE: Duration = Duration::from_secs(1);

/// The next connection of `listener`, or `None` once `shutdown` fires. A failed accept (out of
/// file descriptors and the like) is logged as `failed` and retried after a pause instead of
/// spinning.
pub(crate) async fn accept(
    listener: &TcpListener,
    shutdown: &Shutdown,
    failed: &str,
) -> Option<(tokio::net::TcpStream, std::net::SocketAddr)> {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return None,
            accepted = listener.accept() => match accepted {
                Ok(pair) => return Some(pair),
                Err(e) => {
                    tracing::warn!(error = %e, "{failed}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}

/// Serves until `shutdown` fires, then drains.
pub async fn serve(listener: TcpListener, edge: Arc<Edge>, shutdown: Shutdown) -> anyhow::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let gate = Gate::new(edge.connections.clone());
    loop {
        let Some((stream, remote)) = accept(&listener, &shutdown, "Accept failed.").await else {
            break;
        };
        let limits = edge.router.pipeline().spec().server.limits;
        let Some((stream, conn)) = gate.admit(stream, remote, limits.max_connections, limits.max_connections_per_peer)
        else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .max_header_size(MAX_HEADER_BYTES);
        let edge = edge.clone();
        let state = conn.clone();
        let service = service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            // The head is complete: the body's progress is what ranks this connection now.
            state.progress.body_started();
            req.extensions_mut().insert(state.progress.clone());
            let edge = edge.clone();
            let state = state.clone();
            async move {
                let response = handle(edge, req, remote).await;
                state.progress.waiting();
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        let served = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(run_connection(served, conn, remote));
    }
    tracing::info!("Shutting down: draining open connections.");
    let drained = tokio::time::timeout(DRAIN_DEADLINE, async {
        graceful.shutdown().await;
        // Requests answered early (door decisions) finish their delivery too.
        edge.background.close();
        edge.background.wait().await;
    });
    if drained.await.is_err() {
        tracing::warn!(
            deadline_secs = DRAIN_DEADLINE.as_secs(),
            "Connections (or deliveries after a door decision) still open at the drain deadline; closing them."
        );
    }
    Ok(())
}

/// Admission at a listener (the ingest edge, the console): its connection registry's caps and
/// eviction, and a fixed answer to what it does not admit — at most [`REFUSALS_IN_FLIGHT`] at
/// once, so a flood of refused connections cannot hold descriptors either.
pub(crate) struct Gate {
    connections: Arc<super::connections::Connections>,
    refusals: Arc<Semaphore>,
}

impl Gate {
    pub(crate) fn new(connections: Arc<super::connections::Connections>) -> Gate {
        Gate {
            connections,
            refusals: Arc::new(Semaphore::new(REFUSALS_IN_FLIGHT)),
        }
    }

    /// Admits `stream` (at most `max` connections, `per_peer` from one address), or answers
    /// the refusal in the background and returns `None`.
    pub(crate) fn admit(
        &self,
        stream: TcpStream,
        remote: std::net::SocketAddr,
        max: usize,
        per_peer: usize,
    ) -> Option<(TcpStream, Arc<Conn>)> {
        match self.connections.admit(remote.ip(), max, per_peer) {
            Ok(conn) => Some((stream, Arc::new(conn))),
            Err(why) => {
                tracing::debug!(%remote, reason = why.as_str(), "Connection refused.");
                if let Ok(permit) = self.refusals.clone().try_acquire_owned() {
                    tokio::spawn(async move {
                        refuse(stream, why).await;
                        drop(permit);
                    });
                }
                None
            }
        }
    }
}

/// Runs one connection until it ends or is evicted to make room.
pub(crate) async fn run_connection<F, E>(served: F, conn: Arc<Conn>, remote: std::net::SocketAddr)
where
    F: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let evicted = conn.progress.evict.clone();
    drop(conn);
    tokio::select! {
        ended = served => if let Err(e) = ended {
            tracing::debug!(%remote, error = %e, "Connection ended with an error.");
        },
        _ = evicted.cancelled() => tracing::debug!(%remote, "Connection closed to make room (the slowest progress)."),
    }
}

/// Answers a refused connection with a fixed reply (the request is not read), then closes it.
async fn refuse(mut stream: TcpStream, why: Refused) {
    let (status, message) = match why {
        Refused::PeerLimit => (
            "429 Too Many Requests",
            "too many open connections from this address; retry later",
        ),
        Refused::Full => (
            "503 Service Unavailable",
            "the router is at its connection limit; retry later",
        ),
    };
    let body = serde_json::json!({ "error": message }).to_string();
    let reply = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(REFUSAL_DEADLINE, async {
        stream.write_all(reply.as_bytes()).await?;
        stream.shutdown().await?;
        // Read what the client sent before closing: closing with unread data resets the
        // connection, and the client might lose the answer.
        let mut sink = [0u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, std::io::Error>(())
    })
    .await;
}
