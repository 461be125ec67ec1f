//! The HTTP server: the HTML pages, the JSON + SSE API, sign-in, health and metrics. Handlers are thin:
//! extract, parse, call the store or the engine, answer.

pub mod api;
mod assets;
pub mod auth;
pub(crate) mod connections;
pub mod error;
pub mod extract;
pub mod legacy_sign_in;
pub mod metrics;
pub mod pages;
pub mod params;
pub mod settings;
pub mod view;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument;
use yelp_partner_api::Client;

use crate::cache::BodyCache;
use crate::change_sets::ChangeSetService;
use crate::features::FeatureService;
use crate::jobs::JobService;
use crate::secrets::SecretBox;
use crate::store::Store;
use crate::sync::SyncEngine;
use crate::yelp::YelpClients;
use error::{ApiError, ApiResult};
use metrics::Metrics;

pub use connections::ConnectionLimits;

/// Largest request body accepted; the API's bodies are small JSON objects.
const BODY_LIMIT: usize = 64 * 1024;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The sync engine.
    pub engine: SyncEngine,
    /// Decrypts the workspaces' Yelp credentials.
    pub secrets: Arc<SecretBox>,
    /// In-memory counters.
    pub metrics: Arc<Metrics>,
    /// Whether cookies get `Secure` (the dashboard is served over https).
    pub secure_cookies: bool,
    /// Whether the client address comes from `X-Forwarded-For` (behind a reverse proxy, where every
    /// connection comes from the proxy); off by default, as a direct client could forge the header.
    pub trust_forwarded_for: bool,
    /// The bearer token `/metrics` asks for (`YELP_ADS_METRICS_TOKEN`); `None` leaves it public.
    pub metrics_token: Option<secrecy::SecretString>,
    /// Recently verified HTTP Basic sign-ins, so that scripts do not pay a password hash per request.
    pub basic_logins: Arc<auth::BasicLogins>,
    /// A Yelp client per workspace, rebuilt when its credentials change.
    pub yelp: YelpClients,
    /// Program operations and their jobs.
    pub jobs: JobService,
    /// Program features and portfolio projects.
    pub features: FeatureService,
    /// Bulk changes: change sets and their posting.
    pub change_sets: ChangeSetService,
    /// Longest time to produce an answer's head (408 past it); an event stream's body is not timed.
    pub request_timeout: Duration,
    /// Program-list response bodies by workspace, query and mirror version, within a bound of bytes.
    pub list_bodies: Arc<BodyCache>,
}

impl AppState {
    /// The workspace's Yelp client, built from its stored (encrypted) credentials.
    pub async fn yelp_client(&self, workspace_id: &str) -> ApiResult<Client> {
        Ok(self.yelp.client(workspace_id).await?)
    }

    /// Whether a workspace's Yelp base URL may be plain http beyond loopback (`--allow-insecure-yelp-url`).
    pub fn allow_insecure_yelp_url(&self) -> bool {
        self.yelp.settings().allow_insecure_url
    }
}

/// The whole router, without a listener: tests drive it with `oneshot`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .merge(auth::router())
        .merge(legacy_sign_in::router())
        .merge(api::router())
        .merge(pages::router())
        .fallback(not_found)
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            error_pages_with_navigation,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // Only the wait for the response's head: an event stream, once started, runs as long as it lasts.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.request_timeout,
        ))
        // HTML and JSON above 32 bytes; never event streams (each event must leave at once) nor images.
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// 404: an HTML page for a browser asking for a page, JSON for everyone else.
async fn not_found(uri: Uri, headers: HeaderMap) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html && !uri.path().starts_with("/api/") {
        error::error_page(
            StatusCode::NOT_FOUND,
            "There is no page at this address: the link may be mistyped or out of date.".to_owned(),
        )
    } else {
        ApiError::NotFound("no such page or endpoint".to_owned()).into_response()
    }
}

/// Error pages keep the navigation: an HTML error page (made where who is asking is not known, such as a
/// handler's error or the 404 fallback) is shown again inside the signed-in user's menu, with their name
/// and sign-out. Visitors who are not signed in, and 500s, keep the plain page.
async fn error_pages_with_navigation(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let cookie = request.headers().get(header::COOKIE).cloned();
    let response = next.run(request).await;
    let Some(cookie) = cookie else {
        return response;
    };
    if !error::wants_navigation(&response) {
        return response;
    }
    let mut headers = HeaderMap::new();
    headers.insert(header::COOKIE, cookie);
    let session = match auth::cookie_session(&state, &headers).await {
        Ok(Some(session)) => session,
        Ok(None) => return response,
        Err(e) => {
            tracing::warn!(error = %e.message(), "error page: cannot find who is signed in");
            return response;
        }
    };
    let user = pages::PageUser {
        user: session.user,
        csrf_token: session.csrf_token,
    };
    match user.layout(&state, "").await {
        Ok(layout) => error::with_navigation(response, layout),
        Err(_) => {
            tracing::warn!("error page: cannot read the signed-in user's layout");
            response
        }
    }
}

/// What every response may load: only our own scripts, styles and connections; no inline script or style,
/// no plugin, no framing, no foreign form target.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; \
    form-action 'self'";

/// `GET /healthz`: the process is up and the database answers.
async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(json!({"status": "ok"})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "database unreachable"})),
            )
                .into_response()
        }
    }
}

/// `GET /metrics`: Prometheus text; with a metrics token set, only for requests that bear it.
async fn metrics_text(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.metrics_token {
        use secrecy::ExposeSecret as _;
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !sent.is_some_and(|sent| auth::same(sent, token.expose_secret())) {
            return ApiError::Unauthenticated.into_response();
        }
    }
    let runs = state.store.sync_run_stats().await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "metrics: cannot read sync runs");
        Vec::new()
    });
    let jobs = state.store.job_counts().await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "metrics: cannot read jobs");
        Vec::new()
    });
    let mut text = state.metrics.render(&runs, &jobs);
    text.push_str(&format!(
        "# HELP yelp_ads_list_cache_bytes Bytes of program-list bodies cached.\n\
         # TYPE yelp_ads_list_cache_bytes gauge\nyelp_ads_list_cache_bytes {}\n",
        state.list_bodies.weighted_bytes()
    ));
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}

/// A span per request (method, route template, never the query or headers), its status and latency in the
/// log, and the request counted for metrics.
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = request.method().clone();
    let span = tracing::info_span!("request", %method, route);
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    state.metrics.http_request(&route, status);
    span.in_scope(|| {
        tracing::info!(
            status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "served"
        );
    });
    response
}

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    response
}
