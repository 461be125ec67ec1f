//! `/create-program`: the form for a new program. Posted without JavaScript it is validated by the same
//! code as the API and either shown again with every field's error, or submitted as a job whose tracker
//! then sits above the form (`?job=`); `program-form.js` sends it to the API instead and shows the tracker
//! without a reload.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;

use super::filters;
use super::program_form::{self, ProgramForm};
use super::tracker::{self, TrackerView};
use super::{Layout, Page, PageForm, PageUser, see_other, url_part};
use crate::jobs::{JobType, SubmissionToken, validate};
use crate::web::AppState;
use crate::web::error::PageResult;
use crate::web::extract::Params;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/create-program", get(page).post(submit))
}

#[derive(Template)]
#[template(path = "create_program.html")]
struct CreatePage {
    layout: Layout,
    /// The form's one-time submission token (new at every showing).
    submission_token: String,
    form: ProgramForm,
    tracker: Option<TrackerView>,
    blank_tracker: TrackerView,
    editing: bool,
    show_cpc: bool,
    start_locked: Option<String>,
    program_types: Vec<(&'static str, &'static str)>,
    pacing_methods: Vec<(&'static str, &'static str)>,
    fee_periods: Vec<(&'static str, &'static str)>,
    min_budget: i64,
    min_max_bid: i64,
}

impl CreatePage {
    async fn render(
        state: &AppState,
        user: &PageUser,
        status: StatusCode,
        form: ProgramForm,
        tracker: Option<TrackerView>,
    ) -> PageResult<Response> {
        let page = Self {
            layout: user.layout(state, "create").await?,
            submission_token: SubmissionToken::new_random().as_str().to_owned(),
            form,
            tracker,
            blank_tracker: TrackerView::blank(),
            editing: false,
            // Shown whatever the type, for browsers without JavaScript; the script hides it for other types.
            show_cpc: true,
            start_locked: None,
            program_types: program_form::program_types(),
            pacing_methods: program_form::pacing_methods(),
            fee_periods: program_form::fee_periods(),
            min_budget: validate::MIN_BUDGET.get(),
            min_max_bid: validate::MIN_MAX_BID.get(),
        };
        Ok((status, Page(page)).into_response())
    }
}

/// `GET /create-program[?job=ID]`: the form, with the tracker of a job just submitted above it and the
/// form filled as that job asked (to correct it after a failure, or to create a similar one).
async fn page(
    State(state): State<AppState>,
    user: PageUser,
    params: Params,
) -> PageResult<Response> {
    user.require_operator()?;
    let (form, tracker) = match params.get("job") {
        None => (ProgramForm::new_program(), None),
        Some(job_id) => {
            let job = tracker::find(&state, user.workspace_id(), job_id).await?;
            let form = match serde_json::from_str::<Value>(&job.request) {
                Ok(request) if job.job_type == JobType::Create => {
                    ProgramForm::from_create_request(&request)
                }
                _ => ProgramForm::new_program(),
            };
            (form, Some(tracker::view(&state, &job).await?))
        }
    };
    CreatePage::render(&state, &user, StatusCode::OK, form, tracker).await
}

/// `POST /create-program`: the form's fields → a create job and a 303 to its tracker, or the form again.
async fn submit(State(state): State<AppState>, form: PageForm) -> PageResult<Response> {
    form.user.require_operator()?;
    let typed = ProgramForm::from_fields(&form.fields);
    let token = program_form::submission_token(&form.fields)?;
    let mut body = typed.create_body();
    if form.fields.has("confirm_duplicate") {
        body["confirm_duplicate"] = Value::Bool(true);
    }
    match state
        .jobs
        .create(&form.user.user, &body, token.as_ref())
        .await
    {
        Ok(job_id) => Ok(see_other(&format!(
            "/create-program?job={}",
            url_part(&job_id)
        ))),
        Err(e) => {
            let (status, refused) = typed.refused(e)?;
            CreatePage::render(&state, &form.user, status, refused, None).await
        }
    }
}
