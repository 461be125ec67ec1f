//! Retries under injected faults, and what is never retried or never logged.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;
use yelp_partner_api::{
    BusinessId, Cents, CreateProgram, Error, ListAllOptions, ProgramType, RetryPolicy, StatusFilter,
};

use crate::helpers::{PASSWORD, TestSim, capture_logs};

#[tokio::test]
async fn a_full_listing_succeeds_through_injected_5xx_and_429() {
    let sim = TestSim::start(1900).await;
    sim.set_faults(json!({"error_rate": 0.10, "rate_limit_rate": 0.05, "retry_after_seconds": 0}))
        .await;
    let pages: Vec<_> = sim
        .client()
        .list_all_programs(ListAllOptions {
            status: StatusFilter::All,
            page_size: 40,
            concurrency: 8,
        })
        .collect()
        .await;
    let mut ids = HashSet::new();
    for page in pages {
        ids.extend(
            page.unwrap()
                .programs
                .into_iter()
                .map(|e| e.program.program_id),
        );
    }
    assert_eq!(ids.len(), 1900);
    let requests = sim.requests("GET /programs/v1").await;
    assert!(
        requests > 48,
        "faults were injected and retried ({requests} requests for 48 pages)"
    );
}

#[tokio::test]
async fn retry_after_is_honoured_before_trying_again() {
    let sim = TestSim::start(10).await;
    sim.set_faults(json!({"rate_limit_rate": 1.0, "retry_after_seconds": 1}))
        .await;
    let started = Instant::now();
    let lift = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        sim.set_faults(json!({"rate_limit_rate": 0.0})).await;
    };
    let client = sim.client();
    let (result, ()) = tokio::join!(client.list_programs(StatusFilter::All, 0, 20), lift);
    assert_eq!(result.unwrap().total, 10);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(sim.requests("GET /programs/v1").await, 2);
}

#[tokio::test]
async fn persistent_throttling_ends_as_rate_limited_with_yelps_wait() {
    let sim = TestSim::start(10).await;
    sim.set_faults(json!({"rate_limit_rate": 1.0, "retry_after_seconds": 120}))
        .await;
    let err = sim
        .client()
        .list_programs(StatusFilter::All, 0, 20)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(120)),
        "{err:?}"
    );
    assert_eq!(
        sim.requests("GET /programs/v1").await,
        1,
        "a wait beyond the policy's limit is not waited"
    );
}

#[tokio::test]
async fn a_create_that_meets_a_5xx_is_not_retried() {
    let sim = TestSim::start(10).await;
    let business = sim.active_business().await;
    sim.set_faults(json!({"error_rate": 1.0})).await;
    let mut create = CreateProgram::new(BusinessId::parse(&business).unwrap(), ProgramType::Cpc);
    create.budget = Some(Cents::new(5000));
    create.is_autobid = Some(true);
    let err = sim.client().create_program(&create).await.unwrap_err();
    assert!(matches!(err, Error::Server { .. }), "{err:?}");
    assert_eq!(sim.requests("POST /v1/reseller/program/create").await, 1);
    sim.set_faults(json!({"error_rate": 0.0})).await;
    assert_eq!(
        sim.get("/_sim/jobs").await["jobs"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error_and_reads_recover_from_it() {
    let sim = TestSim::start(10).await;
    sim.set_faults(json!({"drop_rate": 1.0})).await;
    let client = sim.client_with(crate::helpers::USERNAME, PASSWORD, |c| {
        c.retry = RetryPolicy::never()
    });
    let err = client
        .list_programs(StatusFilter::All, 0, 20)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");

    sim.set_faults(json!({"drop_rate": 0.5})).await;
    let client = sim.client_with(crate::helpers::USERNAME, PASSWORD, |c| {
        c.retry.max_attempts = 12;
    });
    for _ in 0..5 {
        assert_eq!(
            client
                .list_programs(StatusFilter::All, 0, 20)
                .await
                .unwrap()
                .total,
            10
        );
    }
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried_for_reads() {
    let sim = TestSim::start(10).await;
    sim.set_faults(json!({"latency_ms": 400})).await;
    let client = sim.client_with(crate::helpers::USERNAME, PASSWORD, |c| {
        c.timeout = Duration::from_millis(100);
        c.retry.max_attempts = 2;
    });
    let err = client
        .list_programs(StatusFilter::All, 0, 20)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout), "{err:?}");
    assert_eq!(sim.requests("GET /programs/v1").await, 2);
}

#[tokio::test(flavor = "current_thread")]
async fn no_credential_appears_in_any_log_line_or_error_even_at_trace_level() {
    let (captured, _guard) = capture_logs();

    let sim = TestSim::start(40).await;
    sim.set_faults(json!({"error_rate": 0.3, "rate_limit_rate": 0.2, "drop_rate": 0.1, "retry_after_seconds": 0}))
        .await;
    let client = sim.client();
    let mut messages = Vec::new();
    for offset in [0, 20] {
        match client.list_programs(StatusFilter::All, offset, 20).await {
            Ok(_) => {}
            Err(e) => messages.push(e.to_string()),
        }
    }
    let wrong = sim.client_with(crate::helpers::USERNAME, "another-secret-pw", |_| {});
    messages.push(
        wrong
            .list_programs(StatusFilter::All, 0, 20)
            .await
            .unwrap_err()
            .to_string(),
    );
    messages.push(format!("{client:?}"));

    let logs = captured.text();
    assert!(logs.contains("yelp call"), "the client logged its calls");
    let basic = yelp_sim_basic(crate::helpers::USERNAME, PASSWORD);
    for secret in [PASSWORD, "another-secret-pw", basic.as_str(), "Basic "] {
        assert!(!logs.contains(secret), "log contains {secret:?}");
        for m in &messages {
            assert!(!m.contains(secret), "{m:?} contains {secret:?}");
        }
    }
}

/// The base64 of `user:password`, as it would appear in an Authorization header.
fn yelp_sim_basic(user: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}
