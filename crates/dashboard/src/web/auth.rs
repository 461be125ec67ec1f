//! Who is asking: a session cookie (with a CSRF token for changes) or HTTP Basic with a dashboard user's
//! name and password, for scripts. Sign-in and sign-out.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::TypedHeader;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use axum_extra::headers::Authorization;
use axum_extra::headers::authorization::Basic;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, refuse_control};
use crate::auth::{self, LoginError};
use crate::store::{AuditAction, AuditEvent, SessionRecord, User, now_ms, validate_username};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "yelp_ads_session";
/// Header that carries the CSRF token on state-changing requests made with a session.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The signed-in user of a request.
#[derive(Debug)]
pub struct CurrentUser {
    /// The user.
    pub user: User,
    /// The session's CSRF token, when signed in with a cookie.
    pub csrf_token: Option<String>,
}

impl CurrentUser {
    /// The user's workspace: every read and write of the request is scoped to it.
    pub fn workspace_id(&self) -> &str {
        &self.user.workspace_id
    }

    /// 403 unless the user may sync and change programs.
    pub fn require_operator(&self) -> ApiResult<()> {
        require_operator(&self.user)
    }

    /// 403 unless the user administers the workspace.
    pub fn require_admin(&self) -> ApiResult<()> {
        require_admin(&self.user)
    }
}

/// 403 unless `user` may sync and change programs.
pub(crate) fn require_operator(user: &User) -> ApiResult<()> {
    if user.role.can_operate() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "Your role can read but not change anything.".into(),
        ))
    }
}

/// 403 unless `user` administers the workspace.
pub(crate) fn require_admin(user: &User) -> ApiResult<()> {
    if user.role.can_admin() {
        Ok(())
    } else {
        Err(ApiError::Forbidden("Only an admin may do this.".into()))
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let now = now_ms();
        if let Some(token) = cookie(&parts.headers, SESSION_COOKIE) {
            if let Some(session) = auth::session_for_token(&state.store, &token, now).await? {
                if changes_state(&parts.method) {
                    let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
                    if !sent.is_some_and(|s| same(s, &session.csrf_token)) {
                        return Err(ApiError::Forbidden(
                            "Missing or wrong CSRF token: send the X-CSRF-Token header given at sign-in."
                                .into(),
                        ));
                    }
                }
                return Ok(Self {
                    user: session.user,
                    csrf_token: Some(session.csrf_token),
                });
            }
        }
        // Missing or malformed, the header is no Basic sign-in; the request is then simply not signed in.
        if let Ok(TypedHeader(Authorization(basic))) =
            TypedHeader::<Authorization<Basic>>::from_request_parts(parts, state).await
        {
            refuse_control("username", basic.username())?;
            let addr = client_addr(parts, state.trust_forwarded_for);
            let user = state
                .basic_logins
                .verify(&state.store, basic.username(), basic.password(), &addr)
                .await?;
            return Ok(Self {
                user,
                csrf_token: None,
            });
        }
        Err(ApiError::Unauthenticated)
    }
}

/// The live session of the request's cookie, if any, without any CSRF check: pages check their form's token.
pub(crate) async fn cookie_session(
    state: &AppState,
    headers: &HeaderMap,
) -> ApiResult<Option<SessionRecord>> {
    match cookie(headers, SESSION_COOKIE) {
        Some(token) => Ok(auth::session_for_token(&state.store, &token, now_ms()).await?),
        None => Ok(None),
    }
}

/// Whether a request method changes state (and so needs a CSRF token).
pub(crate) fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Compares without stopping at the first difference, so timing does not reveal the token.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The value of cookie `name`, if the request sent a non-empty one.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(name)
        .map(|cookie| cookie.value().to_owned())
        .filter(|v| !v.is_empty())
}

/// Where a request comes from: the client's IP address, for throttling sign-ins ("unknown" when the
/// server was not told, as in router tests), and its user agent, for the audit log.
pub struct Origin {
    /// The client's address.
    pub addr: String,
    /// Its `User-Agent`, if it sent one.
    pub user_agent: Option<String>,
}

impl FromRequestParts<AppState> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self {
            addr: client_addr(parts, state.trust_forwarded_for),
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        })
    }
}

/// An audit event of the request's user, from where the request came.
pub(crate) fn audit_event(user: &User, origin: &Origin) -> AuditEvent {
    AuditEvent {
        workspace_id: Some(user.workspace_id.clone()),
        actor_id: Some(user.id.clone()),
        actor: Some(user.username.clone()),
        address: Some(origin.addr.clone()),
        user_agent: origin.user_agent.clone(),
        ..AuditEvent::default()
    }
}

/// Records an event; a failure to record is logged (the action it records has happened).
pub(crate) async fn record(state: &AppState, action: AuditAction, event: AuditEvent) {
    if let Err(e) = state.store.audit(action, event, now_ms()).await {
        tracing::warn!(error = %e, action = action.as_str(), "could not record an audit event");
    }
}

