//! The workspace's audit log, for admins: `GET /api/audit?action=&actor=&since=&until=&offset=&limit=`
//! and the same as CSV at `GET /api/audit.csv`.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};

use super::csv_export::text_cell;
use crate::store::{AuditAction, AuditEntry, AuditFilter};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::Params;

/// Entries a CSV file holds at most.
const CSV_ROWS: u32 = 100_000;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/audit", get(entries))
        .route("/api/audit.csv", get(csv_file))
}

/// A day (`YYYY-MM-DD`, its start) or a time (RFC 3339), as unix ms.
fn time(params: &Params, name: &str) -> ApiResult<Option<i64>> {
    let Some(text) = params.get(name) else {
        return Ok(None);
    };
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis()));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| Some(t.timestamp_millis()))
        .map_err(|_| {
            ApiError::field(
                name,
                format!("{name} must be a day (YYYY-MM-DD) or a time in ISO 8601"),
            )
        })
}

fn filter(params: &Params, largest: u32) -> ApiResult<AuditFilter> {
    params.only(&["action", "actor", "since", "until", "offset", "limit"])?;
    let action = match params.get("action") {
        None => None,
        Some(name) => Some(AuditAction::parse(name).ok_or_else(|| {
            let known: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
            ApiError::field(
                "action",
                format!("action must be one of {}", known.join(", ")),
            )
        })?),
    };
    Ok(AuditFilter {
        action,
        actor: params.get("actor").map(str::to_owned),
        since: time(params, "since")?,
        until: time(params, "until")?,
        offset: u32::try_from(
            params
                .number("offset", 0..=u64::from(u32::MAX))?
                .unwrap_or(0),
        )
        .unwrap_or(0),
        limit: u32::try_from(
            params
                .number("limit", 1..=u64::from(largest))?
                .unwrap_or(100),
        )
        .unwrap_or(100),
    })
}

fn iso(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
}

fn entry_json(e: &AuditEntry) -> Value {
    json!({
        "id": e.id, "at": iso(e.at), "actor": e.actor, "action": e.action, "target": e.target,
        "detail": e.detail, "address": e.address, "user_agent": e.user_agent,
    })
}

/// `GET /api/audit`: newest first, `{"total", "offset", "limit", "entries"}`.
async fn entries(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> ApiResult<Json<Value>> {
    user.require_admin()?;
    let filter = filter(&params, 500)?;
    let (entries, total) = state
        .store
        .audit_entries(user.workspace_id(), &filter)
        .await?;
    Ok(Json(json!({
        "total": total, "offset": filter.offset, "limit": filter.limit,
        "entries": entries.iter().map(entry_json).collect::<Vec<_>>(),
    })))
}

/// `GET /api/audit.csv`: the same filters, up to 100,000 entries.
async fn csv_file(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> ApiResult<Response> {
    user.require_admin()?;
    let mut filter = filter(&params, CSV_ROWS)?;
    if params.get("limit").is_none() {
        filter.limit = CSV_ROWS;
    }
    let (entries, _) = state
        .store
        .audit_entries(user.workspace_id(), &filter)
        .await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "at",
        "actor",
        "action",
        "target",
        "detail",
        "address",
        "user_agent",
    ])
    .map_err(ApiError::internal)?;
    for e in &entries {
        out.write_record([
            iso(e.at),
            text_cell(e.actor.as_deref()),
            e.action.clone(),
            text_cell(e.target.as_deref()),
            text_cell(e.detail.as_deref()),
            e.address.clone().unwrap_or_default(),
            text_cell(e.user_agent.as_deref()),
        ])
        .map_err(ApiError::internal)?;
    }
    let body = out.into_inner().map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}
