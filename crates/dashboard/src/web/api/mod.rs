//! The JSON + SSE API under `/api`, with the replaced system's paths and shapes.

mod audit;
mod businesses;
pub(crate) mod change_sets;
mod csv_export;
mod features;
mod full_list;
mod jobs;
mod labels;
mod program_item;
mod programs;
mod schedules;
mod selection;
mod settings;
mod sync;

use axum::Router;

use super::AppState;

/// Every `/api` route but sign-in.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(audit::router())
        .merge(businesses::router())
        .merge(change_sets::router())
        .merge(csv_export::router())
        .merge(features::router())
        .merge(jobs::router())
        .merge(labels::router())
        .merge(programs::router())
        .merge(schedules::router())
        .merge(settings::router())
        .merge(sync::router())
}
