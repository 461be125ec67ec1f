//! What happens to every partner request before its handler: counting, latency, faults, auth.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::error::ApiError;
use crate::params::QueryParams;
use crate::state::{Fault, Faults, QueueFull, SimState};

/// Route of the list-all endpoint, the one `fail_offsets_from` applies to.
const LIST_ALL: &str = "/programs/v1";

/// Route of the business-info endpoint, the one `business_info_fails` applies to.
const BUSINESS_INFO: &str = "/v1/business_info/{business_ids}";

/// Routes whose answer `lose_answer_rate` may lose after the change is made (their reads excepted).
const SUBMISSIONS: [&str; 4] = [
    "/v1/reseller/program/create",
    "/v1/reseller/program/{program_id}/edit",
    "/v1/reseller/program/{program_id}/end",
    "/program/{program_id}/features/v1",
];

/// Stats, in-flight gauge, a slot of the account's capacity, latency, fault dice, then Basic auth; in that
/// order (see the crate docs).
pub(crate) async fn partner(
    State(state): State<SimState>,
    request: Request,
    next: Next,
) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || request.uri().path().to_owned(),
        |p| p.as_str().to_owned(),
    );
    let method = request.method().clone();
    state.count_request(&format!("{method} {route}"));
    let _in_flight = state.enter();
    // Reporting is another API (api.yelp.com) with limits of its own; the slots are the partner API's.
    let reporting = route.starts_with(crate::reporting::ROUTE_PREFIX);
    // The slot is held while the request is served, its latency included, as Yelp's are.
    let _slot = if reporting {
        None
    } else {
        match state.take_slot().await {
            Ok(slot) => slot,
            Err(QueueFull) => {
                tracing::debug!(%method, route, "queue full");
                return fault_response(
                    Fault::RateLimited,
                    &Faults {
                        retry_after_seconds: 1,
                        ..state.faults()
                    },
                );
            }
        }
    };

    let faults = state.faults();
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    if let Some(fault) = state.roll_fault(&faults) {
        tracing::debug!(%method, route, ?fault, "injected fault");
        return fault_response(fault, &faults);
    }
    if let Some(hold) = state.roll_stall(&faults) {
        tracing::debug!(%method, route, hold_ms = hold.as_millis() as u64, "injected stall");
        tokio::time::sleep(hold).await;
    }
    if route == LIST_ALL && fails_offset(&faults, request.uri().query()) {
        tracing::debug!(%method, route, "injected deep-offset failure");
        return fault_response(Fault::ServerError(500), &faults);
    }
    if route == BUSINESS_INFO && faults.business_info_fails {
        tracing::debug!(%method, route, "injected business-info failure");
        return fault_response(Fault::ServerError(500), &faults);
    }
    // Reporting takes the Fusion key (Bearer); every other partner route the partner pair (Basic).
    let allowed = if reporting {
        crate::reporting::bearer_authorized(&state, request.headers())
    } else {
        authorized(&state, request.headers())
    };
    if !allowed {
        tracing::debug!(%method, route, "refused credentials");
        return if reporting {
            crate::reporting::unauthorized()
        } else {
            ApiError::Unauthorized
        }
        .into_response();
    }
    let response = next.run(request).await;
    tracing::debug!(%method, route, status = response.status().as_u16(), "partner request");
    if response.status().is_success()
        && method != axum::http::Method::GET
        && SUBMISSIONS.contains(&route.as_str())
        && state.roll_lost_answer(&faults)
    {
        tracing::debug!(%method, route, "injected lost answer");
        return fault_response(Fault::ServerError(504), &faults);
    }
    response
}

fn fails_offset(faults: &Faults, query: Option<&str>) -> bool {
    let Some(from) = faults.fail_offsets_from else {
        return false;
    };
    // An offset the handler would refuse (400) is left to the handler.
    match QueryParams::parse(query).natural("offset") {
        Ok(offset) => offset.unwrap_or(0) >= from,
        Err(_) => false,
    }
}

fn fault_response(fault: Fault, faults: &Faults) -> Response {
    match fault {
        Fault::ServerError(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let text = format!(
                "{} {}\n",
                status.as_u16(),
                status.canonical_reason().unwrap_or("Server Error")
            );
            (status, text).into_response()
        }
        Fault::RateLimited => {
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                axum::Json(json!({"error": {
                    "id": "TOO_MANY_REQUESTS",
                    "description": "You have exceeded the rate limit. Retry after the time in Retry-After.",
                }})),
            )
                .into_response();
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(faults.retry_after_seconds),
            );
            response
        }
        Fault::Drop => {
            // A body whose first chunk is an error makes hyper abort the connection mid-response.
            let chunks = futures::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "simulated dropped connection",
                ))
            });
            let mut response = Response::new(Body::from_stream(chunks));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Fault::Malformed => {
            // A complete HTTP answer whose JSON stops part-way, as a truncating proxy would send it.
            let mut response = Response::new(Body::from(
                r#"{"payment_programs": [{"program_id": "Qx7Lm2VbT0aZpR9sYc4kWg", "program_ty"#,
            ));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
    }
}

/// Whether the request carries the partner's Basic credentials. Never logs them.
fn authorized(state: &SimState, headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, encoded)) = value.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Ok(decoded) = STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let Ok(text) = String::from_utf8(decoded) else {
        return false;
    };
    let Some((user, password)) = text.split_once(':') else {
        return false;
    };
    state.credentials_match(user, password)
}
