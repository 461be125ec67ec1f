//! A program's features and portfolio projects, under the replaced system's paths with Yelp's bodies
//! (`GET|POST|DELETE /api/program/{id}/features/v1`, `/api/program/{id}/portfolio/…`). Viewers read;
//! operators and admins change. Every path answers 404 for a program of another workspace.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use yelp_partner_api::ProjectDetails;

use crate::features::{FeatureChange, PhotoDraft, parse_changes};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{ApiJson, PathParam, PathParams};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/program/{program_id}/features/v1",
            get(features).post(change).delete(remove),
        )
        .route(
            "/api/program/{program_id}/portfolio/v1",
            axum::routing::post(new_project),
        )
        .route(
            "/api/program/{program_id}/portfolio/{project_id}/v1",
            get(project).put(update_project).delete(delete_project),
        )
        .route(
            "/api/program/{program_id}/portfolio/{project_id}/photos/v1",
            get(photos).post(add_photo),
        )
        .route(
            "/api/program/{program_id}/portfolio/{project_id}/photos/{photo_id}/v1",
            delete(delete_photo),
        )
}

/// `{"features": {...}}` as Yelp holds them, whether Yelp answered the write itself, and the types whose
/// change it does not show (after an unanswered write, which is never sent again).
fn change_body(change: FeatureChange) -> Json<Value> {
    let mut body = change.features.to_json();
    body["answered"] = json!(change.answered);
    body["not_applied"] = json!(change.not_applied);
    Json(body)
}

/// `GET /api/program/{program_id}/features/v1`: Yelp's answer, `{"features": {TYPE: {...}}}`.
async fn features(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(program_id): PathParam,
) -> ApiResult<Json<Value>> {
    let features = state.features.features(&user.user, &program_id).await?;
    Ok(Json(features.to_json()))
}

/// `POST /api/program/{program_id}/features/v1` `{"features": {TYPE: {...}}}`: checked against Yelp's
/// rules (a 400 naming `TYPE.field` for each broken one, with nothing sent), then sent once.
async fn change(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(program_id): PathParam,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    user.require_operator()?;
    let changes = parse_changes(body)?;
    let change = state
        .features
        .change(&user.user, &program_id, &changes)
        .await?;
    Ok(change_body(change))
}

/// The body of a feature delete.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RemoveBody {
    /// The types to turn off.
    features: Vec<String>,
}

/// `DELETE /api/program/{program_id}/features/v1` `{"features": [TYPE, ...]}`.
async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(program_id): PathParam,
    ApiJson(body): ApiJson<RemoveBody>,
) -> ApiResult<Json<Value>> {
    user.require_operator()?;
    let change = state
        .features
        .remove(&user.user, &program_id, &body.features)
        .await?;
    Ok(change_body(change))
}

/// The path's `(program_id, project_id)` and, for a photo, its id.
fn ids(params: &[String]) -> ApiResult<(&str, &str, Option<&str>)> {
    match params {
        [program, project] => Ok((program, project, None)),
        [program, project, photo] => Ok((program, project, Some(photo))),
        _ => Err(ApiError::internal("a portfolio route without its ids")),
    }
}

/// `POST /api/program/{program_id}/portfolio/v1`: a new draft project, `{"project_id"}`.
async fn new_project(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(program_id): PathParam,
) -> ApiResult<Response> {
    user.require_operator()?;
    let id = state.features.new_project(&user.user, &program_id).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"project_id": id.as_str()})),
    )
        .into_response())
}

/// `GET /api/program/{program_id}/portfolio/{project_id}/v1`.
async fn project(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParams(params): PathParams,
) -> ApiResult<Json<Value>> {
    let (program, project, _) = ids(&params)?;
    let found = state.features.project(&user.user, program, project).await?;
    Ok(Json(json!(found)))
}

/// `PUT /api/program/{program_id}/portfolio/{project_id}/v1` with the fields to change.
async fn update_project(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParams(params): PathParams,
    ApiJson(details): ApiJson<ProjectDetails>,
) -> ApiResult<Json<Value>> {
    user.require_operator()?;
    let (program, project, _) = ids(&params)?;
    let updated = state
        .features
        .update_project(&user.user, program, project, &details)
        .await?;
    Ok(Json(json!(updated)))
}

/// `DELETE /api/program/{program_id}/portfolio/{project_id}/v1`.
async fn delete_project(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParams(params): PathParams,
) -> ApiResult<Json<Value>> {
    user.require_operator()?;
    let (program, project, _) = ids(&params)?;
    state
        .features
        .delete_project(&user.user, program, project)
        .await?;
    Ok(Json(json!({"project_id": project, "deleted": true})))
}

/// `GET /api/program/{program_id}/portfolio/{project_id}/photos/v1`: the project's photos.
async fn photos(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParams(params): PathParams,
) -> ApiResult<Json<Value>> {
    let (program, project, _) = ids(&params)?;
    let photos = state.features.photos(&user.user, program, project).await?;
    Ok(Json(json!(photos)))
}

/// `POST /api/program/{program_id}/portfolio/{project_id}/photos/v1`
/// `{photo_url | biz_photo_id, is_before_photo, caption}`: `{"photo_id"}`.
async fn add_photo(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParams(params): PathParams,
    ApiJson(draft): ApiJson<PhotoDraft>,
) -> ApiResult<Response> {
    user.require_operator()?;
    let (program, project, _) = ids(&params)?;
    let id = state
        .features
        .add_photo(&user.user, program, project, draft)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({"photo_id": id.as_str()}))).into_response())
}

/// `DELETE /api/program/{program_id}/portfolio/{project_id}/photos/{photo_id}/v1`.
async fn delete_photo(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParams(params): PathParams,
) -> ApiResult<Json<Value>> {
    user.require_operator()?;
    let (program, project, photo) = ids(&params)?;
    let photo = photo.ok_or_else(|| ApiError::internal("a photo route without its id"))?;
    state
        .features
        .delete_photo(&user.user, program, project, photo)
        .await?;
    Ok(Json(json!({"photo_id": photo, "deleted": true})))
}
