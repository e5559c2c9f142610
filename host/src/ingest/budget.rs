//! The buffered-body budget: request bodies held in memory at once, in all and per peer
//! address. Room is reserved *before* a body is read (its Content-Length, or the source's
//! `max_body_bytes` when it is chunked), so a flood of big or slow bodies is refused at the
//! door (503 when the router is full, 429 when one peer holds its share) instead of growing the
//! process until the kernel kills it. The reservation lives until the request is answered.
//!
//! The last eighth of the budget only takes bodies of up to [`SMALL_BODY_BYTES`]: a flood of
//! big bodies from many addresses cannot stop the small pushes terminals and platforms send.
//!
//! When the whole budget is held, the request that needs room closes the bodies making the
//! slowest progress (`connections::Connections::evict_bodies_for`) and **takes over** what
//! they held, in one step ([`BodyBudget::reserve_or_evict`]): slow bodies cannot hold the
//! budget against fast ones, and an attacker that reconnects the moment it is closed cannot
//! take back the room its eviction made. (The evicted request notices at its next read and
//! ends; until then its few buffered bytes are not counted.)

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

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

impl Held {
    fn release(&mut self, peer: IpAddr, bytes: u64) {
        self.total -= bytes;
        if let Some(n) = self.per_peer.get_mut(&peer) {
            *n -= bytes;
            if *n == 0 {
                self.per_peer.remove(&peer);
            }
        }
    }
}

/// What a reservation holds, shared with whoever may take it over (the connection registry):
/// the peer and the bytes, which a take-over sets to zero.
pub(crate) type Claim = (IpAddr, Arc<AtomicU64>);

/// Bytes of request bodies held now, against the `[server.limits]` budget.
#[derive(Debug, Default)]
pub(crate) struct BodyBudget {
    held: Mutex<Held>,
    refused_global: AtomicU64,
    refused_peer: AtomicU64,
    taken_over: AtomicU64,
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

    /// Reserves `bytes` for a body from `peer`, or says which cap is in the way (the edge
    /// uses [`BodyBudget::reserve_or_evict`]).
    #[cfg(test)]
    fn reserve(self: &Arc<Self>, peer: IpAddr, bytes: u64, caps: Caps) -> Result<Reservation, Exhausted> {
        let mut reservation = self.empty(peer);
        reservation.grow(bytes, caps)?;
        Ok(reservation)
    }

    /// [`BodyBudget::reserve`], making room when the global cap is in the way: `evict` closes
    /// the slowest bodies that hold at least `bytes` and hands over their claims, whose bytes
    /// this reservation takes over. A peer over its own share is refused at once.
    pub(crate) fn reserve_or_evict(
        self: &Arc<Self>,
        peer: IpAddr,
        bytes: u64,
        caps: Caps,
        evict: impl FnOnce(u64) -> Vec<Claim>,
    ) -> Result<Reservation, Exhausted> {
        let mut reservation = self.empty(peer);
        // The lock is let go before anything is returned: dropping a refused reservation
        // takes it again.
        let first = reservation.take(&mut self.lock(), bytes, caps);
        match first {
            Err(Exhausted::Global) => {}
            other => return other.map(|()| reservation).inspect_err(|e| self.count(*e)),
        }
        let claims = evict(bytes);
        let mut held = self.lock();
        for (victim, share) in claims {
            let bytes = share.swap(0, Ordering::AcqRel);
            held.release(victim, bytes);
            self.taken_over.fetch_add(bytes, Ordering::Relaxed);
        }
        let second = reservation.take(&mut held, bytes, caps);
        drop(held);
        second.map(|()| reservation).inspect_err(|e| self.count(*e))
    }

    fn empty(self: &Arc<Self>, peer: IpAddr) -> Reservation {
        Reservation {
            budget: self.clone(),
            peer,
            bytes: Arc::default(),
        }
    }

