//! Every endpoint's happy path, and the not-found and credential answers.

use std::collections::HashSet;

use futures::StreamExt;
use yelp_partner_api::{
    BusinessId, Error, ListAllOptions, PauseStatus, ProgramId, ProgramStatus, ProgramType,
    StatusFilter,
};

use crate::helpers::{PASSWORD, TestSim, USERNAME};

#[tokio::test]
async fn a_page_of_the_listing_has_the_asked_size_and_the_accounts_total() {
    let sim = TestSim::start(1900).await;
    let page = sim
        .client()
        .list_programs(StatusFilter::All, 40, 40)
        .await
        .unwrap();
    assert_eq!(page.total, 1900);
    assert_eq!(page.programs.len(), 40);
    assert!(page.malformed.is_empty());
    let expected = sim.programs().await;
    for (entry, want) in page.programs.iter().zip(&expected[40..80]) {
        assert_eq!(entry.program.program_id.as_str(), want["program_id"]);
        assert_eq!(
            entry.program.business_id().map(BusinessId::as_str),
            want["yelp_business_id"].as_str(),
            "list-all entries carry the business in businesses[]"
        );
    }
}

#[tokio::test]
async fn the_status_filter_selects_what_the_simulator_counts_in_that_bucket() {
    let sim = TestSim::start(300).await;
    let client = sim.client();
    let all = client
        .list_programs(StatusFilter::All, 0, 1)
        .await
        .unwrap()
        .total;
    let mut sum = 0;
    for status in [
        StatusFilter::Current,
        StatusFilter::Past,
        StatusFilter::Future,
        StatusFilter::Paused,
    ] {
        let page = client.list_programs(status, 0, 40).await.unwrap();
        assert!(page.total > 0, "{status} has programs");
        for entry in &page.programs {
            let p = &entry.program;
            match status {
                StatusFilter::Paused => assert_eq!(p.program_pause_status, PauseStatus::Paused),
                StatusFilter::Future => assert!(p.start_date.unwrap() > crate::helpers::today()),
                StatusFilter::Past => assert!(p.end_date.unwrap() < crate::helpers::today()),
                _ => assert_eq!(p.program_status, ProgramStatus::Active),
            }
        }
        sum += page.total;
    }
    assert!(sum <= all);
}

#[tokio::test]
async fn listing_1900_programs_with_concurrency_8_gets_every_program_with_at_most_8_in_flight() {
    let sim = TestSim::start_with(1900, |c| c.latency_ms = 15).await;
    let pages: Vec<_> = sim
        .client()
        .list_all_programs(ListAllOptions {
            status: StatusFilter::All,
            page_size: 40,
            concurrency: 8,
        })
        .collect()
        .await;
    assert_eq!(pages.len(), 48);
    let mut ids = HashSet::new();
    for page in pages {
        let page = page.unwrap();
        assert_eq!(page.total, 1900);
        ids.extend(page.programs.into_iter().map(|e| e.program.program_id));
    }
    assert_eq!(ids.len(), 1900);
    let in_flight = sim.max_in_flight().await;
    assert!(
        (2..=8).contains(&in_flight),
        "max in flight was {in_flight}"
    );
    assert_eq!(sim.requests("GET /programs/v1").await, 48);
}

#[tokio::test]
async fn a_listing_refused_at_40_a_page_goes_on_at_20() {
    let sim = TestSim::start_with(1900, |c| c.page_size_max = 20).await;
    let pages: Vec<_> = sim
        .client()
        .list_all_programs(ListAllOptions::default())
        .collect()
        .await;
    assert_eq!(pages.len(), 95);
    let mut ids = HashSet::new();
    for page in pages {
        let page = page.unwrap();
        assert_eq!(page.limit, 20);
        ids.extend(page.programs.into_iter().map(|e| e.program.program_id));
    }
    assert_eq!(ids.len(), 1900);
    // The refused first page, then 95 at 20.
    assert_eq!(sim.requests("GET /programs/v1").await, 96);
}

#[tokio::test]
async fn a_listing_against_four_slots_finds_them_without_exceeding_its_ceiling() {
    let sim = TestSim::start_with(1900, |c| {
        c.latency_ms = 30;
        c.capacity = 4;
    })
    .await;
    let window = std::sync::Arc::new(yelp_partner_api::AdaptiveWindow::new(10, 24));
    let pages: Vec<_> = sim
        .client()
        .list_all_programs_in(ListAllOptions::default(), window.clone())
        .collect()
        .await;
    assert_eq!(pages.len(), 48);
    assert!(pages.iter().all(Result::is_ok));
    assert!(sim.max_in_flight().await <= 24);
    // Queueing was seen: the window came down from where it started, to about the slots.
    assert!((1..10).contains(&window.limit()), "{}", window.limit());
}

