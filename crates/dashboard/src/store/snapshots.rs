//! Snapshots of CPC programs' metrics (budget, spend of the fee period, billed clicks and impressions),
//! written in the mirror's own transaction whenever a write finds them different from what the mirror
//! held, and the sums of the mirror's metrics over a list of programs.

use std::collections::HashMap;

use serde::Deserialize;
use sqlx::Row;
use yelp_partner_api::{Program, ProgramEntry, ProgramMetrics, ProgramType};

use super::{Backend, Store, markers};
use crate::error::Result;

/// Rows a statement inserts at most: 7 markers each stays far below either database's limit.
const INSERT_ROWS: usize = 500;

/// Ids a statement reads at most.
const READ_IDS: usize = 500;

/// Ids a sum reads at most at once: a sum over a list of 100,000 programs is 20 statements.
const SUM_IDS: usize = 5_000;

const SNAPSHOT_COLUMNS: &str = "at, budget_cents, spend_cents, billed_clicks, billed_impressions";

/// A CPC program's metrics as the mirror held them from one moment (until the next snapshot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricSnapshot {
    /// When the mirror was written with these figures (unix ms).
    pub at: i64,
    /// Monthly budget, cents.
    pub budget_cents: i64,
    /// Spend of the fee period current then (Yelp's `ad_cost`), cents.
    pub spend_cents: i64,
    /// Billed clicks of that period.
    pub billed_clicks: i64,
    /// Billed impressions of that period.
    pub billed_impressions: i64,
}

impl MetricSnapshot {
    fn from_row(row: &sqlx::any::AnyRow) -> Result<Self> {
        Ok(Self {
            at: row.try_get("at")?,
            budget_cents: row.try_get("budget_cents")?,
            spend_cents: row.try_get("spend_cents")?,
            billed_clicks: row.try_get("billed_clicks")?,
            billed_impressions: row.try_get("billed_impressions")?,
        })
    }
}

/// Sums of the mirror's metrics over some CPC programs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MetricTotals {
    /// How many programs.
    pub programs: u64,
    /// Their monthly budgets, cents (a program without one counts 0).
    pub budget_cents: i64,
    /// Their spend this period, cents.
    pub spend_cents: i64,
    /// Their billed clicks this period.
    pub billed_clicks: i64,
    /// Their billed impressions this period.
    pub billed_impressions: i64,
}

/// The figures a snapshot holds, as one write of the mirror sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Figures {
    budget_cents: i64,
    spend_cents: i64,
    billed_clicks: i64,
    billed_impressions: i64,
}

impl Figures {
    /// A CPC program's figures; `None` without a budget (nothing to pace or chart). A count Yelp left out
    /// is 0, as it is in the mirror's sums.
    fn of(metrics: Option<&ProgramMetrics>) -> Option<Self> {
        let m = metrics?;
        Some(Self {
            budget_cents: m.budget?.get(),
            spend_cents: m.ad_cost.map_or(0, |c| c.get()),
            billed_clicks: m.billed_clicks.unwrap_or(0),
            billed_impressions: m.billed_impressions.unwrap_or(0),
        })
    }

    fn of_program(program: &Program) -> Option<Self> {
        if program.program_type != ProgramType::Cpc {
            return None;
        }
        Self::of(program.program_metrics.as_ref())
    }
}

/// Only the metrics of a stored entry: the rest of Yelp's object is skipped, not decoded.
#[derive(Deserialize)]
struct StoredMetrics {
    #[serde(default)]
    program_metrics: Option<ProgramMetrics>,
}

/// Records, inside a mirror write's transaction, a snapshot of every CPC program of `entries` whose
/// figures differ from those of its stored entry before the write (`before` answers that entry as
/// stored, `None` for a program the mirror did not have, which counts as a change). Costs no query but
/// one insert per [`INSERT_ROWS`] snapshots. Of an id given twice the last entry counts, as in the write.
pub(super) async fn record<'a>(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    workspace_id: &str,
    entries: &[ProgramEntry],
    before: impl Fn(&str) -> Option<&'a str>,
    now: i64,
) -> Result<()> {
    let mut latest: HashMap<&str, &Program> = HashMap::with_capacity(entries.len());
    for entry in entries {
        latest.insert(entry.program.program_id.as_str(), &entry.program);
    }
    let mut rows: Vec<(&str, Figures)> = Vec::new();
    for (id, program) in latest {
        let Some(figures) = Figures::of_program(program) else {
            continue;
        };
        let held = before(id).map(|raw| {
            serde_json::from_str::<StoredMetrics>(raw)
                .ok()
                .and_then(|s| Figures::of(s.program_metrics.as_ref()))
        });
        // An entry the mirror holds but cannot read back has no known figures: record the new ones.
        if held != Some(Some(figures)) {
            rows.push((id, figures));
        }
    }
    insert(tx, backend, workspace_id, &rows, now).await
}

