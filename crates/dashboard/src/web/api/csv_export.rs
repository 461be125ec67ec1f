//! `GET /api/reseller/programs.csv?<the list's query>`: every program the list's filters match, as CSV
//! with the programs table's columns plus ids; names as text, money in dollars, dates ISO. Streamed a
//! chunk of programs at a time, so memory stays flat however many programs match.

use std::ops::Range;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{TimeZone, Utc};
use futures::StreamExt;
use yelp_partner_api::Cents;

use crate::store::{AuditAction, AuditEvent, ExportRow};
use crate::web::AppState;
use crate::web::auth::{CurrentUser, Origin, audit_event, record};
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::Params;
use crate::web::params::{LIST_FILTERS, LIST_SORT, business_mirrored, program_query};

/// The file's columns, in order.
pub const COLUMNS: [&str; 17] = [
    "program_id",
    "custom_name",
    "program_type",
    "business_id",
    "business_name",
    "partner_business_id",
    "program_status",
    "paused",
    "start_date",
    "end_date",
    "budget",
    "is_autobid",
    "max_bid",
    "spend",
    "clicks",
    "impressions",
    "removed_at",
];

/// Programs read and written per chunk of the body.
const CHUNK: usize = 1000;

/// Chunks read ahead of the one being sent.
const READ_AHEAD: usize = 2;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/reseller/programs.csv", get(export))
}

/// Text a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, a tab or a return first) starts
/// with an apostrophe, so that opening the file runs nothing a user typed. Only free text needs it: ids,
/// types, dates and amounts never start so.
pub(super) fn text_cell(text: Option<&str>) -> String {
    match text {
        Some(t) if t.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{t}"),
        Some(t) => t.to_owned(),
        None => String::new(),
    }
}

fn dollars(cents: Option<i64>) -> String {
    cents.map_or_else(String::new, |c| Cents::new(c).to_dollars_string())
}

fn number(n: Option<i64>) -> String {
    n.map_or_else(String::new, |n| n.to_string())
}

/// One program's row.
fn row(p: ExportRow) -> [String; 17] {
    [
        p.program_id,
        text_cell(p.custom_name.as_deref()),
        p.program_type,
        p.business_id.unwrap_or_default(),
        text_cell(p.business_name.as_deref()),
        p.partner_business_id.unwrap_or_default(),
        p.program_status,
        (p.pause_status == "PAUSED").to_string(),
        p.start_date.unwrap_or_default(),
        p.end_date.unwrap_or_default(),
        dollars(p.budget_cents),
        p.is_autobid
            .map(|a| (a != 0).to_string())
            .unwrap_or_default(),
        dollars(p.max_bid_cents),
        dollars(p.ad_cost_cents),
        number(p.billed_clicks),
        number(p.billed_impressions),
        p.removed_at
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
            .map(|t| t.to_rfc3339())
            .unwrap_or_default(),
    ]
}

/// The rows of the programs with these ids, in order.
async fn chunk(
    state: AppState,
    workspace_id: String,
    ids: Arc<Vec<String>>,
    range: Range<usize>,
) -> ApiResult<Vec<u8>> {
    let programs = state
        .store
        .export_rows_in_order(&workspace_id, &ids[range.clone()])
        .await?;
    let mut out = csv::Writer::from_writer(Vec::with_capacity(range.len() * 200));
    for program in programs {
        out.write_record(row(program)).map_err(ApiError::internal)?;
    }
    out.into_inner().map_err(ApiError::internal)
}

/// `GET /api/reseller/programs.csv`: the header, then every matching program.
async fn export(
    State(state): State<AppState>,
    origin: Origin,
    user: CurrentUser,
    params: Params,
) -> ApiResult<Response> {
    params.only_of(&[LIST_FILTERS, LIST_SORT])?;
    let mirrored = business_mirrored(&state, user.workspace_id(), &params).await?;
    let query = program_query(&params, mirrored)?;
    let workspace_id = user.workspace_id().to_owned();
    let ids = state.store.program_view(&workspace_id, &query).await?;
    let mut filters: Vec<String> = params.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
    filters.sort();
    let event = AuditEvent {
        target: Some("programs.csv".into()),
        detail: Some(format!(
            "{} programs{}",
            ids.len(),
            if filters.is_empty() {
                String::new()
            } else {
                format!(" ({})", filters.join(", "))
            }
        )),
        ..audit_event(&user.user, &origin)
    };
    record(&state, AuditAction::ExportMade, event).await;
    let mut header_row = csv::Writer::from_writer(Vec::new());
    header_row
        .write_record(COLUMNS)
        .map_err(ApiError::internal)?;
    let head = header_row.into_inner().map_err(ApiError::internal)?;
    let ranges: Vec<Range<usize>> = (0..ids.len())
        .step_by(CHUNK)
        .map(|from| from..(from + CHUNK).min(ids.len()))
        .collect();
    let rows = futures::stream::iter(ranges)
        .map(move |range| chunk(state.clone(), workspace_id.clone(), ids.clone(), range))
        .buffered(READ_AHEAD)
        .map(|read| match read {
            Ok(bytes) => Ok(Bytes::from(bytes)),
            // The head is sent already: cutting the body tells the client the file is broken, rather
            // than a short file that looks whole. The cause was logged where it became an `ApiError`.
            Err(_) => Err(std::io::Error::other("reading the programs failed")),
        });
    let body = futures::stream::once(async move { Ok(Bytes::from(head)) }).chain(rows);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"programs.csv\"",
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_that_a_spreadsheet_would_run_is_quoted_out() {
        assert_eq!(text_cell(Some("=HYPERLINK(\"x\")")), "'=HYPERLINK(\"x\")");
        assert_eq!(text_cell(Some("-10% promo")), "'-10% promo");
        assert_eq!(text_cell(Some("Spring, push")), "Spring, push");
        assert_eq!(text_cell(None), "");
    }
}
