//! The JSON + SSE API under `/api`, with the replaced system's paths and shapes.

mod jobs;
mod programs;
mod sync;

use axum::Router;

use super::AppState;

/// Every `/api` route but sign-in.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(jobs::router())
        .merge(programs::router())
        .merge(sync::router())
}
