//! `GET|POST|DELETE /program/{program_id}/features/v1` (§4.9).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde_json::Value;

use crate::error::ApiError;
use crate::features::{self, FeatureError};
use crate::model::Program;
use crate::state::SimState;

fn program_not_found() -> ApiError {
    ApiError::NotFound {
        id: "PROGRAM_NOT_FOUND",
        description: "Supplied program ID does not exist.".into(),
    }
}

impl From<FeatureError> for ApiError {
    fn from(error: FeatureError) -> Self {
        ApiError::BadRequest {
            id: error.id,
            description: error.description,
        }
    }
}

fn parse_body(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest {
        id: "INVALID_FEATURE_DATA",
        description: format!("The body is not valid JSON: {e}."),
    })
}

/// Checks, then changes the program with `change`; answers the GET shape.
fn write(
    state: &SimState,
    program_id: &str,
    body: &Bytes,
    change: impl FnOnce(&mut Program, &Value) -> Result<(), FeatureError>,
) -> Result<Json<Value>, ApiError> {
    let body = parse_body(body);
    state.with_world(|w| {
        let program = w
            .programs
            .get_mut(program_id)
            .ok_or_else(program_not_found)?;
        change(program, &body?)?;
        Ok(Json(features::view(program)))
    })
}

/// Every available feature with its current (or default) fields.
pub(crate) async fn show(
    State(state): State<SimState>,
    Path(program_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state
        .with_world(|w| w.programs.get(&program_id).map(features::view))
        .map(Json)
        .ok_or_else(program_not_found)
}

/// Merges `{"features": {TYPE: {...}}}` and switches those types on.
pub(crate) async fn update(
    State(state): State<SimState>,
    Path(program_id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    write(&state, &program_id, &body, |program, body| {
        let updates = features::parse_update(program, body)?;
        features::apply_update(program, updates);
        Ok(())
    })
}

/// Resets `{"features": [TYPE, ...]}` to defaults and switches them off.
pub(crate) async fn remove(
    State(state): State<SimState>,
    Path(program_id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    write(&state, &program_id, &body, |program, body| {
        let types = features::parse_delete(program, body)?;
        features::apply_delete(program, &types);
        Ok(())
    })
}
