//! `/program-status/{program_id}`: everything the mirror knows of one program, its jobs, and when it was
//! last synced (or that Yelp no longer lists it).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use yelp_partner_api::{Program, ProgramType};

use super::filters::{self, datetime};
use super::jobs::JobRow;
use super::{Layout, Page, PageForm, PageUser, see_other, url_part};
use crate::features::words;
use crate::store::{HistoryFilter, JobFilter, custom_name, now_ms};
use crate::web::AppState;
use crate::web::error::{ApiError, PageResult};
use crate::web::extract::PathParam;
use crate::web::view::BusinessRef;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/program-status/{program_id}", get(page))
        .route("/program-status/{program_id}/custom-name", post(set_label))
}

#[derive(Template)]
#[template(path = "program_status.html")]
struct StatusPage {
    layout: Layout,
    program_id: String,
    /// The program's own label.
    custom_name: Option<String>,
    program_type: String,
    type_label: String,
    program_status: String,
    pause_status: String,
    start: String,
    end: String,
    business_id: String,
    partner_business_id: Option<String>,
    business: BusinessRef,
    budget_cents: Option<i64>,
    ad_cost_cents: Option<i64>,
    /// Budget less spend this period.
    remaining_cents: Option<i64>,
    is_autobid: Option<bool>,
    max_bid_cents: Option<i64>,
    fee_period: Option<String>,
    currency: Option<String>,
    impressions: Option<i64>,
    clicks: Option<i64>,
    ad_categories: Vec<String>,
    active_features: Vec<FeatureLine>,
    available_features: Vec<String>,
    first_seen: String,
    updated: String,
    removed_at: Option<String>,
    last_synced: Option<String>,
    jobs: Vec<JobRow>,
    /// The program's history, newest first.
    timeline: Vec<TimelineLine>,
    /// Whether there is more history than the timeline shows.
    more_history: bool,
}

/// One entry of a program's timeline.
pub(super) struct TimelineLine {
    /// When, for people.
    pub at: String,
    /// When, RFC 3339.
    pub at_iso: String,
    /// What changed, in words.
    pub change: String,
    /// Who or what made it.
    pub by: String,
    /// Whether it was made outside this dashboard.
    pub outside: bool,
    /// The job that made it.
    pub job_id: Option<String>,
}

impl TimelineLine {
    pub(super) fn of(e: &crate::store::HistoryEntry) -> Self {
        Self {
            at: datetime(e.at),
            at_iso: filters::iso(e.at),
            change: crate::history::change_words(e),
            by: crate::history::source_words(e),
            outside: e.source == crate::store::HistorySource::Outside.as_str(),
            job_id: e.job_id.clone(),
        }
    }
}

/// An active feature: its name and, when Yelp's answer was read, what it is set to.
struct FeatureLine {
    /// The type as Yelp spells it, for scripts and tests.
    code: String,
    /// Its name for people.
    label: String,
    /// Its setting in words.
    setting: Option<String>,
}

