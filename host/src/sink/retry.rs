//! The retry policy as data: which failures are worth retrying, and when.

use super::DeliveryError;
use std::time::Duration;

/// Whether a failure may succeed if tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Try again later (timeouts, connection errors, 408, 429, 5xx).
    Retryable,
    /// Trying again cannot help (other 4xx, malformed requests).
    Permanent,
}

/// Classifies a failed attempt. Pure.
pub fn classify(e: &DeliveryError) -> Class {
    match e {
        DeliveryError::Timeout(_) | DeliveryError::Connect(_) | DeliveryError::Config(_) => Class::Retryable,
        DeliveryError::Status { status, .. } if *status == 408 || *status == 429 || *status >= 500 => Class::Retryable,
        DeliveryError::Status { .. } | DeliveryError::Request(_) => Class::Permanent,
    }
}

/// Seconds a `Retry-After` value asks for: delay-seconds, or an HTTP-date (RFC 9110 §10.2.3)
/// counted from `now`. Unparseable values are ignored (the backoff applies).
pub fn retry_after_secs(value: &str, now: std::time::SystemTime) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).map(|d| d.as_secs()).unwrap_or(0))
}

/// The longest `Retry-After` honoured; a receiver asking for more is retried after this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// When to try again: exponential backoff with **full jitter** (a random delay between zero and
/// `base · 2^(attempts-1)`, capped), so a receiver coming back from an outage is not hit by
/// every queued event at the same instant; never sooner than `Retry-After`. An event is given
/// up on after `max_attempts`, or when the next try would fall beyond `max_age`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Total attempts, including the first.
    pub max_attempts: u32,
    /// Oldest an event may get (from commit) before it is dead-lettered.
    pub max_age: Duration,
    /// Backoff scale: the first retry waits up to this long.
    pub base: Duration,
    /// Longest backoff between attempts.
    pub cap: Duration,
}

impl Schedule {
    /// A webhook sink's schedule.
    pub fn of(spec: &crate::config::WebhookSpec) -> Schedule {
        Schedule {
            max_attempts: spec.max_attempts,
            max_age: Duration::from_secs(spec.max_age_secs),
            base: Duration::from_millis(spec.backoff_ms),
            cap: Duration::from_millis(spec.max_backoff_ms),
        }
    }

    /// What follows a failed attempt: the delay before the next one (after `attempts` failed
    /// ones, for an event committed at `created_ms`), or `None` to dead-letter it now (a
    /// permanent failure, or no attempts or time left). Shared by the embedded outbox and the
    /// cluster's workers so both give up at the same point.
    pub fn after_failure(&self, attempts: u32, created_ms: i64, error: &DeliveryError) -> Option<Duration> {
        let age = Duration::from_millis((crate::clock::now_ms() - created_ms).max(0) as u64);
        match classify(error) {
            Class::Retryable => self.delay(attempts, age, error, rand::Rng::random::<f64>(&mut rand::rng())),
            Class::Permanent => None,
        }
    }

    /// The delay before the next attempt after `attempts` failed ones, for an event `age` old,
    /// or `None` when it is time to give up. `unit` is a uniform random number in [0, 1).
    pub fn delay(&self, attempts: u32, age: Duration, error: &DeliveryError, unit: f64) -> Option<Duration> {
        if attempts >= self.max_attempts {
            return None;
        }
        let ceiling = self
            .base
            .saturating_mul(1u32 << attempts.saturating_sub(1).min(20))
            .min(self.cap);
        let mut delay = ceiling.mul_f64(unit.clamp(0.0, 1.0));
        if let DeliveryError::Status {
            retry_after_secs: Some(secs),
            ..
        } = error
        {
            delay = delay.max(Duration::from_secs(*secs).min(MAX_RETRY_AFTER));
        }
        if age.saturating_add(delay) > self.max_age {
            return None;
        }
        Some(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16) -> DeliveryError {
        DeliveryError::Status {
            status,
            body: String::new(),
            retry_after_secs: None,
        }
    }

    #[test]
    fn classes() {
        assert_eq!(classify(&status(503)), Class::Retryable);
        assert_eq!(classify(&status(429)), Class::Retryable);
        assert_eq!(classify(&status(408)), Class::Retryable);
        assert_eq!(classify(&status(404)), Class::Permanent);
        assert_eq!(classify(&DeliveryError::Timeout(5)), Class::Retryable);
    }

    fn schedule() -> Schedule {
        Schedule {
            max_attempts: 4,
            max_age: Duration::from_secs(3600),
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        }
    }

    #[test]
    fn full_jitter_stays_under_a_doubling_capped_ceiling() {
        let (s, e, young) = (schedule(), status(500), Duration::ZERO);
        assert_eq!(s.delay(1, young, &e, 0.999_999).map(|d| d.as_millis()), Some(99));
        assert_eq!(s.delay(2, young, &e, 0.5), Some(Duration::from_millis(100)));
        assert_eq!(s.delay(3, young, &e, 0.5), Some(Duration::from_millis(200)));
        assert_eq!(s.delay(3, young, &e, 0.0), Some(Duration::ZERO));
        let long = Schedule { max_attempts: 50, ..s };
        assert_eq!(
            long.delay(30, young, &e, 0.5),
            Some(Duration::from_millis(500)),
            "capped at 1 s"
        );
    }

    #[test]
    fn gives_up_after_max_attempts_or_max_age() {
        let (s, e) = (schedule(), status(500));
        assert_eq!(s.delay(4, Duration::ZERO, &e, 0.5), None);
        assert_eq!(s.delay(1, Duration::from_secs(3600), &e, 0.5), None);
        assert!(s.delay(1, Duration::from_secs(3599), &e, 0.0).is_some());
    }

    #[test]
    fn retry_after_takes_seconds_or_an_http_date() {
        let now = httpdate::parse_http_date("Wed, 25 Nov 2026 10:00:00 GMT").expect("date");
        assert_eq!(retry_after_secs(" 120 ", now), Some(120));
        assert_eq!(retry_after_secs("Wed, 25 Nov 2026 10:01:30 GMT", now), Some(90));
        assert_eq!(
            retry_after_secs("Wed, 25 Nov 2026 09:00:00 GMT", now),
            Some(0),
            "in the past"
        );
        assert_eq!(retry_after_secs("soon", now), None);
    }

    #[test]
    fn retry_after_is_a_floor() {
        let wait = DeliveryError::Status {
            status: 429,
            body: String::new(),
            retry_after_secs: Some(30),
        };
        assert_eq!(
            schedule().delay(1, Duration::ZERO, &wait, 0.1),
            Some(Duration::from_secs(30))
        );
        let s = Schedule {
            max_age: Duration::from_secs(10),
            ..schedule()
        };
        assert_eq!(s.delay(1, Duration::ZERO, &wait, 0.1), None, "beyond max_age");
    }
}
