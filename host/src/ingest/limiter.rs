//! Token buckets by key (a source id): `take` succeeds while the key has a token; tokens come
//! back at a steady rate up to the burst. Used to rate-limit replies that carry a MAC of
//! request data (challenge handshakes), which an attacker could otherwise use as a signing
//! oracle at will.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Challenge answers a source may get in a burst: a subscription is created once, and a retry
/// or two must still pass.
pub(crate) const SIGNED_REPLY_BURST: u32 = 5;
/// …and how fast that allowance comes back.
pub(crate) const SIGNED_REPLY_REFILL: Duration = Duration::from_secs(12);

/// Token buckets, one per key.
#[derive(Debug)]
pub(crate) struct Buckets {
    burst: f64,
    refill: Duration,
    state: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Buckets {
    /// `burst` tokens per key, one more every `refill`.
    pub(crate) fn new(burst: u32, refill: Duration) -> Buckets {
        Buckets {
            burst: f64::from(burst),
            refill,
            state: Mutex::default(),
        }
    }

    /// Takes a token for `key`, or says how long until one is back.
    pub(crate) fn take(&self, key: &str) -> Result<(), Duration> {
        self.take_at(key, Instant::now())
    }

    fn take_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, at) = state.entry(key.to_string()).or_insert((self.burst, now));
        let earned = now.saturating_duration_since(*at).as_secs_f64() / self.refill.as_secs_f64();
        *tokens = (*tokens + earned).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(self.refill.mul_f64(1.0 - *tokens))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_a_steady_rate_per_key() {
        let b = Buckets::new(2, Duration::from_secs(10));
        let t0 = Instant::now();
        assert!(b.take_at("a", t0).is_ok() && b.take_at("a", t0).is_ok());
        let wait = b.take_at("a", t0).expect_err("burst used up");
        assert_eq!(wait, Duration::from_secs(10));
        assert!(b.take_at("b", t0).is_ok(), "keys are independent");
        let later = t0 + Duration::from_secs(5);
        assert_eq!(b.take_at("a", later), Err(Duration::from_secs(5)), "half a token back");
        assert!(
            b.take_at("a", t0 + Duration::from_secs(10)).is_ok(),
            "a token came back"
        );
    }
}
