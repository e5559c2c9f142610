//! Token buckets by key (a source id): `take` succeeds while the key has a token; tokens come
//! back at a steady rate up to the burst. Used for a source's `rate_limit`, and to limit
//! replies that carry a MAC of request data (challenge handshakes), which an attacker could
//! otherwise use as a signing oracle at will. The rate is given per call, so a reload that
//! changes it applies at once and keeps the tokens a source has left.
//!
//! Keys are often per peer address, which anyone can multiply, so the table is bounded: past
//! [`PRUNE_AT`] keys, buckets that have refilled (they hold nothing a fresh one would not) are
//! dropped, and past [`MAX_KEYS`] the least recently used half goes too.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys held before refilled buckets are swept out.
const PRUNE_AT: usize = 4096;
/// Keys held at most.
const MAX_KEYS: usize = 65_536;

/// A bucket's shape: `burst` tokens, one more every `refill`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rate {
    pub(crate) burst: u32,
    pub(crate) refill: Duration,
}

impl Rate {
    /// The signing-challenge allowance of a source: 5 answers in a burst (a subscription is
    /// created once, and a retry or two must still pass), one more every 12 s.
    pub(crate) const SIGNED_REPLIES: Rate = Rate {
        burst: 5,
        refill: Duration::from_secs(12),
    };
}

impl Rate {
    /// `n` times the burst and the pace.
    fn times(self, n: u32) -> Rate {
        Rate {
            burst: self.burst.saturating_mul(n),
            refill: self.refill / n,
        }
    }
}

/// How many peers' allowances a whole scope (a source) may take at most, in
/// [`Buckets::take_fair`].
pub(crate) const SCOPE_SHARES: u32 = 4;

impl From<crate::config::RateLimit> for Rate {
    fn from(r: crate::config::RateLimit) -> Rate {
        Rate {
            burst: r.burst,
            refill: Duration::from_secs_f64(1.0 / r.per_second),
        }
    }
}

/// Token buckets, one per key.
#[derive(Debug, Default)]
pub(crate) struct Buckets {
    state: Mutex<Table>,
}

/// The buckets by key, and the table size at which the next sweep runs (it doubles from what
/// a sweep leaves, so sweeps cost O(1) per insert on average).
#[derive(Debug, Default)]
struct Table {
    buckets: HashMap<String, (f64, Instant)>,
    next_prune: usize,
}

impl Buckets {
    /// Takes a token for `key`, or says how long until one is back.
    pub(crate) fn take(&self, key: &str, rate: Rate) -> Result<(), Duration> {
        self.take_at(key, rate, Instant::now())
    }

    /// Fairness between senders: `rate` is each peer's allowance within `scope`, and the scope
    /// as a whole takes at most [`SCOPE_SHARES`] times it. One sender over its allowance is
    /// refused alone instead of using up everyone's; many senders together are still bounded.
    pub(crate) fn take_fair(&self, scope: &str, peer: std::net::IpAddr, rate: Rate) -> Result<(), Duration> {
        self.take(&format!("{scope}|{peer}"), rate)?;
        self.take(scope, rate.times(SCOPE_SHARES))
    }

    fn take_at(&self, key: &str, rate: Rate, now: Instant) -> Result<(), Duration> {
        let burst = f64::from(rate.burst);
        let mut table = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let Table {
            buckets: state,
            next_prune,
        } = &mut *table;
        if state.len() >= (*next_prune).max(PRUNE_AT) && !state.contains_key(key) {
            prune(state, rate, now);
            *next_prune = (state.len() * 2).clamp(PRUNE_AT, MAX_KEYS);
        }
        let (tokens, at) = match state.get_mut(key) {
            Some(slot) => slot,
            None => state.entry(key.to_string()).or_insert((burst, now)),
        };
        let earned = now.saturating_duration_since(*at).as_secs_f64() / rate.refill.as_secs_f64();
        *tokens = (*tokens + earned).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(rate.refill.mul_f64(1.0 - *tokens))
        }
    }
}

