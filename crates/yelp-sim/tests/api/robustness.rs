//! Garbage in never panics: a panic would surface as a 500 or a dropped connection.

use reqwest::{Method, StatusCode};
use yelp_sim::ProgramType;

use crate::helpers::TestSim;

#[tokio::test]
async fn garbage_queries_and_bodies_never_make_the_simulator_fail() {
    let sim = TestSim::with_defaults().await;
    let program = sim.running_cpc().program_id;
    let business = sim.plain_business();
    let long = "x".repeat(5000);
    let queries = [
        "".to_owned(),
        "%".to_owned(),
        "%ZZ=%ZZ".to_owned(),
        "%FF%FE=%C0%AF".to_owned(),
        "offset=99999999999999999999999999&limit=1".to_owned(),
        "offset=18446744073709551615&limit=40".to_owned(),
        "limit=%00".to_owned(),
        "&&&==&=&".to_owned(),
        format!("business_id={business}&program_name=CPC&budget=%2B5&max_bid=-0&ad_categories=%00"),
        format!("business_id={business}&program_name=CPC&start=9999-12-31&end=0000-01-01"),
        format!(
            "business_id={business}&program_name=CPC&budget=-9223372036854775808&is_autobid=false&max_bid=9223372036854775807"
        ),
        format!("business_id={business}&program_name=CPC&start=2026-03-20&start=2026-03-21"),
        format!("business_id={long}&program_name=CPC&ad_categories={long}"),
        format!("budget={long}&future_budget_date=2026-03-20"),
        "program_status=%F0%9F%92%A9".to_owned(),
    ];
    let paths = [
        "/programs/v1".to_owned(),
        format!("/v1/programs/list/{business}"),
        "/v1/reseller/program/create".to_owned(),
        format!("/v1/reseller/program/{program}/edit"),
        format!("/v1/reseller/program/{program}/end"),
    ];
    for path in &paths {
        for query in &queries {
            let uri = format!("{path}?{query}");
            let method = if path.contains("/reseller/") {
                Method::POST
            } else {
                Method::GET
            };
            let answer = sim.send(method, &uri, None).await;
            assert_ne!(
                answer.status,
                StatusCode::INTERNAL_SERVER_ERROR,
                "{uri}: {}",
                answer.text
            );
        }
    }

    let bodies = [
        "",
        "{",
        "null",
        "[]",
        "{\"features\": null}",
        "{\"features\": {\"AD_GOAL\": 5}}",
        "{\"features\": [1, 2]}",
        "{\"features\": {\"CUSTOM_RADIUS_TARGETING\": {\"custom_radius\": 1e400}}}",
        "{\"features\": {\"CUSTOM_LOCATION_TARGETING\": {\"businesses\": [{\"business_id\": 1}]}}}",
        "\u{0}\u{1}garbage",
    ];
    let features = format!("/program/{program}/features/v1");
    for body in bodies {
        for method in [Method::POST, Method::DELETE] {
            let answer = sim.send(method.clone(), &features, Some(body)).await;
            assert!(
                answer.status.is_client_error() || answer.status.is_success(),
                "{method} {body:?}: {answer:?}"
            );
        }
    }
    for (method, path) in [
        (Method::POST, "/_sim/programs"),
        (Method::PATCH, &*format!("/_sim/programs/{program}")),
        (Method::PATCH, &*format!("/_sim/businesses/{business}")),
        (Method::PUT, "/_sim/faults"),
        (Method::PUT, "/_sim/settings"),
    ] {
        for body in [
            "",
            "{",
            "[]",
            "{\"count\": -1}",
            "{\"count\": 1e99}",
            "{\"job_seconds\": 1e308}",
            "{\"latency_ms\": -1}",
        ] {
            let answer = sim.send(method.clone(), path, Some(body)).await;
            assert!(
                answer.status.is_client_error() || answer.status.is_success(),
                "{method} {path} {body:?}: {answer:?}"
            );
        }
    }
    let weird_ids = ["%2F", "%00", "..", "-", "%E2%80%AE"];
    for id in weird_ids {
        for path in [
            format!("/v1/programs/info/{id}"),
            format!("/program/{id}/features/v1"),
            format!("/v1/programs/list/{id}"),
        ] {
            let answer = sim.get(&path).await;
            assert_ne!(answer.status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        }
    }
    // Still alive and consistent.
    assert_eq!(sim.get("/programs/v1?limit=1").await.status, StatusCode::OK);
}

#[tokio::test]
async fn odd_values_in_every_field_of_every_feature_and_project_are_answered_not_a_panic() {
    let sim = TestSim::with_defaults().await;
    let odd = [
        "null",
        "true",
        "-1",
        "1e308",
        "\"x\"",
        "[]",
        "[null]",
        "[{}]",
        "[{\"business_id\": null}]",
        "[{\"project_id\": 1, \"license_number\": []}]",
        "{\"a\": 1}",
    ];
    let answered = |answer: &crate::helpers::Answer, what: &str| {
        assert!(
            answer.status.is_client_error() || answer.status.is_success(),
            "{what}: {answer:?}"
        );
    };
    for program_type in [
        ProgramType::Cpc,
        ProgramType::Bh,
        ProgramType::Vl,
        ProgramType::Logo,
        ProgramType::Portfolio,
    ] {
        let program = sim.find_program(|p| p.program_type == program_type);
        let path = format!("/program/{}/features/v1", program.program_id);
        let view = sim.get(&path).await.json();
        for (feature, fields) in view["features"].as_object().expect("features") {
            let mut names: Vec<String> = fields
                .as_object()
                .expect("fields")
                .keys()
                .cloned()
                .collect();
            names.push("business_highlights".into());
            for entry in ["{}", "null", "[]", "1"] {
                let body = format!("{{\"features\": {{\"{feature}\": {entry}}}}}");
                answered(&sim.send(Method::POST, &path, Some(&body)).await, &body);
            }
            for name in &names {
                for value in odd {
                    let body =
                        format!("{{\"features\": {{\"{feature}\": {{\"{name}\": {value}}}}}}}");
                    answered(&sim.send(Method::POST, &path, Some(&body)).await, &body);
                }
            }
        }
    }
    let portfolio = sim.find_program(|p| p.program_type == ProgramType::Portfolio);
    let base = format!("/program/{}/portfolio", portfolio.program_id);
    let project = sim.post(&format!("{base}/v1")).await.json()["project_id"]
        .as_str()
        .expect("id")
        .to_owned();
    for name in [
        "name",
        "description",
        "published",
        "call_to_action",
        "service_offerings",
        "cost",
        "duration",
        "completion_year",
        "completion_month",
        "photo_url",
        "biz_photo_id",
        "caption",
        "is_before_photo",
    ] {
        for value in odd {
            let body = format!("{{\"{name}\": {value}}}");
            answered(
                &sim.send(Method::PUT, &format!("{base}/{project}/v1"), Some(&body))
                    .await,
                &body,
            );
            answered(
                &sim.send(
                    Method::POST,
                    &format!("{base}/{project}/photos/v1"),
                    Some(&body),
                )
                .await,
                &body,
            );
        }
    }
    for body in ["", "{", "[]", "null"] {
        answered(
            &sim.send(Method::PUT, &format!("{base}/{project}/v1"), Some(body))
                .await,
            body,
        );
        answered(
            &sim.send(
                Method::POST,
                &format!("{base}/{project}/photos/v1"),
                Some(body),
            )
            .await,
            body,
        );
    }
    assert_eq!(sim.get("/programs/v1?limit=1").await.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_routes_and_methods_get_the_plain_404() {
    let sim = TestSim::with_defaults().await;
    for (method, path) in [
        (Method::GET, "/nope"),
        (Method::GET, "/v1/reseller/program/create"),
        (Method::DELETE, "/programs/v1"),
        (Method::POST, "/v1/reseller/program/x/pause"),
        (Method::GET, "/_sim/nope"),
    ] {
        let answer = sim.send(method.clone(), path, None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(answer.text, "The requested route does not exist");
    }
}
