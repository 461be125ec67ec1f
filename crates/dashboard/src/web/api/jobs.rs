//! Program operations (create, edit, duplicate, end, pause, resume) as tracked jobs, and reading those
//! jobs: status, live events, the active ones and the history.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use yelp_partner_api::{Cents, FeatureType};

use super::{event_stream, iso};
use crate::change_sets::change_set_of_token;
use crate::jobs::SubmissionToken;
use crate::jobs::asked::Asked;
use crate::jobs::draft::{CreateDraft, DuplicateDraft, EditDraft};
use crate::store::{JobRecord, JobStatus, JobType, StoredProgram, now_ms};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{ApiJson, Params, PathParam};
use crate::web::params::job_filter;

/// The header that carries a submission's one-time token.
pub const SUBMISSION_TOKEN_HEADER: &str = "x-submission-token";

/// Finished jobs stay in the active list this long (ms).
const RECENTLY_FINISHED_MS: i64 = 5 * 60 * 1000;
/// An event stream re-reads its job at least this often, for changes made by another instance.
const STREAM_RECHECK: Duration = Duration::from_secs(1);

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/reseller/program/create", post(create))
        .route("/api/reseller/program/{program_id}/edit", post(edit))
        .route(
            "/api/reseller/program/{program_id}/duplicate",
            post(duplicate),
        )
        .route("/api/reseller/program/{program_id}/end", post(end))
        .route("/api/program/{program_id}/pause/v1", post(pause))
        .route("/api/program/{program_id}/resume/v1", post(resume))
        .route("/api/reseller/status/{job_id}", get(status))
        .route("/api/reseller/jobs/{job_id}/events", get(events))
        .route("/api/reseller/active-jobs", get(active_jobs))
        .route("/api/reseller/job-history", get(job_history))
}

fn accepted(job_id: String) -> Response {
    (StatusCode::ACCEPTED, Json(json!({"job_id": job_id}))).into_response()
}

/// The request's `X-Submission-Token`, if it sent one: a second request with the same token answers the
/// first one's job instead of sending the change to Yelp again.
fn submission_token(headers: &HeaderMap) -> ApiResult<Option<SubmissionToken>> {
    let Some(value) = headers.get(SUBMISSION_TOKEN_HEADER) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::field("submission_token", "submission_token must be ASCII"))?;
    Ok(Some(SubmissionToken::parse(text)?))
}

/// An operation an operator asks for, sent with the request's submission token: 202 with its job.
async fn submit(
    user: &CurrentUser,
    headers: &HeaderMap,
    send: impl AsyncFnOnce(Option<&SubmissionToken>) -> crate::error::Result<String>,
) -> ApiResult<Response> {
    user.require_operator()?;
    let token = submission_token(headers)?;
    Ok(accepted(send(token.as_ref()).await?))
}

/// `POST /api/reseller/program/create`.
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    ApiJson(draft): ApiJson<CreateDraft>,
) -> ApiResult<Response> {
    submit(&user, &headers, async |token| {
        state.jobs.create(&user.user, draft, token).await
    })
    .await
}

/// `POST /api/reseller/program/{program_id}/edit`.
async fn edit(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(program_id): PathParam,
    headers: HeaderMap,
    ApiJson(draft): ApiJson<EditDraft>,
) -> ApiResult<Response> {
    submit(&user, &headers, async |token| {
        state.jobs.edit(&user.user, &program_id, draft, token).await
    })
    .await
}

/// `POST /api/reseller/program/{program_id}/duplicate`.
async fn duplicate(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(program_id): PathParam,
    headers: HeaderMap,
    ApiJson(draft): ApiJson<DuplicateDraft>,
) -> ApiResult<Response> {
    submit(&user, &headers, async |token| {
        state
            .jobs
            .duplicate(&user.user, &program_id, draft, token)
            .await
    })
    .await
}

/// `POST /api/reseller/program/{program_id}/end`.
async fn end(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(program_id): PathParam,
    headers: HeaderMap,
) -> ApiResult<Response> {
    submit(&user, &headers, async |token| {
        state.jobs.end(&user.user, &program_id, token).await
    })
    .await
}

/// Pauses (`pause`) or resumes a CPC program: 202 with its job. The old paths take no submission token.
async fn pause_or_resume(
    state: &AppState,
    user: &CurrentUser,
    program_id: &str,
    pause: bool,
) -> ApiResult<Response> {
    user.require_operator()?;
    Ok(accepted(
        state
            .jobs
            .pause_or_resume(&user.user, program_id, pause, None)
            .await?,
    ))
}

