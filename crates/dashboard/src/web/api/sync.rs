//! Syncs: start or join one and stream its events (SSE), resume a stream, list runs.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::{Stream, StreamExt, stream};
use serde_json::{Value, json};

use super::event_stream;
use crate::store::{RunStatus, SyncRun};
use crate::sync::{RunSubscription, SequencedEvent, SyncEvent, Trigger};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{Params, PathParam};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/reseller/programs/sync-stream", post(sync_stream))
        .route("/api/reseller/programs/sync", post(sync_and_wait))
        .route("/api/sync/runs", get(runs))
        .route("/api/sync/runs/{run_id}/events", get(run_events))
}

fn trigger(params: &Params) -> ApiResult<Trigger> {
    match params.get("trigger") {
        None | Some("api") => Ok(Trigger::Api),
        Some("page") => Ok(Trigger::Page),
        Some("button") => Ok(Trigger::Button),
        Some(_) => Err(ApiError::field(
            "trigger",
            "trigger must be page, button or api",
        )),
    }
}

/// `text/event-stream` of sequenced events, each with its `id:`; ends after the final event.
fn sse(events: impl Stream<Item = SequencedEvent> + Send + 'static) -> Response {
    event_stream(events.map(|e| {
        let data = serde_json::to_string(&e.event).unwrap_or_default();
        Event::default().id(e.seq.to_string()).data(data)
    }))
}

/// Starts a sync of the user's workspace, or joins the one running (operators and admins only).
async fn start_or_join(
    state: &AppState,
    user: &CurrentUser,
    params: &Params,
) -> ApiResult<RunSubscription> {
    user.require_operator()?;
    let trigger = trigger(params)?;
    let client = state.yelp_client(user.workspace_id()).await?;
    Ok(state.engine.sync(
        user.workspace_id(),
        client,
        trigger,
        Some(&user.user.username),
    ))
}

/// `POST /api/reseller/programs/sync-stream`: starts a sync of the user's workspace, or joins the one
/// running, and streams its events from the start.
async fn sync_stream(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> ApiResult<Response> {
    Ok(sse(start_or_join(&state, &user, &params)
        .await?
        .into_stream()))
}

/// `POST /api/reseller/programs/sync`: runs (or joins) a sync and answers its final event.
async fn sync_and_wait(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> ApiResult<Response> {
    let last = start_or_join(&state, &user, &params)
        .await?
        .finish()
        .await
        .ok_or_else(|| ApiError::internal("the sync run ended without a final event"))?;
    let status = match last {
        SyncEvent::Complete { .. } => StatusCode::OK,
        _ => StatusCode::BAD_GATEWAY,
    };
    Ok((status, Json(last)).into_response())
}

fn run_json(run: &SyncRun) -> Value {
    json!({
        "run_id": run.id, "trigger": run.trigger_kind, "requested_by": run.requested_by,
        "started_at": run.started_at, "finished_at": run.finished_at, "status": run.status,
        "total_api": run.total_api, "added": run.added, "updated": run.updated, "unchanged": run.unchanged,
        "removed": run.removed, "pages": run.pages, "pages_failed": run.pages_failed, "error": run.error,
        "settled_window": run.settled_window, "page_size": run.page_size,
        "businesses_updated": run.businesses_updated,
    })
}

/// `GET /api/sync/runs`: the workspace's recent runs, newest first.
async fn runs(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> ApiResult<Json<Value>> {
    let limit = params.number("limit", 1..=200)?.unwrap_or(20);
    let runs = state
        .store
        .recent_sync_runs(user.workspace_id(), limit as u32)
        .await?;
    Ok(Json(
        json!({"runs": runs.iter().map(run_json).collect::<Vec<_>>()}),
    ))
}

/// `GET /api/sync/runs/{run_id}/events`: a run's events for `EventSource`, resumable with `Last-Event-ID`.
/// A running run streams live (followed through its stored events when another instance runs it); a
/// finished one replays what was kept and ends.
async fn run_events(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(run_id): PathParam,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if run_id.len() > 64 || !run_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ApiError::field("run_id", "not a run id"));
    }
    let run = state
        .store
        .sync_run(user.workspace_id(), &run_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("sync run {run_id} not found")))?;
    let not_an_id = || ApiError::field("Last-Event-ID", "Last-Event-ID must be an event id");
    let last_seen = match headers
        .get("last-event-id")
        .map(|v| v.to_str().map(str::trim))
    {
        None | Some(Ok("")) => 0,
        Some(Ok(v)) => v.parse::<u64>().map_err(|_| not_an_id())?,
        Some(Err(_)) => return Err(not_an_id()),
    };
    if let Some(mut live) = state.engine.subscribe_run(&run_id) {
        live.resume_after(last_seen);
        return Ok(sse(live.into_stream()));
    }
    if run.status == RunStatus::Running {
        // Running in another instance: follow it through the events it stores.
        let mut followed = state.engine.follow_run(user.workspace_id(), &run_id);
        followed.resume_after(last_seen);
        return Ok(sse(followed.into_stream()));
    }
    let kept = state.store.sync_events(&run_id, last_seen).await?;
    let events: Vec<SequencedEvent> = kept
        .into_iter()
        .filter_map(|(seq, json)| {
            serde_json::from_str(&json)
                .ok()
                .map(|event| SequencedEvent { seq, event })
        })
        .collect();
    Ok(sse(stream::iter(events)))
}
