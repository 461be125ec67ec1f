//! Scheduled changes: `/api/reseller/schedules` (a change-set operation over programs at a time, with an
//! optional pause window), and the replaced system's scheduled pauses and budget updates beside it.
//! Viewers read; operators and admins schedule, move and cancel.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use yelp_partner_api::Cents;

use super::change_sets::{Selection, counts_json};
use super::iso;
use crate::change_sets::operation::{EditChange, Operation};
use crate::change_sets::{Schedule, TimeTextError, schedule_time};
use crate::jobs::draft::{Dollars, Loose};
use crate::store::WorkspaceZone;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{ApiJson, Params, PathParam};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/reseller/schedules", get(list).post(create))
        .route(
            "/api/reseller/schedules/{id}",
            get(one).patch(reschedule).delete(cancel),
        )
        .route(
            "/api/program/{program_id}/schedule-pause/v1",
            post(schedule_pause),
        )
        .route("/api/reseller/scheduled-pauses", get(scheduled_pauses))
        .route(
            "/api/reseller/scheduled-pause/{id}/cancel",
            post(cancel_old),
        )
        .route(
            "/api/program/{program_id}/schedule-budget-update/v1",
            post(schedule_budget_update),
        )
        .route(
            "/api/reseller/scheduled-budget-updates",
            get(scheduled_budget_updates),
        )
        .route(
            "/api/reseller/scheduled-budget-update/{id}/cancel",
            post(cancel_old),
        )
}

/// A time as sent: ISO 8601 with an offset or `Z`, or without one (read in the workspace's time zone,
/// `zone`; a time it skips is refused saying so). The API answers in UTC whatever the zone.
fn parse_time(field: &str, value: Option<&Value>, zone: WorkspaceZone) -> ApiResult<i64> {
    let example = "2030-01-31T09:00:00Z, or without an offset";
    let text = value.and_then(Value::as_str).ok_or_else(|| {
        ApiError::field(
            field,
            format!(
                "{field} is required: a time in ISO 8601, such as {example} in the workspace's time \
                 zone ({zone})"
            ),
        )
    })?;
    schedule_time(zone, text).map_err(|e| match e {
        TimeTextError::NotATime => ApiError::field(
            field,
            format!(
                "{field} must be a time in ISO 8601, such as {example} in the workspace's time zone \
                 ({zone})"
            ),
        ),
        TimeTextError::Skipped(gap) => ApiError::field(field, format!("{field}: {gap}")),
    })
}

/// An optional time: absent or `null` is none.
fn parse_optional_time(
    field: &str,
    value: Option<&Value>,
    zone: WorkspaceZone,
) -> ApiResult<Option<i64>> {
    match value.filter(|v| !v.is_null()) {
        Some(v) => parse_time(field, Some(v), zone).map(Some),
        None => Ok(None),
    }
}

/// The time zone of the user's workspace, in which times without an offset are read.
async fn zone_of(state: &AppState, user: &CurrentUser) -> ApiResult<WorkspaceZone> {
    Ok(state.store.workspace_zone(user.workspace_id()).await?)
}

/// A schedule as the API shows it, with the replaced system's names beside ours.
fn schedule_json(s: &Schedule, zone: WorkspaceZone) -> Value {
    let r = &s.record;
    json!({
        "time_zone": zone.name(),
        "id": r.id,
        "state": r.state.as_str(),
        "status": r.state.as_str().to_uppercase(),
        "description": r.description,
        "at": iso(Some(r.due_at)),
        "scheduled_datetime": iso(Some(r.due_at)),
        "until": s.window_end.as_ref().map(|e| iso(Some(e.due_at))),
        "resume_datetime": s.window_end.as_ref().map(|e| iso(Some(e.due_at))),
        "window_end": s.window_end.as_ref().map(|e| json!({"id": e.id, "state": e.state.as_str()})),
        "window_of": r.window_of,
        "program_ids": s.program_ids,
        "program_id": s.program_ids.first(),
        "change_set_id": r.change_set_id,
        "counts": counts_json(&s.counts),
        "job_ids": s.job_ids,
        "author": r.username,
        "outcome": r.outcome,
        "fired_at": iso(r.fired_at),
        "late_seconds": r.late_ms.map(|ms| ms / 1000),
        "created_at": iso(Some(r.created_at)),
    })
}

