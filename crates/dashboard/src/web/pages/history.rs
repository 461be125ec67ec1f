//! `/history`: every recorded change to the workspace's programs, with filters, paging back in time and a CSV
//! of the same filters; `/audit`: the workspace's audit log, for admins.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::filters::{self, datetime};
use super::{Layout, Page, PageUser};
use crate::history::{change_words, source_label, source_words};
use crate::store::{AuditAction, BusinessProfile, HistoryEntry, HistoryField, HistorySource};
use crate::web::AppState;
use crate::web::error::PageResult;
use crate::web::extract::Params;
use crate::web::params::{audit_filter, history_filter};
use crate::web::view::BusinessRef;

/// Rows a page shows.
const PAGE_ROWS: u32 = 100;

/// The filters of `names` that were given, as they were given.
fn given_filters<'a>(params: &Params, names: &[&'a str]) -> Vec<(&'a str, String)> {
    names
        .iter()
        .filter_map(|n| {
            params
                .get(n)
                .filter(|v| !v.is_empty())
                .map(|v| (*n, v.to_owned()))
        })
        .collect()
}

/// A query string of `filters` and then `extra`.
fn query_of(filters: &[(&str, String)], extra: Option<(&str, &str)>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.extend_pairs(filters.iter().map(|(k, v)| (*k, v.as_str())));
    if let Some((k, v)) = extra {
        query.append_pair(k, v);
    }
    query.finish()
}

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/history", get(history))
        .route("/audit", get(audit))
}

/// One row of `/history`.
struct HistoryRow {
    at: String,
    at_iso: String,
    program_id: String,
    business: Option<BusinessRef>,
    change: String,
    by: String,
    outside: bool,
    job_id: Option<String>,
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    layout: Layout,
    rows: Vec<HistoryRow>,
    /// The filters as given, to fill the form and build links.
    program_id: String,
    business_id: String,
    field: String,
    source: String,
    user_name: String,
    since: String,
    until: String,
    fields: Vec<(&'static str, &'static str)>,
    sources: Vec<(&'static str, &'static str)>,
    businesses: Vec<(String, String)>,
    /// The query of these filters, without paging, for the CSV link and "newest".
    query: String,
    /// The link to the next, older page.
    older: Option<String>,
    /// Whether this is a page further back.
    paged: bool,
}

/// `GET /history?program_id=&business_id=&field=&source=&user=&since=&until=&before=`.
async fn history(
    State(state): State<AppState>,
    user: PageUser,
    params: Params,
) -> PageResult<Response> {
    let mut filter = history_filter(&params, PAGE_ROWS)?;
    filter.limit = PAGE_ROWS;
    let ws = user.workspace_id().to_owned();
    let (entries, more) = state.store.history(&ws, &filter).await?;
    let profiles = state.store.business_profiles(&ws).await?;
    let by_id: HashMap<&str, &BusinessProfile> = profiles
        .iter()
        .map(|p| (p.business_id.as_str(), p))
        .collect();
    let rows = entries
        .iter()
        .map(|e| HistoryRow {
            at: datetime(e.at),
            at_iso: filters::iso(e.at),
            program_id: e.program_id.clone(),
            business: e
                .business_id
                .as_deref()
                .map(|b| BusinessRef::new(b, by_id.get(b).copied())),
            change: change_words(e),
            by: source_words(e),
            outside: e.source == HistorySource::Outside.as_str(),
            job_id: e.job_id.clone(),
        })
        .collect();
    let given = |name: &str| params.get(name).unwrap_or_default().to_owned();
    let kept = given_filters(
        &params,
        &[
            "program_id",
            "business_id",
            "field",
            "source",
            "user",
            "since",
            "until",
        ],
    );
    let query = query_of(&kept, None);
    let older = if more {
        entries.last().map(|e: &HistoryEntry| {
            format!(
                "/history?{}",
                query_of(&kept, Some(("before", &e.cursor())))
            )
        })
    } else {
        None
    };
    let page = HistoryPage {
        layout: user.layout(&state, "history").await?,
        rows,
        program_id: given("program_id"),
        business_id: given("business_id"),
        field: given("field"),
        source: given("source"),
        user_name: given("user"),
        since: given("since"),
        until: given("until"),
        fields: HistoryField::ALL
            .into_iter()
            .map(|f| (f.as_str(), crate::history::field_label(f)))
            .collect(),
        sources: HistorySource::ALL
            .into_iter()
            .map(|s| (s.as_str(), source_label(s)))
            .collect(),
        businesses: profiles
            .iter()
            .map(|p| {
                (
                    p.business_id.clone(),
                    p.name.clone().unwrap_or_else(|| p.business_id.clone()),
                )
            })
            .collect(),
        query,
        older,
        paged: filter.before.is_some(),
    };
    Ok(Page(page).into_response())
}

