//! `/jobs`: the workspace's job history (filters by type, status and period, in the URL with the history
//! API's names) with the active jobs on top, kept live by `jobs.js`; `/jobs/{job_id}`: one job's tracker.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::program_status::TimelineLine;
use super::tracker::{self, TrackerView, job_label, status_label};
use super::{Layout, Page, PageUser};
use crate::jobs::{JobStatus, JobType};
use crate::store::{BusinessProfile, JobRecord, now_ms};
use crate::web::AppState;
use crate::web::error::PageResult;
use crate::web::extract::{Params, PathParam};
use crate::web::params::job_filter;
use crate::web::view::BusinessRef;

/// Finished jobs stay among the active ones this long (ms), as in the active-jobs API.
const RECENTLY_FINISHED_MS: i64 = 5 * 60 * 1000;
/// Periods offered, in days.
const PERIODS: [u64; 5] = [1, 7, 30, 90, 365];

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/jobs", get(list))
        .route("/jobs/{job_id}", get(one))
}

/// A job as a list shows it.
pub struct JobRow {
    /// Its id.
    pub id: String,
    /// What it does.
    pub job_type: JobType,
    /// What it does, for people.
    pub label: &'static str,
    /// Where it stands.
    pub status: JobStatus,
    /// The status for people.
    pub status_label: &'static str,
    /// The program, once known.
    pub program_id: Option<String>,
    /// The business concerned, by name.
    pub business: Option<BusinessRef>,
    /// Who asked for it.
    pub username: String,
    /// When it was submitted.
    pub created: String,
    /// When it ended.
    pub completed: Option<String>,
    /// Why it failed.
    pub reasons: Vec<String>,
    /// What it changed, in words ("Budget $75.00 → $450.50"), once its program was read back.
    pub changes: Vec<String>,
}

impl JobRow {
    /// The row of a job, naming its business from `businesses`.
    pub fn new(job: &JobRecord, businesses: &HashMap<String, BusinessProfile>) -> Self {
        Self {
            id: job.id.clone(),
            job_type: job.job_type,
            label: job_label(job.job_type),
            status: job.status,
            status_label: status_label(job.status),
            program_id: job.program_id.clone(),
            business: job
                .business_id
                .as_deref()
                .map(|id| BusinessRef::of(id, businesses)),
            username: job.username.clone().unwrap_or_default(),
            created: super::filters::datetime(job.created_at),
            completed: job.completed_at.map(super::filters::datetime),
            reasons: tracker::reasons(job),
            changes: Vec::new(),
        }
    }

    /// The rows of `jobs`, their businesses named in one lookup.
    pub async fn of(
        state: &AppState,
        workspace_id: &str,
        jobs: &[JobRecord],
    ) -> PageResult<Vec<Self>> {
        let ids: Vec<&str> = jobs
            .iter()
            .filter_map(|j| j.business_id.as_deref())
            .collect();
        let businesses = state.store.business_profiles_of(workspace_id, &ids).await?;
        let job_ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
        let mut changes: HashMap<String, Vec<String>> = HashMap::new();
        for entry in state.store.history_of_jobs(workspace_id, &job_ids).await? {
            if let Some(job) = &entry.job_id {
                changes
                    .entry(job.clone())
                    .or_default()
                    .push(crate::history::change_words(&entry));
            }
        }
        Ok(jobs
            .iter()
            .map(|j| Self {
                changes: changes.remove(&j.id).unwrap_or_default(),
                ..Self::new(j, &businesses)
            })
            .collect())
    }

    /// Whether it has not ended yet.
    pub fn running(&self) -> bool {
        self.status.is_unfinished()
    }
}

#[derive(Template)]
#[template(path = "jobs.html")]
struct JobsPage {
    layout: Layout,
    job_type: String,
    status: String,
    days: u64,
    job_types: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    periods: [u64; 5],
    active: Vec<JobRow>,
    history: Vec<JobRow>,
}

impl JobsPage {
    fn any_running(&self) -> bool {
        self.active.iter().any(JobRow::running)
    }
}

/// `GET /jobs?job_type=&status=&days=7`.
async fn list(
    State(state): State<AppState>,
    user: PageUser,
    params: Params,
) -> PageResult<Response> {
    let filter = job_filter(&params)?;
    let ws = user.workspace_id();
    let active = state
        .store
        .active_jobs(ws, now_ms() - RECENTLY_FINISHED_MS)
        .await?;
    let history = state.store.job_history(ws, &filter).await?;
    let page = JobsPage {
        layout: user.layout(&state, "jobs").await?,
        job_type: filter
            .job_type
            .map(JobType::as_str)
            .unwrap_or_default()
            .to_owned(),
        status: filter
            .status
            .map(JobStatus::as_str)
            .unwrap_or_default()
            .to_owned(),
        days: params.number("days", 1..=365)?.unwrap_or(7),
        job_types: JobType::ALL
            .iter()
            .map(|t| (t.as_str(), job_label(*t)))
            .collect(),
        statuses: JobStatus::ALL
            .iter()
            .map(|s| (s.as_str(), status_label(*s)))
            .collect(),
        periods: PERIODS,
        active: JobRow::of(&state, ws, &active).await?,
        history: JobRow::of(&state, ws, &history).await?,
    };
    Ok(Page(page).into_response())
}

#[derive(Template)]
#[template(path = "job.html")]
struct JobPage {
    layout: Layout,
    tracker: Option<TrackerView>,
    username: String,
    /// What the job changed, before → after.
    changes: Vec<TimelineLine>,
}

/// `GET /jobs/{job_id}`: one job's tracker.
async fn one(
    State(state): State<AppState>,
    user: PageUser,
    PathParam(job_id): PathParam,
) -> PageResult<Response> {
    let job = tracker::find(&state, user.workspace_id(), &job_id).await?;
    let changes = state
        .store
        .history_of_jobs(user.workspace_id(), &[job.id.as_str()])
        .await?
        .iter()
        .map(TimelineLine::of)
        .collect();
    let page = JobPage {
        layout: user.layout(&state, "jobs").await?,
        tracker: Some(tracker::view(&state, &job).await?),
        username: job.username.clone().unwrap_or_default(),
        changes,
    };
    Ok(Page(page).into_response())
}
