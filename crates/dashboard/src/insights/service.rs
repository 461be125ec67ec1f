//! Spend and pacing of a workspace's CPC programs, read from the mirror and its metric snapshots: what the
//! pacing and metrics APIs and the program status page show. Reads only; never calls Yelp.
//!
//! Every result is as of a program's *reading*: the mirror's figures, as fresh as the last complete sync
//! of the workspace, or as the later write (a job's) that changed them.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use yelp_partner_api::{Cents, FeePeriod, ProgramType};

use super::pacing::{self, ENDS_SOON_DAYS, NOT_SPENDING_DAYS, Pacing, PacingFlag, PacingInput};
use super::pacing::{Snapshot, UNDER_DELIVERING_PERCENT};
use crate::error::{Error, Result};
use crate::store::{MetricSnapshot, MetricTotals, ProgramQuery, Store, StoredProgram};

const DAY_MS: i64 = 86_400_000;

/// Days a metrics range covers when `from` is not given.
pub const DEFAULT_RANGE_DAYS: i64 = 90;

/// Longest metrics range, in days: two years and a day, beyond any retention worth having.
pub const MAX_RANGE_DAYS: i64 = 731;

/// Most snapshots one answer holds (the newest of the range).
pub const MAX_SNAPSHOTS: u32 = 5_000;

/// How far before its reading pacing reads a program's snapshots: a fee period starts at most 30 days
/// before the reading's day, and "not spending" looks 3 days back; the snapshot in force before that is
/// read too.
const PACING_LOOKBACK_MS: i64 = 32 * DAY_MS;

/// A span of time, both ends included, in unix ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricsRange {
    from: i64,
    to: i64,
}

impl MetricsRange {
    /// From `from` to `to`; without `to`, up to `now`; without `from`, [`DEFAULT_RANGE_DAYS`] before
    /// `to`. Refused, naming the field, when `from` is after `to` or the range is longer than
    /// [`MAX_RANGE_DAYS`].
    pub fn new(from: Option<i64>, to: Option<i64>, now: i64) -> Result<Self> {
        let to = to.unwrap_or(now);
        let from = from.unwrap_or_else(|| to.saturating_sub(DEFAULT_RANGE_DAYS * DAY_MS));
        if from > to {
            return Err(Error::field("from", "from must not be after to"));
        }
        if to.saturating_sub(from) > MAX_RANGE_DAYS * DAY_MS {
            return Err(Error::field(
                "from",
                format!("from and to must be at most {MAX_RANGE_DAYS} days apart"),
            ));
        }
        Ok(Self { from, to })
    }

    /// The first moment, unix ms.
    pub fn from(&self) -> i64 {
        self.from
    }

    /// The last moment, unix ms.
    pub fn to(&self) -> i64 {
        self.to
    }
}

/// Whether and how a program can be paced.
#[derive(Clone, Debug, PartialEq)]
pub enum PacingState {
    /// A CPC program with what pacing needs.
    Paced(Pacing),
    /// Only CPC programs have a budget to pace.
    NotCpc,
    /// A CPC program missing something pacing needs; says what, for people.
    Unavailable(String),
}

impl PacingState {
    /// The pacing, when there is one.
    pub fn pacing(&self) -> Option<&Pacing> {
        match self {
            Self::Paced(p) => Some(p),
            Self::NotCpc | Self::Unavailable(_) => None,
        }
    }

    /// Why there is no pacing, in words; `None` when there is.
    pub fn why_not(&self) -> Option<String> {
        match self {
            Self::Paced(_) => None,
            Self::NotCpc => Some("Only CPC programs have a budget to pace.".to_owned()),
            Self::Unavailable(why) => Some(why.clone()),
        }
    }
}

/// One program's pacing.
#[derive(Clone, Debug)]
pub struct ProgramPacing {
    /// The program as the mirror holds it.
    pub program: StoredProgram,
    /// When its figures were read (unix ms): what the pacing is as of.
    pub as_of: i64,
    /// The pacing, or why there is none.
    pub state: PacingState,
}

/// One program's snapshots over a range and its pacing now.
#[derive(Clone, Debug)]
pub struct ProgramMetrics {
    /// The program and its pacing.
    pub pacing: ProgramPacing,
    /// The range asked for.
    pub range: MetricsRange,
    /// Its snapshots in the range, oldest first (the newest [`MAX_SNAPSHOTS`]).
    pub snapshots: Vec<MetricSnapshot>,
    /// Whether older snapshots of the range were left out.
    pub more_before: bool,
}

