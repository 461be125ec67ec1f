//! Reporting API v3 and the advance of simulated days: Bearer auth, asynchronous reports, Yelp's limits,
//! and daily figures that add up to what the programs show.

use std::collections::HashMap;

use chrono::{Datelike as _, NaiveDate};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yelp_sim::{FeePeriod, Program, ProgramPatch, ProgramStatus, SimConfig, StatusFilter};

use crate::helpers::{Answer, TestSim, config, today};

/// The simulator's default reporting key.
const KEY: &str = "demo-reporting-key";

/// The test world with reports ready as soon as they are asked for.
fn reporting_config() -> SimConfig {
    SimConfig {
        report_seconds: 0.0,
        ..config()
    }
}

/// A reporting request with `Authorization: Bearer <key>` (or none).
async fn reporting(
    sim: &TestSim,
    method: Method,
    path: &str,
    body: Option<&Value>,
    key: Option<&str>,
) -> Answer {
    let mut request = sim
        .client
        .request(method, sim.url(&format!("/v3/reporting/businesses/{path}")));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("an answer");
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        text: response.text().await.expect("a body"),
    }
}

/// Asks for a report and answers its id; panics unless it is accepted.
async fn request(sim: &TestSim, granularity: &str, body: &Value) -> String {
    let answer = reporting(sim, Method::POST, granularity, Some(body), Some(KEY)).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
    answer.json()["report_id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

/// A report that is ready: its body.
async fn fetch(sim: &TestSim, granularity: &str, report_id: &str) -> Value {
    let answer = reporting(
        sim,
        Method::GET,
        &format!("{granularity}/{report_id}"),
        None,
        Some(KEY),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    answer.json()
}

fn body(start: &str, end: &str, ids: &[&str], metrics: &[&str]) -> Value {
    json!({"start": start, "end": end, "ids": ids, "metrics": metrics})
}

fn error_code(answer: &Answer) -> String {
    answer.json()["error"]["code"]
        .as_str()
        .expect("a Fusion error code")
        .to_owned()
}

fn date(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

/// The business with the most CPC programs, all of them on calendar months (so that a calendar month of
/// its days is every program's current period).
fn calendar_business(sim: &TestSim) -> String {
    let mut programs: HashMap<String, Vec<Program>> = HashMap::new();
    for program in sim.state().programs() {
        if program.program_metrics.is_some() {
            programs
                .entry(program.yelp_business_id.clone())
                .or_default()
                .push(program);
        }
    }
    programs
        .into_iter()
        .filter(|(_, ps)| {
            ps.iter().all(|p| {
                p.program_metrics
                    .as_ref()
                    .is_some_and(|m| m.fee_period == FeePeriod::CalendarMonth)
            })
        })
        .max_by_key(|(id, ps)| (ps.len(), id.clone()))
        .map(|(id, _)| id)
        .expect("a business with calendar-month programs")
}

/// Spend, clicks and impressions of `business`'s CPC programs in the calendar month of `today`, as
/// `program_metrics` shows them: programs that ran in that month (an ended one keeps the figures of its
/// last period).
fn programs_month(sim: &TestSim, business: &str, today: NaiveDate) -> [i64; 3] {
    let first = today.with_day0(0).expect("a first day");
    let mut sum = [0; 3];
    for program in sim.state().programs() {
        let Some(m) = &program.program_metrics else {
            continue;
        };
        if program.yelp_business_id == business
            && program.start_date <= today
            && program.end_date >= first
        {
            sum[0] += m.ad_cost;
            sum[1] += m.billed_clicks;
            sum[2] += m.billed_impressions;
        }
    }
    sum
}

/// The sums of `ad_cost`, `billed_clicks` and `billed_impressions` over a report's rows.
fn report_sums(report: &Value) -> [i64; 3] {
    let mut sum = [0; 3];
    for business in report["businesses"].as_array().expect("businesses") {
        for row in business["data"].as_array().expect("rows") {
            for (i, metric) in ["ad_cost", "billed_clicks", "billed_impressions"]
                .iter()
                .enumerate()
            {
                sum[i] += row[*metric]
                    .as_i64()
                    .unwrap_or_else(|| panic!("{metric} in {row}"));
            }
        }
    }
    sum
}

const BILLED: [&str; 3] = ["ad_cost", "billed_clicks", "billed_impressions"];

/// Whether a fee period of `program` started after `from`, up to `to`: its figures were reset then. March
/// has no calendar-month start after the 1st; rolling periods start every 30 days from the start date.
fn period_started_within(program: &Program, from: NaiveDate, to: NaiveDate) -> bool {
    let rolling = program
        .program_metrics
        .as_ref()
        .is_some_and(|m| m.fee_period == FeePeriod::RollingMonth);
    let since_start = (to - program.start_date).num_days();
    rolling && since_start.rem_euclid(30) < (to - from).num_days()
}

async fn advance(sim: &TestSim, days: u32) -> Value {
    let answer = sim
        .control(
            Method::POST,
            "/_sim/advance",
            Some(&json!({ "days": days }).to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    answer.json()
}

#[tokio::test]
async fn reporting_takes_the_bearer_key_and_partner_routes_still_take_basic() {
    let sim = TestSim::start(reporting_config()).await;
    let business = sim.plain_business();
    let ask = body("2026-03-01", "2026-03-02", &[&business], &["ad_cost"]);
    for key in [None, Some("wrong-key"), Some("")] {
        let answer = reporting(&sim, Method::POST, "daily", Some(&ask), key).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{key:?}");
        assert_eq!(error_code(&answer), "UNAUTHORIZED_ACCESS_TOKEN");
    }
    // The partner pair does not open reporting, and the reporting key does not open partner routes.
    let basic = sim
        .client
        .post(sim.url("/v3/reporting/businesses/daily"))
        .basic_auth("demo", Some("demo"))
        .json(&ask)
        .send()
        .await
        .expect("an answer");
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    let bearer = sim
        .client
        .get(sim.url("/programs/v1?limit=1"))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("an answer");
    assert_eq!(bearer.status(), StatusCode::UNAUTHORIZED);
    assert!(
        sim.state().reports().is_empty(),
        "nothing was made without the key"
    );
    request(&sim, "daily", &ask).await;
    assert_eq!(sim.state().reports().len(), 1);
    assert_eq!(
        sim.state().stats().requests["POST /v3/reporting/businesses/daily"],
        5,
        "reporting requests are counted like partner ones"
    );
}

#[tokio::test]
async fn a_report_waits_report_seconds_then_answers_its_rows() {
    let sim = TestSim::start(SimConfig {
        report_seconds: 3600.0,
        ..config()
    })
    .await;
    let business = sim.plain_business();
    let id = request(
        &sim,
        "daily",
        &body("2026-03-17", "2026-03-19", &[&business], &["billed_clicks"]),
    )
    .await;
    let pending = reporting(&sim, Method::GET, &format!("daily/{id}"), None, Some(KEY)).await;
    assert_eq!(pending.status, StatusCode::ACCEPTED);
    assert_eq!(pending.json()["status"], "JOB_NOT_COMPLETE");
    assert_eq!(sim.state().reports()[0].status, "JOB_NOT_COMPLETE");

    // The wait is measured when asked: a shorter setting makes the waiting report ready.
    sim.control(
        Method::PUT,
        "/_sim/reporting",
        Some(r#"{"report_seconds": 0}"#),
    )
    .await;
    let report = fetch(&sim, "daily", &id).await;
    assert_eq!(report["report_id"], id.as_str());
    assert_eq!(report["granularity"], "daily");
    let rows = &report["businesses"][0]["data"];
    let dates: Vec<&str> = rows
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["date"].as_str().expect("a date"))
        .collect();
    assert_eq!(dates, ["2026-03-17", "2026-03-18", "2026-03-19"]);
    assert_eq!(
        rows[0].as_object().expect("a row").len(),
        2,
        "the date and the asked metric only: {rows}"
    );
    assert_eq!(sim.state().reports()[0].status, "COMPLETED");
}

#[tokio::test]
async fn a_month_of_daily_rows_adds_up_to_the_programs_spend_and_stays_fixed_as_days_pass() {
    let sim = TestSim::start(reporting_config()).await;
    let business = calendar_business(&sim);
    let expected = programs_month(&sim, &business, today());
    assert!(
        expected[0] > 0,
        "the business spent this month: {expected:?}"
    );
    let asked = body("2026-03-01", "2026-03-19", &[&business], &BILLED);
    let before = fetch(&sim, "daily", &request(&sim, "daily", &asked).await).await;
    assert_eq!(report_sums(&before), expected);

    let moved = advance(&sim, 5).await;
    assert_eq!(moved["today"], "2026-03-24");
    assert_eq!(moved["days_advanced"], 5);
    let after = fetch(&sim, "daily", &request(&sim, "daily", &asked).await).await;
    assert_eq!(
        after["businesses"], before["businesses"],
        "past days never change"
    );
    let month = body("2026-03-01", "2026-03-24", &[&business], &BILLED);
    let month = fetch(&sim, "daily", &request(&sim, "daily", &month).await).await;
    assert_eq!(
        report_sums(&month),
        programs_month(&sim, &business, date("2026-03-24"))
    );
}

#[tokio::test]
async fn a_new_fee_period_resets_spend_and_the_closed_month_keeps_its_sum() {
    let sim = TestSim::start(reporting_config()).await;
    let business = calendar_business(&sim);
    advance(&sim, 12).await;
    let march = programs_month(&sim, &business, date("2026-03-31"));
    advance(&sim, 1).await;
    assert_eq!(sim.state().today(), date("2026-04-01"));
    let month = body("2026-03-01", "2026-03-31", &[&business], &BILLED);
    let report = fetch(&sim, "daily", &request(&sim, "daily", &month).await).await;
    assert_eq!(report_sums(&report), march);
    // In April every calendar-month program starts again from its first day's spend.
    let april = programs_month(&sim, &business, date("2026-04-01"));
    let first_day = body("2026-04-01", "2026-04-01", &[&business], &BILLED);
    let report = fetch(&sim, "daily", &request(&sim, "daily", &first_day).await).await;
    assert_eq!(report_sums(&report), april);
    assert!(april[0] < march[0], "{april:?} after {march:?}");
}

#[tokio::test]
async fn a_monthly_report_sums_the_days_of_each_month() {
    let sim = TestSim::start(reporting_config()).await;
    let business = calendar_business(&sim);
    let metrics = ["ad_cost", "billed_clicks", "num_calls", "total_leads"];
    let monthly = fetch(
        &sim,
        "monthly",
        &request(
            &sim,
            "monthly",
            &body("2026-01", "2026-03", &[&business], &metrics),
        )
        .await,
    )
    .await;
    let daily = fetch(
        &sim,
        "daily",
        &request(
            &sim,
            "daily",
            &body("2026-01-01", "2026-03-19", &[&business], &metrics),
        )
        .await,
    )
    .await;
    let months = monthly["businesses"][0]["data"].as_array().expect("rows");
    let labels: Vec<&str> = months.iter().map(|m| m["date"].as_str().unwrap()).collect();
    assert_eq!(labels, ["2026-01", "2026-02", "2026-03"]);
    for month in months {
        let label = month["date"].as_str().unwrap();
        for metric in metrics {
            let days: i64 = daily["businesses"][0]["data"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["date"].as_str().unwrap().starts_with(label))
                .map(|d| d[metric].as_i64().unwrap())
                .sum();
            assert_eq!(month[metric].as_i64(), Some(days), "{metric} of {label}");
        }
    }
    assert_eq!(
        months[2]["ad_cost"].as_i64(),
        Some(programs_month(&sim, &business, today())[0]),
        "this month so far is what the programs show"
    );
}

#[tokio::test]
async fn limits_are_refused_with_yelps_codes_before_any_report_is_made() {
    let sim = TestSim::start(reporting_config()).await;
    let b = sim.plain_business();
    let many: Vec<String> = (0..501).map(|i| format!("biz{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let cases = [
        (
            "daily",
            body("2026-03-01", "2026-03-02", &many, &["ad_cost"]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "NUMBER_OF_BUSINESS_LIMIT_ERROR",
        ),
        (
            "daily",
            body("2025-12-20", "2026-03-19", &[&b], &["ad_cost"]),
            StatusCode::BAD_REQUEST,
            "REPORT_GRANULARITY_ERROR",
        ),
        (
            "monthly",
            body("2025-12", "2026-03", &[&b], &["ad_cost"]),
            StatusCode::BAD_REQUEST,
            "REPORT_GRANULARITY_ERROR",
        ),
        (
            "daily",
            body("2026-03", "2026-03", &[&b], &["ad_cost"]),
            StatusCode::BAD_REQUEST,
            "REPORT_GRANULARITY_ERROR",
        ),
        (
            "daily",
            body("2024-03-18", "2024-03-20", &[&b], &["ad_cost"]),
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
        ),
        (
            "daily",
            body("2026-03-19", "2026-03-20", &[&b], &["ad_cost"]),
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
        ),
        (
            "daily",
            body("2026-03-02", "2026-03-01", &[&b], &["ad_cost"]),
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
        ),
        (
            "daily",
            body("2026-03-01", "2026-03-02", &[&b], &["clicks"]),
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
        ),
        (
            "daily",
            json!({"start": "2026-03-01", "end": "2026-03-02"}),
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
        ),
    ];
    for (granularity, asked, status, code) in cases {
        let answer = reporting(&sim, Method::POST, granularity, Some(&asked), Some(KEY)).await;
        assert_eq!(
            (answer.status, error_code(&answer).as_str()),
            (status, code),
            "{asked}"
        );
        assert!(
            !answer.json()["error"]["description"]
                .as_str()
                .unwrap_or_default()
                .is_empty()
        );
    }
    assert!(
        sim.state().reports().is_empty(),
        "no refused request made a report"
    );
    // The edges themselves are accepted: 89 days, 500 businesses, 3 months, 730 days back.
    let edge: Vec<&str> = many[..500].to_vec();
    request(
        &sim,
        "daily",
        &body("2025-12-21", "2026-03-19", &edge, &["ad_cost"]),
    )
    .await;
    request(
        &sim,
        "monthly",
        &body("2026-01", "2026-03", &[&b], &["ad_cost"]),
    )
    .await;
    request(
        &sim,
        "daily",
        &body("2024-03-19", "2024-03-19", &[&b], &["ad_cost"]),
    )
    .await;
}

#[tokio::test]
async fn a_report_fetched_under_the_other_granularity_or_unknown_is_refused() {
    let sim = TestSim::start(reporting_config()).await;
    let b = sim.plain_business();
    let id = request(
        &sim,
        "daily",
        &body("2026-03-01", "2026-03-02", &[&b], &["ad_cost"]),
    )
    .await;
    let wrong = reporting(&sim, Method::GET, &format!("monthly/{id}"), None, Some(KEY)).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&wrong), "REPORT_GRANULARITY_ERROR");
    let unknown = reporting(&sim, Method::GET, "daily/NoSuchReport", None, Some(KEY)).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&unknown), "NOT_FOUND");
}

#[tokio::test]
async fn a_failed_report_answers_job_failed() {
    let sim = TestSim::start(reporting_config()).await;
    sim.control(
        Method::PUT,
        "/_sim/reporting",
        Some(r#"{"failure_rate": 1}"#),
    )
    .await;
    let b = sim.plain_business();
    let id = request(
        &sim,
        "daily",
        &body("2026-03-01", "2026-03-02", &[&b], &["ad_cost"]),
    )
    .await;
    let failed = reporting(&sim, Method::GET, &format!("daily/{id}"), None, Some(KEY)).await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(error_code(&failed), "JOB_FAILED");
    assert_eq!(sim.state().reports()[0].status, "JOB_FAILED");
}

#[tokio::test]
async fn the_daily_quota_is_spent_per_simulated_day() {
    let sim = TestSim::start(SimConfig {
        report_daily_quota: 2,
        ..reporting_config()
    })
    .await;
    let b = sim.plain_business();
    let ask = body("2026-03-01", "2026-03-02", &[&b], &["ad_cost"]);
    request(&sim, "daily", &ask).await;
    request(
        &sim,
        "monthly",
        &body("2026-03", "2026-03", &[&b], &["ad_cost"]),
    )
    .await;
    let spent = reporting(&sim, Method::POST, "daily", Some(&ask), Some(KEY)).await;
    assert_eq!(spent.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_code(&spent), "ACCESS_LIMIT_REACHED");
    advance(&sim, 1).await;
    request(&sim, "daily", &ask).await;
}

#[tokio::test]
async fn advancing_days_grows_running_cpc_spend_within_budget_and_leaves_the_rest() {
    let sim = TestSim::start(reporting_config()).await;
    let ending = sim.running_cpc().program_id;
    sim.state()
        .patch_program(
            &ending,
            &ProgramPatch {
                end_date: Some(date("2026-03-20")),
                ..ProgramPatch::default()
            },
        )
        .expect("patched");
    let before: HashMap<String, Program> = sim
        .state()
        .programs()
        .into_iter()
        .map(|p| (p.program_id.clone(), p))
        .collect();
    advance(&sim, 3).await;
    let new_today = date("2026-03-22");
    assert_eq!(sim.state().today(), new_today);
    let (mut grew, mut running) = (0, 0);
    for after in sim.state().programs() {
        let was = &before[&after.program_id];
        match (&was.program_metrics, &after.program_metrics) {
            (Some(old), Some(new))
                if was.is_running(today())
                    && after.is_running(new_today)
                    && !period_started_within(&after, today(), new_today) =>
            {
                running += 1;
                assert!(new.ad_cost >= old.ad_cost && new.billed_clicks >= old.billed_clicks);
                assert!(new.ad_cost <= new.budget.max(old.ad_cost), "{new:?}");
                if new.billed_clicks > old.billed_clicks {
                    grew += 1;
                    let price =
                        (new.ad_cost - old.ad_cost) / (new.billed_clicks - old.billed_clicks);
                    assert!(price > 0, "clicks cost money");
                }
            }
            (Some(old), Some(new)) if was.is_paused() => {
                // A paused program does not spend; a new fee period still clears its figures.
                let figures =
                    |m: &yelp_sim::CpcMetrics| (m.ad_cost, m.billed_clicks, m.billed_impressions);
                if period_started_within(&after, today(), new_today) {
                    assert_eq!(figures(new), (0, 0, 0));
                } else {
                    assert_eq!(old, new, "paused programs do not spend");
                }
            }
            (None, None) => {
                // Other types only start, on their first day.
                let started = was.start_date > today() && was.start_date <= new_today;
                let status = if started {
                    ProgramStatus::Active
                } else {
                    was.program_status
                };
                let expected = Program {
                    program_status: status,
                    ..was.clone()
                };
                assert_eq!(expected, after);
            }
            _ => {}
        }
    }
    assert!(running > 100, "{running} running CPC programs");
    assert!(
        grew * 2 > running,
        "most running programs got clicks: {grew} of {running}"
    );
    // The listing follows the new today: the program whose end date passed is PAST.
    let ended = sim.state().program(&ending).expect("kept");
    assert_eq!(ended.bucket(new_today), Some(StatusFilter::Past));
    let past = sim
        .get("/programs/v1?program_status=PAST&limit=40&offset=0")
        .await
        .json();
    let mut offset = 0;
    let mut found = false;
    let total = past["total"].as_u64().expect("a total");
    while offset < total && !found {
        let page = sim
            .get(&format!(
                "/programs/v1?program_status=PAST&limit=40&offset={offset}"
            ))
            .await
            .json();
        found = page["payment_programs"]
            .as_array()
            .expect("programs")
            .iter()
            .any(|p| p["program_id"] == ending.as_str());
        offset += 40;
    }
    assert!(found, "{ending} is listed as PAST");
}

#[tokio::test]
async fn a_scheduled_program_starts_on_its_first_day() {
    let sim = TestSim::start(reporting_config()).await;
    let scheduled = sim
        .find_program(|p| {
            p.program_metrics.is_some()
                && p.program_status == ProgramStatus::Inactive
                && p.start_date > today()
        })
        .program_id;
    sim.state()
        .patch_program(
            &scheduled,
            &ProgramPatch {
                start_date: Some(date("2026-03-21")),
                end_date: Some(date("2026-06-30")),
                ..ProgramPatch::default()
            },
        )
        .expect("patched");
    advance(&sim, 1).await;
    let program = sim.state().program(&scheduled).expect("kept");
    assert_eq!(program.program_status, ProgramStatus::Inactive, "not yet");
    advance(&sim, 1).await;
    let program = sim.state().program(&scheduled).expect("kept");
    assert!(program.is_running(date("2026-03-21")), "{program:?}");
    let spent = program.program_metrics.expect("CPC").billed_impressions;
    assert!(spent > 0, "it ran on its first day");
}

#[tokio::test]
async fn advance_and_reporting_settings_check_their_values() {
    let sim = TestSim::start(reporting_config()).await;
    for body in [
        r#"{"days": 0}"#,
        r#"{"days": 367}"#,
        r#"{"weeks": 1}"#,
        "[]",
    ] {
        let answer = sim.control(Method::POST, "/_sim/advance", Some(body)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
    }
    assert_eq!(sim.state().today(), today(), "nothing moved");
    for body in [
        r#"{"report_seconds": -1}"#,
        r#"{"failure_rate": 2}"#,
        r#"{"api_key": ""}"#,
        r#"{"bogus": 1}"#,
    ] {
        let answer = sim
            .control(Method::PUT, "/_sim/reporting", Some(body))
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
    }
    let settings = sim
        .control(
            Method::PUT,
            "/_sim/reporting",
            Some(r#"{"api_key": "rotated-key", "daily_quota": 7}"#),
        )
        .await;
    assert_eq!(
        settings.json(),
        json!({"report_seconds": 0.0, "daily_quota": 7, "failure_rate": 0.0})
    );
    assert!(
        !settings.text.contains("rotated-key"),
        "the key is write-only"
    );
    let b = sim.plain_business();
    let ask = body("2026-03-01", "2026-03-02", &[&b], &["ad_cost"]);
    let old = reporting(&sim, Method::POST, "daily", Some(&ask), Some(KEY)).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = reporting(&sim, Method::POST, "daily", Some(&ask), Some("rotated-key")).await;
    assert_eq!(new.status, StatusCode::ACCEPTED);
}
