//! A faithful, stateful simulator of Yelp's Partner Advertising API.
//!
//! It implements the contract in `shared/yelp-partner-api.md`: program listing with its quirks,
//! asynchronous create/edit/end jobs with live-shaped receipts, pause/resume, program features and
//! portfolio projects with Yelp's own checks, business info (names, addresses, closed / removed from
//! search / migrated, categories), Reporting API v3 reports consistent with the programs' spend (Bearer auth),
//! Basic auth, and injectable faults (latency, 5xx, 429, dropped connections, truncated JSON, stalls past a client's
//! timeout, failing deep pages, a partner password changed at run time).
//! A `/_sim` control API, mirrored by methods of [`SimState`], lets tests and demos steer it.
//!
//! Every partner request goes through, in order: counting (per route template, plus the in-flight
//! gauge), a wait in arrival order for one of the account's `--capacity` slots (held until the answer;
//! beyond `--queue-max` waiting, 429 with `Retry-After: 1`; reporting routes excepted), the latency sleep, the fault dice, the stall dice, the deep-offset fault, Basic auth (Bearer
//! for the reporting routes), the handler.
//! A request stopped before its handler changes nothing.
//!
//! Jobs complete `job_seconds` after submission. Due jobs are completed, in due order, whenever
//! anything reads or changes the world, so the state does not depend on who polls.
//!
//! Control API (JSON, no auth, no faults, not counted):
//!
//! | request | answer |
//! |---|---|
//! | `POST /_sim/programs` `{"count", "business_id"?, "program_type"?}` | 201 `{"program_ids": [...]}` |
//! | `GET /_sim/programs` | `{"programs": [...]}` in listing order, info shape |
//! | `GET /_sim/programs/{id}` | the program |
//! | `PATCH /_sim/programs/{id}` [`ProgramPatch`] | the program; 400 on bad values |
//! | `DELETE /_sim/programs/{id}` | 204; 404 if unknown |
//! | `GET /_sim/businesses` | `{"businesses": [...]}`, each a [`Business`] whose `active` says whether a create can succeed |
//! | `PATCH /_sim/businesses/{id}` [`BusinessPatch`] (`name`, `is_closed`, `is_removed_from_search`, `migrated_to`, `active`, `categories`) | the business; 400 on bad values |
//! | `GET` / `PUT /_sim/faults` [`FaultsPatch`] | [`Faults`] |
//! | `GET` / `PUT /_sim/settings` [`SettingsPatch`] | [`Settings`] |
//! | `GET /_sim/jobs` | `{"jobs": [`[`JobSummary`]`...]}` |
//! | `GET` / `DELETE /_sim/stats` | [`Stats`] (DELETE resets, then answers the fresh stats) |
//! | `GET` / `DELETE /_sim/feature-writes` | `{"writes": [`[`FeatureWriteRecord`]`...]}` in order (DELETE clears: 204) |
//! | `POST /_sim/advance` [`AdvancePatch`] (`{"days": N}`) | [`Advanced`]: "today" moved N days on, CPC programs spent on each |
//! | `GET` / `PUT /_sim/reporting` [`ReportingPatch`] | [`ReportingSettings`] (report delay, daily quota, failure rate; the key is write-only) |
//! | `GET /_sim/reports` | `{"reports": [`[`ReportSummary`]`...]}` in request order |
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sim = yelp_sim::spawn(yelp_sim::SimConfig::for_tests()).await?;
//! let url = format!("{}/programs/v1?limit=40", sim.base_url());
//! # let _ = url;
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod api;
mod business_info;
mod config;
mod error;
mod feature_log;
mod features;
mod jobs;
mod middleware;
mod model;
mod params;
mod portfolio;
mod reporting;
mod seed;
mod spend;
mod state;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::SimConfig;
pub use error::SimError;
pub use feature_log::FeatureWriteRecord;
pub use jobs::{JobKind, JobStatus};
pub use model::{
    Address, Business, CATEGORY_ALIASES, CpcMetrics, FeatureType, FeePeriod, FutureBudgetChange,
    MIN_BUDGET_CENTS, NO_END, PacingMethod, PageUpgradeInfo, ParseEnumError, PauseStatus, Program,
    ProgramStatus, ProgramType, StatusFilter, UNSUPPORTED_CATEGORIES,
};
pub use reporting::{Granularity, ReportSummary, ReportingPatch, ReportingSettings};
pub use spend::{AdvancePatch, Advanced};
pub use state::{
    AddPrograms, BusinessPatch, Faults, FaultsPatch, JobSummary, ProgramPatch, Settings,
    SettingsPatch, SimState, Stats,
};

/// How long [`SimHandle::shutdown`] waits for open requests before cutting them off.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The router of the whole simulator: partner endpoints, `/_sim` and the 404 fallback.
pub fn app(state: SimState) -> Router {
    Router::new()
        .merge(api::partner_routes(state.clone()))
        .merge(api::control::routes())
        .fallback(api::no_route)
        .method_not_allowed_fallback(api::no_route)
        .with_state(state)
}

/// A running simulator. Dropping it stops the server; [`SimHandle::shutdown`] stops it gracefully.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    state: SimState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SimHandle {
    /// `http://HOST:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The simulator's state, to steer or inspect it without HTTP.
    pub fn state(&self) -> &SimState {
        &self.state
    }

    /// Stops accepting connections and waits (up to 5 s) for open requests to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Generates the world of `config`, binds `config.bind` and serves the simulator in the background.
pub async fn spawn(config: SimConfig) -> std::io::Result<SimHandle> {
    let listener = TcpListener::bind(config.bind).await?;
    let addr = listener.local_addr()?;
    // Seeding 100k programs is CPU work; keep it off the async workers.
    let state = tokio::task::spawn_blocking(move || SimState::new(config))
        .await
        .map_err(std::io::Error::other)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let router = app(state.clone());
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, router).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(error) = server.await {
            tracing::error!(%error, "yelp-sim server stopped with an error");
        }
    });
    Ok(SimHandle {
        addr,
        state,
        stop: Some(stop),
        task: Some(task),
    })
}
