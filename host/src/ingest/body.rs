//! `read_capped`: the only way the router reads a request body (clippy forbids unbounded
//! `collect`), so no sender can make it buffer more than the source's `max_body_bytes`.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Body;

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Bigger than the cap; `prefix` holds the first `limit` bytes.
    #[error("request body exceeds {limit} bytes")]
    TooLarge {
        /// The cap.
        limit: usize,
        /// What arrived up to the cap (kept in the quarantine).
        prefix: Bytes,
    },
    /// The connection failed mid-body.
    #[error("reading the request body failed: {0}")]
    Read(String),
}

/// Reads at most `limit` bytes of `body` (after de-chunking).
pub async fn read_capped<B>(mut body: B, limit: usize) -> Result<Bytes, BodyError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    // Even when Content-Length already says "too large", the first `limit` bytes are read:
    // they go to the quarantine so the sender's data is not simply gone.
    let mut buf = BytesMut::with_capacity(body.size_hint().exact().map_or(0, |n| n.min(limit as u64) as usize));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                let room = limit - buf.len();
                buf.extend_from_slice(&data[..room]);
                return Err(BodyError::TooLarge {
                    limit,
                    prefix: buf.freeze(),
                });
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}
