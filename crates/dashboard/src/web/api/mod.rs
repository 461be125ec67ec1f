//! The JSON + SSE API under `/api`, with the replaced system's paths and shapes.

mod audit;
mod businesses;
pub(crate) mod change_sets;
mod csv_export;
mod features;
mod full_list;
mod history;
mod jobs;
mod labels;
mod pacing;
mod program_item;
mod programs;
mod reports;
mod schedules;
mod selection;
mod settings;
mod sync;

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::{TimeZone, Utc};
use futures::{Stream, StreamExt};
use serde_json::{Value, json};

use super::AppState;

/// Every `/api` route but sign-in.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(audit::router())
        .merge(history::router())
        .merge(businesses::router())
        .merge(change_sets::router())
        .merge(csv_export::router())
        .merge(features::router())
        .merge(jobs::router())
        .merge(labels::router())
        .merge(pacing::router())
        .merge(programs::router())
        .merge(reports::router())
        .merge(schedules::router())
        .merge(settings::router())
        .merge(sync::router())
}

/// Between comments that keep an idle event stream open through proxies.
const HEARTBEAT: Duration = Duration::from_secs(15);

/// A `text/event-stream` of `events`, kept alive by comments, never cached, and not buffered by a proxy
/// (nginx buffers responses unless told not to; a buffered progress stream arrives all at the end).
fn event_stream(events: impl Stream<Item = Event> + Send + 'static) -> Response {
    let mut response = Sse::new(events.map(Ok::<_, Infallible>))
        .keep_alive(KeepAlive::new().interval(HEARTBEAT))
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// A time (unix ms) as RFC 3339, or null.
fn iso(ms: Option<i64>) -> Value {
    ms.and_then(|ms| Utc.timestamp_millis_opt(ms).single())
        .map_or(Value::Null, |t| json!(t.to_rfc3339()))
}
