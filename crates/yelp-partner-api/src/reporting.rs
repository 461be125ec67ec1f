//! Reporting API v3 (`https://api.yelp.com/v3/reporting/`; contract §13, whose account of Yelp's own page
//! wins over the two projects' guesses in §4.11): ad metrics per business and per day or month, made as
//! asynchronous reports. [`ReportingClient::request_report`] asks for one (`POST businesses/{daily|monthly}`
//! → 202 `{report_id}`) and [`ReportingClient::report`] fetches it (`GET businesses/{daily|monthly}/{id}` →
//! 200 with the report, 202 while `JOB_NOT_COMPLETE`, or `JOB_FAILED`); Yelp takes up to about 30
//! minutes. Yelp computes the figures once a day and never changes them, so a report can be kept for good.
//!
//! The key is a Fusion API key (Bearer) that Yelp enables for contracted partners, not the partner pair, so
//! this is a client of its own over the same HTTP, retry and rate-limit machinery as [`Client`]. The GET is
//! a read and is retried like every read. The POST makes a report and spends quota, so it is sent once,
//! and again only after a per-second 429, which Yelp answers before doing anything.
//!
//! # Limits, checked before anything is sent
//! [`ReportRequest::new`] refuses, naming the field of each problem: no business or more than 500; no
//! metric; an end before the start; a daily range over 89 days or a monthly one over 3 months; a start
//! more than 730 days before today; an end after today (after this month, for a monthly report). Yelp's
//! page gives the numbers but not whether both ends count: both are counted, which can only be stricter.
//!
//! # Refusals
//! [`Error::report_refusal`] tells Yelp's documented refusals apart: `REPORT_GRANULARITY_ERROR` (400),
//! `NUMBER_OF_BUSINESS_LIMIT_ERROR` (413), the spent daily quota (429 `ACCESS_LIMIT_REACHED`, never
//! retried) and the per-second limit (429, retried with backoff, then [`Error::RateLimited`]). A refused key
//! is [`Error::Unauthorized`].
//!
//! # Reading a report, leniently
//! Yelp documents the metrics, not the report's shape (T read CSV; its frontend expected JSON rows).
//! Accepted:
//! - JSON: a list of rows, or of businesses each with a list of rows, as the body or under `businesses`,
//!   `data`, `rows`, `results` or `report` (also one object deeper under `report`); a business's rows
//!   under `data`, `rows`, `metrics`, `days` or `months`.
//! - CSV: a header line, then one comma-separated line per row (quotes around a value are dropped).
//! - A row names its business under `business_id`, `yelp_business_id`, `encrypted_business_id` or `id`
//!   (or inherits its group's), and its day under `date`, `day`, `month`, `period`, `start` or
//!   `start_date`, as `YYYY-MM-DD`, as `YYYY-MM` (the month's first day) or as a timestamp that starts
//!   with a date. Every other field with an integer value (a number, a whole float, digits in a string) is
//!   a metric, known or not, also inside a `metrics` object; other values are kept in [`ReportRow::other`].
//!   A row without a business or a readable day goes to [`Report::malformed`], costing only itself.
//! - A `status` of `JOB_NOT_COMPLETE` (or `PENDING`, `PROCESSING`, `REQUESTED`, `QUEUED`) in a 2xx means
//!   not ready yet; `JOB_FAILED` (or `FAILED`) as a status or as an error code, with any HTTP status,
//!   means the report failed.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{Datelike, Months, NaiveDate, TimeDelta};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value, json};
use url::Url;

use crate::client::{Auth, CallObserver, Client, ClientConfig, Reply, ok_json};
use crate::enums::{Metric, UnknownValue};
use crate::error::{DAILY_QUOTA_SPENT, Error, Result, yelp_error_body};
use crate::ids::{BusinessId, ReportId};
use crate::money::Cents;
use crate::rate_limit::RateLimit;
use crate::retry::RetryPolicy;

/// Yelp's root of the Reporting API v3.
pub const REPORTING_BASE_URL: &str = "https://api.yelp.com/v3/reporting/";

/// Most businesses one report may cover.
pub const REPORT_MAX_BUSINESSES: usize = 500;

/// Most days a daily report may cover, both ends counted.
pub const DAILY_REPORT_MAX_DAYS: i64 = 89;

/// Most months a monthly report may cover, both ends counted.
pub const MONTHLY_REPORT_MAX_MONTHS: i64 = 3;

/// How far back a report may start, in days before today.
pub const REPORT_MAX_LOOK_BACK_DAYS: i64 = 730;

const GRANULARITY_ERROR: &str = "REPORT_GRANULARITY_ERROR";
const BUSINESS_LIMIT_ERROR: &str = "NUMBER_OF_BUSINESS_LIMIT_ERROR";
const JOB_FAILED: &str = "JOB_FAILED";
const PENDING_STATUSES: [&str; 5] = [
    "JOB_NOT_COMPLETE",
    "PENDING",
    "PROCESSING",
    "REQUESTED",
    "QUEUED",
];
const FAILED_STATUSES: [&str; 2] = [JOB_FAILED, "FAILED"];
const LIST_KEYS: [&str; 5] = ["businesses", "data", "rows", "results", "report"];
const ROW_LIST_KEYS: [&str; 5] = ["data", "rows", "metrics", "days", "months"];
const ID_KEYS: [&str; 4] = [
    "business_id",
    "yelp_business_id",
    "encrypted_business_id",
    "id",
];
const DATE_KEYS: [&str; 6] = ["date", "day", "month", "period", "start", "start_date"];

