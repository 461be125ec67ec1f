//! `/programs`: the workspace's programs from the mirror. Filters, sort and pagination live in the URL
//! (the list API's parameter names, with `page` and `page_size`), so a view can be bookmarked; the page
//! starts or joins a sync when it opens (`programs.js`). Operators select programs (a page's rows, or
//! every program of the view) and stage one change over them: the selection toolbar is a form posting to
//! `/change-sets` (see `change_sets.rs`), which shows this page again with the error when it is refused.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use yelp_partner_api::{FeatureType, ProgramType, StatusFilter};

use super::filters::{self, datetime, thousands};
use super::{Layout, Page, PageUser};
use crate::store::{BusinessProfile, ProgramLabels, ProgramQuery, SortColumn, StoredProgram};
use crate::web::AppState;
use crate::web::error::{ApiError, PageResult};
use crate::web::extract::Params;
use crate::web::params::{business_text, program_query_of};
use crate::web::view::BusinessRef;

/// Page sizes offered.
const PAGE_SIZES: [u32; 4] = [25, 50, 100, 200];
/// Page size when none is asked for.
const DEFAULT_PAGE_SIZE: u32 = 50;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/programs", get(page))
}

/// The list's state as the URL holds it.
#[derive(Clone, Debug)]
struct ListState {
    status: String,
    program_type: String,
    business_id: String,
    search: String,
    active_feature: String,
    include_removed: bool,
    sort: &'static str,
    descending: bool,
    page: u64,
    page_size: u32,
}

impl ListState {
    fn from_query(query: &ProgramQuery, page: u64, page_size: u32) -> Self {
        Self {
            // ACTIVE or INACTIVE (Yelp's own status of a program) when asked by that name.
            status: query.program_status.as_ref().map_or_else(
                || query.status.as_str().to_owned(),
                |own| own.as_str().to_owned(),
            ),
            program_type: query.program_type.clone().unwrap_or_default(),
            // A name typed in the business filter stays in it (and in the URL) as typed.
            business_id: query
                .business_id
                .clone()
                .or_else(|| query.business_name.clone())
                .unwrap_or_default(),
            search: query.search.clone().unwrap_or_default(),
            active_feature: query.active_feature.clone().unwrap_or_default(),
            include_removed: query.include_removed,
            sort: column_name(query.sort),
            descending: query.descending,
            page,
            page_size,
        }
    }

    /// Whether any filter narrows the list.
    fn filtered(&self) -> bool {
        self.status != StatusFilter::All.as_str()
            || !self.program_type.is_empty()
            || !self.business_id.is_empty()
            || !self.search.is_empty()
            || !self.active_feature.is_empty()
    }

    /// This view's URL with only what differs from the defaults.
    fn url(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if self.status != StatusFilter::All.as_str() {
            query.append_pair("status", &self.status);
        }
        for (name, value) in [
            ("program_type", &self.program_type),
            ("business_id", &self.business_id),
            ("search", &self.search),
            ("active_feature", &self.active_feature),
        ] {
            if !value.is_empty() {
                query.append_pair(name, value);
            }
        }
        if self.include_removed {
            query.append_pair("include_removed", "true");
        }
        if self.sort != "start_date" || !self.descending {
            query.append_pair("sort", self.sort);
            query.append_pair("order", if self.descending { "desc" } else { "asc" });
        }
        if self.page_size != DEFAULT_PAGE_SIZE {
            query.append_pair("page_size", &self.page_size.to_string());
        }
        if self.page > 1 {
            query.append_pair("page", &self.page.to_string());
        }
        let query = query.finish();
        if query.is_empty() {
            "/programs".to_owned()
        } else {
            format!("/programs?{query}")
        }
    }

