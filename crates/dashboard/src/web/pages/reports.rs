//! `/reports`: Yelp's daily and monthly reports of the workspace's businesses (Reporting API v3). A form
//! asks for one; its page shows where it stands (reloading itself while Yelp makes it, without JS), then a
//! chart of spend and clicks by day or month, the rows in a table and a CSV download. Without a reporting
//! key the page says so and points to the dashboard's own readings of spend on each program's page.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{Duration, Utc};
use yelp_partner_api::{Cents, Granularity};

use super::filters::{self, datetime};
use super::{Layout, Page, PageForm, PageUser, refusal, see_other};
use crate::reports::{ReportAsk, ReportLine, ReportService, lines_of};
use crate::store::{BusinessProfile, ReportState, StoredReport};
use crate::web::AppState;
use crate::web::error::{ApiError, PageResult};
use crate::web::extract::{Params, PathParams};
use crate::web::view::{BusinessRef, url_part};

/// Reports the list shows of each kind.
const LISTED: usize = 50;

/// Seconds between the reloads of a report's page while Yelp makes it.
const RELOAD_SECONDS: u32 = 3;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/reports", get(list).post(ask))
        .route("/reports/{granularity}/{report_id}", get(one))
}

/// One report in the list.
struct ReportItem {
    url: String,
    kind: &'static str,
    range: String,
    businesses: String,
    status: &'static str,
    requested: String,
    by: String,
}

/// What the form shows: what was typed, or the defaults.
struct AskForm {
    granularity: String,
    business_id: String,
    start_date: String,
    end_date: String,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    layout: Layout,
    key_set: bool,
    can_ask: bool,
    businesses: Vec<(String, String)>,
    form: AskForm,
    error: Option<String>,
    reports: Vec<ReportItem>,
}

/// A row of a report's table: a business on a day or in a month.
struct RowView {
    date: String,
    business: BusinessRef,
    ad_cost_cents: Option<i64>,
    clicks: Option<i64>,
    impressions: Option<i64>,
    leads: Option<i64>,
    calls: Option<i64>,
}

/// A bar of the chart: a day's or month's spend and clicks over the report's businesses.
struct Bar {
    x: String,
    width: String,
    spend_y: String,
    spend_height: String,
    clicks_y: String,
    clicks_height: String,
    label: String,
}

/// The chart of a ready report, drawn on the server so it reads without JS.
struct ReportChart {
    title: String,
    desc: String,
    bars: Vec<Bar>,
    spend_max: String,
    clicks_max: String,
    first: String,
    last: String,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    layout: Layout,
    kind: &'static str,
    range: String,
    businesses: Vec<BusinessRef>,
    status: &'static str,
    ready: bool,
    failed: Option<String>,
    reload_seconds: Option<u32>,
    requested: String,
    by: String,
    ready_at: Option<String>,
    chart: Option<ReportChart>,
    rows: Vec<RowView>,
    totals: BTreeMap<String, i64>,
    csv_url: String,
}

fn service(state: &AppState) -> ReportService<'_> {
    ReportService::new(
        &state.store,
        &state.secrets,
        state.allow_insecure_yelp_url(),
    )
}

fn kind_of(text: &str) -> Option<Granularity> {
    match text {
        "daily" => Some(Granularity::Daily),
        "monthly" => Some(Granularity::Monthly),
        _ => None,
    }
}

fn kind_words(granularity: &str) -> &'static str {
    if granularity == "monthly" {
        "Monthly"
    } else {
        "Daily"
    }
}

fn status_words(state: ReportState) -> &'static str {
    match state {
        ReportState::Requesting => "Asking Yelp",
        ReportState::Requested => "Yelp is making it",
        ReportState::Ready => "Ready",
        ReportState::Failed => "Failed",
    }
}

fn business_name(profiles: &HashMap<&str, &BusinessProfile>, id: &str) -> String {
    profiles
        .get(id)
        .and_then(|p| p.name.clone())
        .unwrap_or_else(|| id.to_owned())
}

/// `GET /reports?business_id=`: the form (the business chosen when given) and the latest reports.
async fn list(
    State(state): State<AppState>,
    user: PageUser,
    params: Params,
) -> PageResult<Response> {
    params.only(&["business_id"])?;
    let yesterday = Utc::now().date_naive() - Duration::days(1);
    let form = AskForm {
        granularity: "daily".into(),
        business_id: params.get("business_id").unwrap_or_default().to_owned(),
        start_date: (yesterday - Duration::days(29)).to_string(),
        end_date: yesterday.to_string(),
    };
    render(&state, &user, form, None, StatusCode::OK).await
}

