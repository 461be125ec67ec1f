//! The client's rate limit, measured by what reaches the simulator. Only lower bounds on time are asserted:
//! a loaded machine can make a run slower, never faster.

use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::json;
use yelp_partner_api::{RateLimit, StatusFilter};

use crate::helpers::{PASSWORD, TestSim, USERNAME};

/// The least time `calls` requests can take under `rate` requests a second with bursts of `burst`.
fn floor(calls: u64, rate: f64, burst: u32) -> Duration {
    Duration::from_secs_f64(calls.saturating_sub(u64::from(burst)) as f64 / rate)
}

#[tokio::test]
async fn a_burst_of_calls_from_clones_of_a_limited_client_is_spaced_to_the_rate() {
    let sim = TestSim::start(40).await;
    let (rate, burst, calls) = (20.0, 5, 30);
    let client = sim.client_with(USERNAME, PASSWORD, |c| {
        c.rate_limit = Some(RateLimit::new(rate, burst).unwrap());
    });
    let started = Instant::now();
    let results = join_all((0..calls).map(|i| {
        let client = client.clone();
        async move { client.list_programs(StatusFilter::All, i % 40, 1).await }
    }))
    .await;
    let elapsed = started.elapsed();
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(sim.requests("GET /programs/v1").await, calls);
    let least = floor(calls, rate, burst);
    eprintln!("{calls} calls at {rate}/s, burst {burst}: {elapsed:?} (floor {least:?})");
    assert!(
        elapsed >= least,
        "{calls} calls at {rate}/s with a burst of {burst} took {elapsed:?}, less than {least:?}"
    );
}

#[tokio::test]
async fn retries_wait_their_turn_under_the_limit_like_first_attempts() {
    let sim = TestSim::start(40).await;
    sim.set_faults(json!({"error_rate": 0.4})).await;
    let (rate, burst) = (25.0, 2);
    let client = sim.client_with(USERNAME, PASSWORD, |c| {
        c.rate_limit = Some(RateLimit::new(rate, burst).unwrap());
        c.retry.base_delay = Duration::ZERO;
        c.retry.max_delay = Duration::ZERO;
        c.retry.max_attempts = 20;
    });
    let started = Instant::now();
    for offset in 0..10 {
        client
            .list_programs(StatusFilter::All, offset, 1)
            .await
            .unwrap();
    }
    let elapsed = started.elapsed();
    // Every attempt the simulator saw, the failed ones included, took a turn.
    let attempts = sim.requests("GET /programs/v1").await;
    assert!(
        attempts > 10,
        "some attempts failed and were retried ({attempts})"
    );
    let least = floor(attempts, rate, burst);
    eprintln!("{attempts} attempts at {rate}/s, burst {burst}: {elapsed:?} (floor {least:?})");
    assert!(
        elapsed >= least,
        "{attempts} attempts took {elapsed:?}, less than {least:?}"
    );
}
