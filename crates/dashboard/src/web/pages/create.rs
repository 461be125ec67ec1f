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

use super::filters;
use super::program_form::{self, ProgramForm};
use super::tracker::{self, TrackerView};
use super::{Layout, Page, PageForm, PageUser, see_other, url_part};
use crate::error::Error;
use crate::jobs::asked::Asked;
use crate::jobs::{JobType, SubmissionToken, validate};
use crate::store::{BusinessQuery, ProgramQuery};
use crate::web::AppState;
use crate::web::error::PageResult;
use crate::web::extract::Params;
use crate::web::params::business_query;
use crate::web::view::BusinessRef;

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
    /// The business the form names, as the mirror knows it.
    business_card: Option<BusinessCard>,
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
        let business_card = BusinessCard::of(state, user.workspace_id(), &form.business_id).await?;
        let page = Self {
            layout: user.layout(state, "create").await?,
            submission_token: SubmissionToken::new_random().as_str().to_owned(),
            business_card,
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
        // `?business_id=`: a new program for this business (the businesses page links here).
        None => {
            let mut form = ProgramForm::new_program();
            if let Some(id) = params.get("business_id") {
                form.business_id = id.trim().chars().take(128).collect();
            }
            (form, None)
        }
        Some(job_id) => {
            let job = tracker::find(&state, user.workspace_id(), job_id).await?;
            let form = match Asked::of(&job) {
                Asked::Create(asked) if job.job_type == JobType::Create => {
                    ProgramForm::from_asked(&asked)
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
    let mut typed = ProgramForm::from_fields(&form.fields);
    match resolve_business(&state, form.user.workspace_id(), &typed.business_id).await? {
        Ok(Some(id)) => typed.business_id = id,
        Ok(None) => {}
        Err(message) => {
            let (status, refused) = typed.refused(Error::field("business_id", message))?;
            return CreatePage::render(&state, &form.user, status, refused, None).await;
        }
    }
    let token = program_form::submission_token(&form.fields)?;
    let mut draft = typed.create_draft();
    if form.fields.has("confirm_duplicate") {
        draft.confirm_duplicate = Some(true.into());
    }
    match state
        .jobs
        .create(&form.user.user, draft, token.as_ref())
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

/// At most this many of a business's live programs are listed under the picker.
const CARD_PROGRAMS: usize = 8;

/// The business a create form names, shown under its field: who it is, whether Yelp would refuse a
/// program for it, and the programs it already has (so that a second one is not made by mistake).
pub struct BusinessCard {
    /// It, by name.
    pub business: BusinessRef,
    /// Why Yelp would refuse a new program for it.
    pub inactive_reason: Option<&'static str>,
    /// Its live programs in the mirror.
    pub live_count: u64,
    /// The first of them: `(program id, type, status)`.
    pub programs: Vec<(String, String, String)>,
}

impl BusinessCard {
    /// The card of business `id`, when the mirror knows it.
    async fn of(state: &AppState, workspace_id: &str, id: &str) -> PageResult<Option<Self>> {
        if id.is_empty() || !crate::store::could_be_mirrored(id) {
            return Ok(None);
        }
        let Some(profile) = state.store.business_profile(workspace_id, id).await? else {
            return Ok(None);
        };
        let query = ProgramQuery {
            business_id: Some(id.to_owned()),
            ..ProgramQuery::every_program(chrono::Utc::now().date_naive(), CARD_PROGRAMS as u32)
        };
        let listing = state.store.list_programs(workspace_id, &query).await?;
        Ok(Some(Self {
            business: BusinessRef::new(id, Some(&profile)),
            inactive_reason: profile.inactive_reason(),
            live_count: listing.total_count,
            programs: listing
                .programs
                .into_iter()
                .map(|p| (p.program_id, p.program_type, p.program_status.to_string()))
                .collect(),
        }))
    }
}

/// What a create form's business field holds, as a business id: an id of the mirror (or one it does not
/// know, which Yelp judges) stays as typed; part of a name that one business of the mirror has becomes
/// its id (`Ok(Some)`); a name several have is refused with their names, for the user to pick one.
async fn resolve_business(
    state: &AppState,
    workspace_id: &str,
    typed: &str,
) -> PageResult<Result<Option<String>, String>> {
    if typed.is_empty()
        || state
            .store
            .business_profile(workspace_id, typed)
            .await?
            .is_some()
    {
        return Ok(Ok(None));
    }
    let query = BusinessQuery {
        search: Some(typed.to_owned()),
        limit: 6,
        ..business_query(&Params::default())?
    };
    let found = state.store.businesses_page(workspace_id, &query).await?;
    let folded = crate::store::search_form(typed);
    let exact: Vec<_> = found
        .businesses
        .iter()
        .filter(|b| {
            b.profile.name.as_deref().map(crate::store::search_form) == Some(folded.clone())
        })
        .collect();
    let all: Vec<_> = found.businesses.iter().collect();
    let one = match (all.as_slice(), exact.as_slice()) {
        ([only], _) | (_, [only]) => *only,
        ([], _) => return Ok(Ok(None)),
        (many, _) => {
            let names: Vec<String> = many
                .iter()
                .take(5)
                .map(|b| {
                    format!(
                        "{} ({})",
                        BusinessRef::new(&b.profile.business_id, Some(&b.profile)).text(),
                        b.profile.business_id
                    )
                })
                .collect();
            let more = if found.total_count > 5 { ", …" } else { "" };
            return Ok(Err(format!(
                "\"{typed}\" matches {} businesses: {}{more}. Pick one, or type its Yelp business id.",
                found.total_count,
                names.join("; ")
            )));
        }
    };
    Ok(Ok(Some(one.profile.business_id.clone())))
}