/// `GET /program-status/{program_id}`: removed programs too, shown as removed.
async fn page(
    State(state): State<AppState>,
    user: PageUser,
    PathParam(program_id): PathParam,
) -> PageResult<Response> {
    let ws = user.workspace_id().to_owned();
    let program = state
        .store
        .program_by_given_id(&ws, &program_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("program {program_id} not found")))?;
    let parsed: Option<Program> = serde_json::from_str(&program.raw).ok();
    let metrics = parsed
        .as_ref()
        .and_then(|p| p.program_metrics.clone())
        .unwrap_or_default();
    let custom_name = state
        .store
        .program_labels(&ws, std::slice::from_ref(&program.program_id))
        .await?
        .remove(&program.program_id)
        .and_then(|l| l.custom_name);
    let held = state.features.last_read(&ws, &program.program_id).await?;
    let active_features = parsed
        .as_ref()
        .map(|p| {
            p.active_features
                .iter()
                .map(|t| FeatureLine {
                    code: t.as_str().to_owned(),
                    label: t.label().to_owned(),
                    setting: held
                        .as_ref()
                        .and_then(|h| h.feature(t))
                        .and_then(words::setting),
                })
                .collect()
        })
        .unwrap_or_default();
    let available_features = parsed
        .as_ref()
        .map(|p| {
            p.available_features
                .iter()
                .map(|t| t.label().to_owned())
                .collect()
        })
        .unwrap_or_default();
    let business_id = program.business_id.clone().unwrap_or_default();
    let business = BusinessRef::new(
        &business_id,
        state
            .store
            .business_profile(&ws, &business_id)
            .await?
            .as_ref(),
    );
    let history = state
        .store
        .job_history(
            &ws,
            &JobFilter {
                since: 0,
                status: None,
                yelp_status: None,
                job_type: None,
                program_id: Some(program.program_id.clone()),
                limit: 50,
            },
        )
        .await?;
    let jobs = JobRow::of(&state, &ws, &history).await?;
    let (changes, more_history) = state
        .store
        .history(
            &ws,
            &HistoryFilter {
                program_id: Some(program.program_id.clone()),
                limit: 50,
                ..HistoryFilter::default()
            },
        )
        .await?;
    let timeline = changes.iter().map(TimelineLine::of).collect();
    let runs = state.store.recent_sync_runs(&ws, 20).await?;
    // The mirror's copy is as fresh as the last complete sync, or as the job that wrote it after one.
    let last_synced = runs
        .iter()
        .find(|r| r.status.is_success())
        .and_then(|r| r.finished_at)
        .map(|at| datetime(at.max(program.updated_at)));
    let page = StatusPage {
        layout: user.layout(&state, "programs").await?,
        type_label: ProgramType::from_wire(&program.program_type)
            .label()
            .to_owned(),
        program_status: program.program_status.to_string(),
        pause_status: program.pause_status.to_string(),
        start: program.start_date.clone().unwrap_or_else(|| "—".into()),
        end: program.end_date.clone().unwrap_or_else(|| "No end".into()),
        partner_business_id: parsed
            .as_ref()
            .and_then(|p| p.partner_business_id().map(str::to_owned)),
        business,
        business_id,
        remaining_cents: program
            .budget_cents
            .map(|b| b - program.ad_cost_cents.unwrap_or(0)),
        budget_cents: program.budget_cents,
        ad_cost_cents: program.ad_cost_cents,
        is_autobid: metrics.is_autobid,
        max_bid_cents: program.max_bid_cents,
        fee_period: metrics.fee_period,
        currency: metrics.currency,
        impressions: metrics.billed_impressions,
        clicks: metrics.billed_clicks,
        ad_categories: parsed
            .as_ref()
            .map(|p| p.ad_categories.clone())
            .unwrap_or_default(),
        active_features,
        available_features,
        first_seen: datetime(program.first_seen_at),
        updated: datetime(program.updated_at),
        removed_at: program.removed_at.map(datetime),
        last_synced,
        jobs,
        timeline,
        more_history,
        custom_name,
        program_id: program.program_id,
        program_type: program.program_type,
    };
    Ok(Page(page).into_response())
}

/// `POST /program-status/{program_id}/custom-name` (`custom_name`; empty clears it): the program's own
/// label, then back to its page.
async fn set_label(
    State(state): State<AppState>,
    PathParam(program_id): PathParam,
    form: PageForm,
) -> PageResult<Response> {
    let program = form.program_to_change(&state, &program_id).await?;
    let name = custom_name(Some(form.fields.text("custom_name")))?;
    state
        .store
        .set_custom_name(
            form.user.workspace_id(),
            &program.program_id,
            name.as_deref(),
            &form.user.user.username,
            now_ms(),
        )
        .await?;
    Ok(see_other(&format!(
        "/program-status/{}",
        url_part(&program.program_id)
    )))
}
