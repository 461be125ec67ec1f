//! `/login` and `/logout`: a plain form that signs in through the same path as `POST /api/auth/login`
//! (throttling included) and goes back to the page the visitor wanted.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{FormFields, HOME, Layout, Page, PageForm, local_path, see_other};
use crate::auth::LoginError;
use crate::secrets::random_bytes;
use crate::store::AuditAction;
use crate::web::AppState;
use crate::web::auth::{
    Origin, audit_event, cookie, cookie_session, record, same, sign_in, sign_out,
};
use crate::web::error::PageResult;
use crate::web::extract::Params;

/// The cookie that carries the sign-in form's token: no session exists yet to hold one, so the form's
/// token must match this cookie, which another site can neither read nor set (login CSRF).
const LOGIN_COOKIE: &str = "yelp_ads_login";

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(form).post(submit))
        .route("/logout", post(logout))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    next: String,
    username: String,
    error: Option<String>,
}

/// The sign-in page with a fresh form token in its `csrf_token` field and in the login cookie.
fn login_page(
    state: &AppState,
    status: StatusCode,
    next: String,
    username: String,
    error: Option<String>,
) -> Response {
    let token = URL_SAFE_NO_PAD.encode(random_bytes::<24>());
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{LOGIN_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{secure}"
    );
    let mut layout = Layout::signed_out();
    layout.csrf_token = token;
    let page = LoginPage {
        layout,
        next,
        username,
        error,
    };
    let mut response = (status, Page(page)).into_response();
    // The token is base64url, so the value is always a valid header.
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `GET /login?next=/path`: the form; someone already signed in goes straight on.
async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> PageResult<Response> {
    let next = local_path(params.get("next"));
    if cookie_session(&state, &headers).await?.is_some() {
        return Ok(see_other(&next));
    }
    Ok(login_page(
        &state,
        StatusCode::OK,
        next,
        String::new(),
        None,
    ))
}

/// `POST /login`: `username`, `password`, `next`, `csrf_token` → the session cookie and a 303 to `next`,
/// or the form again with what went wrong.
async fn submit(
    State(state): State<AppState>,
    origin: Origin,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult<Response> {
    let fields = match FormFields::parse(&body) {
        Ok(fields) => fields,
        Err(e) => {
            return Ok(login_page(
                &state,
                e.status(),
                HOME.to_owned(),
                String::new(),
                Some(e.message()),
            ));
        }
    };
    let next = local_path(fields.get("next"));
    let username = fields.text("username").trim().to_owned();
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same(fields.text("csrf_token"), &expected) {
        let message = "The sign-in form had expired; please sign in again.".to_owned();
        return Ok(login_page(
            &state,
            StatusCode::FORBIDDEN,
            next,
            username,
            Some(message),
        ));
    }
    match sign_in(&state, &origin, &username, fields.text("password")).await {
        Ok((_, _, session_cookie)) => {
            let mut response = see_other(&next);
            let headers = response.headers_mut();
            headers.append(header::SET_COOKIE, session_cookie);
            headers.append(
                header::SET_COOKIE,
                HeaderValue::from_static("yelp_ads_login=; Path=/login; Max-Age=0"),
            );
            Ok(response)
        }
        Err(LoginError::Invalid) => Ok(login_page(
            &state,
            StatusCode::BAD_REQUEST,
            next,
            username,
            Some("Wrong username or password.".into()),
        )),
        Err(LoginError::Throttled { retry_after_secs }) => Ok(login_page(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            next,
            username,
            Some(format!(
                "Too many failed sign-ins; try again in {retry_after_secs} seconds."
            )),
        )),
        Err(LoginError::Store(e)) => Err(e.into()),
    }
}

/// `POST /logout`: ends the session and shows the sign-in page.
async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    origin: Origin,
    form: PageForm,
) -> PageResult<Response> {
    let cleared = sign_out(&state, &headers).await?;
    tracing::info!(user = %form.user.user.username, "signed out");
    record(
        &state,
        AuditAction::SignOut,
        audit_event(&form.user.user, &origin),
    )
    .await;
    let mut response = see_other("/login");
    response.headers_mut().insert(header::SET_COOKIE, cleared);
    Ok(response)
}
