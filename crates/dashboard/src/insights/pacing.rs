//! Pacing of CPC programs: where a program's spend stands in its fee period, where it is heading, and what
//! deserves attention. Pure: every input is a value and every result is as of the reading it is given, so
//! the same inputs give the same answer on any machine at any time.
//!
//! # Fee periods
//! A CPC budget is monthly and covers a fee period (`program_metrics.fee_period`, contract §2.4 and §3;
//! `ad_cost`, `billed_clicks` and `billed_impressions` count from the period's start):
//! - `CALENDAR_MONTH`: the calendar month, its 1st to its last day (28, 29, 30 or 31 days).
//! - `ROLLING_MONTH`: 30-day periods counted from the program's start date (days 0–29, 30–59, …). Yelp's
//!   pages do not define it further; this is also how the simulator reads it.
//!
//! Days are UTC days: a period runs from 00:00 UTC of its first day to 00:00 UTC after its last. (The
//! contract gives program dates without a time zone.)
//!
//! # The program's part of a period, and its budget
//! A program that starts or ends inside a period runs only on some of its days, its *active* days. The
//! period's budget is prorated by day, and a budget changed mid-period counts at each value for the days it
//! was in force:
//!
//! `period budget = Σ over active days of (budget in force that day) ÷ days in the period`
//!
//! The budget in force on a day is the one last seen on or before that day, by a snapshot or the reading
//! (so the day of a change counts at the new budget); days before the first observation take the first
//! observed budget, and days after the reading the reading's.
//!
//! # Projection
//! Linear in time: `spend so far × length of the active part ÷ time elapsed of it`, elapsed measured to the
//! second at the reading. A budget raised mid-period is not anticipated: until spend catches up, the
//! projection follows the pace of the whole period so far.
//!
//! # Rounding
//! Cents stay integers. Each division of cents (period budget, projection, cost per click) is done exactly
//! on 128-bit integers and rounded half up to a whole cent, once. Ratios (elapsed fraction, spend share,
//! CTR) are `f64` for display only; every flag compares integers.
//!
//! # Flags
//! See [`PacingFlag`]. A projection is only trusted for flags once a day of the active part has elapsed
//! (or all of it, when it is shorter), so the first hours of a period raise nothing on a few clicks.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use yelp_partner_api::{Cents, FeePeriod, PauseStatus, ProgramStatus};

use crate::error::{Error, Result};

/// A projection under this share of the period budget, in percent, is under-delivering.
pub const UNDER_DELIVERING_PERCENT: i64 = 80;

/// A current program without a new billed click for this many days is not spending.
pub const NOT_SPENDING_DAYS: i64 = 3;

/// An end date at most this many days after the reading's day ends soon.
pub const ENDS_SOON_DAYS: i64 = 7;

/// Length of a `ROLLING_MONTH` fee period, in days.
pub const ROLLING_PERIOD_DAYS: i64 = 30;

const SECONDS_PER_DAY: i64 = 86_400;

/// A program's metrics as seen at one moment: a stored snapshot, or the latest reading (the last sync).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// When Yelp's values were read.
    pub at: DateTime<Utc>,
    /// Monthly budget then.
    pub budget: Cents,
    /// Spend of the fee period that was current then (`ad_cost`).
    pub ad_cost: Cents,
    /// Billed clicks of that period.
    pub billed_clicks: i64,
    /// Billed impressions of that period.
    pub billed_impressions: i64,
}

/// What pacing needs to know of one CPC program.
#[derive(Clone, Debug)]
pub struct PacingInput<'a> {
    /// The period the budget covers.
    pub fee_period: FeePeriod,
    /// The program's first day.
    pub start_date: NaiveDate,
    /// Its last day; `None` when it has no end (Yelp's `9999-12-31`).
    pub end_date: Option<NaiveDate>,
    /// Yelp's `program_status`.
    pub program_status: ProgramStatus,
    /// Yelp's `program_pause_status`.
    pub pause_status: PauseStatus,
    /// The latest values: every result is as of `reading.at`.
    pub reading: Snapshot,
    /// Earlier snapshots, in any order; those not before the reading are ignored.
    pub history: &'a [Snapshot],
}

/// A run of whole days, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Period {
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
    /// How many days, `end − start + 1`.
    pub days: i64,
}

impl Period {
    fn new(start: NaiveDate, end: NaiveDate) -> Self {
        Self {
            start,
            end,
            days: (end - start).num_days() + 1,
        }
    }

    /// Whether `day` is one of the period's days.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.start <= day && day <= self.end
    }
}