/// The pacing of a program list's CPC programs.
#[derive(Clone, Debug)]
pub struct PacingList {
    /// The list's page of its CPC programs, in its order.
    pub programs: Vec<ProgramPacing>,
    /// Sums over every CPC program of the list, all pages.
    pub totals: MetricTotals,
    /// The page's first row.
    pub offset: u64,
    /// Rows a page holds.
    pub limit: u32,
}

/// One program's snapshots in `range` and its pacing; `None` when the workspace has no such program.
pub async fn program_metrics(
    store: &Store,
    workspace_id: &str,
    program_id: &str,
    range: MetricsRange,
) -> Result<Option<ProgramMetrics>> {
    let Some(program) = store.program_by_given_id(workspace_id, program_id).await? else {
        return Ok(None);
    };
    let (snapshots, more_before) = store
        .program_snapshots(
            workspace_id,
            &program.program_id,
            range.from,
            range.to,
            MAX_SNAPSHOTS,
        )
        .await?;
    let last_sync = last_complete_sync(store, workspace_id).await?;
    let mut paced = pace_programs(store, workspace_id, vec![program], last_sync).await?;
    let Some(pacing) = paced.pop() else {
        return Ok(None);
    };
    Ok(Some(ProgramMetrics {
        pacing,
        range,
        snapshots,
        more_before,
    }))
}

/// The pacing of the CPC programs that `query` lists (its page of them) and sums over all of them.
pub async fn list_pacing(
    store: &Store,
    workspace_id: &str,
    query: &ProgramQuery,
) -> Result<PacingList> {
    let cpc = ProgramType::Cpc.as_str().to_owned();
    if query.program_type.as_ref().is_some_and(|t| *t != cpc) {
        return Ok(PacingList {
            programs: Vec::new(),
            totals: MetricTotals::default(),
            offset: query.offset,
            limit: query.limit,
        });
    }
    let cpc_only = ProgramQuery {
        program_type: Some(cpc),
        ..query.clone()
    };
    let ids = store.program_view(workspace_id, &cpc_only).await?;
    let totals = store.metric_totals(workspace_id, &ids).await?;
    let start = usize::try_from(query.offset)
        .unwrap_or(usize::MAX)
        .min(ids.len());
    let end = start.saturating_add(query.limit as usize).min(ids.len());
    let page = store
        .programs_in_order(workspace_id, &ids[start..end])
        .await?;
    let last_sync = last_complete_sync(store, workspace_id).await?;
    Ok(PacingList {
        programs: pace_programs(store, workspace_id, page, last_sync).await?,
        totals,
        offset: query.offset,
        limit: query.limit,
    })
}

/// When the last complete sync of the workspace ended (unix ms), if one did recently.
async fn last_complete_sync(store: &Store, workspace_id: &str) -> Result<Option<i64>> {
    Ok(store
        .recent_sync_runs(workspace_id, 20)
        .await?
        .iter()
        .find(|r| r.status.is_success())
        .and_then(|r| r.finished_at))
}

/// When the mirror's figures of `program` were read: a complete sync confirmed them (unless the program
/// is gone from Yelp), or the later write that changed them.
fn reading_time(program: &StoredProgram, last_sync: Option<i64>) -> i64 {
    match (program.removed_at, last_sync) {
        (None, Some(synced)) => synced.max(program.updated_at),
        _ => program.updated_at,
    }
}

async fn pace_programs(
    store: &Store,
    workspace_id: &str,
    programs: Vec<StoredProgram>,
    last_sync: Option<i64>,
) -> Result<Vec<ProgramPacing>> {
    let readings: Vec<(StoredProgram, i64)> = programs
        .into_iter()
        .map(|p| {
            let at = reading_time(&p, last_sync);
            (p, at)
        })
        .collect();
    let cpc: Vec<&str> = readings
        .iter()
        .filter(|(p, _)| is_cpc(p))
        .map(|(p, _)| p.program_id.as_str())
        .collect();
    let mut history: HashMap<String, Vec<MetricSnapshot>> = match readings
        .iter()
        .filter(|(p, _)| is_cpc(p))
        .map(|(_, at)| *at)
        .min()
    {
        Some(earliest) => {
            store
                .snapshots_since(workspace_id, &cpc, earliest - PACING_LOOKBACK_MS)
                .await?
        }
        None => HashMap::new(),
    };
    Ok(readings
        .into_iter()
        .map(|(program, as_of)| {
            let past = history.remove(&program.program_id).unwrap_or_default();
            let state = pace_program(&program, as_of, &past);
            ProgramPacing {
                program,
                as_of,
                state,
            }
        })
        .collect())
}

