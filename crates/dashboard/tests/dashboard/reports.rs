//! Reports of Yelp's Reporting API v3: refused beyond Yelp's limits before Yelp is asked, asked once,
//! polled to the end, stored, exported, answered from storage for an identical request, and kept to their
//! workspace; the reporting key is write-only.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::html::{get, post_form};
use crate::helpers::on_every_backend;
use crate::web::{ALICE, BOB, Session, TestApp};

async fn post(app: &TestApp, session: &Session, path: &str, body: Value) -> (StatusCode, Value) {
    app.post_json(path, session, &body).await
}

/// The first `count` businesses of the workspace's mirror.
async fn businesses(app: &TestApp, session: &Session, count: usize) -> Vec<String> {
    let (_, body) = app.get_json("/api/reseller/business-ids", session).await;
    let ids: Vec<String> = body["businesses"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["business_id"].as_str().map(str::to_owned))
        .take(count)
        .collect();
    assert_eq!(ids.len(), count, "{body}");
    ids
}

/// How many reports the simulator was asked for.
async fn asked_of_yelp(app: &TestApp) -> usize {
    app.sim.control(Method::GET, "/_sim/reports", None).await["reports"]
        .as_array()
        .map_or(0, Vec::len)
}

fn day(offset: i64) -> String {
    (chrono::Utc::now().date_naive() - chrono::Duration::days(offset)).to_string()
}

