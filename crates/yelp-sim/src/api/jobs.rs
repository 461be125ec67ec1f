//! `GET /v1/reseller/status/{job_id}` (§4.8).

use axum::Json;
use axum::extract::{Path, State};
use serde_json::Value;

use crate::error::ApiError;
use crate::state::SimState;

/// The job's receipt; unknown or expired ids give 500 `JOB_NOT_FOUND`, as Yelp does.
pub(crate) async fn status(
    State(state): State<SimState>,
    Path(job_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state
        .with_world(|w| w.job(&job_id).map(|job| job.receipt()))
        .map(Json)
        .ok_or(ApiError::JobNotFound(job_id))
}
