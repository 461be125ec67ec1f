//! When and how long to wait before trying an idempotent request again.

use std::time::{Duration, SystemTime};

/// Retry policy for idempotent requests (GETs). Changes (create, edit, end, pause, resume, feature and
/// portfolio writes) are never retried: Yelp has no idempotency key, so a retried create can make a second
/// program.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 means no retry.
    pub max_attempts: u32,
    /// Wait before the first retry; it doubles for each later one.
    pub base_delay: Duration,
    /// The longest wait between attempts, `Retry-After` aside.
    pub max_delay: Duration,
    /// Random spread added to each wait, as a fraction of it (0.2 = up to 20 % longer), so that many
    /// clients that failed together do not retry together.
    pub jitter: f64,
    /// The longest `Retry-After` we wait for; a longer one ends the request as rate limited.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
            jitter: 0.2,
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The wait before attempt `attempt + 1`, after `attempt` (1-based) failed; never shorter than what
    /// Yelp's `Retry-After` asked for.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exponent = attempt.saturating_sub(1).min(20);
        let backoff = self
            .base_delay
            .saturating_mul(1 << exponent)
            .min(self.max_delay);
        let spread = backoff.mul_f64(self.jitter.clamp(0.0, 1.0) * fastrand::f64());
        let wait = backoff + spread;
        retry_after.map_or(wait, |after| wait.max(after))
    }
}

/// Reads `Retry-After`: delta seconds, or an HTTP date.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_bounded_jitter() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            jitter: 0.2,
            ..RetryPolicy::default()
        };
        for _ in 0..100 {
            let first = policy.delay(1, None);
            assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(120));
            let second = policy.delay(2, None);
            assert!(second >= Duration::from_millis(200) && second <= Duration::from_millis(240));
            let capped = policy.delay(10, None);
            assert!(capped >= Duration::from_millis(350) && capped <= Duration::from_millis(420));
        }
    }

    #[test]
    fn retry_after_is_a_floor_on_the_wait() {
        let policy = RetryPolicy::default();
        assert!(policy.delay(1, Some(Duration::from_secs(3))) >= Duration::from_secs(3));
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:20:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
