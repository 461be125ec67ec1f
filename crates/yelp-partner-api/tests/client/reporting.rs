//! The Reporting API v3 client against the simulator (Bearer key, asynchronous reports, Yelp's refusals)
//! and against a stub whose answers a test chooses (retries, CSV, odd statuses).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use chrono::NaiveDate;
use serde_json::{Value, json};
use yelp_partner_api::{
    BusinessId, Cents, Error, Granularity, Metric, ReportId, ReportProblem, ReportRange,
    ReportRefusal, ReportRequest, ReportStatus, ReportingClient, ReportingConfig, RetryPolicy,
    SecretString,
};

use crate::helpers::{TestSim, capture_logs};

/// The simulator's reporting key in these tests.
const KEY: &str = "fusion-reporting-key-7";

/// The pinned today of these simulators.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 19).unwrap()
}

async fn sim_with(report_seconds: f64) -> TestSim {
    TestSim::start_with(300, |c| {
        c.today = Some(today());
        c.reporting_api_key = KEY.into();
        c.report_seconds = report_seconds;
    })
    .await
}

/// A reporting client of `base` (a server root) with quick retries.
fn client(base: &str, key: &str) -> ReportingClient {
    let mut config = ReportingConfig::new(
        &format!("{base}/v3/reporting/"),
        SecretString::from(key.to_owned()),
    )
    .unwrap();
    config.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        ..RetryPolicy::default()
    };
    ReportingClient::new(config).unwrap()
}

async fn business_ids(sim: &TestSim, n: usize) -> Vec<BusinessId> {
    sim.get("/_sim/businesses").await["businesses"]
        .as_array()
        .unwrap()
        .iter()
        .take(n)
        .map(|b| BusinessId::parse(b["yelp_business_id"].as_str().unwrap()).unwrap())
        .collect()
}

fn daily(start: &str, end: &str) -> ReportRange {
    ReportRange::parse(Granularity::Daily, start, end).unwrap()
}

