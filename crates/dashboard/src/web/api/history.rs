//! Program history: `GET /api/reseller/programs/{id}/history`, `GET /api/reseller/history` (filters:
//! `program_id`, `business_id`, `field`, `source`, `user`, `job_id`, `since`, `until`) and the same as CSV at
//! `GET /api/reseller/history.csv`. Newest first; pages go back with `before` (the `next_before` of the page
//! before), so a deep page costs what the first does.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::csv_export::text_cell;
use super::iso;
use crate::history::{change_words, source_words};
use crate::store::{HistoryEntry, HistoryField, HistoryFilter};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{Params, PathParam};
use crate::web::params::history_filter;

/// Entries a CSV file holds at most.
const CSV_ROWS: u32 = 100_000;
/// Entries a page holds at most.
const PAGE_ROWS: u32 = 500;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/reseller/programs/{id}/history", get(of_program))
        .route("/api/reseller/history", get(of_workspace))
        .route("/api/reseller/history.csv", get(csv_file))
}

/// One entry as JSON: values canonical (cents, Yelp's codes) beside the change in words.
pub(crate) fn entry_json(e: &HistoryEntry, names: &HashMap<String, String>) -> Value {
    json!({
        "id": e.id, "at": iso(Some(e.at)), "program_id": e.program_id, "business_id": e.business_id,
        "business_name": e.business_id.as_ref().and_then(|b| names.get(b)),
        "kind": e.kind, "field": e.field, "old_value": e.old_value, "new_value": e.new_value,
        "change": change_words(e), "source": e.source, "by": source_words(e), "user": e.actor,
        "job_id": e.job_id, "change_set_id": e.change_set_id, "schedule_id": e.schedule_id,
        "run_id": e.run_id,
    })
}

/// The names of the entries' businesses.
async fn business_names(
    state: &AppState,
    workspace_id: &str,
    entries: &[HistoryEntry],
) -> ApiResult<HashMap<String, String>> {
    let ids: Vec<&str> = entries
        .iter()
        .filter_map(|e| e.business_id.as_deref())
        .collect();
    let profiles = state.store.business_profiles_of(workspace_id, &ids).await?;
    Ok(profiles
        .into_iter()
        .filter_map(|(id, p)| p.name.map(|n| (id, n)))
        .collect())
}

async fn page(state: &AppState, user: &CurrentUser, filter: &HistoryFilter) -> ApiResult<Value> {
    let ws = user.workspace_id();
    let (entries, more) = state.store.history(ws, filter).await?;
    let names = business_names(state, ws, &entries).await?;
    let next = if more {
        entries.last().map(HistoryEntry::cursor)
    } else {
        None
    };
    Ok(json!({
        "entries": entries.iter().map(|e| entry_json(e, &names)).collect::<Vec<_>>(),
        "has_more": more, "next_before": next, "limit": filter.limit,
    }))
}

/// `GET /api/reseller/programs/{id}/history`: one program's entries (a removed program's too); 404 for a
/// program the workspace neither has nor has a history of.
async fn of_program(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(program_id): PathParam,
    params: Params,
) -> ApiResult<Json<Value>> {
    let mut filter = history_filter(&params, PAGE_ROWS)?;
    filter.program_id = Some(program_id.clone());
    let body = page(&state, &user, &filter).await?;
    let empty = body["entries"].as_array().is_none_or(Vec::is_empty);
    if empty
        && state
            .store
            .program(user.workspace_id(), &program_id)
            .await?
            .is_none()
    {
        return Err(ApiError::NotFound(
            "This workspace has no such program".into(),
        ));
    }
    Ok(Json(body))
}

/// `GET /api/reseller/history`: the workspace's entries.
async fn of_workspace(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> ApiResult<Json<Value>> {
    let filter = history_filter(&params, PAGE_ROWS)?;
    Ok(Json(page(&state, &user, &filter).await?))
}

/// `GET /api/reseller/history.csv`: the same filters, up to 100,000 entries, money in dollars.
async fn csv_file(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> ApiResult<Response> {
    let mut filter = history_filter(&params, CSV_ROWS)?;
    if params.get("limit").is_none() {
        filter.limit = CSV_ROWS;
    }
    let ws = user.workspace_id();
    let (entries, _) = state.store.history(ws, &filter).await?;
    let names = business_names(&state, ws, &entries).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "at",
        "program_id",
        "business_id",
        "business_name",
        "change",
        "field",
        "old_value",
        "new_value",
        "source",
        "user",
        "job_id",
        "change_set_id",
        "schedule_id",
        "run_id",
    ])
    .map_err(ApiError::internal)?;
    for e in &entries {
        let field = e.field.as_deref().and_then(HistoryField::parse);
        let value = |v: &Option<String>| match field {
            Some(f) if v.is_some() => crate::history::value_words(f, v.as_deref()),
            _ => String::new(),
        };
        let name = e.business_id.as_ref().and_then(|b| names.get(b));
        out.write_record([
            iso(Some(e.at))
                .as_str()
                .map(str::to_owned)
                .unwrap_or_default(),
            e.program_id.clone(),
            e.business_id.clone().unwrap_or_default(),
            text_cell(name.map(String::as_str)),
            text_cell(Some(&change_words(e))),
            e.field.clone().unwrap_or_default(),
            text_cell(Some(&value(&e.old_value))),
            text_cell(Some(&value(&e.new_value))),
            e.source.clone(),
            text_cell(e.actor.as_deref()),
            e.job_id.clone().unwrap_or_default(),
            e.change_set_id.clone().unwrap_or_default(),
            e.schedule_id.clone().unwrap_or_default(),
            e.run_id.clone().unwrap_or_default(),
        ])
        .map_err(ApiError::internal)?;
    }
    let body = out.into_inner().map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"history.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}
