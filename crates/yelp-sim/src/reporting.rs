//! Reporting API v3 (contract §13): per-business daily and monthly reports of the simulated spend, made
//! asynchronously, behind a Bearer key of their own (`--reporting-api-key`).
//!
//! `POST /v3/reporting/businesses/{daily|monthly}` takes `{"start", "end", "ids", "metrics"}` (daily dates
//! `YYYY-MM-DD`, monthly `YYYY-MM`) and answers 202 `{"report_id"}`, after checking the whole request with
//! the simulator's own code. Refusals, as Fusion writes them (`{"error": {"code", "description"}}`):
//!
//! | status | code | when |
//! |---|---|---|
//! | 413 | `NUMBER_OF_BUSINESS_LIMIT_ERROR` | more than 500 business ids |
//! | 400 | `REPORT_GRANULARITY_ERROR` | dates of the other granularity's form; more than 89 days (daily) or 3 months (monthly), both ends counted; a report fetched under the other granularity |
//! | 400 | `VALIDATION_ERROR` | a body that is not the object above, no ids, an unknown metric, unreadable dates, an end before the start, a start more than 730 days back, an end after today (after this month, monthly) |
//! | 429 | `ACCESS_LIMIT_REACHED` | more report requests than `daily_quota` in one simulated day |
//! | 401 | `UNAUTHORIZED_ACCESS_TOKEN` | no `Authorization: Bearer <key>`, or another key |
//!
//! `GET /v3/reporting/businesses/{daily|monthly}/{report_id}` answers 202 `{"report_id", "status":
//! "JOB_NOT_COMPLETE"}` until `report_seconds` have passed since the request (measured when asked, so a
//! lowered setting makes waiting reports ready), then 200 with the report, or 500 `JOB_FAILED` for a
//! report the `failure_rate` dice failed when it was asked for; an unknown id is 404 `NOT_FOUND`.
//!
//! The report, in the simulator's choice of shape (Yelp documents the metrics, not the shape):
//!
//! ```json
//! {"report_id": "…", "granularity": "daily", "start": "2026-03-01", "end": "2026-03-19",
//!  "metrics": ["ad_cost", "billed_clicks"],
//!  "businesses": [{"business_id": "…", "data": [{"date": "2026-03-01", "ad_cost": 1520, "billed_clicks": 8}, …]}]}
//! ```
//!
//! A row per asked business (unknown ones are left out) per day, or per month (`"date": "2026-03"`, the
//! sum of its days up to today), with the asked metrics. `billed_impressions`, `billed_clicks` and
//! `ad_cost` are the sums of the business's CPC programs' days (see `spend`), so the days of a program's
//! current period add up to its `program_metrics`. `ad_driven_calls`, `ad_driven_total_leads`, `num_calls`
//! and `total_leads` are drawn from each day's clicks, the same every time. The figures are those of the
//! moment the report was asked for.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::config::SimConfig;
use crate::error::{ApiError, SimError};
use crate::jobs;
use crate::seed::{self, shift};
use crate::spend::{Figures, mix};
use crate::state::{SimState, World, constant_time_eq};

/// Prefix of the reporting routes, which take Bearer auth instead of Basic.
pub(crate) const ROUTE_PREFIX: &str = "/v3/reporting/";

/// Most business ids one request may name.
const MAX_BUSINESSES: usize = 500;
/// Most days of a daily report, both ends counted.
const MAX_DAYS: i64 = 89;
/// Most months of a monthly report, both ends counted.
const MAX_MONTHS: i64 = 3;
/// How far back a report may start, in days.
const MAX_LOOK_BACK_DAYS: i64 = 730;
/// Longest report delay accepted at run time: one day.
const MAX_REPORT_SECONDS: f64 = 86_400.0;

const SALT_CALLS: u64 = 11;
const SALT_LEADS: u64 = 12;

/// Whether a report has a row per day or per month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    /// A row per business per day.
    Daily,
    /// A row per business per month.
    Monthly,
}

/// The metrics the simulator reports, in the order of their values in a [`Row`].
const METRICS: [&str; 7] = [
    "billed_impressions",
    "billed_clicks",
    "ad_cost",
    "ad_driven_calls",
    "ad_driven_total_leads",
    "num_calls",
    "total_leads",
];

