//! `/settings`, for admins: the workspace's Yelp partner credentials (write-only: the password field is
//! always empty and the stored one is never shown), a test of the connection, the workspace's time zone,
//! and the users and their roles. The forms post here; the work is done by [`crate::web::settings`], as for the API.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::filters::datetime;
use super::{Layout, Page, PageForm, PageUser, see_other};
use crate::store::Role;
use crate::store::WorkspaceZone;
use crate::web::AppState;
use crate::web::auth::Origin;
use crate::web::error::{ApiError, PageResult};
use crate::web::extract::{Params, PathParam};
use crate::web::settings::{
    CredentialsInput, ReportingInput, change_role, credentials_view, reporting_view,
    save_credentials, save_reporting, save_time_zone, test_connection,
};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/settings", get(page))
        .route("/settings/credentials", post(credentials))
        .route("/settings/reporting", post(reporting))
        .route("/settings/test-connection", post(test))
        .route("/settings/time-zone", post(time_zone))
        .route("/settings/users/{user_id}/role", post(role))
}

/// A user of the workspace as the page lists them.
struct UserRow {
    id: String,
    username: String,
    role: &'static str,
    created: String,
    is_self: bool,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    layout: Layout,
    yelp_base_url: String,
    yelp_username: String,
    password_set: bool,
    /// The Reporting API's root.
    reporting_base_url: String,
    /// Whether a reporting key is stored (it is never shown).
    reporting_key_set: bool,
    users: Vec<UserRow>,
    roles: Vec<&'static str>,
    /// The time zone field's value: the stored zone, or what was typed when it was refused.
    time_zone: String,
    /// The zones the field suggests.
    zone_choices: Vec<&'static str>,
    /// Why the time zone typed was refused.
    time_zone_error: Option<String>,
    /// What was just done.
    notice: Option<String>,
    /// Why the last change was refused.
    error: Option<String>,
    /// How the last connection test went: `(ok, message)`.
    test_result: Option<(bool, String)>,
}

/// What the page shows besides the stored settings.
#[derive(Default)]
struct Outcome {
    notice: Option<String>,
    error: Option<String>,
    test_result: Option<(bool, String)>,
    /// A refused time zone: what was typed and why.
    time_zone: Option<(String, String)>,
}