/// Whether a report has a row per day or per month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    /// A row per business per day; dates `YYYY-MM-DD`.
    Daily,
    /// A row per business per month; dates `YYYY-MM`.
    Monthly,
}

impl Granularity {
    /// The path segment and wire name: `daily` or `monthly`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::Monthly => "monthly",
        }
    }

    fn endpoints(self) -> (&'static str, &'static str) {
        match self {
            Self::Daily => (
                "POST /v3/reporting/businesses/daily",
                "GET /v3/reporting/businesses/daily/{report_id}",
            ),
            Self::Monthly => (
                "POST /v3/reporting/businesses/monthly",
                "GET /v3/reporting/businesses/monthly/{report_id}",
            ),
        }
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Granularity {
    type Err = UnknownValue;

    /// `daily` or `monthly`, either case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Daily, Self::Monthly]
            .into_iter()
            .find(|g| g.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownValue {
                what: "report granularity",
                value: s.to_owned(),
                expected: "daily monthly",
            })
    }
}

/// A calendar month, written `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth(NaiveDate);

impl YearMonth {
    /// The month of `year` and `month` (1–12); `None` when there is no such month.
    pub fn new(year: i32, month: u32) -> Option<Self> {
        NaiveDate::from_ymd_opt(year, month, 1).map(Self)
    }

    /// The month `day` falls in.
    pub fn of(day: NaiveDate) -> Self {
        Self(day.with_day(1).unwrap_or(day))
    }

    /// Reads `YYYY-MM`, exactly.
    pub fn parse(s: &str) -> Option<Self> {
        let (year, month) = s.split_once('-')?;
        if year.len() != 4
            || month.len() != 2
            || !(year.chars().chain(month.chars())).all(|c| c.is_ascii_digit())
        {
            return None;
        }
        Self::new(year.parse().ok()?, month.parse().ok()?)
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        self.0
    }

    /// Its last day.
    pub fn last_day(self) -> NaiveDate {
        self.0
            .checked_add_months(Months::new(1))
            .and_then(|next| next.pred_opt())
            .unwrap_or(NaiveDate::MAX)
    }

    /// Months from `self` to `later`, both counted (1 for the same month).
    fn months_to(self, later: YearMonth) -> i64 {
        let index = |m: YearMonth| i64::from(m.0.year()) * 12 + i64::from(m.0.month0());
        index(later) - index(self) + 1
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.0.year(), self.0.month())
    }
}

impl Serialize for YearMonth {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The days or months a report covers, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "granularity", rename_all = "lowercase")]
pub enum ReportRange {
    /// Days, for a daily report.
    Daily {
        /// First day.
        start: NaiveDate,
        /// Last day.
        end: NaiveDate,
    },
    /// Months, for a monthly report.
    Monthly {
        /// First month.
        start: YearMonth,
        /// Last month.
        end: YearMonth,
    },
}

impl ReportRange {
    /// Reads a range as a user gives it: `YYYY-MM-DD` dates for a daily report, `YYYY-MM` for a monthly
    /// one. Checks the form only; [`ReportRequest::new`] checks the limits.
    pub fn parse(
        granularity: Granularity,
        start: &str,
        end: &str,
    ) -> Result<Self, ReportRequestError> {
        let invalid = |field: &'static str, value: &str| ReportProblem::InvalidDate {
            field,
            value: value.to_owned(),
            granularity,
        };
        match granularity {
            Granularity::Daily => {
                let day = |s: &str| {
                    (s.len() == 10)
                        .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                        .flatten()
                };
                match (day(start), day(end)) {
                    (Some(start), Some(end)) => Ok(Self::Daily { start, end }),
                    (s, e) => Err(ReportRequestError(
                        [
                            s.is_none().then(|| invalid("start", start)),
                            e.is_none().then(|| invalid("end", end)),
                        ]
                        .into_iter()
                        .flatten()
                        .collect(),
                    )),
                }
            }
            Granularity::Monthly => match (YearMonth::parse(start), YearMonth::parse(end)) {
                (Some(start), Some(end)) => Ok(Self::Monthly { start, end }),
                (s, e) => Err(ReportRequestError(
                    [
                        s.is_none().then(|| invalid("start", start)),
                        e.is_none().then(|| invalid("end", end)),
                    ]
                    .into_iter()
                    .flatten()
                    .collect(),
                )),
            },
        }
    }

    /// Daily or monthly.
    pub fn granularity(&self) -> Granularity {
        match self {
            Self::Daily { .. } => Granularity::Daily,
            Self::Monthly { .. } => Granularity::Monthly,
        }
    }

    /// The first day covered.
    pub fn first_day(&self) -> NaiveDate {
        match self {
            Self::Daily { start, .. } => *start,
            Self::Monthly { start, .. } => start.first_day(),
        }
    }

    /// The last day covered.
    pub fn last_day(&self) -> NaiveDate {
        match self {
            Self::Daily { end, .. } => *end,
            Self::Monthly { end, .. } => end.last_day(),
        }
    }

    /// `start` and `end` as Yelp's body writes them.
    fn wire(&self) -> (String, String) {
        match self {
            Self::Daily { start, end } => (start.to_string(), end.to_string()),
            Self::Monthly { start, end } => (start.to_string(), end.to_string()),
        }
    }

    fn problems(&self, today: NaiveDate) -> Vec<ReportProblem> {
        let mut problems = Vec::new();
        let (start, end) = self.wire();
        if self.last_day() < self.first_day() {
            problems.push(ReportProblem::EndBeforeStart { start, end });
        } else {
            match self {
                Self::Daily { start, end } => {
                    let days = (*end - *start).num_days() + 1;
                    if days > DAILY_REPORT_MAX_DAYS {
                        problems.push(ReportProblem::TooManyDays { days });
                    }
                }
                Self::Monthly { start, end } => {
                    let months = start.months_to(*end);
                    if months > MONTHLY_REPORT_MAX_MONTHS {
                        problems.push(ReportProblem::TooManyMonths { months });
                    }
                }
            }
        }
        let earliest = today
            .checked_sub_signed(TimeDelta::days(REPORT_MAX_LOOK_BACK_DAYS))
            .unwrap_or(NaiveDate::MIN);
        if self.first_day() < earliest {
            problems.push(ReportProblem::TooFarBack {
                start: self.first_day(),
                earliest,
            });
        }
        let future = match self {
            Self::Daily { end, .. } => *end > today,
            Self::Monthly { end, .. } => *end > YearMonth::of(today),
        };
        if future {
            problems.push(ReportProblem::EndInFuture {
                end: self.wire().1,
                today,
            });
        }
        problems
    }
}

