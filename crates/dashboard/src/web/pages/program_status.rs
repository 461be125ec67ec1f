//! `/program-status/{program_id}`: everything the mirror knows of one program, its jobs, and when it was
//! last synced (or that Yelp no longer lists it); for a CPC program, its pacing and a chart of its spend
//! and clicks over the last 90 days, with the same numbers in a table.

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
use crate::insights::service::{self, MetricsRange, PacingState, flag_words, pacing_line};
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
    /// Spend and pacing, for CPC programs.
    spend: Option<SpendView>,
}

/// A CPC program's pacing and its figures over time.
struct SpendView {
    /// "$412.00 of $900.00 spent, 46 % of the period; on track to spend $880.00".
    line: Option<String>,
    /// Why there is no pacing.
    why_not: Option<String>,
    /// The fee period and where the reading falls in it.
    period: Option<String>,
    /// When the figures were read.
    as_of: String,
    /// The pacing flags, in words.
    flags: Vec<FlagLine>,
    /// Whether enough of the period has passed to judge the pace.
    judged: bool,
    /// Clicks per impression, as a percentage.
    ctr: Option<String>,
    /// Spend per click.
    cost_per_click_cents: Option<i64>,
    /// The chart, when there is something to draw.
    chart: Option<chart::Chart>,
    /// The chart's numbers, newest first.
    rows: Vec<ReadingRow>,
    /// Whether older readings of the range were left out.
    more_before: bool,
}

/// A pacing flag for people.
struct FlagLine {
    /// Its wire name, for scripts and tests.
    code: &'static str,
    /// What it means.
    words: String,
}

/// One reading of a program's figures, as the table shows it.
struct ReadingRow {
    at: String,
    at_iso: String,
    budget_cents: i64,
    spend_cents: i64,
    clicks: i64,
    impressions: i64,
}

/// Days of figures the status page shows.
const SPEND_DAYS: i64 = 90;

