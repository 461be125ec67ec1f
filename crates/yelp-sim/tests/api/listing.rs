//! Reading programs: `/programs/v1`, info, list-by-business, and auth.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::Value;
use yelp_sim::{SimConfig, SimState, StatusFilter};

use crate::helpers::{TestSim, config, today};

#[tokio::test]
async fn the_same_seed_gives_an_identical_world_and_another_seed_a_different_one() {
    let a = SimState::new(config());
    let b = SimState::new(config());
    let c = SimState::new(SimConfig {
        seed: 43,
        ..config()
    });
    assert_eq!(a.programs(), b.programs());
    assert_eq!(a.businesses(), b.businesses());
    assert_ne!(a.programs(), c.programs());
    assert_ne!(a.businesses(), c.businesses());
}

#[tokio::test]
async fn a_page_of_40_of_1900_programs_carries_businesses_instead_of_a_business_id() {
    let sim = TestSim::with_defaults().await;
    let page = sim
        .get("/programs/v1?offset=0&limit=40&program_status=ALL")
        .await
        .json();
    assert_eq!(page["total"], 1900);
    assert_eq!(page["offset"], 0);
    assert_eq!(page["limit"], 40);
    let entries = page["payment_programs"].as_array().expect("array");
    assert_eq!(entries.len(), 40);
    let first = sim.state().programs()[0].clone();
    assert_eq!(entries[0]["program_id"], first.program_id.as_str());
    for entry in entries {
        assert!(entry.get("yelp_business_id").is_none(), "{entry}");
        let business = &entry["businesses"][0];
        assert_eq!(
            business["yelp_business_id"].as_str().map(str::len),
            Some(22)
        );
        assert!(business.get("partner_business_id").is_some());
        assert_eq!(entry["program_id"].as_str().map(str::len), Some(22));
    }
}

#[tokio::test]
async fn the_last_page_is_short_and_a_page_past_the_end_is_empty_with_the_total() {
    let sim = TestSim::with_defaults().await;
    let last = sim.get("/programs/v1?offset=1880&limit=40").await.json();
    assert_eq!(last["payment_programs"].as_array().map(Vec::len), Some(20));
    let beyond = sim.get("/programs/v1?offset=5000&limit=40").await.json();
    assert_eq!(beyond["payment_programs"], Value::Array(vec![]));
    assert_eq!(beyond["total"], 1900);
    let default = sim.get("/programs/v1").await.json();
    assert_eq!(
        default["payment_programs"].as_array().map(Vec::len),
        Some(20)
    );
}

#[tokio::test]
async fn all_pages_together_list_every_program_once_in_order() {
    let sim = TestSim::with_defaults().await;
    let mut ids = Vec::new();
    for offset in (0..1900).step_by(40) {
        let page = sim
            .get(&format!("/programs/v1?offset={offset}&limit=40"))
            .await
            .json();
        for entry in page["payment_programs"].as_array().expect("array") {
            ids.push(entry["program_id"].as_str().expect("id").to_owned());
        }
    }
    let expected: Vec<String> = sim
        .state()
        .programs()
        .into_iter()
        .map(|p| p.program_id)
        .collect();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn status_filters_return_exactly_the_programs_of_their_bucket() {
    let sim = TestSim::with_defaults().await;
    let programs = sim.state().programs();
    let mut seen_total = 0;
    for (name, filter) in [
        ("CURRENT", StatusFilter::Current),
        ("PAST", StatusFilter::Past),
        ("FUTURE", StatusFilter::Future),
        ("PAUSED", StatusFilter::Paused),
    ] {
        let expected: Vec<&str> = programs
            .iter()
            .filter(|p| p.bucket(today()) == Some(filter))
            .map(|p| p.program_id.as_str())
            .collect();
        assert!(!expected.is_empty(), "the seed has {name} programs");
        let mut listed = Vec::new();
        let mut offset = 0;
        loop {
            let page = sim
                .get(&format!(
                    "/programs/v1?offset={offset}&limit=40&program_status={name}"
                ))
                .await
                .json();
            assert_eq!(
                page["total"].as_u64(),
                Some(expected.len() as u64),
                "{name}"
            );
            let entries = page["payment_programs"].as_array().expect("array").clone();
            if entries.is_empty() {
                break;
            }
            listed.extend(
                entries
                    .iter()
                    .map(|e| e["program_id"].as_str().unwrap_or_default().to_owned()),
            );
            offset += 40;
        }
        assert_eq!(listed, expected, "{name}");
        seen_total += expected.len();
    }
    assert!(seen_total <= 1900);
}

#[tokio::test]
async fn bad_paging_and_filter_values_are_refused_with_400() {
    let sim = TestSim::with_defaults().await;
    for query in [
        "limit=41",
        "limit=0",
        "limit=-1",
        "limit=ten",
        "offset=-1",
        "offset=1.5",
        "program_status=ACTIVE",
        "program_status=INACTIVE",
        "program_status=current",
        "offset=1&offset=2",
    ] {
        let answer = sim.get(&format!("/programs/v1?{query}")).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            answer.text
        );
        assert_eq!(answer.json()["error"]["id"], "INVALID_PARAMETER", "{query}");
    }
}