    /// The CSV export of this view: its filters and sort, every page.
    fn csv_url(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("status", &self.status);
        for (name, value) in [
            ("program_type", &self.program_type),
            ("business_id", &self.business_id),
            ("search", &self.search),
            ("active_feature", &self.active_feature),
        ] {
            if !value.is_empty() {
                query.append_pair(name, value);
            }
        }
        if self.include_removed {
            query.append_pair("include_removed", "true");
        }
        query.append_pair("sort", self.sort);
        query.append_pair("order", if self.descending { "desc" } else { "asc" });
        format!("/api/reseller/programs.csv?{}", query.finish())
    }

    /// What names a selection: the view's filters (not its sort or page), so that paging keeps it.
    fn selection_key(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in self.filter_fields() {
            if !matches!(name, "sort" | "order" | "page" | "page_size") {
                query.append_pair(name, &value);
            }
        }
        query.finish()
    }

    /// The view as the selection form's hidden fields: its filters (for "all matching") and its sort and
    /// page (to show the same page again when the change is refused).
    fn filter_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![("status", self.status.clone())];
        for (name, value) in [
            ("program_type", &self.program_type),
            ("business_id", &self.business_id),
            ("search", &self.search),
            ("active_feature", &self.active_feature),
        ] {
            if !value.is_empty() {
                fields.push((name, value.clone()));
            }
        }
        if self.include_removed {
            fields.push(("include_removed", "true".into()));
        }
        fields.push(("sort", self.sort.to_owned()));
        fields.push((
            "order",
            if self.descending { "desc" } else { "asc" }.to_owned(),
        ));
        fields.push(("page", self.page.to_string()));
        fields.push(("page_size", self.page_size.to_string()));
        fields
    }

    fn at_page(&self, page: u64) -> String {
        Self {
            page,
            ..self.clone()
        }
        .url()
    }

    /// Sorted on `column`: the other way round if it already is, else largest (or latest) first for
    /// numbers and dates and A to Z for words.
    fn sorted_on(&self, column: &'static str, numeric: bool) -> String {
        let descending = if self.sort == column {
            !self.descending
        } else {
            numeric
        };
        Self {
            sort: column,
            descending,
            page: 1,
            ..self.clone()
        }
        .url()
    }
}

fn column_name(column: SortColumn) -> &'static str {
    SortColumn::NAMES
        .iter()
        .find(|(_, c)| *c == column)
        .map_or("start_date", |(name, _)| name)
}

/// A column heading: a link that sorts on it.
struct Heading {
    label: &'static str,
    url: String,
    /// `ascending`, `descending` or `none`, for `aria-sort`.
    aria_sort: &'static str,
    numeric: bool,
}

/// One program as the table shows it.
struct Row {
    program_id: String,
    /// The program's own label, when one was set.
    custom_name: Option<String>,
    program_type: String,
    type_label: String,
    business: BusinessRef,
    partner_business_id: Option<String>,
    program_status: String,
    paused: bool,
    start: String,
    end: String,
    budget_cents: Option<i64>,
    ad_cost_cents: Option<i64>,
    clicks: Option<i64>,
    removed_at: Option<String>,
}

impl Row {
    fn new(
        p: StoredProgram,
        businesses: &HashMap<String, BusinessProfile>,
        labels: &HashMap<String, ProgramLabels>,
    ) -> Self {
        Self {
            custom_name: labels
                .get(&p.program_id)
                .and_then(|l| l.custom_name.clone()),
            type_label: ProgramType::from_wire(&p.program_type).label().to_owned(),
            business: BusinessRef::of(p.business_id.as_deref().unwrap_or_default(), businesses),
            partner_business_id: p.partner_business_id,
            clicks: p.billed_clicks,
            paused: p.pause_status == yelp_partner_api::PauseStatus::Paused,
            start: p.start_date.clone().unwrap_or_else(|| "—".into()),
            end: p.end_date.clone().unwrap_or_else(|| "No end".into()),
            removed_at: p.removed_at.map(datetime),
            program_id: p.program_id,
            program_type: p.program_type,
            program_status: p.program_status.to_string(),
            budget_cents: p.budget_cents,
            ad_cost_cents: p.ad_cost_cents,
        }
    }
}

