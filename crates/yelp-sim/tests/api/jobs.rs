//! Create, edit and end: synchronous checks, jobs, receipts and the rules applied on completion.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use yelp_sim::{ProgramStatus, ProgramType, SimConfig};

use crate::helpers::{TestSim, config, group, today};

fn create_cpc(business: &str, extra: &str) -> String {
    format!(
        "/v1/reseller/program/create?business_id={business}&program_name=CPC&start=2026-03-20\
         &currency=USD&budget=300000&is_autobid=true&pacing_method=paced&fee_period=CALENDAR_MONTH{extra}"
    )
}

#[tokio::test]
async fn a_cpc_create_is_processing_then_completed_and_listed_only_after_completion() {
    let sim = TestSim::start(SimConfig {
        job_seconds: 0.8,
        ..config()
    })
    .await;
    let business = sim.plain_business();
    let job_id = sim
        .submit(&create_cpc(&business, "&ad_categories=plumbing"))
        .await;
    assert_eq!(job_id.len(), 22);

    let processing = sim
        .get(&format!("/v1/reseller/status/{job_id}"))
        .await
        .json();
    assert_eq!(processing["status"], "PROCESSING");
    assert_eq!(processing["completed_at"], Value::Null);
    let created_at = processing["created_at"].as_str().expect("created_at");
    assert!(
        created_at.ends_with("+00:00") && created_at.len() == 25,
        "{created_at}"
    );
    let result = &processing["business_results"][0];
    assert_eq!(result["identifier"], business.as_str());
    assert_eq!(result["identifier_type"], "BUSINESS");
    assert_eq!(result["status"], "PROCESSING");
    assert_eq!(
        group(&processing, "program_added")["budget"],
        json!({"status": "PROCESSING", "requested_value": "300000"})
    );
    assert_eq!(
        group(&processing, "program_added")["ad_categories"],
        json!([{"status": "PROCESSING", "requested_value": "plumbing"}])
    );
    let total = sim.get("/programs/v1?limit=1").await.json()["total"].clone();
    assert_eq!(total, 1900, "not listed while processing");

    let receipt = sim.wait_for_job(&job_id).await;
    assert_eq!(receipt["status"], "COMPLETED");
    assert!(
        receipt["completed_at"]
            .as_str()
            .is_some_and(|t| t.ends_with("+00:00"))
    );
    let added = group(&receipt, "program_added");
    assert_eq!(added["program_id"]["status"], "COMPLETED");
    let program_id = added["program_id"]["requested_value"]
        .as_str()
        .expect("new id")
        .to_owned();
    assert_eq!(
        added["yelp_business_id"],
        json!({"status": "COMPLETED", "requested_value": business})
    );
    assert_eq!(added["pacing_method"]["requested_value"], "PACED");
    assert_eq!(added["is_autobid"]["requested_value"], "true");
    assert_eq!(added["fee_period"]["requested_value"], "CALENDAR_MONTH");
    assert_eq!(added["ad_categories"][0]["status"], "COMPLETED");

    let last = sim.get("/programs/v1?offset=1900&limit=40").await.json();
    assert_eq!(last["total"], 1901);
    assert_eq!(
        last["payment_programs"][0]["program_id"],
        program_id.as_str()
    );
    let info = sim
        .get(&format!("/v1/programs/info/{program_id}"))
        .await
        .json();
    let program = &info["programs"][0];
    assert_eq!(program["program_status"], "INACTIVE", "starts tomorrow");
    assert_eq!(program["start_date"], "2026-03-20");
    assert_eq!(program["end_date"], "9999-12-31");
    assert_eq!(program["program_metrics"]["budget"], 300000);
    assert_eq!(program["program_metrics"]["max_bid"], Value::Null);
    assert_eq!(program["program_metrics"]["fee_period"], "Calendar Month");
    assert_eq!(program["ad_categories"], json!(["plumbing"]));
    assert_eq!(program["ad_campaign_id"].as_str().map(str::len), Some(22));
}

#[tokio::test]
async fn jobs_complete_on_time_even_when_nobody_polls() {
    let sim = TestSim::with_defaults().await;
    let business = sim.plain_business();
    sim.submit(&create_cpc(&business, "")).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(sim.state().program_count(), 1901);
    let jobs = sim
        .control(reqwest::Method::GET, "/_sim/jobs", None)
        .await
        .json();
    assert_eq!(jobs["jobs"][0]["status"], "COMPLETED");
    assert_eq!(jobs["jobs"][0]["kind"], "create");
    assert!(
        jobs["jobs"][0]["job_id"]
            .as_str()
            .is_some_and(|id| id.starts_with('-'))
    );
}