impl SpendView {
    /// The spend section of a CPC program; `None` for other programs.
    async fn of(
        state: &AppState,
        workspace_id: &str,
        program_id: &str,
    ) -> PageResult<Option<Self>> {
        let now = now_ms();
        let range = MetricsRange::new(Some(now - SPEND_DAYS * 86_400_000), Some(now), now)?;
        let Some(metrics) =
            service::program_metrics(&state.store, workspace_id, program_id, range).await?
        else {
            return Ok(None);
        };
        let reading = &metrics.pacing;
        if matches!(reading.state, PacingState::NotCpc) {
            return Ok(None);
        }
        let pacing = reading.state.pacing();
        let mut points: Vec<chart::Point> = metrics
            .snapshots
            .iter()
            .map(|s| chart::Point {
                at: s.at,
                budget_cents: s.budget_cents,
                spend_cents: s.spend_cents,
                clicks: s.billed_clicks,
            })
            .collect();
        // The reading carries the last snapshot's figures on to the time they were last confirmed.
        let program = &reading.program;
        if let (Some(last), Some(budget)) = (points.last().copied(), program.budget_cents) {
            if reading.as_of > last.at {
                points.push(chart::Point {
                    at: reading.as_of,
                    budget_cents: budget,
                    spend_cents: program.ad_cost_cents.unwrap_or(0),
                    clicks: program.billed_clicks.unwrap_or(0),
                });
            }
        }
        Ok(Some(Self {
            line: pacing.map(pacing_line),
            why_not: reading.state.why_not(),
            period: pacing.map(|p| {
                let mut text = format!(
                    "Fee period {} to {}, day {} of {}",
                    p.period.start, p.period.end, p.day_of_period, p.period.days
                );
                if p.active != p.period {
                    text.push_str(&format!(
                        " (the program runs on {} of its days, {} to {}; the budget is its share of them)",
                        p.active.days, p.active.start, p.active.end
                    ));
                }
                text
            }),
            as_of: datetime(reading.as_of),
            flags: pacing
                .map(|p| {
                    p.flags
                        .iter()
                        .map(|f| FlagLine {
                            code: f.as_str(),
                            words: flag_words(*f),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            judged: pacing.is_some_and(|p| p.judged),
            ctr: pacing
                .and_then(|p| p.ctr)
                .map(|ctr| format!("{:.2} %", ctr * 100.0)),
            cost_per_click_cents: pacing.and_then(|p| p.cost_per_click).map(|c| c.get()),
            chart: chart::Chart::of(&program.program_id, &points),
            rows: metrics
                .snapshots
                .iter()
                .rev()
                .map(|s| ReadingRow {
                    at: datetime(s.at),
                    at_iso: filters::iso(s.at),
                    budget_cents: s.budget_cents,
                    spend_cents: s.spend_cents,
                    clicks: s.billed_clicks,
                    impressions: s.billed_impressions,
                })
                .collect(),
            more_before: metrics.more_before,
        }))
    }
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
    let spend = if ProgramType::from_wire(&program.program_type) == ProgramType::Cpc {
        SpendView::of(&state, &ws, &program.program_id).await?
    } else {
        None
    };
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
        spend,
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

/// The spend chart: an SVG drawn on the server, two panels over one time axis (spend this period with the
/// budget as a dashed step, and billed clicks). Coordinates are in the SVG's own units (its `viewBox`),
/// which CSS scales to the width there is.
mod chart {
    use yelp_partner_api::Cents;

    use super::filters::datetime;

    /// The `viewBox`: 480 × 300 units; the geometry below is within it.
    const VIEW_BOX: &str = "0 0 480 300";
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 470.0;
    const SPEND_TOP: f64 = 28.0;
    const SPEND_BOTTOM: f64 = 128.0;
    const CLICKS_TOP: f64 = 176.0;
    const CLICKS_BOTTOM: f64 = 262.0;
    /// Markers are drawn at each reading up to this many; beyond it they would only be a thicker line.
    const MOST_MARKERS: usize = 120;

    /// One reading of the figures.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Point {
        /// Unix ms.
        pub at: i64,
        pub budget_cents: i64,
        pub spend_cents: i64,
        pub clicks: i64,
    }

    /// A reading's place on each panel.
    pub struct Marker {
        pub x: String,
        pub spend_y: String,
        pub clicks_y: String,
    }

    /// What the template draws.
    pub struct Chart {
        /// The SVG's `viewBox`.
        pub view_box: &'static str,
        /// The SVG's `<title>`.
        pub title: String,
        /// The SVG's `<desc>`: the chart in words.
        pub desc: String,
        /// `points` of the spend polyline.
        pub spend: String,
        /// `points` of the budget's step line.
        pub budget: String,
        /// `points` of the clicks polyline.
        pub clicks: String,
        pub markers: Vec<Marker>,
        /// The top of the spend axis, in dollars.
        pub spend_max: String,
        /// The top of the clicks axis.
        pub clicks_max: String,
        pub first_day: String,
        pub last_day: String,
        pub left: String,
        pub right: String,
        pub spend_top: String,
        pub spend_bottom: String,
        pub clicks_top: String,
        pub clicks_bottom: String,
    }

    fn unit(v: f64) -> String {
        format!("{v:.1}")
    }

    impl Chart {
        /// The chart of `points` (oldest first); `None` without any.
        pub fn of(program_id: &str, points: &[Point]) -> Option<Self> {
            let (first, last) = (points.first()?, points.last()?);
            let spend_max = points
                .iter()
                .map(|p| p.spend_cents.max(p.budget_cents))
                .max()
                .unwrap_or(0)
                .max(1);
            let clicks_max = points.iter().map(|p| p.clicks).max().unwrap_or(0).max(1);
            let span = (last.at - first.at) as f64;
            let x = |at: i64| {
                if span <= 0.0 {
                    (LEFT + RIGHT) / 2.0
                } else {
                    LEFT + (at - first.at) as f64 / span * (RIGHT - LEFT)
                }
            };
            let y = |value: i64, max: i64, top: f64, bottom: f64| {
                bottom - value.clamp(0, max) as f64 / max as f64 * (bottom - top)
            };
            let spend_y = |v| y(v, spend_max, SPEND_TOP, SPEND_BOTTOM);
            let clicks_y = |v| y(v, clicks_max, CLICKS_TOP, CLICKS_BOTTOM);
            let line = |coords: Vec<(f64, f64)>| {
                coords
                    .iter()
                    .map(|(px, py)| format!("{},{}", unit(*px), unit(*py)))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            // One reading alone still shows as a short level line.
            let mut spread: Vec<(f64, &Point)> = Vec::with_capacity(points.len() * 2);
            for p in points {
                if span <= 0.0 {
                    spread.push((x(p.at) - 20.0, p));
                    spread.push((x(p.at) + 20.0, p));
                } else {
                    spread.push((x(p.at), p));
                }
            }
            let mut budget: Vec<(f64, f64)> = Vec::with_capacity(spread.len() * 2);
            for (i, (px, p)) in spread.iter().enumerate() {
                if i > 0 {
                    budget.push((*px, spend_y(spread[i - 1].1.budget_cents)));
                }
                budget.push((*px, spend_y(p.budget_cents)));
            }
            let markers = if points.len() <= MOST_MARKERS {
                points
                    .iter()
                    .map(|p| Marker {
                        x: unit(x(p.at)),
                        spend_y: unit(spend_y(p.spend_cents)),
                        clicks_y: unit(clicks_y(p.clicks)),
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let (first_day, last_day) = (day(first.at), day(last.at));
            let title = format!(
                "Spend and billed clicks of program {program_id}, {first_day} to {last_day}"
            );
            let desc = format!(
                "Spend this period went from {} on {} to {} on {}, against a monthly budget of {}; \
                 billed clicks from {} to {}. Both count from the start of each fee period. \
                 The table below lists every reading.",
                Cents::new(first.spend_cents),
                datetime(first.at),
                Cents::new(last.spend_cents),
                datetime(last.at),
                Cents::new(last.budget_cents),
                first.clicks,
                last.clicks
            );
            Some(Self {
                view_box: VIEW_BOX,
                title,
                desc,
                spend: line(
                    spread
                        .iter()
                        .map(|(px, p)| (*px, spend_y(p.spend_cents)))
                        .collect(),
                ),
                budget: line(budget),
                clicks: line(
                    spread
                        .iter()
                        .map(|(px, p)| (*px, clicks_y(p.clicks)))
                        .collect(),
                ),
                markers,
                spend_max: Cents::new(spend_max).to_string(),
                clicks_max: clicks_max.to_string(),
                first_day,
                last_day,
                left: unit(LEFT),
                right: unit(RIGHT),
                spend_top: unit(SPEND_TOP),
                spend_bottom: unit(SPEND_BOTTOM),
                clicks_top: unit(CLICKS_TOP),
                clicks_bottom: unit(CLICKS_BOTTOM),
            })
        }
    }

    /// `2026-04-14`.
    fn day(ms: i64) -> String {
        datetime(ms).chars().take(10).collect()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        const DAY: i64 = 86_400_000;

        fn point(day: i64, spend_cents: i64, clicks: i64) -> Point {
            Point {
                at: 1_775_000_000_000 + day * DAY,
                budget_cents: 90_000,
                spend_cents,
                clicks,
            }
        }

        #[test]
        fn readings_span_the_axis_and_the_budget_is_the_top_of_the_spend_panel() {
            let chart = Chart::of(
                "P1",
                &[point(0, 0, 0), point(5, 45_000, 60), point(10, 90_000, 120)],
            )
            .unwrap();
            assert_eq!(chart.spend, "70.0,128.0 270.0,78.0 470.0,28.0");
            assert_eq!(chart.clicks, "70.0,262.0 270.0,219.0 470.0,176.0");
            assert_eq!(
                chart.budget,
                "70.0,28.0 270.0,28.0 270.0,28.0 470.0,28.0 470.0,28.0"
            );
            assert_eq!(chart.spend_max, "$900.00");
            assert_eq!(chart.markers.len(), 3);
            assert!(
                chart.desc.contains("from $0.00") && chart.desc.contains("to $900.00"),
                "{}",
                chart.desc
            );
        }

        #[test]
        fn one_reading_is_a_short_level_line_and_none_is_no_chart() {
            let chart = Chart::of("P1", &[point(0, 1_000, 2)]).unwrap();
            assert_eq!(chart.spend.split(' ').count(), 2);
            assert_eq!(chart.first_day, chart.last_day);
            assert!(Chart::of("P1", &[]).is_none());
        }
    }
}
