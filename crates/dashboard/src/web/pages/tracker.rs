//! The job tracker as a page first shows it; `tracker.js` keeps it live from the job's event stream (or
//! the status endpoint).

use serde_json::Value;

use super::filters::{datetime, iso};
use crate::store::{JobRecord, JobStatus, JobType};
use crate::web::AppState;
use crate::web::error::{ApiError, PageResult};
use crate::web::view::BusinessRef;

/// A job as the tracker shows it.
pub struct TrackerView {
    /// The job's id.
    pub job_id: String,
    /// What the job does, for people ("Create program").
    pub job_label: &'static str,
    /// Where it stands.
    pub status: JobStatus,
    /// The status for people.
    pub status_label: &'static str,
    /// 0–100.
    pub progress: u8,
    /// Seconds to the typical end while unfinished.
    pub eta_seconds: u64,
    /// When it was submitted, for people.
    pub created: String,
    /// When it was submitted, RFC 3339.
    pub created_iso: String,
    /// When it ended, for people.
    pub completed: Option<String>,
    /// The program, once known.
    pub program_id: Option<String>,
    /// The business concerned, by name (not shown on a tracker the script starts: the form names it).
    pub business: Option<BusinessRef>,
    /// Every reason it failed.
    pub reasons: Vec<String>,
    /// A duplicate's copies of its source's features.
    pub steps: Vec<StepLine>,
}

/// One copy of a feature, as the tracker lists it.
pub struct StepLine {
    /// The feature, for people.
    pub label: String,
    /// `sending`, `copied` or `failed`.
    pub state: &'static str,
    /// Why it failed.
    pub message: Option<String>,
}

impl TrackerView {
    /// A tracker of no job yet: what `tracker.js` copies and fills in when a form is sent from the page.
    pub fn blank() -> Self {
        Self {
            job_id: String::new(),
            job_label: "Job",
            status: JobStatus::Pending,
            status_label: status_label(JobStatus::Pending),
            progress: 0,
            eta_seconds: 0,
            created: String::new(),
            created_iso: String::new(),
            completed: None,
            program_id: None,
            business: None,
            reasons: Vec::new(),
            steps: Vec::new(),
        }
    }

    /// Whether the job has ended.
    pub fn finished(&self) -> bool {
        !self.status.is_unfinished()
    }
}

/// A job's status for people.
pub fn status_label(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Pending => "Pending",
        JobStatus::InProgress => "In progress",
        JobStatus::Completed => "Completed",
        JobStatus::Failed => "Failed",
    }
}

/// What a job of this type does, for people.
pub fn job_label(job_type: JobType) -> &'static str {
    match job_type {
        JobType::Create => "Create program",
        JobType::Edit => "Edit program",
        JobType::Duplicate => "Duplicate program",
        JobType::Terminate => "End program",
        JobType::Pause => "Pause program",
        JobType::Resume => "Resume program",
    }
}

/// The messages of a job's stored errors (`[{field, code, message}]`).
pub fn reasons(job: &JobRecord) -> Vec<String> {
    let errors: Value = job
        .errors
        .as_deref()
        .and_then(|e| serde_json::from_str(e).ok())
        .unwrap_or(Value::Null);
    errors
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|e| e.get("message").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Job `job_id` of the workspace; 404 when it is not one of its jobs.
pub async fn find(state: &AppState, workspace_id: &str, job_id: &str) -> PageResult<JobRecord> {
    let valid = !job_id.is_empty()
        && job_id.len() <= 64
        && job_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let job = if valid {
        state.store.job(workspace_id, job_id).await?
    } else {
        None
    };
    Ok(job.ok_or_else(|| ApiError::NotFound(format!("job {job_id} not found")))?)
}

/// The tracker of a job.
pub async fn view(state: &AppState, job: &JobRecord) -> PageResult<TrackerView> {
    let progress = state.jobs.progress(job).await?;
    let business = match job.business_id.as_deref() {
        Some(id) => Some(BusinessRef::new(
            id,
            state
                .store
                .business_profile(&job.workspace_id, id)
                .await?
                .as_ref(),
        )),
        None => None,
    };
    Ok(TrackerView {
        job_id: job.id.clone(),
        job_label: job_label(job.job_type),
        status: job.status,
        status_label: status_label(job.status),
        progress: progress.progress,
        eta_seconds: progress.eta_seconds,
        created: datetime(job.created_at),
        created_iso: iso(job.created_at),
        completed: job.completed_at.map(datetime),
        program_id: job.program_id.clone(),
        business,
        reasons: reasons(job),
        steps: state
            .store
            .job_steps(&job.id)
            .await?
            .into_iter()
            .map(|step| StepLine {
                label: yelp_partner_api::FeatureType::from_wire(&step.feature_type)
                    .label()
                    .to_owned(),
                state: step.state.as_str(),
                message: step.message,
            })
            .collect(),
    })
}
