//! `/edit/{program_id}`: the program form filled with the program's current values, and the buttons that
//! pause, resume, duplicate and end it. Each change is a job whose tracker shows above the form
//! (`?job=`). Without JavaScript every button is a form posting here; `program-form.js` sends them to the
//! API instead. The schedule form posts here too (`/edit/{program_id}/schedule`): a pause (or a pause
//! window), a resume, a budget or an end at a time of the workspace's time zone, then the schedules page.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{NaiveDate, Utc};
use serde_json::Value;
use yelp_partner_api::ProgramType;

use super::create::BusinessCard;
use super::filters;
use super::program_form::{self, ProgramForm};
use super::schedules::{form_time, to_schedules};
use super::tracker::{self, TrackerView};
use super::{FormFields, Layout, Page, PageForm, PageUser, see_other, url_part};
use crate::change_sets::operation::{Operation, OperationDraft};
use crate::error::Error;
use crate::jobs::draft::{self, Dollars, DuplicateDraft, Loose};
use crate::jobs::{SubmissionToken, validate};
use crate::store::{StoredProgram, WorkspaceZone};
use crate::web::AppState;
use crate::web::error::{ApiError, PageResult};
use crate::web::extract::{Params, PathParam};
use crate::web::view::BusinessRef;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/edit/{program_id}", get(page).post(submit))
        .route("/edit/{program_id}/pause", post(pause))
        .route("/edit/{program_id}/resume", post(resume))
        .route("/edit/{program_id}/end", post(end))
        .route("/edit/{program_id}/duplicate", post(duplicate))
        .route("/edit/{program_id}/schedule", post(schedule))
}

/// The changes the schedule form offers: the form's `schedule_kind` and its name.
const SCHEDULE_KINDS: [(&str, &str); 5] = [
    ("pause", "Pause"),
    ("pause_window", "Pause for a window"),
    ("resume", "Resume"),
    ("set_budget", "Set budget"),
    ("end", "End"),
];

/// The schedule form's values as typed, and what was wrong with them.
struct ScheduleForm {
    kind: String,
    value: String,
    at: String,
    until: String,
    /// The field at fault (`kind`, `value`, `at`, `until`, or `form` for the whole) and why.
    errors: Vec<(&'static str, String)>,
}

impl Default for ScheduleForm {
    fn default() -> Self {
        Self {
            kind: "pause".into(),
            value: String::new(),
            at: String::new(),
            until: String::new(),
            errors: Vec::new(),
        }
    }
}

impl ScheduleForm {
    fn from_fields(fields: &FormFields) -> Self {
        Self {
            kind: fields.text("schedule_kind").trim().to_owned(),
            value: fields.text("schedule_value").trim().to_owned(),
            at: fields.text("schedule_at").trim().to_owned(),
            until: fields.text("schedule_until").trim().to_owned(),
            errors: Vec::new(),
        }
    }

    /// Why `field` was refused, if it was.
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    /// The operation of the kind chosen, or why not (noted in `errors`).
    fn operation(&mut self) -> Option<Operation> {
        match self.kind.as_str() {
            "pause" | "pause_window" => Some(Operation::Pause),
            "resume" => Some(Operation::Resume),
            "end" => Some(Operation::End),
            "set_budget" => {
                let draft = OperationDraft {
                    kind: Some(Loose::Given("set_budget".into())),
                    value: Some(Value::String(self.value.clone())),
                };
                match draft.parse() {
                    Ok(operation) => Some(operation),
                    Err(e) => {
                        self.errors.push(("value", ApiError::from(e).message()));
                        None
                    }
                }
            }
            _ => {
                self.errors
                    .push(("kind", "Choose the change to schedule.".into()));
                None
            }
        }
    }

    /// The times typed (wall-clock times of the workspace's `zone`), or why not (noted in `errors`).
    fn times(&mut self, zone: WorkspaceZone) -> (Option<i64>, Option<i64>) {
        let at = match form_time("at", &self.at, zone) {
            Ok(at) => Some(at),
            Err(e) => {
                self.errors.push(("at", e.message()));
                None
            }
        };
        let window = self.kind == "pause_window";
        let until = if self.until.is_empty() {
            if window {
                self.errors
                    .push(("until", format!("Choose when to resume ({zone}).")));
            }
            None
        } else if !window && self.kind != "pause" {
            self.errors.push((
                "until",
                "A resume time goes with a pause only: leave it empty.".into(),
            ));
            None
        } else {
            match form_time("until", &self.until, zone) {
                Ok(until) => Some(until),
                Err(e) => {
                    self.errors.push(("until", e.message()));
                    None
                }
            }
        };
        (at, until)
    }

