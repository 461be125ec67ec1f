//! Bulk changes as pages: `POST /change-sets` stages the programs page's selection; `/change-sets` lists
//! the workspace's change sets and imports a pasted CSV file; `/change-sets/{id}` previews one (before →
//! after for each program), checks, posts and follows it (`change-set.js`, from its event stream), and
//! retries what failed or undoes it. Each form is a thin handler over [`ChangeSetService`]; a refusal
//! shows the page again with why.
//!
//! [`ChangeSetService`]: crate::change_sets::ChangeSetService

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use yelp_partner_api::ProgramType;

use super::filters::datetime;
use super::programs::{self, Stage};
use super::{FormFields, Layout, Page, PageForm, PageUser, refusal, see_other, url_part};
use crate::change_sets::operation::OperationDraft;
use crate::change_sets::{ChangeSet, Counts, Item, ItemStatus, Resolution};
use crate::error::Error;
use crate::jobs::draft::Loose;
use crate::store::{ChangeSetState, ExportRow, User};
use crate::web::AppState;
use crate::web::error::{ApiError, PageError, PageResult};
use crate::web::extract::{Params, PathParam, PathParams};

/// The operations the programs page offers: the form's `kind` and its name. Autobid on and off are two
/// kinds here and one (`set_autobid`, with a value) in the service.
pub(super) const OPERATION_KINDS: [(&str, &str); 10] = [
    ("set_budget", "Set budget"),
    ("budget_percent", "Change budget by %"),
    ("budget_dollars", "Change budget by $"),
    ("set_max_bid", "Set max bid"),
    ("autobid_on", "Autobid on"),
    ("autobid_off", "Autobid off"),
    ("pause", "Pause"),
    ("resume", "Resume"),
    ("end", "End"),
    ("set_end_date", "Set end date"),
];

/// The list filters (and the view's sort and page) the selection form carries.
const VIEW_FIELDS: [&str; 10] = [
    "status",
    "program_type",
    "business_id",
    "search",
    "active_feature",
    "include_removed",
    "sort",
    "order",
    "page",
    "page_size",
];

/// Change sets the list shows.
const LISTED: u32 = 100;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/change-sets", get(list).post(stage))
        .route("/change-sets/import", post(import))
        .route("/change-sets/{id}", get(one))
        .route("/change-sets/{id}/check", post(check))
        .route("/change-sets/{id}/post", post(post_set))
        .route("/change-sets/{id}/retry-failed", post(retry_failed))
        .route("/change-sets/{id}/undo", post(undo))
        .route("/change-sets/{id}/delete", post(delete))
        .route(
            "/change-sets/{id}/items/{position}/{resolution}",
            post(resolve),
        )
}

fn to_change_set(id: &str) -> Response {
    see_other(&format!("/change-sets/{}", url_part(id)))
}

/// The operation of the selection form's `kind` and `value`.
fn operation_draft(kind: &str, value: &str) -> OperationDraft {
    let value = value.trim();
    let (kind, value) = match kind {
        "autobid_on" => ("set_autobid", Some(Value::Bool(true))),
        "autobid_off" => ("set_autobid", Some(Value::Bool(false))),
        // The value field may hold what was typed for another kind: these take none.
        "pause" | "resume" | "end" => (kind, None),
        _ => (
            kind,
            (!value.is_empty()).then(|| Value::String(value.to_owned())),
        ),
    };
    OperationDraft {
        kind: (!kind.is_empty()).then(|| Loose::Given(kind.to_owned())),
        value,
    }
}

/// The view the selection form was sent from, as the list's query names it.
fn view_params(fields: &FormFields) -> Params {
    Params(
        VIEW_FIELDS
            .iter()
            .filter_map(|name| fields.get(name).map(|v| ((*name).to_owned(), v.to_owned())))
            .collect(),
    )
}

/// What the selection form made: a draft, or (with a time) a scheduled change.
enum Staged {
    Draft(String),
    Scheduled,
}

