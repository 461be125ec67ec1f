//! `/login` and `/logout`: a plain form that signs in through the same path as `POST /api/auth/login`
//! (throttling included) and goes back to the page the visitor wanted.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, SameSite};
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
use crate::web::error::ApiError;
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
    let cookie = login_cookie(token.clone(), 3600, state.secure_cookies);
    let mut layout = Layout::signed_out();
    layout.csrf_token = token;
    let page = LoginPage {
        layout,
        next,
        username,
        error,
    };
    let mut response = (status, Page(page)).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

/// The `Set-Cookie` value of the login cookie: sent only to `/login`, out of scripts' reach, never on
/// another site's requests, over https only when the dashboard is served so. An empty token with no age
/// clears it.
fn login_cookie(token: String, max_age_secs: i64, secure: bool) -> HeaderValue {
    let cookie = Cookie::build((LOGIN_COOKIE, token))
        .path("/login")
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .secure(secure)
        .build();
    // The token is base64url, so the value is always a valid header.
    HeaderValue::from_str(&cookie.to_string())
        .unwrap_or_else(|_| HeaderValue::from_static("yelp_ads_login=; Path=/login; Max-Age=0"))
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
    fields: Result<FormFields, ApiError>,
) -> PageResult<Response> {
    let fields = match fields {
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
                login_cookie(String::new(), 0, state.secure_cookies),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_cookie_keeps_its_flags() {
        let set = login_cookie("tok".into(), 3600, false);
        let set = set.to_str().unwrap();
        assert!(set.starts_with("yelp_ads_login=tok;"), "{set}");
        for flag in ["Path=/login", "HttpOnly", "SameSite=Strict", "Max-Age=3600"] {
            assert!(set.split("; ").any(|part| part == flag), "{flag} in {set}");
        }
        assert!(!set.contains("Secure"), "{set}");
        let cleared = login_cookie(String::new(), 0, true);
        let cleared = cleared.to_str().unwrap();
        assert!(cleared.starts_with("yelp_ads_login=;"), "{cleared}");
        for flag in ["Path=/login", "Max-Age=0", "Secure"] {
            assert!(
                cleared.split("; ").any(|part| part == flag),
                "{flag} in {cleared}"
            );
        }
    }
}