/// `POST /api/program/{program_id}/pause/v1`.
async fn pause(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(program_id): PathParam,
) -> ApiResult<Response> {
    pause_or_resume(&state, &user, &program_id, true).await
}

/// `POST /api/program/{program_id}/resume/v1`.
async fn resume(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(program_id): PathParam,
) -> ApiResult<Response> {
    pause_or_resume(&state, &user, &program_id, false).await
}

/// A job as clients read it (the replaced system's fields, plus progress and ETA). `program` is the job's
/// program as the mirror has it, if any.
async fn job_json(
    state: &AppState,
    job: &JobRecord,
    program: Option<&StoredProgram>,
) -> ApiResult<Value> {
    let progress = state.jobs.progress(job).await?;
    let receipt: Value = job
        .receipt
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or(Value::Null);
    let errors: Value = job
        .errors
        .as_deref()
        .and_then(|e| serde_json::from_str(e).ok())
        .unwrap_or_else(|| json!([]));
    let mut business_results = receipt
        .get("business_results")
        .cloned()
        .unwrap_or_else(|| json!([]));
    // The replaced system's tracker reads the new program's id from the first business result.
    if let (Some(id), Some(first)) = (&job.program_id, business_results.get_mut(0)) {
        if let Some(first) = first.as_object_mut() {
            first.entry("program_id").or_insert_with(|| json!(id));
        }
    }
    let mut value = json!({
        "job_id": job.id,
        "job_type": job.job_type,
        "status": job.status,
        "yelp_status": job.yelp_status,
        "created_at": iso(Some(job.created_at)),
        "completed_at": iso(job.completed_at),
        "program_id": job.program_id,
        "business_id": job.business_id,
        "requested_by": job.username,
        // The change set the job is an item of, by the item's submission token.
        "change_set_id": job.submission_token.as_deref().and_then(change_set_of_token),
        "business_results": business_results,
        "errors": errors,
        "progress": progress.progress,
        "eta_seconds": progress.eta_seconds,
    });
    if job.job_type == JobType::Duplicate {
        // The copies of the source's features to the new program, in their order.
        let steps: Vec<Value> = state
            .store
            .job_steps(&job.id)
            .await?
            .into_iter()
            .map(|step| {
                json!({
                    "feature_type": step.feature_type,
                    "label": FeatureType::from_wire(&step.feature_type).label(),
                    "state": step.state.as_str(),
                    "message": step.message,
                })
            })
            .collect();
        value["feature_copy"] = json!(steps);
    }
    if let Some(obj) = value.as_object_mut() {
        obj.extend(old_job_fields(job, program, receipt));
    }
    Ok(value)
}

/// The replaced system's names for a job's fields, which its job history and trackers read: what the
/// job asked, else the program as the mirror has it; money as a dollar string with two decimals, as its
/// backend's decimal field wrote it.
fn old_job_fields(
    job: &JobRecord,
    program: Option<&StoredProgram>,
    receipt: Value,
) -> serde_json::Map<String, Value> {
    let asked = Asked::of(job);
    let product_type = asked
        .program_name()
        .map(str::to_owned)
        .or_else(|| program.map(|p| p.program_type.clone()));
    let start = asked
        .start()
        .map(|d| d.to_string())
        .or_else(|| program.and_then(|p| p.start_date.clone()));
    let end = asked
        .end()
        .map(|d| d.to_string())
        .or_else(|| program.and_then(|p| p.end_date.clone()));
    let budget = asked
        .budget_cents()
        .or_else(|| program.and_then(|p| p.budget_cents))
        .map(|cents| Cents::new(cents).to_dollars_string());
    let mut fields = serde_json::Map::new();
    for (name, value) in [
        ("partner_program_id", json!(job.program_id)),
        ("product_type", json!(product_type)),
        ("created_date", iso(Some(job.created_at))),
        ("modified_date", iso(Some(job.updated_at))),
        ("budget_amount", json!(budget)),
        ("start_date", json!(start)),
        ("end_date", json!(end)),
        ("status_data", receipt),
    ] {
        fields.insert(name.to_owned(), value);
    }
    fields
}

/// The mirrored programs of these jobs, by id.
async fn programs_of(
    state: &AppState,
    workspace_id: &str,
    jobs: &[JobRecord],
) -> ApiResult<HashMap<String, StoredProgram>> {
    let mut ids: Vec<String> = jobs.iter().filter_map(|j| j.program_id.clone()).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(state
        .store
        .programs_in_order(workspace_id, &ids)
        .await?
        .into_iter()
        .map(|p| (p.program_id.clone(), p))
        .collect())
}