/// `POST /change-sets` (`program_id`…, or `all_matching=1` and the list's filters; `kind`, `value`, and
/// `at` to schedule it): a draft, then its page, or with `at` (a wall-clock time of the workspace's time
/// zone) a scheduled change, then the schedules page; refused, the programs page again with the selection
/// and why.
async fn stage(State(state): State<AppState>, form: PageForm) -> PageResult<Response> {
    form.user.require_operator()?;
    let fields = &form.fields;
    let all_matching = fields.has("all_matching");
    let at_text = fields.text("at").trim();
    let staged = async {
        let operation = operation_draft(fields.text("kind"), fields.text("value")).parse()?;
        let at = if at_text.is_empty() {
            None
        } else {
            let zone = state.store.workspace_zone(form.user.workspace_id()).await?;
            Some(super::schedules::form_time("at", at_text, zone)?)
        };
        let ids = if all_matching {
            let mut params = view_params(fields);
            let query = programs::list_query(&state, form.user.workspace_id(), &mut params).await?;
            state
                .store
                .program_view(form.user.workspace_id(), &query)
                .await?
                .as_ref()
                .clone()
        } else {
            fields
                .all("program_id")
                .into_iter()
                .map(str::to_owned)
                .collect()
        };
        Ok::<_, PageError>(match at {
            Some(at) => {
                state
                    .change_sets
                    .schedule(&form.user.user, ids, operation, at, None)
                    .await?;
                Staged::Scheduled
            }
            None => Staged::Draft(
                state
                    .change_sets
                    .stage(&form.user.user, ids, operation)
                    .await?
                    .record
                    .id,
            ),
        })
    }
    .await;
    let e = match staged {
        Ok(Staged::Draft(id)) => return Ok(to_change_set(&id)),
        Ok(Staged::Scheduled) => return Ok(super::schedules::to_schedules()),
        Err(PageError::Api(e)) if !e.is_internal() => e,
        Err(e) => return Err(e),
    };
    let again = Stage {
        selected: fields
            .all("program_id")
            .into_iter()
            .map(str::to_owned)
            .collect(),
        all_matching,
        kind: fields.text("kind").to_owned(),
        value: fields.text("value").to_owned(),
        at: at_text.to_owned(),
        error: Some(e.message()),
    };
    programs::render(&state, &form.user, view_params(fields), e.status(), again).await
}

/// A change set's state for people.
fn state_label(state: ChangeSetState) -> &'static str {
    match state {
        ChangeSetState::Draft => "Draft, not checked",
        ChangeSetState::Checked => "Checked",
        ChangeSetState::Posting => "Posting",
        ChangeSetState::Done => "Done",
    }
}

/// An item's status for people.
fn status_label(status: ItemStatus) -> &'static str {
    match status {
        ItemStatus::Staged => "Staged",
        ItemStatus::Ready => "Ready",
        ItemStatus::NoOp => "No change",
        ItemStatus::Conflict => "Conflict",
        ItemStatus::Refused => "Refused",
        ItemStatus::Dropped => "Dropped",
        ItemStatus::Sending => "Sending",
        ItemStatus::InProgress => "In progress",
        ItemStatus::Completed => "Completed",
        ItemStatus::Failed => "Failed",
    }
}

/// `1 change`, `30 changes`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The counts in words: "30 changes · 2 no-ops · 1 conflict · 0 refused" (and what was dropped).
fn summary(c: &Counts) -> String {
    let mut parts = vec![
        count(c.changes, "change", "changes"),
        count(c.no_ops, "no-op", "no-ops"),
        count(c.conflicts, "conflict", "conflicts"),
        format!("{} refused", c.refused),
    ];
    if c.dropped > 0 {
        parts.push(format!("{} dropped", c.dropped));
    }
    parts.join(" · ")
}

/// A change set as the list shows it.
struct SetRow {
    id: String,
    description: String,
    author: String,
    state: &'static str,
    summary: String,
    created: String,
}

#[derive(Template)]
#[template(path = "change_sets.html")]
struct ListPage {
    layout: Layout,
    sets: Vec<SetRow>,
    /// The import's text as pasted, when it was refused.
    csv: String,
    /// Why the import was refused, a line each.
    import_errors: Vec<String>,
}

async fn render_list(
    state: &AppState,
    user: &PageUser,
    status: StatusCode,
    csv: String,
    import_errors: Vec<String>,
) -> PageResult<Response> {
    let sets = state
        .change_sets
        .list(user.workspace_id(), LISTED)
        .await?
        .into_iter()
        .map(|s| SetRow {
            state: state_label(s.record.state),
            summary: summary(&s.counts),
            created: datetime(s.record.created_at),
            author: s.record.username.unwrap_or_default(),
            description: s.record.description,
            id: s.record.id,
        })
        .collect();
    let page = ListPage {
        layout: user.layout(state, "change-sets").await?,
        sets,
        csv,
        import_errors,
    };
    Ok((status, Page(page)).into_response())
}

/// `GET /change-sets`: the latest change sets, newest first.
async fn list(State(state): State<AppState>, user: PageUser) -> PageResult<Response> {
    render_list(&state, &user, StatusCode::OK, String::new(), Vec::new()).await
}

