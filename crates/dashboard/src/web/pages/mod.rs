//! The dashboard's HTML pages: server-rendered with askama (escaped, checked when compiled), one module per
//! page, each with its `router()`. Small scripts of our own (in `assets/`) make the live parts live; lists,
//! filters and forms are plain links and forms, so pages work without JavaScript where they can.
//!
//! Pages sign in with the session cookie only (not HTTP Basic, which browsers replay on their own), and
//! every form that changes something carries the session's CSRF token in a `csrf_token` field.

mod businesses;
mod change_sets;
mod create;
mod edit;
pub(crate) mod filters;
mod history;
mod jobs;
mod login;
mod program_features;
mod program_form;
mod program_status;
mod programs;
mod reports;
mod schedules;
mod settings;
mod tracker;

use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};

pub use crate::web::assets::{Assets, assets};
pub use crate::web::view::{HOME, Layout, LayoutUser, Page, local_path, login_url, url_part};

use super::AppState;
use super::auth::{changes_state, cookie_session, same};
use super::error::{ApiError, PageError, PageResult};
use super::extract::refuse_control;
use crate::store::{User, now_ms};

/// Largest form body accepted (the program form is well under a kilobyte).
const FORM_LIMIT: usize = 64 * 1024;

/// Every page route and the assets.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to(HOME) }))
        .merge(crate::web::assets::router())
        .merge(login::router())
        .merge(programs::router())
        .merge(businesses::router())
        .merge(create::router())
        .merge(edit::router())
        .merge(program_status::router())
        .merge(program_features::router())
        .merge(jobs::router())
        .merge(history::router())
        .merge(reports::router())
        .merge(change_sets::router())
        .merge(schedules::router())
        .merge(settings::router())
        // Forms, whatever the rest of the server takes: [`FormFields`] refuses a larger one by name.
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
}

/// The signed-in user of a page request, from the session cookie. A visitor who is not signed in is sent to
/// the sign-in page and back. Only for reading requests: a form that changes something comes through
/// [`PageForm`], which checks its CSRF token.
pub struct PageUser {
    /// The user, with their role as it is now.
    pub user: User,
    /// The session's CSRF token.
    pub csrf_token: String,
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if changes_state(&parts.method) {
            return Err(ApiError::Forbidden(
                "Pages change things only through their forms.".into(),
            )
            .into());
        }
        match cookie_session(state, &parts.headers).await? {
            Some(session) => Ok(Self {
                user: session.user,
                csrf_token: session.csrf_token,
            }),
            None => Err(PageError::SignIn {
                next: parts
                    .uri
                    .path_and_query()
                    .map_or(HOME, |p| p.as_str())
                    .to_owned(),
            }),
        }
    }
}

/// How long a missed scheduled change is announced on every page: a week.
const MISSED_SHOWN_MS: i64 = 7 * 24 * 60 * 60 * 1000;

impl PageUser {
    /// The layout of a page of `section` for this user.
    pub async fn layout(&self, state: &AppState, section: &'static str) -> PageResult<Layout> {
        let workspace = state.store.workspace(&self.user.workspace_id).await?;
        let missed_schedules = state
            .store
            .missed_schedules_since(&self.user.workspace_id, now_ms() - MISSED_SHOWN_MS)
            .await?;
        Ok(Layout {
            user: Some(LayoutUser {
                username: self.user.username.clone(),
                role: self.user.role.as_str(),
                workspace: workspace.name,
                can_operate: self.user.role.can_operate(),
                is_admin: self.user.role.can_admin(),
                missed_schedules,
                time_zone: workspace.time_zone,
            }),
            csrf_token: self.csrf_token.clone(),
            section,
            assets: assets(),
        })
    }

    /// The user's workspace: everything a page reads or changes is scoped to it.
    pub fn workspace_id(&self) -> &str {
        &self.user.workspace_id
    }

    /// 403 unless the user may sync and change programs.
    pub fn require_operator(&self) -> PageResult<()> {
        Ok(super::auth::require_operator(&self.user)?)
    }

    /// 403 unless the user administers the workspace.
    pub fn require_admin(&self) -> PageResult<()> {
        Ok(super::auth::require_admin(&self.user)?)
    }
}

/// A form a page posted, with its signed-in user. Its `csrf_token` field must be the session's: a form
/// from anywhere else, or from an ended session, is refused.
pub struct PageForm {
    /// Who posted it.
    pub user: PageUser,
    /// Its fields.
    pub fields: FormFields,
}

impl FromRequest<AppState> for PageForm {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        // The session first: a form posted after its session ended goes to sign in, whatever it holds.
        let Some(session) = cookie_session(state, request.headers()).await? else {
            return Err(PageError::SignIn {
                next: referer_path(request.headers()).unwrap_or_else(|| HOME.to_owned()),
            });
        };
        let fields = FormFields::from_request(request, state).await?;
        if !same(fields.text("csrf_token"), &session.csrf_token) {
            return Err(ApiError::Forbidden(
                "This form is out of date or did not come from this dashboard: reload the page and try again."
                    .into(),
            )
            .into());
        }
        Ok(Self {
            user: PageUser {
                user: session.user,
                csrf_token: session.csrf_token,
            },
            fields,
        })
    }
}