/// One thing wrong with a report request, found before anything was sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReportProblem {
    /// A date not of the granularity's form.
    #[error("{field} must be {} for a {granularity} report, not '{value}'", if *granularity == Granularity::Daily { "a date as YYYY-MM-DD" } else { "a month as YYYY-MM" })]
    InvalidDate {
        /// `start` or `end`.
        field: &'static str,
        /// What was given.
        value: String,
        /// The report's granularity.
        granularity: Granularity,
    },
    /// No business id.
    #[error("a report needs at least one business id")]
    NoBusinesses,
    /// More than [`REPORT_MAX_BUSINESSES`] distinct business ids.
    #[error("a report covers at most {REPORT_MAX_BUSINESSES} businesses, not {count}")]
    TooManyBusinesses {
        /// How many were given (each counted once).
        count: usize,
    },
    /// No metric.
    #[error("a report needs at least one metric")]
    NoMetrics,
    /// A metric name that cannot be one.
    #[error("'{0}' is not a metric name (lowercase letters, digits and _)")]
    InvalidMetric(String),
    /// The end comes before the start.
    #[error("the end {end} is before the start {start}")]
    EndBeforeStart {
        /// The start as given.
        start: String,
        /// The end as given.
        end: String,
    },
    /// A daily range longer than [`DAILY_REPORT_MAX_DAYS`].
    #[error("a daily report covers at most {DAILY_REPORT_MAX_DAYS} days, not {days}")]
    TooManyDays {
        /// Days asked for, both ends counted.
        days: i64,
    },
    /// A monthly range longer than [`MONTHLY_REPORT_MAX_MONTHS`].
    #[error("a monthly report covers at most {MONTHLY_REPORT_MAX_MONTHS} months, not {months}")]
    TooManyMonths {
        /// Months asked for, both ends counted.
        months: i64,
    },
    /// A start more than [`REPORT_MAX_LOOK_BACK_DAYS`] days ago.
    #[error(
        "Yelp keeps {REPORT_MAX_LOOK_BACK_DAYS} days of figures: the start {start} is before {earliest}"
    )]
    TooFarBack {
        /// The first day asked for.
        start: NaiveDate,
        /// The earliest day allowed today.
        earliest: NaiveDate,
    },
    /// An end after today (after this month, for a monthly report).
    #[error("the end {end} is after today ({today}): Yelp has no figures for it yet")]
    EndInFuture {
        /// The end as given.
        end: String,
        /// Today.
        today: NaiveDate,
    },
}

impl ReportProblem {
    /// The request field it is about: `start`, `end`, `ids` or `metrics`.
    pub fn field(&self) -> &'static str {
        match self {
            Self::InvalidDate { field, .. } => field,
            Self::NoBusinesses | Self::TooManyBusinesses { .. } => "ids",
            Self::NoMetrics | Self::InvalidMetric(_) => "metrics",
            Self::TooFarBack { .. } => "start",
            Self::EndBeforeStart { .. }
            | Self::TooManyDays { .. }
            | Self::TooManyMonths { .. }
            | Self::EndInFuture { .. } => "end",
        }
    }
}

/// A report request that cannot be sent: every problem found, in the order of the fields.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct ReportRequestError(pub Vec<ReportProblem>);

impl From<ReportRequestError> for Error {
    fn from(e: ReportRequestError) -> Self {
        Error::InvalidRequest(e.to_string())
    }
}

/// A report to ask for, within Yelp's limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportRequest {
    range: ReportRange,
    business_ids: Vec<BusinessId>,
    metrics: Vec<Metric>,
}