/// Every metric of one business on one day or in one month, by index into [`METRICS`].
#[derive(Debug, Clone, Copy, Default)]
struct Row([i64; METRICS.len()]);

impl Row {
    /// A day of `business_id` with its programs' `figures`; the call and lead counts are drawn from its
    /// clicks.
    fn day(business_id: &str, day: NaiveDate, figures: Figures) -> Self {
        let draw = |salt| {
            mix(
                business_id,
                u64::from(day.num_days_from_ce().unsigned_abs()),
                salt,
            )
        };
        let clicks = figures.billed_clicks;
        let ad_calls = clicks * (4 + (draw(SALT_CALLS) % 9) as i64) / 100;
        let ad_leads = ad_calls + clicks * (2 + (draw(SALT_LEADS) % 5) as i64) / 100;
        let calls = ad_calls + (draw(SALT_CALLS) >> 32) as i64 % 3;
        let leads = ad_leads + (calls - ad_calls) + (draw(SALT_LEADS) >> 32) as i64 % 2;
        Self([
            figures.billed_impressions,
            clicks,
            figures.ad_cost,
            ad_calls,
            ad_leads,
            calls,
            leads,
        ])
    }

    fn add(&mut self, other: Row) {
        for (sum, value) in self.0.iter_mut().zip(other.0) {
            *sum += value;
        }
    }

    fn json(&self, date: String, metrics: &[usize]) -> Value {
        let mut row = Map::new();
        row.insert("date".into(), Value::String(date));
        for &metric in metrics {
            row.insert(METRICS[metric].into(), json!(self.0[metric]));
        }
        Value::Object(row)
    }
}

/// How reports behave, changeable at run time (`GET|PUT /_sim/reporting`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportingSettings {
    /// Seconds from a request until its report is ready.
    pub report_seconds: f64,
    /// Report requests accepted per simulated day.
    pub daily_quota: u32,
    /// Fraction (0..=1) of requested reports that fail (`JOB_FAILED`).
    pub failure_rate: f64,
}

/// A partial update of [`ReportingSettings`], and a new key.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportingPatch {
    /// New report delay in seconds.
    pub report_seconds: Option<f64>,
    /// New daily quota.
    pub daily_quota: Option<u32>,
    /// New failure rate (0..=1).
    pub failure_rate: Option<f64>,
    /// A new Bearer key. Never shown by `GET /_sim/reporting`.
    pub api_key: Option<String>,
}

/// One report as the control API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportSummary {
    /// Its id.
    pub report_id: String,
    /// Daily or monthly.
    pub granularity: Granularity,
    /// The start as asked.
    pub start: String,
    /// The end as asked.
    pub end: String,
    /// How many business ids were asked.
    pub businesses: usize,
    /// `JOB_NOT_COMPLETE`, `COMPLETED` or `JOB_FAILED`.
    pub status: &'static str,
    /// When it was asked for (receipt format).
    pub created_at: String,
}

/// Where a report stands, for the GET handler.
pub(crate) enum ReportAnswer {
    /// Not ready yet.
    Pending,
    /// The dice failed it.
    Failed,
    /// The report's body.
    Ready(Value),
}

/// The reports of the world, the key and the settings.
#[derive(Debug)]
pub(crate) struct Reports {
    settings: ReportingSettings,
    api_key: String,
    stored: HashMap<String, Stored>,
    /// Report ids in request order.
    order: Vec<String>,
    /// Requests accepted on one simulated day.
    used: Option<(NaiveDate, u32)>,
}

#[derive(Debug)]
struct Stored {
    granularity: Granularity,
    start: String,
    end: String,
    businesses: usize,
    created: Instant,
    created_at: DateTime<Utc>,
    /// `None` when the report failed.
    body: Option<Value>,
}

impl Reports {
    pub(crate) fn new(config: &SimConfig) -> Self {
        Self {
            settings: ReportingSettings {
                report_seconds: config.report_seconds,
                daily_quota: config.report_daily_quota,
                failure_rate: 0.0,
            },
            api_key: config.reporting_api_key.clone(),
            stored: HashMap::new(),
            order: Vec::new(),
            used: None,
        }
    }