/// Something about a program's pacing that deserves attention. The wire names (`under_delivering`, …) are
/// stable: filters, stored alerts and the API use them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PacingFlag {
    /// Current, and the projection is under [`UNDER_DELIVERING_PERCENT`] % of the period budget.
    UnderDelivering,
    /// Current, and the budget is spent already or the projection reaches it: Yelp will stop showing the
    /// ads before the period ends.
    WillExhaustEarly,
    /// Current, and no new billed click in the last [`NOT_SPENDING_DAYS`] days (known only when a snapshot
    /// at least that old exists).
    NotSpending,
    /// The end date is the reading's day or one of the [`ENDS_SOON_DAYS`] days after it.
    EndsSoon,
}

impl PacingFlag {
    /// Every flag, in the order results list them.
    pub const ALL: [PacingFlag; 4] = [
        Self::UnderDelivering,
        Self::WillExhaustEarly,
        Self::NotSpending,
        Self::EndsSoon,
    ];

    /// The wire name, e.g. `will_exhaust_early`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnderDelivering => "under_delivering",
            Self::WillExhaustEarly => "will_exhaust_early",
            Self::NotSpending => "not_spending",
            Self::EndsSoon => "ends_soon",
        }
    }

    /// A name a person reads, for screens and alert texts.
    pub fn label(self) -> &'static str {
        match self {
            Self::UnderDelivering => "Under-delivering",
            Self::WillExhaustEarly => "Will exhaust early",
            Self::NotSpending => "Not spending",
            Self::EndsSoon => "Ends soon",
        }
    }
}

impl fmt::Display for PacingFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PacingFlag {
    type Err = Error;

    /// Reads a wire name, as a filter in a URL gives it.
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|flag| flag.as_str() == s)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "'{s}' is not a pacing flag; expected one of: under_delivering, will_exhaust_early, not_spending, ends_soon"
                ))
            })
    }
}

/// Where a CPC program stands in its fee period, as of its reading.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pacing {
    /// The fee period of the reading's day (of the program's first or last day when the reading falls
    /// before or after it).
    pub period: Period,
    /// The days of `period` the program runs.
    pub active: Period,
    /// Which day of `period` the reading falls on, from 1 (clamped to the program's days like `period`).
    pub day_of_period: i64,
    /// Share of `active` elapsed at the reading, 0 to 1.
    pub elapsed_fraction: f64,
    /// The period's budget, prorated to the active days and to each budget in force.
    pub budget: Cents,
    /// Spend so far in the period (`ad_cost`).
    pub spend: Cents,
    /// `spend ÷ budget`; `None` when the budget is zero.
    pub spend_fraction: Option<f64>,
    /// Spend at the end of the active part if it goes on at the pace so far; `None` before any of it has
    /// elapsed.
    pub projected_spend: Option<Cents>,
    /// Whether enough of the period has passed (a day, or all of a shorter one) to judge the pace: before
    /// that, a projection from a few hours says little, and no flag rests on it.
    pub judged: bool,
    /// Billed clicks so far in the period.
    pub clicks: i64,
    /// Billed impressions so far in the period.
    pub impressions: i64,
    /// Clicks per impression; `None` without impressions.
    pub ctr: Option<f64>,
    /// Spend per click; `None` without clicks.
    pub cost_per_click: Option<Cents>,
    /// What deserves attention, in the order of [`PacingFlag::ALL`].
    pub flags: Vec<PacingFlag>,
}

/// The fee period of `fee_period` that contains `day`, for a program that started on `program_start`.
pub fn fee_period_containing(
    fee_period: FeePeriod,
    program_start: NaiveDate,
    day: NaiveDate,
) -> Period {
    match fee_period {
        FeePeriod::CalendarMonth => {
            let first = day.with_day(1).unwrap_or(day);
            let last = first
                .checked_add_months(Months::new(1))
                .and_then(|next| next.pred_opt())
                .unwrap_or(NaiveDate::MAX);
            Period::new(first, last)
        }
        FeePeriod::RollingMonth => {
            let index = (day - program_start)
                .num_days()
                .div_euclid(ROLLING_PERIOD_DAYS);
            let first = add_days(program_start, index * ROLLING_PERIOD_DAYS);
            Period::new(first, add_days(first, ROLLING_PERIOD_DAYS - 1))
        }
    }
}