async fn render(
    state: &AppState,
    user: &PageUser,
    status: StatusCode,
    outcome: Outcome,
) -> PageResult<Response> {
    user.require_admin()?;
    let ws = user.workspace_id();
    let credentials = credentials_view(state, ws).await?;
    let reporting = reporting_view(state, ws).await?;
    let users = state
        .store
        .workspace_users(ws)
        .await?
        .into_iter()
        .map(|u| UserRow {
            is_self: u.id == user.user.id,
            role: u.role.as_str(),
            created: datetime(u.created_at),
            id: u.id,
            username: u.username,
        })
        .collect();
    let layout = user.layout(state, "settings").await?;
    let (time_zone, time_zone_error) = match outcome.time_zone {
        Some((typed, why)) => (typed, Some(why)),
        None => (layout.zone_name().to_owned(), None),
    };
    let page = SettingsPage {
        layout,
        time_zone,
        zone_choices: WorkspaceZone::choices(),
        time_zone_error,
        yelp_base_url: credentials.yelp_base_url,
        yelp_username: credentials.yelp_username,
        password_set: credentials.password_set,
        reporting_base_url: reporting["reporting_base_url"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        reporting_key_set: reporting["reporting_key_set"].as_bool().unwrap_or(false),
        users,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        notice: outcome.notice,
        error: outcome.error,
        test_result: outcome.test_result,
    };
    Ok((status, Page(page)).into_response())
}

/// `GET /settings[?saved=credentials|role]`.
async fn page(
    State(state): State<AppState>,
    user: PageUser,
    params: Params,
) -> PageResult<Response> {
    let notice = match params.get("saved") {
        Some("credentials") => Some("The Yelp credentials were saved.".to_owned()),
        Some("reporting") => Some("The Reporting API key was saved.".to_owned()),
        Some("role") => Some("The role was changed.".to_owned()),
        Some("time_zone") => Some("The time zone was saved.".to_owned()),
        _ => None,
    };
    let outcome = Outcome {
        notice,
        ..Outcome::default()
    };
    render(&state, &user, StatusCode::OK, outcome).await
}

/// Shows the page again with why a change was refused; errors that are not the admin's are not.
async fn refused(state: &AppState, user: &PageUser, e: ApiError) -> PageResult<Response> {
    if e.is_internal() {
        return Err(e.into());
    }
    let outcome = Outcome {
        error: Some(e.message()),
        ..Outcome::default()
    };
    render(state, user, e.status(), outcome).await
}

/// `POST /settings/credentials`: `yelp_base_url`, `yelp_username`, `yelp_password` (empty keeps the
/// stored one).
async fn credentials(
    State(state): State<AppState>,
    origin: Origin,
    form: PageForm,
) -> PageResult<Response> {
    form.user.require_admin()?;
    let input = CredentialsInput {
        yelp_base_url: form.fields.get("yelp_base_url").map(str::to_owned),
        yelp_username: form.fields.get("yelp_username").map(str::to_owned),
        yelp_password: form.fields.get("yelp_password").map(str::to_owned),
    };
    match save_credentials(&state, &form.user.user, &origin, input).await {
        Ok(()) => Ok(see_other("/settings?saved=credentials")),
        Err(e) => refused(&state, &form.user, e).await,
    }
}

/// `POST /settings/reporting`: `reporting_base_url`, `reporting_key` (empty keeps the stored one).
async fn reporting(
    State(state): State<AppState>,
    origin: Origin,
    form: PageForm,
) -> PageResult<Response> {
    form.user.require_admin()?;
    let input = ReportingInput {
        reporting_base_url: form.fields.get("reporting_base_url").map(str::to_owned),
        reporting_key: form.fields.get("reporting_key").map(str::to_owned),
    };
    match save_reporting(&state, &form.user.user, &origin, input).await {
        Ok(()) => Ok(see_other("/settings?saved=reporting")),
        Err(e) => refused(&state, &form.user, e).await,
    }
}

/// `POST /settings/test-connection`: asks Yelp for one program with the stored credentials.
async fn test(
    State(state): State<AppState>,
    origin: Origin,
    form: PageForm,
) -> PageResult<Response> {
    form.user.require_admin()?;
    let result = test_connection(&state, &form.user.user, &origin).await;
    let outcome = Outcome {
        test_result: Some((result.ok, result.message)),
        ..Outcome::default()
    };
    render(&state, &form.user, StatusCode::OK, outcome).await
}

/// `POST /settings/time-zone`: `time_zone`, an IANA name; refused, the page again with why beside the
/// field and the name as typed.
async fn time_zone(
    State(state): State<AppState>,
    origin: Origin,
    form: PageForm,
) -> PageResult<Response> {
    form.user.require_admin()?;
    let typed = form.fields.text("time_zone");
    match save_time_zone(&state, &form.user.user, &origin, typed).await {
        Ok(_) => Ok(see_other("/settings?saved=time_zone")),
        Err(e) if !e.is_internal() => {
            let outcome = Outcome {
                time_zone: Some((typed.to_owned(), e.message())),
                ..Outcome::default()
            };
            render(&state, &form.user, e.status(), outcome).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /settings/users/{user_id}/role`: `role`.
async fn role(
    State(state): State<AppState>,
    PathParam(user_id): PathParam,
    origin: Origin,
    form: PageForm,
) -> PageResult<Response> {
    form.user.require_admin()?;
    match change_role(
        &state,
        &form.user.user,
        &origin,
        &user_id,
        form.fields.text("role"),
    )
    .await
    {
        Ok(()) => Ok(see_other("/settings?saved=role")),
        Err(e) => refused(&state, &form.user, e).await,
    }
}