#[tokio::test]
async fn a_create_for_an_inactive_business_is_rejected_with_business_not_active() {
    let sim = TestSim::with_defaults().await;
    let business = sim.plain_business();
    sim.state()
        .set_business_active(&business, false)
        .expect("known business");
    let receipt = sim
        .wait_for_job(&sim.submit(&create_cpc(&business, "")).await)
        .await;
    assert_eq!(receipt["status"], "REJECTED");
    let result = &receipt["business_results"][0];
    assert_eq!(result["status"], "REJECTED");
    assert_eq!(result["error"]["code"], "BUSINESS_NOT_ACTIVE");
    assert!(result.get("update_results").is_none());
    assert_eq!(sim.state().program_count(), 1900);
}

#[tokio::test]
async fn a_create_for_an_unknown_business_fails_authorization_in_the_receipt() {
    let sim = TestSim::with_defaults().await;
    let receipt = sim
        .wait_for_job(&sim.submit(&create_cpc("AAAAAAAAAAAAAAAAAAAAAA", "")).await)
        .await;
    assert_eq!(
        receipt["business_results"][0]["error"]["code"],
        "BUSINESS_AUTHORIZATION_FAILED"
    );
}

#[tokio::test]
async fn an_unknown_category_rejects_the_group_in_the_wrapped_form() {
    let sim = TestSim::with_defaults().await;
    let business = sim.plain_business();
    let receipt = sim
        .wait_for_job(
            &sim.submit(&create_cpc(
                &business,
                "&ad_categories=plumbing&ad_categories=Restaurants",
            ))
            .await,
        )
        .await;
    assert_eq!(receipt["status"], "REJECTED");
    assert_eq!(receipt["business_results"][0]["status"], "REJECTED");
    let added = group(&receipt, "program_added");
    assert_eq!(added["status"], "REJECTED");
    assert_eq!(added["error"]["code"], "INVALID_OR_MISSING_REQUIRED_KEY");
    assert!(
        added["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("ad_categories"))
    );
    let categories = &added["requested_value"]["ad_categories"];
    assert_eq!(categories["status"], "REJECTED");
    assert_eq!(categories["error"]["code"], "INVALID_LIST_INDEXES");
    assert_eq!(
        categories["requested_value"][0]["error"]["code"],
        "PARENT_WAS_REJECTED"
    );
    assert_eq!(
        categories["requested_value"][1]["requested_value"],
        "Restaurants"
    );
    assert_eq!(
        categories["requested_value"][1]["error"]["code"],
        "CATEGORY_ALIAS_NOT_RECOGNIZED"
    );
    let budget = &added["requested_value"]["budget"];
    assert_eq!(budget["status"], "REJECTED");
    assert_eq!(budget["requested_value"], "300000");
    assert_eq!(budget["error"]["code"], "PARENT_WAS_REJECTED");
    assert_eq!(sim.state().program_count(), 1900);
}

#[tokio::test]
async fn ad_categories_work_as_a_repeated_key_and_as_a_comma_list() {
    let sim = TestSim::with_defaults().await;
    let business = sim.plain_business();
    let mut created = Vec::new();
    for extra in [
        "&ad_categories=plumbing&ad_categories=hvac",
        "&ad_categories=plumbing,hvac",
        "&ad_categories=plumbing%2Chvac",
    ] {
        let receipt = sim
            .wait_for_job(&sim.submit(&create_cpc(&business, extra)).await)
            .await;
        assert_eq!(receipt["status"], "COMPLETED", "{extra}: {receipt}");
        let id = group(&receipt, "program_added")["program_id"]["requested_value"]
            .as_str()
            .expect("id")
            .to_owned();
        created.push(id);
    }
    for id in created {
        let program = sim.state().program(&id).expect("created");
        assert_eq!(program.ad_categories, vec!["plumbing", "hvac"]);
    }
}

#[tokio::test]
async fn explicit_categories_for_a_business_in_an_unsupported_category_are_rejected() {
    let sim = TestSim::with_defaults().await;
    let business = sim
        .state()
        .businesses()
        .into_iter()
        .find(|b| b.is_active() && b.has_unsupported_category())
        .expect("the seed has one")
        .yelp_business_id;
    let receipt = sim
        .wait_for_job(
            &sim.submit(&create_cpc(&business, "&ad_categories=plumbing"))
                .await,
        )
        .await;
    let added = group(&receipt, "program_added");
    assert_eq!(added["error"]["code"], "UNSUPPORTED_CATEGORIES");
    assert_eq!(
        added["requested_value"]["ad_categories"]["requested_value"][0]["error"]["code"],
        "PARENT_WAS_REJECTED"
    );
    let without = sim
        .wait_for_job(&sim.submit(&create_cpc(&business, "")).await)
        .await;
    assert_eq!(without["status"], "COMPLETED");
}

#[tokio::test]
async fn cpc_field_rules_are_reported_on_their_fields() {
    let sim = TestSim::with_defaults().await;
    let business = sim.plain_business();
    let base = format!("/v1/reseller/program/create?business_id={business}&program_name=CPC");
    let cases = [
        ("&budget=2000", "budget", "INVALID_OR_MISSING_REQUIRED_KEY"),
        (
            "&budget=300000&is_autobid=false",
            "max_bid",
            "INVALID_OR_MISSING_REQUIRED_KEY",
        ),
        (
            "&budget=300000&is_autobid=false&max_bid=10",
            "max_bid",
            "INVALID_OR_MISSING_REQUIRED_KEY",
        ),
        (
            "&budget=300000&is_autobid=false&max_bid=400000",
            "max_bid",
            "BID_TOO_HIGH_FOR_BUDGET",
        ),
        (
            "&budget=300000&start=2026-03-18",
            "start",
            "CANNOT_ADD_PROGRAM_IN_PAST",
        ),
        (
            "&budget=300000&start=2026-03-20&end=2026-03-20",
            "end",
            "INVALID_OR_MISSING_REQUIRED_KEY",
        ),
        (
            "&budget=300000&currency=EUR",
            "currency",
            "CURRENCY_MISMATCH",
        ),
    ];
    for (params, field, code) in cases {
        let receipt = sim
            .wait_for_job(&sim.submit(&format!("{base}{params}")).await)
            .await;
        let added = group(&receipt, "program_added");
        assert_eq!(added["status"], "REJECTED", "{params}");
        assert_eq!(
            added["requested_value"][field]["error"]["code"], code,
            "{params}: {receipt}"
        );
    }
    let missing = sim
        .wait_for_job(
            &sim.submit(&format!(
                "/v1/reseller/program/create?business_id={business}&program_name=CPC"
            ))
            .await,
        )
        .await;
    let budget = &group(&missing, "program_added")["requested_value"]["budget"];
    assert_eq!(budget["error"]["code"], "INVALID_OR_MISSING_REQUIRED_KEY");
    assert_eq!(budget["requested_value"], Value::Null);
    assert_eq!(sim.state().program_count(), 1900);
}

#[tokio::test]
async fn a_max_bid_of_49_cents_is_rejected_and_50_cents_accepted_on_create_and_edit() {
    // Yelp's Ads API page: max_bid must be at least 50 cents (contract §13).
    let sim = TestSim::with_defaults().await;
    let business = sim.plain_business();
    let manual = |bid: u32| {
        format!(
            "/v1/reseller/program/create?business_id={business}&program_name=CPC&start=2026-03-20\
             &budget=300000&is_autobid=false&max_bid={bid}"
        )
    };
    let refused = sim.wait_for_job(&sim.submit(&manual(49)).await).await;
    let added = group(&refused, "program_added");
    assert_eq!(added["status"], "REJECTED", "{refused}");
    assert_eq!(
        added["requested_value"]["max_bid"]["error"]["code"], "INVALID_OR_MISSING_REQUIRED_KEY",
        "{refused}"
    );
    let accepted = sim.wait_for_job(&sim.submit(&manual(50)).await).await;
    assert_eq!(accepted["status"], "COMPLETED", "{accepted}");

    let id = sim.running_cpc().program_id;
    let edit = |bid: u32| format!("/v1/reseller/program/{id}/edit?is_autobid=false&max_bid={bid}");
    let refused = sim.wait_for_job(&sim.submit(&edit(49)).await).await;
    assert_eq!(
        group(&refused, "program_updated")["requested_value"]["max_bid"]["error"]["code"],
        "INVALID_OR_MISSING_REQUIRED_KEY",
        "{refused}"
    );
    let accepted = sim.wait_for_job(&sim.submit(&edit(50)).await).await;
    assert_eq!(accepted["status"], "COMPLETED", "{accepted}");
    let metrics = sim.state().program(&id).and_then(|p| p.program_metrics);
    assert_eq!(metrics.and_then(|m| m.max_bid), Some(50));
}

#[tokio::test]
async fn a_non_cpc_create_ignores_cpc_parameters_and_starts_today_by_default() {
    let sim = TestSim::with_defaults().await;
    let business = sim.plain_business();
    let receipt = sim
        .wait_for_job(
            &sim.submit(&format!(
                "/v1/reseller/program/create?business_id={business}&program_name=LOGO&budget=100&ad_categories=Nope"
            ))
            .await,
        )
        .await;
    assert_eq!(receipt["status"], "COMPLETED", "{receipt}");
    let added = group(&receipt, "program_added");
    assert!(added.get("budget").is_none());
    let id = added["program_id"]["requested_value"].as_str().expect("id");
    let program = sim.state().program(id).expect("created");
    assert_eq!(program.program_type, ProgramType::Logo);
    assert_eq!(program.start_date, today());
    assert_eq!(program.program_status, ProgramStatus::Active);
    assert!(program.page_upgrade_info.is_some());
}

#[tokio::test]
async fn malformed_submissions_get_400_and_record_no_job() {
    let sim = TestSim::with_defaults().await;
    let business = sim.plain_business();
    let base = format!("/v1/reseller/program/create?business_id={business}&program_name=CPC");
    let cases = [
        (
            "/v1/reseller/program/create?program_name=CPC".to_owned(),
            "MISSING_PARAMETER",
            "business_id",
        ),
        (
            format!("/v1/reseller/program/create?business_id={business}"),
            "MISSING_PARAMETER",
            "program_name",
        ),
        (
            format!("/v1/reseller/program/create?business_id={business}&program_name=XYZ"),
            "INVALID_PARAMETER",
            "program_name",
        ),
        (
            format!("{base}&budget=12.50"),
            "INVALID_PARAMETER",
            "budget",
        ),
        (
            format!("{base}&max_bid=abc"),
            "INVALID_PARAMETER",
            "max_bid",
        ),
        (
            format!("{base}&is_autobid=yes"),
            "INVALID_PARAMETER",
            "is_autobid",
        ),
        (
            format!("{base}&start=2026/03/20"),
            "INVALID_PARAMETER",
            "start",
        ),
        (format!("{base}&end=2026-13-01"), "INVALID_PARAMETER", "end"),
        (
            format!("{base}&pacing_method=fast"),
            "INVALID_PARAMETER",
            "pacing_method",
        ),
        (
            format!("{base}&fee_period=Calendar+Month"),
            "INVALID_PARAMETER",
            "fee_period",
        ),
        (
            format!("{base}&ad_categories=Home+Services"),
            "INVALID_PARAMETER",
            "ad_categories",
        ),
    ];
    for (path, id, parameter) in cases {
        let answer = sim.post(&path).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{path}");
        let error = &answer.json()["error"];
        assert_eq!(error["id"], id, "{path}");
        assert!(
            error["description"]
                .as_str()
                .is_some_and(|d| d.contains(parameter)),
            "{path}: {error}"
        );
    }
    let program = sim.running_cpc();
    for path in [
        format!("/v1/reseller/program/{}/edit", program.program_id),
        format!(
            "/v1/reseller/program/{}/edit?budget=1e5",
            program.program_id
        ),
    ] {
        assert_eq!(
            sim.post(&path).await.status,
            StatusCode::BAD_REQUEST,
            "{path}"
        );
    }
    assert!(sim.state().jobs().is_empty());
}

#[tokio::test]
async fn an_edit_of_the_budget_applies_only_when_its_job_completes() {
    let sim = TestSim::start(SimConfig {
        job_seconds: 0.8,
        ..config()
    })
    .await;
    let program = sim.running_cpc();
    let old_budget = program.program_metrics.as_ref().map(|m| m.budget);
    let job_id = sim
        .submit(&format!(
            "/v1/reseller/program/{}/edit?budget=777500",
            program.program_id
        ))
        .await;
    let processing = sim
        .get(&format!("/v1/reseller/status/{job_id}"))
        .await
        .json();
    assert_eq!(
        group(&processing, "program_updated")["budget"]["status"],
        "PROCESSING"
    );
    assert_eq!(
        sim.state()
            .program(&program.program_id)
            .and_then(|p| p.program_metrics)
            .map(|m| m.budget),
        old_budget
    );
    let receipt = sim.wait_for_job(&job_id).await;
    assert_eq!(receipt["status"], "COMPLETED");
    assert_eq!(
        group(&receipt, "program_updated")["budget"],
        json!({"status": "COMPLETED", "requested_value": "777500"})
    );
    let info = sim
        .get(&format!("/v1/programs/info/{}", program.program_id))
        .await
        .json();
    assert_eq!(info["programs"][0]["program_metrics"]["budget"], 777500);
}

#[tokio::test]
async fn edit_rules_are_checked_against_the_program_on_completion() {
    let sim = TestSim::with_defaults().await;
    let program = sim.running_cpc();
    let id = &program.program_id;
    sim.state()
        .patch_program(
            id,
            &yelp_sim::ProgramPatch {
                ad_cost: Some(4000),
                ..Default::default()
            },
        )
        .expect("patched");

    let below_spent = sim
        .wait_for_job(
            &sim.submit(&format!("/v1/reseller/program/{id}/edit?budget=3000"))
                .await,
        )
        .await;
    assert_eq!(
        group(&below_spent, "program_updated")["requested_value"]["budget"]["error"]["code"],
        "CANNOT_DECREASE_BUDGET_BELOW_AMOUNT_ALREADY_SPENT"
    );
    let start = sim
        .wait_for_job(
            &sim.submit(&format!("/v1/reseller/program/{id}/edit?start=2026-05-01"))
                .await,
        )
        .await;
    assert_eq!(
        group(&start, "program_updated")["requested_value"]["start"]["error"]["code"],
        "COULD_NOT_MODIFY_PROGRAM"
    );

    let scheduled = sim
        .wait_for_job(
            &sim.submit(&format!(
                "/v1/reseller/program/{id}/edit?budget=45000&future_budget_date=2026-04-01"
            ))
            .await,
        )
        .await;
    assert_eq!(scheduled["status"], "COMPLETED", "{scheduled}");
    let info = sim.get(&format!("/v1/programs/info/{id}")).await.json();
    assert_eq!(
        info["programs"][0]["future_budget_changes"],
        json!([{"budget": 45000, "date": "2026-04-01"}])
    );
    assert_eq!(
        info["programs"][0]["program_metrics"]["budget"].as_i64(),
        program.program_metrics.as_ref().map(|m| m.budget)
    );

    let manual = sim
        .wait_for_job(
            &sim.submit(&format!(
                "/v1/reseller/program/{id}/edit?max_bid=1250&pacing_method=unpaced"
            ))
            .await,
        )
        .await;
    assert_eq!(manual["status"], "COMPLETED", "{manual}");
    let metrics = sim
        .state()
        .program(id)
        .and_then(|p| p.program_metrics)
        .expect("cpc");
    assert!(
        !metrics.is_autobid,
        "max_bid without is_autobid turns autobid off"
    );
    assert_eq!(metrics.max_bid, Some(1250));

    let auto = sim
        .wait_for_job(
            &sim.submit(&format!("/v1/reseller/program/{id}/edit?is_autobid=true"))
                .await,
        )
        .await;
    assert_eq!(auto["status"], "COMPLETED");
    let metrics = sim
        .state()
        .program(id)
        .and_then(|p| p.program_metrics)
        .expect("cpc");
    assert!(metrics.is_autobid);
    assert_eq!(metrics.max_bid, None);

    let clear = sim
        .wait_for_job(
            &sim.submit(&format!("/v1/reseller/program/{id}/edit?ad_categories="))
                .await,
        )
        .await;
    assert_eq!(clear["status"], "COMPLETED");
    assert!(
        sim.state()
            .program(id)
            .is_some_and(|p| p.ad_categories.is_empty())
    );

    let non_cpc = sim.find_program(|p| p.program_type == ProgramType::Ep && p.is_running(today()));
    let refused = sim
        .wait_for_job(
            &sim.submit(&format!(
                "/v1/reseller/program/{}/edit?budget=5000",
                non_cpc.program_id
            ))
            .await,
        )
        .await;
    assert_eq!(refused["status"], "REJECTED");
}

#[tokio::test]
async fn editing_or_ending_an_unknown_program_is_refused_at_once() {
    let sim = TestSim::with_defaults().await;
    for path in [
        "/v1/reseller/program/AAAAAAAAAAAAAAAAAAAAAA/edit?budget=5000",
        "/v1/reseller/program/AAAAAAAAAAAAAAAAAAAAAA/end",
    ] {
        let answer = sim.post(path).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(answer.json()["error"]["id"], "INVALID_PROGRAM_ID");
    }
}

#[tokio::test]
async fn a_program_deleted_while_its_edit_runs_is_rejected_with_invalid_program_id() {
    let sim = TestSim::start(SimConfig {
        job_seconds: 0.8,
        ..config()
    })
    .await;
    let program = sim.running_cpc();
    let job = sim
        .submit(&format!(
            "/v1/reseller/program/{}/edit?budget=9000",
            program.program_id
        ))
        .await;
    sim.state()
        .remove_program(&program.program_id)
        .expect("removed");
    let receipt = sim.wait_for_job(&job).await;
    assert_eq!(
        group(&receipt, "program_updated")["error"]["code"],
        "INVALID_PROGRAM_ID"
    );
}

#[tokio::test]
async fn ending_a_program_makes_it_inactive_today_and_a_second_end_finds_it_expired() {
    let sim = TestSim::with_defaults().await;
    let program = sim.running_cpc();
    let id = &program.program_id;
    let receipt = sim
        .wait_for_job(&sim.submit(&format!("/v1/reseller/program/{id}/end")).await)
        .await;
    assert_eq!(receipt["status"], "COMPLETED");
    assert_eq!(
        group(&receipt, "program_deleted")["program_id"]["requested_value"],
        id.as_str()
    );
    let ended = sim.state().program(id).expect("still listed");
    assert_eq!(ended.program_status, ProgramStatus::Inactive);
    assert_eq!(ended.end_date, today());
    let again = sim
        .wait_for_job(&sim.submit(&format!("/v1/reseller/program/{id}/end")).await)
        .await;
    assert_eq!(
        group(&again, "program_deleted")["error"]["code"],
        "PROGRAM_HAS_EXPIRED"
    );
    let edit = sim
        .wait_for_job(
            &sim.submit(&format!("/v1/reseller/program/{id}/edit?budget=9000"))
                .await,
        )
        .await;
    assert_eq!(
        group(&edit, "program_updated")["error"]["code"],
        "PROGRAM_HAS_EXPIRED"
    );
}

#[tokio::test]
async fn an_unknown_job_id_gives_500_job_not_found() {
    let sim = TestSim::with_defaults().await;
    let answer = sim.get("/v1/reseller/status/-8XYgJN8YpYWZ6vCrUjKJw").await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.json()["error"]["id"], "JOB_NOT_FOUND");
    assert!(answer.json()["error"]["description"].is_string());
}

