//! `/programs`: the workspace's programs from the mirror. Filters, sort and pagination live in the URL
//! (the list API's parameter names, with `page` and `page_size`), so a view can be bookmarked; the page
//! starts or joins a sync when it opens (`programs.js`). Opened bare, it shows the programs running today,
//! those spending most first (the list API keeps its own defaults: every program, newest start first). Operators select programs (a page's rows, or
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

use super::filters::{self, code_words, datetime, plural, thousands};
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
/// The sort when none is asked for: spend this period, largest first.
const DEFAULT_SORT: SortColumn = SortColumn::AdCost;
/// The status filter of a view that names no filter at all: what an agency looks at first.
const DEFAULT_STATUS: StatusFilter = StatusFilter::Current;

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

    /// Whether a filter other than the status narrows the list (a type, a business, a search, a feature,
    /// or removed programs asked for).
    fn narrowed(&self) -> bool {
        !self.program_type.is_empty()
            || !self.business_id.is_empty()
            || !self.search.is_empty()
            || !self.active_feature.is_empty()
            || self.include_removed
    }

    /// The status a URL that names none means: current programs for the bare page, every status once
    /// another filter is given (a business's link lists all its programs, as the businesses page counts
    /// them).
    fn default_status(&self) -> &'static str {
        if self.narrowed() {
            StatusFilter::All.as_str()
        } else {
            DEFAULT_STATUS.as_str()
        }
    }

    /// Whether the view differs from the page opened bare (then "Clear" goes back to it).
    fn filtered(&self) -> bool {
        self.narrowed() || self.status != self.default_status()
    }

    /// Whether the sort is the one a URL without `sort` means.
    fn sort_is_default(&self) -> bool {
        self.sort == column_name(DEFAULT_SORT) && self.descending
    }

    /// The view's parameters but its page, each only when it differs from its default: the query of
    /// its URLs and the hidden fields of the page-jump form.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if self.status != self.default_status() {
            pairs.push(("status", self.status.clone()));
        }
        for (name, value) in [
            ("program_type", &self.program_type),
            ("business_id", &self.business_id),
            ("search", &self.search),
            ("active_feature", &self.active_feature),
        ] {
            if !value.is_empty() {
                pairs.push((name, value.clone()));
            }
        }
        if self.include_removed {
            pairs.push(("include_removed", "true".into()));
        }
        if !self.sort_is_default() {
            pairs.push(("sort", self.sort.to_owned()));
            pairs.push((
                "order",
                if self.descending { "desc" } else { "asc" }.to_owned(),
            ));
        }
        if self.page_size != DEFAULT_PAGE_SIZE {
            pairs.push(("page_size", self.page_size.to_string()));
        }
        pairs
    }

    /// This view's URL with only what differs from the defaults.
    fn url(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in self.pairs() {
            query.append_pair(name, &value);
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
        .map_or("ad_cost", |(name, _)| name)
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
    /// Yelp's code for the program's status (`ACTIVE`), for the badge's title.
    program_status: String,
    /// The status in words: "Active", "Inactive", or "Removed" once Yelp's listing no longer has it
    /// (whatever status Yelp last gave it).
    status_text: String,
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
            status_text: if p.removed_at.is_some() {
                "Removed".to_owned()
            } else {
                code_words(&p.program_status.to_string())
            },
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
    /// Pages of the view (at least 1).
    pages: u64,
    first_url: Option<String>,
    prev_url: Option<String>,
    next_url: Option<String>,
    last_url: Option<String>,
    /// When the default view (current programs) is empty: how many programs there are of any status, so
    /// that the page tells an empty workspace from one whose programs are not running.
    any_status_total: u64,
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

    /// The rows shown and the whole view's size, for the pagination: "51–100 of 1,900".
    fn range_text(&self) -> String {
        format!(
            "{}–{} of {}",
            thousands(self.first),
            thousands(self.last),
            thousands(self.total)
        )
    }

    /// How many filters differ from the bare page's, for the folded panel's summary: "2 on".
    fn filters_text(&self) -> String {
        let s = &self.state;
        let on = [
            s.status != s.default_status(),
            !s.program_type.is_empty(),
            !s.business_id.is_empty(),
            !s.search.is_empty(),
            !s.active_feature.is_empty(),
            s.include_removed,
        ]
        .into_iter()
        .filter(|on| *on)
        .count();
        format!("{on} on")
    }

    /// The workspace's programs of any status, when none is running: "12 programs".
    fn any_status_text(&self) -> String {
        format!(
            "{} {}",
            thousands(self.any_status_total),
            plural(self.any_status_total, "program", "programs")
        )
    }

    fn pages_text(&self) -> String {
        thousands(self.pages)
    }

    fn is_selected(&self, program_id: &str) -> bool {
        self.stage.all_matching || self.stage.selected.iter().any(|id| id == program_id)
    }

    /// What the programs of this status filter are called: "current programs", "programs".
    fn noun(&self, n: u64) -> String {
        let kind = match self.state.status.as_str() {
            "CURRENT" => "current ",
            "PAST" => "ended ",
            "FUTURE" => "upcoming ",
            "PAUSED" => "paused ",
            "ACTIVE" => "active ",
            "INACTIVE" => "inactive ",
            _ => "",
        };
        format!("{kind}{}", plural(n, "program", "programs"))
    }

    fn count_text(&self) -> String {
        let text = if self.total == 0 {
            format!("No {}", self.noun(0))
        } else if self.total == self.rows.len() as u64 && self.first == 1 {
            format!("{} {}", thousands(self.total), self.noun(self.total))
        } else {
            format!(
                "Showing {}–{} of {} {}",
                thousands(self.first),
                thousands(self.last),
                thousands(self.total),
                self.noun(self.total)
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

/// The page's own defaults, where the URL leaves them out: the list API's (every status, newest start
/// first) suit scripts; people look first at what runs and spends.
fn apply_page_defaults(query: &mut ProgramQuery, status_given: bool, sort_given: bool) {
    let narrowed = query.program_type.is_some()
        || query.business_id.is_some()
        || query.business_name.is_some()
        || query.search.is_some()
        || query.active_feature.is_some()
        || query.include_removed;
    if !status_given && !narrowed {
        query.status = DEFAULT_STATUS;
    }
    if !sort_given {
        // `order` alone still says which way round.
        query.sort = DEFAULT_SORT;
    }
}

/// The page of the view `params` names, with the selection form as `stage` says.
pub(super) async fn render(
    state: &AppState,
    user: &PageUser,
    mut params: Params,
    status: StatusCode,
    stage: Stage,
) -> PageResult<Response> {
    let status_given = params.get("status").is_some() || params.get("program_status").is_some();
    let sort_given = params.get("sort").is_some();
    let mut query = list_query(state, user.workspace_id(), &mut params).await?;
    apply_page_defaults(&mut query, status_given, sort_given);
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
    // The bare page found nothing running: say whether the workspace has programs at all.
    let any_status_total = if rows.is_empty() && !list.filtered() {
        let every = ProgramQuery {
            status: StatusFilter::All,
            program_status: None,
            offset: 0,
            limit: 1,
            ..query.clone()
        };
        state.store.list_programs(&ws, &every).await?.total_count
    } else {
        total
    };
    let pages = total.div_ceil(u64::from(page_size)).max(1);
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
        first_url: (page > 1).then(|| list.at_page(1)),
        prev_url: (page > 1).then(|| list.at_page(page - 1)),
        next_url: (last < total).then(|| list.at_page(page + 1)),
        last_url: (page < pages).then(|| list.at_page(pages)),
        pages,
        any_status_total,
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

    /// The page opened bare.
    fn state() -> ListState {
        ListState {
            status: "CURRENT".into(),
            program_type: String::new(),
            business_id: String::new(),
            search: String::new(),
            active_feature: String::new(),
            include_removed: false,
            sort: "ad_cost",
            descending: true,
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }

    #[test]
    fn urls_hold_only_what_differs_from_the_defaults() {
        assert_eq!(state().url(), "/programs");
        assert!(!state().filtered());
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
            state().sorted_on("ad_cost", true),
            "/programs?sort=ad_cost&order=asc"
        );
        assert_eq!(
            state().sorted_on("start_date", true),
            "/programs?sort=start_date&order=desc"
        );
    }

    #[test]
    fn every_status_is_named_in_the_url_of_a_bare_view_and_current_ones_beside_another_filter() {
        let mut all = state();
        all.status = "ALL".into();
        assert_eq!(all.url(), "/programs?status=ALL");
        assert!(all.filtered());
        let mut of_business = all.clone();
        of_business.business_id = "b-1".into();
        assert_eq!(of_business.url(), "/programs?business_id=b-1");
        of_business.status = "CURRENT".into();
        assert_eq!(
            of_business.url(),
            "/programs?status=CURRENT&business_id=b-1"
        );
    }

    #[test]
    fn the_bare_page_shows_current_programs_by_spend_and_leaves_what_the_url_names() {
        let today = chrono::Utc::now().date_naive();
        let mut bare = ProgramQuery::every_program(today, 50);
        apply_page_defaults(&mut bare, false, false);
        assert_eq!(bare.status, StatusFilter::Current);
        assert_eq!(bare.sort, SortColumn::AdCost);

        let mut of_business = ProgramQuery::every_program(today, 50);
        of_business.business_id = Some("b-1".into());
        apply_page_defaults(&mut of_business, false, false);
        assert_eq!(of_business.status, StatusFilter::All);
        assert_eq!(of_business.sort, SortColumn::AdCost);

        let mut named = ProgramQuery::every_program(today, 50);
        named.sort = SortColumn::Budget;
        apply_page_defaults(&mut named, true, true);
        assert_eq!(named.status, StatusFilter::All);
        assert_eq!(named.sort, SortColumn::Budget);
    }
}
