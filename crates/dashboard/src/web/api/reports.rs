//! Reports of Yelp's Reporting API v3, at the replaced system's paths: `POST /api/reports/{daily|monthly}`
//! `{"business_ids", "start_date", "end_date", "metrics"?}` asks for one (or answers the stored report of
//! an identical request, without asking Yelp), `GET /api/reports/{daily|monthly}` lists the workspace's,
//! `GET /api/reports/{daily|monthly}/{report_id}` answers one — asking Yelp how it stands while it is being
//! made — and `GET /api/reports/{daily|monthly}/{report_id}/csv` its rows as CSV, money in dollars.

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use yelp_partner_api::{Cents, Granularity};

use super::csv_export::text_cell;
use super::iso;
use crate::reports::{ReportAsk, ReportLine, ReportService, lines_of};
use crate::store::{ReportState, StoredReport};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{ApiJson, PathParam, PathParams};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/reports/{granularity}", get(list).post(request))
        .route("/api/reports/{granularity}/{report_id}", get(one))
        .route("/api/reports/{granularity}/{report_id}/csv", get(csv_file))
}

fn granularity(text: &str) -> ApiResult<Granularity> {
    match text {
        "daily" => Ok(Granularity::Daily),
        "monthly" => Ok(Granularity::Monthly),
        _ => Err(ApiError::NotFound(format!(
            "No such kind of report '{text}': reports are daily or monthly"
        ))),
    }
}

/// The kind and id of a report's path.
fn kind_and_id(params: &[String]) -> ApiResult<(&str, &str)> {
    match params {
        [kind, id] => Ok((kind, id)),
        _ => Err(ApiError::internal("a report route without its kind and id")),
    }
}

fn service(state: &AppState) -> ReportService<'_> {
    ReportService::new(
        &state.store,
        &state.secrets,
        state.allow_insecure_yelp_url(),
    )
}

/// The status words of the replaced system's client.
fn status_word(state: ReportState) -> &'static str {
    match state {
        ReportState::Requesting => "REQUESTED",
        ReportState::Requested => "PROCESSING",
        ReportState::Ready => "READY",
        ReportState::Failed => "FAILED",
    }
}

fn split(list: &str) -> Vec<&str> {
    list.split(',').filter(|s| !s.is_empty()).collect()
}

/// A report as JSON: what was asked, where it stands, and once ready its rows and totals by metric.
fn report_json(report: &StoredReport, lines: &[ReportLine]) -> Value {
    let mut totals: BTreeMap<&str, i64> = BTreeMap::new();
    for line in lines {
        for (metric, value) in &line.metrics {
            *totals.entry(metric.as_str()).or_default() += value;
        }
    }
    let data: Vec<Value> = lines
        .iter()
        .map(|l| {
            let mut row = json!({"business_id": l.business_id, "date": l.date});
            for (metric, value) in &l.metrics {
                row[metric.as_str()] = json!(value);
            }
            row
        })
        .collect();
    json!({
        "report_id": report.id, "yelp_report_id": report.yelp_report_id,
        "granularity": report.granularity, "start_date": report.start_date, "end_date": report.end_date,
        "business_ids": split(&report.business_ids), "metrics": split(&report.metrics),
        "status": status_word(report.state), "error": report.error,
        "requested_by": report.requested_by, "requested_at": iso(Some(report.requested_at)),
        "ready_at": iso(report.ready_at),
        "data": data, "totals": totals,
    })
}

/// `POST /api/reports/{daily|monthly}`: 202 while Yelp makes it, 200 when an identical request's report
/// is ready already; 400 naming every field beyond Yelp's limits, before Yelp is asked.
async fn request(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(kind): PathParam,
    ApiJson(ask): ApiJson<ReportAsk>,
) -> ApiResult<Response> {
    let granularity = granularity(&kind)?;
    let today = chrono::Utc::now().date_naive();
    let report = service(&state)
        .request(&user.user, granularity, ask, today)
        .await?;
    let lines = lines_of(&report)?;
    let status = if report.state == ReportState::Ready {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(report_json(&report, &lines))).into_response())
}

/// `GET /api/reports/{daily|monthly}`: the workspace's reports, newest first, without their rows.
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(kind): PathParam,
) -> ApiResult<Json<Value>> {
    let granularity = granularity(&kind)?;
    let reports = service(&state).reports(&user.user, granularity).await?;
    Ok(Json(json!({
        "reports": reports.iter().map(|r| report_json(r, &[])).collect::<Vec<_>>(),
        "count": reports.len(),
    })))
}

/// `GET /api/reports/{daily|monthly}/{report_id}`.
async fn one(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParams(params): PathParams,
) -> ApiResult<Json<Value>> {
    let (kind, id) = kind_and_id(&params)?;
    let report = service(&state)
        .report(&user.user, granularity(kind)?, id)
        .await?;
    let lines = lines_of(&report)?;
    Ok(Json(report_json(&report, &lines)))
}

/// `GET /api/reports/{daily|monthly}/{report_id}/csv`: a row a business and day, `ad_cost` in dollars;
/// 409 until the report is ready.
async fn csv_file(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParams(params): PathParams,
) -> ApiResult<Response> {
    let (kind, id) = kind_and_id(&params)?;
    let report = service(&state)
        .report(&user.user, granularity(kind)?, id)
        .await?;
    if report.state != ReportState::Ready {
        return Err(ApiError::Conflict(format!(
            "Report {id} is not ready yet ({}).",
            status_word(report.state).to_lowercase()
        )));
    }
    let lines = lines_of(&report)?;
    let metrics = split(&report.metrics);
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header_row = vec!["business_id", "date"];
    header_row.extend(metrics.iter().copied());
    out.write_record(&header_row).map_err(ApiError::internal)?;
    for line in &lines {
        let mut record = vec![text_cell(Some(&line.business_id)), line.date.clone()];
        for metric in &metrics {
            record.push(match (line.metrics.get(*metric), *metric) {
                (Some(cents), "ad_cost") => Cents::new(*cents).to_dollars_string(),
                (Some(value), _) => value.to_string(),
                (None, _) => String::new(),
            });
        }
        out.write_record(&record).map_err(ApiError::internal)?;
    }
    let body = out.into_inner().map_err(ApiError::internal)?;
    let disposition = format!(
        "attachment; filename=\"{}-report-{}-{}.csv\"",
        report.granularity, report.start_date, report.end_date
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
