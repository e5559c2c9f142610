//! Bounded body reading. `read_capped` / `read_paced` are the only ways the router reads a body (clippy forbids
//! unbounded `collect`), so no sender can make it buffer more than the source's
//! `max_body_bytes`, nor hold a connection and its buffer by trickling the body.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Body;
use std::time::Duration;
use tokio::time::Instant;

/// How long a body may take to start flowing before the minimum rate applies: a sender's
/// first packets can wait on a TCP window or a busy disk.
pub const BODY_RATE_GRACE: Duration = Duration::from_secs(5);

/// How fast a body must arrive.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// The whole body within this long.
    pub deadline: Duration,
    /// After `grace`, at least this many bytes per second on average (0: no floor).
    pub min_bytes_per_sec: u64,
    /// How long before the floor applies ([`BODY_RATE_GRACE`] at the edge).
    pub grace: Duration,
}

impl Pace {
    /// When the byte after `received` must have arrived, counted from `start`.
    fn next_deadline(&self, start: Instant, received: usize) -> Instant {
        let whole = start + self.deadline;
        if self.min_bytes_per_sec == 0 {
            return whole;
        }
        let schedule = Duration::from_secs_f64((received as f64 + 1.0) / self.min_bytes_per_sec as f64);
        whole.min(start + self.grace + schedule)
    }
}

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
    /// The body came too slowly; `prefix` holds what arrived.
    #[error(
        "request body arrived too slowly: {} bytes in {:.1} s (the whole body must arrive within {} s, at least {} bytes/s after the first {:.1} s)",
        prefix.len(), elapsed.as_secs_f64(), pace.deadline.as_secs(), pace.min_bytes_per_sec, pace.grace.as_secs_f64()
    )]
    TooSlow {
        /// What arrived in time.
        prefix: Bytes,
        /// How long the router waited.
        elapsed: Duration,
        /// The pace that was asked for.
        pace: Pace,
    },
}

/// Reads at most `limit` bytes of `body` (after de-chunking).
pub async fn read_capped<B>(body: B, limit: usize) -> Result<Bytes, BodyError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    read_paced(body, limit, None).await
}

/// Reads at most `limit` bytes of `body`, failing with [`BodyError::TooSlow`] when it does
/// not keep `pace`.
pub async fn read_paced<B>(body: B, limit: usize, pace: Option<Pace>) -> Result<Bytes, BodyError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    read_observed(body, limit, pace, |_| {}).await
}

/// [`read_paced`], telling `arrived` the size of every piece as it comes (the connection
/// registry ranks connections by their bodies' progress).
pub(crate) async fn read_observed<B>(
    mut body: B,
    limit: usize,
    pace: Option<Pace>,
    mut arrived: impl FnMut(usize),
) -> Result<Bytes, BodyError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    // Even when Content-Length already says "too large", the first `limit` bytes are read:
    // they go to the quarantine so the sender's data is not simply gone.
    let declared = body.size_hint().exact();
    let mut buf = BytesMut::with_capacity(declared.map_or(0, |n| n.min(limit as u64) as usize));
    let start = Instant::now();
    loop {
        let next = match pace {
            None => body.frame().await,
            Some(pace) => match tokio::time::timeout_at(pace.next_deadline(start, buf.len()), body.frame()).await {
                Ok(next) => next,
                Err(_) => {
                    return Err(BodyError::TooSlow {
                        prefix: buf.freeze(),
                        elapsed: start.elapsed(),
                        pace,
                    });
                }
            },
        };
        let Some(frame) = next else { break };
        let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            arrived(data.len());
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
    // A stream whose connection was dropped ends like a whole one: only the declared length
    // tells a cut body from a complete one.
    if let Some(declared) = declared
        && (buf.len() as u64) < declared
    {
        return Err(BodyError::Read(format!(
            "the body ended after {} of its {declared} declared bytes",
            buf.len()
        )));
    }
    Ok(buf.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pace_allows_a_grace_then_a_floor_within_the_deadline() {
        let pace = Pace {
            deadline: Duration::from_secs(60),
            min_bytes_per_sec: 1000,
            grace: BODY_RATE_GRACE,
        };
        let t0 = Instant::now();
        assert_eq!(
            pace.next_deadline(t0, 0),
            t0 + BODY_RATE_GRACE + Duration::from_millis(1)
        );
        assert_eq!(
            pace.next_deadline(t0, 9_999),
            t0 + BODY_RATE_GRACE + Duration::from_secs(10)
        );
        assert_eq!(pace.next_deadline(t0, 10_000_000), t0 + Duration::from_secs(60));
        let no_floor = Pace {
            min_bytes_per_sec: 0,
            ..pace
        };
        assert_eq!(no_floor.next_deadline(t0, 0), t0 + Duration::from_secs(60));
    }

    #[tokio::test]
    async fn a_trickling_body_is_cut_off_with_what_arrived() {
        // One byte per 50 ms: 20 bytes/s, below the floor of 100 once the grace is over.
        let trickle = futures_util::stream::unfold(0u32, |n| async move {
            if n > 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let frame = hyper::body::Frame::data(Bytes::from_static(b"x"));
            (n < 100).then_some((Ok::<_, std::convert::Infallible>(frame), n + 1))
        });
        let body = http_body_util::StreamBody::new(Box::pin(trickle));
        let pace = Pace {
            deadline: Duration::from_secs(60),
            min_bytes_per_sec: 100,
            grace: Duration::from_millis(200),
        };
        match read_paced(body, 1 << 20, Some(pace)).await {
            Err(BodyError::TooSlow { prefix, elapsed, .. }) => {
                // The floor bites once the grace is over (about 4–5 bytes in), long before the
                // 100 bytes or the 60 s deadline.
                assert!(prefix.len() >= 3 && prefix.len() < 50, "{}", prefix.len());
                assert!(elapsed < Duration::from_secs(5));
            }
            other => panic!("expected TooSlow, got {other:?}"),
        }
    }
}
