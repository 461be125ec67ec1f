//! Workspace settings, for admins, as JSON: the Yelp partner credentials (write-only: the password is
//! never answered), a test of the connection to Yelp, the workspace's time zone (which every member may
//! read: it says how times without an offset are read), and the workspace's users and their roles. The work
//! is done by [`crate::web::settings`], which the settings page calls too.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::web::AppState;
use crate::web::auth::{CurrentUser, Origin};
use crate::web::error::ApiResult;
use crate::web::extract::{ApiJson, PathParam};
use crate::web::settings::{
    CredentialsInput, ReportingInput, change_role, credentials_view, reporting_view,
    save_credentials, save_reporting, save_time_zone, test_connection,
};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/settings/credentials",
            get(credentials).post(set_credentials),
        )
        .route("/api/settings/test-connection", post(test))
        .route(
            "/api/settings/reporting",
            get(reporting).post(set_reporting),
        )
        .route(
            "/api/settings/workspace",
            get(workspace).post(set_workspace),
        )
        .route("/api/settings/users", get(users))
        .route("/api/settings/users/{user_id}/role", post(set_role))
}

/// `GET /api/settings/credentials`: the base URL, username and whether a password is stored.
async fn credentials(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<Value>> {
    user.require_admin()?;
    let view = credentials_view(&state, user.workspace_id()).await?;
    Ok(Json(json!({
        "yelp_base_url": view.yelp_base_url,
        "yelp_username": view.yelp_username,
        "password_set": view.password_set,
    })))
}

/// `GET /api/settings/reporting`: the Reporting API's base URL and whether a key is stored.
async fn reporting(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<Value>> {
    user.require_admin()?;
    Ok(Json(reporting_view(&state, user.workspace_id()).await?))
}

/// `POST /api/settings/reporting`: `{"reporting_key", "reporting_base_url"?}`; the key is never answered.
async fn set_reporting(
    State(state): State<AppState>,
    origin: Origin,
    user: CurrentUser,
    ApiJson(input): ApiJson<ReportingInput>,
) -> ApiResult<Json<Value>> {
    user.require_admin()?;
    save_reporting(&state, &user.user, &origin, input).await?;
    reporting(State(state), user).await
}

/// `POST /api/settings/credentials`: `{"yelp_base_url", "yelp_username", "yelp_password"}`, each optional.
async fn set_credentials(
    State(state): State<AppState>,
    origin: Origin,
    user: CurrentUser,
    ApiJson(input): ApiJson<CredentialsInput>,
) -> ApiResult<Json<Value>> {
    user.require_admin()?;
    save_credentials(&state, &user.user, &origin, input).await?;
    credentials(State(state), user).await
}

/// `GET /api/settings/workspace`: `{"id", "name", "time_zone"}`, for every member of the workspace.
async fn workspace(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<Value>> {
    let workspace = state.store.workspace(user.workspace_id()).await?;
    Ok(Json(json!({
        "id": workspace.id,
        "name": workspace.name,
        "time_zone": workspace.time_zone.name(),
    })))
}

/// A change of the workspace's settings.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkspaceChange {
    /// An IANA time zone name.
    time_zone: String,
}

/// `POST /api/settings/workspace` `{"time_zone"}`, for admins: the workspace as `GET` answers it.
async fn set_workspace(
    State(state): State<AppState>,
    origin: Origin,
    user: CurrentUser,
    ApiJson(change): ApiJson<WorkspaceChange>,
) -> ApiResult<Json<Value>> {
    user.require_admin()?;
    save_time_zone(&state, &user.user, &origin, &change.time_zone).await?;
    workspace(State(state), user).await
}

/// `POST /api/settings/test-connection`: `{"ok", "message"}`.
async fn test(
    State(state): State<AppState>,
    origin: Origin,
    user: CurrentUser,
) -> ApiResult<Json<Value>> {
    user.require_admin()?;
    let result = test_connection(&state, &user.user, &origin).await;
    Ok(Json(json!({"ok": result.ok, "message": result.message})))
}

/// `GET /api/settings/users`: the workspace's users and their roles.
async fn users(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<Value>> {
    user.require_admin()?;
    let users = state.store.workspace_users(user.workspace_id()).await?;
    let items: Vec<Value> = users
        .iter()
        .map(|u| json!({"id": u.id, "username": u.username, "role": u.role.as_str(), "created_at": u.created_at}))
        .collect();
    Ok(Json(json!({"users": items})))
}

#[derive(Deserialize)]
struct RoleChange {
    role: String,
}

/// `POST /api/settings/users/{user_id}/role`: `{"role": "admin" | "operator" | "viewer"}`.
async fn set_role(
    State(state): State<AppState>,
    origin: Origin,
    user: CurrentUser,
    PathParam(user_id): PathParam,
    ApiJson(change): ApiJson<RoleChange>,
) -> ApiResult<Json<Value>> {
    user.require_admin()?;
    change_role(&state, &user.user, &origin, &user_id, &change.role).await?;
    Ok(Json(json!({"id": user_id, "role": change.role})))
}