/// The simulator's own answer for a report, read with a plain HTTP client.
async fn raw_report(sim: &TestSim, granularity: &str, id: &ReportId) -> Value {
    yelp_partner_api::install_crypto_provider();
    reqwest::Client::new()
        .get(format!(
            "{}/v3/reporting/businesses/{granularity}/{id}",
            sim.sim.base_url()
        ))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_daily_report_is_requested_polled_and_read_as_the_simulator_made_it() {
    let sim = sim_with(3600.0).await;
    let ids = business_ids(&sim, 3).await;
    let unknown_to_the_client = Metric::from_wire("ad_driven_calls");
    assert!(!unknown_to_the_client.is_known());
    let request = ReportRequest::new(
        daily("2026-03-01", "2026-03-19"),
        ids.clone(),
        [
            Metric::AdCost,
            Metric::BilledClicks,
            unknown_to_the_client.clone(),
        ],
        today(),
    )
    .unwrap();
    let reporting = client(&sim.sim.base_url(), KEY);
    let id = reporting.request_report(&request).await.unwrap();
    assert_eq!(
        reporting.report(Granularity::Daily, &id).await.unwrap(),
        ReportStatus::Pending
    );

    sim.send(
        reqwest::Method::PUT,
        "/_sim/reporting",
        json!({"report_seconds": 0}),
    )
    .await;
    let ReportStatus::Ready(report) = reporting.report(Granularity::Daily, &id).await.unwrap()
    else {
        panic!("the report is ready");
    };
    assert_eq!(report.report_id, id);
    assert!(report.malformed.is_empty(), "{:?}", report.malformed);
    assert_eq!(report.rows.len(), 3 * 19, "a row per business per day");
    let raw = raw_report(&sim, "daily", &id).await;
    let mut raw_cost = 0;
    for (business, want) in raw["businesses"].as_array().unwrap().iter().zip(&ids) {
        assert_eq!(business["business_id"], want.as_str());
        for day in business["data"].as_array().unwrap() {
            let date: NaiveDate = day["date"].as_str().unwrap().parse().unwrap();
            let row = report
                .rows
                .iter()
                .find(|r| &r.business_id == want && r.date == date)
                .expect("the day is read");
            assert_eq!(
                row.ad_cost(),
                Some(Cents::new(day["ad_cost"].as_i64().unwrap()))
            );
            assert_eq!(
                row.get(&Metric::BilledClicks),
                day["billed_clicks"].as_i64()
            );
            assert_eq!(
                row.get(&unknown_to_the_client),
                day["ad_driven_calls"].as_i64(),
                "a metric the client does not name is kept"
            );
            raw_cost += day["ad_cost"].as_i64().unwrap();
        }
    }
    assert_eq!(report.total(&Metric::AdCost), raw_cost);
    assert!(raw_cost > 0, "these businesses spent this month");
    assert_eq!(sim.requests("POST /v3/reporting/businesses/daily").await, 1);
}

#[tokio::test]
async fn a_monthly_report_reads_each_month_as_its_first_day() {
    let sim = sim_with(0.0).await;
    let ids = business_ids(&sim, 2).await;
    let range = ReportRange::parse(Granularity::Monthly, "2026-01", "2026-03").unwrap();
    let request = ReportRequest::new(range, ids, [Metric::TotalLeads], today()).unwrap();
    let reporting = client(&sim.sim.base_url(), KEY);
    let id = reporting.request_report(&request).await.unwrap();
    let ReportStatus::Ready(report) = reporting.report(Granularity::Monthly, &id).await.unwrap()
    else {
        panic!("ready at once");
    };
    assert_eq!(report.granularity, Granularity::Monthly);
    let dates: Vec<String> = report.rows.iter().map(|r| r.date.to_string()).collect();
    assert_eq!(
        dates,
        [
            "2026-01-01",
            "2026-02-01",
            "2026-03-01",
            "2026-01-01",
            "2026-02-01",
            "2026-03-01"
        ]
    );
    assert!(
        report
            .rows
            .iter()
            .all(|r| r.get(&Metric::TotalLeads).is_some())
    );
}

#[tokio::test]
async fn a_report_the_simulator_fails_is_failed_not_an_error() {
    let sim = sim_with(0.0).await;
    sim.send(
        reqwest::Method::PUT,
        "/_sim/reporting",
        json!({"failure_rate": 1}),
    )
    .await;
    let request = ReportRequest::new(
        daily("2026-03-18", "2026-03-19"),
        business_ids(&sim, 1).await,
        [Metric::AdCost],
        today(),
    )
    .unwrap();
    let reporting = client(&sim.sim.base_url(), KEY);
    let id = reporting.request_report(&request).await.unwrap();
    let status = reporting.report(Granularity::Daily, &id).await.unwrap();
    assert!(
        matches!(&status, ReportStatus::Failed { description } if description.contains("could not be generated")),
        "{status:?}"
    );
    assert_eq!(
        sim.requests("GET /v3/reporting/businesses/daily/{report_id}")
            .await,
        1,
        "a failed report is an answer, not a fault to retry"
    );
}

#[tokio::test]
async fn limits_are_refused_before_anything_reaches_yelp() {
    let sim = sim_with(0.0).await;
    let many: Vec<BusinessId> = (0..501)
        .map(|i| BusinessId::from_yelp(format!("biz{i:019}")))
        .collect();
    let refused = |range, ids: Vec<BusinessId>| {
        ReportRequest::new(range, ids, [Metric::AdCost], today())
            .unwrap_err()
            .0
    };
    assert_eq!(
        refused(daily("2026-03-01", "2026-03-02"), many.clone()),
        [ReportProblem::TooManyBusinesses { count: 501 }]
    );
    assert_eq!(
        refused(daily("2025-12-20", "2026-03-19"), many[..1].to_vec()),
        [ReportProblem::TooManyDays { days: 90 }]
    );
    let monthly = ReportRange::parse(Granularity::Monthly, "2025-12", "2026-03").unwrap();
    assert_eq!(
        refused(monthly, many[..1].to_vec()),
        [ReportProblem::TooManyMonths { months: 4 }]
    );
    assert_eq!(
        refused(daily("2024-03-18", "2024-03-19"), many[..1].to_vec())[0].field(),
        "start"
    );
    assert_eq!(
        sim.requests("POST /v3/reporting/businesses/daily").await
            + sim.requests("POST /v3/reporting/businesses/monthly").await,
        0,
        "nothing was sent"
    );
    // The simulator, which checks on its own, takes the edges the client lets through.
    let edge = ReportRequest::new(
        daily("2025-12-21", "2026-03-19"),
        many[..500].to_vec(),
        [Metric::AdCost],
        today(),
    )
    .unwrap();
    client(&sim.sim.base_url(), KEY)
        .request_report(&edge)
        .await
        .unwrap();
}

#[tokio::test]
async fn yelps_refusals_are_typed_and_a_spent_quota_is_not_retried() {
    let sim = TestSim::start_with(50, |c| {
        c.today = Some(today());
        c.reporting_api_key = KEY.into();
        c.report_seconds = 0.0;
        c.report_daily_quota = 1;
    })
    .await;
    let reporting = client(&sim.sim.base_url(), KEY);
    let request = ReportRequest::new(
        daily("2026-03-18", "2026-03-19"),
        business_ids(&sim, 1).await,
        [Metric::AdCost],
        today(),
    )
    .unwrap();
    let id = reporting.request_report(&request).await.unwrap();
    let spent = reporting.request_report(&request).await.unwrap_err();
    assert_eq!(
        spent.report_refusal(),
        Some(ReportRefusal::DailyQuota),
        "{spent}"
    );
    assert!(!spent.is_transient());
    assert_eq!(
        sim.requests("POST /v3/reporting/businesses/daily").await,
        2,
        "the spent quota was asked once"
    );
    let wrong_granularity = reporting
        .report(Granularity::Monthly, &id)
        .await
        .unwrap_err();
    assert_eq!(
        wrong_granularity.report_refusal(),
        Some(ReportRefusal::Granularity)
    );
    let unknown = reporting
        .report(Granularity::Daily, &ReportId::from_yelp("NoSuchReport"))
        .await
        .unwrap_err();
    assert!(matches!(unknown, Error::NotFound { .. }), "{unknown}");
}

#[tokio::test]
async fn a_per_second_limit_is_waited_out_then_typed() {
    let sim = sim_with(0.0).await;
    let ids = business_ids(&sim, 1).await;
    sim.set_faults(json!({"rate_limit_rate": 1, "retry_after_seconds": 0}))
        .await;
    let request = ReportRequest::new(
        daily("2026-03-18", "2026-03-19"),
        ids,
        [Metric::AdCost],
        today(),
    )
    .unwrap();
    let err = client(&sim.sim.base_url(), KEY)
        .request_report(&request)
        .await
        .unwrap_err();
    assert_eq!(err.report_refusal(), Some(ReportRefusal::PerSecondLimit));
    assert_eq!(
        sim.requests("POST /v3/reporting/businesses/daily").await,
        3,
        "a 429 is answered before Yelp does anything, so the POST is tried again"
    );
    assert!(sim.sim.state().reports().is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn a_wrong_key_is_unauthorized_and_no_key_appears_in_logs_or_errors() {
    let (captured, _guard) = capture_logs();

    let sim = sim_with(0.0).await;
    let request = ReportRequest::new(
        daily("2026-03-18", "2026-03-19"),
        business_ids(&sim, 1).await,
        [Metric::AdCost],
        today(),
    )
    .unwrap();
    let wrong = client(&sim.sim.base_url(), "another-reporting-key");
    let err = wrong.request_report(&request).await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized), "{err:?}");
    let right = client(&sim.sim.base_url(), KEY);
    let id = right.request_report(&request).await.unwrap();
    right.report(Granularity::Daily, &id).await.unwrap();

    let logs = captured.text();
    assert!(logs.contains("yelp call"), "the client logged its calls");
    let messages = [err.to_string(), format!("{err:?}"), format!("{right:?}")];
    for secret in [KEY, "another-reporting-key", "Bearer "] {
        assert!(!logs.contains(secret), "log contains {secret:?}");
        for m in &messages {
            assert!(!m.contains(secret), "{m:?} contains {secret:?}");
        }
    }
}

/// A recorded request to the stub: method, path and Authorization header.
type Seen = (Method, String, Option<String>);

/// A server answering request `n` (from 0) with `answer(n, method)`: status, content type and body.
async fn stub(
    answer: impl Fn(usize, &Method) -> (u16, &'static str, String) + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let answer = Arc::new(answer);
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let n = {
            let mut log = log.lock().unwrap();
            log.push((method.clone(), uri.path().to_owned(), auth));
            log.len() - 1
        };
        let (status, content_type, body) = answer(n, &method);
        async move {
            (
                StatusCode::from_u16(status).unwrap(),
                [("content-type", content_type)],
                body,
            )
                .into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), seen)
}

fn one_day() -> ReportRequest {
    ReportRequest::new(
        daily("2026-03-18", "2026-03-19"),
        [BusinessId::from_yelp("b1")],
        [Metric::AdCost],
        today(),
    )
    .unwrap()
}

#[tokio::test]
async fn the_post_is_sent_once_with_the_bearer_key_and_the_get_is_retried_as_a_read() {
    const JSON: &str = "application/json";
    let (base, seen) = stub(|n, method| match (method.as_str(), n) {
        ("POST", _) => (503, "text/plain", "unavailable".into()),
        (_, 1) => (
            500,
            JSON,
            json!({"error": {"code": "INTERNAL_ERROR", "description": "try again"}}).to_string(),
        ),
        _ => (
            200,
            JSON,
            json!({"data": [{"business_id": "b1", "date": "2026-03-18", "ad_cost": 7}]})
                .to_string(),
        ),
    })
    .await;
    let reporting = client(&base, "stub-key");
    let err = reporting.request_report(&one_day()).await.unwrap_err();
    assert!(matches!(err, Error::Server { status: 503 }), "{err:?}");
    let status = reporting
        .report(Granularity::Daily, &ReportId::from_yelp("r-1"))
        .await
        .unwrap();
    let ReportStatus::Ready(report) = status else {
        panic!("read after a retry: {status:?}");
    };
    assert_eq!(report.rows[0].ad_cost(), Some(Cents::new(7)));
    let seen = seen.lock().unwrap().clone();
    let calls: Vec<(String, &str)> = seen
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.as_str()))
        .collect();
    assert_eq!(
        calls,
        [
            ("POST".to_owned(), "/v3/reporting/businesses/daily"),
            ("GET".to_owned(), "/v3/reporting/businesses/daily/r-1"),
            ("GET".to_owned(), "/v3/reporting/businesses/daily/r-1"),
        ],
        "one POST; the GET again after its 500"
    );
    assert!(
        seen.iter()
            .all(|(_, _, auth)| auth.as_deref() == Some("Bearer stub-key"))
    );
}