    /// Notes a refusal of the service beside the field it names.
    fn refused(&mut self, e: &ApiError) {
        let place = |field: Option<&str>| match field {
            Some("at") => "at",
            Some("until") => "until",
            Some("operation") => "value",
            _ => "form",
        };
        match e {
            ApiError::BadRequest { field, message } => {
                self.errors.push((place(field.as_deref()), message.clone()));
            }
            ApiError::Fields(list) => {
                for (field, message) in list {
                    self.errors
                        .push((place(Some(field.as_str())), message.clone()));
                }
            }
            other => self.errors.push(("form", other.message())),
        }
    }
}

/// The duplicate form's values as typed.
#[derive(Default)]
struct DuplicateForm {
    start: String,
    end: String,
    budget: String,
}

#[derive(Template)]
#[template(path = "edit_program.html")]
struct EditPage {
    layout: Layout,
    /// One-time submission tokens of the page's forms (new at every showing).
    edit_token: String,
    duplicate_token: String,
    end_token: String,
    program_id: String,
    type_label: String,
    /// The program's business, by name.
    business: BusinessRef,
    is_cpc: bool,
    /// Why the start date cannot change, when it cannot.
    start_locked: Option<String>,
    form: ProgramForm,
    /// Not shown: an edit keeps its business.
    business_card: Option<BusinessCard>,
    tracker: Option<TrackerView>,
    can_pause: bool,
    can_resume: bool,
    can_end: bool,
    /// The end button was pressed without JavaScript: ask to confirm.
    confirm_end: bool,
    /// Why a pause, resume, duplicate or end was refused.
    action_error: Option<String>,
    /// The earlier job of an identical duplicate, when the last one was refused for it.
    duplicate_of: Option<String>,
    duplicate: DuplicateForm,
    /// The schedule form as typed, with its errors.
    schedule: ScheduleForm,
    schedule_kinds: &'static [(&'static str, &'static str)],
    blank_tracker: TrackerView,
    editing: bool,
    show_cpc: bool,
    program_types: Vec<(&'static str, &'static str)>,
    pacing_methods: Vec<(&'static str, &'static str)>,
    fee_periods: Vec<(&'static str, &'static str)>,
    min_budget: i64,
    min_max_bid: i64,
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// What the edit page shows besides the form.
#[derive(Default)]
struct Extras {
    tracker: Option<TrackerView>,
    confirm_end: bool,
    action_error: Option<String>,
    duplicate_of: Option<String>,
    duplicate: DuplicateForm,
    schedule: ScheduleForm,
}

async fn render(
    state: &AppState,
    user: &PageUser,
    program: &StoredProgram,
    status: StatusCode,
    form: ProgramForm,
    extras: Extras,
) -> PageResult<Response> {
    let today = today();
    let started = program
        .start_date
        .as_deref()
        .and_then(|s| s.parse::<NaiveDate>().ok())
        .is_some_and(|s| s <= today);
    let is_cpc = program.program_type == ProgramType::Cpc.as_str();
    let token = || SubmissionToken::new_random().as_str().to_owned();
    let business_id = program.business_id.as_deref().unwrap_or_default();
    let business = BusinessRef::new(
        business_id,
        state
            .store
            .business_profile(user.workspace_id(), business_id)
            .await?
            .as_ref(),
    );
    let page = EditPage {
        layout: user.layout(state, "programs").await?,
        edit_token: token(),
        duplicate_token: token(),
        end_token: token(),
        program_id: program.program_id.clone(),
        type_label: ProgramType::from_wire(&program.program_type)
            .label()
            .to_owned(),
        business,
        is_cpc,
        start_locked: started.then(|| {
            format!(
                "The program started on {}, so its start date can no longer change.",
                program.start_date.as_deref().unwrap_or("")
            )
        }),
        form,
        business_card: None,
        tracker: extras.tracker,
        // The buttons shown are those the validation would accept; it checks again when one is pressed.
        can_pause: validate::pause(program, today).is_ok(),
        can_resume: validate::resume(program).is_ok(),
        can_end: validate::end(program, today).is_ok(),
        confirm_end: extras.confirm_end,
        action_error: extras.action_error,
        duplicate_of: extras.duplicate_of,
        duplicate: extras.duplicate,
        schedule: extras.schedule,
        schedule_kinds: &SCHEDULE_KINDS,
        blank_tracker: TrackerView::blank(),
        editing: true,
        show_cpc: is_cpc,
        program_types: Vec::new(),
        pacing_methods: program_form::pacing_methods(),
        fee_periods: Vec::new(),
        min_budget: validate::MIN_BUDGET.get(),
        min_max_bid: validate::MIN_MAX_BID.get(),
    };
    Ok((status, Page(page)).into_response())
}

/// `GET /edit/{program_id}[?job=ID]`.
async fn page(
    State(state): State<AppState>,
    user: PageUser,
    PathParam(program_id): PathParam,
    params: Params,
) -> PageResult<Response> {
    user.require_operator()?;
    let program = state.jobs.program(user.workspace_id(), &program_id).await?;
    let tracker = match params.get("job") {
        Some(job_id) => {
            let job = tracker::find(&state, user.workspace_id(), job_id).await?;
            Some(tracker::view(&state, &job).await?)
        }
        None => None,
    };
    let form = ProgramForm::from_program(&program);
    let extras = Extras {
        tracker,
        ..Extras::default()
    };
    render(&state, &user, &program, StatusCode::OK, form, extras).await
}

fn to_job_page(program_id: &str, job_id: &str) -> Response {
    see_other(&format!(
        "/edit/{}?job={}",
        url_part(program_id),
        url_part(job_id)
    ))
}

/// `POST /edit/{program_id}`: the changed fields → an edit job, or the form again with its errors.
async fn submit(
    State(state): State<AppState>,
    PathParam(program_id): PathParam,
    form: PageForm,
) -> PageResult<Response> {
    form.user.require_operator()?;
    let ws = form.user.workspace_id().to_owned();
    let program = state.jobs.program(&ws, &program_id).await?;
    let current = ProgramForm::from_program(&program);
    let typed = ProgramForm {
        program_name: program.program_type.clone(),
        business_id: current.business_id.clone(),
        ..ProgramForm::from_fields(&form.fields)
    };
    let token = program_form::submission_token(&form.fields)?;
    match state
        .jobs
        .edit(
            &form.user.user,
            &program_id,
            typed.edit_draft(&current),
            token.as_ref(),
        )
        .await
    {
        Ok(job_id) => Ok(to_job_page(&program.program_id, &job_id)),
        Err(e) => {
            let (status, refused) = typed.refused(e)?;
            render(
                &state,
                &form.user,
                &program,
                status,
                refused,
                Extras::default(),
            )
            .await
        }
    }
}

/// Shows the edit page again with why an action was refused; errors that are not the user's are not.
async fn refused_action(
    state: &AppState,
    user: &PageUser,
    program: &StoredProgram,
    e: Error,
    duplicate: DuplicateForm,
) -> PageResult<Response> {
    let e = ApiError::from(e);
    if e.is_internal() {
        return Err(e.into());
    }
    let extras = Extras {
        action_error: Some(e.message()),
        duplicate_of: match &e {
            ApiError::Duplicate { job_id, .. } => Some(job_id.clone()),
            _ => None,
        },
        duplicate,
        ..Extras::default()
    };
    let form = ProgramForm::from_program(program);
    render(state, user, program, e.status(), form, extras).await
}

async fn pause_or_resume(
    state: AppState,
    program_id: String,
    form: PageForm,
    pause: bool,
) -> PageResult<Response> {
    let program = form.program_to_change(&state, &program_id).await?;
    match state
        .jobs
        .pause_or_resume(&form.user.user, &program_id, pause, None)
        .await
    {
        Ok(job_id) => Ok(to_job_page(&program.program_id, &job_id)),
        Err(e) => refused_action(&state, &form.user, &program, e, DuplicateForm::default()).await,
    }
}

/// `POST /edit/{program_id}/pause`.
async fn pause(
    State(state): State<AppState>,
    PathParam(program_id): PathParam,
    form: PageForm,
) -> PageResult<Response> {
    pause_or_resume(state, program_id, form, true).await
}

/// `POST /edit/{program_id}/resume`.
async fn resume(
    State(state): State<AppState>,
    PathParam(program_id): PathParam,
    form: PageForm,
) -> PageResult<Response> {
    pause_or_resume(state, program_id, form, false).await
}

/// `POST /edit/{program_id}/end`: asks to confirm first, unless `confirm=yes` says it was.
async fn end(
    State(state): State<AppState>,
    PathParam(program_id): PathParam,
    form: PageForm,
) -> PageResult<Response> {
    let program = form.program_to_change(&state, &program_id).await?;
    if form.fields.get("confirm") != Some("yes") {
        let extras = Extras {
            confirm_end: true,
            ..Extras::default()
        };
        let current = ProgramForm::from_program(&program);
        return render(
            &state,
            &form.user,
            &program,
            StatusCode::OK,
            current,
            extras,
        )
        .await;
    }
    let token = program_form::submission_token(&form.fields)?;
    match state
        .jobs
        .end(&form.user.user, &program_id, token.as_ref())
        .await
    {
        Ok(job_id) => Ok(to_job_page(&program.program_id, &job_id)),
        Err(e) => refused_action(&state, &form.user, &program, e, DuplicateForm::default()).await,
    }
}

/// The draft of `POST /api/reseller/program/{id}/duplicate` for the duplicate form: the fields filled in.
fn duplicate_draft(fields: &FormFields) -> (DuplicateForm, DuplicateDraft) {
    let typed = DuplicateForm {
        start: fields.text("start").trim().to_owned(),
        end: fields.text("end").trim().to_owned(),
        budget: fields.text("budget").trim().to_owned(),
    };
    let draft = DuplicateDraft {
        start: draft::typed(&typed.start),
        end: draft::typed(&typed.end),
        budget: Dollars::typed(&typed.budget),
        confirm_duplicate: fields.has("confirm_duplicate").then(|| true.into()),
        ..DuplicateDraft::default()
    };
    (typed, draft)
}

/// `POST /edit/{program_id}/duplicate`: `start`, `end`, `budget` → a duplicate job.
async fn duplicate(
    State(state): State<AppState>,
    PathParam(program_id): PathParam,
    form: PageForm,
) -> PageResult<Response> {
    let program = form.program_to_change(&state, &program_id).await?;
    let (typed, draft) = duplicate_draft(&form.fields);
    let token = program_form::submission_token(&form.fields)?;
    match state
        .jobs
        .duplicate(&form.user.user, &program_id, draft, token.as_ref())
        .await
    {
        Ok(job_id) => Ok(to_job_page(&program.program_id, &job_id)),
        Err(e) => refused_action(&state, &form.user, &program, e, typed).await,
    }
}

/// `POST /edit/{program_id}/schedule` (`schedule_kind`, `schedule_value`, `schedule_at`, `schedule_until`:
/// `datetime-local` values read in the workspace's time zone): the change scheduled, then the schedules page; refused, this page
/// again with why beside the fields, and nothing scheduled.
async fn schedule(
    State(state): State<AppState>,
    PathParam(program_id): PathParam,
    form: PageForm,
) -> PageResult<Response> {
    let program = form.program_to_change(&state, &program_id).await?;
    let mut typed = ScheduleForm::from_fields(&form.fields);
    let operation = typed.operation();
    let zone = state.store.workspace_zone(form.user.workspace_id()).await?;
    let (at, until) = typed.times(zone);
    let mut status = StatusCode::BAD_REQUEST;
    if let (Some(operation), Some(at), true) = (operation, at, typed.errors.is_empty()) {
        match state
            .change_sets
            .schedule(
                &form.user.user,
                vec![program.program_id.clone()],
                operation,
                at,
                until,
            )
            .await
        {
            Ok(_) => return Ok(to_schedules()),
            Err(e) => {
                let e = ApiError::from(e);
                if e.is_internal() {
                    return Err(e.into());
                }
                status = e.status();
                typed.refused(&e);
            }
        }
    }
    let extras = Extras {
        schedule: typed,
        ..Extras::default()
    };
    let current = ProgramForm::from_program(&program);
    render(&state, &form.user, &program, status, current, extras).await
}
