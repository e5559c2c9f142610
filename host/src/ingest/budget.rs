//! The buffered-body budget: request bodies held in memory at once, in all and per peer
//! address. Room is reserved *before* a body is read (its Content-Length, or the source's
//! `max_body_bytes` when it is chunked), so a flood of big or slow bodies is refused at the
//! door (503 when the router is full, 429 when one peer holds its share) instead of growing the
//! process until the kernel kills it. The reservation lives until the request is answered.
//!
//! The last eighth of the budget only takes bodies of up to [`SMALL_BODY_BYTES`]: a flood of
//! big bodies from many addresses cannot stop the small pushes terminals and platforms send.
//! When the whole budget is held, the edge closes the bodies making the slowest progress
//! (`connections::Connections::evict_bodies_for`) and the new request waits up to
//! [`ROOM_WAIT`] for what they give back ([`BodyBudget::wait_for_room`]): slow bodies cannot
//! hold the budget against fast ones.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a request waits for body budget that evicted slow bodies are giving back.
pub(crate) const ROOM_WAIT: Duration = Duration::from_secs(2);

/// Bodies up to this size may use the reserve (a face-terminal push, a FindFace event with
/// its thumbnails by URL).
pub(crate) const SMALL_BODY_BYTES: u64 = 64 << 10;
/// The share of the budget kept for small bodies: 1/RESERVE_SHARE.
const RESERVE_SHARE: u64 = 8;

/// Why room for a body was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exhausted {
    /// All peers together hold the whole budget.
    Global,
    /// This peer holds its share.
    Peer,
}

#[derive(Debug, Default)]
struct Held {
    total: u64,
    per_peer: HashMap<IpAddr, u64>,
}

/// Bytes of request bodies held now, against the `[server.limits]` budget.
#[derive(Debug, Default)]
pub(crate) struct BodyBudget {
    held: Mutex<Held>,
    refused_global: AtomicU64,
    refused_peer: AtomicU64,
    /// Woken whenever a reservation gives its bytes back.
    freed: tokio::sync::Notify,
}

/// The budget's caps, from the live config.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caps {
    pub(crate) total: u64,
    pub(crate) per_peer: u64,
}

impl From<&crate::config::EdgeLimits> for Caps {
    fn from(limits: &crate::config::EdgeLimits) -> Caps {
        Caps {
            total: limits.max_buffered_body_bytes,
            per_peer: limits.peer_buffered_body_bytes,
        }
    }
}

impl BodyBudget {
    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reserves `bytes` for a body from `peer`, or says which cap is in the way.
    pub(crate) fn reserve(self: &Arc<Self>, peer: IpAddr, bytes: u64, caps: Caps) -> Result<Reservation, Exhausted> {
        self.try_reserve(peer, bytes, caps).inspect_err(|e| self.count(*e))
    }

    /// [`BodyBudget::reserve`] without counting a refusal (the caller may still make room).
    pub(crate) fn try_reserve(
        self: &Arc<Self>,
        peer: IpAddr,
        bytes: u64,
        caps: Caps,
    ) -> Result<Reservation, Exhausted> {
        let mut reservation = Reservation {
            budget: self.clone(),
            peer,
            bytes: 0,
        };
        reservation.take(bytes, caps)?;
        Ok(reservation)
    }

    /// Counts a refused body.
    pub(crate) fn count(&self, refused: Exhausted) {
        let counter = match refused {
            Exhausted::Global => &self.refused_global,
            Exhausted::Peer => &self.refused_peer,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// [`BodyBudget::reserve`], waiting up to `wait` for room to be given back while the
    /// global cap is in the way (a peer over its own share is refused at once).
    pub(crate) async fn wait_for_room(
        self: &Arc<Self>,
        peer: IpAddr,
        bytes: u64,
        caps: Caps,
        wait: Duration,
    ) -> Result<Reservation, Exhausted> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            // Registered before trying: a release between the try and the wait is not missed.
            freed.as_mut().enable();
            match self.try_reserve(peer, bytes, caps) {
                Err(Exhausted::Global) => {}
                Err(e) => {
                    self.count(e);
                    return Err(e);
                }
                ok => return ok,
            }
            if tokio::time::timeout_at(deadline, freed).await.is_err() {
                return self.reserve(peer, bytes, caps);
            }
        }
    }

