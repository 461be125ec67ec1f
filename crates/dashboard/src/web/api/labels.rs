//! A program's own label (the replaced system's "custom name"): ours to keep, as Yelp has no field for a
//! program's name. Setting it changes nothing at Yelp.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::store::{custom_name, now_ms};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{ApiJson, PathParam};

pub(super) fn router() -> Router<AppState> {
    Router::new().route(
        "/api/reseller/program/{program_id}/custom-name",
        post(set_custom_name),
    )
}

/// The body: the new label; empty or `null` clears it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomNameBody {
    custom_name: Option<String>,
}

/// `POST /api/reseller/program/{program_id}/custom-name` `{"custom_name"}` (operator or admin): sets or
/// clears the label; 404 unless the workspace has the program.
async fn set_custom_name(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(program_id): PathParam,
    ApiJson(body): ApiJson<CustomNameBody>,
) -> ApiResult<Json<Value>> {
    user.require_operator()?;
    // Any id the mirror holds, as the other program paths take it.
    let program = state
        .store
        .program_by_given_id(user.workspace_id(), &program_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("program {program_id} not found")))?;
    let id = program.program_id;
    let name = custom_name(body.custom_name.as_deref())?;
    state
        .store
        .set_custom_name(
            user.workspace_id(),
            id.as_str(),
            name.as_deref(),
            &user.user.username,
            now_ms(),
        )
        .await?;
    Ok(Json(json!({
        "program_id": id.as_str(),
        "custom_name": name,
        "message": "Custom name updated successfully",
    })))
}