fn is_cpc(program: &StoredProgram) -> bool {
    ProgramType::from_wire(&program.program_type) == ProgramType::Cpc
}

fn time(ms: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}

/// The pacing of one program read at `as_of` with these earlier snapshots.
pub fn pace_program(program: &StoredProgram, as_of: i64, past: &[MetricSnapshot]) -> PacingState {
    if !is_cpc(program) {
        return PacingState::NotCpc;
    }
    let unavailable = |why: &str| PacingState::Unavailable(why.to_owned());
    let Some(budget) = program.budget_cents else {
        return unavailable("Yelp has not sent this program's budget.");
    };
    let Some(fee_period) = program.fee_period.as_deref().and_then(FeePeriod::from_yelp) else {
        return unavailable(
            "Yelp has not sent a fee period this dashboard knows for this program.",
        );
    };
    let Some(start_date) = program
        .start_date
        .as_deref()
        .and_then(|d| d.parse::<NaiveDate>().ok())
    else {
        return unavailable("Yelp has not sent this program's start date.");
    };
    let end_date = match program.end_date.as_deref() {
        None => None,
        Some(d) => match d.parse::<NaiveDate>() {
            Ok(end) => Some(end),
            Err(_) => return unavailable("This program's end date cannot be read."),
        },
    };
    let Some(at) = time(as_of) else {
        return unavailable("This program's figures have no time they were read.");
    };
    let history: Vec<Snapshot> = past
        .iter()
        .filter_map(|s| {
            Some(Snapshot {
                at: time(s.at)?,
                budget: Cents::new(s.budget_cents),
                ad_cost: Cents::new(s.spend_cents),
                billed_clicks: s.billed_clicks,
                billed_impressions: s.billed_impressions,
            })
        })
        .collect();
    let input = PacingInput {
        fee_period,
        start_date,
        end_date,
        program_status: program.program_status.clone(),
        pause_status: program.pause_status.clone(),
        reading: Snapshot {
            at,
            budget: Cents::new(budget),
            ad_cost: Cents::new(program.ad_cost_cents.unwrap_or(0)),
            billed_clicks: program.billed_clicks.unwrap_or(0),
            billed_impressions: program.billed_impressions.unwrap_or(0),
        },
        history: &history,
    };
    match pacing::pace(&input) {
        Ok(pacing) => PacingState::Paced(pacing),
        Err(e) => PacingState::Unavailable(format!("Yelp's figures cannot be paced: {e}.")),
    }
}

/// A share as a whole percentage, for people: `0.456` → 46.
pub fn percent(share: f64) -> i64 {
    // Shares shown here are 0 to a few times 1: the cast cannot overflow.
    (share * 100.0).round() as i64
}

/// The pacing in one line: "$412.00 of $900.00 spent, 46 % of the period; on track to spend $880.00".
pub fn pacing_line(p: &Pacing) -> String {
    let projection = match p.projected_spend {
        Some(projected) if p.judged => format!("on track to spend {projected}"),
        _ => "too early in the period to tell what it will spend".to_owned(),
    };
    format!(
        "{} of {} spent, {} % of the period; {projection}",
        p.spend,
        p.budget,
        percent(p.elapsed_fraction)
    )
}

/// What a flag means, in a sentence.
pub fn flag_words(flag: PacingFlag) -> String {
    match flag {
        PacingFlag::UnderDelivering => format!(
            "{}: on track to spend less than {UNDER_DELIVERING_PERCENT} % of its budget this period.",
            flag.label()
        ),
        PacingFlag::WillExhaustEarly => format!(
            "{}: its budget is spent, or will be, before the period ends.",
            flag.label()
        ),
        PacingFlag::NotSpending => format!(
            "{}: no new billed click in the last {NOT_SPENDING_DAYS} days.",
            flag.label()
        ),
        PacingFlag::EndsSoon => format!(
            "{}: its end date is within {ENDS_SOON_DAYS} days.",
            flag.label()
        ),
    }
}

#[cfg(test)]
mod tests {
    use yelp_partner_api::{PauseStatus, ProgramStatus};

    use super::*;

    fn at(s: &str) -> i64 {
        s.parse::<DateTime<Utc>>().unwrap().timestamp_millis()
    }

