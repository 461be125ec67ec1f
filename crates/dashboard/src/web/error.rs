//! The web face of the dashboard's errors: JSON for the API, with the field at fault named; 5xx bodies say
//! nothing internal and the detail is logged once, here.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::Error;

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
    /// 409.
    Conflict(String),
    /// 429: too many failed sign-ins.
    TooManyRequests {
        /// Seconds until trying again makes sense.
        retry_after_secs: u64,
    },
    /// 500: logged, never shown.
    Internal,
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
            Error::InvalidFields(fields) => Self::Fields(fields),
            Error::NotFound(what) => Self::NotFound(format!("{what} not found")),
            Error::Conflict(message) => Self::Conflict(message),
            other => {
                tracing::error!(error = %other, "request failed");
                Self::Internal
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, field) = match self {
            Self::BadRequest { field, message } => {
                (StatusCode::BAD_REQUEST, "invalid", message, field)
            }
            Self::Fields(fields) => {
                let message = fields
                    .iter()
                    .map(|(_, m)| m.as_str())
                    .collect::<Vec<_>>()
                    .join("; ");
                let list: Vec<_> = fields
                    .iter()
                    .map(|(f, m)| json!({"field": f, "message": m}))
                    .collect();
                let body = json!({"error": {"code": "invalid", "message": message,
                    "field": fields.first().map(|(f, _)| f), "fields": list}});
                return (StatusCode::BAD_REQUEST, Json(body)).into_response();
            }
            Self::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Sign in first (session cookie or HTTP Basic).".into(),
                None,
            ),
            Self::Forbidden(message) => (StatusCode::FORBIDDEN, "forbidden", message, None),
            Self::NotFound(message) => (StatusCode::NOT_FOUND, "not_found", message, None),
            Self::Conflict(message) => (StatusCode::CONFLICT, "conflict", message, None),
            Self::TooManyRequests { retry_after_secs } => {
                let mut response = (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(json!({"error": {"code": "throttled",
                        "message": format!("Too many failed sign-ins; try again in {retry_after_secs} seconds.")}})),
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                return response;
            }
            Self::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Something went wrong on our side; it has been logged.".into(),
                None,
            ),
        };
        let mut body = json!({"error": {"code": code, "message": message}});
        if let Some(field) = field {
            body["error"]["field"] = json!(field);
        }
        (status, Json(body)).into_response()
    }
}
