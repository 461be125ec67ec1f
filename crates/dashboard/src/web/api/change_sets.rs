//! Bulk changes: `/api/reseller/change-sets` stages an operation over selected programs (or every program
//! a list filter matches), checks it, posts it, follows it live (SSE), retries what failed and undoes it;
//! `…/import` stages a CSV file of changes. Viewers read; operators and admins change.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::sync::broadcast;
use yelp_partner_api::Cents;

use super::selection::{self, refuse_unknown};
use super::{event_stream, iso};
use crate::change_sets::operation::{Change, Operation, Snapshot};
use crate::change_sets::{ChangeSet, ChangeSetSummary, Counts, Item, ItemStatus, Resolution};
use crate::jobs::draft::Loose;
use crate::store::{ChangeSetState, ExportRow};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{ApiJson, Params, PathParam, PathParams};

/// The largest CSV file an import takes: 10,000 rows of every column, with room to spare.
const MAX_IMPORT_BYTES: usize = 8 * 1024 * 1024;

/// Between looks at a change set for a live stream, when no change is heard of.
const STREAM_RECHECK: Duration = Duration::from_secs(1);

/// How long a stream lets changes gather before it looks again: a change set of a thousand items is read
/// whole at each look.
const COALESCE: Duration = Duration::from_millis(200);

/// Failures an event lists at most.
const FAILURES_SHOWN: usize = 20;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/reseller/change-sets", get(list).post(stage))
        .route(
            "/api/reseller/change-sets/import",
            post(import).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
        .route("/api/reseller/change-sets/{id}", get(one).delete(remove))
        .route("/api/reseller/change-sets/{id}/check", post(check))
        .route("/api/reseller/change-sets/{id}/post", post(post_set))
        .route("/api/reseller/change-sets/{id}/events", get(events))
        .route(
            "/api/reseller/change-sets/{id}/retry-failed",
            post(retry_failed),
        )
        .route("/api/reseller/change-sets/{id}/undo", post(undo))
        .route(
            "/api/reseller/change-sets/{id}/items/{position}/{resolution}",
            post(resolve),
        )
}

fn dollars(cents: Option<i64>) -> Value {
    cents.map_or(Value::Null, |c| json!(Cents::new(c).to_dollars_string()))
}

/// The counts, by the API's names.
pub(crate) fn counts_json(c: &Counts) -> Value {
    json!({
        "items": c.items, "changes": c.changes, "no_ops": c.no_ops, "conflicts": c.conflicts,
        "refused": c.refused, "dropped": c.dropped, "pending": c.pending, "completed": c.completed,
        "failed": c.failed,
    })
}

fn before_json(before: &Snapshot) -> Value {
    json!({
        "budget": dollars(before.budget_cents),
        "is_autobid": before.is_autobid,
        "max_bid": dollars(before.max_bid_cents),
        "end_date": before.end_date,
        "paused": before.paused,
        "program_status": before.program_status,
    })
}

fn after_json(change: Option<&Change>) -> Value {
    match change {
        None => Value::Null,
        Some(Change::Pause) => json!({"paused": true}),
        Some(Change::Resume) => json!({"paused": false}),
        Some(Change::End) => json!({"ended": true}),
        Some(Change::Feature { features }) => json!({"features": features}),
        Some(Change::Edit(fields)) => {
            let mut after = Map::new();
            if let Some(b) = fields.budget_cents {
                after.insert("budget".into(), dollars(Some(b)));
            }
            if let Some(a) = fields.is_autobid {
                after.insert("is_autobid".into(), json!(a));
            }
            if let Some(b) = fields.max_bid_cents {
                after.insert("max_bid".into(), dollars(Some(b)));
            }
            if let Some(d) = fields.end_date {
                after.insert("end_date".into(), json!(d.to_string()));
            }
            Value::Object(after)
        }
    }
}

fn action(change: Option<&Change>) -> Value {
    match change {
        None => Value::Null,
        Some(Change::Edit(_)) => json!("edit"),
        Some(Change::Pause) => json!("pause"),
        Some(Change::Resume) => json!("resume"),
        Some(Change::End) => json!("end"),
        Some(Change::Feature { .. }) => json!("set_feature"),
    }
}

fn item_json(item: &Item, label: Option<&ExportRow>) -> Value {
    json!({
        "position": item.position,
        "program_id": item.program_id,
        "program_type": label.map(|l| l.program_type.as_str()),
        "custom_name": label.and_then(|l| l.custom_name.as_deref()),
        "business_id": label.and_then(|l| l.business_id.as_deref()),
        "business_name": label.and_then(|l| l.business_name.as_deref()),
        "action": action(item.change.as_ref()),
        "change": item.describe(),
        "before": before_json(&item.before),
        "after": after_json(item.change.as_ref()),
        "status": item.status.as_str(),
        "message": item.message,
        "job_id": item.job_id,
    })
}

