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
        DeliveryError::Timeout(_) | DeliveryError::Connect(_) => Class::Retryable,
        DeliveryError::Status { status, .. } if *status == 408 || *status == 429 || *status >= 500 => Class::Retryable,
        DeliveryError::Status { .. } | DeliveryError::Request(_) => Class::Permanent,
    }
}

/// Exponential backoff: `base · 2^(attempt-1)`, capped, honouring `Retry-After` when longer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Total attempts, including the first.
    pub max_attempts: u32,
    /// Delay before the second attempt.
    pub base: Duration,
    /// Longest delay between attempts.
    pub cap: Duration,
}

impl Schedule {
    /// The delay before attempt `next` (2 = first retry), or `None` when attempts are used up.
    pub fn delay(&self, next: u32, error: &DeliveryError) -> Option<Duration> {
        if next > self.max_attempts {
            return None;
        }
        let exp = self.base.saturating_mul(1u32 << (next.saturating_sub(2)).min(20));
        let mut delay = exp.min(self.cap);
        if let DeliveryError::Status {
            retry_after_secs: Some(secs),
            ..
        } = error
        {
            delay = delay.max(Duration::from_secs(*secs).min(self.cap));
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

    #[test]
    fn backoff_doubles_caps_and_honours_retry_after() {
        let s = Schedule {
            max_attempts: 4,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        };
        let e = status(500);
        assert_eq!(s.delay(2, &e), Some(Duration::from_millis(100)));
        assert_eq!(s.delay(3, &e), Some(Duration::from_millis(200)));
        assert_eq!(s.delay(4, &e), Some(Duration::from_millis(400)));
        assert_eq!(s.delay(5, &e), None);
        let wait = DeliveryError::Status {
            status: 429,
            body: String::new(),
            retry_after_secs: Some(30),
        };
        assert_eq!(s.delay(2, &wait), Some(Duration::from_secs(1)));
    }
}
