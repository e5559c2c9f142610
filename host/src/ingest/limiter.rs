//! Token buckets by key (a source id): `take` succeeds while the key has a token; tokens come
//! back at a steady rate up to the burst. Used for a source's `rate_limit`, and to limit
//! replies that carry a MAC of request data (challenge handshakes), which an attacker could
//! otherwise use as a signing oracle at will. The rate is given per call, so a reload that
//! changes it applies at once and keeps the tokens a source has left.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
    state: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Buckets {
    /// Takes a token for `key`, or says how long until one is back.
    pub(crate) fn take(&self, key: &str, rate: Rate) -> Result<(), Duration> {
        self.take_at(key, rate, Instant::now())
    }

    fn take_at(&self, key: &str, rate: Rate, now: Instant) -> Result<(), Duration> {
        let burst = f64::from(rate.burst);
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
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
}