#[derive(Template)]
#[template(path = "programs.html")]
struct ProgramsPage {
    layout: Layout,
    state: ListState,
    clear_url: String,
    statuses: Vec<&'static str>,
    program_types: Vec<(&'static str, &'static str)>,
    /// Every feature type the list filters on: code and name.
    features: Vec<(&'static str, &'static str)>,
    page_sizes: [u32; 4],
    headings: Vec<Heading>,
    rows: Vec<Row>,
    total: u64,
    first: u64,
    last: u64,
    prev_url: Option<String>,
    next_url: Option<String>,
    last_synced: Option<String>,
    /// The business the list is filtered on, by name ("…, Miami"), when the filter is one the mirror knows.
    of_business: Option<String>,
    /// The operations the selection toolbar offers: the form's value and its name.
    kinds: &'static [(&'static str, &'static str)],
    /// The selection form as last sent, when the change was refused.
    stage: Stage,
}

/// The selection form as sent: what was selected and asked, and why it was refused.
#[derive(Debug, Default)]
pub(super) struct Stage {
    /// The programs ticked.
    pub selected: Vec<String>,
    /// Whether every program of the view was selected.
    pub all_matching: bool,
    /// The operation's kind, as the form names it.
    pub kind: String,
    /// Its value as typed.
    pub value: String,
    /// When to make it instead of staging it now (a `datetime-local` value of the workspace's time zone),
    /// as typed.
    pub at: String,
    /// Why the change was refused.
    pub error: Option<String>,
}

impl ProgramsPage {
    fn total_text(&self) -> String {
        thousands(self.total)
    }

    fn is_selected(&self, program_id: &str) -> bool {
        self.stage.all_matching || self.stage.selected.iter().any(|id| id == program_id)
    }

    fn count_text(&self) -> String {
        let text = if self.total == 0 {
            "No programs".to_owned()
        } else if self.total == 1 && self.first == 1 {
            "1 program".to_owned()
        } else if self.total == self.rows.len() as u64 && self.first == 1 {
            format!("{} programs", thousands(self.total))
        } else {
            format!(
                "Showing {}–{} of {} programs",
                thousands(self.first),
                thousands(self.last),
                thousands(self.total)
            )
        };
        match &self.of_business {
            Some(name) => format!("{text} of {name}"),
            None => text,
        }
    }
}

/// `GET /programs?status=&program_type=&business_id=&search=&include_removed=&sort=&order=&page=&page_size=`.
async fn page(
    State(state): State<AppState>,
    user: PageUser,
    params: Params,
) -> PageResult<Response> {
    render(&state, &user, params, StatusCode::OK, Stage::default()).await
}

/// The list's query of `params` (the list's names), a business filter typed as text included.
pub(super) async fn list_query(
    state: &AppState,
    workspace_id: &str,
    params: &mut Params,
) -> PageResult<ProgramQuery> {
    let business_name = business_text(state, workspace_id, params).await?;
    let mut query = program_query_of(state, workspace_id, params).await?;
    query.business_name = business_name;
    Ok(query)
}