#[tokio::test]
async fn program_info_returns_the_program_with_its_business() {
    let sim = TestSim::start(50).await;
    let want = sim.find_program(|p| p["program_type"] == "CPC").await;
    let id = ProgramId::parse(want["program_id"].as_str().unwrap()).unwrap();
    let entry = sim.client().program_info(&id).await.unwrap();
    assert_eq!(entry.program.program_id, id);
    assert_eq!(entry.program.program_type, ProgramType::Cpc);
    assert_eq!(
        entry.program.yelp_business_id.as_ref().unwrap().as_str(),
        want["yelp_business_id"]
    );
    let metrics = entry.program.program_metrics.unwrap();
    assert_eq!(
        metrics.budget.unwrap().get(),
        want["program_metrics"]["budget"].as_i64().unwrap()
    );
    assert_eq!(entry.raw["program_id"], want["program_id"]);
}

#[tokio::test]
async fn an_unknown_program_is_not_found_although_yelp_answers_200() {
    let sim = TestSim::start(5).await;
    let err = sim
        .client()
        .program_info(&ProgramId::parse("AAAAAAAAAAAAAAAAAAAAAA").unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { detail: Some(d), .. } if d.contains("does not exist")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_business_lists_exactly_its_own_programs() {
    let sim = TestSim::start(200).await;
    let programs = sim.programs().await;
    let business = programs[0]["yelp_business_id"].as_str().unwrap().to_owned();
    let mut expected: Vec<_> = programs
        .iter()
        .filter(|p| p["yelp_business_id"] == business.as_str())
        .map(|p| p["program_id"].as_str().unwrap().to_owned())
        .collect();
    let client = sim.client();
    let id = BusinessId::parse(&business).unwrap();
    let page = client.business_programs(&id, 0, 40).await.unwrap();
    assert_eq!(page.business.unwrap().yelp_business_id, id);
    let mut got: Vec<_> = client
        .all_business_programs(&id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.program.program_id.into_string())
        .collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn pause_and_resume_change_a_running_cpc_program_at_once() {
    let sim = TestSim::start(100).await;
    let running = sim
        .find_program(|p| {
            p["program_type"] == "CPC"
                && p["program_status"] == "ACTIVE"
                && p["program_pause_status"] == "NOT_PAUSED"
                && p["start_date"].as_str().unwrap() <= crate::helpers::today().to_string().as_str()
        })
        .await;
    let id = ProgramId::parse(running["program_id"].as_str().unwrap()).unwrap();
    let client = sim.client();
    client.pause_program(&id).await.unwrap();
    let paused = client.program_info(&id).await.unwrap().program;
    assert_eq!(paused.program_pause_status, PauseStatus::Paused);

    let again = client.pause_program(&id).await.unwrap_err();
    assert!(
        matches!(again, Error::Rejected { status: 400, .. }),
        "{again:?}"
    );

    client.resume_program(&id).await.unwrap();
    let resumed = client.program_info(&id).await.unwrap().program;
    assert_eq!(resumed.program_pause_status, PauseStatus::NotPaused);
}

#[tokio::test]
async fn pause_is_not_found_when_the_account_lacks_the_feature() {
    let sim = TestSim::start_with(20, |c| c.pause_resume = false).await;
    let program = sim.find_program(|p| p["program_type"] == "CPC").await;
    let id = ProgramId::parse(program["program_id"].as_str().unwrap()).unwrap();
    let err = sim.client().pause_program(&id).await.unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { detail: Some(d), .. } if d.contains("route does not exist")),
        "{err:?}"
    );
}

#[tokio::test]
async fn wrong_credentials_are_the_bad_credentials_error_and_are_not_retried() {
    let sim = TestSim::start(5).await;
    for (user, password) in [(USERNAME, "wrong"), ("someone-else", PASSWORD)] {
        let client = sim.client_with(user, password, |_| {});
        let err = client
            .list_programs(StatusFilter::All, 0, 20)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Unauthorized), "{err:?}");
        assert!(!err.to_string().contains(password));
    }
    assert_eq!(
        sim.requests("GET /programs/v1").await,
        2,
        "one request each, no retry"
    );
}