/// Computes the pacing of one CPC program. Fails, naming every field, on negative money or counts and on
/// an end date before the start.
pub fn pace(input: &PacingInput<'_>) -> Result<Pacing> {
    validate(input)?;
    let reading = &input.reading;
    let reading_day = reading.at.date_naive();
    let last_day = input.end_date.unwrap_or(NaiveDate::MAX);
    let on = reading_day.clamp(input.start_date, last_day);
    let period = fee_period_containing(input.fee_period, input.start_date, on);
    let active = Period::new(period.start.max(input.start_date), period.end.min(last_day));

    let window = active.days.saturating_mul(SECONDS_PER_DAY);
    let elapsed = (reading.at - midnight(active.start))
        .num_seconds()
        .clamp(0, window);

    let mut observations: Vec<&Snapshot> = input
        .history
        .iter()
        .filter(|s| s.at < reading.at)
        .chain(std::iter::once(reading))
        .collect();
    // Stable, and the reading is strictly the latest, so it stays last.
    observations.sort_by_key(|s| s.at);

    let budget = period_budget(&observations, &active, period.days);
    let spend = reading.ad_cost;
    let projected_spend = (elapsed > 0).then(|| {
        Cents::new(div_round(
            i128::from(spend.get()) * i128::from(window),
            elapsed,
        ))
    });

    let current = input.program_status == ProgramStatus::Active
        && input.pause_status == PauseStatus::NotPaused
        && input.start_date <= reading_day
        && reading_day <= last_day;
    let trusted = elapsed >= SECONDS_PER_DAY.min(window);
    let budget_cents = i128::from(budget.get());
    let mut flags = Vec::new();
    let under = projected_spend.is_some_and(|p| {
        i128::from(p.get()) * 100 < i128::from(UNDER_DELIVERING_PERCENT) * budget_cents
    });
    if current && trusted && budget_cents > 0 && under {
        flags.push(PacingFlag::UnderDelivering);
    }
    let spent_out = budget_cents > 0 && i128::from(spend.get()) >= budget_cents;
    let heading_out = budget_cents > 0
        && trusted
        && projected_spend.is_some_and(|p| i128::from(p.get()) >= budget_cents);
    if current && (spent_out || heading_out) {
        flags.push(PacingFlag::WillExhaustEarly);
    }
    if current && no_new_clicks_since(input, &observations) {
        flags.push(PacingFlag::NotSpending);
    }
    if input
        .end_date
        .is_some_and(|end| reading_day <= end && (end - reading_day).num_days() <= ENDS_SOON_DAYS)
    {
        flags.push(PacingFlag::EndsSoon);
    }

    Ok(Pacing {
        period,
        active,
        day_of_period: (on - period.start).num_days() + 1,
        elapsed_fraction: elapsed as f64 / window as f64,
        budget,
        spend,
        spend_fraction: (budget_cents > 0).then(|| spend.get() as f64 / budget.get() as f64),
        projected_spend,
        judged: trusted,
        clicks: reading.billed_clicks,
        impressions: reading.billed_impressions,
        ctr: (reading.billed_impressions > 0)
            .then(|| reading.billed_clicks as f64 / reading.billed_impressions as f64),
        cost_per_click: (reading.billed_clicks > 0)
            .then(|| Cents::new(div_round(i128::from(spend.get()), reading.billed_clicks))),
        flags,
    })
}

fn validate(input: &PacingInput<'_>) -> Result<()> {
    let mut wrong = Vec::new();
    if input.end_date.is_some_and(|end| end < input.start_date) {
        wrong.push((
            "end_date".to_owned(),
            format!(
                "the end date {} is before the start date {}",
                input.end_date.unwrap_or(input.start_date),
                input.start_date
            ),
        ));
    }
    let snapshots = std::iter::once(("reading", &input.reading))
        .chain(input.history.iter().map(|s| ("history", s)));
    for (source, s) in snapshots {
        for (field, value) in [
            ("budget", s.budget.get()),
            ("ad_cost", s.ad_cost.get()),
            ("billed_clicks", s.billed_clicks),
            ("billed_impressions", s.billed_impressions),
        ] {
            if value < 0 {
                wrong.push((
                    field.to_owned(),
                    format!(
                        "{field} must not be negative, got {value} (the {source} of {})",
                        s.at
                    ),
                ));
            }
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidFields(wrong))
    }
}

/// `Σ budget in force on each active day ÷ days of the period`, rounded half up. `observations` is sorted
/// by time and not empty (it holds the reading).
fn period_budget(observations: &[&Snapshot], active: &Period, period_days: i64) -> Cents {
    let mut total: i128 = 0;
    for day in active.start.iter_days().take(active.days as usize) {
        // Observations made on or before `day`: the last of them was in force that day.
        let seen = observations.partition_point(|o| o.at.date_naive() <= day);
        let in_force = observations[seen.saturating_sub(1)];
        total += i128::from(in_force.budget.get());
    }
    Cents::new(div_round(total, period_days))
}

/// Whether no billed click came since the latest observation at least [`NOT_SPENDING_DAYS`] old. Clicks
/// count from each period's start, so across a period boundary every click of the later observation is new.
fn no_new_clicks_since(input: &PacingInput<'_>, observations: &[&Snapshot]) -> bool {
    let Some(cutoff) = input
        .reading
        .at
        .checked_sub_signed(TimeDelta::days(NOT_SPENDING_DAYS))
    else {
        return false;
    };
    let old_enough = observations.partition_point(|o| o.at <= cutoff);
    let Some(base) = old_enough.checked_sub(1) else {
        return false;
    };
    let period_of =
        |o: &Snapshot| fee_period_containing(input.fee_period, input.start_date, o.at.date_naive());
    observations[base..].windows(2).all(|pair| {
        let (before, after) = (pair[0], pair[1]);
        let new_clicks = if period_of(before) == period_of(after) {
            after.billed_clicks - before.billed_clicks
        } else {
            after.billed_clicks
        };
        new_clicks <= 0
    })
}

