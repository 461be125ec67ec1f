//! `GET|POST|DELETE /program/{program_id}/features/v1` (§4.9); every POST and DELETE is recorded in the
//! feature log.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde_json::Value;

use crate::error::ApiError;
use crate::features::{self, FeatureError, Refusal};
use crate::state::{SimState, World};

pub(crate) fn program_not_found() -> ApiError {
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

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NoProgram => program_not_found(),
            Refusal::Invalid(error) => error.into(),
        }
    }
}

pub(crate) fn parse_body(body: &Bytes) -> Result<Value, FeatureError> {
    serde_json::from_slice(body)
        .map_err(|e| features::invalid(format!("The body is not valid JSON: {e}.")))
}

/// The type names a body gives, for the log: the keys of a POST's object, the items of a DELETE's array.
fn named_types(body: &Value) -> Vec<String> {
    match body.get("features") {
        Some(Value::Object(features)) => features.keys().cloned().collect(),
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// Checks and makes a write with `change`, records it, and answers the GET shape.
fn write(
    state: &SimState,
    method: &'static str,
    program_id: &str,
    body: &Bytes,
    change: impl FnOnce(&mut World, &str, &Value) -> Result<(), Refusal>,
) -> Result<Json<Value>, ApiError> {
    let body = parse_body(body);
    state.with_world(|w| {
        let types = body.as_ref().map(named_types).unwrap_or_default();
        let result = match &body {
            Ok(body) => change(w, program_id, body),
            // An unknown program is 404 whatever the body.
            Err(_) if !w.programs.contains_key(program_id) => Err(Refusal::NoProgram),
            Err(e) => Err(Refusal::Invalid(e.clone())),
        };
        let outcome = match &result {
            Ok(()) => Ok(()),
            Err(Refusal::NoProgram) => Err((404, "PROGRAM_NOT_FOUND")),
            Err(Refusal::Invalid(e)) => Err((400, e.id)),
        };
        w.feature_log.record(method, program_id, types, outcome);
        result?;
        let program = w.programs.get(program_id).ok_or_else(program_not_found)?;
        Ok(Json(features::view(w, program)))
    })
}

/// Every available feature with its current (or default) fields.
pub(crate) async fn show(
    State(state): State<SimState>,
    Path(program_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state
        .with_world(|w| w.programs.get(&program_id).map(|p| features::view(w, p)))
        .map(Json)
        .ok_or_else(program_not_found)
}

/// Checks `{"features": {TYPE: {...}}}`, writes it and switches those types on.
pub(crate) async fn update(
    State(state): State<SimState>,
    Path(program_id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    write(&state, "POST", &program_id, &body, features::update)
}

/// Resets `{"features": [TYPE, ...]}` to defaults and switches them off.
pub(crate) async fn remove(
    State(state): State<SimState>,
    Path(program_id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    write(&state, "DELETE", &program_id, &body, features::delete)
}