#[tokio::test]
async fn a_larger_configured_page_size_is_accepted() {
    let sim = TestSim::start(SimConfig {
        page_size_max: 100,
        ..config()
    })
    .await;
    let page = sim.get("/programs/v1?limit=100").await.json();
    assert_eq!(page["payment_programs"].as_array().map(Vec::len), Some(100));
}

#[tokio::test]
async fn info_of_a_program_has_a_top_level_business_id() {
    let sim = TestSim::with_defaults().await;
    let program = sim.running_cpc();
    let answer = sim
        .get(&format!("/v1/programs/info/{}", program.program_id))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let body = answer.json();
    assert_eq!(body["errors"], Value::Array(vec![]));
    let info = &body["programs"][0];
    assert_eq!(info["yelp_business_id"], program.yelp_business_id.as_str());
    assert_eq!(info["program_type"], "CPC");
    assert_eq!(info["program_metrics"]["currency"], "USD");
    assert!(
        info["program_metrics"]["fee_period"]
            .as_str()
            .is_some_and(|f| f.ends_with(" Month"))
    );
    assert!(info.get("businesses").is_none());
}

#[tokio::test]
async fn info_of_an_unknown_program_is_200_with_invalid_program_id() {
    let sim = TestSim::with_defaults().await;
    let answer = sim.get("/v1/programs/info/AAAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json(),
        serde_json::json!({"programs": [], "errors": [{
            "id": "INVALID_PROGRAM_ID",
            "description": "Supplied program ID does not exist."
        }]})
    );
}

#[tokio::test]
async fn non_cpc_programs_have_no_metrics_and_logo_has_its_price_in_dollars() {
    let sim = TestSim::with_defaults().await;
    let logo = sim.find_program(|p| p.program_type == yelp_sim::ProgramType::Logo);
    let info = sim
        .get(&format!("/v1/programs/info/{}", logo.program_id))
        .await
        .json();
    let program = &info["programs"][0];
    assert!(program.get("program_metrics").is_none());
    assert_eq!(program["page_upgrade_info"]["cost"], 8.24);
    assert_eq!(
        program["page_upgrade_info"]["monthly_rate"].as_f64(),
        Some(30.0)
    );
    assert_eq!(program["ad_categories"], Value::Array(vec![]));
}

