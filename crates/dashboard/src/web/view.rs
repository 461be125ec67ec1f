//! What every HTML response shares, whichever module answers it (pages, and the error module's HTML face):
//! the layout around a page, the one path a page is sent through, and the site's own URLs.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::web::assets::{Assets, assets};

/// Where a signed-in visitor lands by default.
pub const HOME: &str = "/programs";

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

/// The sign-in page's URL, coming back to `next` after.
pub fn login_url(next: &str) -> String {
    let next = local_path(Some(next));
    format!("/login?next={}", url_part(&next))
}

/// Text made safe to put in a URL's path segment or query value.
pub fn url_part(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