/// The pages' textareas: their values may hold line breaks (read as `\n`), and no other control character.
const MULTI_LINE_FIELDS: [&str; 5] = [
    "blocked_keywords",
    "csv",
    "locations",
    "custom_text",
    "description",
];

impl PageForm {
    /// The live program `program_id` of the poster's workspace, for a change it asks: 403 unless they
    /// may change programs, 404 unless the workspace has it.
    pub async fn program_to_change(
        &self,
        state: &AppState,
        program_id: &str,
    ) -> PageResult<crate::store::StoredProgram> {
        self.user.require_operator()?;
        Ok(state
            .jobs
            .program(self.user.workspace_id(), program_id)
            .await?)
    }
}

/// The fields of a posted form, in order (a name may repeat).
///
/// Decoded by `axum::Form` into name–value pairs rather than into a struct per form: pages read a name
/// that repeats (checkboxes of one name, [`FormFields::all`]), which serde_urlencoded cannot collect into
/// a struct's `Vec` field, and every field, its name too, passes the control-character check here once
/// rather than in each handler.
#[derive(Debug, Default)]
pub struct FormFields(Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for FormFields {
    type Rejection = ApiError;

    /// An `application/x-www-form-urlencoded` body within the pages' body limit (`FORM_LIMIT`, set on
    /// their router); any other body is a 400 that says what is wrong.
    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Form::<Vec<(String, String)>>::from_request(request, state).await {
            Ok(Form(fields)) => Self::checked(fields),
            Err(rejection) => Err(ApiError::BadRequest {
                field: None,
                message: if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    "The form is too large.".into()
                } else {
                    rejection.body_text()
                },
            }),
        }
    }
}

impl FormFields {
    /// Reads an `application/x-www-form-urlencoded` body at hand, as the extractor does.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        Self::checked(url::form_urlencoded::parse(body).into_owned().collect())
    }

    /// The decoded fields, once checked: a control character in a field (but a password) is a 400 naming
    /// it, as [`refuse_control`] says; a textarea's line breaks are read as `\n`.
    fn checked(mut fields: Vec<(String, String)>) -> Result<Self, ApiError> {
        for (name, value) in &mut fields {
            refuse_control("field name", name)?;
            if MULTI_LINE_FIELDS.contains(&name.as_str()) {
                // Browsers send a textarea's line breaks as CR LF.
                *value = value.replace("\r\n", "\n").replace('\r', "\n");
                value
                    .split('\n')
                    .try_for_each(|line| refuse_control(name, line))?;
            } else if !name.ends_with("password") {
                refuse_control(name, value)?;
            }
        }
        Ok(Self(fields))
    }

    /// The first value of `name`, if sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, or "" when not sent.
    pub fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// Whether `name` was sent (a checked checkbox).
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every value of `name`, in order (checkboxes of one name).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// The path (and query) of the `Referer`, when it is one of ours: where to come back to after signing in
/// when a form was posted with an ended session.
fn referer_path(headers: &HeaderMap) -> Option<String> {
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let url = url::Url::parse(referer).ok()?;
    let same_host = url.host_str().is_some_and(|h| {
        let with_port = url.port().map_or(h.to_owned(), |p| format!("{h}:{p}"));
        with_port == host || h == host
    });
    if !same_host {
        return None;
    }
    let mut path = url.path().to_owned();
    if let Some(query) = url.query() {
        path.push('?');
        path.push_str(query);
    }
    Some(local_path(Some(&path)))
}

/// A refusal the user can act on, to show on the page again, or the error as it is when it is ours (a 5xx
/// page that says nothing internal).
pub(super) fn refusal(e: impl Into<ApiError>) -> Result<ApiError, PageError> {
    let e = e.into();
    if e.is_internal() {
        Err(e.into())
    } else {
        Ok(e)
    }
}

/// A 303 to a path of ours. A location that cannot be a header (it never should: callers encode what
/// they put in it) goes home rather than failing.
pub fn see_other(location: &str) -> Response {
    let value = HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static(HOME));
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(header::LOCATION, value);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path(Some("/jobs?days=7")), "/jobs?days=7");
        for foreign in [
            "//evil.com",
            "https://evil.com/",
            "/\\evil.com",
            "evil.com",
            "/login?next=/x",
            "",
        ] {
            assert_eq!(local_path(Some(foreign)), HOME, "{foreign}");
        }
        assert_eq!(local_path(None), HOME);
    }

    #[test]
    fn the_sign_in_url_carries_the_wanted_page_encoded() {
        assert_eq!(
            login_url("/programs?status=PAUSED&page=2"),
            "/login?next=%2Fprograms%3Fstatus%3DPAUSED%26page%3D2"
        );
        assert_eq!(login_url("//evil.com"), "/login?next=%2Fprograms");
    }
}
