//! Spend over simulated days: the day-by-day figures behind each CPC program's `program_metrics`, which
//! the Reporting API answers per business, and the control that moves the simulator's days forward.
//!
//! Yelp shows a CPC program's figures of its current fee period (`ad_cost`, `billed_clicks`,
//! `billed_impressions`); reports give the same figures per day. The simulator keeps the two consistent:
//!
//! - The days of a program's current period add up to its `program_metrics` exactly. When a program is
//!   first needed (by a report or by an advance), what it has spent so far is spread over the period's days
//!   up to today, with weights drawn from its id and the day, so the same world always splits the same
//!   way. From then on every day before today is fixed, and today's figures are what the metrics hold
//!   beyond them: a `PATCH /_sim/programs` or a budget edit shows on today (a patch that lowers the figures
//!   below the earlier days' sum leaves those days as they were, and today at zero).
//! - Days of earlier periods are made up, the same every time: 50–99 % of the budget first seen (drawn per
//!   period), spread over the period's days in whole clicks at the program's price per click.
//! - [`advance`] (`POST /_sim/advance`) closes today, moves "today" a day on, starts scheduled programs
//!   whose first day it is, resets the figures of a CPC program whose fee period starts, and lets every
//!   running CPC program spend towards a share of its budget over the period (60–114 % when paced,
//!   90–150 % unpaced, drawn per period), in whole clicks, never beyond the budget.
//!
//! Fee periods: `Calendar Month` is the calendar month; `Rolling Month` is 30-day periods counted from the
//! program's start date.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::model::{CpcMetrics, FeePeriod, PacingMethod, Program, ProgramStatus};
use crate::seed::shift;
use crate::state::{SimState, World};

/// Most days one `POST /_sim/advance` may move: a year, so that one call holds the world briefly.
const MAX_ADVANCE_DAYS: u32 = 366;

/// Days of a `Rolling Month` fee period.
const ROLLING_DAYS: i64 = 30;

/// Salts of the draws, so that each draw of one program and day is independent of the others.
const SALT_WEIGHT: u64 = 1;
const SALT_PRICE: u64 = 2;
const SALT_IMPRESSIONS: u64 = 3;
const SALT_SHARE: u64 = 4;
const SALT_PACE: u64 = 5;

/// A program's (or a business's) billed figures of one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Figures {
    /// Spend in cents.
    pub(crate) ad_cost: i64,
    /// Billed clicks.
    pub(crate) billed_clicks: i64,
    /// Billed impressions.
    pub(crate) billed_impressions: i64,
}

impl Figures {
    fn of(metrics: &CpcMetrics) -> Self {
        Self {
            ad_cost: metrics.ad_cost,
            billed_clicks: metrics.billed_clicks,
            billed_impressions: metrics.billed_impressions,
        }
    }

    /// Adds `other`, field by field.
    pub(crate) fn add(&mut self, other: Figures) {
        self.ad_cost += other.ad_cost;
        self.billed_clicks += other.billed_clicks;
        self.billed_impressions += other.billed_impressions;
    }

    /// `self − other`, field by field, never below zero.
    fn beyond(self, other: Figures) -> Self {
        Self {
            ad_cost: (self.ad_cost - other.ad_cost).max(0),
            billed_clicks: (self.billed_clicks - other.billed_clicks).max(0),
            billed_impressions: (self.billed_impressions - other.billed_impressions).max(0),
        }
    }

    /// Each field × `part ÷ whole`, rounded down.
    fn share(self, part: u64, whole: u64) -> Self {
        let scale = |v: i64| (i128::from(v) * i128::from(part) / i128::from(whole.max(1))) as i64;
        Self {
            ad_cost: scale(self.ad_cost),
            billed_clicks: scale(self.billed_clicks),
            billed_impressions: scale(self.billed_impressions),
        }
    }
}

/// The first and last day of the fee period that contains `day`, for a program that started on
/// `program_start`.
pub(crate) fn fee_period(
    fee_period: FeePeriod,
    program_start: NaiveDate,
    day: NaiveDate,
) -> (NaiveDate, NaiveDate) {
    match fee_period {
        FeePeriod::CalendarMonth => {
            let first = day.with_day(1).unwrap_or(day);
            let last = first
                .checked_add_months(Months::new(1))
                .and_then(|next| next.pred_opt())
                .unwrap_or(NaiveDate::MAX);
            (first, last)
        }
        FeePeriod::RollingMonth => {
            let periods = (day - program_start).num_days().div_euclid(ROLLING_DAYS);
            let first = shift(program_start, periods * ROLLING_DAYS);
            (first, shift(first, ROLLING_DAYS - 1))
        }
    }
}

