//! The web face of the dashboard's errors: JSON for the API, with the field at fault named; 5xx bodies say
//! nothing internal and the detail is logged once, here.

use askama::Template;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::Error;
use crate::web::view::{Layout, Page, login_url};

/// An API error.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the request is wrong; `field` names the part at fault.
    BadRequest {
        /// The parameter or JSON field at fault.
        field: Option<String>,
        /// What is wrong with it.
        message: String,
    },
    /// 400 naming every field at fault, each with what is wrong with it.
    Fields(Vec<(String, String)>),
    /// 401: not signed in.
    Unauthenticated,
    /// 403: signed in, but not allowed.
    Forbidden(String),
    /// 404.
    NotFound(String),
    /// 405: the path exists, the method does not.
    MethodNotAllowed,
    /// 409.
    Conflict(String),
    /// 409: a create identical to a recent one, not confirmed; names the earlier job.
    Duplicate {
        /// The earlier job.
        job_id: String,
        /// What to tell the user.
        message: String,
    },
    /// 429: too many failed sign-ins.
    TooManyRequests {
        /// Seconds until trying again makes sense.
        retry_after_secs: u64,
    },
    /// 502: Yelp could not take the request; the message says what to do.
    BadGateway(String),
    /// 500: the detail is logged once, when the response is made, and never shown.
    Internal(String),
}

/// `Result` for handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// A 400 naming `field`.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(message) => Self::BadRequest {
                field: None,
                message,
            },
            Error::InvalidField { field, message } => Self::BadRequest {
                field: Some(field),
                message,
            },
            Error::InvalidFields(fields) => Self::Fields(fields),
            Error::NotFound(what) => Self::NotFound(format!("{what} not found")),
            Error::Conflict(message) => Self::Conflict(message),
            Error::YelpUnavailable(message) => Self::BadGateway(message),
            Error::Duplicate { ref job_id } => Self::Duplicate {
                job_id: job_id.clone(),
                message: e.to_string(),
            },
            Error::Database(_)
            | Error::Migrate(_)
            | Error::Yelp(_)
            | Error::Config(_)
            | Error::Internal(_) => Self::Internal(e.to_string()),
        }
    }
}

impl ApiError {
    /// A 500 whose `detail` goes to the log.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Internal(detail.to_string())
    }

    /// Whether this is a fault of ours (a 500).
    pub fn is_internal(&self) -> bool {
        matches!(self, Self::Internal(_))
    }

    /// Logs what a 500 hides from the client; called once, as the response is made.
    pub(crate) fn log(&self) {
        if let Self::Internal(detail) = self {
            tracing::error!(error = %detail, "request failed");
        }
    }

    /// The status this error answers with; the same for the JSON and the HTML face.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } | Self::Fields(_) => StatusCode::BAD_REQUEST,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) | Self::Duplicate { .. } => StatusCode::CONFLICT,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What a person is told; never anything internal.
    pub fn message(&self) -> String {
        match self {
            Self::BadRequest { message, .. }
            | Self::Forbidden(message)
            | Self::NotFound(message)
            | Self::Conflict(message)
            | Self::BadGateway(message)
            | Self::Duplicate { message, .. } => message.clone(),
            Self::Fields(fields) => fields
                .iter()
                .map(|(_, m)| m.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            Self::Unauthenticated => "Sign in first (session cookie or HTTP Basic).".into(),
            Self::MethodNotAllowed => "This path does not take that method.".into(),
            Self::TooManyRequests { retry_after_secs } => {
                format!("Too many failed sign-ins; try again in {retry_after_secs} seconds.")
            }
            Self::Internal(_) => "Something went wrong on our side; it has been logged.".into(),
        }
    }

    /// The machine-readable kind, in JSON bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } | Self::Fields(_) => "invalid",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict(_) => "conflict",
            Self::Duplicate { .. } => "duplicate",
            Self::TooManyRequests { .. } => "throttled",
            Self::BadGateway(_) => "yelp_unavailable",
            Self::Internal(_) => "internal",
        }
    }
}

/// The JSON face.
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let status = self.status();
        let message = self.message();
        // `detail` is the replaced system's name (Django REST framework's) for the same message: its
        // frontend shows `detail`.
        let mut body =
            json!({"error": {"code": self.code(), "message": &message}, "detail": message});
        match &self {
            Self::BadRequest {
                field: Some(field), ..
            } => body["error"]["field"] = json!(field),
            Self::Fields(fields) => {
                let list: Vec<_> = fields
                    .iter()
                    .map(|(f, m)| json!({"field": f, "message": m}))
                    .collect();
                body["error"]["field"] = json!(fields.first().map(|(f, _)| f));
                body["error"]["fields"] = json!(list);
            }
            Self::Duplicate { job_id, .. } => body["error"]["job_id"] = json!(job_id),
            _ => {}
        }
        let mut response = (status, Json(body)).into_response();
        if let Self::TooManyRequests { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

/// The HTML face of the dashboard's errors, for pages: an [`ApiError`] shown as a page with its status, or
/// the one outcome only pages have, sending a visitor who is not signed in to the sign-in page.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in: 303 to `/login?next=…`, back to `next` (a local path) after signing in.
    SignIn {
        /// Where to go after signing in.
        next: String,
    },
    /// Any other error, as an HTML page.
    Api(ApiError),
}