impl ReportRequest {
    /// A request for `metrics` of `business_ids` over `range`, checked against Yelp's limits as of
    /// `today`. Repeated ids and metrics are asked once, in their first order.
    pub fn new(
        range: ReportRange,
        business_ids: impl IntoIterator<Item = BusinessId>,
        metrics: impl IntoIterator<Item = Metric>,
        today: NaiveDate,
    ) -> Result<Self, ReportRequestError> {
        let mut seen = HashSet::new();
        let business_ids: Vec<BusinessId> = business_ids
            .into_iter()
            .filter(|id| seen.insert(id.clone()))
            .collect();
        let mut seen = HashSet::new();
        let metrics: Vec<Metric> = metrics
            .into_iter()
            .filter(|m| seen.insert(m.clone()))
            .collect();
        let mut problems = Vec::new();
        if business_ids.is_empty() {
            problems.push(ReportProblem::NoBusinesses);
        } else if business_ids.len() > REPORT_MAX_BUSINESSES {
            problems.push(ReportProblem::TooManyBusinesses {
                count: business_ids.len(),
            });
        }
        if metrics.is_empty() {
            problems.push(ReportProblem::NoMetrics);
        }
        problems.extend(
            metrics
                .iter()
                .filter(|m| !is_metric_name(m.as_str()))
                .map(|m| ReportProblem::InvalidMetric(m.as_str().to_owned())),
        );
        problems.extend(range.problems(today));
        if problems.is_empty() {
            Ok(Self {
                range,
                business_ids,
                metrics,
            })
        } else {
            Err(ReportRequestError(problems))
        }
    }

    /// The days or months covered.
    pub fn range(&self) -> &ReportRange {
        &self.range
    }

    /// Daily or monthly.
    pub fn granularity(&self) -> Granularity {
        self.range.granularity()
    }

    /// The businesses, each once.
    pub fn business_ids(&self) -> &[BusinessId] {
        &self.business_ids
    }

    /// The metrics, each once.
    pub fn metrics(&self) -> &[Metric] {
        &self.metrics
    }

    /// Yelp's body: `{start, end, ids, metrics}`.
    fn body(&self) -> Value {
        let (start, end) = self.range.wire();
        json!({
            "start": start,
            "end": end,
            "ids": self.business_ids,
            "metrics": self.metrics,
        })
    }
}

fn is_metric_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// How to reach the Reporting API. The key's `Debug` shows nothing of it.
#[derive(Clone)]
pub struct ReportingConfig {
    /// Root of the API: [`REPORTING_BASE_URL`], or a simulator's `…/v3/reporting/`.
    pub base_url: Url,
    /// The Fusion API key Yelp enabled for reporting.
    pub api_key: SecretString,
    /// Limit on one attempt, from connecting to the last byte of the answer.
    pub timeout: Duration,
    /// Limit on connecting.
    pub connect_timeout: Duration,
    /// Retries of the GET (and of a POST refused with a per-second 429).
    pub retry: RetryPolicy,
    /// Told of every attempt.
    pub observer: Option<CallObserver>,
    /// How fast this client (all its clones together) may ask; `None` for no limit.
    pub rate_limit: Option<RateLimit>,
}

impl fmt::Debug for ReportingConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReportingConfig")
            .field("base_url", &self.base_url.as_str())
            .field("api_key", &self.api_key)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("rate_limit", &self.rate_limit)
            .finish_non_exhaustive()
    }
}

impl ReportingConfig {
    /// A configuration for `base_url` (usually [`REPORTING_BASE_URL`]) with the client's default timeouts
    /// and retry policy. The URL follows the rules of [`ClientConfig::new`].
    pub fn new(base_url: &str, api_key: SecretString) -> Result<Self> {
        let defaults =
            ClientConfig::new(base_url, String::new(), SecretString::from(String::new()))?;
        Ok(Self {
            base_url: defaults.base_url,
            api_key,
            timeout: defaults.timeout,
            connect_timeout: defaults.connect_timeout,
            retry: defaults.retry,
            observer: None,
            rate_limit: None,
        })
    }
}

/// A client of the Reporting API v3. Cheap to clone; clones share connections and the rate limit.
#[derive(Clone, Debug)]
pub struct ReportingClient {
    http: Client,
    retry: RetryPolicy,
}

/// Where a report stands.
#[derive(Clone, Debug, PartialEq)]
pub enum ReportStatus {
    /// Made: its rows.
    Ready(Report),
    /// Not made yet (`JOB_NOT_COMPLETE`): ask again later.
    Pending,
    /// Yelp could not make it (`JOB_FAILED`); asking again will not help, a new request may.
    Failed {
        /// Yelp's words, when it gave any.
        description: String,
    },
}

/// A finished report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// The report's id.
    pub report_id: ReportId,
    /// Daily or monthly.
    pub granularity: Granularity,
    /// Its rows, in Yelp's order.
    pub rows: Vec<ReportRow>,
    /// Rows that could not be read, each with the reason.
    pub malformed: Vec<String>,
}

impl Report {
    /// The sum of `metric` over every row that has it.
    pub fn total(&self, metric: &Metric) -> i64 {
        self.rows.iter().filter_map(|row| row.get(metric)).sum()
    }
}

/// The figures of one business on one day (or in one month).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportRow {
    /// The business.
    pub business_id: BusinessId,
    /// The day; for a monthly report, the month's first day.
    pub date: NaiveDate,
    /// Every integer figure of the row, by metric, known or not.
    pub metrics: BTreeMap<Metric, i64>,
    /// The row's other fields, as Yelp sent them.
    pub other: Map<String, Value>,
}

impl ReportRow {
    /// A figure of the row.
    pub fn get(&self, metric: &Metric) -> Option<i64> {
        self.metrics.get(metric).copied()
    }