async fn render(
    state: &AppState,
    user: &PageUser,
    form: AskForm,
    error: Option<String>,
    status: StatusCode,
) -> PageResult<Response> {
    let ws = user.workspace_id();
    let key_set = state.store.reporting_settings(ws).await?.key_enc.is_some();
    let profiles = state.store.business_profiles(ws).await?;
    let names: HashMap<&str, &BusinessProfile> = profiles
        .iter()
        .map(|p| (p.business_id.as_str(), p))
        .collect();
    let mut reports: Vec<StoredReport> = Vec::new();
    for granularity in [Granularity::Daily, Granularity::Monthly] {
        reports.extend(service(state).reports(&user.user, granularity).await?);
    }
    reports.sort_by_key(|r| std::cmp::Reverse(r.requested_at));
    reports.truncate(LISTED);
    let items = reports
        .iter()
        .map(|r| {
            let ids: Vec<&str> = r
                .business_ids
                .split(',')
                .filter(|s| !s.is_empty())
                .collect();
            let mut businesses = ids
                .iter()
                .take(3)
                .map(|id| business_name(&names, id))
                .collect::<Vec<_>>()
                .join(", ");
            if ids.len() > 3 {
                businesses.push_str(&format!(" and {} more", ids.len() - 3));
            }
            ReportItem {
                url: format!("/reports/{}/{}", r.granularity, url_part(&r.id)),
                kind: kind_words(&r.granularity),
                range: format!("{} to {}", r.start_date, r.end_date),
                businesses,
                status: status_words(r.state),
                requested: datetime(r.requested_at),
                by: r.requested_by.clone().unwrap_or_default(),
            }
        })
        .collect();
    let page = ReportsPage {
        layout: user.layout(state, "reports").await?,
        key_set,
        can_ask: user.user.role.can_operate(),
        businesses: profiles
            .iter()
            .map(|p| {
                (
                    p.business_id.clone(),
                    p.name.clone().unwrap_or_else(|| p.business_id.clone()),
                )
            })
            .collect(),
        form,
        error,
        reports: items,
    };
    Ok((status, Page(page)).into_response())
}

/// `POST /reports` (operators and admins): asks for the report and shows it; a request beyond Yelp's
/// limits is shown again with what is wrong, and Yelp is not asked.
async fn ask(State(state): State<AppState>, form: PageForm) -> PageResult<Response> {
    form.user.require_operator()?;
    let typed = AskForm {
        granularity: form.fields.text("granularity").to_owned(),
        business_id: form.fields.text("business_id").trim().to_owned(),
        start_date: form.fields.text("start_date").trim().to_owned(),
        end_date: form.fields.text("end_date").trim().to_owned(),
    };
    let Some(granularity) = kind_of(&typed.granularity) else {
        let e = ApiError::field("granularity", "Choose a daily or a monthly report.");
        return render(&state, &form.user, typed, Some(e.message()), e.status()).await;
    };
    let ask = ReportAsk {
        business_ids: typed
            .business_id
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        start_date: typed.start_date.clone(),
        end_date: typed.end_date.clone(),
        metrics: None,
    };
    let today = Utc::now().date_naive();
    match service(&state)
        .request(&form.user.user, granularity, ask, today)
        .await
    {
        Ok(report) => Ok(see_other(&format!(
            "/reports/{}/{}",
            report.granularity,
            url_part(&report.id)
        ))),
        Err(e) => {
            let e = refusal(e)?;
            let status = e.status();
            render(&state, &form.user, typed, Some(e.message()), status).await
        }
    }
}

/// `GET /reports/{daily|monthly}/{id}`: asks Yelp how it stands while it is being made (at most every
/// two seconds, however often the page reloads).
async fn one(
    State(state): State<AppState>,
    user: PageUser,
    PathParams(params): PathParams,
) -> PageResult<Response> {
    let (kind, id) = match params.as_slice() {
        [kind, id] => (kind.as_str(), id.as_str()),
        _ => return Err(ApiError::internal("a report page without its kind and id").into()),
    };
    let granularity = kind_of(kind).ok_or_else(|| {
        ApiError::NotFound(format!(
            "No such kind of report '{kind}': reports are daily or monthly"
        ))
    })?;
    let report = service(&state).report(&user.user, granularity, id).await?;
    let lines = lines_of(&report)?;
    let ids: Vec<&str> = report
        .business_ids
        .split(',')
        .filter(|s| !s.is_empty())
        .collect();
    let profiles = state
        .store
        .business_profiles_of(user.workspace_id(), &ids)
        .await?;
    let business = |id: &str| BusinessRef::new(id, profiles.get(id));
    let mut totals: BTreeMap<String, i64> = BTreeMap::new();
    for line in &lines {
        for (metric, value) in &line.metrics {
            *totals.entry(metric.clone()).or_default() += value;
        }
    }
    let metric = |line: &ReportLine, name: &str| line.metrics.get(name).copied();
    let rows = lines
        .iter()
        .map(|l| RowView {
            date: l.date.clone(),
            business: business(&l.business_id),
            ad_cost_cents: metric(l, "ad_cost"),
            clicks: metric(l, "billed_clicks"),
            impressions: metric(l, "billed_impressions"),
            leads: metric(l, "total_leads"),
            calls: metric(l, "num_calls"),
        })
        .collect();
    let range = format!("{} to {}", report.start_date, report.end_date);
    let page = ReportPage {
        layout: user.layout(&state, "reports").await?,
        kind: kind_words(&report.granularity),
        chart: chart(&range, &lines),
        range,
        businesses: ids.iter().map(|id| business(id)).collect(),
        status: status_words(report.state),
        ready: report.state == ReportState::Ready,
        failed: (report.state == ReportState::Failed)
            .then(|| report.error.clone().unwrap_or_default()),
        reload_seconds: matches!(
            report.state,
            ReportState::Requesting | ReportState::Requested
        )
        .then_some(RELOAD_SECONDS),
        requested: datetime(report.requested_at),
        by: report.requested_by.clone().unwrap_or_default(),
        ready_at: report.ready_at.map(datetime),
        rows,
        totals,
        csv_url: format!(
            "/api/reports/{}/{}/csv",
            report.granularity,
            url_part(&report.id)
        ),
    };
    Ok(Page(page).into_response())
}