/// The simulated days: how far "today" was moved, and each program's booked days.
#[derive(Debug, Default)]
pub(crate) struct Spend {
    days_advanced: i64,
    ledgers: HashMap<String, Ledger>,
}

/// The booked days of one CPC program.
#[derive(Debug)]
struct Ledger {
    /// The first day booked here; the program's earlier days are made up.
    since: NaiveDate,
    /// Days before today, fixed once written.
    closed: BTreeMap<NaiveDate, Figures>,
    /// Cents a click, as first seen.
    cost_per_click: i64,
    /// Impressions a click, as first seen.
    impressions_per_click: i64,
    /// Budget as first seen; made-up days use it, so that they never change.
    budget: i64,
}

impl Ledger {
    /// Books what `program` has spent in its current period over that period's days up to today.
    fn open(program: &Program, metrics: &CpcMetrics, today: NaiveDate) -> Self {
        let id = &program.program_id;
        let cost_per_click = if metrics.billed_clicks > 0 {
            (metrics.ad_cost / metrics.billed_clicks).max(1)
        } else {
            150 + (mix(id, 0, SALT_PRICE) % 1351) as i64
        };
        let impressions_per_click = if metrics.billed_clicks > 0 {
            (metrics.billed_impressions / metrics.billed_clicks).max(1)
        } else {
            8 + (mix(id, 0, SALT_IMPRESSIONS) % 53) as i64
        };
        let mut ledger = Self {
            since: program.start_date,
            closed: BTreeMap::new(),
            cost_per_click,
            impressions_per_click,
            budget: metrics.budget,
        };
        let last = program.end_date.min(today);
        if last < program.start_date {
            return ledger;
        }
        let (period_start, _) = fee_period(metrics.fee_period, program.start_date, last);
        ledger.since = period_start.max(program.start_date);
        let days: Vec<NaiveDate> = days(ledger.since, last).collect();
        let weights: Vec<u64> = days.iter().map(|&day| weight(id, day)).collect();
        let whole: u64 = weights.iter().sum();
        let total = Figures::of(metrics);
        let mut booked = Figures::default();
        for (&day, &w) in days.iter().zip(&weights) {
            // Today stays open: its figures are what the metrics hold beyond the closed days.
            if day >= today {
                break;
            }
            let figures = if day == last {
                // An ended program's last day takes what the floors left.
                total.beyond(booked)
            } else {
                total.share(w, whole)
            };
            booked.add(figures);
            ledger.closed.insert(day, figures);
        }
        ledger
    }

    /// Today's figures: what the period's metrics hold beyond its closed days.
    fn today(&self, metrics: &CpcMetrics, program_start: NaiveDate, today: NaiveDate) -> Figures {
        let (period_start, _) = fee_period(metrics.fee_period, program_start, today);
        let mut closed = Figures::default();
        for figures in self
            .closed
            .range(period_start.max(self.since)..today)
            .map(|(_, f)| *f)
        {
            closed.add(figures);
        }
        Figures::of(metrics).beyond(closed)
    }

    /// A day of a period before `since`: a drawn share of the budget spread over the period's days.
    fn made_up(&self, program: &Program, fee: FeePeriod, day: NaiveDate) -> Figures {
        let id = &program.program_id;
        let (period_start, period_end) = fee_period(fee, program.start_date, day);
        let first = period_start.max(program.start_date);
        let last = period_end.min(program.end_date);
        let period_days = (period_end - period_start).num_days() + 1;
        let active: Vec<NaiveDate> = days(first, last).collect();
        let share = 50 + mix(id, ordinal(period_start), SALT_SHARE) % 50;
        let period_spend = i128::from(self.budget) * i128::from(share) * active.len() as i128
            / (100 * i128::from(period_days.max(1)));
        let whole: u64 = active.iter().map(|&d| weight(id, d)).sum();
        let spend = period_spend * i128::from(weight(id, day)) / i128::from(whole.max(1));
        let clicks = (spend / i128::from(self.cost_per_click)) as i64;
        Figures {
            ad_cost: clicks * self.cost_per_click,
            billed_clicks: clicks,
            billed_impressions: clicks * self.impressions_per_click
                + (mix(id, ordinal(day), SALT_IMPRESSIONS) % self.impressions_per_click as u64)
                    as i64,
        }
    }
}

impl Spend {
    /// Days "today" was moved forward by [`advance`].
    pub(crate) fn days_advanced(&self) -> i64 {
        self.days_advanced
    }

    /// The figures of `program` on `day`, as of `today`; zero for other types and for days it did not run.
    pub(crate) fn figures(
        &mut self,
        program: &Program,
        day: NaiveDate,
        today: NaiveDate,
    ) -> Figures {
        let Some(metrics) = &program.program_metrics else {
            return Figures::default();
        };
        if day < program.start_date || day > program.end_date.min(today) {
            return Figures::default();
        }
        let ledger = self.ledger(program, metrics, today);
        if day < ledger.since {
            ledger.made_up(program, metrics.fee_period, day)
        } else if day < today {
            ledger.closed.get(&day).copied().unwrap_or_default()
        } else {
            ledger.today(metrics, program.start_date, today)
        }
    }

