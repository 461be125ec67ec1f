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