fn record_json(summary: &ChangeSetSummary) -> Value {
    let r = &summary.record;
    let operation = r
        .operation
        .as_deref()
        .and_then(|o| serde_json::from_str::<crate::change_sets::operation::Operation>(o).ok());
    json!({
        "id": r.id,
        "state": r.state.as_str(),
        "description": r.description,
        "operation": operation.map(|o| o.to_api()),
        "origin": r.origin_id.as_ref().map(|id| json!({"id": id, "kind": r.origin_kind})),
        "author": r.username,
        "created_at": iso(Some(r.created_at)),
        "updated_at": iso(Some(r.updated_at)),
        "checked_at": iso(r.checked_at),
        "posted_at": iso(r.posted_at),
        "finished_at": iso(r.finished_at),
        "counts": counts_json(&summary.counts),
    })
}

/// A change set with its items, named as the programs list names them.
pub(crate) async fn change_set_json(state: &AppState, set: &ChangeSet) -> ApiResult<Value> {
    let labels = state
        .store
        .item_labels(
            &set.record.workspace_id,
            set.items.iter().map(|i| i.program_id.as_str()),
        )
        .await?;
    let mut body = record_json(&ChangeSetSummary {
        record: set.record.clone(),
        counts: set.counts,
    });
    body["items"] = set
        .items
        .iter()
        .map(|item| item_json(item, labels.get(&item.program_id)))
        .collect();
    Ok(body)
}

/// What a bulk body selects and does: the fields of a new change set's body, which a schedule's shares.
#[derive(Deserialize)]
pub(super) struct Selection {
    program_ids: Option<Loose<Vec<String>>>,
    filter: Option<Loose<Map<String, Value>>>,
    operation: Option<Value>,
}

impl Selection {
    /// The programs selected and the operation, checked, once the body's `unknown` fields are refused
    /// (`what` says what the body is and takes): the checks in the order both bodies make them.
    pub(super) async fn read(
        self,
        state: &AppState,
        user: &CurrentUser,
        unknown: &HashMap<String, Value>,
        what: &str,
    ) -> ApiResult<(Vec<String>, Operation)> {
        refuse_unknown(unknown, what)?;
        let ids = selection::program_ids(state, user, self.program_ids, self.filter).await?;
        Ok((ids, selection::operation(self.operation)?))
    }
}

/// The body of a new change set.
#[derive(Deserialize)]
#[serde(expecting = "a JSON object with program_ids or filter, and operation")]
struct StageBody {
    #[serde(flatten)]
    selection: Selection,
    /// Declared after the selection, whose fields it does not see.
    #[serde(flatten)]
    unknown: HashMap<String, Value>,
}