    fn is_ready(&self, stored: &Stored) -> bool {
        let wait =
            Duration::try_from_secs_f64(self.settings.report_seconds).unwrap_or(Duration::MAX);
        stored.created.elapsed() >= wait
    }
}

/// A request as checked: what to report.
struct Asked {
    granularity: Granularity,
    start: String,
    end: String,
    first: NaiveDate,
    last: NaiveDate,
    ids: Vec<String>,
    metrics: Vec<usize>,
}

fn refuse(status: StatusCode, code: &'static str, description: impl Into<String>) -> ApiError {
    ApiError::Fusion {
        status,
        code,
        description: description.into(),
    }
}

fn invalid(description: impl Into<String>) -> ApiError {
    refuse(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", description)
}

fn granularity_error(description: impl Into<String>) -> ApiError {
    refuse(
        StatusCode::BAD_REQUEST,
        "REPORT_GRANULARITY_ERROR",
        description,
    )
}

/// `YYYY-MM-DD`, exactly.
fn day_of(text: &str) -> Option<NaiveDate> {
    (text.len() == 10)
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
}

/// `YYYY-MM`, exactly, as its first day.
fn month_of(text: &str) -> Option<NaiveDate> {
    let (year, month) = text.split_once('-')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)
}

fn month_end(first: NaiveDate) -> NaiveDate {
    first
        .checked_add_months(chrono::Months::new(1))
        .and_then(|next| next.pred_opt())
        .unwrap_or(NaiveDate::MAX)
}

/// Checks a request body whole, in the order Yelp's limits are listed.
fn check(granularity: Granularity, body: &[u8], today: NaiveDate) -> Result<Asked, ApiError> {
    let shape = "The body must be a JSON object with start, end, ids and metrics.";
    let value: Value = serde_json::from_slice(body).map_err(|_| invalid(shape))?;
    let object = value.as_object().ok_or_else(|| invalid(shape))?;

    let ids: Vec<&str> = match object.get("ids") {
        Some(Value::Array(ids)) => ids
            .iter()
            .map(|id| id.as_str().filter(|s| !s.is_empty()))
            .collect::<Option<_>>()
            .ok_or_else(|| invalid("ids must be a list of business ids."))?,
        _ => return Err(invalid("ids is required: a list of business ids.")),
    };
    if ids.len() > MAX_BUSINESSES {
        return Err(refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "NUMBER_OF_BUSINESS_LIMIT_ERROR",
            format!(
                "At most {MAX_BUSINESSES} businesses may be requested at once; got {}.",
                ids.len()
            ),
        ));
    }
    if ids.is_empty() {
        return Err(invalid("ids must name at least one business."));
    }

    let names: Vec<&str> = match object.get("metrics") {
        Some(Value::Array(names)) if !names.is_empty() => names
            .iter()
            .map(Value::as_str)
            .collect::<Option<_>>()
            .ok_or_else(|| invalid("metrics must be a list of metric names."))?,
        _ => return Err(invalid("metrics is required: a list of metric names.")),
    };
    let mut metrics = Vec::new();
    for name in names {
        let index = METRICS.iter().position(|m| *m == name).ok_or_else(|| {
            invalid(format!(
                "Unknown metric `{name}`; known: {}.",
                METRICS.join(", ")
            ))
        })?;
        if !metrics.contains(&index) {
            metrics.push(index);
        }
    }

    let text = |field: &str| {
        object
            .get(field)
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("{field} is required.")))
    };
    let (start, end) = (text("start")?, text("end")?);
    let read = |field: &str, value: &str| -> Result<NaiveDate, ApiError> {
        let (own, other, form) = match granularity {
            Granularity::Daily => (day_of(value), month_of(value), "YYYY-MM-DD"),
            Granularity::Monthly => (month_of(value), day_of(value), "YYYY-MM"),
        };
        match (own, other) {
            (Some(date), _) => Ok(date),
            (None, Some(_)) => Err(granularity_error(format!(
                "A {} report takes {field} as {form}, not `{value}`.",
                granularity.as_str()
            ))),
            (None, None) => Err(invalid(format!(
                "{field} must be a date as {form}, not `{value}`."
            ))),
        }
    };
    let first = read("start", start)?;
    let last = match granularity {
        Granularity::Daily => read("end", end)?,
        Granularity::Monthly => month_end(read("end", end)?),
    };
    if last < first {
        return Err(invalid(format!("end {end} is before start {start}.")));
    }
    match granularity {
        Granularity::Daily => {
            let days = (last - first).num_days() + 1;
            if days > MAX_DAYS {
                return Err(granularity_error(format!(
                    "A daily report covers at most {MAX_DAYS} days; {start} to {end} is {days}."
                )));
            }
        }
        Granularity::Monthly => {
            let index = |d: NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month0());
            let months = index(last) - index(first) + 1;
            if months > MAX_MONTHS {
                return Err(granularity_error(format!(
                    "A monthly report covers at most {MAX_MONTHS} months; {start} to {end} is {months}."
                )));
            }
        }
    }
    let earliest = shift(today, -MAX_LOOK_BACK_DAYS);
    if first < earliest {
        return Err(invalid(format!(
            "Reports look back at most {MAX_LOOK_BACK_DAYS} days: start {start} is before {earliest}."
        )));
    }
    let latest = match granularity {
        Granularity::Daily => today,
        Granularity::Monthly => month_end(today.with_day(1).unwrap_or(today)),
    };
    if last > latest {
        return Err(invalid(format!(
            "end {end} is after today ({today}); there are no figures for it yet."
        )));
    }
    let mut seen = HashSet::new();
    Ok(Asked {
        granularity,
        start: start.to_owned(),
        end: end.to_owned(),
        first,
        last,
        ids: ids
            .into_iter()
            .filter(|id| seen.insert(*id))
            .map(str::to_owned)
            .collect(),
        metrics,
    })
}