/// One job as clients read it, with its program looked up.
async fn one_job_json(state: &AppState, job: &JobRecord) -> ApiResult<Value> {
    let programs = programs_of(state, &job.workspace_id, std::slice::from_ref(job)).await?;
    let program = job.program_id.as_ref().and_then(|id| programs.get(id));
    job_json(state, job, program).await
}

/// Yelp's job ids are 22 URL-safe base64 characters (and may start with `-`); ours are hex.
fn job_id(raw: &str) -> ApiResult<&str> {
    let ok = !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(raw)
    } else {
        Err(ApiError::field("job_id", "not a job id"))
    }
}

async fn find_job(state: &AppState, user: &CurrentUser, raw: &str) -> ApiResult<JobRecord> {
    let id = job_id(raw)?;
    state
        .store
        .job(user.workspace_id(), id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("job {id} not found")))
}

/// `GET /api/reseller/status/{job_id}`.
async fn status(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(raw): PathParam,
) -> ApiResult<Json<Value>> {
    let job = find_job(&state, &user, &raw).await?;
    Ok(Json(one_job_json(&state, &job).await?))
}

/// What a job's event stream carries between events.
struct Watch {
    state: AppState,
    workspace_id: String,
    job_id: String,
    changes: broadcast::Receiver<String>,
    last_status: Option<JobStatus>,
    seq: u64,
    done: bool,
}

impl Watch {
    /// The next event: the job's state when its status differs from the last one sent.
    async fn next(mut self) -> Option<(Event, Self)> {
        if self.done {
            return None;
        }
        loop {
            let job = self
                .state
                .store
                .job(&self.workspace_id, &self.job_id)
                .await
                .ok()??;
            if self.last_status != Some(job.status) {
                let view = one_job_json(&self.state, &job).await.ok()?;
                self.seq += 1;
                self.done = job.is_finished();
                self.last_status = Some(job.status);
                let event = Event::default()
                    .id(self.seq.to_string())
                    .data(view.to_string());
                return Some((event, self));
            }
            let wanted = self.job_id.clone();
            let changes = &mut self.changes;
            let _ = tokio::time::timeout(STREAM_RECHECK, async move {
                loop {
                    match changes.recv().await {
                        Ok(id) if id == wanted => break,
                        Ok(_) => {}
                        Err(broadcast::error::RecvError::Lagged(_)) => break,
                        Err(broadcast::error::RecvError::Closed) => {
                            std::future::pending::<()>().await;
                        }
                    }
                }
            })
            .await;
        }
    }
}

/// `GET /api/reseller/jobs/{job_id}/events`: the job's state now, then one event per status change,
/// closed after the final one.
async fn events(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(raw): PathParam,
) -> ApiResult<Response> {
    // Subscribed before the first read, so that no change falls between the two.
    let changes = state.jobs.subscribe();
    let job = find_job(&state, &user, &raw).await?;
    let watch = Watch {
        state: state.clone(),
        workspace_id: job.workspace_id,
        job_id: job.id,
        changes,
        last_status: None,
        seq: 0,
        done: false,
    };
    Ok(event_stream(futures::stream::unfold(watch, Watch::next)))
}

/// Jobs as clients read them; `count` is the replaced system's name for `total`.
async fn jobs_json(state: &AppState, workspace_id: &str, jobs: &[JobRecord]) -> ApiResult<Value> {
    let programs = programs_of(state, workspace_id, jobs).await?;
    let mut items = Vec::with_capacity(jobs.len());
    for job in jobs {
        let program = job.program_id.as_ref().and_then(|id| programs.get(id));
        items.push(job_json(state, job, program).await?);
    }
    Ok(json!({"total": items.len(), "count": items.len(), "jobs": items}))
}

/// `GET /api/reseller/active-jobs`: unfinished jobs, and those finished in the last 5 minutes.
async fn active_jobs(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> ApiResult<Json<Value>> {
    params.only(&[])?;
    let jobs = state
        .store
        .active_jobs(user.workspace_id(), now_ms() - RECENTLY_FINISHED_MS)
        .await?;
    Ok(Json(jobs_json(&state, user.workspace_id(), &jobs).await?))
}

/// `GET /api/reseller/job-history?days=7&status=&job_type=&program_id=&limit=`.
async fn job_history(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> ApiResult<Json<Value>> {
    params.only(&["days", "status", "job_type", "program_id", "limit"])?;
    let filter = job_filter(&params)?;
    let jobs = state
        .store
        .job_history(user.workspace_id(), &filter)
        .await?;
    Ok(Json(jobs_json(&state, user.workspace_id(), &jobs).await?))
}