#[tokio::test]
async fn odd_answers_are_read_leniently() {
    let answers: Vec<(u16, &'static str, String)> = vec![
        (202, "application/json", String::new()),
        (
            200,
            "application/json",
            json!({"status": "processing"}).to_string(),
        ),
        (
            400,
            "application/json",
            json!({"error": {"code": "JOB_FAILED", "description": "no data"}}).to_string(),
        ),
        (
            200,
            "text/csv",
            "business_id,date,ad_cost,billed_clicks\nb1,2026-03-18,150,1\nb1,2026-03-19,0,0\n"
                .into(),
        ),
        (
            413,
            "application/json",
            json!({"error": {"code": "NUMBER_OF_BUSINESS_LIMIT_ERROR", "description": "too many"}})
                .to_string(),
        ),
        (
            200,
            "application/json",
            json!({"job_id": "r-9"}).to_string(),
        ),
        (202, "application/json", json!({"status": "ok"}).to_string()),
    ];
    let (base, _) = stub(move |n, _| answers[n.min(answers.len() - 1)].clone()).await;
    let reporting = client(&base, "stub-key");
    let id = ReportId::from_yelp("r-1");
    let report = || reporting.report(Granularity::Daily, &id);
    assert_eq!(
        report().await.unwrap(),
        ReportStatus::Pending,
        "202 with no body"
    );
    assert_eq!(
        report().await.unwrap(),
        ReportStatus::Pending,
        "a status in a 200"
    );
    assert_eq!(
        report().await.unwrap(),
        ReportStatus::Failed {
            description: "no data".into()
        }
    );
    let ReportStatus::Ready(csv) = report().await.unwrap() else {
        panic!("CSV is a report");
    };
    assert_eq!(csv.rows.len(), 2);
    assert_eq!(csv.total(&Metric::AdCost), 150);
    let too_many = reporting.request_report(&one_day()).await.unwrap_err();
    assert_eq!(
        too_many.report_refusal(),
        Some(ReportRefusal::TooManyBusinesses)
    );
    assert_eq!(
        reporting.request_report(&one_day()).await.unwrap(),
        ReportId::from_yelp("r-9"),
        "an id under job_id, as T read it"
    );
    let err = reporting.request_report(&one_day()).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "no id at all: {err:?}");
}