/// The body of a new schedule.
#[derive(Deserialize)]
#[serde(expecting = "a JSON object with program_ids or filter, operation and at")]
struct ScheduleBody {
    #[serde(flatten)]
    selection: Selection,
    at: Option<Value>,
    until: Option<Value>,
    /// Declared after the selection, whose fields it does not see.
    #[serde(flatten)]
    unknown: HashMap<String, Value>,
}

/// `POST /api/reseller/schedules`: 201, checked now with the change's rules.
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<ScheduleBody>,
) -> ApiResult<Response> {
    user.require_operator()?;
    let (ids, operation) = body
        .selection
        .read(
            &state,
            &user,
            &body.unknown,
            "a schedule: give program_ids or filter, operation, at and (for a pause window) until",
        )
        .await?;
    let zone = zone_of(&state, &user).await?;
    let at = parse_time("at", body.at.as_ref(), zone)?;
    let until = parse_optional_time("until", body.until.as_ref(), zone)?;
    let schedule = state
        .change_sets
        .schedule(&user.user, ids, operation, at, until)
        .await?;
    Ok((StatusCode::CREATED, Json(schedule_json(&schedule, zone))).into_response())
}

/// `GET /api/reseller/schedules`: upcoming by time, then past ones newest first.
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> ApiResult<Json<Value>> {
    params.only(&["limit"])?;
    let limit = params.number("limit", 1..=500)?.unwrap_or(200);
    let schedules = state
        .change_sets
        .schedules(user.workspace_id(), u32::try_from(limit).unwrap_or(200))
        .await?;
    let zone = zone_of(&state, &user).await?;
    let items: Vec<Value> = schedules.iter().map(|s| schedule_json(s, zone)).collect();
    Ok(Json(
        json!({"total": items.len(), "count": items.len(), "time_zone": zone.name(), "schedules": items}),
    ))
}

/// `GET /api/reseller/schedules/{id}`.
async fn one(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(id): PathParam,
) -> ApiResult<Json<Value>> {
    let schedule = state
        .change_sets
        .schedule_view(user.workspace_id(), &id)
        .await?;
    Ok(Json(schedule_json(
        &schedule,
        zone_of(&state, &user).await?,
    )))
}

/// The body of a move.
#[derive(Deserialize)]
#[serde(
    expecting = "a JSON object with the new time, at, and or the new end of a pause window, until"
)]
struct MoveBody {
    at: Option<Value>,
    until: Option<Value>,
}

/// `PATCH /api/reseller/schedules/{id}` `{"at"?, "until"?}`: a new time, and for a pause window a new end,
/// before they fire (the end alone once the pause has fired).
async fn reschedule(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(id): PathParam,
    ApiJson(body): ApiJson<MoveBody>,
) -> ApiResult<Json<Value>> {
    user.require_operator()?;
    let zone = zone_of(&state, &user).await?;
    let until = parse_optional_time("until", body.until.as_ref(), zone)?;
    // `at` may be left out only when `until` moves alone.
    let at = match (body.at.as_ref().filter(|v| !v.is_null()), until) {
        (None, Some(_)) => None,
        (at, _) => Some(parse_time("at", at, zone)?),
    };
    let schedule = state
        .change_sets
        .reschedule(&user.user, &id, at, until)
        .await?;
    Ok(Json(schedule_json(&schedule, zone)))
}

/// `DELETE /api/reseller/schedules/{id}`: cancels it before it fires.
async fn cancel(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(id): PathParam,
) -> ApiResult<Json<Value>> {
    user.require_operator()?;
    let schedule = state.change_sets.cancel_schedule(&user.user, &id).await?;
    Ok(Json(schedule_json(
        &schedule,
        zone_of(&state, &user).await?,
    )))
}

/// `POST /api/reseller/scheduled-pause/{id}/cancel`, `…/scheduled-budget-update/{id}/cancel`.
async fn cancel_old(
    state: State<AppState>,
    user: CurrentUser,
    id: PathParam,
) -> ApiResult<Json<Value>> {
    cancel(state, user, id).await
}

/// The replaced system's `{"scheduled_datetime", "resume_datetime"?}`.
#[derive(Deserialize)]
#[serde(expecting = "a JSON object with scheduled_datetime and, optionally, resume_datetime")]
struct PauseBody {
    scheduled_datetime: Option<Value>,
    resume_datetime: Option<Value>,
}