    fn count(&self, refused: Exhausted) {
        let counter = match refused {
            Exhausted::Global => &self.refused_global,
            Exhausted::Peer => &self.refused_peer,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text of the budget.
    pub(crate) fn render(&self) -> String {
        format!(
            "# HELP switchyard_body_buffered_bytes Request body bytes reserved in memory now.\n# TYPE switchyard_body_buffered_bytes gauge\nswitchyard_body_buffered_bytes {}\n\
             # HELP switchyard_body_budget_refused_total Requests refused for want of body budget, by scope.\n# TYPE switchyard_body_budget_refused_total counter\n\
             switchyard_body_budget_refused_total{{scope=\"global\"}} {}\nswitchyard_body_budget_refused_total{{scope=\"peer\"}} {}\n\
             # HELP switchyard_body_budget_taken_over_bytes_total Budget taken over from slow bodies closed to make room.\n# TYPE switchyard_body_budget_taken_over_bytes_total counter\nswitchyard_body_budget_taken_over_bytes_total {}\n",
            self.lock().total,
            self.refused_global.load(Ordering::Relaxed),
            self.refused_peer.load(Ordering::Relaxed),
            self.taken_over.load(Ordering::Relaxed),
        )
    }
}

/// Reserved body bytes; dropping it gives them back (unless they were taken over).
#[derive(Debug)]
pub(crate) struct Reservation {
    budget: Arc<BodyBudget>,
    peer: IpAddr,
    bytes: Arc<AtomicU64>,
}

impl Reservation {
    /// The bytes it holds.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Acquire)
    }

    /// What a take-over needs: see [`Claim`].
    pub(crate) fn claim(&self) -> Claim {
        (self.peer, self.bytes.clone())
    }

    /// Reserves `more` bytes on top (a decompressed body), or says which cap is in the way.
    pub(crate) fn grow(&mut self, more: u64, caps: Caps) -> Result<(), Exhausted> {
        let budget = self.budget.clone();
        let grown = self.take(&mut budget.lock(), more, caps);
        grown.inspect_err(|e| budget.count(*e))
    }

    fn take(&mut self, held: &mut Held, more: u64, caps: Caps) -> Result<(), Exhausted> {
        let peer_held = held.per_peer.get(&self.peer).copied().unwrap_or(0);
        if peer_held + more > caps.per_peer {
            return Err(Exhausted::Peer);
        }
        let total = self.bytes() + more;
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
        self.bytes.fetch_add(more, Ordering::AcqRel);
        Ok(())
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut held = self.budget.lock();
        // Under the lock: a take-over either happened before (0 left) or will find 0.
        let bytes = self.bytes.swap(0, Ordering::AcqRel);
        if bytes > 0 {
            held.release(self.peer, bytes);
        }
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

    #[test]
    fn a_new_body_takes_over_what_evicted_ones_held() {
        let budget = Arc::new(BodyBudget::default());
        let caps = Caps {
            total: 100,
            per_peer: 100,
        };
        let (slow, fast) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let held: Vec<Reservation> = (0..4).map(|_| budget.reserve(slow, 25, caps).unwrap()).collect();
        let claims: Vec<Claim> = held.iter().map(Reservation::claim).collect();
        let mut asked = 0;
        let taken = budget
            .reserve_or_evict(fast, 40, caps, |needed| {
                asked = needed;
                claims[..2].to_vec()
            })
            .expect("room made");
        assert_eq!((asked, taken.bytes()), (40, 40));
        assert_eq!(
            budget.lock().total,
            40 + 50,
            "two bodies' 50 bytes moved, 10 of them freed"
        );
        assert_eq!(held[0].bytes(), 0, "the evicted reservation holds nothing now");
        drop(held);
        assert_eq!(budget.lock().total, 40, "evicted reservations give back nothing twice");
        assert!(
            budget.reserve_or_evict(fast, 70, caps, |_| Vec::new()).is_err(),
            "nothing to evict: refused"
        );
        let narrow = Caps {
            total: 100,
            per_peer: 10,
        };
        assert_eq!(
            budget.reserve_or_evict(fast, 20, narrow, |_| Vec::new()).unwrap_err(),
            Exhausted::Peer,
            "a peer over its share is refused (and the refused reservation let go of)"
        );
        drop(taken);
        assert_eq!(budget.lock().total, 0);
    }
}