    /// The Prometheus text of the budget.
    pub(crate) fn render(&self) -> String {
        format!(
            "# HELP switchyard_body_buffered_bytes Request body bytes reserved in memory now.\n# TYPE switchyard_body_buffered_bytes gauge\nswitchyard_body_buffered_bytes {}\n\
             # HELP switchyard_body_budget_refused_total Requests refused for want of body budget, by scope.\n# TYPE switchyard_body_budget_refused_total counter\n\
             switchyard_body_budget_refused_total{{scope=\"global\"}} {}\nswitchyard_body_budget_refused_total{{scope=\"peer\"}} {}\n",
            self.lock().total,
            self.refused_global.load(Ordering::Relaxed),
            self.refused_peer.load(Ordering::Relaxed),
        )
    }
}

/// Reserved body bytes; dropping it gives them back.
#[derive(Debug)]
pub(crate) struct Reservation {
    budget: Arc<BodyBudget>,
    peer: IpAddr,
    bytes: u64,
}

impl Reservation {
    /// The bytes it holds.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Reserves `more` bytes on top (a decompressed body), or says which cap is in the way.
    pub(crate) fn grow(&mut self, more: u64, caps: Caps) -> Result<(), Exhausted> {
        self.take(more, caps).inspect_err(|e| self.budget.count(*e))
    }

    /// [`Reservation::grow`] without counting a refusal (a try of a request that waits).
    fn take(&mut self, more: u64, caps: Caps) -> Result<(), Exhausted> {
        let mut held = self.budget.lock();
        let peer_held = held.per_peer.get(&self.peer).copied().unwrap_or(0);
        if peer_held + more > caps.per_peer {
            return Err(Exhausted::Peer);
        }
        let total = self.bytes + more;
        let room = if total <= SMALL_BODY_BYTES {
            caps.total
        } else {
            caps.total - caps.total / RESERVE_SHARE
        };
        if held.total + more > room {
            return Err(Exhausted::Global);
        }
        held.total += more;
        *held.per_peer.entry(self.peer).or_default() += more;
        self.bytes += more;
        Ok(())
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.bytes == 0 {
            return;
        }
        let mut held = self.budget.lock();
        held.total -= self.bytes;
        if let Some(n) = held.per_peer.get_mut(&self.peer) {
            *n -= self.bytes;
            if *n == 0 {
                held.per_peer.remove(&self.peer);
            }
        }
        drop(held);
        self.budget.freed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_bodies_leave_the_reserve_to_small_ones() {
        let budget = Arc::new(BodyBudget::default());
        let caps = Caps {
            total: 8 * SMALL_BODY_BYTES * 4,
            per_peer: u64::MAX,
        };
        let peer = "10.0.0.1".parse().unwrap();
        let big = SMALL_BODY_BYTES * 4;
        let held: Vec<_> = (0..7).map(|_| budget.reserve(peer, big, caps).unwrap()).collect();
        assert_eq!(budget.reserve(peer, big, caps).unwrap_err(), Exhausted::Global);
        let small: Vec<_> = (0..4)
            .map(|_| budget.reserve(peer, SMALL_BODY_BYTES, caps).unwrap())
            .collect();
        assert_eq!(budget.reserve(peer, 1, caps).unwrap_err(), Exhausted::Global);
        drop((held, small));
    }

    #[test]
    fn peers_hold_their_share_and_all_of_them_the_total() {
        let budget = Arc::new(BodyBudget::default());
        // Under SMALL_BODY_BYTES, the whole budget is open.
        let caps = Caps {
            total: 100,
            per_peer: 60,
        };
        let (a, b, c) = (
            "10.0.0.1".parse().unwrap(),
            "10.0.0.2".parse().unwrap(),
            "10.0.0.3".parse().unwrap(),
        );
        let a1 = budget.reserve(a, 50, caps).unwrap();
        assert_eq!(budget.reserve(a, 20, caps).unwrap_err(), Exhausted::Peer);
        let mut b1 = budget.reserve(b, 40, caps).unwrap();
        assert_eq!(budget.reserve(c, 20, caps).unwrap_err(), Exhausted::Global);
        assert_eq!(b1.grow(20, caps).unwrap_err(), Exhausted::Global);
        drop(a1);
        b1.grow(20, caps).unwrap();
        assert!(
            budget.reserve(c, 40, caps).is_ok(),
            "a dropped reservation frees its bytes"
        );
        drop(b1);
        assert_eq!(budget.lock().total, 0);
        assert!(budget.lock().per_peer.is_empty());
    }
}
