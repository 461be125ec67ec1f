//! Program features through the API, as the replaced frontend's editors call them: read, changed, checked
//! against Yelp's rules before the simulator sees anything, refused by the simulator where only Yelp can
//! tell, read back when an answer is lost, and followed by the mirror's `active_features`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::on_every_backend;
use crate::web::{OLGA, TestApp, VICTOR};

/// A request as the replaced frontend sends it: `/api` + `path`, JSON, HTTP Basic.
async fn call(
    app: &TestApp,
    pair: (&str, &str),
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .request(method, app.url(&format!("/api{path}")))
        .header("content-type", "application/json")
        .basic_auth(pair.0, Some(pair.1));
    if let Some(body) = body {
        request = request.body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: {e}: {text}"));
    (status, body)
}

/// A running CPC program of the simulator, as the mirror has it after a sync.
async fn cpc_program(app: &TestApp) -> String {
    app.synced().await;
    let programs = app.sim.programs().await;
    let program = programs
        .iter()
        .find(|p| p["program_type"] == "CPC" && p["program_status"] == "ACTIVE")
        .expect("a CPC program");
    program["program_id"].as_str().unwrap().to_owned()
}

/// How many feature writes (POST and DELETE) the simulator has seen.
async fn writes_seen(app: &TestApp) -> usize {
    let log = app
        .sim
        .control(Method::GET, "/_sim/feature-writes", None)
        .await;
    log["writes"].as_array().map_or(0, Vec::len)
}

/// The ids of the mirror's programs with `feature` on.
async fn with_feature(app: &TestApp, feature: &str) -> Vec<String> {
    let (status, list) = call(
        app,
        OLGA,
        Method::GET,
        &format!("/reseller/programs?program_status=ALL&limit=500&active_feature={feature}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["programs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["program_id"].as_str().unwrap().to_owned())
        .collect()
}

fn fields(body: &Value) -> Vec<String> {
    body["error"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("no fields in {body}"))
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_owned())
        .collect()
}

on_every_backend! {
    async fn features_are_read_changed_and_turned_off_and_the_mirror_follows(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 30).await;
        let id = cpc_program(&app).await;
        let path = format!("/program/{id}/features/v1");

        let (status, read) = call(&app, VICTOR, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "a viewer reads: {read}");
        assert!(read["features"]["CUSTOM_RADIUS_TARGETING"].is_object(), "{read}");

        let change = json!({"features": {
            "CUSTOM_RADIUS_TARGETING": {"custom_radius": 25},
            "NEGATIVE_KEYWORD_TARGETING": {"blocked_keywords": ["free", "cheap"]}
        }});
        let (status, _) = call(&app, VICTOR, Method::POST, &path, Some(change.clone())).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "a viewer does not change");
        let (status, changed) = call(&app, OLGA, Method::POST, &path, Some(change)).await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(changed["answered"], json!(true));
        assert_eq!(changed["features"]["CUSTOM_RADIUS_TARGETING"]["custom_radius"].as_f64(), Some(25.0));
        assert_eq!(changed["features"]["NEGATIVE_KEYWORD_TARGETING"]["blocked_keywords"], json!(["free", "cheap"]));
        let (_, again) = call(&app, OLGA, Method::GET, &path, None).await;
        assert_eq!(again["features"]["CUSTOM_RADIUS_TARGETING"]["custom_radius"].as_f64(), Some(25.0), "Yelp holds it");
        assert!(with_feature(&app, "CUSTOM_RADIUS_TARGETING").await.contains(&id), "the list filters on it at once");

        let (status, off) = call(
            &app, OLGA, Method::DELETE, &path,
            Some(json!({"features": ["CUSTOM_RADIUS_TARGETING"]})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{off}");
        assert!(!with_feature(&app, "CUSTOM_RADIUS_TARGETING").await.contains(&id));
        assert!(with_feature(&app, "NEGATIVE_KEYWORD_TARGETING").await.contains(&id));

        let (status, body) = call(
            &app, OLGA, Method::GET,
            &format!("/program/{}/features/v1", app.other_program), None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "another workspace's program: {body}");
        let (status, body) = call(&app, OLGA, Method::GET, "/reseller/programs?active_feature=TELEPATHY", None).await;
        assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("active_feature")));
    }
}

