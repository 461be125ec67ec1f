//! Injected faults and request stats: faulted requests never reach their handler.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use yelp_sim::{FaultsPatch, SimConfig};

use crate::helpers::{TestSim, config};

fn create_path(sim: &TestSim) -> String {
    format!(
        "/v1/reseller/program/create?business_id={}&program_name=CPC&budget=300000",
        sim.plain_business()
    )
}

/// Asserts that nothing changed: same programs, no jobs.
fn assert_untouched(sim: &TestSim, before: &[yelp_sim::Program]) {
    assert_eq!(sim.state().programs(), before);
    assert!(sim.state().jobs().is_empty());
}

#[tokio::test]
async fn deep_offsets_fail_with_a_plain_500_from_the_configured_offset() {
    let sim = TestSim::with_defaults().await;
    sim.control(
        Method::PUT,
        "/_sim/faults",
        Some(r#"{"fail_offsets_from": 80}"#),
    )
    .await;
    assert_eq!(
        sim.get("/programs/v1?offset=40&limit=40").await.status,
        StatusCode::OK
    );
    let deep = sim.get("/programs/v1?offset=80&limit=40").await;
    assert_eq!(deep.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        serde_json::from_str::<serde_json::Value>(&deep.text).is_err(),
        "plain text: {}",
        deep.text
    );
    assert_eq!(
        sim.get("/v1/programs/info/x").await.status,
        StatusCode::OK,
        "other routes are spared"
    );
    let cleared = sim
        .control(
            Method::PUT,
            "/_sim/faults",
            Some(r#"{"fail_offsets_from": null}"#),
        )
        .await;
    assert_eq!(cleared.json()["fail_offsets_from"], serde_json::Value::Null);
    assert_eq!(
        sim.get("/programs/v1?offset=80&limit=40").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_error_rate_of_one_answers_plain_5xx_and_changes_nothing() {
    let sim = TestSim::start(SimConfig {
        error_rate: 1.0,
        ..config()
    })
    .await;
    let before = sim.state().programs();
    let path = create_path(&sim);
    for _ in 0..10 {
        let answer = sim.post(&path).await;
        assert!(
            [500, 502, 503].contains(&answer.status.as_u16()),
            "{answer:?}"
        );
        assert!(
            serde_json::from_str::<serde_json::Value>(&answer.text).is_err(),
            "plain text: {}",
            answer.text
        );
    }
    let id = sim.running_cpc().program_id;
    sim.post(&format!("/program/{id}/pause/v1")).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_untouched(&sim, &before);
}

#[tokio::test]
async fn a_rate_limit_rate_of_one_answers_429_with_retry_after_and_changes_nothing() {
    let sim = TestSim::start(SimConfig {
        rate_limit_rate: 1.0,
        retry_after_seconds: 3,
        ..config()
    })
    .await;
    let before = sim.state().programs();
    let answer = sim.post(&create_path(&sim)).await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        answer
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("3")
    );
    assert_eq!(answer.json()["error"]["id"], "TOO_MANY_REQUESTS");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_untouched(&sim, &before);
}

#[tokio::test]
async fn a_drop_rate_of_one_breaks_the_connection_and_changes_nothing() {
    let sim = TestSim::start(SimConfig {
        drop_rate: 1.0,
        ..config()
    })
    .await;
    let before = sim.state().programs();
    let path = create_path(&sim);
    let outcome = sim.try_send(Method::POST, &path, None).await;
    assert!(
        outcome.is_err(),
        "the client sees a transport error: {outcome:?}"
    );
    assert!(
        sim.try_send(Method::GET, "/programs/v1", None)
            .await
            .is_err()
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_untouched(&sim, &before);
    // The control API is exempt, and the server survives.
    sim.state()
        .set_faults(&FaultsPatch {
            drop_rate: Some(0.0),
            ..Default::default()
        })
        .expect("valid");
    assert_eq!(sim.get("/programs/v1").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_fault_dice_are_reproducible_with_the_same_fault_seed() {
    let run = || async {
        let sim = TestSim::start(SimConfig {
            error_rate: 0.5,
            programs: 10,
            ..config()
        })
        .await;
        let mut statuses = Vec::new();
        for _ in 0..20 {
            statuses.push(sim.get("/programs/v1").await.status.as_u16());
        }
        statuses
    };
    let first = run().await;
    assert_eq!(first, run().await);
    assert!(
        first.contains(&200) && first.iter().any(|s| *s >= 500),
        "{first:?}"
    );
}

#[tokio::test]
async fn latency_delays_every_partner_request_but_not_the_control_api() {
    let sim = TestSim::start(SimConfig {
        latency_ms: 150,
        ..config()
    })
    .await;
    let started = Instant::now();
    sim.get("/programs/v1").await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    let started = Instant::now();
    sim.control(Method::GET, "/_sim/faults", None).await;
    assert!(started.elapsed() < Duration::from_millis(150));
}

#[tokio::test]
async fn stats_count_every_partner_request_by_route_template() {
    let sim = TestSim::with_defaults().await;
    let id = sim.running_cpc().program_id;
    for _ in 0..3 {
        sim.get("/programs/v1?limit=40").await;
    }
    sim.get(&format!("/v1/programs/info/{id}")).await;
    sim.get("/v1/reseller/status/nope").await;
    sim.post(&format!("/program/{id}/pause/v1")).await;
    sim.client
        .get(sim.url("/programs/v1"))
        .send()
        .await
        .expect("401 answer");
    sim.get("/no/such/route").await;
    sim.control(Method::GET, "/_sim/programs", None).await;

    let stats = sim.control(Method::GET, "/_sim/stats", None).await.json();
    let requests = &stats["requests"];
    assert_eq!(requests["GET /programs/v1"], 4, "{stats}");
    assert_eq!(requests["GET /v1/programs/info/{program_id}"], 1);
    assert_eq!(requests["GET /v1/reseller/status/{job_id}"], 1);
    assert_eq!(requests["POST /program/{program_id}/pause/v1"], 1);
    assert_eq!(requests["OTHER"], 1);
    assert!(
        requests
            .as_object()
            .is_some_and(|r| r.keys().all(|k| !k.contains("_sim")))
    );

    let reset = sim.control(Method::DELETE, "/_sim/stats", None).await;
    assert_eq!(reset.status, StatusCode::OK);
    let stats = sim.state().stats();
    assert!(stats.requests.is_empty());
    assert_eq!(stats.max_in_flight, 0);
}

#[tokio::test]
async fn max_in_flight_counts_concurrent_requests_during_their_latency() {
    let sim = TestSim::start(SimConfig {
        latency_ms: 100,
        ..config()
    })
    .await;
    let requests = (0..5).map(|i| {
        sim.get(if i % 2 == 0 {
            "/programs/v1"
        } else {
            "/v1/programs/info/x"
        })
    });
    let answers = futures::future::join_all(requests).await;
    assert!(answers.iter().all(|a| a.status == StatusCode::OK));
    let stats = sim.state().stats();
    assert_eq!(stats.max_in_flight, 5);
    assert_eq!(stats.in_flight, 0);
}

#[tokio::test]
async fn a_lost_answer_hides_a_submission_that_was_carried_out() {
    let sim = TestSim::with_defaults().await;
    sim.control(
        Method::PUT,
        "/_sim/faults",
        Some(r#"{"lose_answer_rate": 1.0}"#),
    )
    .await;
    let answer = sim.post(&create_path(&sim)).await;
    assert_eq!(answer.status, StatusCode::GATEWAY_TIMEOUT);
    assert!(
        serde_json::from_str::<serde_json::Value>(&answer.text).is_err(),
        "plain text, no job id: {}",
        answer.text
    );
    assert_eq!(sim.state().jobs().len(), 1, "the job was made all the same");
    let id = sim.running_cpc().program_id;
    assert!(
        sim.post(&format!("/program/{id}/pause/v1"))
            .await
            .status
            .is_success(),
        "synchronous routes are spared"
    );
}

#[tokio::test]
async fn a_malformed_answer_is_a_200_whose_json_stops_part_way_and_changes_nothing() {
    let sim = TestSim::with_defaults().await;
    let before = sim.state().programs();
    sim.control(
        Method::PUT,
        "/_sim/faults",
        Some(r#"{"malformed_rate": 1.0}"#),
    )
    .await;
    let listing = sim.get("/programs/v1?limit=20").await;
    assert_eq!(listing.status, StatusCode::OK);
    assert!(serde_json::from_str::<serde_json::Value>(&listing.text).is_err());
    assert!(listing.text.starts_with(r#"{"payment_programs""#));
    assert_eq!(sim.post(&create_path(&sim)).await.status, StatusCode::OK);
    assert_untouched(&sim, &before);
}

#[tokio::test]
async fn a_stalled_request_is_held_for_the_stall_then_answered() {
    let sim = TestSim::with_defaults().await;
    sim.control(
        Method::PUT,
        "/_sim/faults",
        Some(r#"{"stall_rate": 1.0, "stall_ms": 300}"#),
    )
    .await;
    let started = Instant::now();
    assert_eq!(
        sim.get("/programs/v1?limit=20").await.status,
        StatusCode::OK
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_password_changed_through_the_settings_refuses_the_old_one_and_is_never_shown() {
    let sim = TestSim::with_defaults().await;
    let changed = sim
        .control(
            Method::PUT,
            "/_sim/settings",
            Some(r#"{"password": "rotated-partner-pw"}"#),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert!(!changed.text.contains("rotated-partner-pw"));
    assert_eq!(
        sim.get("/programs/v1?limit=20").await.status,
        StatusCode::UNAUTHORIZED
    );
    let shown = sim.control(Method::GET, "/_sim/settings", None).await;
    assert!(!shown.text.contains("rotated-partner-pw"));
}

#[tokio::test]
async fn a_capacity_makes_requests_beyond_it_wait_their_turn() {
    let sim = TestSim::start(SimConfig {
        latency_ms: 200,
        capacity: 2,
        ..config()
    })
    .await;
    let requests = (0..6).map(|_| sim.get("/programs/v1?limit=40"));
    let answers = futures::future::join_all(requests).await;
    assert!(answers.iter().all(|a| a.status == StatusCode::OK));
    let stats = sim.state().stats();
    // Two served at once, the other four waiting for them.
    assert_eq!(stats.max_queue, 4, "{stats:?}");
    assert_eq!(stats.max_in_flight, 6);
    assert!(stats.total_queue_wait_ms >= stats.max_queue_wait_ms);
    assert!(stats.max_queue_wait_ms > 0, "{stats:?}");
    assert_eq!(stats.queue_full, 0);

    let reset = sim
        .control(Method::DELETE, "/_sim/stats", None)
        .await
        .json();
    assert_eq!(reset["max_queue"], 0, "{reset}");
    assert_eq!(reset["total_queue_wait_ms"], 0);
    assert_eq!(reset["max_queue_wait_ms"], 0);
}

#[tokio::test]
async fn an_unlimited_capacity_queues_nothing() {
    let sim = TestSim::start(SimConfig {
        latency_ms: 100,
        ..config()
    })
    .await;
    let answers = futures::future::join_all((0..5).map(|_| sim.get("/programs/v1"))).await;
    assert!(answers.iter().all(|a| a.status == StatusCode::OK));
    let stats = sim.state().stats();
    assert_eq!((stats.max_queue, stats.total_queue_wait_ms), (0, 0));
}

#[tokio::test]
async fn a_full_queue_answers_429_with_retry_after_one_second() {
    let sim = TestSim::start(SimConfig {
        latency_ms: 300,
        capacity: 1,
        queue_max: Some(1),
        ..config()
    })
    .await;
    let answers = futures::future::join_all((0..3).map(|_| sim.get("/programs/v1"))).await;
    let refused: Vec<_> = answers
        .iter()
        .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(refused.len(), 1, "one served, one waiting, one refused");
    assert_eq!(refused[0].headers["retry-after"], "1");
    assert_eq!(sim.state().stats().queue_full, 1);
}