    fn ledger(&mut self, program: &Program, metrics: &CpcMetrics, today: NaiveDate) -> &mut Ledger {
        self.ledgers
            .entry(program.program_id.clone())
            .or_insert_with(|| Ledger::open(program, metrics, today))
    }

    /// Fixes today's figures of `program`, as today ends.
    fn close_today(&mut self, program: &Program, today: NaiveDate) {
        let Some(metrics) = &program.program_metrics else {
            return;
        };
        let runs_today = program.start_date <= today && today <= program.end_date;
        let ledger = self.ledger(program, metrics, today);
        if runs_today && ledger.since <= today {
            let figures = ledger.today(metrics, program.start_date, today);
            ledger.closed.insert(today, figures);
        }
    }

    /// One day of spend of a running CPC program on `day`: towards its drawn share of the budget so far in
    /// the period, in whole clicks, within the budget.
    fn spend_on(&mut self, program: &mut Program, day: NaiveDate) {
        let id = program.program_id.clone();
        let (start, pacing) = (program.start_date, program.pacing_method);
        let Some(metrics) = program.program_metrics.as_mut() else {
            return;
        };
        let Some(ledger) = self.ledgers.get(&id) else {
            return;
        };
        let (period_start, period_end) = fee_period(metrics.fee_period, start, day);
        let period_days = (period_end - period_start).num_days() + 1;
        let elapsed = (day - period_start.max(start)).num_days() + 1;
        let (low, span) = match pacing {
            Some(PacingMethod::Unpaced) => (90, 61),
            _ => (60, 55),
        };
        let pace = low + mix(&id, ordinal(period_start), SALT_PACE) % span;
        let budget = i128::from(metrics.budget.max(0));
        let target = (budget * i128::from(pace) * i128::from(elapsed)
            / (100 * i128::from(period_days)))
        .min(budget);
        let price = i128::from(ledger.cost_per_click);
        let wanted = target / price - i128::from(metrics.billed_clicks);
        let affordable = (budget - i128::from(metrics.ad_cost)).max(0) / price;
        let clicks = wanted.min(affordable).max(0) as i64;
        metrics.billed_clicks += clicks;
        metrics.ad_cost += clicks * ledger.cost_per_click;
        metrics.billed_impressions += clicks * ledger.impressions_per_click
            + (mix(&id, ordinal(day), SALT_IMPRESSIONS) % ledger.impressions_per_click as u64)
                as i64;
    }
}

/// The body of `POST /_sim/advance`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvancePatch {
    /// Days to move forward: 1 to 366.
    pub days: u32,
}

/// Where the simulated days stand after an advance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Advanced {
    /// The simulator's today now.
    pub today: NaiveDate,
    /// Days advanced since start, in all.
    pub days_advanced: i64,
}

impl SimState {
    /// Moves "today" forward and lets every running CPC program spend on each new day (see
    /// `crate::spend`). Jobs due by now are completed first, on the day they were due.
    pub fn advance_days(&self, patch: &AdvancePatch) -> Result<Advanced, SimError> {
        if !(1..=MAX_ADVANCE_DAYS).contains(&patch.days) {
            return Err(SimError::Invalid(format!(
                "days must be between 1 and {MAX_ADVANCE_DAYS}, got {}",
                patch.days
            )));
        }
        Ok(self.with_world(|w| {
            advance(w, patch.days);
            Advanced {
                today: w.today(),
                days_advanced: w.spend.days_advanced(),
            }
        }))
    }
}

/// Moves the simulator's "today" `days` days forward, one day at a time (see the module docs).
pub(crate) fn advance(world: &mut World, days: u32) {
    for _ in 0..days {
        let today = world.today();
        let next = shift(today, 1);
        let World {
            programs, spend, ..
        } = world;
        for program in programs.values_mut() {
            spend.close_today(program, today);
            // A scheduled program starts on its first day, as Yelp starts it.
            if program.program_status == ProgramStatus::Inactive
                && program.start_date == next
                && next <= program.end_date
            {
                program.program_status = ProgramStatus::Active;
            }
            let (start, end) = (program.start_date, program.end_date);
            if let Some(metrics) = program.program_metrics.as_mut() {
                let runs = start <= next && next <= end;
                if runs && fee_period(metrics.fee_period, start, next).0 == next {
                    metrics.ad_cost = 0;
                    metrics.billed_clicks = 0;
                    metrics.billed_impressions = 0;
                }
            }
            if program.is_running(next) {
                spend.spend_on(program, next);
            }
        }
        spend.days_advanced += 1;
    }
}