/// `Result` for page handlers.
pub type PageResult<T = Response> = Result<T, PageError>;

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        Self::Api(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn { next } => {
                let location = login_url(&next);
                let mut response = StatusCode::SEE_OTHER.into_response();
                if let Ok(value) = HeaderValue::from_str(&location) {
                    response.headers_mut().insert(header::LOCATION, value);
                }
                response
            }
            Self::Api(e) => {
                e.log();
                error_page(e.status(), e.message())
            }
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    title: &'static str,
    message: String,
    /// What to do now, in words.
    next_step: &'static str,
}

/// What an HTML error page said, kept on its response: the layer that knows who is signed in
/// ([`with_navigation`]) shows the same page again inside their navigation.
#[derive(Clone, Debug)]
pub struct ErrorPageFace {
    status: StatusCode,
    message: String,
}

/// An error as an HTML page with its status, signed out; [`with_navigation`] gives it the signed-in
/// user's menu.
pub fn error_page(status: StatusCode, message: String) -> Response {
    error_page_in(Layout::signed_out(), status, message)
}

/// An error as an HTML page with its status, in `layout`.
fn error_page_in(layout: Layout, status: StatusCode, message: String) -> Response {
    let signed_in = layout.user.is_some();
    let page = ErrorPage {
        layout,
        status: status.as_u16(),
        title: title(status),
        message: message.clone(),
        next_step: next_step(status, signed_in),
    };
    let mut response = (status, Page(page)).into_response();
    response
        .extensions_mut()
        .insert(ErrorPageFace { status, message });
    response
}

/// The error page of `response` again, inside `layout` (the signed-in user's navigation), when
/// `response` is one; otherwise `response` as it is.
pub(crate) fn with_navigation(response: Response, layout: Layout) -> Response {
    match response.extensions().get::<ErrorPageFace>().cloned() {
        Some(face) => error_page_in(layout, face.status, face.message),
        None => response,
    }
}

/// Whether `response` is an HTML error page that [`with_navigation`] may show inside the user's
/// navigation. Not a 500: the database may be what failed, and finding the user would wait on it again.
pub(crate) fn wants_navigation(response: &Response) -> bool {
    response
        .extensions()
        .get::<ErrorPageFace>()
        .is_some_and(|face| face.status != StatusCode::INTERNAL_SERVER_ERROR)
}

/// An error page's heading, in words rather than the status's name.
fn title(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "That could not be done as asked",
        StatusCode::UNAUTHORIZED => "Sign in first",
        StatusCode::FORBIDDEN => "Not allowed for your role",
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::METHOD_NOT_ALLOWED => "That cannot be done here",
        StatusCode::CONFLICT => "Something changed in the meantime",
        StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
        StatusCode::BAD_GATEWAY => "Yelp did not answer",
        StatusCode::INTERNAL_SERVER_ERROR => "Something went wrong on our side",
        _ => status.canonical_reason().unwrap_or("Something went wrong"),
    }
}

/// What a person can do next after an error of `status`.
fn next_step(status: StatusCode, signed_in: bool) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "Go back, correct what the message names, and try again.",
        StatusCode::UNAUTHORIZED => "Sign in, then open the page again.",
        StatusCode::FORBIDDEN => {
            "Your role does not allow this. If you need it, ask an admin of your workspace to change your role."
        }
        StatusCode::NOT_FOUND if signed_in => {
            "Check the address for a typo, or open the page you want from the menu."
        }
        StatusCode::NOT_FOUND => {
            "Check the address for a typo, or sign in and start from the programs."
        }
        StatusCode::CONFLICT => "Open the page again to see how things stand now, then try again.",
        StatusCode::TOO_MANY_REQUESTS => "Wait a little, then try again.",
        StatusCode::BAD_GATEWAY => "Yelp may be busy or down for a moment: try again in a minute.",
        _ => "Try again in a moment. If it keeps happening, tell your administrator.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_page_says_what_happened_and_what_to_do_in_words() {
        for status in [
            StatusCode::BAD_REQUEST,
            StatusCode::FORBIDDEN,
            StatusCode::NOT_FOUND,
            StatusCode::METHOD_NOT_ALLOWED,
            StatusCode::CONFLICT,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::BAD_GATEWAY,
            StatusCode::INTERNAL_SERVER_ERROR,
        ] {
            let reason = status.canonical_reason().unwrap_or_default();
            assert_ne!(title(status), reason, "{status}");
            for signed_in in [true, false] {
                assert!(next_step(status, signed_in).ends_with('.'), "{status}");
            }
        }
        assert!(next_step(StatusCode::NOT_FOUND, true).contains("menu"));
        assert!(next_step(StatusCode::NOT_FOUND, false).contains("sign in"));
    }

    #[test]
    fn a_500_page_is_not_shown_again_inside_the_navigation() {
        let failed = error_page(StatusCode::INTERNAL_SERVER_ERROR, "x".into());
        assert!(!wants_navigation(&failed));
        let missing = error_page(StatusCode::NOT_FOUND, "x".into());
        assert!(wants_navigation(&missing));
    }
}
