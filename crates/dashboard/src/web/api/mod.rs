//! The JSON + SSE API under `/api`, with the replaced system's paths and shapes.

mod businesses;
mod full_list;
mod jobs;
mod labels;
mod program_item;
mod programs;
mod settings;
mod sync;

use axum::Router;

use super::AppState;

pub(crate) use jobs::job_filter;
pub(crate) use programs::program_query_of;
pub(crate) use settings::{
    CredentialsInput, change_role, credentials_view, save_credentials, test_connection,
};

/// Every `/api` route but sign-in.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(businesses::router())
        .merge(jobs::router())
        .merge(labels::router())
        .merge(programs::router())
        .merge(settings::router())
        .merge(sync::router())
}