impl Granularity {
    fn as_str(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::Monthly => "monthly",
        }
    }
}

/// The report of `asked`, as the world is now.
fn build(world: &mut World, report_id: &str, asked: &Asked) -> Value {
    let today = world.today();
    let known: Vec<String> = asked
        .ids
        .iter()
        .filter(|id| world.business(id).is_some())
        .cloned()
        .collect();
    let wanted: HashSet<&str> = known.iter().map(String::as_str).collect();
    let World {
        programs,
        order,
        spend,
        ..
    } = world;
    let mut owned: HashMap<&str, Vec<&crate::model::Program>> = HashMap::new();
    for program in order.iter().filter_map(|id| programs.get(id)) {
        let business = program.yelp_business_id.as_str();
        if program.program_metrics.is_some() && wanted.contains(business) {
            owned.entry(business).or_default().push(program);
        }
    }
    let last = asked.last.min(today);
    let businesses: Vec<Value> = known
        .iter()
        .map(|business| {
            let mine = owned.get(business.as_str()).map_or(&[][..], Vec::as_slice);
            let mut rows: Vec<(String, Row)> = Vec::new();
            for day in asked.first.iter_days().take_while(|d| *d <= last) {
                let mut figures = Figures::default();
                for program in mine {
                    figures.add(spend.figures(program, day, today));
                }
                let row = Row::day(business, day, figures);
                match asked.granularity {
                    Granularity::Daily => rows.push((day.to_string(), row)),
                    Granularity::Monthly => {
                        let label = format!("{:04}-{:02}", day.year(), day.month());
                        match rows.last_mut() {
                            Some((month, sum)) if *month == label => sum.add(row),
                            _ => rows.push((label, row)),
                        }
                    }
                }
            }
            json!({
                "business_id": business,
                "data": rows
                    .into_iter()
                    .map(|(date, row)| row.json(date, &asked.metrics))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "report_id": report_id,
        "granularity": asked.granularity,
        "start": asked.start,
        "end": asked.end,
        "metrics": asked.metrics.iter().map(|&m| METRICS[m]).collect::<Vec<_>>(),
        "businesses": businesses,
    })
}

impl SimState {
    /// Checks and records a report request; answers its id.
    pub(crate) fn request_report(
        &self,
        granularity: Granularity,
        body: &[u8],
    ) -> Result<String, ApiError> {
        self.with_world(|w| {
            let today = w.today();
            let asked = check(granularity, body, today)?;
            let used = match w.reports.used {
                Some((day, count)) if day == today => count,
                _ => 0,
            };
            if used >= w.reports.settings.daily_quota {
                return Err(refuse(
                    StatusCode::TOO_MANY_REQUESTS,
                    "ACCESS_LIMIT_REACHED",
                    format!(
                        "You have reached the daily limit of {} report requests.",
                        w.reports.settings.daily_quota
                    ),
                ));
            }
            w.reports.used = Some((today, used + 1));
            let mut id = seed::new_id(&mut w.rng);
            while w.reports.stored.contains_key(&id) {
                id = seed::new_id(&mut w.rng);
            }
            let failed = w.roll(w.reports.settings.failure_rate);
            let body = (!failed).then(|| build(w, &id, &asked));
            w.reports.stored.insert(
                id.clone(),
                Stored {
                    granularity,
                    start: asked.start,
                    end: asked.end,
                    businesses: asked.ids.len(),
                    created: Instant::now(),
                    created_at: Utc::now(),
                    body,
                },
            );
            w.reports.order.push(id.clone());
            Ok(id)
        })
    }

    /// Where report `report_id` stands, asked under `granularity`.
    pub(crate) fn report_answer(
        &self,
        granularity: Granularity,
        report_id: &str,
    ) -> Result<ReportAnswer, ApiError> {
        self.with_world(|w| {
            let stored = w.reports.stored.get(report_id).ok_or_else(|| {
                refuse(
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    format!("Report {report_id} does not exist."),
                )
            })?;
            if stored.granularity != granularity {
                return Err(granularity_error(format!(
                    "Report {report_id} is a {} report, not a {} one.",
                    stored.granularity.as_str(),
                    granularity.as_str()
                )));
            }
            Ok(if !w.reports.is_ready(stored) {
                ReportAnswer::Pending
            } else {
                match &stored.body {
                    Some(body) => ReportAnswer::Ready(body.clone()),
                    None => ReportAnswer::Failed,
                }
            })
        })
    }

    /// Whether `key` is the reporting key now in force.
    pub(crate) fn reporting_key_matches(&self, key: &str) -> bool {
        self.with_world(|w| constant_time_eq(key.as_bytes(), w.reports.api_key.as_bytes()))
    }

    /// The reporting settings now in force.
    pub fn reporting_settings(&self) -> ReportingSettings {
        self.with_world(|w| w.reports.settings.clone())
    }

    /// Changes some reporting settings (and the key); every value is checked first.
    pub fn set_reporting(&self, patch: &ReportingPatch) -> Result<ReportingSettings, SimError> {
        if let Some(seconds) = patch
            .report_seconds
            .filter(|s| !(s.is_finite() && (0.0..=MAX_REPORT_SECONDS).contains(s)))
        {
            return Err(SimError::Invalid(format!(
                "report_seconds must be between 0 and {MAX_REPORT_SECONDS}, got {seconds}"
            )));
        }
        if let Some(rate) = patch.failure_rate.filter(|r| !(0.0..=1.0).contains(r)) {
            return Err(SimError::Invalid(format!(
                "failure_rate must be between 0 and 1, got {rate}"
            )));
        }
        if patch.api_key.as_ref().is_some_and(|k| k.is_empty()) {
            return Err(SimError::Invalid("api_key must not be empty".into()));
        }
        Ok(self.with_world(|w| {
            let reports = &mut w.reports;
            if let Some(v) = patch.report_seconds {
                reports.settings.report_seconds = v;
            }
            if let Some(v) = patch.daily_quota {
                reports.settings.daily_quota = v;
            }
            if let Some(v) = patch.failure_rate {
                reports.settings.failure_rate = v;
            }
            if let Some(key) = &patch.api_key {
                reports.api_key = key.clone();
            }
            reports.settings.clone()
        }))
    }

    /// Every report asked for, in request order.
    pub fn reports(&self) -> Vec<ReportSummary> {
        self.with_world(|w| {
            let reports = &w.reports;
            reports
                .order
                .iter()
                .filter_map(|id| reports.stored.get(id).map(|s| (id, s)))
                .map(|(id, stored)| ReportSummary {
                    report_id: id.clone(),
                    granularity: stored.granularity,
                    start: stored.start.clone(),
                    end: stored.end.clone(),
                    businesses: stored.businesses,
                    status: match (reports.is_ready(stored), &stored.body) {
                        (false, _) => "JOB_NOT_COMPLETE",
                        (true, Some(_)) => "COMPLETED",
                        (true, None) => "JOB_FAILED",
                    },
                    created_at: jobs::timestamp(stored.created_at),
                })
                .collect()
        })
    }
}

/// The answer to a reporting request without the reporting key: Fusion's 401.
pub(crate) fn unauthorized() -> ApiError {
    refuse(
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED_ACCESS_TOKEN",
        "The access token provided is not currently able to query this endpoint.",
    )
}

/// Whether the request carries `Authorization: Bearer <the reporting key>`. Never logs it.
pub(crate) fn bearer_authorized(state: &SimState, headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .is_some_and(|(_, key)| state.reporting_key_matches(key.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 19).unwrap()
    }

    fn asked(granularity: Granularity, body: Value) -> Result<Asked, ApiError> {
        check(granularity, body.to_string().as_bytes(), today())
    }

    fn code(result: Result<Asked, ApiError>) -> (u16, &'static str) {
        match result {
            Err(ApiError::Fusion { status, code, .. }) => (status.as_u16(), code),
            Err(other) => panic!("not a Fusion error: {other}"),
            Ok(_) => panic!("accepted"),
        }
    }

    fn body(start: &str, end: &str, ids: usize) -> Value {
        let ids: Vec<String> = (0..ids).map(|i| format!("b{i}")).collect();
        json!({"start": start, "end": end, "ids": ids, "metrics": ["ad_cost"]})
    }

    #[test]
    fn limits_and_forms_are_refused_with_yelps_codes() {
        use Granularity::{Daily, Monthly};
        assert!(
            asked(Daily, body("2025-12-21", "2026-03-19", 500)).is_ok(),
            "89 days, 500 ids"
        );
        assert_eq!(
            code(asked(Daily, body("2025-12-20", "2026-03-19", 1))),
            (400, "REPORT_GRANULARITY_ERROR")
        );
        assert_eq!(
            code(asked(Daily, body("2026-03-01", "2026-03-02", 501))),
            (413, "NUMBER_OF_BUSINESS_LIMIT_ERROR")
        );
        assert_eq!(
            code(asked(Daily, body("2026-03", "2026-03-02", 1))),
            (400, "REPORT_GRANULARITY_ERROR")
        );
        assert_eq!(
            code(asked(Monthly, body("2026-01-01", "2026-03", 1))),
            (400, "REPORT_GRANULARITY_ERROR")
        );
        assert!(
            asked(Monthly, body("2026-01", "2026-03", 1)).is_ok(),
            "three months, this one included"
        );
        assert_eq!(
            code(asked(Monthly, body("2025-12", "2026-03", 1))),
            (400, "REPORT_GRANULARITY_ERROR")
        );
        assert_eq!(
            code(asked(Monthly, body("2026-03", "2026-04", 1))),
            (400, "VALIDATION_ERROR")
        );
        assert_eq!(
            code(asked(Daily, body("2026-03-02", "2026-03-01", 1))),
            (400, "VALIDATION_ERROR")
        );
        assert_eq!(
            code(asked(Daily, body("2026-03-19", "2026-03-20", 1))),
            (400, "VALIDATION_ERROR")
        );
        assert!(
            asked(Daily, body("2024-03-19", "2024-03-19", 1)).is_ok(),
            "730 days back"
        );
        assert_eq!(
            code(asked(Daily, body("2024-03-18", "2024-03-19", 1))),
            (400, "VALIDATION_ERROR")
        );
        assert_eq!(
            code(asked(Daily, body("2026-03-1", "2026-03-02", 1))),
            (400, "VALIDATION_ERROR")
        );
        assert_eq!(
            code(asked(Daily, body("2026-03-01", "2026-03-02", 0))),
            (400, "VALIDATION_ERROR")
        );
        let unknown = json!({"start": "2026-03-01", "end": "2026-03-02", "ids": ["b"], "metrics": ["clicks"]});
        assert_eq!(code(asked(Daily, unknown)), (400, "VALIDATION_ERROR"));
        assert_eq!(
            code(check(Daily, b"{not json", today())),
            (400, "VALIDATION_ERROR")
        );
    }
}