/// The page of the view `params` names, with the selection form as `stage` says.
pub(super) async fn render(
    state: &AppState,
    user: &PageUser,
    mut params: Params,
    status: StatusCode,
    stage: Stage,
) -> PageResult<Response> {
    let mut query = list_query(state, user.workspace_id(), &mut params).await?;
    let page_size = match params.number("page_size", 1..=500)? {
        Some(n) if PAGE_SIZES.contains(&(n as u32)) => n as u32,
        Some(n) => {
            return Err(ApiError::field(
                "page_size",
                format!("page_size must be one of 25, 50, 100 or 200, not {n}"),
            )
            .into());
        }
        None => DEFAULT_PAGE_SIZE,
    };
    let mut page = params.number("page", 1..=u64::from(u32::MAX))?.unwrap_or(1);
    query.limit = page_size;
    query.offset = (page - 1) * u64::from(page_size);
    let ws = user.workspace_id().to_owned();
    let mut listing = state.store.list_programs(&ws, &query).await?;
    if listing.programs.is_empty() && listing.total_count > 0 {
        // Past the last page (the list shrank since the link was made): show the last one.
        page = listing.total_count.div_ceil(u64::from(page_size));
        query.offset = (page - 1) * u64::from(page_size);
        listing = state.store.list_programs(&ws, &query).await?;
    }
    // The filter's business by name: the field holds its id once picked.
    let of_business = match query.business_id.as_deref() {
        Some(id) => state
            .store
            .business_profile(&ws, id)
            .await?
            .map(|p| BusinessRef::new(id, Some(&p)).text()),
        None => None,
    };
    let business_ids: Vec<&str> = listing
        .programs
        .iter()
        .filter_map(|p| p.business_id.as_deref())
        .collect();
    let businesses = state.store.business_profiles_of(&ws, &business_ids).await?;
    let program_ids: Vec<String> = listing
        .programs
        .iter()
        .map(|p| p.program_id.clone())
        .collect();
    let labels = state.store.program_labels(&ws, &program_ids).await?;
    let rows: Vec<Row> = listing
        .programs
        .into_iter()
        .map(|p| Row::new(p, &businesses, &labels))
        .collect();

    let list = ListState::from_query(&query, page, page_size);
    let total = listing.total_count;
    let first = if rows.is_empty() { 0 } else { query.offset + 1 };
    let last = query.offset + rows.len() as u64;
    let headings = [
        ("Program", "program_id", false),
        ("Type", "program_type", false),
        ("Business", "business_id", false),
        ("Status", "program_status", false),
        ("Start", "start_date", true),
        ("End", "end_date", true),
        ("Budget", "budget", true),
        ("Spend", "ad_cost", true),
        ("Clicks", "billed_clicks", true),
    ]
    .into_iter()
    .map(|(label, column, numeric)| Heading {
        label,
        url: list.sorted_on(column, numeric),
        aria_sort: match (list.sort == column, list.descending) {
            (false, _) => "none",
            (true, true) => "descending",
            (true, false) => "ascending",
        },
        numeric,
    })
    .collect();
    let runs = state.store.recent_sync_runs(&ws, 20).await?;
    let last_synced = runs
        .iter()
        .find(|r| r.status.is_success())
        .and_then(|r| r.finished_at)
        .map(datetime);
    let page_view = ProgramsPage {
        layout: user.layout(state, "programs").await?,
        clear_url: "/programs".into(),
        statuses: StatusFilter::ALL.iter().map(|s| s.as_str()).collect(),
        program_types: super::program_form::program_types(),
        features: FeatureType::KNOWN
            .iter()
            .map(|t| (t.as_str(), t.label()))
            .collect(),
        page_sizes: PAGE_SIZES,
        headings,
        prev_url: (page > 1).then(|| list.at_page(page - 1)),
        next_url: (last < total).then(|| list.at_page(page + 1)),
        state: list,
        rows,
        total,
        first,
        last,
        last_synced,
        of_business,
        kinds: &super::change_sets::OPERATION_KINDS,
        stage,
    };
    Ok((status, Page(page_view)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> ListState {
        ListState {
            status: "ALL".into(),
            program_type: String::new(),
            business_id: String::new(),
            search: String::new(),
            active_feature: String::new(),
            include_removed: false,
            sort: "start_date",
            descending: true,
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }

    #[test]
    fn urls_hold_only_what_differs_from_the_defaults() {
        assert_eq!(state().url(), "/programs");
        let mut s = state();
        s.status = "PAUSED".into();
        s.search = "a b".into();
        s.page = 3;
        assert_eq!(s.url(), "/programs?status=PAUSED&search=a+b&page=3");
        assert_eq!(
            s.sorted_on("budget", true),
            "/programs?status=PAUSED&search=a+b&sort=budget&order=desc"
        );
        assert_eq!(
            state().sorted_on("start_date", true),
            "/programs?sort=start_date&order=asc"
        );
    }
}