/// `POST /api/reseller/change-sets`: a draft with every item staged (before → after); 201.
async fn stage(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<StageBody>,
) -> ApiResult<Response> {
    user.require_operator()?;
    let (ids, operation) = body
        .selection
        .read(
            &state,
            &user,
            &body.unknown,
            "a change set: give program_ids or filter, and operation",
        )
        .await?;
    let set = state.change_sets.stage(&user.user, ids, operation).await?;
    let body = change_set_json(&state, &set).await?;
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `POST /api/reseller/change-sets/import` (text/csv): a draft of the file's changes; 201. A bad row is
/// refused with its line and column, and nothing is staged.
async fn import(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    file: Bytes,
) -> ApiResult<Response> {
    user.require_operator()?;
    let csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/csv") || t.starts_with("text/plain"));
    if !csv {
        return Err(ApiError::field(
            "content-type",
            "Send the file as text/csv: program_id and the columns to change",
        ));
    }
    let set = state.change_sets.import(&user.user, &file).await?;
    let body = change_set_json(&state, &set).await?;
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /api/reseller/change-sets?limit=`: the latest change sets with their counts.
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> ApiResult<Json<Value>> {
    params.only(&["limit"])?;
    let limit = params.number("limit", 1..=500)?.unwrap_or(100);
    let sets = state
        .change_sets
        .list(user.workspace_id(), u32::try_from(limit).unwrap_or(100))
        .await?;
    let items: Vec<Value> = sets.iter().map(record_json).collect();
    Ok(Json(json!({"total": items.len(), "change_sets": items})))
}

/// `GET /api/reseller/change-sets/{id}`: with every item.
async fn one(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(id): PathParam,
) -> ApiResult<Json<Value>> {
    let set = state.change_sets.get(user.workspace_id(), &id).await?;
    Ok(Json(change_set_json(&state, &set).await?))
}

/// `POST /api/reseller/change-sets/{id}/check`.
async fn check(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(id): PathParam,
) -> ApiResult<Json<Value>> {
    user.require_operator()?;
    let set = state.change_sets.check(&user.user, &id).await?;
    Ok(Json(change_set_json(&state, &set).await?))
}

/// `POST /api/reseller/change-sets/{id}/post`: 202; its events follow it.
async fn post_set(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(id): PathParam,
) -> ApiResult<Response> {
    user.require_operator()?;
    let set = state.change_sets.post(&user.user, &id).await?;
    let body = change_set_json(&state, &set).await?;
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// `POST /api/reseller/change-sets/{id}/retry-failed`: a new draft of the failed items; 201.
async fn retry_failed(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(id): PathParam,
) -> ApiResult<Response> {
    user.require_operator()?;
    let set = state.change_sets.retry_failed(&user.user, &id).await?;
    let body = change_set_json(&state, &set).await?;
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `POST /api/reseller/change-sets/{id}/undo`: a new draft back to the values before; 201.
async fn undo(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(id): PathParam,
) -> ApiResult<Response> {
    user.require_operator()?;
    let set = state.change_sets.undo(&user.user, &id).await?;
    let body = change_set_json(&state, &set).await?;
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `DELETE /api/reseller/change-sets/{id}`: a change set never posted; 204.
async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(id): PathParam,
) -> ApiResult<StatusCode> {
    user.require_operator()?;
    state.change_sets.delete(&user.user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/reseller/change-sets/{id}/items/{position}/confirm|drop`.
async fn resolve(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParams(parts): PathParams,
) -> ApiResult<Json<Value>> {
    user.require_operator()?;
    let [id, position, resolution] = parts.as_slice() else {
        return Err(ApiError::NotFound("no such page or endpoint".into()));
    };
    let position: i64 = position
        .parse()
        .map_err(|_| ApiError::field("position", "position must be an item's number"))?;
    let resolution = match resolution.as_str() {
        "confirm" => Resolution::Confirm,
        "drop" => Resolution::Drop,
        _ => {
            return Err(ApiError::field(
                "resolution",
                "An item is confirmed (…/confirm) or dropped (…/drop)",
            ));
        }
    };
    let set = state
        .change_sets
        .resolve(&user.user, id, position, resolution)
        .await?;
    Ok(Json(change_set_json(&state, &set).await?))
}

/// The event of a change set's progress: its state, counts and first failures.
fn progress_json(set: &ChangeSet) -> Value {
    let failures: Vec<Value> = set
        .items
        .iter()
        .filter(|i| i.status == ItemStatus::Failed)
        .take(FAILURES_SHOWN)
        .map(|i| json!({"position": i.position, "program_id": i.program_id, "message": i.message}))
        .collect();
    json!({
        "id": set.record.id,
        "state": set.record.state.as_str(),
        "counts": counts_json(&set.counts),
        "failures": failures,
    })
}

/// What a change set's event stream carries between events.
struct Watch {
    state: AppState,
    workspace_id: String,
    id: String,
    sets: broadcast::Receiver<String>,
    jobs: broadcast::Receiver<String>,
    last: Option<Value>,
    seq: u64,
    done: bool,
}

impl Watch {
    /// The next event: the progress when it differs from the last one sent.
    async fn next(mut self) -> Option<(Event, Self)> {
        if self.done {
            return None;
        }
        loop {
            let set = self
                .state
                .change_sets
                .get(&self.workspace_id, &self.id)
                .await
                .ok()?;
            let progress = progress_json(&set);
            if self.last.as_ref() != Some(&progress) {
                self.seq += 1;
                self.done = set.record.state == ChangeSetState::Done;
                let event = Event::default()
                    .id(self.seq.to_string())
                    .data(progress.to_string());
                self.last = Some(progress);
                return Some((event, self));
            }
            // Woken by any change set or job of this process; another instance's is seen on the next look.
            let (sets, jobs) = (&mut self.sets, &mut self.jobs);
            let _ = tokio::time::timeout(STREAM_RECHECK, async move {
                tokio::select! {
                    _ = sets.recv() => {}
                    _ = jobs.recv() => {}
                }
            })
            .await;
            // A batch ends many jobs in a burst: one look after it rather than one a job.
            tokio::time::sleep(COALESCE).await;
        }
    }
}

/// `GET /api/reseller/change-sets/{id}/events`: the progress now (so that a stream resumed after a
/// break starts whole), then an event at each change, closed once the change set is done.
async fn events(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(id): PathParam,
) -> ApiResult<Response> {
    // Subscribed before the first read, so that no change falls between the two.
    let sets = state.change_sets.subscribe();
    let jobs = state.change_sets.subscribe_jobs();
    let set = state.change_sets.get(user.workspace_id(), &id).await?;
    let watch = Watch {
        state: state.clone(),
        workspace_id: set.record.workspace_id,
        id: set.record.id,
        sets,
        jobs,
        last: None,
        seq: 0,
        done: false,
    };
    Ok(event_stream(futures::stream::unfold(watch, Watch::next)))
}