/// `POST /change-sets/import` (`csv`: the file's text): a draft of its changes, then its page; refused,
/// the list again with each line at fault.
async fn import(State(state): State<AppState>, form: PageForm) -> PageResult<Response> {
    form.user.require_operator()?;
    let csv = form.fields.text("csv");
    match state
        .change_sets
        .import(&form.user.user, csv.as_bytes())
        .await
    {
        Ok(set) => Ok(to_change_set(&set.record.id)),
        Err(e) => {
            let e = refusal(e)?;
            let errors = match &e {
                ApiError::Fields(list) => list.iter().map(|(_, m)| m.clone()).collect(),
                other => vec![other.message()],
            };
            render_list(&state, &form.user, e.status(), csv.to_owned(), errors).await
        }
    }
}

/// One item as the preview shows it.
struct ItemRow {
    position: i64,
    program_id: String,
    /// The program's own label, or its type's name.
    label: String,
    business: String,
    change: String,
    /// As the API names it, for styles and tests.
    status: &'static str,
    status_label: &'static str,
    message: Option<String>,
    conflict: bool,
}

impl ItemRow {
    fn new(item: &Item, label: Option<&ExportRow>) -> Self {
        Self {
            position: item.position,
            program_id: item.program_id.clone(),
            label: label.map_or_else(String::new, |l| {
                l.custom_name
                    .clone()
                    .unwrap_or_else(|| ProgramType::from_wire(&l.program_type).label().to_owned())
            }),
            business: label
                .and_then(|l| l.business_name.clone().or_else(|| l.business_id.clone()))
                .unwrap_or_else(|| "—".into()),
            change: item.describe(),
            status: item.status.as_str(),
            status_label: status_label(item.status),
            message: item.message.clone(),
            conflict: item.status == ItemStatus::Conflict,
        }
    }
}

#[derive(Template)]
#[template(path = "change_set.html")]
struct SetPage {
    layout: Layout,
    id: String,
    description: String,
    author: String,
    /// As the API names it, for scripts and tests.
    state: &'static str,
    state_label: &'static str,
    created: String,
    checked: Option<String>,
    posted: Option<String>,
    finished: Option<String>,
    origin: Option<(String, &'static str)>,
    counts: Counts,
    summary: String,
    rows: Vec<ItemRow>,
    /// Items whose jobs ended, and the share of the changes they are (0–100).
    ended: usize,
    percent: usize,
    /// Why posting is not offered, when the change set is checked but cannot be posted.
    post_blocked: Option<String>,
    /// Why the last action was refused.
    action_error: Option<String>,
}

impl SetPage {
    fn is(&self, state: &str) -> bool {
        self.state == state
    }

