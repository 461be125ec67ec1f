//! Program features (§4.9).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yelp_sim::{FeatureType, ProgramType};

use crate::helpers::TestSim;

#[tokio::test]
async fn features_can_be_read_written_and_reset() {
    let sim = TestSim::with_defaults().await;
    let program = sim.running_cpc();
    let path = format!("/program/{}/features/v1", program.program_id);

    let shown = sim.get(&path).await.json();
    let features = shown["features"].as_object().expect("object");
    assert_eq!(features.len(), program.available_features.len());
    for ft in &program.available_features {
        assert_eq!(shown["features"][ft.as_str()]["feature_type"], ft.as_str());
    }

    let body = json!({"features": {
        "CUSTOM_RADIUS_TARGETING": {"custom_radius": 25},
        "NEGATIVE_KEYWORD_TARGETING": {"blocked_keywords": ["free", "diy"]},
        "CALL_TRACKING": {"enabled": true},
        "AD_GOAL": {"feature_type": "AD_GOAL", "ad_goal": "CALLS"}
    }});
    let written = sim.send(Method::POST, &path, Some(&body.to_string())).await;
    assert_eq!(written.status, StatusCode::OK, "{}", written.text);
    let written = written.json();
    assert_eq!(
        written["features"]["CUSTOM_RADIUS_TARGETING"]["custom_radius"],
        25
    );
    assert_eq!(
        written["features"]["NEGATIVE_KEYWORD_TARGETING"]["blocked_keywords"],
        json!(["free", "diy"])
    );
    assert_eq!(written["features"]["AD_GOAL"]["ad_goal"], "CALLS");
    assert_eq!(sim.get(&path).await.json(), written);
    let active = sim
        .state()
        .program(&program.program_id)
        .expect("exists")
        .active_features;
    assert!(active.contains(&FeatureType::CustomRadiusTargeting));
    assert!(active.contains(&FeatureType::AdGoal));

    let removed = sim
        .send(
            Method::DELETE,
            &path,
            Some(r#"{"features": ["CUSTOM_RADIUS_TARGETING"]}"#),
        )
        .await
        .json();
    assert_eq!(
        removed["features"]["CUSTOM_RADIUS_TARGETING"]["custom_radius"],
        Value::Null
    );
    assert_eq!(removed["features"]["AD_GOAL"]["ad_goal"], "CALLS");
    let active = sim
        .state()
        .program(&program.program_id)
        .expect("exists")
        .active_features;
    assert!(!active.contains(&FeatureType::CustomRadiusTargeting));
}

#[tokio::test]
async fn invalid_feature_writes_get_400_and_change_nothing() {
    let sim = TestSim::with_defaults().await;
    let program = sim.running_cpc();
    let path = format!("/program/{}/features/v1", program.program_id);
    let before = sim.get(&path).await.json();
    let cases = [
        (json!({"features": {"AD_GOAL": {"ad_goal": "CALLS"}, "CUSTOM_RADIUS_TARGETING": {"custom_radius": 61}}}).to_string(), "INVALID_FEATURE_DATA"),
        (json!({"features": {"AD_GOAL": {"ad_goal": "SALES"}}}).to_string(), "INVALID_FEATURE_DATA"),
        (json!({"features": {"CUSTOM_AD_TEXT": {"custom_text": "ALL CAPS SHOUTING TEXT"}}}).to_string(), "INVALID_FEATURE_DATA"),
        (json!({"features": {"CUSTOM_LOCATION_TARGETING": {"businesses": [{"business_id": program.yelp_business_id, "locations": ["94110"]}]},
                             "CUSTOM_RADIUS_TARGETING": {"custom_radius": 10}}}).to_string(), "INVALID_FEATURE_DATA"),
        (json!({"features": {"NEGATIVE_KEYWORD_TARGETING": {"blocked_keywords": "free"}}}).to_string(), "INVALID_FEATURE_DATA"),
        (json!({"features": {"CUSTOM_AD_TEXT": {"custom_review_id": "r", "custom_text": "Family owned since 1982"}}}).to_string(), "INVALID_FEATURE_DATA"),
        (json!({"features": {"BUSINESS_LOGO": {"business_logo_url": null}}}).to_string(), "UNSUPPORTED_FEATURE_TYPE"),
        (json!({"features": {"NOT_A_FEATURE": {}}}).to_string(), "UNSUPPORTED_FEATURE_TYPE"),
        ("{not json".to_owned(), "INVALID_FEATURE_DATA"),
        (String::new(), "INVALID_FEATURE_DATA"),
        ("[]".to_owned(), "INVALID_FEATURE_DATA"),
    ];
    for (body, id) in cases {
        let answer = sim.send(Method::POST, &path, Some(&body)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.json()["error"]["id"], id, "{body}");
    }
    let delete = sim
        .send(
            Method::DELETE,
            &path,
            Some(r#"{"features": ["BUSINESS_LOGO"]}"#),
        )
        .await;
    assert_eq!(delete.status, StatusCode::BAD_REQUEST);
    assert_eq!(sim.get(&path).await.json(), before);
}

#[tokio::test]
async fn features_of_an_unknown_program_are_404() {
    let sim = TestSim::with_defaults().await;
    let path = "/program/AAAAAAAAAAAAAAAAAAAAAA/features/v1";
    assert_eq!(sim.get(path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        sim.send(Method::POST, path, Some("{oops")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn single_feature_programs_offer_their_one_feature() {
    let sim = TestSim::with_defaults().await;
    let vl = sim.find_program(|p| p.program_type == ProgramType::Vl);
    let path = format!("/program/{}/features/v1", vl.program_id);
    let body = json!({"features": {"VERIFIED_LICENSE": {"licenses": [
        {"license_number": "C-10 123456", "license_verification_status": "PENDING", "license_expiry_date": "2027-01-31"}
    ]}}});
    let written = sim.send(Method::POST, &path, Some(&body.to_string())).await;
    assert_eq!(written.status, StatusCode::OK, "{}", written.text);
    assert_eq!(
        written.json()["features"]["VERIFIED_LICENSE"]["licenses"][0]["license_number"],
        "C-10 123456"
    );
}

#[tokio::test]
async fn every_feature_write_is_logged_in_order_with_its_outcome() {
    let sim = TestSim::with_defaults().await;
    let program = sim.running_cpc();
    let id = &program.program_id;
    let path = format!("/program/{id}/features/v1");
    let writes = [
        (
            Method::POST,
            json!({"features": {"LINK_TRACKING": {"website": "utm_source=yelp"}}}),
        ),
        (
            Method::POST,
            json!({"features": {"CALL_TRACKING": {"enabled": true}}}),
        ),
        (
            Method::POST,
            json!({"features": {"AD_GOAL": {"ad_goal": "SALES"}}}),
        ),
        (Method::DELETE, json!({"features": ["LINK_TRACKING"]})),
    ];
    for (method, body) in writes {
        sim.send(method, &path, Some(&body.to_string())).await;
    }
    sim.get(&path).await;
    sim.send(
        Method::POST,
        "/program/AAAAAAAAAAAAAAAAAAAAAA/features/v1",
        Some("{}"),
    )
    .await;
    let log = sim
        .control(Method::GET, "/_sim/feature-writes", None)
        .await
        .json();
    let seen: Vec<(String, Value, u64, Value)> = log["writes"]
        .as_array()
        .expect("writes")
        .iter()
        .map(|w| {
            (
                w["method"].as_str().unwrap().to_owned(),
                w["feature_types"].clone(),
                w["status"].as_u64().unwrap(),
                w["error_id"].clone(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "POST".to_owned(),
                json!(["LINK_TRACKING"]),
                200,
                Value::Null
            ),
            (
                "POST".to_owned(),
                json!(["CALL_TRACKING"]),
                200,
                Value::Null
            ),
            (
                "POST".to_owned(),
                json!(["AD_GOAL"]),
                400,
                json!("INVALID_FEATURE_DATA")
            ),
            (
                "DELETE".to_owned(),
                json!(["LINK_TRACKING"]),
                200,
                Value::Null
            ),
            (
                "POST".to_owned(),
                json!([]),
                404,
                json!("PROGRAM_NOT_FOUND")
            ),
        ],
        "reads are not logged: {log}"
    );
    assert_eq!(log["writes"][0]["program_id"], id.as_str());
    assert_eq!(
        sim.control(Method::DELETE, "/_sim/feature-writes", None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let log = sim
        .control(Method::GET, "/_sim/feature-writes", None)
        .await
        .json();
    assert_eq!(log["writes"], json!([]));
}

#[tokio::test]
async fn a_feature_write_whose_answer_is_lost_is_made_all_the_same() {
    let sim = TestSim::with_defaults().await;
    let program = sim.running_cpc();
    let path = format!("/program/{}/features/v1", program.program_id);
    sim.control(
        Method::PUT,
        "/_sim/faults",
        Some(r#"{"lose_answer_rate": 1.0}"#),
    )
    .await;
    let body = json!({"features": {"CUSTOM_RADIUS_TARGETING": {"custom_radius": 33}}});
    let lost = sim.send(Method::POST, &path, Some(&body.to_string())).await;
    assert_eq!(lost.status, StatusCode::GATEWAY_TIMEOUT);
    let read = sim.get(&path).await;
    assert_eq!(read.status, StatusCode::OK, "reads are never lost");
    assert_eq!(
        read.json()["features"]["CUSTOM_RADIUS_TARGETING"]["custom_radius"],
        33
    );
}

#[tokio::test]
async fn highlights_are_written_with_business_highlights_and_checked_against_the_offer() {
    let sim = TestSim::with_defaults().await;
    let bh = sim.find_program(|p| p.program_type == ProgramType::Bh);
    let path = format!("/program/{}/features/v1", bh.program_id);
    let body = json!({"features": {"BUSINESS_HIGHLIGHTS": {"business_highlights": ["WOMEN_OWNED", "FREE_ESTIMATES"]}}});
    let written = sim.send(Method::POST, &path, Some(&body.to_string())).await;
    assert_eq!(written.status, StatusCode::OK, "{}", written.text);
    assert_eq!(
        written.json()["features"]["BUSINESS_HIGHLIGHTS"]["active_business_highlights"],
        json!(["WOMEN_OWNED", "FREE_ESTIMATES"])
    );
    let both = json!({"features": {"BUSINESS_HIGHLIGHTS": {"business_highlights": ["FAMILY_OWNED", "LOCALLY_OWNED"]}}});
    let refused = sim.send(Method::POST, &path, Some(&both.to_string())).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.json()["error"]["description"]
            .as_str()
            .unwrap()
            .contains("BUSINESS_HIGHLIGHTS.business_highlights")
    );
}

#[tokio::test]
async fn portfolio_projects_are_drafted_filled_photographed_published_and_removed() {
    let sim = TestSim::with_defaults().await;
    let program = sim.find_program(|p| p.program_type == ProgramType::Portfolio);
    let base = format!("/program/{}/portfolio", program.program_id);
    let created = sim.post(&format!("{base}/v1")).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let project = created.json()["project_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let project_path = format!("{base}/{project}/v1");

    let fields = json!({"name": "Kitchen remodel", "cost": "5000_PLUS", "duration": "1_3_MONTHS",
                        "call_to_action": "GET_QUOTE", "service_offerings": ["cabinets", "tiling"],
                        "completion_year": 2025, "completion_month": 11});
    let put = sim
        .send(Method::PUT, &project_path, Some(&fields.to_string()))
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    let shown = sim.get(&project_path).await.json();
    assert_eq!(shown["name"], "Kitchen remodel");
    assert_eq!(shown["published"], false);
    let five = json!({"service_offerings": ["a", "b", "c", "d", "e"]});
    let refused = sim
        .send(Method::PUT, &project_path, Some(&five.to_string()))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.json()["error"]["description"]
            .as_str()
            .unwrap()
            .contains("service_offerings")
    );

    let photos = format!("{base}/{project}/photos/v1");
    let photo = json!({"photo_url": "https://img.example.com/after.jpg", "caption": "After", "is_before_photo": false});
    let added = sim
        .send(Method::POST, &photos, Some(&photo.to_string()))
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.text);
    let photo_id = added.json()["photo_id"].as_str().expect("id").to_owned();
    let listed = sim.get(&photos).await.json();
    assert_eq!(listed[0]["photo_id"], photo_id.as_str());
    assert_eq!(listed[0]["is_cover_photo"], true);

    let features = format!("/program/{}/features/v1", program.program_id);
    let publish = json!({"features": {"YELP_PORTFOLIO": {"projects": [{"project_id": project, "published": true}]}}});
    let published = sim
        .send(Method::POST, &features, Some(&publish.to_string()))
        .await
        .json();
    assert_eq!(
        published["features"]["YELP_PORTFOLIO"]["projects"],
        json!([{"project_id": project, "published": true}])
    );
    assert_eq!(sim.get(&project_path).await.json()["published"], true);
    let unknown = json!({"features": {"YELP_PORTFOLIO": {"projects": [{"project_id": "nope", "published": true}]}}});
    assert_eq!(
        sim.send(Method::POST, &features, Some(&unknown.to_string()))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    let gone = sim
        .send(
            Method::DELETE,
            &format!("{base}/{project}/photos/{photo_id}/v1"),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(sim.get(&photos).await.json(), json!([]));
    sim.send(
        Method::DELETE,
        &features,
        Some(r#"{"features": ["YELP_PORTFOLIO"]}"#),
    )
    .await;
    assert_eq!(
        sim.get(&project_path).await.status,
        StatusCode::NOT_FOUND,
        "a DELETE of YELP_PORTFOLIO removes every project"
    );

    let cpc = sim.running_cpc();
    let not_portfolio = sim
        .post(&format!("/program/{}/portfolio/v1", cpc.program_id))
        .await;
    assert_eq!(not_portfolio.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        not_portfolio.json()["error"]["id"],
        "UNSUPPORTED_FEATURE_TYPE"
    );
}