async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    workspace_id: &str,
    rows: &[(&str, Figures)],
    at: i64,
) -> Result<()> {
    const WIDTH: usize = 7;
    for chunk in rows.chunks(INSERT_ROWS) {
        let tuples = (0..chunk.len())
            .map(|r| format!("({})", markers(backend, r * WIDTH + 1, WIDTH)))
            .collect::<Vec<_>>()
            .join(", ");
        // Two writes of one program in one millisecond: the later figures stand.
        let sql = format!(
            "INSERT INTO program_snapshots (workspace_id, program_id, {SNAPSHOT_COLUMNS}) VALUES {tuples} \
             ON CONFLICT (workspace_id, program_id, at) DO UPDATE SET budget_cents = excluded.budget_cents, \
             spend_cents = excluded.spend_cents, billed_clicks = excluded.billed_clicks, \
             billed_impressions = excluded.billed_impressions"
        );
        let mut query = sqlx::query(&sql);
        for (id, f) in chunk {
            query = query
                .bind(workspace_id)
                .bind(*id)
                .bind(at)
                .bind(f.budget_cents)
                .bind(f.spend_cents)
                .bind(f.billed_clicks)
                .bind(f.billed_impressions);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

impl Store {
    /// One program's snapshots taken from `from` to `to` (unix ms, both included), oldest first: the
    /// newest `limit` of them, and whether older ones in the range were left out.
    pub async fn program_snapshots(
        &self,
        workspace_id: &str,
        program_id: &str,
        from: i64,
        to: i64,
        limit: u32,
    ) -> Result<(Vec<MetricSnapshot>, bool)> {
        let rows = sqlx::query(&format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM program_snapshots WHERE workspace_id = $1 AND program_id = $2 \
             AND at >= $3 AND at <= $4 ORDER BY at DESC LIMIT $5"
        ))
        .bind(workspace_id)
        .bind(program_id)
        .bind(from)
        .bind(to)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let mut snapshots = rows
            .iter()
            .map(MetricSnapshot::from_row)
            .collect::<Result<Vec<_>>>()?;
        let more = snapshots.len() > limit as usize;
        snapshots.truncate(limit as usize);
        snapshots.reverse();
        Ok((snapshots, more))
    }

    /// What pacing needs of these programs' past: by program, oldest first, every snapshot since `since`
    /// (unix ms) and the last one before it (the figures in force at `since`).
    pub async fn snapshots_since(
        &self,
        workspace_id: &str,
        program_ids: &[&str],
        since: i64,
    ) -> Result<HashMap<String, Vec<MetricSnapshot>>> {
        let mut found: HashMap<String, Vec<MetricSnapshot>> = HashMap::new();
        for chunk in program_ids.chunks(READ_IDS) {
            let ids = markers(self.backend, 3, chunk.len());
            // The last snapshot before `since` of each program: one index seek per program, however long
            // its past.
            let in_force = format!(
                "SELECT s.program_id, s.at, s.budget_cents, s.spend_cents, s.billed_clicks, \
                 s.billed_impressions FROM programs p JOIN program_snapshots s \
                 ON s.workspace_id = p.workspace_id AND s.program_id = p.program_id AND s.at = \
                 (SELECT MAX(m.at) FROM program_snapshots m WHERE m.workspace_id = p.workspace_id \
                 AND m.program_id = p.program_id AND m.at < {}) WHERE p.workspace_id = {} \
                 AND p.program_id IN ({ids})",
                markers(self.backend, 1, 1),
                markers(self.backend, 2, 1),
            );
            let recent = format!(
                "SELECT program_id, {SNAPSHOT_COLUMNS} FROM program_snapshots WHERE at >= {} \
                 AND workspace_id = {} AND program_id IN ({ids}) ORDER BY program_id, at",
                markers(self.backend, 1, 1),
                markers(self.backend, 2, 1),
            );
            for sql in [in_force, recent] {
                let mut query = sqlx::query(&sql).bind(since).bind(workspace_id);
                for id in chunk {
                    query = query.bind(*id);
                }
                for row in query.fetch_all(&self.pool).await? {
                    found
                        .entry(row.try_get("program_id")?)
                        .or_default()
                        .push(MetricSnapshot::from_row(&row)?);
                }
            }
        }
        Ok(found)
    }

    /// How many snapshots the workspace holds.
    pub async fn count_snapshots(&self, workspace_id: &str) -> Result<u64> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM program_snapshots WHERE workspace_id = $1")
                .bind(workspace_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Deletes snapshots older than `before` (unix ms), of every workspace; answers how many.
    pub async fn prune_snapshots(&self, before: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM program_snapshots WHERE at < $1")
            .bind(before)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }

    /// Sums of the mirror's metrics over the workspace's programs of these ids (ids it does not have count
    /// nothing).
    pub async fn metric_totals(&self, workspace_id: &str, ids: &[String]) -> Result<MetricTotals> {
        let mut totals = MetricTotals::default();
        for chunk in ids.chunks(SUM_IDS) {
            // PostgreSQL sums BIGINT as NUMERIC, which the Any driver does not read: cast back.
            let sql = format!(
                "SELECT COUNT(*) AS programs, \
                 CAST(COALESCE(SUM(budget_cents), 0) AS BIGINT) AS budget_cents, \
                 CAST(COALESCE(SUM(ad_cost_cents), 0) AS BIGINT) AS spend_cents, \
                 CAST(COALESCE(SUM(billed_clicks), 0) AS BIGINT) AS billed_clicks, \
                 CAST(COALESCE(SUM(billed_impressions), 0) AS BIGINT) AS billed_impressions \
                 FROM programs WHERE workspace_id = {} AND program_id IN ({})",
                markers(self.backend, 1, 1),
                markers(self.backend, 2, chunk.len()),
            );
            let mut query = sqlx::query(&sql).bind(workspace_id);
            for id in chunk {
                query = query.bind(id);
            }
            let row = query.fetch_one(&self.pool).await?;
            let programs: i64 = row.try_get("programs")?;
            totals.programs += u64::try_from(programs).unwrap_or(0);
            totals.budget_cents += row.try_get::<i64, _>("budget_cents")?;
            totals.spend_cents += row.try_get::<i64, _>("spend_cents")?;
            totals.billed_clicks += row.try_get::<i64, _>("billed_clicks")?;
            totals.billed_impressions += row.try_get::<i64, _>("billed_impressions")?;
        }
        Ok(totals)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn program(metrics: serde_json::Value, program_type: &str) -> Program {
        serde_json::from_value(json!({
            "program_id": "P1", "program_type": program_type, "program_status": "ACTIVE",
            "program_pause_status": "NOT_PAUSED", "program_metrics": metrics,
        }))
        .unwrap()
    }

    #[test]
    fn only_cpc_programs_with_a_budget_have_figures_and_missing_counts_are_zero() {
        let cpc = program(json!({"budget": 90_000, "ad_cost": 41_200}), "CPC");
        assert_eq!(
            Figures::of_program(&cpc),
            Some(Figures {
                budget_cents: 90_000,
                spend_cents: 41_200,
                billed_clicks: 0,
                billed_impressions: 0,
            })
        );
        assert_eq!(
            Figures::of_program(&program(json!({"ad_cost": 5}), "CPC")),
            None
        );
        assert_eq!(
            Figures::of_program(&program(json!({"budget": 90_000}), "EP")),
            None
        );
    }

    #[test]
    fn a_stored_entry_is_read_for_its_metrics_only() {
        let raw = r#"{"program_id": "P1", "whatever": [1, {"x": null}],
                     "program_metrics": {"budget": 90000, "ad_cost": 100, "billed_clicks": 3,
                                         "fee_period": "Calendar Month"}}"#;
        let stored: StoredMetrics = serde_json::from_str(raw).unwrap();
        assert_eq!(
            Figures::of(stored.program_metrics.as_ref()).map(|f| (f.spend_cents, f.billed_clicks)),
            Some((100, 3))
        );
    }
}
