//! Open connections: a global cap kept below the open-file limit, a cap per peer address, and
//! who makes room when the router is full.
//!
//! Every connection is in one of three phases: *waiting* for a request head (from accept, and
//! again from the end of each reply), reading a request *body*, or *working* (the body is in,
//! the request is being processed and answered). When every slot is taken, or the body
//! budget is, the connection making the **slowest progress** is closed to make room:
//!
//! 1. a connection that has waited for its head for [`MIN_WAIT_AGE`] or more has delivered
//!    nothing in that time: the longest-waiting first;
//! 2. then a body that has been arriving for at least [`MIN_BODY_AGE`], ranked by its average
//!    rate (bytes per second since its head was complete), slowest first;
//! 3. last, a connection too young to have shown its pace — opened (or answered) less than
//!    [`MIN_WAIT_AGE`] ago, or with a body younger than [`MIN_BODY_AGE`] — the oldest first.
//!
//! A working connection is never chosen. In the last tier the oldest goes first, so a real
//! sender's new connection — its head and body follow within a round trip — is the last to
//! go; and an attacker that reconnects the moment it is closed, so that all its connections
//! are young, still loses them to newcomers instead of being protected by their youth. Only
//! bodies hold body budget, so making room in the budget takes only bodies.
//!
//! A slowloris attacker (heads that never end) or a slow-body attacker (bodies that trickle at
//! just over `min_body_bytes_per_sec`) holds only the slowest connections there are, so it
//! loses them first, while a real sender — head and body at once, then busy for milliseconds
//! — is never chosen. The same rule runs the console's listener, with its own caps.

use super::budget::Claim;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// A body must have been arriving this long before its rate can rank it for eviction: a
/// fresh sender's first packets may wait on a TCP window.
pub(crate) const MIN_BODY_AGE: Duration = Duration::from_secs(1);
/// A connection waiting for its head this long has shown it is slow (a real sender's head
/// follows its connect, or a reply, within a round trip).
pub(crate) const MIN_WAIT_AGE: Duration = Duration::from_millis(250);

/// The clock phases are measured on: milliseconds since the first use, plus an hour, so that
/// "since" is never near zero (ages count back from it without saturating).
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn now_ms() -> u64 {
    EPOCH.elapsed().as_millis() as u64 + 3_600_000
}

/// File descriptors kept free for everything that is not a client connection: the outbox
/// database and its WAL, file sinks, quarantine and blob writes, webhook client connections,
/// the config watcher, refusal answers.
fn reserved_fds(limit: u64) -> u64 {
    64 + limit / 4
}

/// Raises the soft open-file limit to the hard one (allowed without privileges) and returns
/// how many client connections fit under it.
pub(crate) fn connection_ceiling() -> usize {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    let soft = limit.current.unwrap_or(u64::MAX);
    let hard = limit.maximum.unwrap_or(u64::MAX);
    if soft < hard {
        // Bounded: some systems report an unlimited hard limit that the kernel's nr_open refuses.
        limit.current = Some(hard.min(1 << 20));
        match setrlimit(Resource::Nofile, limit) {
            Ok(()) => tracing::debug!(from = soft, to = ?limit.current, "Raised the open-file limit."),
            Err(e) => tracing::warn!(soft, hard, error = %e, "Could not raise the open-file limit."),
        }
    }
    let soft = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX).min(1 << 20);
    soft.saturating_sub(reserved_fds(soft)).max(1) as usize
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The peer already holds `max_connections_per_peer`.
    PeerLimit,
    /// Every slot is busy with a request.
    Full,
}

impl Refused {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Refused::PeerLimit => "peer_limit",
            Refused::Full => "full",
        }
    }
}

const WAITING: u8 = 0;
const BODY: u8 = 1;
const WORKING: u8 = 2;

/// What one connection's current request is doing; shared between the registry (which ranks
/// connections by it) and the request's handler (which reports it).
#[derive(Debug)]
pub(crate) struct Progress {
    phase: AtomicU8,
    since_ms: AtomicU64,
    bytes: AtomicU64,
    /// Its request's body-budget reservation (what evicting it hands over).
    held: Mutex<Option<Claim>>,
    /// Cancelled when the connection is closed to make room.
    pub(crate) evict: CancellationToken,
}

impl Default for Progress {
    fn default() -> Progress {
        Progress {
            phase: AtomicU8::new(WAITING),
            since_ms: AtomicU64::new(now_ms()),
            bytes: AtomicU64::new(0),
            held: Mutex::new(None),
            evict: CancellationToken::new(),
        }
    }
}

impl Progress {
    fn enter(&self, phase: u8) {
        self.bytes.store(0, Ordering::Relaxed);
        *self.claim_slot() = None;
        self.since_ms.store(now_ms(), Ordering::Relaxed);
        self.phase.store(phase, Ordering::Release);
    }

