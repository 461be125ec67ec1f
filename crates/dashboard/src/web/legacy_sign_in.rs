//! The replaced system's sign-in, as its frontend makes it: `validate-credentials`, then
//! `save-credentials`, then HTTP Basic with the same pair on every request. There the pair was Yelp's
//! partner credentials; here it is a dashboard user's, checked and throttled like every sign-in, through
//! the check the sign-in API uses. Nothing is stored: the browser keeps the pair.
//!
//! Its frontend shows a failure's `error` as a string, so these answers carry `error` as a string (with
//! `detail`, `code` and `field` beside it), unlike the rest of the API.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::{Origin, check_credentials};
use super::error::ApiError;
use super::extract::shorten;
use crate::auth::LoginError;
use crate::store::User;

/// `/api/auth/validate-credentials` and `/api/auth/save-credentials`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/validate-credentials", post(validate))
        .route("/api/auth/save-credentials", post(save))
}

#[derive(Deserialize)]
struct Pair {
    username: String,
    password: String,
}

/// A refusal in the shape the replaced system's sign-in page reads.
struct Refusal {
    status: StatusCode,
    code: &'static str,
    field: Option<&'static str>,
    message: String,
    /// The name that was sent, shortened, echoed as the old backend did.
    username: Option<String>,
    retry_after_secs: Option<u64>,
}

impl Refusal {
    fn bad_request(field: Option<&'static str>, message: String, username: Option<&str>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "invalid",
            field,
            message,
            username: username.map(shorten),
            retry_after_secs: None,
        }
    }

    fn from_login(e: LoginError, username: &str) -> Self {
        let (status, code, message, retry_after_secs) = match e {
            // The same answer for an unknown user and a wrong password.
            LoginError::Invalid => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Wrong username or password.".to_owned(),
                None,
            ),
            LoginError::Throttled { retry_after_secs } => {
                let e = ApiError::TooManyRequests { retry_after_secs };
                (e.status(), "throttled", e.message(), Some(retry_after_secs))
            }
            LoginError::Store(e) => {
                let e = ApiError::from(e);
                e.log();
                (e.status(), "internal", e.message(), None)
            }
        };
        Self {
            status,
            code,
            field: None,
            message,
            username: Some(shorten(username)),
            retry_after_secs,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = json!({
            "valid": false,
            "message": &self.message,
            "username": self.username,
            "error": &self.message,
            "detail": &self.message,
            "code": self.code,
            "field": self.field,
        });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// The pair of a request body, checked like every sign-in.
async fn checked(
    state: &AppState,
    origin: &Origin,
    body: Result<Json<Pair>, JsonRejection>,
) -> Result<User, Refusal> {
    let Json(pair) = body.map_err(|e| Refusal::bad_request(None, e.body_text(), None))?;
    for (field, value) in [("username", &pair.username), ("password", &pair.password)] {
        if value.trim().is_empty() {
            return Err(Refusal::bad_request(
                Some(field),
                "Username and password are required".into(),
                Some(&pair.username),
            ));
        }
    }
    check_credentials(state, origin, &pair.username, &pair.password)
        .await
        .map_err(|e| Refusal::from_login(e, &pair.username))
}

/// `POST /api/auth/validate-credentials` `{"username","password"}`: 200 `{"valid": true, "message",
/// "username"}` when the pair signs a dashboard user in; 401 the same for an unknown user and a wrong
/// password; 429 while sign-ins of that user or address are throttled.
async fn validate(
    State(state): State<AppState>,
    origin: Origin,
    body: Result<Json<Pair>, JsonRejection>,
) -> Result<Json<Value>, Refusal> {
    let user = checked(&state, &origin, body).await?;
    tracing::info!(user = %user.username, "credentials validated");
    Ok(Json(json!({
        "valid": true,
        "message": "Credentials are valid",
        "username": user.username,
    })))
}

/// `POST /api/auth/save-credentials` `{"username","password"}`: the pair is checked like every sign-in
/// and nothing is stored (the browser keeps it and sends it as HTTP Basic; a dashboard user exists
/// already, and Yelp's partner credentials are an admin's, in Settings). 200 when the pair signs in,
/// refused as by `validate-credentials` otherwise.
async fn save(
    State(state): State<AppState>,
    origin: Origin,
    body: Result<Json<Pair>, JsonRejection>,
) -> Result<Json<Value>, Refusal> {
    let user = checked(&state, &origin, body).await?;
    Ok(Json(json!({
        "message": "Credentials are valid. Nothing is stored on the server: this browser sends them with each request.",
        "username": user.username,
        "created": false,
    })))
}