/// Every day from `first` to `last`, both included.
fn days(first: NaiveDate, last: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    first.iter_days().take_while(move |day| *day <= last)
}

/// A day's weight in a split: 70 to 130.
fn weight(program_id: &str, day: NaiveDate) -> u64 {
    70 + mix(program_id, ordinal(day), SALT_WEIGHT) % 61
}

fn ordinal(day: NaiveDate) -> u64 {
    u64::from(day.num_days_from_ce().unsigned_abs())
}

/// A draw fixed by an id, a number and a salt: FNV-1a over the id, then SplitMix64's finaliser.
pub(crate) fn mix(id: &str, number: u64, salt: u64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = hash ^ number.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.rotate_left(32);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::{PauseStatus, ProgramType};

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn cpc(start: &str, fee_period: FeePeriod, ad_cost: i64, clicks: i64) -> Program {
        Program {
            program_id: "Qx7Lm2VbT0aZpR9sYc4kWg".into(),
            program_type: ProgramType::Cpc,
            program_status: ProgramStatus::Active,
            program_pause_status: PauseStatus::NotPaused,
            start_date: date(start),
            end_date: crate::model::NO_END,
            active_features: vec![],
            available_features: vec![],
            ad_categories: vec![],
            ad_campaign_id: None,
            program_metrics: Some(CpcMetrics {
                budget: 31_000,
                currency: "USD".into(),
                is_autobid: true,
                max_bid: None,
                fee_period,
                billed_impressions: clicks * 20,
                billed_clicks: clicks,
                ad_cost,
            }),
            future_budget_changes: vec![],
            page_upgrade_info: None,
            yelp_business_id: "b".into(),
            partner_business_id: None,
            pacing_method: Some(PacingMethod::Paced),
            feature_settings: BTreeMap::new(),
        }
    }

    /// The figures of `first..=last`, as of `today`.
    fn sum(
        spend: &mut Spend,
        program: &Program,
        first: &str,
        last: &str,
        today: NaiveDate,
    ) -> Figures {
        let mut sum = Figures::default();
        for day in days(date(first), date(last)) {
            sum.add(spend.figures(program, day, today));
        }
        sum
    }

    #[test]
    fn the_days_of_the_current_period_add_up_to_the_metrics() {
        let today = date("2026-03-19");
        let program = cpc("2025-06-10", FeePeriod::CalendarMonth, 12_350, 65);
        let mut spend = Spend::default();
        let sum = sum(&mut spend, &program, "2026-03-01", "2026-03-19", today);
        assert_eq!(
            sum,
            Figures {
                ad_cost: 12_350,
                billed_clicks: 65,
                billed_impressions: 1_300
            }
        );
        assert!(
            spend.figures(&program, date("2026-03-05"), today).ad_cost > 0,
            "spread, not all on today"
        );
        assert_eq!(
            spend.figures(&program, date("2026-03-20"), today),
            Figures::default(),
            "no future days"
        );
    }

    #[test]
    fn a_rolling_programs_period_is_thirty_days_from_its_start() {
        assert_eq!(
            fee_period(
                FeePeriod::RollingMonth,
                date("2026-01-15"),
                date("2026-02-20")
            ),
            (date("2026-02-14"), date("2026-03-15"))
        );
        assert_eq!(
            fee_period(
                FeePeriod::CalendarMonth,
                date("2026-01-15"),
                date("2028-02-10")
            ),
            (date("2028-02-01"), date("2028-02-29"))
        );
        let today = date("2026-02-20");
        let program = cpc("2026-01-15", FeePeriod::RollingMonth, 9_000, 30);
        let mut spend = Spend::default();
        assert_eq!(
            sum(&mut spend, &program, "2026-02-14", "2026-02-20", today).ad_cost,
            9_000
        );
    }

    #[test]
    fn earlier_periods_are_made_up_within_the_budget_and_the_same_every_time() {
        let today = date("2026-03-19");
        let program = cpc("2025-06-10", FeePeriod::CalendarMonth, 12_350, 65);
        let mut spend = Spend::default();
        let february = sum(&mut spend, &program, "2026-02-01", "2026-02-28", today);
        let again = sum(
            &mut Spend::default(),
            &program,
            "2026-02-01",
            "2026-02-28",
            today,
        );
        // 50-99 % of $310 in whole clicks of 190 cents, each of the 28 days rounded down by under a click.
        assert!(
            (15_500 - 28 * 190..=31_000).contains(&february.ad_cost),
            "{february:?}"
        );
        assert_eq!(february.ad_cost % 190, 0);
        assert_eq!(february, again);
    }
}