    fn open(&self) -> bool {
        self.is("draft") || self.is("checked")
    }
}

async fn render_set(
    state: &AppState,
    user: &PageUser,
    set: ChangeSet,
    status: StatusCode,
    action_error: Option<String>,
) -> PageResult<Response> {
    let labels = state
        .store
        .item_labels(
            &set.record.workspace_id,
            set.items.iter().map(|i| i.program_id.as_str()),
        )
        .await?;
    let c = set.counts;
    let ready = set.items.iter().any(|i| i.status == ItemStatus::Ready);
    let post_blocked = if c.conflicts > 0 {
        Some(format!(
            "{} changed at Yelp since staged: confirm or drop each below, then check again.",
            count(c.conflicts, "program", "programs")
        ))
    } else if !ready {
        Some("Nothing to post: no item would change a program.".into())
    } else {
        None
    };
    let ended = c.completed + c.failed;
    let r = &set.record;
    let page = SetPage {
        layout: user.layout(state, "change-sets").await?,
        id: r.id.clone(),
        description: r.description.clone(),
        author: r.username.clone().unwrap_or_default(),
        state: r.state.as_str(),
        state_label: state_label(r.state),
        created: datetime(r.created_at),
        checked: r.checked_at.map(datetime),
        posted: r.posted_at.map(datetime),
        finished: r.finished_at.map(datetime),
        origin: r.origin_id.clone().map(|id| {
            let kind = match r.origin_kind.as_deref() {
                Some("retry") => "Retries",
                Some("undo") => "Undoes",
                _ => "Made from",
            };
            (id, kind)
        }),
        counts: c,
        summary: summary(&c),
        rows: set
            .items
            .iter()
            .map(|i| ItemRow::new(i, labels.get(&i.program_id)))
            .collect(),
        ended,
        // A change set that changes nothing has nothing left to do.
        percent: (ended * 100).checked_div(c.changes).unwrap_or(100),
        post_blocked,
        action_error,
    };
    Ok((status, Page(page)).into_response())
}

/// `GET /change-sets/{id}`.
async fn one(
    State(state): State<AppState>,
    user: PageUser,
    PathParam(id): PathParam,
) -> PageResult<Response> {
    let set = state.change_sets.get(user.workspace_id(), &id).await?;
    render_set(&state, &user, set, StatusCode::OK, None).await
}

/// The outcome of an action on change set `id`: its page (or the new draft's); refused, the change set's
/// page again with why.
async fn after(
    state: &AppState,
    form: &PageForm,
    id: &str,
    done: Result<ChangeSet, Error>,
) -> PageResult<Response> {
    match done {
        Ok(set) => Ok(to_change_set(&set.record.id)),
        Err(e) => refused(state, form, id, e).await,
    }
}

/// Change set `id`'s page again, with why `e` refused the action (an error of ours stays one).
async fn refused(state: &AppState, form: &PageForm, id: &str, e: Error) -> PageResult<Response> {
    let e = refusal(e)?;
    let set = state.change_sets.get(form.user.workspace_id(), id).await?;
    render_set(state, &form.user, set, e.status(), Some(e.message())).await
}

/// The operator who posted `form`: 403 for viewers.
fn operator(form: &PageForm) -> PageResult<&User> {
    form.user.require_operator()?;
    Ok(&form.user.user)
}

/// `POST /change-sets/{id}/check`.
async fn check(
    State(state): State<AppState>,
    PathParam(id): PathParam,
    form: PageForm,
) -> PageResult<Response> {
    let done = state.change_sets.check(operator(&form)?, &id).await;
    after(&state, &form, &id, done).await
}

/// `POST /change-sets/{id}/post`.
async fn post_set(
    State(state): State<AppState>,
    PathParam(id): PathParam,
    form: PageForm,
) -> PageResult<Response> {
    let done = state.change_sets.post(operator(&form)?, &id).await;
    after(&state, &form, &id, done).await
}

/// `POST /change-sets/{id}/retry-failed`: the new draft's page.
async fn retry_failed(
    State(state): State<AppState>,
    PathParam(id): PathParam,
    form: PageForm,
) -> PageResult<Response> {
    let done = state.change_sets.retry_failed(operator(&form)?, &id).await;
    after(&state, &form, &id, done).await
}

/// `POST /change-sets/{id}/undo`: the new draft's page.
async fn undo(
    State(state): State<AppState>,
    PathParam(id): PathParam,
    form: PageForm,
) -> PageResult<Response> {
    let done = state.change_sets.undo(operator(&form)?, &id).await;
    after(&state, &form, &id, done).await
}

/// `POST /change-sets/{id}/delete`: a change set never posted; then the list.
async fn delete(
    State(state): State<AppState>,
    PathParam(id): PathParam,
    form: PageForm,
) -> PageResult<Response> {
    match state.change_sets.delete(operator(&form)?, &id).await {
        Ok(()) => Ok(see_other("/change-sets")),
        Err(e) => refused(&state, &form, &id, e).await,
    }
}

/// `POST /change-sets/{id}/items/{position}/confirm|drop`.
async fn resolve(
    State(state): State<AppState>,
    PathParams(parts): PathParams,
    form: PageForm,
) -> PageResult<Response> {
    let [id, position, resolution] = parts.as_slice() else {
        return Err(ApiError::NotFound("no such page".into()).into());
    };
    let position: i64 = position
        .parse()
        .map_err(|_| ApiError::NotFound(format!("item {position} not found")))?;
    let resolution = match resolution.as_str() {
        "confirm" => Resolution::Confirm,
        "drop" => Resolution::Drop,
        _ => return Err(ApiError::NotFound("no such page".into()).into()),
    };
    let done = state
        .change_sets
        .resolve(operator(&form)?, id, position, resolution)
        .await;
    after(&state, &form, id, done).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counts_read_as_words_with_plurals() {
        let c = Counts {
            changes: 30,
            no_ops: 2,
            conflicts: 1,
            ..Counts::default()
        };
        assert_eq!(
            summary(&c),
            "30 changes · 2 no-ops · 1 conflict · 0 refused"
        );
        let c = Counts {
            changes: 1,
            dropped: 3,
            ..Counts::default()
        };
        assert_eq!(
            summary(&c),
            "1 change · 0 no-ops · 0 conflicts · 0 refused · 3 dropped"
        );
    }

    #[test]
    fn the_forms_autobid_kinds_are_the_services_with_a_value_and_actions_drop_a_typed_value() {
        let on = operation_draft("autobid_on", "");
        assert_eq!(on.kind, Some(Loose::Given("set_autobid".into())));
        assert_eq!(on.value, Some(Value::Bool(true)));
        assert_eq!(operation_draft("pause", "12").value, None);
        assert_eq!(
            operation_draft("budget_percent", " 10 ").value,
            Some(Value::String("10".into()))
        );
        assert_eq!(operation_draft("", "10").kind, None);
    }
}