/// `POST /api/program/{id}/schedule-pause/v1`: a pause at `scheduled_datetime` (and a resume at
/// `resume_datetime`); 201.
async fn schedule_pause(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(program_id): PathParam,
    ApiJson(body): ApiJson<PauseBody>,
) -> ApiResult<Response> {
    user.require_operator()?;
    let zone = zone_of(&state, &user).await?;
    let at = parse_time("scheduled_datetime", body.scheduled_datetime.as_ref(), zone)?;
    let until = parse_optional_time("resume_datetime", body.resume_datetime.as_ref(), zone)?;
    let schedule = state
        .change_sets
        .schedule(&user.user, vec![program_id], Operation::Pause, at, until)
        .await?;
    Ok((StatusCode::CREATED, Json(schedule_json(&schedule, zone))).into_response())
}

/// The replaced system's scheduled budget update.
#[derive(Deserialize)]
#[serde(expecting = "a JSON object with new_budget and scheduled_datetime")]
struct BudgetBody {
    new_budget: Option<Loose<Dollars>>,
    scheduled_datetime: Option<Value>,
    is_autobid: Option<Loose<bool>>,
    max_bid: Option<Loose<Dollars>>,
    pacing_method: Option<Loose<String>>,
}

fn dollars_field(field: &str, value: Option<Loose<Dollars>>) -> ApiResult<Option<i64>> {
    match value {
        None => Ok(None),
        Some(Loose::Given(Dollars(text))) => Cents::parse_dollars(&text)
            .ok()
            .filter(|c| c.get() > 0)
            .map(|c| Some(c.get()))
            .ok_or_else(|| {
                ApiError::field(
                    field,
                    format!("{field} must be an amount in dollars, such as 300.00"),
                )
            }),
        Some(Loose::Other(_)) => Err(ApiError::field(
            field,
            format!("{field} must be an amount in dollars, such as 300.00"),
        )),
    }
}

/// `POST /api/program/{id}/schedule-budget-update/v1`: the budget (and bidding, pacing) at
/// `scheduled_datetime`; 201.
async fn schedule_budget_update(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(program_id): PathParam,
    ApiJson(body): ApiJson<BudgetBody>,
) -> ApiResult<Response> {
    user.require_operator()?;
    let budget_cents = dollars_field("new_budget", body.new_budget)?.ok_or_else(|| {
        ApiError::field(
            "new_budget",
            "new_budget is required: the budget in dollars",
        )
    })?;
    let is_autobid = match body.is_autobid {
        None => None,
        Some(Loose::Given(on)) => Some(on),
        Some(Loose::Other(_)) => {
            return Err(ApiError::field(
                "is_autobid",
                "is_autobid must be true or false",
            ));
        }
    };
    let max_bid_cents = dollars_field("max_bid", body.max_bid)?;
    let pacing_method = match body.pacing_method {
        None => None,
        Some(Loose::Given(p)) if p == "paced" || p == "unpaced" => Some(p),
        Some(_) => {
            return Err(ApiError::field(
                "pacing_method",
                "pacing_method must be paced or unpaced",
            ));
        }
    };
    let zone = zone_of(&state, &user).await?;
    let at = parse_time("scheduled_datetime", body.scheduled_datetime.as_ref(), zone)?;
    let fields = EditChange {
        budget_cents: Some(budget_cents),
        is_autobid,
        max_bid_cents: max_bid_cents.filter(|_| is_autobid != Some(true)),
        end_date: None,
        pacing_method,
        future_budget_date: None,
    };
    let schedule = state
        .change_sets
        .schedule(
            &user.user,
            vec![program_id],
            Operation::Edit { fields },
            at,
            None,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(schedule_json(&schedule, zone))).into_response())
}

/// The workspace's schedules of one kind, under the replaced system's list shape.
async fn old_list(state: &AppState, user: &CurrentUser, kind: &str, key: &str) -> ApiResult<Value> {
    let schedules = state
        .change_sets
        .schedules(user.workspace_id(), 500)
        .await?;
    let zone = zone_of(state, user).await?;
    let items: Vec<Value> = schedules
        .iter()
        .filter(|s| s.record.window_of.is_none() && s.operation_kind.as_deref() == Some(kind))
        .map(|s| schedule_json(s, zone))
        .collect();
    Ok(json!({"count": items.len(), key: items}))
}

/// `GET /api/reseller/scheduled-pauses`.
async fn scheduled_pauses(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        old_list(&state, &user, "pause", "scheduled_pauses").await?,
    ))
}

/// `GET /api/reseller/scheduled-budget-updates`.
async fn scheduled_budget_updates(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        old_list(&state, &user, "edit", "scheduled_budget_updates").await?,
    ))
}