    /// A request head is complete: its body is being read.
    pub(crate) fn body_started(&self) {
        self.enter(BODY);
    }

    /// `n` more body bytes arrived.
    pub(crate) fn received(&self, n: usize) {
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// The request holds this body-budget reservation.
    pub(crate) fn holds(&self, claim: Claim) {
        *self.claim_slot() = Some(claim);
    }

    fn claim_slot(&self) -> std::sync::MutexGuard<'_, Option<Claim>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Body-budget bytes its request holds now.
    fn held_bytes(&self) -> u64 {
        self.claim_slot().as_ref().map_or(0, |(_, b)| b.load(Ordering::Acquire))
    }

    /// The body is in: the request is being processed, not to be evicted.
    pub(crate) fn working(&self) {
        self.phase.store(WORKING, Ordering::Release);
    }

    /// The reply is out: waiting for the next request head.
    pub(crate) fn waiting(&self) {
        self.enter(WAITING);
    }

    /// True once the connection was closed to make room (what its body reader got is not the
    /// whole body, whatever the stream said).
    pub(crate) fn was_evicted(&self) -> bool {
        self.evict.is_cancelled()
    }

    /// Its rank for eviction, lowest first: (tier, bytes per second, since); `None` when it
    /// may not be chosen (see the module docs for the tiers).
    fn rank(&self, now: u64) -> Option<(u8, u64, u64)> {
        let since = self.since_ms.load(Ordering::Relaxed);
        let age = now.saturating_sub(since);
        match self.phase.load(Ordering::Acquire) {
            WAITING if age >= MIN_WAIT_AGE.as_millis() as u64 => Some((1, 0, since)),
            WAITING => Some((3, 0, since)),
            BODY if age >= MIN_BODY_AGE.as_millis() as u64 => {
                Some((2, self.bytes.load(Ordering::Relaxed) * 1000 / age.max(1), since))
            }
            BODY => Some((3, 0, since)),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct Entry {
    peer: IpAddr,
    progress: Arc<Progress>,
}

#[derive(Debug, Default)]
struct Inner {
    open: HashMap<u64, Entry>,
    per_peer: HashMap<IpAddr, usize>,
}

impl Inner {
    fn remove(&mut self, id: u64) -> Option<Entry> {
        let entry = self.open.remove(&id)?;
        if let Some(n) = self.per_peer.get_mut(&entry.peer) {
            *n -= 1;
            if *n == 0 {
                self.per_peer.remove(&entry.peer);
            }
        }
        Some(entry)
    }

    /// The connections that may be closed to make room, slowest progress first.
    fn candidates(&self) -> Vec<((u8, u64, u64), u64)> {
        let now = now_ms();
        let mut ranked: Vec<((u8, u64, u64), u64)> = self
            .open
            .iter()
            .filter_map(|(id, e)| e.progress.rank(now).map(|rank| (rank, *id)))
            .collect();
        ranked.sort_unstable();
        ranked
    }
}

/// The open connections of one listener.
#[derive(Debug)]
pub(crate) struct Connections {
    /// Metric names start with this (`switchyard_connections`, `switchyard_admin_connections`).
    metric: &'static str,
    ceiling: usize,
    inner: Mutex<Inner>,
    next_id: AtomicU64,
    evicted_waiting: AtomicU64,
    evicted_body: AtomicU64,
    refused_peer: AtomicU64,
    refused_full: AtomicU64,
}

impl Connections {
    /// A registry admitting at most `ceiling` connections whatever the config says.
    pub(crate) fn new(ceiling: usize) -> Arc<Connections> {
        Connections::named("switchyard_connections", ceiling)
    }

    /// The same, with its metrics under another name.
    pub(crate) fn named(metric: &'static str, ceiling: usize) -> Arc<Connections> {
        Arc::new(Connections {
            metric,
            ceiling,
            inner: Mutex::default(),
            next_id: AtomicU64::new(0),
            evicted_waiting: AtomicU64::new(0),
            evicted_body: AtomicU64::new(0),
            refused_peer: AtomicU64::new(0),
            refused_full: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Closes connection `id` to make room (its slot is free at once); returns its request's
    /// body-budget claim, if it has one.
    fn evict(&self, inner: &mut Inner, id: u64) -> Option<Claim> {
        let entry = inner.remove(id)?;
        let p = &entry.progress;
        let counter = if p.phase.load(Ordering::Acquire) == WAITING {
            &self.evicted_waiting
        } else {
            &self.evicted_body
        };
        counter.fetch_add(1, Ordering::Relaxed);
        p.evict.cancel();
        p.claim_slot().take()
    }

    /// Admits a connection from `peer` (closing the one making the slowest progress if the
    /// listener is full), or says why not.
    pub(crate) fn admit(self: &Arc<Self>, peer: IpAddr, max: usize, per_peer: usize) -> Result<Conn, Refused> {
        let max = self.cap(max);
        let mut inner = self.lock();
        if inner.per_peer.get(&peer).copied().unwrap_or(0) >= per_peer {
            self.refused_peer.fetch_add(1, Ordering::Relaxed);
            return Err(Refused::PeerLimit);
        }
        if inner.open.len() >= max {
            let Some(&(_, victim)) = inner.candidates().first() else {
                self.refused_full.fetch_add(1, Ordering::Relaxed);
                return Err(Refused::Full);
            };
            self.evict(&mut inner, victim);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let progress = Arc::new(Progress::default());
        inner.open.insert(
            id,
            Entry {
                peer,
                progress: progress.clone(),
            },
        );
        *inner.per_peer.entry(peer).or_default() += 1;
        Ok(Conn {
            id,
            registry: self.clone(),
            progress,
        })
    }

    /// Closes the slowest bodies that hold body budget until they hold at least `bytes` (the
    /// body budget is full and a new request needs room), and hands over their claims for the
    /// new request to take over (`budget::BodyBudget::reserve_or_evict`).
    pub(crate) fn evict_bodies_for(&self, bytes: u64) -> Vec<Claim> {
        let mut inner = self.lock();
        let mut claims = Vec::new();
        let mut freed = 0;
        for (_, id) in inner.candidates() {
            if freed >= bytes {
                break;
            }
            let holds = inner.open.get(&id).map_or(0, |e| e.progress.held_bytes());
            if holds > 0
                && let Some(claim) = self.evict(&mut inner, id)
            {
                freed += holds;
                claims.push(claim);
            }
        }
        claims
    }

    /// Connections the open-file limit leaves room for.
    pub(crate) fn ceiling(&self) -> usize {
        self.ceiling
    }

    /// The connections admitted at most: the configured `max_connections`, kept under the
    /// open-file limit.
    pub(crate) fn cap(&self, max_connections: usize) -> usize {
        max_connections.min(self.ceiling)
    }

    /// Connections open now.
    pub(crate) fn open(&self) -> usize {
        self.lock().open.len()
    }

    /// The Prometheus text of the connection counters.
    pub(crate) fn render(&self) -> String {
        let m = self.metric;
        format!(
            "# HELP {m}_open Client connections open.\n# TYPE {m}_open gauge\n{m}_open {}\n\
             # HELP {m}_ceiling Client connections allowed under the open-file limit.\n# TYPE {m}_ceiling gauge\n{m}_ceiling {}\n\
             # HELP {m}_refused_total Connections refused, by reason.\n# TYPE {m}_refused_total counter\n\
             {m}_refused_total{{reason=\"peer_limit\"}} {}\n{m}_refused_total{{reason=\"full\"}} {}\n\
             # HELP {m}_evicted_total Connections closed to make room, by the phase they were in (slowest progress first).\n# TYPE {m}_evicted_total counter\n\
             {m}_evicted_total{{phase=\"waiting\"}} {}\n{m}_evicted_total{{phase=\"body\"}} {}\n",
            self.open(),
            self.ceiling(),
            self.refused_peer.load(Ordering::Relaxed),
            self.refused_full.load(Ordering::Relaxed),
            self.evicted_waiting.load(Ordering::Relaxed),
            self.evicted_body.load(Ordering::Relaxed),
        )
    }
}

/// One admitted connection; dropping it frees its slot.
#[derive(Debug)]
pub(crate) struct Conn {
    id: u64,
    registry: Arc<Connections>,
    /// What its current request is doing.
    pub(crate) progress: Arc<Progress>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.registry.lock().remove(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// Moves a connection's phase start into the past, as if time had passed.
    fn age(p: &Progress, by: Duration) {
        let since = p.since_ms.load(Ordering::Relaxed);
        p.since_ms
            .store(since.saturating_sub(by.as_millis() as u64), Ordering::Relaxed);
    }

    #[test]
    fn per_peer_cap_then_eviction_of_the_longest_waiting() {
        let reg = Connections::new(3);
        let a1 = reg.admit(ip("10.0.0.1"), 10, 2).unwrap();
        let a2 = reg.admit(ip("10.0.0.1"), 10, 2).unwrap();
        assert_eq!(reg.admit(ip("10.0.0.1"), 10, 2).unwrap_err(), Refused::PeerLimit);
        a1.progress.body_started();
        a1.progress.working();
        // Full (the ceiling of 3 beats the configured 10): a2, waiting longest, makes room.
        let b1 = reg.admit(ip("10.0.0.2"), 10, 2).unwrap();
        let b2 = reg.admit(ip("10.0.0.2"), 10, 2).unwrap();
        assert!(a2.progress.evict.is_cancelled() && a2.progress.was_evicted());
        assert!(!a1.progress.evict.is_cancelled());
        assert_eq!(reg.open(), 3);
        b1.progress.body_started();
        b1.progress.working();
        b2.progress.body_started();
        b2.progress.working();
        assert_eq!(reg.admit(ip("10.0.0.3"), 10, 2).unwrap_err(), Refused::Full);
        drop(a2);
        assert_eq!(reg.open(), 3, "an evicted connection's slot was already freed");
        drop(a1);
        let c = reg.admit(ip("10.0.0.1"), 10, 2).unwrap();
        assert_eq!(reg.open(), 3);
        drop((b1, b2, c));
        assert_eq!(reg.open(), 0);
        assert!(reg.lock().per_peer.is_empty());
    }

    #[test]
    fn the_slowest_body_goes_first_and_young_bodies_after_it() {
        let reg = Connections::new(3);
        let slow = reg.admit(ip("10.0.0.1"), 10, 10).unwrap();
        let fast = reg.admit(ip("10.0.0.2"), 10, 10).unwrap();
        let young = reg.admit(ip("10.0.0.3"), 10, 10).unwrap();
        for (c, bytes) in [(&slow, 5_000), (&fast, 500_000)] {
            c.progress.body_started();
            c.progress.received(bytes);
            age(&c.progress, Duration::from_secs(2));
        }
        young.progress.body_started();
        // `young` has sent nothing yet, but for less than MIN_BODY_AGE: the slow one goes.
        let d = reg.admit(ip("10.0.0.4"), 10, 10).unwrap();
        assert!(slow.progress.was_evicted());
        assert!(!fast.progress.was_evicted() && !young.progress.was_evicted());
        // A waiting connection (rate 0) goes before any body.
        age(&d.progress, MIN_WAIT_AGE);
        let e = reg.admit(ip("10.0.0.5"), 10, 10).unwrap();
        assert!(d.progress.was_evicted() && !fast.progress.was_evicted());
        // Then the slowest older body; the young ones (a fresh connection, a young body) only
        // when nothing else can go, the oldest first.
        let f = reg.admit(ip("10.0.0.6"), 10, 10).unwrap();
        assert!(fast.progress.was_evicted() && !young.progress.was_evicted() && !e.progress.was_evicted());
        let g = reg.admit(ip("10.0.0.7"), 10, 10).unwrap();
        assert!(young.progress.was_evicted() && !e.progress.was_evicted() && !f.progress.was_evicted());
        let h = reg.admit(ip("10.0.0.8"), 10, 10).unwrap();
        assert!(e.progress.was_evicted() && !f.progress.was_evicted() && !g.progress.was_evicted());
        drop((f, g, h));
        drop((slow, fast, young, d, e));
    }

    #[test]
    fn bodies_give_back_budget_slowest_first() {
        let reg = Connections::new(10);
        let conns: Vec<Conn> = (0..4)
            .map(|i| {
                let c = reg.admit(ip(&format!("10.0.0.{i}")), 10, 10).unwrap();
                c.progress.body_started();
                c.progress.holds((ip("10.0.0.1"), Arc::new(AtomicU64::new(100))));
                c.progress.received(1_000 * (i + 1));
                age(&c.progress, Duration::from_secs(3));
                c
            })
            .collect();
        // A young body holding budget goes after the older ones.
        let young = reg.admit(ip("10.0.2.1"), 10, 10).unwrap();
        young.progress.body_started();
        young.progress.holds((ip("10.0.2.1"), Arc::new(AtomicU64::new(100))));
        let working = reg.admit(ip("10.0.1.1"), 10, 10).unwrap();
        working.progress.body_started();
        working
            .progress
            .holds((ip("10.0.1.1"), Arc::new(AtomicU64::new(1_000))));
        working.progress.working();
        let held = |claims: Vec<Claim>| claims.iter().map(|(_, b)| b.load(Ordering::Relaxed)).sum::<u64>();
        assert_eq!(held(reg.evict_bodies_for(150)), 200, "the two slowest bodies");
        let evicted: Vec<bool> = conns.iter().map(|c| c.progress.was_evicted()).collect();
        assert_eq!(evicted, [true, true, false, false]);
        assert_eq!(
            held(reg.evict_bodies_for(10_000)),
            300,
            "the two others, then the young one; a working request is never closed"
        );
        assert!(young.progress.was_evicted());
        assert!(!working.progress.was_evicted());
        assert_eq!(reg.open(), 1);
        drop(young);
    }
}