    fn program(program_type: &str) -> StoredProgram {
        StoredProgram {
            program_id: "P1".into(),
            business_id: Some("B1".into()),
            partner_business_id: None,
            program_type: program_type.into(),
            program_status: ProgramStatus::Active,
            pause_status: PauseStatus::NotPaused,
            start_date: Some("2026-01-01".into()),
            end_date: None,
            budget_cents: Some(90_000),
            max_bid_cents: None,
            is_autobid: Some(1),
            currency: Some("USD".into()),
            fee_period: Some("Calendar Month".into()),
            billed_impressions: Some(2_000),
            billed_clicks: Some(100),
            ad_cost_cents: Some(41_200),
            raw: "{}".into(),
            first_seen_at: 0,
            updated_at: at("2026-04-14T00:00:00Z"),
            removed_at: None,
        }
    }

    #[test]
    fn a_range_defaults_to_ninety_days_to_now_and_names_a_wrong_end() {
        let now = at("2026-04-14T00:00:00Z");
        let range = MetricsRange::new(None, None, now).unwrap();
        assert_eq!(
            (range.from(), range.to()),
            (now - 90 * DAY_MS, now),
            "the default"
        );
        let Err(Error::InvalidField { field, .. }) = MetricsRange::new(Some(now + 1), None, now)
        else {
            panic!("from after to is refused");
        };
        assert_eq!(field, "from");
        assert!(MetricsRange::new(Some(now - 800 * DAY_MS), None, now).is_err());
        assert!(MetricsRange::new(Some(now - 731 * DAY_MS), None, now).is_ok());
    }

    #[test]
    fn the_reading_is_the_last_complete_sync_unless_a_later_write_or_a_removal() {
        let mut p = program("CPC");
        let synced = p.updated_at + 60_000;
        assert_eq!(reading_time(&p, Some(synced)), synced);
        assert_eq!(reading_time(&p, Some(p.updated_at - 1)), p.updated_at);
        assert_eq!(reading_time(&p, None), p.updated_at);
        p.removed_at = Some(synced);
        assert_eq!(
            reading_time(&p, Some(synced)),
            p.updated_at,
            "a removed program's figures are as old as its last write"
        );
    }

    #[test]
    fn a_cpc_program_is_paced_from_the_mirror_and_others_say_why_not() {
        // April: 30 days; at 00:00 on the 14th, 13 of them have elapsed: 41,200 × 30 ÷ 13 = 95,077.
        let p = program("CPC");
        let state = pace_program(&p, p.updated_at, &[]);
        let pacing = state.pacing().unwrap();
        assert_eq!(pacing.budget, Cents::new(90_000));
        assert_eq!(pacing.projected_spend, Some(Cents::new(95_077)));
        assert_eq!(
            pacing_line(pacing),
            "$412.00 of $900.00 spent, 43 % of the period; on track to spend $950.77"
        );
        let first_hours = Pacing {
            judged: false,
            ..pacing.clone()
        };
        assert_eq!(
            pacing_line(&first_hours),
            "$412.00 of $900.00 spent, 43 % of the period; too early in the period to tell what it will spend"
        );
        assert_eq!(pacing.flags, vec![PacingFlag::WillExhaustEarly]);
        assert_eq!(
            pace_program(&program("EP"), p.updated_at, &[]),
            PacingState::NotCpc
        );
        let no_period = StoredProgram {
            fee_period: Some("Weekly".into()),
            ..program("CPC")
        };
        let state = pace_program(&no_period, p.updated_at, &[]);
        assert!(state.why_not().unwrap().contains("fee period"), "{state:?}");
        let no_budget = StoredProgram {
            budget_cents: None,
            ..program("CPC")
        };
        assert!(
            pace_program(&no_budget, p.updated_at, &[])
                .pacing()
                .is_none()
        );
    }

    #[test]
    fn snapshots_are_the_past_pacing_reads() {
        // The budget was $450 until 11 April: days 1-10 at 45,000 and 11-30 at 90,000 → 75,000.
        let p = program("CPC");
        let past = [
            MetricSnapshot {
                at: at("2026-04-02T00:00:00Z"),
                budget_cents: 45_000,
                spend_cents: 3_000,
                billed_clicks: 10,
                billed_impressions: 200,
            },
            MetricSnapshot {
                at: at("2026-04-11T00:00:00Z"),
                budget_cents: 90_000,
                spend_cents: 30_000,
                billed_clicks: 80,
                billed_impressions: 1_600,
            },
        ];
        let pacing = pace_program(&p, p.updated_at, &past)
            .pacing()
            .cloned()
            .unwrap();
        assert_eq!(pacing.budget, Cents::new(75_000));
        assert_eq!(
            flag_words(PacingFlag::UnderDelivering),
            "Under-delivering: on track to spend less than 80 % of its budget this period."
        );
    }
}