on_every_backend! {
    async fn a_daily_report_is_checked_asked_once_polled_stored_exported_and_answered_from_storage(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 40).await;
        let olga = app.synced().await;
        let alice = app.login(ALICE).await;
        let businesses = businesses(&app, &olga, 2).await;
        let ask = json!({"business_ids": businesses, "start_date": day(6), "end_date": day(1)});

        // Without a key the workspace cannot ask, and says where to set one.
        let (status, body) = post(&app, &olga, "/api/reports/daily", ask.clone()).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(body.to_string().contains("Settings"), "{body}");

        let reporting_url = format!("{}/v3/reporting/", app.sim.base_url());
        let (status, body) = post(&app, &olga, "/api/settings/reporting", json!({"reporting_key": "demo-reporting-key"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "only admins set the key: {body}");
        let (status, body) = post(&app, &alice, "/api/settings/reporting",
            json!({"reporting_base_url": reporting_url, "reporting_key": "demo-reporting-key"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["reporting_key_set"], true);
        assert!(!body.to_string().contains("demo-reporting-key"), "the key is never answered: {body}");

        // Beyond Yelp's limits: refused naming each field, and Yelp never asked.
        let too_many: Vec<String> = (0..501).map(|i| format!("business{i:04}")).collect();
        let refusals = [
            (json!({"business_ids": businesses, "start_date": day(95), "end_date": day(1)}), "end_date", "89 days"),
            (json!({"business_ids": businesses, "start_date": day(740), "end_date": day(700)}), "start_date", "730 days"),
            (json!({"business_ids": too_many, "start_date": day(6), "end_date": day(1)}), "business_ids", "500"),
            (json!({"business_ids": ["NoSuchBusinessOfOurs"], "start_date": day(6), "end_date": day(1)}), "business_ids", "not a business of this workspace"),
            (json!({"business_ids": businesses, "start_date": "2026-13-01", "end_date": day(1)}), "start_date", "YYYY-MM-DD"),
            (json!({"business_ids": businesses, "start_date": day(1), "end_date": day(-3)}), "end_date", "after today"),
            (json!({"business_ids": businesses, "start_date": day(6), "end_date": day(1), "metrics": ["Spend!"]}), "metrics", "not a metric"),
        ];
        for (body, field, words) in refusals {
            let (status, answer) = post(&app, &olga, "/api/reports/daily", body.clone()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
            let text = answer.to_string();
            assert!(text.contains(field) && text.contains(words), "{field} / {words}: {answer}");
        }
        let (status, answer) = post(&app, &olga, "/api/reports/monthly", json!({"business_ids": businesses, "start_date": "2026-01", "end_date": "2026-06"})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert!(answer.to_string().contains("3 months"), "{answer}");
        assert_eq!(asked_of_yelp(&app).await, 0, "nothing beyond the limits reached Yelp");

        // Asked once; polled until Yelp made it.
        app.sim.control(Method::PUT, "/_sim/reporting", Some(json!({"report_seconds": 0.5}))).await;
        let (status, first) = post(&app, &olga, "/api/reports/daily", ask.clone()).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{first}");
        assert_eq!(first["status"], "PROCESSING");
        let id = first["report_id"].as_str().unwrap().to_owned();
        assert_eq!(asked_of_yelp(&app).await, 1);
        let mut report = first.clone();
        for _ in 0..60 {
            if report["status"] == "READY" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
            let (status, body) = app.get_json(&format!("/api/reports/daily/{id}"), &olga).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            report = body;
        }
        assert_eq!(report["status"], "READY", "{report}");
        let data = report["data"].as_array().unwrap();
        assert_eq!(data.len(), 2 * 6, "a row a business a day: {report}");
        let spend: i64 = data.iter().map(|r| r["ad_cost"].as_i64().unwrap()).sum();
        assert_eq!(report["totals"]["ad_cost"], spend);
        assert!(data.iter().all(|r| businesses.contains(&r["business_id"].as_str().unwrap().to_owned())));

        // The CSV: a row a business and day, money in dollars.
        let csv = app.request(Method::GET, &format!("/api/reports/daily/{id}/csv"), Some(&olga))
            .send().await.unwrap().text().await.unwrap();
        let mut lines = csv.lines();
        let header = lines.next().unwrap();
        assert!(header.starts_with("business_id,date,"), "{csv}");
        assert_eq!(lines.count(), 12, "{csv}");
        let column = header.split(',').position(|c| c == "ad_cost").unwrap();
        let cents: i64 = csv.lines().skip(1).map(|l| {
            let dollars = l.split(',').nth(column).unwrap();
            let (whole, part) = dollars.split_once('.').unwrap();
            assert_eq!(part.len(), 2, "{dollars}");
            whole.parse::<i64>().unwrap() * 100 + part.parse::<i64>().unwrap()
        }).sum();
        assert_eq!(cents, spend, "the CSV's dollars add up to the report's cents");

        // The same request, its ids in another order: answered from storage, Yelp not asked again.
        let reordered = json!({"ids": [businesses[1].clone(), businesses[0].clone()], "start": day(6), "end": day(1)});
        let (status, again) = post(&app, &olga, "/api/reports/daily", reordered).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!((again["report_id"].as_str(), again["status"].as_str()), (Some(id.as_str()), Some("READY")));
        assert_eq!(again["data"], report["data"]);
        assert_eq!(asked_of_yelp(&app).await, 1, "served from storage");
        let (_, listed) = app.get_json("/api/reports/daily", &olga).await;
        assert_eq!(listed["count"], 1, "{listed}");

        // Another workspace never sees it; an unknown kind or id is a 404.
        let bob = app.login(BOB).await;
        assert_eq!(app.get_json(&format!("/api/reports/daily/{id}"), &bob).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.get_json("/api/reports/daily", &bob).await.1["count"], 0);
        assert_eq!(app.get_json(&format!("/api/reports/monthly/{id}"), &olga).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.get_json("/api/reports/weekly", &olga).await.0, StatusCode::NOT_FOUND);
    }
}

on_every_backend! {
    async fn a_report_yelp_fails_is_stored_failed_and_an_identical_request_asks_again(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 40).await;
        let olga = app.synced().await;
        let alice = app.login(ALICE).await;
        let reporting_url = format!("{}/v3/reporting/", app.sim.base_url());
        let (status, _) = post(&app, &alice, "/api/settings/reporting",
            json!({"reporting_base_url": reporting_url, "reporting_key": "demo-reporting-key"})).await;
        assert_eq!(status, StatusCode::OK);
        let businesses = businesses(&app, &olga, 1).await;
        let ask = json!({"business_ids": businesses, "start_date": "2026-10", "end_date": "2026-11"});
        app.sim.control(Method::PUT, "/_sim/reporting", Some(json!({"report_seconds": 0.0, "failure_rate": 1.0}))).await;
        let (status, first) = post(&app, &olga, "/api/reports/monthly", ask.clone()).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{first}");
        let id = first["report_id"].as_str().unwrap().to_owned();
        let mut report = first;
        for _ in 0..60 {
            if report["status"] != "PROCESSING" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
            report = app.get_json(&format!("/api/reports/monthly/{id}"), &olga).await.1;
        }
        assert_eq!(report["status"], "FAILED", "{report}");
        assert!(report["error"].as_str().unwrap().contains("Yelp could not make this report"), "{report}");
        let csv = app.request(Method::GET, &format!("/api/reports/monthly/{id}/csv"), Some(&olga)).send().await.unwrap();
        assert_eq!(csv.status(), StatusCode::CONFLICT);

        app.sim.control(Method::PUT, "/_sim/reporting", Some(json!({"failure_rate": 0.0}))).await;
        let (status, again) = post(&app, &olga, "/api/reports/monthly", ask).await;
        assert_eq!(status, StatusCode::ACCEPTED, "a failed report is asked for again: {again}");
        assert_eq!(again["report_id"], id.as_str(), "in the same place");
        assert_eq!(asked_of_yelp(&app).await, 2);

        // Changing where the key is sent needs the key typed again.
        let (status, body) = post(&app, &alice, "/api/settings/reporting", json!({"reporting_base_url": "http://127.0.0.1:9/v3/reporting/"})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.to_string().contains("reporting_key"), "{body}");
    }
}

/// The reports page's form for a daily report of one business.
fn form_of<'a>(business: &'a str, start: &'a str, end: &'a str) -> [(&'static str, &'a str); 4] {
    [
        ("business_id", business),
        ("granularity", "daily"),
        ("start_date", start),
        ("end_date", end),
    ]
}

on_every_backend! {
    async fn the_reports_page_asks_for_a_report_reloads_while_yelp_makes_it_then_charts_and_tables_it(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 40).await;
        let olga = app.synced().await;
        let alice = app.login(ALICE).await;
        let business = businesses(&app, &olga, 1).await.remove(0);

        // Without a key the page says so, points to the program pages' own readings, and has no form.
        let page = get(&app, "/reports", &olga).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text("#reports-no-key").contains("no Reporting API key"), "{}", page.html.html());
        assert!(page.all("#report-form").is_empty(), "no form without a key");

        // The key is set on the settings page and never shown again.
        let reporting_url = format!("{}/v3/reporting/", app.sim.base_url());
        let saved = post_form(&app, "/settings/reporting", &alice,
            &[("reporting_base_url", &reporting_url), ("reporting_key", "demo-reporting-key")]).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER);
        let settings = get(&app, "/settings?saved=reporting", &alice).await;
        assert_eq!(settings.text("#reporting-key-state"), "A key is stored.");
        assert!(!settings.html.html().contains("demo-reporting-key"), "the key is never shown");

        // A range beyond Yelp's limits comes back with why and what was typed; Yelp is not asked.
        let (long_start, week_start, end) = (day(120), day(6), day(1));
        let refused = post_form(&app, "/reports", &olga, &form_of(&business, &long_start, &end)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert!(refused.text("#report-error").contains("89 days"), "{}", refused.text("#report-error"));
        assert_eq!(refused.one("#report-start").value().attr("value"), Some(long_start.as_str()));
        assert_eq!(asked_of_yelp(&app).await, 0);

        // Asked: the page of the report reloads itself while Yelp makes it.
        app.sim.control(Method::PUT, "/_sim/reporting", Some(json!({"report_seconds": 30}))).await;
        let asked = post_form(&app, "/reports", &olga, &form_of(&business, &week_start, &end)).await;
        assert_eq!(asked.status, StatusCode::SEE_OTHER);
        let location = asked.location.unwrap();
        let id = location.strip_prefix("/reports/daily/").expect("the report's page").to_owned();
        let waiting = get(&app, &location, &olga).await;
        assert_eq!(waiting.text("#report-status"), "Yelp is making it");
        assert_eq!(waiting.one("meta[http-equiv=refresh]").value().attr("content"), Some("3"));
        assert!(waiting.all("#report-table").is_empty());

        // Made: a bar a day, a row a day, totals that are the API's, the CSV, and no more reloading.
        app.sim.control(Method::PUT, "/_sim/reporting", Some(json!({"report_seconds": 0}))).await;
        let mut ready = waiting;
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(2_100)).await;
            ready = get(&app, &location, &olga).await;
            if ready.text("#report-status") == "Ready" {
                break;
            }
        }
        assert_eq!(ready.text("#report-status"), "Ready");
        assert!(ready.all("meta[http-equiv=refresh]").is_empty());
        assert_eq!(ready.all("#report-chart rect.spend-bar").len(), 6);
        assert_eq!(ready.all("#report-table tbody tr").len(), 6);
        let (_, report) = app.get_json(&format!("/api/reports/daily/{id}"), &olga).await;
        let total = yelp_partner_api::Cents::new(report["totals"]["ad_cost"].as_i64().unwrap());
        assert_eq!(ready.text("#report-totals td:first-of-type"), total.to_string(), "the first total is the spend");
        assert_eq!(ready.one("#report-csv").value().attr("href"), Some(format!("/api/reports/daily/{id}/csv").as_str()));
        assert_eq!(asked_of_yelp(&app).await, 1);

        // The list shows it, ready, and links to it.
        let list = get(&app, "/reports", &olga).await;
        assert_eq!(list.all("#reports-table tbody tr").len(), 1);
        assert_eq!(list.one("#reports-table tbody a").value().attr("href"), Some(location.as_str()));
        assert!(list.text("#reports-table tbody").contains("Ready"));
    }
}