/// Drops the buckets that have refilled by `now`, then, if still at [`MAX_KEYS`], the least
/// recently used half.
fn prune(state: &mut HashMap<String, (f64, Instant)>, rate: Rate, now: Instant) {
    let full = rate.refill.mul_f64(f64::from(rate.burst));
    state.retain(|_, (tokens, at)| {
        let earned = now.saturating_duration_since(*at).as_secs_f64() / rate.refill.as_secs_f64();
        *tokens + earned < f64::from(rate.burst) && now.saturating_duration_since(*at) < full
    });
    if state.len() >= MAX_KEYS / 2 {
        let mut ages: Vec<Instant> = state.values().map(|(_, at)| *at).collect();
        let middle = ages.len() / 2;
        let (_, median, _) = ages.select_nth_unstable(middle);
        let median = *median;
        state.retain(|_, (_, at)| *at > median);
    }
}

impl Buckets {
    /// Keys held now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_a_steady_rate_per_key() {
        let b = Buckets::default();
        let r = Rate {
            burst: 2,
            refill: Duration::from_secs(10),
        };
        let t0 = Instant::now();
        assert!(b.take_at("a", r, t0).is_ok() && b.take_at("a", r, t0).is_ok());
        let wait = b.take_at("a", r, t0).expect_err("burst used up");
        assert_eq!(wait, Duration::from_secs(10));
        assert!(b.take_at("b", r, t0).is_ok(), "keys are independent");
        let later = t0 + Duration::from_secs(5);
        assert_eq!(
            b.take_at("a", r, later),
            Err(Duration::from_secs(5)),
            "half a token back"
        );
        assert!(
            b.take_at("a", r, t0 + Duration::from_secs(10)).is_ok(),
            "a token came back"
        );
        let from_config = Rate::from(crate::config::RateLimit {
            per_second: 4.0,
            burst: 1,
        });
        assert_eq!(from_config.refill, Duration::from_millis(250));
    }

    #[test]
    fn one_peer_cannot_use_up_a_scope() {
        let b = Buckets::default();
        let r = Rate {
            burst: 3,
            refill: Duration::from_secs(60),
        };
        let (flood, legit) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let took = (0..100).filter(|_| b.take_fair("src", flood, r).is_ok()).count();
        assert_eq!(took, 3, "the flooder gets its own allowance");
        assert!(b.take_fair("src", legit, r).is_ok(), "and the others keep theirs");
        let many = (0..20u8)
            .filter(|i| b.take_fair("src", std::net::IpAddr::from([10, 1, 0, *i]), r).is_ok())
            .count();
        assert_eq!(many, 12 - 4, "the scope as a whole: {SCOPE_SHARES} × the burst");
    }

    #[test]
    fn the_table_sheds_refilled_and_old_buckets() {
        let b = Buckets::default();
        let r = Rate {
            burst: 2,
            refill: Duration::from_secs(1),
        };
        let t0 = Instant::now();
        for i in 0..PRUNE_AT {
            b.take_at(&format!("peer-{i}"), r, t0).unwrap();
        }
        assert_eq!(b.len(), PRUNE_AT);
        // Two seconds later every bucket has refilled: a new key sweeps them out.
        b.take_at("new", r, t0 + Duration::from_secs(2)).unwrap();
        assert_eq!(b.len(), 1);
        // Keys that keep taking are not refilled; the table still stays under MAX_KEYS.
        for i in 0..MAX_KEYS + 10 {
            let at = t0 + Duration::from_secs(3) + Duration::from_micros(i as u64);
            b.take_at(&format!("busy-{i}"), r, at).unwrap();
            b.take_at(&format!("busy-{i}"), r, at).unwrap();
        }
        assert!(b.len() <= MAX_KEYS, "{}", b.len());
    }
}
