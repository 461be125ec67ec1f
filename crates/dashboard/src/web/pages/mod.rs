//! The dashboard's HTML pages: server-rendered with askama (escaped, checked when compiled), one module per
//! page, each with its `router()`. Small scripts of our own (in `assets/`) make the live parts live; lists,
//! filters and forms are plain links and forms, so pages work without JavaScript where they can.
//!
//! Pages sign in with the session cookie only (not HTTP Basic, which browsers replay on their own), and
//! every form that changes something carries the session's CSRF token in a `csrf_token` field.

mod assets;
mod create;
mod edit;
pub(crate) mod filters;
mod jobs;
mod login;
mod program_form;
mod program_status;
mod programs;
mod settings;
mod tracker;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

pub use assets::{Assets, assets};

use super::AppState;
use super::auth::{changes_state, cookie_session, same};
use super::error::{ApiError, PageError, PageResult};
use super::extract::refuse_control;
use crate::store::User;

/// Largest form body accepted (the program form is well under a kilobyte).
const FORM_LIMIT: usize = 64 * 1024;

/// Where a signed-in visitor lands by default.
pub const HOME: &str = "/programs";

/// Every page route and the assets.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to(HOME) }))
        .merge(assets::router())
        .merge(login::router())
        .merge(programs::router())
        .merge(create::router())
        .merge(edit::router())
        .merge(program_status::router())
        .merge(jobs::router())
        .merge(settings::router())
}

/// A page to send. Every page goes out through here: rendered to a string, sent as `text/html`; a template
/// that fails to render is logged and answered with a plain 500.
pub struct Page<T>(pub T);

impl<T: Template> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        match self.0.render() {
            Ok(html) => Html(html).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "a page failed to render");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on our side; it has been logged.",
                )
                    .into_response()
            }
        }
    }
}

/// What the shared layout shows: who is signed in, the token for forms and scripts, the asset URLs.
pub struct Layout {
    /// The signed-in user; `None` on the sign-in and error pages.
    pub user: Option<LayoutUser>,
    /// The session's CSRF token (empty when signed out): forms send it as `csrf_token`, scripts as
    /// `X-CSRF-Token` from `<meta name="csrf-token">`.
    pub csrf_token: String,
    /// The nav entry of this page (`programs`, `create`, `jobs`, `settings`).
    pub section: &'static str,
    /// The content-hashed asset URLs.
    pub assets: &'static Assets,
}

/// The signed-in user as the layout shows them.
pub struct LayoutUser {
    /// Their name.
    pub username: String,
    /// admin, operator or viewer.
    pub role: &'static str,
    /// Their workspace's name.
    pub workspace: String,
    /// Whether they may sync and change programs.
    pub can_operate: bool,
    /// Whether they administer the workspace.
    pub is_admin: bool,
}

impl Layout {
    /// A layout without a user (sign-in and error pages).
    pub fn signed_out() -> Self {
        Self {
            user: None,
            csrf_token: String::new(),
            section: "",
            assets: assets(),
        }
    }

    /// Whether the user may change things: every control that does carries `data-change` and is shown only
    /// when this is true.
    pub fn can_operate(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.can_operate)
    }

    /// Whether the user administers the workspace.
    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.is_admin)
    }
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

impl PageUser {
    /// The layout of a page of `section` for this user.
    pub async fn layout(&self, state: &AppState, section: &'static str) -> PageResult<Layout> {
        let workspace = state.store.workspace(&self.user.workspace_id).await?;
        Ok(Layout {
            user: Some(LayoutUser {
                username: self.user.username.clone(),
                role: self.user.role.as_str(),
                workspace: workspace.name,
                can_operate: self.user.role.can_operate(),
                is_admin: self.user.role.can_admin(),
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
        let (parts, body) = request.into_parts();
        let Some(session) = cookie_session(state, &parts.headers).await? else {
            return Err(PageError::SignIn {
                next: referer_path(&parts.headers).unwrap_or_else(|| HOME.to_owned()),
            });
        };
        let bytes =
            axum::body::to_bytes(body, FORM_LIMIT)
                .await
                .map_err(|_| ApiError::BadRequest {
                    field: None,
                    message: "The form is too large.".into(),
                })?;
        let fields = FormFields::parse(&bytes)?;
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

/// The fields of a posted form, in order (a name may repeat).
#[derive(Debug, Default)]
pub struct FormFields(Vec<(String, String)>);

impl FormFields {
    /// Reads an `application/x-www-form-urlencoded` body; a control character in a field (but a password)
    /// is a 400 naming it, as [`refuse_control`] says.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let fields: Vec<(String, String)> =
            url::form_urlencoded::parse(body).into_owned().collect();
        for (name, value) in &fields {
            if !name.ends_with("password") {
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
}

/// `next` if it is a path on this site (`/…`, not `//host` or `/\host`, which browsers read as another
/// site); otherwise the home page. Where sign-in sends a visitor, so never anywhere else.
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.starts_with("/login")
                && path.len() <= 2048
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => HOME.to_owned(),
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

/// The sign-in page's URL, coming back to `next` after.
pub fn login_url(next: &str) -> String {
    let next = local_path(Some(next));
    format!("/login?next={}", url_part(&next))
}

/// A 303 to a path of ours. A location that cannot be a header (it never should: callers encode what
/// they put in it) goes home rather than failing.
pub fn see_other(location: &str) -> Response {
    let value = HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static(HOME));
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(header::LOCATION, value);
    response
}

/// Text made safe to put in a URL's path segment or query value.
pub fn url_part(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    title: &'static str,
    message: String,
}

/// An error as an HTML page with its status.
pub fn error_page(status: StatusCode, message: String) -> Response {
    let page = ErrorPage {
        layout: Layout::signed_out(),
        status: status.as_u16(),
        title: status.canonical_reason().unwrap_or("Error"),
        message,
    };
    (status, Page(page)).into_response()
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