/// Bars of spend (top panel) and billed clicks (bottom) by date, summed over the report's businesses, in
/// a 480 × 300 `viewBox`; `None` for a report without rows.
fn chart(range: &str, lines: &[ReportLine]) -> Option<ReportChart> {
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 470.0;
    const SPEND: (f64, f64) = (28.0, 128.0);
    const CLICKS: (f64, f64) = (176.0, 262.0);
    let mut by_date: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for line in lines {
        let day = by_date.entry(line.date.as_str()).or_default();
        day.0 += line.metrics.get("ad_cost").copied().unwrap_or(0);
        day.1 += line.metrics.get("billed_clicks").copied().unwrap_or(0);
    }
    let (first, last) = (*by_date.keys().next()?, *by_date.keys().last()?);
    let spend_max = by_date.values().map(|d| d.0).max().unwrap_or(0).max(1);
    let clicks_max = by_date.values().map(|d| d.1).max().unwrap_or(0).max(1);
    let slot = (RIGHT - LEFT) / by_date.len() as f64;
    let width = (slot * 0.8).max(1.0);
    let height = |value: i64, max: i64, (top, bottom): (f64, f64)| {
        value.clamp(0, max) as f64 / max as f64 * (bottom - top)
    };
    let unit = |v: f64| format!("{v:.1}");
    let bars = by_date
        .iter()
        .enumerate()
        .map(|(i, (date, (spend, clicks)))| {
            let spend_h = height(*spend, spend_max, SPEND);
            let clicks_h = height(*clicks, clicks_max, CLICKS);
            Bar {
                x: unit(LEFT + slot * i as f64 + (slot - width) / 2.0),
                width: unit(width),
                spend_y: unit(SPEND.1 - spend_h),
                spend_height: unit(spend_h),
                clicks_y: unit(CLICKS.1 - clicks_h),
                clicks_height: unit(clicks_h),
                label: format!(
                    "{date}: {} spent, {clicks} billed clicks",
                    Cents::new(*spend)
                ),
            }
        })
        .collect();
    let total_spend: i64 = by_date.values().map(|d| d.0).sum();
    let total_clicks: i64 = by_date.values().map(|d| d.1).sum();
    Some(ReportChart {
        title: format!("Spend and billed clicks, {range}"),
        desc: format!(
            "{} spent and {total_clicks} billed clicks over {} periods from {first} to {last}; the \
             table below lists every row.",
            Cents::new(total_spend),
            by_date.len()
        ),
        bars,
        spend_max: Cents::new(spend_max).to_string(),
        clicks_max: clicks_max.to_string(),
        first: first.to_owned(),
        last: last.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(business: &str, date: &str, cost: i64, clicks: i64) -> ReportLine {
        ReportLine {
            business_id: business.into(),
            date: date.into(),
            metrics: [
                ("ad_cost".to_owned(), cost),
                ("billed_clicks".to_owned(), clicks),
            ]
            .into_iter()
            .collect(),
        }
    }

    #[test]
    fn the_chart_has_a_bar_a_date_summed_over_businesses_and_the_tallest_fills_its_panel() {
        let drawn = chart(
            "2026-11-01 to 2026-11-02",
            &[
                line("a", "2026-11-01", 1_000, 2),
                line("b", "2026-11-01", 3_000, 6),
                line("a", "2026-11-02", 2_000, 4),
            ],
        )
        .unwrap();
        assert_eq!(drawn.bars.len(), 2);
        assert_eq!(drawn.spend_max, "$40.00");
        assert_eq!(drawn.clicks_max, "8");
        assert_eq!(drawn.bars[0].spend_height, "100.0");
        assert_eq!(drawn.bars[1].spend_height, "50.0");
        assert_eq!(drawn.bars[0].clicks_height, "86.0");
        assert_eq!(
            drawn.bars[1].label,
            "2026-11-02: $20.00 spent, 4 billed clicks"
        );
        assert!(
            drawn
                .desc
                .starts_with("$60.00 spent and 12 billed clicks over 2 periods")
        );
        assert!(chart(" ", &[]).is_none());
    }
}
