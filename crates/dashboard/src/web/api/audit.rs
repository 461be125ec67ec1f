//! The workspace's audit log, for admins: `GET /api/audit?action=&actor=&since=&until=&offset=&limit=`
//! and the same as CSV at `GET /api/audit.csv`.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

use super::csv_export::text_cell;
use crate::store::AuditEntry;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::Params;
use crate::web::params::audit_filter;

/// Entries a CSV file holds at most.
const CSV_ROWS: u32 = 100_000;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/audit", get(entries))
        .route("/api/audit.csv", get(csv_file))
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
    let filter = audit_filter(&params, 500)?;
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
    let mut filter = audit_filter(&params, CSV_ROWS)?;
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