/// One row of `/audit`.
struct AuditRow {
    at: String,
    at_iso: String,
    actor: String,
    action: String,
    target: String,
    detail: String,
    address: String,
    user_agent: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    rows: Vec<AuditRow>,
    total: i64,
    action: String,
    actor: String,
    since: String,
    until: String,
    actions: Vec<(&'static str, &'static str)>,
    query: String,
    newer: Option<String>,
    older: Option<String>,
}

/// An action in words.
fn action_label(action: AuditAction) -> &'static str {
    match action {
        AuditAction::SignIn => "Signed in",
        AuditAction::SignInFailed => "Sign-in refused",
        AuditAction::SignOut => "Signed out",
        AuditAction::UserAdded => "User added",
        AuditAction::UserRemoved => "User removed",
        AuditAction::RoleChanged => "Role changed",
        AuditAction::PasswordChanged => "Password changed",
        AuditAction::CredentialsReplaced => "Yelp credentials replaced",
        AuditAction::ConnectionTested => "Connection to Yelp tested",
        AuditAction::TimeZoneChanged => "Time zone changed",
        AuditAction::ChangeSetCreated => "Bulk change made",
        AuditAction::ChangeSetPosted => "Bulk change posted",
        AuditAction::ScheduleCreated => "Change scheduled",
        AuditAction::ScheduleCancelled => "Scheduled change cancelled",
        AuditAction::ExportMade => "Programs exported",
    }
}

/// `GET /audit?action=&actor=&since=&until=&offset=`: admins only.
async fn audit(
    State(state): State<AppState>,
    user: PageUser,
    params: Params,
) -> PageResult<Response> {
    user.require_admin()?;
    let mut filter = audit_filter(&params, PAGE_ROWS)?;
    filter.limit = PAGE_ROWS;
    let (entries, total) = state
        .store
        .audit_entries(user.workspace_id(), &filter)
        .await?;
    let given = |name: &str| params.get(name).unwrap_or_default().to_owned();
    let kept = given_filters(&params, &["action", "actor", "since", "until"]);
    let link = |offset: u32| {
        let offset = offset.to_string();
        let extra = (offset != "0").then_some(("offset", offset.as_str()));
        format!("/audit?{}", query_of(&kept, extra))
    };
    let shown_to = i64::from(filter.offset) + entries.len() as i64;
    let page = AuditPage {
        layout: user.layout(&state, "audit").await?,
        rows: entries
            .iter()
            .map(|e| AuditRow {
                at: datetime(e.at),
                at_iso: filters::iso(e.at),
                actor: e.actor.clone().unwrap_or_default(),
                action: AuditAction::parse(&e.action)
                    .map_or_else(|| e.action.clone(), |a| action_label(a).to_owned()),
                target: e.target.clone().unwrap_or_default(),
                detail: e.detail.clone().unwrap_or_default(),
                address: e.address.clone().unwrap_or_default(),
                user_agent: e.user_agent.clone().unwrap_or_default(),
            })
            .collect(),
        total,
        action: given("action"),
        actor: given("actor"),
        since: given("since"),
        until: given("until"),
        actions: AuditAction::ALL
            .into_iter()
            .map(|a| (a.as_str(), action_label(a)))
            .collect(),
        query: query_of(&kept, None),
        newer: (filter.offset > 0).then(|| link(filter.offset.saturating_sub(PAGE_ROWS))),
        older: (shown_to < total).then(|| link(filter.offset + PAGE_ROWS)),
    };
    Ok(Page(page).into_response())
}
