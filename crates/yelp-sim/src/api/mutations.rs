//! Changing programs: create/edit/end submit jobs (§4.4-4.6); pause/resume act at once (§4.7).

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ApiError;
use crate::jobs::Payload;
use crate::model::{PauseStatus, ProgramType};
use crate::params::{CreateRequest, EditRequest, QueryParams};
use crate::state::{SimState, World};

fn invalid_program_id() -> ApiError {
    ApiError::BadRequest {
        id: "INVALID_PROGRAM_ID",
        description: "Supplied program ID does not exist.".into(),
    }
}

/// `{"job_id": ...}` with the configured success status.
fn submitted(world: &World, job_id: String) -> Response {
    let status = StatusCode::from_u16(world.settings.success_status).unwrap_or(StatusCode::OK);
    (status, Json(json!({ "job_id": job_id }))).into_response()
}

/// `POST /v1/reseller/program/create`: query parameters, no body.
pub(crate) async fn create(
    State(state): State<SimState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let request = CreateRequest::parse(&QueryParams::parse(query.as_deref()))?;
    Ok(state.with_world(|w| {
        let requested = request.requested();
        let identifier = request.business_id.clone();
        let job_id = w.submit(Payload::Create(request), identifier, requested);
        submitted(w, job_id)
    }))
}

/// `POST /v1/reseller/program/{program_id}/edit`: a partial update, applied when the job completes.
pub(crate) async fn edit(
    State(state): State<SimState>,
    Path(program_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let parsed = EditRequest::parse(&QueryParams::parse(query.as_deref()));
    state.with_world(|w| {
        let identifier = w
            .programs
            .get(&program_id)
            .map(|p| p.yelp_business_id.clone())
            .ok_or_else(invalid_program_id)?;
        let request = parsed?;
        let requested = request.requested(&program_id);
        let job_id = w.submit(
            Payload::Edit {
                program_id,
                request,
            },
            identifier,
            requested,
        );
        Ok(submitted(w, job_id))
    })
}

/// `POST /v1/reseller/program/{program_id}/end`: no parameters.
pub(crate) async fn end(
    State(state): State<SimState>,
    Path(program_id): Path<String>,
) -> Result<Response, ApiError> {
    state.with_world(|w| {
        let identifier = w
            .programs
            .get(&program_id)
            .map(|p| p.yelp_business_id.clone())
            .ok_or_else(invalid_program_id)?;
        let requested = vec![(
            "program_id",
            crate::params::Requested::Value(program_id.clone()),
        )];
        let job_id = w.submit(Payload::End { program_id }, identifier, requested);
        Ok(submitted(w, job_id))
    })
}

fn change_pause(state: &SimState, program_id: &str, pause: bool) -> Result<Response, ApiError> {
    state.with_world(|w| {
        if !w.settings.pause_resume {
            return Err(ApiError::NoRoute);
        }
        let today = w.today();
        let program = w
            .programs
            .get_mut(program_id)
            .ok_or_else(|| ApiError::NotFound {
                id: "PROGRAM_NOT_FOUND",
                description: "Supplied program ID does not exist.".into(),
            })?;
        if program.program_type != ProgramType::Cpc {
            return Err(ApiError::BadRequest {
                id: "INVALID_PROGRAM_TYPE",
                description: format!(
                    "Only CPC programs can be paused or resumed; this program is {}.",
                    program.program_type
                ),
            });
        }
        if pause && !program.is_running(today) {
            return Err(ApiError::BadRequest {
                id: "INVALID_PROGRAM_STATE",
                description:
                    "Only a running program (active, started, not ended, not paused) can be paused."
                        .into(),
            });
        }
        if !pause && !program.is_paused() {
            return Err(ApiError::BadRequest {
                id: "INVALID_PROGRAM_STATE",
                description: "Only a paused program can be resumed.".into(),
            });
        }
        program.program_pause_status = if pause {
            PauseStatus::Paused
        } else {
            PauseStatus::NotPaused
        };
        Ok((StatusCode::ACCEPTED, Json(json!({}))).into_response())
    })
}

/// `POST /program/{program_id}/pause/v1`.
pub(crate) async fn pause(
    State(state): State<SimState>,
    Path(program_id): Path<String>,
) -> Result<Response, ApiError> {
    change_pause(&state, &program_id, true)
}

/// `POST /program/{program_id}/resume/v1`.
pub(crate) async fn resume(
    State(state): State<SimState>,
    Path(program_id): Path<String>,
) -> Result<Response, ApiError> {
    change_pause(&state, &program_id, false)
}