#[tokio::test]
async fn list_by_business_shows_that_business_and_its_programs() {
    let sim = TestSim::with_defaults().await;
    let business = sim.state().programs()[0].yelp_business_id.clone();
    let expected: Vec<String> = sim
        .state()
        .programs()
        .into_iter()
        .filter(|p| p.yelp_business_id == business)
        .map(|p| p.program_id)
        .collect();
    let body = sim
        .get(&format!("/v1/programs/list/{business}?start=0&limit=40"))
        .await
        .json();
    let entry = &body["businesses"][0];
    assert_eq!(entry["yelp_business_id"], business.as_str());
    assert_eq!(entry["advertiser_status"], "ADVERTISER");
    assert_eq!(entry["destination_yelp_business_id"], Value::Null);
    let listed: Vec<String> = entry["programs"]
        .as_array()
        .expect("array")
        .iter()
        .map(|p| p["program_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(listed, expected.into_iter().take(40).collect::<Vec<_>>());

    let second = sim
        .get(&format!("/v1/programs/list/{business}?start=1&limit=1"))
        .await
        .json();
    assert_eq!(
        second["businesses"][0]["programs"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(
        second["businesses"][0]["programs"][0]["program_id"],
        listed[1].as_str()
    );

    let unknown = sim.get("/v1/programs/list/nope").await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert_eq!(unknown.json()["errors"][0]["id"], "INVALID_BUSINESS_ID");
    assert_eq!(unknown.json()["businesses"], Value::Array(vec![]));

    let too_many = sim
        .get(&format!("/v1/programs/list/{business}?limit=41"))
        .await;
    assert_eq!(too_many.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_missing_budget_quirk_hides_budget_only_in_the_listing() {
    let sim = TestSim::start(SimConfig {
        missing_budget_rate: 1.0,
        ..config()
    })
    .await;
    let page = sim.get("/programs/v1?limit=40").await.json();
    let cpc = page["payment_programs"]
        .as_array()
        .expect("array")
        .iter()
        .find(|p| p["program_type"] == "CPC")
        .expect("a CPC entry")
        .clone();
    assert!(cpc["program_metrics"].get("budget").is_none());
    assert!(cpc["program_metrics"].get("ad_cost").is_some());
    let info = sim
        .get(&format!(
            "/v1/programs/info/{}",
            cpc["program_id"].as_str().unwrap_or_default()
        ))
        .await
        .json();
    assert!(info["programs"][0]["program_metrics"]["budget"].is_i64());
}

#[tokio::test]
async fn wrong_or_missing_credentials_get_401_with_the_exact_body() {
    let sim = TestSim::with_defaults().await;
    let expected = serde_json::json!({"error": {
        "code": "401_UNAUTHORIZED",
        "description": "This server could not verify that you are authorized to access the document you requested."
    }});
    let wrong = sim
        .client
        .get(sim.url("/programs/v1"))
        .basic_auth("demo", Some("wrong"))
        .send()
        .await
        .expect("answer");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Basic realm=\"Yelp Partner API\"")
    );
    assert_eq!(wrong.json::<Value>().await.expect("json"), expected);

    for path in [
        "/programs/v1",
        "/v1/reseller/status/abc",
        "/program/x/features/v1",
    ] {
        let missing = sim.client.get(sim.url(path)).send().await.expect("answer");
        assert_eq!(missing.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let garbage = sim
        .client
        .get(sim.url("/programs/v1"))
        .header("authorization", "Basic !!!not-base64")
        .send()
        .await
        .expect("answer");
    assert_eq!(garbage.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_hundred_thousand_programs_page_quickly_at_any_offset() {
    let sim = TestSim::start(SimConfig {
        programs: 100_000,
        businesses: 3000,
        ..config()
    })
    .await;
    let started = std::time::Instant::now();
    let page = sim.get("/programs/v1?offset=99960&limit=40").await.json();
    let elapsed = started.elapsed();
    assert_eq!(page["total"], 100_000);
    assert_eq!(page["payment_programs"].as_array().map(Vec::len), Some(40));
    assert!(elapsed.as_millis() < 500, "deep page took {elapsed:?}");
    let ids: HashSet<String> = sim
        .state()
        .programs()
        .into_iter()
        .map(|p| p.program_id)
        .collect();
    assert_eq!(ids.len(), 100_000, "program ids are unique");
}
