//! Business info (contract §13): `GET /v1/business_info/{business_ids}`.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::Value;

use crate::business_info::{answer, parse_ids};
use crate::error::ApiError;
use crate::state::SimState;

/// Up to 200 comma-separated ids → the known businesses, and an `errors` entry per unknown id.
pub(crate) async fn show(
    State(state): State<SimState>,
    Path(business_ids): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let ids = parse_ids(&business_ids)?;
    Ok(Json(
        state.with_world(|w| answer(&ids, |id| w.business(id))),
    ))
}