    /// Spend, when the row has it.
    pub fn ad_cost(&self) -> Option<Cents> {
        self.get(&Metric::AdCost).map(Cents::new)
    }
}

/// A refusal the Reporting API documents, told apart by [`Error::report_refusal`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportRefusal {
    /// 400 `REPORT_GRANULARITY_ERROR`: dates or range not fit for the granularity.
    Granularity,
    /// 413 `NUMBER_OF_BUSINESS_LIMIT_ERROR`: more than 500 businesses.
    TooManyBusinesses,
    /// 429 `ACCESS_LIMIT_REACHED`: the day's quota is spent.
    DailyQuota,
    /// 429 per second, after retries.
    PerSecondLimit,
}

impl Error {
    /// Which documented refusal of the Reporting API this is, if one.
    pub fn report_refusal(&self) -> Option<ReportRefusal> {
        match self {
            Self::Rejected { id: Some(id), .. } if id == GRANULARITY_ERROR => {
                Some(ReportRefusal::Granularity)
            }
            Self::Rejected { id: Some(id), .. } if id == DAILY_QUOTA_SPENT => {
                Some(ReportRefusal::DailyQuota)
            }
            Self::Rejected { status: 413, .. } => Some(ReportRefusal::TooManyBusinesses),
            Self::Rejected { id: Some(id), .. } if id == BUSINESS_LIMIT_ERROR => {
                Some(ReportRefusal::TooManyBusinesses)
            }
            Self::RateLimited { .. } => Some(ReportRefusal::PerSecondLimit),
            _ => None,
        }
    }
}

impl ReportingClient {
    /// Builds a client. Fails only on a TLS set-up problem.
    pub fn new(config: ReportingConfig) -> Result<Self> {
        let retry = config.retry.clone();
        let transport = ClientConfig {
            base_url: config.base_url,
            username: String::new(),
            password: SecretString::from(String::new()),
            timeout: config.timeout,
            connect_timeout: config.connect_timeout,
            retry: config.retry,
            observer: config.observer,
            rate_limit: config.rate_limit,
        };
        Ok(Self {
            http: Client::with_auth(transport, Auth::Bearer(config.api_key))?,
            retry,
        })
    }

    /// The API root this client talks to.
    pub fn base_url(&self) -> &Url {
        self.http.base_url()
    }

    /// Asks Yelp to make a report (`POST businesses/{daily|monthly}`) and answers its id. Sent once; again
    /// only after a per-second 429 (Yelp did nothing then), within the retry policy.
    pub async fn request_report(&self, request: &ReportRequest) -> Result<ReportId> {
        let granularity = request.granularity();
        let (endpoint, _) = granularity.endpoints();
        let path = ["businesses", granularity.as_str()];
        let body = request.body();
        let mut attempt = 0;
        let reply = loop {
            attempt += 1;
            let call = self
                .http
                .call(endpoint, Method::POST, &path, &[], Some(&body), false)?;
            match self.http.send(call).await {
                Err(Error::RateLimited { retry_after })
                    if attempt < self.retry.max_attempts
                        && retry_after.is_none_or(|after| after <= self.retry.max_retry_after) =>
                {
                    tokio::time::sleep(self.retry.delay(attempt, retry_after)).await;
                }
                other => break other?,
            }
        };
        let value = ok_json(endpoint, reply, || format!("{granularity} reports"))?;
        ["report_id", "id", "job_id"]
            .into_iter()
            .find_map(|key| value.get(key).and_then(Value::as_str))
            .filter(|id| !id.trim().is_empty())
            .map(ReportId::from_yelp)
            .ok_or_else(|| Error::Decode {
                endpoint,
                detail: "the answer has no report_id".into(),
            })
    }

    /// Where report `report_id` stands (`GET businesses/{daily|monthly}/{report_id}`); a read, retried as
    /// one. An unknown or expired id is [`Error::NotFound`].
    pub async fn report(
        &self,
        granularity: Granularity,
        report_id: &ReportId,
    ) -> Result<ReportStatus> {
        let (_, endpoint) = granularity.endpoints();
        let path = ["businesses", granularity.as_str(), report_id.as_str()];
        let mut call = self.http.get(endpoint, &path, &[])?;
        // A failed report may come as a 500 with JOB_FAILED: an answer, not a fault to retry.
        call.error_object_on_500_is_an_answer = true;
        let mut reply = self.http.send(call).await?;
        if let Some(description) = job_failure(&reply) {
            return Ok(ReportStatus::Failed { description });
        }
        if reply.status == StatusCode::INTERNAL_SERVER_ERROR {
            // Another error object: a fault like any other 5xx, asked again as a read is.
            reply = self.http.send(self.http.get(endpoint, &path, &[])?).await?;
            if let Some(description) = job_failure(&reply) {
                return Ok(ReportStatus::Failed { description });
            }
        }
        match reply.status {
            StatusCode::ACCEPTED => return Ok(ReportStatus::Pending),
            s if s.is_success() && !starts_like_json(&reply.body) => {
                let text = String::from_utf8_lossy(&reply.body);
                let rows = csv_rows(&text).map_err(|detail| Error::Decode { endpoint, detail })?;
                return Ok(ReportStatus::Ready(report_of(report_id, granularity, rows)));
            }
            _ => {}
        }
        let value = ok_json(endpoint, reply, || {
            format!("report {report_id} (expired or unknown)")
        })?;
        if let Some(status) = value.get("status").and_then(Value::as_str) {
            let status = status.trim().to_ascii_uppercase();
            if PENDING_STATUSES.contains(&status.as_str()) {
                return Ok(ReportStatus::Pending);
            }
            if FAILED_STATUSES.contains(&status.as_str()) {
                return Ok(ReportStatus::Failed {
                    description: text_field(&value, "description")
                        .or_else(|| text_field(&value, "message"))
                        .unwrap_or_default(),
                });
            }
        }
        let rows = json_rows(&value).ok_or_else(|| Error::Decode {
            endpoint,
            detail: "no list of rows or of businesses in the report".into(),
        })?;
        Ok(ReportStatus::Ready(report_of(report_id, granularity, rows)))
    }
}