on_every_backend! {
    async fn a_broken_rule_is_refused_naming_type_and_field_and_nothing_reaches_yelp(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 30).await;
        let id = cpc_program(&app).await;
        let path = format!("/program/{id}/features/v1");
        let before = writes_seen(&app).await;
        for (change, field) in [
            (json!({"CUSTOM_RADIUS_TARGETING": {"custom_radius": 61}}), "CUSTOM_RADIUS_TARGETING.custom_radius"),
            (json!({"CUSTOM_AD_TEXT": {"custom_text": "Too short"}}), "CUSTOM_AD_TEXT.custom_text"),
            (json!({"AD_GOAL": {"ad_goal": "MORE_MONEY"}}), "AD_GOAL"),
            (json!({"TELEPATHY": {"on": true}}), "TELEPATHY"),
        ] {
            let (status, body) = call(&app, OLGA, Method::POST, &path, Some(json!({"features": change}))).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert!(fields(&body).iter().any(|f| f.starts_with(field)), "{field} not in {body}");
        }
        assert_eq!(writes_seen(&app).await, before, "the simulator saw no feature write");

        // Only Yelp holds whether the program has call tracking: with it off, its refusal of an ad goal of
        // calls comes back in words.
        let (status, body) = call(
            &app, OLGA, Method::DELETE, &path,
            Some(json!({"features": ["CALL_TRACKING"]})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = call(
            &app, OLGA, Method::POST, &path,
            Some(json!({"features": {"AD_GOAL": {"ad_goal": "CALLS"}}})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.starts_with("Yelp refused the change: ") && message.contains("CALL_TRACKING"), "{body}");
        assert_eq!(writes_seen(&app).await, before + 2);
    }
}

on_every_backend! {
    async fn an_unanswered_feature_write_is_read_back_not_sent_again(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 30).await;
        let id = cpc_program(&app).await;
        let path = format!("/program/{id}/features/v1");
        let before = writes_seen(&app).await;
        app.sim.set_faults(json!({"lose_answer_rate": 1.0})).await;
        let (status, body) = call(
            &app, OLGA, Method::POST, &path,
            Some(json!({"features": {"STRICT_CATEGORY_TARGETING": {"enabled": true}}})),
        )
        .await;
        app.sim.set_faults(json!({"lose_answer_rate": 0.0})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["answered"], json!(false), "{body}");
        assert_eq!(body["not_applied"], json!([]), "Yelp made the change; reading back shows it");
        assert_eq!(body["features"]["STRICT_CATEGORY_TARGETING"]["enabled"], json!(true));
        assert_eq!(writes_seen(&app).await, before + 1, "sent once");
    }
}

/// Duplicates `id` through the API with a monthly budget of `budget` dollars and waits for the job's end; answers its last status body.
async fn duplicate(app: &TestApp, id: &str, budget: u32) -> Value {
    let start = (chrono::Utc::now().date_naive() + chrono::Duration::days(1)).to_string();
    let (status, body) = call(
        app,
        OLGA,
        Method::POST,
        &format!("/reseller/program/{id}/duplicate"),
        Some(json!({"start": start, "budget": budget})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let job = body["job_id"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, body) = call(
            app,
            OLGA,
            Method::GET,
            &format!("/reseller/status/{job}"),
            None,
        )
        .await;
        if body["status"] == "COMPLETED" || body["status"] == "FAILED" {
            return body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the duplicate did not end: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The feature types of each feature write the simulator saw for `program`, in order.
async fn writes_to(app: &TestApp, program: &str) -> Vec<Vec<String>> {
    let log = app
        .sim
        .control(Method::GET, "/_sim/feature-writes", None)
        .await;
    log["writes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["program_id"] == program && w["method"] == "POST")
        .map(|w| {
            w["feature_types"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_owned())
                .collect()
        })
        .collect()
}

on_every_backend! {
    async fn a_duplicate_copies_tracking_before_the_ad_goal_and_says_what_it_could_not_copy(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 30).await;
        let id = cpc_program(&app).await;
        let path = format!("/program/{id}/features/v1");
        let (status, body) = call(&app, OLGA, Method::POST, &path, Some(json!({"features": {
            "LINK_TRACKING": {"website": "utm_source=yelp"},
            "CALL_TRACKING": {"enabled": true},
            "AD_GOAL": {"ad_goal": "CALLS"}
        }}))).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        let done = duplicate(&app, &id, 120).await;
        assert_eq!(done["status"], "COMPLETED", "{done}");
        let copy = done["program_id"].as_str().unwrap().to_owned();
        let steps: Vec<(&str, &str)> = done["feature_copy"].as_array().unwrap().iter()
            .map(|s| (s["feature_type"].as_str().unwrap(), s["state"].as_str().unwrap())).collect();
        for wanted in ["LINK_TRACKING", "CALL_TRACKING", "AD_GOAL"] {
            assert!(steps.contains(&(wanted, "copied")), "{wanted} in {steps:?}");
        }
        let order: Vec<String> = writes_to(&app, &copy).await.into_iter().flatten().collect();
        let at = |t: &str| order.iter().position(|o| o == t).unwrap_or_else(|| panic!("{t} not in {order:?}"));
        assert!(at("LINK_TRACKING") < at("AD_GOAL") && at("CALL_TRACKING") < at("AD_GOAL"), "{order:?}");
        assert_eq!(order.len(), steps.len(), "one write a step, none twice: {order:?}");
        let (_, held) = call(&app, OLGA, Method::GET, &format!("/program/{copy}/features/v1"), None).await;
        assert_eq!(held["features"]["AD_GOAL"]["ad_goal"], "CALLS");
        assert_eq!(held["features"]["LINK_TRACKING"]["website"], "utm_source=yelp");

        // 20 custom locations on the source leave no room for 20 more on its business: Yelp refuses that
        // copy, and the job says so while the new program and its other copies stay.
        let locations: Vec<String> = (0..20).map(|n| format!("941{n:02}")).collect();
        let business = done["business_id"].as_str().unwrap().to_owned();
        let (status, body) = call(&app, OLGA, Method::POST, &path, Some(json!({"features": {
            "CUSTOM_LOCATION_TARGETING": {"businesses": [{"business_id": business, "locations": locations}]}
        }}))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, _) = call(&app, OLGA, Method::DELETE, &format!("/program/{copy}/features/v1"),
            Some(json!({"features": ["CUSTOM_LOCATION_TARGETING"]}))).await;
        let done = duplicate(&app, &id, 130).await;
        assert_eq!(done["status"], "COMPLETED", "the new program stays: {done}");
        let failed: Vec<&Value> = done["feature_copy"].as_array().unwrap().iter()
            .filter(|s| s["state"] == "failed").collect();
        assert_eq!(failed.len(), 1, "{done}");
        assert_eq!(failed[0]["feature_type"], "CUSTOM_LOCATION_TARGETING");
        assert!(failed[0]["message"].as_str().unwrap().starts_with("Yelp refused it: "), "{done}");
        assert!(done["feature_copy"].as_array().unwrap().iter()
            .any(|s| s["feature_type"] == "AD_GOAL" && s["state"] == "copied"), "{done}");
    }
}

/// A running program of `program_type` in the simulator.
async fn program_of_type(app: &TestApp, program_type: &str) -> String {
    app.sim
        .programs()
        .await
        .iter()
        .find(|p| p["program_type"] == program_type && p["program_status"] == "ACTIVE")
        .and_then(|p| p["program_id"].as_str())
        .unwrap_or_else(|| panic!("no running {program_type} program"))
        .to_owned()
}

on_every_backend! {
    async fn every_feature_type_is_set_and_read_back_and_its_rules_are_checked_first(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 300).await;
        app.synced().await;
        let bh = program_of_type(&app, "BH").await;
        let (_, held) = call(&app, OLGA, Method::GET, &format!("/program/{bh}/features/v1"), None).await;
        let highlight = held["features"]["BUSINESS_HIGHLIGHTS"]["available_business_highlights"][0].clone();
        let portfolio = program_of_type(&app, "PORTFOLIO").await;
        let (status, project) = call(&app, OLGA, Method::POST, &format!("/program/{portfolio}/portfolio/v1"), None).await;
        assert_eq!(status, StatusCode::CREATED, "{project}");
        let project_id = project["project_id"].as_str().unwrap().to_owned();

        let cases = [
            ("CPC", json!({"LINK_TRACKING": {"website": "utm_source=yelp"}}), "/LINK_TRACKING/website", json!("utm_source=yelp")),
            ("CPC", json!({"NEGATIVE_KEYWORD_TARGETING": {"blocked_keywords": ["free"]}}), "/NEGATIVE_KEYWORD_TARGETING/blocked_keywords", json!(["free"])),
            ("CPC", json!({"STRICT_CATEGORY_TARGETING": {"enabled": true}}), "/STRICT_CATEGORY_TARGETING/enabled", json!(true)),
            ("CPC", json!({"AD_SCHEDULING": {"uses_opening_hours": true}}), "/AD_SCHEDULING/uses_opening_hours", json!(true)),
            ("CPC", json!({"CALL_TRACKING": {"enabled": true}}), "/CALL_TRACKING/enabled", json!(true)),
            ("CPC", json!({"AD_GOAL": {"ad_goal": "DEFAULT"}}), "/AD_GOAL/ad_goal", json!("DEFAULT")),
            ("CPC", json!({"CUSTOM_RADIUS_TARGETING": {"custom_radius": 12}}), "/CUSTOM_RADIUS_TARGETING/custom_radius", json!(12)),
            ("CPC", json!({"CUSTOM_AD_TEXT": {"custom_text": "Friendly plumbers, open late"}}), "/CUSTOM_AD_TEXT/custom_text", json!("Friendly plumbers, open late")),
            ("CPC", json!({"CUSTOM_AD_PHOTO": {"custom_photo_id": "photo-7"}}), "/CUSTOM_AD_PHOTO/custom_photo_id", json!("photo-7")),
            ("CPC", json!({"SERVICE_OFFERINGS_TARGETING": {"enabled_service_offerings": ["drain_cleaning"]}}), "/SERVICE_OFFERINGS_TARGETING/enabled_service_offerings", json!(["drain_cleaning"])),
            ("BH", json!({"BUSINESS_HIGHLIGHTS": {"active_business_highlights": [highlight]}}), "/BUSINESS_HIGHLIGHTS/active_business_highlights", json!([highlight])),
            ("VL", json!({"VERIFIED_LICENSE": {"licenses": [{"license_number": "PL-1234", "license_trade": "Plumbing"}]}}), "/VERIFIED_LICENSE/licenses/0/license_number", json!("PL-1234")),
            ("LOGO", json!({"BUSINESS_LOGO": {"business_logo_url": "https://cdn.example.com/logo.png"}}), "/BUSINESS_LOGO/business_logo_url", json!("https://cdn.example.com/logo.png")),
            ("PORTFOLIO", json!({"YELP_PORTFOLIO": {"projects": [{"project_id": project_id, "published": true}]}}), "/YELP_PORTFOLIO/projects/0/published", json!(true)),
        ];
        for (program_type, change, pointer, wanted) in cases {
            let id = program_of_type(&app, program_type).await;
            let path = format!("/program/{id}/features/v1");
            let (status, body) = call(&app, OLGA, Method::POST, &path, Some(json!({"features": change}))).await;
            assert_eq!(status, StatusCode::OK, "{change}: {body}");
            let (_, read) = call(&app, OLGA, Method::GET, &path, None).await;
            let got = read["features"].pointer(pointer).unwrap_or_else(|| panic!("{pointer} in {read}"));
            let same = got == &wanted || (got.as_f64().is_some() && got.as_f64() == wanted.as_f64());
            assert!(same, "{pointer}: {got} is not {wanted}");
        }

        // Each rule refused with its type and field named, and nothing sent.
        let before = writes_seen(&app).await;
        let refused = [
            ("CPC", json!({"CUSTOM_AD_TEXT": {"custom_text": "Friendly plumbers, open late", "custom_review_id": "r1"}}), "CUSTOM_AD_TEXT."),
            ("CPC", json!({"CUSTOM_AD_TEXT": {"custom_text": "CALL NOW FOR THE BEST DEAL"}}), "CUSTOM_AD_TEXT.custom_text"),
            ("CPC", json!({"CUSTOM_AD_TEXT": {"custom_text": "See www.plumbers.com for more"}}), "CUSTOM_AD_TEXT.custom_text"),
            ("CPC", json!({"CUSTOM_RADIUS_TARGETING": {"custom_radius": 0.5}}), "CUSTOM_RADIUS_TARGETING.custom_radius"),
            ("CPC", json!({"CUSTOM_AD_TEXT": {"custom_text": "1234567890123456"}}), "CUSTOM_AD_TEXT.custom_text"),
            ("CPC", json!({
                "CUSTOM_RADIUS_TARGETING": {"custom_radius": 10},
                "CUSTOM_LOCATION_TARGETING": {"businesses": [{"business_id": "x", "locations": ["94103"]}]}
            }), "CUSTOM_"),
            ("BH", json!({"BUSINESS_HIGHLIGHTS": {"active_business_highlights": ["NOT_OFFERED"]}}), "BUSINESS_HIGHLIGHTS."),
            ("LOGO", json!({"BUSINESS_LOGO": {"business_logo_url": "https://cdn.example.com/logo.bmp"}}), "BUSINESS_LOGO.business_logo_url"),
            ("VL", json!({"VERIFIED_LICENSE": {"licenses": [{"license_number": ""}]}}), "VERIFIED_LICENSE.licenses"),
            ("LOGO", json!({"LINK_TRACKING": {"website": "utm_source=yelp"}}), "LINK_TRACKING.feature_type"),
        ];
        for (program_type, change, field) in refused {
            let id = program_of_type(&app, program_type).await;
            let (status, body) = call(&app, OLGA, Method::POST, &format!("/program/{id}/features/v1"), Some(json!({"features": change}))).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{change}: {body}");
            assert!(fields(&body).iter().any(|f| f.starts_with(field)), "{field} not in {body}");
        }
        assert_eq!(writes_seen(&app).await, before, "no refused change reached the simulator");

        // A portfolio project's fields and photos, the rules checked first.
        let project_path = format!("/program/{portfolio}/portfolio/{project_id}/v1");
        let (status, body) = call(&app, OLGA, Method::PUT, &project_path, Some(json!({
            "name": "Kitchen remodel", "service_offerings": ["a", "b", "c", "d", "e"]
        }))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(fields(&body).iter().any(|f| f.starts_with("YELP_PORTFOLIO.service_offerings")), "{body}");
        let (status, body) = call(&app, OLGA, Method::PUT, &project_path, Some(json!({
            "name": "Kitchen remodel", "cost": "1000_5000", "completion_year": 2025, "completion_month": 6
        }))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["name"], "Kitchen remodel");
        let photos = format!("/program/{portfolio}/portfolio/{project_id}/photos/v1");
        let (status, added) = call(&app, OLGA, Method::POST, &photos, Some(json!({
            "photo_url": "https://cdn.example.com/after.jpg", "is_before_photo": false, "caption": "After"
        }))).await;
        assert_eq!(status, StatusCode::CREATED, "{added}");
        let (_, listed) = call(&app, VICTOR, Method::GET, &photos, None).await;
        assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
        let photo_id = added["photo_id"].as_str().unwrap();
        let (status, _) = call(&app, VICTOR, Method::DELETE, &format!("/program/{portfolio}/portfolio/{project_id}/photos/{photo_id}/v1"), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, body) = call(&app, OLGA, Method::DELETE, &format!("/program/{portfolio}/portfolio/{project_id}/photos/{photo_id}/v1"), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}