/// The peer's address, or, when the proxy in front is trusted, the last `X-Forwarded-For` entry (the one
/// the proxy itself added).
fn client_addr(parts: &Parts, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for {
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        if let Some(last) = forwarded.and_then(|v| v.rsplit(',').next()).map(str::trim) {
            if !last.is_empty() {
                return last.chars().take(64).collect();
            }
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(
            || "unknown".to_owned(),
            |ConnectInfo(addr)| addr.ip().to_string(),
        )
}

/// HTTP Basic sign-ins verified in the last [`BasicLogins::TTL_MS`], by a hash of name and password (never
/// the password itself). A changed password or role reaches Basic clients within that time.
pub struct BasicLogins {
    verified: moka::future::Cache<String, User>,
}

impl std::fmt::Debug for BasicLogins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the users or the keys: a key is a hash of a password.
        f.debug_struct("BasicLogins")
            .field("entries", &self.verified.entry_count())
            .finish()
    }
}

impl Default for BasicLogins {
    fn default() -> Self {
        Self {
            verified: moka::future::Cache::builder()
                .max_capacity(Self::CAPACITY)
                .time_to_live(Duration::from_millis(Self::TTL_MS.unsigned_abs()))
                .build(),
        }
    }
}

impl BasicLogins {
    /// How long a verified sign-in is trusted.
    pub const TTL_MS: i64 = 30_000;
    const CAPACITY: u64 = 1024;

    /// The user these credentials sign in, from the cache or checked with the throttle ([`auth::login`])
    /// from `addr`. Only right passwords are kept, so a wrong one is checked and counted again on every
    /// later request (requests that waited on one check share its answer: one guess, one count).
    async fn verify(
        &self,
        store: &crate::store::Store,
        username: &str,
        password: &str,
        addr: &str,
    ) -> ApiResult<User> {
        let key = auth::token_hash(&format!("{username}\0{password}"));
        // Requests with the same credentials take turns (moka runs one check a key; the others wait for
        // its answer). Checked side by side, a burst of right ones would each count as a failure until
        // checked and trip the throttle.
        self.verified
            .try_get_with(key, auth::login(store, username, password, addr, now_ms()))
            .await
            .map_err(|shared| {
                Arc::try_unwrap(shared).map_or_else(|e| login_error_of(&e), login_error)
            })
    }
}

/// Checks a user's name and password, with the sign-in throttle ([`auth::login`], which HTTP Basic calls
/// as well): the one check of the sign-in API and page (through [`sign_in`]) and of the replaced system's
/// `validate-credentials`. `origin` is where the request came from; `username` and `password` are as
/// typed. A wrong password is [`LoginError::Invalid`], a locked username or address
/// [`LoginError::Throttled`]; either is recorded in the audit log (with the name as typed, never the
/// password), in the workspace of the user of that name if there is one.
pub(crate) async fn check_credentials(
    state: &AppState,
    origin: &Origin,
    username: &str,
    password: &str,
) -> Result<User, LoginError> {
    let checked = auth::login(&state.store, username, password, &origin.addr, now_ms()).await;
    if let Err(e @ (LoginError::Invalid | LoginError::Throttled { .. })) = &checked {
        let known = match validate_username(username) {
            Ok(()) => state.store.user_by_username(username).await.ok().flatten(),
            Err(_) => None,
        };
        let detail = match e {
            LoginError::Throttled { .. } => "refused: too many failed sign-ins",
            _ => "wrong username or password",
        };
        let event = AuditEvent {
            workspace_id: known.map(|(user, _)| user.workspace_id),
            actor: Some(username.to_owned()),
            detail: Some(detail.to_owned()),
            address: Some(origin.addr.clone()),
            user_agent: origin.user_agent.clone(),
            ..AuditEvent::default()
        };
        record(state, AuditAction::SignInFailed, event).await;
    }
    checked
}

/// Signs a user in and starts their session: the one path of the sign-in API and the sign-in page (any
/// other sign-in endpoint should call it too), checked by [`check_credentials`]. Answers the user, their
/// new session and the `Set-Cookie` value that carries it.
pub(crate) async fn sign_in(
    state: &AppState,
    origin: &Origin,
    username: &str,
    password: &str,
) -> Result<(User, auth::NewSession, HeaderValue), LoginError> {
    let user = check_credentials(state, origin, username, password).await?;
    let session = auth::start_session(&state.store, &user, now_ms()).await?;
    tracing::info!(user = %user.username, "signed in");
    record(state, AuditAction::SignIn, audit_event(&user, origin)).await;
    let cookie = session_cookie(
        session.token.expose_secret(),
        auth::SESSION_TTL_MS / 1000,
        state.secure_cookies,
    );
    Ok((user, session, cookie))
}

/// Ends the session of the request's cookie, if any; answers the `Set-Cookie` value that clears it.
pub(crate) async fn sign_out(state: &AppState, headers: &HeaderMap) -> ApiResult<HeaderValue> {
    if let Some(token) = cookie(headers, SESSION_COOKIE) {
        auth::end_session(&state.store, &token).await?;
    }
    Ok(session_cookie("", 0, state.secure_cookies))
}