/// `JOB_FAILED` as the answer's error code, whatever its status: Yelp's description of it.
fn job_failure(reply: &Reply) -> Option<String> {
    let (id, description) = yelp_error_body(&reply.body)?;
    id.filter(|id| FAILED_STATUSES.contains(&id.to_ascii_uppercase().as_str()))
        .map(|_| description)
}

fn starts_like_json(body: &[u8]) -> bool {
    body.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_none_or(|b| matches!(b, b'{' | b'['))
}

fn text_field(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// A row to read, with the business of the group it came in, if any.
type RawRow = (Option<String>, Value);

/// The rows of a JSON report, each with its group's business id; `None` when there is no list at all.
fn json_rows(value: &Value) -> Option<Vec<RawRow>> {
    let list = top_list(value)?;
    let mut rows = Vec::new();
    for item in list {
        let group = item.as_object().and_then(|object| {
            ROW_LIST_KEYS
                .iter()
                .find_map(|key| object.get(*key).and_then(Value::as_array))
                .map(|inner| (id_of(object), inner))
        });
        match group {
            Some((business, inner)) => {
                rows.extend(inner.iter().map(|row| (business.clone(), row.clone())));
            }
            None => rows.push((None, item.clone())),
        }
    }
    Some(rows)
}

fn top_list(value: &Value) -> Option<&Vec<Value>> {
    if let Some(list) = value.as_array() {
        return Some(list);
    }
    let object = value.as_object()?;
    LIST_KEYS
        .iter()
        .find_map(|key| object.get(*key).and_then(Value::as_array))
        .or_else(|| {
            object
                .get("report")
                .filter(|r| r.is_object())
                .and_then(top_list)
        })
}

/// The rows of a CSV report: a header line, then one line per row.
fn csv_rows(text: &str) -> Result<Vec<RawRow>, String> {
    let mut lines = text
        .trim_start_matches('\u{feff}')
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty());
    let split = |line: &str| -> Vec<String> {
        line.split(',')
            .map(|cell| cell.trim().trim_matches('"').trim().to_owned())
            .collect()
    };
    let header = split(lines.next().ok_or("an empty report")?);
    let has = |keys: &[&str]| header.iter().any(|h| keys.contains(&h.as_str()));
    if !has(&ID_KEYS) || !has(&DATE_KEYS) {
        return Err("a CSV report without a business column and a date column".into());
    }
    Ok(lines
        .map(|line| {
            let row: Map<String, Value> = header
                .iter()
                .cloned()
                .zip(split(line).into_iter().map(Value::String))
                .collect();
            (None, Value::Object(row))
        })
        .collect())
}

fn report_of(report_id: &ReportId, granularity: Granularity, rows: Vec<RawRow>) -> Report {
    let mut report = Report {
        report_id: report_id.clone(),
        granularity,
        rows: Vec::with_capacity(rows.len()),
        malformed: Vec::new(),
    };
    for (business, raw) in rows {
        match decode_row(business, raw) {
            Ok(row) => report.rows.push(row),
            Err(reason) => report.malformed.push(reason),
        }
    }
    report
}

fn decode_row(group_business: Option<String>, raw: Value) -> Result<ReportRow, String> {
    let Value::Object(mut object) = raw else {
        return Err(format!("a row that is not an object: {raw}"));
    };
    let business = id_of(&object)
        .or(group_business)
        .ok_or("a row that names no business")?;
    let date_field = DATE_KEYS
        .iter()
        .find_map(|key| object.get(*key).filter(|v| !v.is_null()));
    let date = date_field
        .and_then(Value::as_str)
        .and_then(parse_day)
        .ok_or_else(|| match date_field {
            Some(value) => {
                format!("the row of business {business} has an unreadable date: {value}")
            }
            None => format!("the row of business {business} has no date"),
        })?;
    if let Some(Value::Object(nested)) = object.remove("metrics") {
        for (key, value) in nested {
            object.entry(key).or_insert(value);
        }
    }
    let mut metrics = BTreeMap::new();
    let mut other = Map::new();
    for (key, value) in object {
        if value.is_null() {
            continue;
        }
        let bookkeeping = ID_KEYS.contains(&key.as_str()) || DATE_KEYS.contains(&key.as_str());
        match integer(&value).filter(|_| !bookkeeping) {
            Some(figure) => {
                metrics.insert(Metric::from_wire(&key), figure);
            }
            None if bookkeeping => {}
            None => {
                other.insert(key, value);
            }
        }
    }
    Ok(ReportRow {
        business_id: BusinessId::from_yelp(business),
        date,
        metrics,
        other,
    })
}