/// `numerator ÷ denominator` rounded half up, for a numerator ≥ 0 and a denominator > 0; saturates at the
/// bounds of `i64`.
fn div_round(numerator: i128, denominator: i64) -> i64 {
    let denominator = i128::from(denominator.max(1));
    let rounded = (2 * numerator + denominator) / (2 * denominator);
    i64::try_from(rounded).unwrap_or(i64::MAX)
}

fn add_days(day: NaiveDate, days: i64) -> NaiveDate {
    TimeDelta::try_days(days)
        .and_then(|delta| day.checked_add_signed(delta))
        .unwrap_or(if days < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn snapshot(when: &str, budget: i64, ad_cost: i64, clicks: i64) -> Snapshot {
        Snapshot {
            at: at(when),
            budget: Cents::new(budget),
            ad_cost: Cents::new(ad_cost),
            billed_clicks: clicks,
            billed_impressions: clicks * 20,
        }
    }

    /// A running calendar-month program started long ago, with no end, read as `reading`.
    fn running(reading: Snapshot) -> PacingInput<'static> {
        PacingInput {
            fee_period: FeePeriod::CalendarMonth,
            start_date: date("2025-01-01"),
            end_date: None,
            program_status: ProgramStatus::Active,
            pause_status: PauseStatus::NotPaused,
            reading,
            history: &[],
        }
    }

    fn flags(input: &PacingInput<'_>) -> Vec<PacingFlag> {
        pace(input).unwrap().flags
    }

    #[test]
    fn calendar_periods_are_months_of_28_29_30_and_31_days() {
        let start = date("2020-01-01");
        let period = |d| fee_period_containing(FeePeriod::CalendarMonth, start, date(d));
        assert_eq!(
            period("2026-01-31"),
            Period::new(date("2026-01-01"), date("2026-01-31"))
        );
        assert_eq!(period("2026-04-30").days, 30);
        assert_eq!(
            period("2026-12-31"),
            Period::new(date("2026-12-01"), date("2026-12-31"))
        );
        assert_eq!(
            period("2027-01-01").start,
            date("2027-01-01"),
            "a new year starts a new period"
        );
        assert_eq!(period("2027-02-14").days, 28);
        assert_eq!(
            period("2028-02-29"),
            Period::new(date("2028-02-01"), date("2028-02-29"))
        );
        assert_eq!(period("2100-02-15").days, 28, "2100 is not a leap year");
        assert_eq!(period("2000-02-15").days, 29, "2000 is");
    }

    #[test]
    fn rolling_periods_are_thirty_days_from_the_start_across_month_ends_and_feb_29() {
        let from_jan_15 =
            |d| fee_period_containing(FeePeriod::RollingMonth, date("2026-01-15"), date(d));
        // 2026-01-15 + 30 days = 2026-02-14; + 29 = 2026-03-15 (February has 28 days in 2026).
        assert_eq!(
            from_jan_15("2026-02-20"),
            Period::new(date("2026-02-14"), date("2026-03-15"))
        );
        assert_eq!(
            from_jan_15("2026-02-13").end,
            date("2026-02-13"),
            "the first period's last day"
        );
        assert_eq!(from_jan_15("2026-03-16").start, date("2026-03-16"));
        let from_leap_day =
            |d| fee_period_containing(FeePeriod::RollingMonth, date("2028-02-29"), date(d));
        assert_eq!(
            from_leap_day("2028-03-29"),
            Period::new(date("2028-02-29"), date("2028-03-29"))
        );
        assert_eq!(
            from_leap_day("2028-03-30"),
            Period::new(date("2028-03-30"), date("2028-04-28"))
        );
    }

    #[test]
    fn start_of_a_period_projects_from_the_first_hours_but_flags_nothing_before_a_full_day() {
        // March 2026: 31 days = 2,678,400 s. At 12:00 on the 1st, 43,200 s = 1/62 of it have elapsed.
        let early = running(snapshot("2026-03-01T12:00:00Z", 31_000, 1_000, 4));
        let pacing = pace(&early).unwrap();
        assert_eq!(
            pacing.period,
            Period::new(date("2026-03-01"), date("2026-03-31"))
        );
        assert_eq!(pacing.day_of_period, 1);
        assert_eq!(pacing.elapsed_fraction, 1.0 / 62.0);
        assert_eq!(pacing.budget, Cents::new(31_000));
        // 1,000 × 62 = 62,000: twice the budget, but on half a day of evidence.
        assert_eq!(pacing.projected_spend, Some(Cents::new(62_000)));
        assert!(!pacing.judged, "half a day is too early to judge");
        assert_eq!(pacing.flags, vec![]);
        // A day in, the same $10.00 projects to exactly the budget: it will run out before the end.
        let a_day_in = running(snapshot("2026-03-02T00:00:00Z", 31_000, 1_000, 4));
        let pacing = pace(&a_day_in).unwrap();
        assert_eq!(pacing.projected_spend, Some(Cents::new(31_000)));
        assert!(pacing.judged);
        assert_eq!(pacing.flags, vec![PacingFlag::WillExhaustEarly]);
    }

    #[test]
    fn middle_of_a_period_is_under_delivering_only_below_eighty_percent() {
        // 15 of 31 days elapsed. 12,000 × 31 ÷ 15 = 24,800 = 80 % of 31,000 exactly: not under.
        let on_the_line = running(snapshot("2026-03-16T00:00:00Z", 31_000, 12_000, 40));
        let pacing = pace(&on_the_line).unwrap();
        assert_eq!(pacing.day_of_period, 16);
        assert_eq!(pacing.elapsed_fraction, 15.0 / 31.0);
        assert_eq!(pacing.projected_spend, Some(Cents::new(24_800)));
        assert_eq!(pacing.flags, vec![]);
        // 11,999 × 31 ÷ 15 = 24,797.93 → 24,798 cents: 79.99 %.
        let below = running(snapshot("2026-03-16T00:00:00Z", 31_000, 11_999, 40));
        let pacing = pace(&below).unwrap();
        assert_eq!(pacing.projected_spend, Some(Cents::new(24_798)));
        assert_eq!(pacing.flags, vec![PacingFlag::UnderDelivering]);
    }

    #[test]
    fn end_of_a_period_with_the_budget_spent_will_exhaust_early() {
        // 18:00 on the 31st: 30.75 of 31 days = 2,656,800 of 2,678,400 s.
        let spent = running(snapshot("2026-03-31T18:00:00Z", 31_000, 31_000, 100));
        let pacing = pace(&spent).unwrap();
        assert_eq!(pacing.day_of_period, 31);
        // 31,000 × 2,678,400 ÷ 2,656,800 = 31,252.03 → 31,252.
        assert_eq!(pacing.projected_spend, Some(Cents::new(31_252)));
        assert_eq!(pacing.spend_fraction, Some(1.0));
        assert_eq!(pacing.flags, vec![PacingFlag::WillExhaustEarly]);
        // 30,000 × 2,678,400 ÷ 2,656,800 = 30,243.90 → 30,244: 97.6 %, nothing to say.
        let nearly = running(snapshot("2026-03-31T18:00:00Z", 31_000, 30_000, 100));
        let pacing = pace(&nearly).unwrap();
        assert_eq!(pacing.projected_spend, Some(Cents::new(30_244)));
        assert_eq!(pacing.flags, vec![]);
    }

    #[test]
    fn a_program_started_mid_period_gets_the_days_share_of_the_budget() {
        // April has 30 days; from the 11th the program runs 20 of them: 30,000 × 20 ÷ 30 = 20,000.
        let input = PacingInput {
            start_date: date("2026-04-11"),
            ..running(snapshot("2026-04-21T00:00:00Z", 30_000, 9_000, 30))
        };
        let pacing = pace(&input).unwrap();
        assert_eq!(
            pacing.period,
            Period::new(date("2026-04-01"), date("2026-04-30"))
        );
        assert_eq!(
            pacing.active,
            Period::new(date("2026-04-11"), date("2026-04-30"))
        );
        assert_eq!(pacing.day_of_period, 21);
        assert_eq!(pacing.budget, Cents::new(20_000));
        // 10 of its 20 days elapsed: 9,000 × 2 = 18,000, 90 % of 20,000.
        assert_eq!(pacing.elapsed_fraction, 0.5);
        assert_eq!(pacing.projected_spend, Some(Cents::new(18_000)));
        assert_eq!(pacing.spend_fraction, Some(0.45));
        assert_eq!(pacing.flags, vec![]);
    }

    #[test]
    fn a_program_ending_mid_period_is_prorated_and_ends_soon() {
        // Ends on 15 April: 15 of 30 days, 15,000 of 30,000. On the 8th, 7 of the 15 days have elapsed:
        // 7,000 × 15 ÷ 7 = 15,000, the whole budget.
        let input = PacingInput {
            end_date: Some(date("2026-04-15")),
            ..running(snapshot("2026-04-08T00:00:00Z", 30_000, 7_000, 30))
        };
        let pacing = pace(&input).unwrap();
        assert_eq!(
            pacing.active,
            Period::new(date("2026-04-01"), date("2026-04-15"))
        );
        assert_eq!(pacing.budget, Cents::new(15_000));
        assert_eq!(pacing.projected_spend, Some(Cents::new(15_000)));
        assert_eq!(
            pacing.flags,
            vec![PacingFlag::WillExhaustEarly, PacingFlag::EndsSoon]
        );
    }

    #[test]
    fn a_budget_changed_mid_period_counts_each_budget_for_the_days_it_was_in_force() {
        // $310 until the change seen on 11 March, $620 from then: days 1-10 at 31,000 (days before the first
        // snapshot take its budget), days 11-31 at 62,000: (10 × 31,000 + 21 × 62,000) ÷ 31 = 52,000.
        let history = [
            snapshot("2026-03-11T09:00:00Z", 62_000, 9_000, 45),
            snapshot("2026-03-05T10:00:00Z", 31_000, 4_000, 20),
        ];
        let input = PacingInput {
            history: &history,
            ..running(snapshot("2026-03-21T00:00:00Z", 62_000, 30_000, 150))
        };
        let pacing = pace(&input).unwrap();
        assert_eq!(pacing.budget, Cents::new(52_000));
        // 20 of 31 days: 30,000 × 31 ÷ 20 = 46,500, 89 % of 52,000 (against the new $620 alone it would be
        // 75 %, under-delivering).
        assert_eq!(pacing.projected_spend, Some(Cents::new(46_500)));
        assert_eq!(pacing.flags, vec![]);
    }

    #[test]
    fn a_budget_lowered_mid_period_counts_the_one_in_force_since_the_last_period() {
        // $620 since a snapshot of 20 February (in force on 1 March), $310 from the change seen on the
        // 21st: (20 × 62,000 + 11 × 31,000) ÷ 31 = 51,000.
        let history = [
            snapshot("2026-03-21T08:00:00Z", 31_000, 17_000, 60),
            snapshot("2026-02-20T08:00:00Z", 62_000, 40_000, 150),
        ];
        let input = PacingInput {
            history: &history,
            ..running(snapshot("2026-03-26T00:00:00Z", 31_000, 20_000, 70))
        };
        let pacing = pace(&input).unwrap();
        assert_eq!(pacing.budget, Cents::new(51_000));
        // 25 of 31 days: 20,000 × 31 ÷ 25 = 24,800, 48.6 % of 51,000 (80 % of the new $310 alone).
        assert_eq!(pacing.projected_spend, Some(Cents::new(24_800)));
        assert_eq!(pacing.flags, vec![PacingFlag::UnderDelivering]);
    }

    #[test]
    fn leap_day_february_has_twenty_nine_days_of_budget() {
        // February 2028: 29 days. At 00:00 on the 29th, 28 of them have elapsed:
        // 28,000 × 29 ÷ 28 = 29,000, the whole budget.
        let input = running(snapshot("2028-02-29T00:00:00Z", 29_000, 28_000, 90));
        let pacing = pace(&input).unwrap();
        assert_eq!(
            pacing.period,
            Period::new(date("2028-02-01"), date("2028-02-29"))
        );
        assert_eq!(pacing.day_of_period, 29);
        assert_eq!(pacing.elapsed_fraction, 28.0 / 29.0);
        assert_eq!(pacing.projected_spend, Some(Cents::new(29_000)));
        assert_eq!(pacing.flags, vec![PacingFlag::WillExhaustEarly]);
        // A rolling program started on 28 Feb 2028 has budget days 28 Feb to 28 Mar, Feb 29 among them.
        let rolling = PacingInput {
            fee_period: FeePeriod::RollingMonth,
            start_date: date("2028-02-28"),
            ..running(snapshot("2028-03-01T00:00:00Z", 30_000, 2_000, 10))
        };
        let pacing = pace(&rolling).unwrap();
        assert_eq!(
            pacing.period,
            Period::new(date("2028-02-28"), date("2028-03-28"))
        );
        // 2 of 30 days: 2,000 × 15 = 30,000.
        assert_eq!(pacing.projected_spend, Some(Cents::new(30_000)));
    }

    #[test]
    fn ends_soon_counts_seven_days_from_the_readings_day() {
        let ending = |end: &str| PacingInput {
            end_date: Some(date(end)),
            ..running(snapshot("2026-03-10T15:00:00Z", 31_000, 9_700, 30))
        };
        let ends_soon = |end: &str| flags(&ending(end)).contains(&PacingFlag::EndsSoon);
        assert!(ends_soon("2026-03-17"), "seven days after");
        assert!(ends_soon("2026-03-10"), "ends today");
        assert!(!ends_soon("2026-03-18"), "eight days after");
        assert_eq!(
            flags(&ending("2026-03-09")),
            vec![],
            "ended yesterday: nothing at all"
        );
        let no_end = running(snapshot("2026-03-10T15:00:00Z", 31_000, 9_700, 30));
        assert!(!flags(&no_end).contains(&PacingFlag::EndsSoon));
    }

    #[test]
    fn not_spending_needs_a_snapshot_three_days_old_and_no_click_since() {
        let reading = snapshot("2026-03-20T12:00:00Z", 31_000, 17_000, 40);
        let quiet = [snapshot("2026-03-17T08:00:00Z", 31_000, 17_000, 40)];
        let input = PacingInput {
            history: &quiet,
            ..running(reading)
        };
        assert_eq!(flags(&input), vec![PacingFlag::NotSpending]);

        // The latest snapshot at least 3 days old had 38 clicks: two came since.
        let clicked = [
            snapshot("2026-03-16T08:00:00Z", 31_000, 16_000, 36),
            snapshot("2026-03-17T08:00:00Z", 31_000, 16_500, 38),
            snapshot("2026-03-18T08:00:00Z", 31_000, 17_000, 40),
        ];
        let input = PacingInput {
            history: &clicked,
            ..running(reading)
        };
        assert_eq!(flags(&input), vec![]);

        // Only 2.5 days of history: too soon to tell.
        let recent = [snapshot("2026-03-18T00:00:00Z", 31_000, 17_000, 40)];
        let input = PacingInput {
            history: &recent,
            ..running(reading)
        };
        assert_eq!(flags(&input), vec![]);

        // Paused programs are not expected to spend.
        let input = PacingInput {
            history: &quiet,
            pause_status: PauseStatus::Paused,
            ..running(reading)
        };
        assert_eq!(flags(&input), vec![]);
    }

    #[test]
    fn not_spending_reads_clicks_across_a_period_boundary_as_a_new_count() {
        // 300 clicks in February, 0 in March so far: nothing new since the February snapshot.
        let february = [snapshot("2026-02-27T00:00:00Z", 31_000, 25_000, 300)];
        let none_yet = PacingInput {
            history: &february,
            ..running(snapshot("2026-03-02T12:00:00Z", 31_000, 0, 0))
        };
        assert!(flags(&none_yet).contains(&PacingFlag::NotSpending));
        // Five clicks in March are five new ones, although fewer than February's 300.
        let five = PacingInput {
            history: &february,
            ..running(snapshot("2026-03-02T12:00:00Z", 31_000, 1_500, 5))
        };
        assert!(!flags(&five).contains(&PacingFlag::NotSpending));
    }

    #[test]
    fn ctr_and_cost_per_click_are_defined_only_with_impressions_and_clicks() {
        let mut reading = snapshot("2026-03-16T00:00:00Z", 31_000, 0, 0);
        reading.billed_impressions = 0;
        let pacing = pace(&running(reading)).unwrap();
        assert_eq!((pacing.ctr, pacing.cost_per_click), (None, None));

        // 1,000 cents over 3 clicks = 333.33 → 333; 1,001 over 2 = 500.5 → 501 (half up).
        let reading = Snapshot {
            ad_cost: Cents::new(1_000),
            billed_clicks: 3,
            billed_impressions: 120,
            ..reading
        };
        let pacing = pace(&running(reading)).unwrap();
        assert_eq!(pacing.ctr, Some(3.0 / 120.0));
        assert_eq!(pacing.cost_per_click, Some(Cents::new(333)));
        let reading = Snapshot {
            ad_cost: Cents::new(1_001),
            billed_clicks: 2,
            ..reading
        };
        assert_eq!(
            pace(&running(reading)).unwrap().cost_per_click,
            Some(Cents::new(501))
        );
    }

    #[test]
    fn a_zero_budget_has_no_share_and_raises_no_spend_flag() {
        let input = running(snapshot("2026-03-16T00:00:00Z", 0, 500, 2));
        let pacing = pace(&input).unwrap();
        assert_eq!(pacing.budget, Cents::ZERO);
        assert_eq!(pacing.spend_fraction, None);
        assert_eq!(pacing.flags, vec![]);
    }

    #[test]
    fn a_program_not_started_yet_has_no_projection_and_its_first_period() {
        let input = PacingInput {
            start_date: date("2026-03-25"),
            program_status: ProgramStatus::Inactive,
            ..running(snapshot("2026-03-16T00:00:00Z", 31_000, 0, 0))
        };
        let pacing = pace(&input).unwrap();
        assert_eq!(
            pacing.active,
            Period::new(date("2026-03-25"), date("2026-03-31"))
        );
        assert_eq!(pacing.day_of_period, 25);
        assert_eq!(pacing.elapsed_fraction, 0.0);
        // 7 of 31 days: 31,000 × 7 ÷ 31 = 7,000.
        assert_eq!(pacing.budget, Cents::new(7_000));
        assert_eq!(pacing.projected_spend, None);
        assert_eq!(pacing.flags, vec![]);
    }

    #[test]
    fn an_ended_program_is_read_in_its_last_period_and_flags_nothing() {
        let input = PacingInput {
            end_date: Some(date("2026-02-10")),
            program_status: ProgramStatus::Inactive,
            ..running(snapshot("2026-03-16T00:00:00Z", 28_000, 9_000, 30))
        };
        let pacing = pace(&input).unwrap();
        assert_eq!(
            pacing.active,
            Period::new(date("2026-02-01"), date("2026-02-10"))
        );
        assert_eq!(pacing.budget, Cents::new(10_000));
        assert_eq!(pacing.elapsed_fraction, 1.0);
        assert_eq!(pacing.projected_spend, Some(Cents::new(9_000)));
        assert_eq!(pacing.flags, vec![]);
    }

    #[test]
    fn bad_input_names_every_wrong_field() {
        let history = [snapshot("2026-03-10T00:00:00Z", 31_000, -5, 3)];
        let input = PacingInput {
            end_date: Some(date("2024-12-31")),
            history: &history,
            ..running(snapshot("2026-03-16T00:00:00Z", -1, 0, -2))
        };
        let Err(Error::InvalidFields(fields)) = pace(&input) else {
            panic!("bad input is refused");
        };
        let names: Vec<&str> = fields.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            names,
            [
                "end_date",
                "budget",
                "billed_clicks",
                "billed_impressions",
                "ad_cost"
            ]
        );
        assert!(fields[0].1.contains("2024-12-31"), "{fields:?}");
    }

    #[test]
    fn flags_have_stable_wire_names() {
        for flag in PacingFlag::ALL {
            assert_eq!(flag.as_str().parse::<PacingFlag>().unwrap(), flag);
            assert_eq!(serde_json::to_value(flag).unwrap(), flag.as_str());
        }
        assert_eq!(PacingFlag::WillExhaustEarly.as_str(), "will_exhaust_early");
        assert!("overspending".parse::<PacingFlag>().is_err());
        let pacing = pace(&running(snapshot(
            "2026-03-16T00:00:00Z",
            31_000,
            11_999,
            40,
        )))
        .unwrap();
        let json = serde_json::to_value(&pacing).unwrap();
        assert_eq!(json["flags"], serde_json::json!(["under_delivering"]));
        assert_eq!(json["budget"], 31_000);
        assert_eq!(json["period"]["days"], 31);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any dates and amounts, however odd, give an answer or a named error, never a panic; a valid
        /// input's budget never exceeds the largest budget seen.
        #[test]
        fn any_input_is_answered_without_a_panic(
            start in -400_000i64..400_000,
            length in proptest::option::of(0i64..800_000),
            reading_offset in -3_000_000_000i64..3_000_000_000,
            budgets in proptest::collection::vec(0i64..10_000_000, 1..5),
            spend in -10i64..10_000_000,
            rolling in any::<bool>(),
        ) {
            let epoch = date("2026-01-01");
            let start_date = add_days(epoch, start / 10);
            let history: Vec<Snapshot> = budgets[1..]
                .iter()
                .enumerate()
                .map(|(i, b)| Snapshot {
                    at: midnight(epoch) + TimeDelta::hours(i as i64 * 30),
                    budget: Cents::new(*b),
                    ad_cost: Cents::new(spend.max(0) / 2),
                    billed_clicks: i as i64,
                    billed_impressions: 10,
                })
                .collect();
            let input = PacingInput {
                fee_period: if rolling { FeePeriod::RollingMonth } else { FeePeriod::CalendarMonth },
                start_date,
                end_date: length.map(|l| add_days(start_date, l / 10)),
                program_status: ProgramStatus::Active,
                pause_status: PauseStatus::NotPaused,
                reading: Snapshot {
                    at: midnight(epoch) + TimeDelta::seconds(reading_offset),
                    budget: Cents::new(budgets[0]),
                    ad_cost: Cents::new(spend),
                    billed_clicks: 3,
                    billed_impressions: 0,
                },
                history: &history,
            };
            match pace(&input) {
                Ok(pacing) => {
                    prop_assert!(spend >= 0);
                    let largest = budgets.iter().max().copied().unwrap_or(0);
                    prop_assert!(pacing.budget.get() <= largest);
                    prop_assert!((0.0..=1.0).contains(&pacing.elapsed_fraction));
                    prop_assert!(pacing.active.days >= 1 && pacing.active.days <= pacing.period.days);
                }
                Err(Error::InvalidFields(fields)) => prop_assert!(!fields.is_empty()),
                Err(other) => prop_assert!(false, "unexpected error {other}"),
            }
        }
    }
}
