//! Open connections: a global cap kept below the open-file limit, a cap per peer address, and
//! who makes room when the router is full.
//!
//! A connection is *waiting* from accept, and again from the end of each reply, until its next
//! request head is complete; otherwise it is *busy*. When every slot is taken, the connection
//! that has been waiting longest is closed to admit the new one. A slowloris attacker holds
//! only waiting connections, so it loses its oldest ones first, while a real sender, which
//! sends its head at once, is busy within a millisecond of being admitted and is never chosen.
//! Busy connections are bounded by the body timeouts and the body budget instead.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio_util::sync::CancellationToken;

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

#[derive(Debug)]
struct Entry {
    peer: IpAddr,
    waiting_since: Option<Instant>,
    evict: CancellationToken,
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
}

/// The open connections of one listener.
#[derive(Debug)]
pub(crate) struct Connections {
    ceiling: usize,
    inner: Mutex<Inner>,
    next_id: AtomicU64,
    evicted: AtomicU64,
    refused_peer: AtomicU64,
    refused_full: AtomicU64,
}

impl Connections {
    /// A registry admitting at most `ceiling` connections whatever the config says.
    pub(crate) fn new(ceiling: usize) -> Arc<Connections> {
        Arc::new(Connections {
            ceiling,
            inner: Mutex::default(),
            next_id: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
            refused_peer: AtomicU64::new(0),
            refused_full: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Admits a connection from `peer` (evicting the longest-waiting one if the router is
    /// full), or says why not.
    pub(crate) fn admit(self: &Arc<Self>, peer: IpAddr, max: usize, per_peer: usize) -> Result<Conn, Refused> {
        let max = self.cap(max);
        let mut inner = self.lock();
        if inner.per_peer.get(&peer).copied().unwrap_or(0) >= per_peer {
            self.refused_peer.fetch_add(1, Ordering::Relaxed);
            return Err(Refused::PeerLimit);
        }
        if inner.open.len() >= max {
            let oldest = inner
                .open
                .iter()
                .filter_map(|(id, e)| e.waiting_since.map(|since| (since, *id)))
                .min();
            let Some((_, victim)) = oldest else {
                self.refused_full.fetch_add(1, Ordering::Relaxed);
                return Err(Refused::Full);
            };
            if let Some(entry) = inner.remove(victim) {
                entry.evict.cancel();
                self.evicted.fetch_add(1, Ordering::Relaxed);
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let evict = CancellationToken::new();
        inner.open.insert(
            id,
            Entry {
                peer,
                waiting_since: Some(Instant::now()),
                evict: evict.clone(),
            },
        );
        *inner.per_peer.entry(peer).or_default() += 1;
        Ok(Conn {
            id,
            registry: self.clone(),
            evicted: evict,
        })
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
        format!(
            "# HELP switchyard_connections_open Client connections open.\n# TYPE switchyard_connections_open gauge\nswitchyard_connections_open {}\n\
             # HELP switchyard_connections_ceiling Client connections allowed under the open-file limit.\n# TYPE switchyard_connections_ceiling gauge\nswitchyard_connections_ceiling {}\n\
             # HELP switchyard_connections_refused_total Connections refused, by reason.\n# TYPE switchyard_connections_refused_total counter\n\
             switchyard_connections_refused_total{{reason=\"peer_limit\"}} {}\nswitchyard_connections_refused_total{{reason=\"full\"}} {}\n\
             # HELP switchyard_connections_evicted_total Waiting connections closed to admit a new one.\n# TYPE switchyard_connections_evicted_total counter\nswitchyard_connections_evicted_total {}\n",
            self.open(),
            self.ceiling(),
            self.refused_peer.load(Ordering::Relaxed),
            self.refused_full.load(Ordering::Relaxed),
            self.evicted.load(Ordering::Relaxed),
        )
    }
}

/// One admitted connection; dropping it frees its slot.
#[derive(Debug)]
pub(crate) struct Conn {
    id: u64,
    registry: Arc<Connections>,
    /// Cancelled when the connection is evicted to make room.
    pub(crate) evicted: CancellationToken,
}

impl Conn {
    /// A request head is complete: not evictable until its reply is written.
    pub(crate) fn busy(&self) {
        self.set_waiting(None);
    }

    /// The reply is out: waiting for the next request head.
    pub(crate) fn waiting(&self) {
        self.set_waiting(Some(Instant::now()));
    }

    fn set_waiting(&self, since: Option<Instant>) {
        if let Some(entry) = self.registry.lock().open.get_mut(&self.id) {
            entry.waiting_since = since;
        }
    }
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

    #[test]
    fn per_peer_cap_then_eviction_of_the_longest_waiting() {
        let reg = Connections::new(3);
        let a1 = reg.admit(ip("10.0.0.1"), 10, 2).unwrap();
        let a2 = reg.admit(ip("10.0.0.1"), 10, 2).unwrap();
        assert_eq!(reg.admit(ip("10.0.0.1"), 10, 2).unwrap_err(), Refused::PeerLimit);
        a1.busy();
        // Full (the ceiling of 3 beats the configured 10): a2, waiting longest, makes room.
        let b1 = reg.admit(ip("10.0.0.2"), 10, 2).unwrap();
        let b2 = reg.admit(ip("10.0.0.2"), 10, 2).unwrap();
        assert!(a2.evicted.is_cancelled() && !a1.evicted.is_cancelled());
        assert_eq!(reg.open(), 3);
        b1.busy();
        b2.busy();
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
}