fn id_of(object: &Map<String, Value>) -> Option<String> {
    ID_KEYS
        .iter()
        .find_map(|key| object.get(*key).and_then(Value::as_str))
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
}

/// `YYYY-MM-DD`, a timestamp starting with one, or `YYYY-MM` (its first day).
fn parse_day(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    let day = text.get(..10).filter(|_| {
        text.len() == 10 || matches!(text.as_bytes().get(10), Some(b'T' | b't' | b' '))
    });
    match day {
        Some(day) => NaiveDate::parse_from_str(day, "%Y-%m-%d").ok(),
        None => YearMonth::parse(text).map(YearMonth::first_day),
    }
}

/// A JSON number or string that holds a whole number.
fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn ids(n: usize) -> Vec<BusinessId> {
        (0..n)
            .map(|i| BusinessId::from_yelp(format!("biz{i:019}")))
            .collect()
    }

    fn daily(start: &str, end: &str) -> ReportRange {
        ReportRange::parse(Granularity::Daily, start, end).unwrap()
    }

    fn problems(range: ReportRange, businesses: usize, today: &str) -> Vec<ReportProblem> {
        ReportRequest::new(range, ids(businesses), [Metric::AdCost], date(today))
            .map(|_| Vec::new())
            .unwrap_or_else(|e| e.0)
    }

    #[test]
    fn a_daily_range_of_89_days_passes_and_90_is_refused() {
        // 2026-01-01 to 2026-03-30 is 89 days, both counted.
        assert_eq!(
            problems(daily("2026-01-01", "2026-03-30"), 1, "2026-04-01"),
            vec![]
        );
        assert_eq!(
            problems(daily("2026-01-01", "2026-03-31"), 1, "2026-04-01"),
            vec![ReportProblem::TooManyDays { days: 90 }]
        );
    }

    #[test]
    fn a_monthly_range_of_3_months_passes_and_4_is_refused() {
        let monthly = |s, e| ReportRange::parse(Granularity::Monthly, s, e).unwrap();
        assert_eq!(
            problems(monthly("2025-11", "2026-01"), 1, "2026-03-19"),
            vec![]
        );
        assert_eq!(
            problems(monthly("2025-11", "2026-02"), 1, "2026-03-19"),
            vec![ReportProblem::TooManyMonths { months: 4 }]
        );
        assert_eq!(
            problems(monthly("2026-03", "2026-03"), 1, "2026-03-19"),
            vec![],
            "this month so far"
        );
        let next = problems(monthly("2026-03", "2026-04"), 1, "2026-03-19");
        assert!(
            matches!(next[..], [ReportProblem::EndInFuture { .. }]),
            "{next:?}"
        );
    }

    #[test]
    fn limits_on_businesses_look_back_order_and_future_are_each_named() {
        assert_eq!(
            problems(daily("2026-03-01", "2026-03-02"), 500, "2026-03-19"),
            vec![]
        );
        assert_eq!(
            problems(daily("2026-03-01", "2026-03-02"), 501, "2026-03-19"),
            vec![ReportProblem::TooManyBusinesses { count: 501 }]
        );
        assert_eq!(
            problems(daily("2026-03-01", "2026-03-02"), 0, "2026-03-19"),
            vec![ReportProblem::NoBusinesses]
        );
        // 730 days before 2026-03-19 is 2024-03-19.
        assert_eq!(
            problems(daily("2024-03-19", "2024-03-20"), 1, "2026-03-19"),
            vec![]
        );
        assert_eq!(
            problems(daily("2024-03-18", "2024-03-20"), 1, "2026-03-19"),
            vec![ReportProblem::TooFarBack {
                start: date("2024-03-18"),
                earliest: date("2024-03-19")
            }]
        );
        let backwards = problems(daily("2026-03-05", "2026-03-01"), 1, "2026-03-19");
        assert_eq!(
            backwards,
            vec![ReportProblem::EndBeforeStart {
                start: "2026-03-05".into(),
                end: "2026-03-01".into()
            }]
        );
        assert_eq!(
            problems(daily("2026-03-18", "2026-03-19"), 1, "2026-03-19"),
            vec![],
            "up to today"
        );
        let tomorrow = problems(daily("2026-03-18", "2026-03-20"), 1, "2026-03-19");
        assert_eq!(tomorrow[0].field(), "end");
        assert_eq!(
            tomorrow[0].to_string(),
            "the end 2026-03-20 is after today (2026-03-19): Yelp has no figures for it yet"
        );
    }

    #[test]
    fn every_problem_is_reported_at_once_with_its_field() {
        let err = ReportRequest::new(
            daily("2026-03-05", "2026-03-01"),
            ids(0),
            Vec::<Metric>::new(),
            date("2026-03-19"),
        )
        .unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(ReportProblem::field).collect();
        assert_eq!(fields, ["ids", "metrics", "end"]);
        let as_client_error = Error::from(err);
        assert!(
            matches!(&as_client_error, Error::InvalidRequest(m) if m.contains("at least one metric")),
            "{as_client_error}"
        );
    }

    #[test]
    fn dates_must_be_of_the_granularitys_form() {
        let err = ReportRange::parse(Granularity::Daily, "2026-03", "2026-3-01").unwrap_err();
        assert_eq!(
            err.to_string(),
            "start must be a date as YYYY-MM-DD for a daily report, not '2026-03'; \
             end must be a date as YYYY-MM-DD for a daily report, not '2026-3-01'"
        );
        let err = ReportRange::parse(Granularity::Monthly, "2026-03-01", "2026-13").unwrap_err();
        assert_eq!(err.0.len(), 2);
        assert!(
            err.to_string()
                .starts_with("start must be a month as YYYY-MM for a monthly report")
        );
        assert!(ReportRange::parse(Granularity::Daily, "2026-02-30", "2026-03-01").is_err());
    }

    #[test]
    fn repeated_ids_and_metrics_are_asked_once_and_bad_metric_names_refused() {
        let request = ReportRequest::new(
            daily("2026-03-01", "2026-03-02"),
            [ids(2), ids(2)].concat(),
            [Metric::AdCost, Metric::BilledClicks, Metric::AdCost],
            date("2026-03-19"),
        )
        .unwrap();
        assert_eq!(request.business_ids().len(), 2);
        assert_eq!(request.metrics(), [Metric::AdCost, Metric::BilledClicks]);
        assert_eq!(
            request.body(),
            json!({"start": "2026-03-01", "end": "2026-03-02", "ids": ids(2), "metrics": ["ad_cost", "billed_clicks"]})
        );
        let bad = ReportRequest::new(
            daily("2026-03-01", "2026-03-02"),
            ids(1),
            [Metric::Other("Ad Cost".into())],
            date("2026-03-19"),
        );
        assert_eq!(
            bad.unwrap_err().0,
            vec![ReportProblem::InvalidMetric("Ad Cost".into())]
        );
    }

    #[test]
    fn grouped_flat_and_csv_reports_read_to_the_same_rows() {
        let id = ReportId::from_yelp("r1");
        let grouped = json!({"report_id": "r1", "businesses": [
            {"business_id": "b1", "data": [{"date": "2026-03-01", "ad_cost": 150, "billed_clicks": "1", "ad_driven_calls": 2}]}
        ]});
        let flat = json!({"data": [{"business_id": "b1", "date": "2026-03-01T00:00:00Z", "metrics": {"ad_cost": 150.0, "billed_clicks": 1, "ad_driven_calls": 2}}]});
        let csv =
            "business_id,date,ad_cost,billed_clicks,ad_driven_calls\n\"b1\",2026-03-01,150,1,2\n";
        let from_grouped = report_of(&id, Granularity::Daily, json_rows(&grouped).unwrap());
        let from_flat = report_of(&id, Granularity::Daily, json_rows(&flat).unwrap());
        let from_csv = report_of(&id, Granularity::Daily, csv_rows(csv).unwrap());
        assert_eq!(from_grouped, from_flat);
        assert_eq!(from_grouped, from_csv);
        let row = &from_grouped.rows[0];
        assert_eq!(row.ad_cost(), Some(Cents::new(150)));
        assert_eq!(row.get(&Metric::BilledClicks), Some(1));
        assert_eq!(
            row.get(&Metric::Other("ad_driven_calls".into())),
            Some(2),
            "an unknown metric is kept"
        );
    }

    #[test]
    fn a_bad_row_costs_only_itself_and_odd_values_are_kept() {
        let id = ReportId::from_yelp("r1");
        let value = json!([
            {"business_id": "b1", "date": "2026-03", "ad_cost": 10, "note": "estimated"},
            {"date": "2026-03-02", "ad_cost": 1},
            {"business_id": "b2", "date": "soon"},
            "not a row",
        ]);
        let report = report_of(&id, Granularity::Monthly, json_rows(&value).unwrap());
        assert_eq!(report.rows.len(), 1);
        assert_eq!(
            report.rows[0].date,
            date("2026-03-01"),
            "a month reads as its first day"
        );
        assert_eq!(report.rows[0].other["note"], "estimated");
        assert_eq!(report.malformed.len(), 3, "{:?}", report.malformed);
        assert!(report.malformed[1].contains("b2") && report.malformed[1].contains("soon"));
        assert_eq!(report.total(&Metric::AdCost), 10);
    }

    #[test]
    fn refusals_are_told_apart_by_their_codes() {
        let rejected = |status, id: &str| Error::Rejected {
            status,
            id: Some(id.into()),
            description: String::new(),
        };
        assert_eq!(
            rejected(400, "REPORT_GRANULARITY_ERROR").report_refusal(),
            Some(ReportRefusal::Granularity)
        );
        assert_eq!(
            rejected(413, "NUMBER_OF_BUSINESS_LIMIT_ERROR").report_refusal(),
            Some(ReportRefusal::TooManyBusinesses)
        );
        assert_eq!(
            rejected(429, "ACCESS_LIMIT_REACHED").report_refusal(),
            Some(ReportRefusal::DailyQuota)
        );
        assert_eq!(
            Error::RateLimited { retry_after: None }.report_refusal(),
            Some(ReportRefusal::PerSecondLimit)
        );
        assert_eq!(rejected(400, "VALIDATION_ERROR").report_refusal(), None);
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let config =
            ReportingConfig::new(REPORTING_BASE_URL, SecretString::from("fusion-key-123")).unwrap();
        assert!(!format!("{config:?}").contains("fusion-key-123"));
        let client = ReportingClient::new(config).unwrap();
        assert!(!format!("{client:?}").contains("fusion-key-123"));
        assert_eq!(client.base_url().as_str(), REPORTING_BASE_URL);
    }
}