/// [`login_error`] of an error that other waiting requests share too.
fn login_error_of(e: &LoginError) -> ApiError {
    match e {
        LoginError::Invalid => ApiError::Unauthenticated,
        LoginError::Throttled { retry_after_secs } => ApiError::TooManyRequests {
            retry_after_secs: *retry_after_secs,
        },
        LoginError::Store(e) => ApiError::internal(e),
    }
}

fn login_error(e: LoginError) -> ApiError {
    match e {
        LoginError::Invalid => ApiError::Unauthenticated,
        LoginError::Throttled { retry_after_secs } => {
            ApiError::TooManyRequests { retry_after_secs }
        }
        LoginError::Store(e) => e.into(),
    }
}

/// `/api/auth/*`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/me", get(me))
}

#[derive(Deserialize)]
struct LoginRequest {
    username: String,
    password: String,
}

fn user_json(user: &User, csrf_token: Option<&str>) -> serde_json::Value {
    json!({
        "user": {"username": user.username, "role": user.role.as_str(), "workspace_id": user.workspace_id},
        "csrf_token": csrf_token,
    })
}

/// `POST /api/auth/login`: `{"username","password"}` → a session cookie and the CSRF token. The answer to a
/// wrong password and to an unknown user is the same.
async fn login(
    State(state): State<AppState>,
    origin: Origin,
    ApiJson(request): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let (user, session, cookie) = sign_in(&state, &origin, &request.username, &request.password)
        .await
        .map_err(|e| match e {
            LoginError::Invalid => ApiError::BadRequest {
                field: None,
                message: "Wrong username or password.".into(),
            },
            other => login_error(other),
        })?;
    let mut response = Json(user_json(&user, Some(&session.csrf_token))).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// `POST /api/auth/logout`: ends the session.
async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    origin: Origin,
    user: CurrentUser,
) -> ApiResult<Response> {
    let cleared = sign_out(&state, &headers).await?;
    tracing::info!(user = %user.user.username, "signed out");
    record(
        &state,
        AuditAction::SignOut,
        audit_event(&user.user, &origin),
    )
    .await;
    let mut response = Json(json!({"status": "signed_out"})).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cleared);
    Ok(response)
}

/// `GET /api/auth/me`: who is signed in, and the CSRF token for the session.
async fn me(user: CurrentUser) -> Json<serde_json::Value> {
    Json(user_json(&user.user, user.csrf_token.as_deref()))
}

/// The `Set-Cookie` value of a session: for the whole site, out of scripts' reach, sent on top-level
/// navigations from other sites (so links into the dashboard work) but not on their forms, and over https
/// only when the dashboard is served so. An empty token with no age clears it.
fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let cookie = Cookie::build((SESSION_COOKIE, token.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .secure(secure)
        .build();
    // The token is base64url, so the value is always a valid header.
    HeaderValue::from_str(&cookie.to_string())
        .unwrap_or_else(|_| HeaderValue::from_static("yelp_ads_session=; Max-Age=0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The name and password of a request's `Authorization: Basic`, as the extractor reads them.
    async fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
        let mut request = axum::http::Request::new(());
        *request.headers_mut() = headers.clone();
        let (mut parts, ()) = request.into_parts();
        let TypedHeader(Authorization(basic)) =
            TypedHeader::<Authorization<Basic>>::from_request_parts(&mut parts, &())
                .await
                .ok()?;
        Some((basic.username().to_owned(), basic.password().to_owned()))
    }

    #[tokio::test]
    async fn cookies_and_basic_credentials_are_read_from_headers() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; yelp_ads_session=tok; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("tok"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic dXNlcjpwYTpzcw=="),
        );
        assert_eq!(
            basic_credentials(&headers).await,
            Some(("user".into(), "pa:ss".into()))
        );
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer xyz"),
        );
        assert_eq!(basic_credentials(&headers).await, None);
    }

    #[test]
    fn an_empty_cookie_is_no_cookie() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("yelp_ads_session="),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), None);
    }

    #[test]
    fn the_session_cookie_keeps_its_flags() {
        let set = session_cookie("tok", 60, false);
        let set = set.to_str().unwrap();
        assert!(set.starts_with("yelp_ads_session=tok;"), "{set}");
        for flag in ["Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=60"] {
            assert!(set.split("; ").any(|part| part == flag), "{flag} in {set}");
        }
        assert!(!set.contains("Secure"), "{set}");
        let secure = session_cookie("", 0, true);
        let secure = secure.to_str().unwrap();
        assert!(secure.starts_with("yelp_ads_session=;"), "{secure}");
        assert!(secure.split("; ").any(|part| part == "Secure"), "{secure}");
        assert!(
            secure.split("; ").any(|part| part == "Max-Age=0"),
            "{secure}"
        );
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
