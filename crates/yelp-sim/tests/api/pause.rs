//! Pause and resume (§4.7): synchronous, CPC only, state rules, and 404 when the account lacks them.

use reqwest::{Method, StatusCode};
use serde_json::json;
use yelp_sim::{PauseStatus, ProgramType, SimConfig};

use crate::helpers::{TestSim, config, today};

#[tokio::test]
async fn a_running_cpc_program_pauses_and_resumes_once_each() {
    let sim = TestSim::with_defaults().await;
    let id = sim.running_cpc().program_id;

    let paused = sim.post(&format!("/program/{id}/pause/v1")).await;
    assert_eq!(paused.status, StatusCode::ACCEPTED);
    assert_eq!(paused.json(), json!({}));
    assert_eq!(
        sim.state().program(&id).map(|p| p.program_pause_status),
        Some(PauseStatus::Paused)
    );
    let listed = sim
        .get("/programs/v1?program_status=PAUSED&limit=40")
        .await
        .json();
    assert!(listed["total"].as_u64().is_some_and(|t| t > 0));

    let again = sim.post(&format!("/program/{id}/pause/v1")).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.json()["error"]["id"], "INVALID_PROGRAM_STATE");

    assert_eq!(
        sim.post(&format!("/program/{id}/resume/v1")).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        sim.state().program(&id).map(|p| p.program_pause_status),
        Some(PauseStatus::NotPaused)
    );
    let twice = sim.post(&format!("/program/{id}/resume/v1")).await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST);
    assert_eq!(twice.json()["error"]["id"], "INVALID_PROGRAM_STATE");
}

#[tokio::test]
async fn only_running_cpc_programs_can_be_paused() {
    let sim = TestSim::with_defaults().await;
    let scheduled =
        sim.find_program(|p| p.program_type == ProgramType::Cpc && p.start_date > today());
    let answer = sim
        .post(&format!("/program/{}/pause/v1", scheduled.program_id))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json()["error"]["id"], "INVALID_PROGRAM_STATE");

    let ended = sim.find_program(|p| p.program_type == ProgramType::Cpc && p.is_ended(today()));
    assert_eq!(
        sim.post(&format!("/program/{}/pause/v1", ended.program_id))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    let non_cpc = sim.find_program(|p| p.program_type != ProgramType::Cpc && p.is_running(today()));
    let answer = sim
        .post(&format!("/program/{}/pause/v1", non_cpc.program_id))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);

    assert_eq!(
        sim.post("/program/AAAAAAAAAAAAAAAAAAAAAA/pause/v1")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn pause_and_resume_are_missing_routes_when_the_account_lacks_them() {
    let sim = TestSim::start(SimConfig {
        pause_resume: false,
        ..config()
    })
    .await;
    let id = sim.running_cpc().program_id;
    for action in ["pause", "resume"] {
        let answer = sim.post(&format!("/program/{id}/{action}/v1")).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert_eq!(answer.text, "The requested route does not exist");
    }
    assert_eq!(
        sim.state().program(&id).map(|p| p.program_pause_status),
        Some(PauseStatus::NotPaused)
    );

    sim.control(
        Method::PUT,
        "/_sim/settings",
        Some(r#"{"pause_resume": true}"#),
    )
    .await;
    assert_eq!(
        sim.post(&format!("/program/{id}/pause/v1")).await.status,
        StatusCode::ACCEPTED
    );
}
