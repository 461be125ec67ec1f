//! HTTP front ends over [`SimState`]: the partner API (Basic auth, faults, stats), the Reporting API (Bearer
//! auth, the same faults and stats) and `/_sim`.

mod business_info;
pub(crate) mod control;
mod features;
mod jobs;
mod mutations;
mod portfolio;
mod programs;
mod reporting;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};

use crate::error::ApiError;
use crate::middleware;
use crate::state::SimState;

/// Prefix of the control API, which is exempt from auth, faults and stats.
const CONTROL_PREFIX: &str = "/_sim";

/// The partner endpoints; route templates double as the keys of the stats.
pub(crate) fn partner_routes(state: SimState) -> Router<SimState> {
    Router::new()
        .route("/programs/v1", get(programs::list_all))
        .route("/v1/programs/info/{program_id}", get(programs::info))
        .route(
            "/v1/programs/list/{business_id}",
            get(programs::list_for_business),
        )
        .route("/v1/business_info/{business_ids}", get(business_info::show))
        .route("/v1/reseller/program/create", post(mutations::create))
        .route(
            "/v1/reseller/program/{program_id}/edit",
            post(mutations::edit),
        )
        .route(
            "/v1/reseller/program/{program_id}/end",
            post(mutations::end),
        )
        .route("/v1/reseller/status/{job_id}", get(jobs::status))
        .route("/program/{program_id}/pause/v1", post(mutations::pause))
        .route("/program/{program_id}/resume/v1", post(mutations::resume))
        .route(
            "/program/{program_id}/features/v1",
            get(features::show)
                .post(features::update)
                .delete(features::remove),
        )
        .route(
            "/program/{program_id}/portfolio/v1",
            post(portfolio::create),
        )
        .route(
            "/program/{program_id}/portfolio/{project_id}/v1",
            get(portfolio::show)
                .put(portfolio::update)
                .delete(portfolio::remove),
        )
        .route(
            "/program/{program_id}/portfolio/{project_id}/photos/v1",
            get(portfolio::photos).post(portfolio::add_photo),
        )
        .route(
            "/program/{program_id}/portfolio/{project_id}/photos/{photo_id}/v1",
            delete(portfolio::remove_photo),
        )
        .route(
            "/v3/reporting/businesses/daily",
            post(reporting::request_daily),
        )
        .route(
            "/v3/reporting/businesses/monthly",
            post(reporting::request_monthly),
        )
        .route(
            "/v3/reporting/businesses/daily/{report_id}",
            get(reporting::show_daily),
        )
        .route(
            "/v3/reporting/businesses/monthly/{report_id}",
            get(reporting::show_monthly),
        )
        .route_layer(from_fn_with_state(state, middleware::partner))
}

/// Unknown routes (and known paths with another method): 404 "The requested route does not exist".
pub(crate) async fn no_route(State(state): State<SimState>, request: Request) -> Response {
    if !request.uri().path().starts_with(CONTROL_PREFIX) {
        state.count_request("OTHER");
    }
    ApiError::NoRoute.into_response()
}
