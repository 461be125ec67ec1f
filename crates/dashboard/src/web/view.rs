//! What every HTML response shares, whichever module answers it (pages, and the error module's HTML face):
//! the layout around a page, the one path a page is sent through, and the site's own URLs.

use std::collections::HashMap;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::store::{BusinessProfile, MissedSchedules, WorkspaceZone};
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
    /// Scheduled changes of the workspace missed in the last week, for the alert every page shows.
    pub missed_schedules: MissedSchedules,
    /// The workspace's time zone, in which pages show and read schedule times.
    pub time_zone: WorkspaceZone,
}

impl LayoutUser {
    /// The alert of missed scheduled changes, in words, with when the latest was due (in the workspace's
    /// time zone).
    pub fn missed_text(&self) -> String {
        let when = self
            .missed_schedules
            .last_due_at
            .map(|ms| self.time_zone.datetime(ms))
            .unwrap_or_default();
        match self.missed_schedules.count {
            1 => format!(
                "1 scheduled change was missed this week: the dashboard was not running when it came \
                 due, at {when}, and nothing was sent."
            ),
            n => format!(
                "{n} scheduled changes were missed this week: the dashboard was not running when they \
                 came due (the latest at {when}), and nothing was sent."
            ),
        }
    }
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

    /// The workspace's time zone (UTC when signed out), in which schedule times are shown and typed.
    pub fn time_zone(&self) -> WorkspaceZone {
        self.user.as_ref().map(|u| u.time_zone).unwrap_or_default()
    }

    /// The name of the workspace's time zone, for labels: `America/Los_Angeles`.
    pub fn zone_name(&self) -> &'static str {
        self.time_zone().name()
    }

    /// Now in the workspace's time zone (`2026-12-24 09:00 PST`), beside the fields that take a time.
    pub fn zone_now(&self) -> String {
        self.time_zone().datetime(crate::store::now_ms())
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

/// A business as every page names it: its name and city once Yelp's `business_info` has said them, its
/// id otherwise (and always in the link's title and the small print), and why Yelp would refuse programs
/// for it, if it would. Shown through the `business` macro of `macros.html`.
pub struct BusinessRef {
    /// Yelp's business id.
    pub id: String,
    /// Its name on Yelp.
    pub name: Option<String>,
    /// Its city.
    pub city: Option<String>,
    /// "Closed" or "Removed from search": what Yelp says that stops new programs.
    pub flag: Option<&'static str>,
    /// The business id Yelp moved it to.
    pub migrated_to: Option<String>,
}

impl BusinessRef {
    /// Business `id` as the workspace knows it (`profile`), or by its id alone.
    pub fn new(id: &str, profile: Option<&BusinessProfile>) -> Self {
        Self {
            id: id.to_owned(),
            name: profile.and_then(|p| p.name.clone()),
            city: profile
                .and_then(|p| p.city.clone())
                .filter(|c| !c.is_empty()),
            flag: profile.and_then(|p| {
                if p.is_closed.0 == Some(true) {
                    Some("Closed")
                } else if p.is_removed_from_search.0 == Some(true) {
                    Some("Removed from search")
                } else {
                    None
                }
            }),
            migrated_to: profile.and_then(|p| p.migrated_to.clone()),
        }
    }

    /// Business `id` looked up in `profiles` (what `Store::business_profiles_of` answered).
    pub fn of(id: &str, profiles: &HashMap<String, BusinessProfile>) -> Self {
        Self::new(id, profiles.get(id))
    }

    /// Its name, or its id while Yelp has not named it.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }

    /// Whether a name is known (else the label is the id, shown once).
    pub fn is_named(&self) -> bool {
        self.name.is_some()
    }

    /// Its name and city as one line of text ("Golden Gate Legal Pros, San Francisco"), or its id.
    pub fn text(&self) -> String {
        match (&self.name, &self.city) {
            (Some(name), Some(city)) => format!("{name}, {city}"),
            (Some(name), None) => name.clone(),
            _ => self.id.clone(),
        }
    }
}
