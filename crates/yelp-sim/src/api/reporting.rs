//! Reporting API v3 (contract §13): `POST /v3/reporting/businesses/{daily|monthly}` and
//! `GET /v3/reporting/businesses/{daily|monthly}/{report_id}`; the rules are in `crate::reporting`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ApiError;
use crate::reporting::{Granularity, ReportAnswer};
use crate::state::SimState;

pub(crate) async fn request_daily(
    State(state): State<SimState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    request(&state, Granularity::Daily, &body)
}

pub(crate) async fn request_monthly(
    State(state): State<SimState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    request(&state, Granularity::Monthly, &body)
}

pub(crate) async fn show_daily(
    State(state): State<SimState>,
    Path(report_id): Path<String>,
) -> Result<Response, ApiError> {
    show(&state, Granularity::Daily, &report_id)
}

pub(crate) async fn show_monthly(
    State(state): State<SimState>,
    Path(report_id): Path<String>,
) -> Result<Response, ApiError> {
    show(&state, Granularity::Monthly, &report_id)
}

/// 202 `{"report_id"}`.
fn request(state: &SimState, granularity: Granularity, body: &[u8]) -> Result<Response, ApiError> {
    let report_id = state.request_report(granularity, body)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "report_id": report_id })),
    )
        .into_response())
}

/// 202 while not ready, 200 with the report, or 500 `JOB_FAILED`.
fn show(state: &SimState, granularity: Granularity, report_id: &str) -> Result<Response, ApiError> {
    Ok(match state.report_answer(granularity, report_id)? {
        ReportAnswer::Pending => (
            StatusCode::ACCEPTED,
            Json(json!({"report_id": report_id, "status": "JOB_NOT_COMPLETE"})),
        )
            .into_response(),
        ReportAnswer::Failed => ApiError::Fusion {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "JOB_FAILED",
            description: "The report could not be generated; request it again.".into(),
        }
        .into_response(),
        ReportAnswer::Ready(report) => Json(report).into_response(),
    })
}
