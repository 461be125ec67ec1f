//! Create, edit and end as asynchronous jobs, read through their receipts.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;
use yelp_partner_api::{
    BusinessId, Cents, Client, CreateProgram, EditProgram, Error, JobId, JobOutcome, JobReceipt,
    JobStatus, PacingMethod, ProgramId, ProgramStatus, ProgramType,
};

use crate::helpers::{TestSim, today};

/// Polls a job until Yelp ends it.
async fn wait_for(client: &Client, job: &JobId) -> JobReceipt {
    for _ in 0..200 {
        let receipt = client.job_status(job).await.unwrap();
        if !receipt.status.is_running() {
            return receipt;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("job {job} did not end");
}

fn cpc_create(business: &str) -> CreateProgram {
    let mut create = CreateProgram::new(BusinessId::parse(business).unwrap(), ProgramType::Cpc);
    create.start = Some(today());
    create.currency = Some("USD".into());
    create.budget = Some(Cents::new(300_000));
    create.is_autobid = Some(true);
    create.pacing_method = Some(PacingMethod::Paced);
    create.ad_categories = vec!["plumbing".into()];
    create
}

#[tokio::test]
async fn a_cpc_create_completes_and_yields_the_new_program_which_yelp_then_knows() {
    let sim = TestSim::start(20).await;
    let business = sim.active_business().await;
    let client = sim.client();
    let job = client.create_program(&cpc_create(&business)).await.unwrap();

    let first = client.job_status(&job).await.unwrap();
    assert_eq!(first.status, JobStatus::Processing);
    assert_eq!(first.outcome(), JobOutcome::InProgress);
    assert!(first.created_at.is_some());
    assert_eq!(
        sim.programs().await.len(),
        20,
        "nothing changes before the job completes"
    );

    let done = wait_for(&client, &job).await;
    assert_eq!(
        done.outcome(),
        JobOutcome::Completed,
        "{:?}",
        done.failure_reasons()
    );
    assert!(done.completed_at >= done.created_at);
    let program_id = done.new_program_id().expect("program id in the receipt");
    let program = client.program_info(&program_id).await.unwrap().program;
    assert_eq!(program.program_type, ProgramType::Cpc);
    assert_eq!(program.business_id().unwrap().as_str(), business);
    assert_eq!(
        program.program_metrics.unwrap().budget,
        Some(Cents::new(300_000))
    );
    assert_eq!(program.ad_categories, ["plumbing"]);
}

#[tokio::test]
async fn a_create_for_an_inactive_business_is_rejected_with_a_readable_reason() {
    let sim = TestSim::start(20).await;
    let business = sim.active_business().await;
    sim.send(
        reqwest::Method::PATCH,
        &format!("/_sim/businesses/{business}"),
        json!({"active": false}),
    )
    .await;
    let client = sim.client();
    let job = client.create_program(&cpc_create(&business)).await.unwrap();
    let done = wait_for(&client, &job).await;
    assert_eq!(done.outcome(), JobOutcome::Rejected);
    assert_eq!(done.new_program_id(), None);
    let reasons = done.failure_reasons();
    assert_eq!(reasons[0].code, "BUSINESS_NOT_ACTIVE");
    assert_eq!(
        reasons[0].describe(),
        "The business is not active on Yelp (closed or removed from search)"
    );
}

#[tokio::test]
async fn a_create_with_an_unknown_category_is_rejected_naming_the_category() {
    let sim = TestSim::start(20).await;
    let business = sim.active_business().await;
    let mut create = cpc_create(&business);
    create.ad_categories = vec!["plumbing".into(), "Restaurants".into()];
    let client = sim.client();
    let job = client.create_program(&create).await.unwrap();
    let done = wait_for(&client, &job).await;
    assert_eq!(done.outcome(), JobOutcome::Rejected);
    let reasons = done.failure_reasons();
    assert_eq!(
        reasons[0].describe(),
        "Category 'Restaurants' is not a Yelp category alias"
    );
    assert_eq!(reasons[0].field.as_deref(), Some("ad_categories"));
    assert!(reasons.iter().any(|r| r.code == "INVALID_LIST_INDEXES"));
    assert!(reasons.iter().any(|r| r.code == "PARENT_WAS_REJECTED"));
    assert_eq!(reasons.last().unwrap().code, "PARENT_WAS_REJECTED");
    assert_eq!(sim.programs().await.len(), 20);
}

#[tokio::test]
async fn a_completed_create_without_a_program_id_is_found_by_listing_the_business() {
    let sim = TestSim::start_with(20, |c| c.omit_program_id_rate = 1.0).await;
    let business = sim.active_business().await;
    let business_id = BusinessId::parse(&business).unwrap();
    let client = sim.client();
    let known: HashSet<ProgramId> = client
        .all_business_programs(&business_id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.program.program_id)
        .collect();
    let create = cpc_create(&business);
    let job = client.create_program(&create).await.unwrap();
    let done = wait_for(&client, &job).await;
    assert_eq!(done.outcome(), JobOutcome::Completed);
    assert_eq!(done.new_program_id(), None, "the receipt names no program");
    let found = client
        .find_created_program(&business_id, &ProgramType::Cpc, create.start, &known)
        .await
        .unwrap()
        .expect("the new program is found");
    assert!(!known.contains(&found));
    assert_eq!(
        client
            .program_info(&found)
            .await
            .unwrap()
            .program
            .start_date,
        create.start
    );
}

#[tokio::test]
async fn an_edit_applies_only_when_its_job_completes() {
    let sim = TestSim::start(60).await;
    let program = sim
        .find_program(|p| p["program_type"] == "CPC" && p["program_status"] == "ACTIVE")
        .await;
    let id = ProgramId::parse(program["program_id"].as_str().unwrap()).unwrap();
    let old_budget = program["program_metrics"]["budget"].as_i64().unwrap();
    let new_budget = old_budget + 12_500;
    let client = sim.client();
    let edit = EditProgram {
        budget: Some(Cents::new(new_budget)),
        ..EditProgram::default()
    };
    let job = client.edit_program(&id, &edit).await.unwrap();
    let before = client.program_info(&id).await.unwrap().program;
    assert_eq!(
        before.program_metrics.unwrap().budget,
        Some(Cents::new(old_budget))
    );
    let done = wait_for(&client, &job).await;
    assert_eq!(
        done.outcome(),
        JobOutcome::Completed,
        "{:?}",
        done.failure_reasons()
    );
    let after = client.program_info(&id).await.unwrap().program;
    assert_eq!(
        after.program_metrics.unwrap().budget,
        Some(Cents::new(new_budget))
    );
}

#[tokio::test]
async fn an_empty_edit_is_refused_before_yelp_sees_it() {
    let sim = TestSim::start(5).await;
    let id = ProgramId::parse(sim.programs().await[0]["program_id"].as_str().unwrap()).unwrap();
    let err = sim
        .client()
        .edit_program(&id, &EditProgram::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert_eq!(
        sim.requests("POST /v1/reseller/program/{program_id}/edit")
            .await,
        0
    );
}

#[tokio::test]
async fn ending_a_running_program_makes_it_inactive_with_todays_end_date() {
    let sim = TestSim::start(60).await;
    let program = sim
        .find_program(|p| p["program_status"] == "ACTIVE" && p["end_date"] == "9999-12-31")
        .await;
    let id = ProgramId::parse(program["program_id"].as_str().unwrap()).unwrap();
    let client = sim.client();
    let job = client.end_program(&id).await.unwrap();
    let done = wait_for(&client, &job).await;
    assert_eq!(
        done.outcome(),
        JobOutcome::Completed,
        "{:?}",
        done.failure_reasons()
    );
    let ended = client.program_info(&id).await.unwrap().program;
    assert_eq!(ended.program_status, ProgramStatus::Inactive);
    assert_eq!(ended.end_date, Some(today()));
}

#[tokio::test]
async fn an_unknown_job_is_not_found_at_once() {
    let sim = TestSim::start(5).await;
    let err = sim
        .client()
        .job_status(&JobId::parse("-8XYgJN8YpYWZ6vCrUjKJw").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert_eq!(
        sim.requests("GET /v1/reseller/status/{job_id}").await,
        1,
        "an expired job is an answer, not a failure to retry"
    );
}
