//! The `/_sim` control API.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yelp_sim::SimConfig;

use crate::helpers::{TestSim, config};

#[tokio::test]
async fn added_programs_are_running_and_appended_to_the_listing() {
    let sim = TestSim::with_defaults().await;
    let business = sim.plain_business();
    let body = json!({"count": 3, "business_id": business, "program_type": "CPC"}).to_string();
    let answer = sim
        .control(Method::POST, "/_sim/programs", Some(&body))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let ids: Vec<String> =
        serde_json::from_value(answer.json()["program_ids"].clone()).expect("ids");
    assert_eq!(ids.len(), 3);
    let last = sim.get("/programs/v1?offset=1900&limit=40").await.json();
    assert_eq!(last["total"], 1903);
    let listed: Vec<&str> = last["payment_programs"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|p| p["program_id"].as_str())
        .collect();
    assert_eq!(listed, ids.iter().map(String::as_str).collect::<Vec<_>>());
    for entry in last["payment_programs"].as_array().expect("array") {
        assert_eq!(entry["program_type"], "CPC");
        assert_eq!(entry["program_status"], "ACTIVE");
        assert_eq!(
            entry["businesses"][0]["yelp_business_id"],
            business.as_str()
        );
    }
    let bad = sim
        .control(
            Method::POST,
            "/_sim/programs",
            Some(r#"{"count": 1, "program_type": "XX"}"#),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_deleted_program_disappears_and_later_offsets_shift() {
    let sim = TestSim::with_defaults().await;
    let programs = sim.state().programs();
    let gone = &programs[10].program_id;
    let answer = sim
        .control(Method::DELETE, &format!("/_sim/programs/{gone}"), None)
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let page = sim.get("/programs/v1?offset=0&limit=40").await.json();
    assert_eq!(page["total"], 1899);
    assert_eq!(
        page["payment_programs"][10]["program_id"],
        programs[11].program_id.as_str()
    );
    let info = sim.get(&format!("/v1/programs/info/{gone}")).await.json();
    assert_eq!(info["errors"][0]["id"], "INVALID_PROGRAM_ID");
    let again = sim
        .control(Method::DELETE, &format!("/_sim/programs/{gone}"), None)
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn programs_can_be_patched_with_checked_values() {
    let sim = TestSim::with_defaults().await;
    let cpc = sim.running_cpc().program_id;
    let answer = sim
        .control(
            Method::PATCH,
            &format!("/_sim/programs/{cpc}"),
            Some(r#"{"budget": 123500, "max_bid": null, "is_autobid": true, "billed_clicks": 7, "program_pause_status": "PAUSED", "end_date": "2027-01-01"}"#),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let program = answer.json();
    assert_eq!(program["program_metrics"]["budget"], 123500);
    assert_eq!(program["program_metrics"]["billed_clicks"], 7);
    assert_eq!(program["program_pause_status"], "PAUSED");
    assert_eq!(program["end_date"], "2027-01-01");
    assert_eq!(program["yelp_business_id"].as_str().map(str::len), Some(22));

    let non_cpc = sim.find_program(|p| p.program_metrics.is_none()).program_id;
    for (id, body) in [
        (&non_cpc, r#"{"budget": 5000}"#),
        (&cpc, r#"{"program_status": "RUNNING"}"#),
        (&cpc, r#"{"budget": "lots"}"#),
        (&cpc, r#"{"budget": -5}"#),
        (&cpc, r#"{"colour": "red"}"#),
        (&cpc, r#"{"start_date": "tomorrow"}"#),
        (&cpc, "not json"),
    ] {
        let answer = sim
            .control(Method::PATCH, &format!("/_sim/programs/{id}"), Some(body))
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
    }
    let unknown = sim
        .control(Method::PATCH, "/_sim/programs/nope", Some("{}"))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_program_is_listed_in_the_info_shape() {
    let sim = TestSim::with_defaults().await;
    let all = sim
        .control(Method::GET, "/_sim/programs", None)
        .await
        .json();
    let programs = all["programs"].as_array().expect("array");
    assert_eq!(programs.len(), 1900);
    assert!(
        programs
            .iter()
            .all(|p| p["yelp_business_id"].is_string() && p.get("businesses").is_none())
    );
    let one = sim
        .get(&format!(
            "/v1/programs/info/{}",
            programs[5]["program_id"].as_str().unwrap_or_default()
        ))
        .await
        .json();
    assert_eq!(one["programs"][0], programs[5]);
}

#[tokio::test]
async fn businesses_can_be_listed_and_closed() {
    let sim = TestSim::with_defaults().await;
    let list = sim
        .control(Method::GET, "/_sim/businesses", None)
        .await
        .json();
    let businesses = list["businesses"].as_array().expect("array");
    assert_eq!(businesses.len(), 300);
    let first = &businesses[0];
    for key in [
        "yelp_business_id",
        "name",
        "categories",
        "active",
        "partner_business_id",
    ] {
        assert!(first.get(key).is_some(), "{key}");
    }
    let id = first["yelp_business_id"].as_str().expect("id");
    let closed = sim
        .control(
            Method::PATCH,
            &format!("/_sim/businesses/{id}"),
            Some(r#"{"active": false, "categories": ["plumbing"]}"#),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK);
    assert_eq!(closed.json()["active"], false);
    assert_eq!(sim.state().business(id).map(|b| b.is_active()), Some(false));
    let bad = sim
        .control(
            Method::PATCH,
            &format!("/_sim/businesses/{id}"),
            Some(r#"{"active": "no"}"#),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn faults_and_settings_are_read_and_partly_updated() {
    let sim = TestSim::with_defaults().await;
    let faults = sim.control(Method::GET, "/_sim/faults", None).await.json();
    assert_eq!(
        faults,
        json!({"latency_ms": 0, "error_rate": 0.0, "rate_limit_rate": 0.0, "drop_rate": 0.0,
               "fail_offsets_from": null, "business_info_fails": false, "retry_after_seconds": 1, "lose_answer_rate": 0.0,
               "malformed_rate": 0.0, "stall_rate": 0.0, "stall_ms": 0})
    );
    let updated = sim
        .control(
            Method::PUT,
            "/_sim/faults",
            Some(r#"{"latency_ms": 5, "retry_after_seconds": 2}"#),
        )
        .await
        .json();
    assert_eq!(updated["latency_ms"], 5);
    assert_eq!(updated["retry_after_seconds"], 2);
    assert_eq!(updated["error_rate"], 0.0);
    for body in [
        r#"{"error_rate": 2}"#,
        r#"{"drop_rate": -0.1}"#,
        r#"{"lose_answer_rate": 1.5}"#,
        r#"{"malformed_rate": 1.5}"#,
        r#"{"stall_rate": -1}"#,
        r#"{"bogus": 1}"#,
    ] {
        assert_eq!(
            sim.control(Method::PUT, "/_sim/faults", Some(body))
                .await
                .status,
            StatusCode::BAD_REQUEST,
            "{body}"
        );
    }

    let settings = sim
        .control(Method::GET, "/_sim/settings", None)
        .await
        .json();
    assert_eq!(settings["job_seconds"], 0.05);
    assert_eq!(settings["pause_resume"], true);
    let updated = sim
        .control(
            Method::PUT,
            "/_sim/settings",
            Some(r#"{"success_status": 202, "max_bid_min_cents": 50}"#),
        )
        .await
        .json();
    assert_eq!(updated["success_status"], 202);
    assert_eq!(updated["max_bid_min_cents"], 50);
    for body in [
        r#"{"success_status": 201}"#,
        r#"{"job_seconds": -1}"#,
        r#"{"missing_budget_rate": 3}"#,
    ] {
        assert_eq!(
            sim.control(Method::PUT, "/_sim/settings", Some(body))
                .await
                .status,
            StatusCode::BAD_REQUEST,
            "{body}"
        );
    }
}

#[tokio::test]
async fn the_control_api_needs_no_credentials_and_ignores_faults() {
    let sim = TestSim::start(SimConfig {
        error_rate: 1.0,
        ..config()
    })
    .await;
    let answer = sim
        .client
        .get(sim.url("/_sim/jobs"))
        .send()
        .await
        .expect("answer");
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(
        answer.json::<Value>().await.expect("json"),
        json!({"jobs": []})
    );
    assert!(sim.state().stats().requests.is_empty());
}

#[tokio::test]
async fn the_jobs_list_shows_kind_status_and_program() {
    let sim = TestSim::start(SimConfig {
        job_seconds: 5.0,
        ..config()
    })
    .await;
    let program = sim.running_cpc().program_id;
    let job = sim
        .submit(&format!("/v1/reseller/program/{program}/end"))
        .await;
    let jobs = sim.control(Method::GET, "/_sim/jobs", None).await.json();
    let entry = &jobs["jobs"][0];
    assert_eq!(entry["job_id"], job.as_str());
    assert_eq!(entry["kind"], "end");
    assert_eq!(entry["status"], "PROCESSING");
    assert_eq!(entry["program_id"], program.as_str());
    assert_eq!(entry["completed_at"], Value::Null);
}