#[tokio::test]
async fn a_job_past_its_retention_is_not_found_but_its_change_still_applies() {
    let sim = TestSim::start(SimConfig {
        job_retention_seconds: 0,
        ..config()
    })
    .await;
    let business = sim.plain_business();
    let job = sim.submit(&create_cpc(&business, "")).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let answer = sim.get(&format!("/v1/reseller/status/{job}")).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.json()["error"]["id"], "JOB_NOT_FOUND");
    assert_eq!(sim.state().program_count(), 1901);
}

#[tokio::test]
async fn receipts_can_omit_the_program_id_and_submissions_can_answer_202() {
    let sim = TestSim::start(SimConfig {
        omit_program_id_rate: 1.0,
        success_status: 202,
        ..config()
    })
    .await;
    let business = sim.plain_business();
    let answer = sim.post(&create_cpc(&business, "")).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED);
    let job = answer.json()["job_id"].as_str().expect("job id").to_owned();
    let receipt = sim.wait_for_job(&job).await;
    assert_eq!(receipt["status"], "COMPLETED");
    let added = group(&receipt, "program_added");
    assert!(added.get("program_id").is_none());
    assert_eq!(added["yelp_business_id"]["status"], "COMPLETED");
    assert_eq!(sim.state().program_count(), 1901);
}
