//! The errors handlers answer with, each with the body shape the contract records (§6).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Text Yelp answers unknown routes (and disabled pause/resume) with.
pub(crate) const NO_ROUTE: &str = "The requested route does not exist";

/// An error answer of the partner or control API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ApiError {
    /// 400 `{"error":{"id","description"}}`.
    #[error("{id}: {description}")]
    BadRequest {
        /// Error identifier, e.g. `INVALID_PARAMETER`.
        id: &'static str,
        /// What is wrong.
        description: String,
    },
    /// 404 `{"error":{"id","description"}}`.
    #[error("{id}: {description}")]
    NotFound {
        /// Error identifier.
        id: &'static str,
        /// What was not found.
        description: String,
    },
    /// 404 with the plain text "The requested route does not exist".
    #[error("no such route")]
    NoRoute,
    /// 500 `{"error":{"id":"JOB_NOT_FOUND",...}}`: the job id is unknown or expired.
    #[error("job {0} not found")]
    JobNotFound(String),
    /// 401 with the body and `WWW-Authenticate` header of contract §4.8.
    #[error("unauthorized")]
    Unauthorized,
    /// An error of the Reporting API, as Fusion writes it: `{"error":{"code","description"}}`.
    #[error("{code}: {description}")]
    Fusion {
        /// HTTP status.
        status: StatusCode,
        /// Error code, e.g. `REPORT_GRANULARITY_ERROR`.
        code: &'static str,
        /// What is wrong.
        description: String,
    },
}

impl ApiError {
    /// 400 `INVALID_PARAMETER`.
    pub(crate) fn invalid(description: impl Into<String>) -> Self {
        Self::BadRequest {
            id: "INVALID_PARAMETER",
            description: description.into(),
        }
    }

    /// 400 `MISSING_PARAMETER`.
    pub(crate) fn missing(name: &str) -> Self {
        Self::BadRequest {
            id: "MISSING_PARAMETER",
            description: format!("The required parameter `{name}` is missing."),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::BadRequest { id, description } => (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": {"id": id, "description": description}})),
            )
                .into_response(),
            ApiError::NotFound { id, description } => (
                StatusCode::NOT_FOUND,
                axum::Json(json!({"error": {"id": id, "description": description}})),
            )
                .into_response(),
            ApiError::NoRoute => (StatusCode::NOT_FOUND, NO_ROUTE).into_response(),
            ApiError::JobNotFound(job_id) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"error": {
                    "id": "JOB_NOT_FOUND",
                    "description": format!("Job {job_id} does not exist or has expired."),
                }})),
            )
                .into_response(),
            ApiError::Fusion {
                status,
                code,
                description,
            } => (
                status,
                axum::Json(json!({"error": {"code": code, "description": description}})),
            )
                .into_response(),
            ApiError::Unauthorized => {
                let mut response = (
                    StatusCode::UNAUTHORIZED,
                    axum::Json(json!({"error": {
                        "code": "401_UNAUTHORIZED",
                        "description": "This server could not verify that you are authorized to access the document you requested.",
                    }})),
                )
                    .into_response();
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"Yelp Partner API\""),
                );
                response
            }
        }
    }
}

/// A control-API operation that could not be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// The program, business or job does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The request is malformed or breaks a rule (400).
    #[error("{0}")]
    Invalid(String),
}

impl IntoResponse for SimError {
    fn into_response(self) -> Response {
        match self {
            SimError::NotFound(description) => ApiError::NotFound {
                id: "NOT_FOUND",
                description,
            }
            .into_response(),
            SimError::Invalid(description) => ApiError::BadRequest {
                id: "INVALID_REQUEST",
                description,
            }
            .into_response(),
        }
    }
}
