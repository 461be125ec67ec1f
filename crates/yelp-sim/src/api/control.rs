//! The `/_sim` control API for tests and demos: no auth, no faults, no stats.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::error::SimError;
use crate::feature_log::FeatureWriteRecord;
use crate::model::{Business, Program};
use crate::reporting::{ReportSummary, ReportingPatch};
use crate::spend::AdvancePatch;
use crate::state::{
    AddPrograms, BusinessPatch, FaultsPatch, JobSummary, ProgramPatch, SettingsPatch, SimState,
};

// Typed bodies: serialising 100k programs straight from the structs skips a JSON tree.
#[derive(Serialize)]
struct ProgramsBody {
    programs: Vec<Program>,
}

#[derive(Serialize)]
struct BusinessesBody {
    businesses: Vec<Business>,
}

#[derive(Serialize)]
struct JobsBody {
    jobs: Vec<JobSummary>,
}

#[derive(Serialize)]
struct FeatureWritesBody {
    writes: Vec<FeatureWriteRecord>,
}

#[derive(Serialize)]
struct ReportsBody {
    reports: Vec<ReportSummary>,
}

/// Routes of the control API.
pub(crate) fn routes() -> Router<SimState> {
    Router::new()
        .route("/_sim/programs", get(list_programs).post(add_programs))
        .route(
            "/_sim/programs/{program_id}",
            get(show_program)
                .patch(patch_program)
                .delete(delete_program),
        )
        .route("/_sim/businesses", get(list_businesses))
        .route("/_sim/businesses/{business_id}", patch(patch_business))
        .route("/_sim/faults", get(show_faults).put(put_faults))
        .route("/_sim/settings", get(show_settings).put(put_settings))
        .route("/_sim/jobs", get(list_jobs))
        .route("/_sim/stats", get(show_stats).delete(reset_stats))
        .route(
            "/_sim/feature-writes",
            get(list_feature_writes).delete(clear_feature_writes),
        )
        .route("/_sim/advance", axum::routing::post(advance))
        .route("/_sim/reporting", get(show_reporting).put(put_reporting))
        .route("/_sim/reports", get(list_reports))
}

fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, SimError> {
    serde_json::from_slice(bytes).map_err(|e| SimError::Invalid(format!("invalid JSON body: {e}")))
}

async fn list_programs(State(state): State<SimState>) -> Response {
    Json(ProgramsBody {
        programs: state.programs(),
    })
    .into_response()
}

async fn add_programs(State(state): State<SimState>, bytes: Bytes) -> Result<Response, SimError> {
    let ids = state.add_programs(&body::<AddPrograms>(&bytes)?)?;
    Ok((StatusCode::CREATED, Json(json!({ "program_ids": ids }))).into_response())
}

async fn show_program(
    State(state): State<SimState>,
    Path(program_id): Path<String>,
) -> Result<Response, SimError> {
    let program = state
        .program(&program_id)
        .ok_or_else(|| SimError::NotFound(format!("program {program_id} does not exist")))?;
    Ok(Json(program).into_response())
}

async fn patch_program(
    State(state): State<SimState>,
    Path(program_id): Path<String>,
    bytes: Bytes,
) -> Result<Response, SimError> {
    let program = state.patch_program(&program_id, &body::<ProgramPatch>(&bytes)?)?;
    Ok(Json(program).into_response())
}

async fn delete_program(
    State(state): State<SimState>,
    Path(program_id): Path<String>,
) -> Result<StatusCode, SimError> {
    state.remove_program(&program_id)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_businesses(State(state): State<SimState>) -> Response {
    Json(BusinessesBody {
        businesses: state.businesses(),
    })
    .into_response()
}

async fn patch_business(
    State(state): State<SimState>,
    Path(business_id): Path<String>,
    bytes: Bytes,
) -> Result<Response, SimError> {
    let business = state.patch_business(&business_id, &body::<BusinessPatch>(&bytes)?)?;
    Ok(Json(business).into_response())
}

async fn show_faults(State(state): State<SimState>) -> Response {
    Json(state.faults()).into_response()
}

async fn put_faults(State(state): State<SimState>, bytes: Bytes) -> Result<Response, SimError> {
    Ok(Json(state.set_faults(&body::<FaultsPatch>(&bytes)?)?).into_response())
}

async fn show_settings(State(state): State<SimState>) -> Response {
    Json(state.settings()).into_response()
}

async fn put_settings(State(state): State<SimState>, bytes: Bytes) -> Result<Response, SimError> {
    Ok(Json(state.set_settings(&body::<SettingsPatch>(&bytes)?)?).into_response())
}

async fn list_jobs(State(state): State<SimState>) -> Response {
    Json(JobsBody { jobs: state.jobs() }).into_response()
}

async fn show_stats(State(state): State<SimState>) -> Response {
    Json(state.stats()).into_response()
}

async fn reset_stats(State(state): State<SimState>) -> Response {
    state.reset_stats();
    Json(state.stats()).into_response()
}

async fn list_feature_writes(State(state): State<SimState>) -> Response {
    Json(FeatureWritesBody {
        writes: state.feature_writes(),
    })
    .into_response()
}

async fn advance(State(state): State<SimState>, bytes: Bytes) -> Result<Response, SimError> {
    Ok(Json(state.advance_days(&body::<AdvancePatch>(&bytes)?)?).into_response())
}

async fn show_reporting(State(state): State<SimState>) -> Response {
    Json(state.reporting_settings()).into_response()
}

async fn put_reporting(State(state): State<SimState>, bytes: Bytes) -> Result<Response, SimError> {
    Ok(Json(state.set_reporting(&body::<ReportingPatch>(&bytes)?)?).into_response())
}

async fn list_reports(State(state): State<SimState>) -> Response {
    Json(ReportsBody {
        reports: state.reports(),
    })
    .into_response()
}

async fn clear_feature_writes(State(state): State<SimState>) -> Response {
    state.clear_feature_writes();
    StatusCode::NO_CONTENT.into_response()
}
