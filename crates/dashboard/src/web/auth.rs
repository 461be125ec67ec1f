//! Who is asking: a session cookie (with a CSRF token for changes) or HTTP Basic with a dashboard user's
//! name and password, for scripts. Sign-in and sign-out.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
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
        if let Some((username, password)) = basic_credentials(&parts.headers) {
            refuse_control("username", &username)?;
            let key = auth::token_hash(&format!("{username}\0{password}"));
            if let Some(user) = state.basic_logins.get(&key, now) {
                return Ok(Self {
                    user,
                    csrf_token: None,
                });
            }
            // Requests with the same credentials take turns: the first checks them, the others find its
            // answer cached. Checked side by side, a burst of right ones would each count as a failure
            // until checked and trip the throttle.
            let gate = state.basic_logins.gate(&key);
            let turn = gate.lock().await;
            let now = now_ms();
            let verified = match state.basic_logins.get(&key, now) {
                Some(user) => Ok(user),
                None => {
                    let addr = client_addr(parts, state.trust_forwarded_for);
                    let result = auth::login(&state.store, &username, &password, &addr, now).await;
                    if let Ok(user) = &result {
                        state.basic_logins.put(key.clone(), user.clone(), now);
                    }
                    result
                }
            };
            drop(turn);
            state.basic_logins.release(&key, gate);
            return match verified {
                Ok(user) => Ok(Self {
                    user,
                    csrf_token: None,
                }),
                Err(e) => Err(login_error(e)),
            };
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
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
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
#[derive(Debug, Default)]
pub struct BasicLogins {
    verified: std::sync::Mutex<std::collections::HashMap<String, (User, i64)>>,
    /// A turn per credentials being checked now.
    gates: std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl BasicLogins {
    /// How long a verified sign-in is trusted.
    pub const TTL_MS: i64 = 30_000;
    const CAPACITY: usize = 1024;

    fn get(&self, key: &str, now: i64) -> Option<User> {
        let verified = self
            .verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        verified
            .get(key)
            .filter(|(_, at)| now - at < Self::TTL_MS)
            .map(|(user, _)| user.clone())
    }

    /// The turn of the requests carrying these credentials.
    fn gate(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut gates = self
            .gates
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        gates.entry(key.to_owned()).or_default().clone()
    }

    /// Forgets the turn once no other request holds or awaits it.
    fn release(&self, key: &str, gate: Arc<tokio::sync::Mutex<()>>) {
        let mut gates = self
            .gates
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // The map's reference and ours: nobody else can take it while the map is locked.
        if Arc::strong_count(&gate) <= 2 {
            gates.remove(key);
        }
    }

    fn put(&self, key: String, user: User, now: i64) {
        let mut verified = self
            .verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if verified.len() >= Self::CAPACITY {
            verified.retain(|_, (_, at)| now - *at < Self::TTL_MS);
            if verified.len() >= Self::CAPACITY {
                verified.clear();
            }
        }
        verified.insert(key, (user, now));
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

fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let value = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    );
    // The token is base64url, so the value is always a valid header.
    HeaderValue::from_str(&value)
        .unwrap_or_else(|_| HeaderValue::from_static("yelp_ads_session=; Max-Age=0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_basic_credentials_are_read_from_headers() {
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
            basic_credentials(&headers),
            Some(("user".into(), "pa:ss".into()))
        );
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer xyz"),
        );
        assert_eq!(basic_credentials(&headers), None);
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
