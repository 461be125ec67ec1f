//! A limit on how fast one client asks Yelp: a token bucket shared by every clone of the client and taken
//! once per attempt, retries included.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, Result};

/// Requests per second, with a burst: after a quiet spell `burst` requests go at once, then one every
/// `1 / per_second` seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    per_second: f64,
    burst: u32,
}

impl RateLimit {
    /// A limit of `per_second` requests a second (more than 0, at most a million) with bursts of up to
    /// `burst` requests (at least 1).
    pub fn new(per_second: f64, burst: u32) -> Result<Self> {
        if !(per_second.is_finite() && per_second > 0.0 && per_second <= 1e6) {
            return Err(Error::Config(format!(
                "a rate limit must be more than 0 and at most 1000000 requests per second, not {per_second}"
            )));
        }
        if burst == 0 {
            return Err(Error::Config(
                "a rate limit's burst must be at least 1".into(),
            ));
        }
        Ok(Self { per_second, burst })
    }

    /// Sustained requests per second.
    pub fn per_second(&self) -> f64 {
        self.per_second
    }

    /// Requests that may go at once.
    pub fn burst(&self) -> u32 {
        self.burst
    }
}

/// The bucket, kept as the time the next request would be due if requests came one per interval (the
/// "generic cell rate algorithm"): a request may go once that time, less the burst allowance, has come.
/// Each caller reserves its slot under the lock and then sleeps outside it, so waiting callers go in the
/// order they arrived and no two are given the same slot.
#[derive(Debug)]
pub(crate) struct Limiter {
    interval: Duration,
    /// How far ahead of its due time a request may go: `(burst - 1) × interval`.
    tolerance: Duration,
    due: Mutex<Instant>,
}

impl Limiter {
    pub(crate) fn new(limit: RateLimit) -> Self {
        let interval = Duration::from_secs_f64(1.0 / limit.per_second);
        Self {
            interval,
            tolerance: interval.saturating_mul(limit.burst - 1),
            due: Mutex::new(Instant::now()),
        }
    }

    /// Waits for the next free slot. A caller dropped while it waits gives up its slot unused, which only
    /// ever makes the limit stricter.
    pub(crate) async fn acquire(&self) {
        let go_at = {
            let mut due = self.due.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            let slot = (*due).max(now);
            *due = slot + self.interval;
            slot.checked_sub(self.tolerance).unwrap_or(now)
        };
        if go_at > Instant::now() {
            tokio::time::sleep_until(go_at).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonsense_limits_are_refused() {
        for rps in [0.0, -1.0, f64::NAN, f64::INFINITY, 2e6] {
            assert!(RateLimit::new(rps, 1).is_err(), "{rps}");
        }
        assert!(RateLimit::new(10.0, 0).is_err());
        let limit = RateLimit::new(2.5, 4).unwrap();
        assert_eq!((limit.per_second(), limit.burst()), (2.5, 4));
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_goes_at_once_and_the_rest_at_the_rate() {
        let limiter = Limiter::new(RateLimit::new(10.0, 5).unwrap());
        let start = Instant::now();
        let mut went = Vec::new();
        for _ in 0..25 {
            limiter.acquire().await;
            went.push(start.elapsed());
        }
        assert!(went[..5].iter().all(|t| t.is_zero()), "{went:?}");
        // 20 requests past the burst at 10 a second: the last goes 2 s in.
        assert_eq!(went[24], Duration::from_secs(2));
        assert!(went.windows(2).all(|w| w[1] >= w[0]));
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_spell_refills_the_burst_but_never_beyond_it() {
        let limiter = Limiter::new(RateLimit::new(100.0, 3).unwrap());
        tokio::time::sleep(Duration::from_secs(60)).await;
        let start = Instant::now();
        for _ in 0..3 {
            limiter.acquire().await;
        }
        assert!(start.elapsed().is_zero());
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_millis(10));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_the_bucket() {
        let limiter = std::sync::Arc::new(Limiter::new(RateLimit::new(20.0, 1).unwrap()));
        let start = Instant::now();
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move { limiter.acquire().await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(start.elapsed(), Duration::from_millis(450));
    }
}
