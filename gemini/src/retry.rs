//! When to try a failed call again, and how long to wait first.
//!
//! Exponential backoff with jitter, like the official SDKs (5 attempts, 1 s, x2, 60 s cap), and
//! one thing they do not do: a `RetryInfo.retryDelay` from Gemini is honoured as the least
//! wait. Whether an error is worth retrying at all is [`GeminiError::is_retryable`]: never a bad
//! key, a 400, or a quota whose limit is zero.

use std::time::Duration;

use crate::error::GeminiError;

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included. 1 means no retries.
    pub max_attempts: u32,
    pub initial_delay: Duration,
    pub multiplier: f64,
    pub max_delay: Duration,
    /// Up to this fraction of the delay is added at random, so clients that failed together do
    /// not retry together.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_delay: Duration::from_secs(1),
            multiplier: 2.0,
            max_delay: Duration::from_secs(60),
            jitter: 0.2,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The backoff before retry number `retry` (0 for the first retry), without jitter.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = self
            .multiplier
            .max(1.0)
            .powi(i32::try_from(retry).unwrap_or(i32::MAX));
        let secs = self.initial_delay.as_secs_f64() * factor;
        Duration::from_secs_f64(secs.min(self.max_delay.as_secs_f64()))
    }

    /// The wait before retry number `retry` after `error`: the backoff or the delay Gemini
    /// asked for, whichever is longer, plus jitter.
    pub fn delay(&self, retry: u32, error: &GeminiError) -> Duration {
        let base = self
            .backoff(retry)
            .max(error.retry_after().unwrap_or_default());
        let jitter = base.as_secs_f64() * self.jitter.clamp(0.0, 1.0) * fastrand::f64();
        base + Duration::from_secs_f64(jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(0), Duration::from_secs(1));
        assert_eq!(p.backoff(1), Duration::from_secs(2));
        assert_eq!(p.backoff(3), Duration::from_secs(8));
        assert_eq!(p.backoff(10), Duration::from_secs(60));
        assert_eq!(p.backoff(u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn retry_delay_from_gemini_is_the_least_wait() {
        let p = RetryPolicy {
            jitter: 0.0,
            ..RetryPolicy::default()
        };
        let quota = GeminiError::QuotaExhausted {
            retry_after: Some(Duration::from_secs(10)),
            zero_quota: false,
        };
        assert_eq!(p.delay(0, &quota), Duration::from_secs(10));
        let overloaded = GeminiError::Overloaded { retry_after: None };
        assert_eq!(p.delay(2, &overloaded), Duration::from_secs(4));
    }

    #[test]
    fn jitter_only_ever_adds() {
        let p = RetryPolicy::default();
        let e = GeminiError::Upstream { status: 500 };
        for _ in 0..100 {
            let d = p.delay(1, &e);
            assert!(
                d >= Duration::from_secs(2) && d <= Duration::from_millis(2400),
                "{d:?}"
            );
        }
    }
}
