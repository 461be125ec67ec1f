//! The program mirror and the businesses seen with it.

use std::collections::{HashMap, HashSet};

use sqlx::{FromRow, Row};
use yelp_partner_api::{PauseStatus, Program, ProgramEntry, ProgramStatus};

use super::history::{self, Happened, MirrorWriter, TRACKED_COLUMNS, Tracked};
use super::{Backend, Store, markers};
use crate::error::{Error, Result};

/// What writing one page of a listing did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageWrite {
    /// Programs the mirror did not have.
    pub added: u64,
    /// Programs whose content changed.
    pub updated: u64,
    /// Programs marked removed that are back at Yelp.
    pub restored: u64,
    /// Programs already up to date (not written).
    pub unchanged: u64,
}

/// Businesses already confirmed in the database during one sync run, with their partner ids, so that later
/// pages need not ask again. Start each run with an empty one.
#[derive(Debug, Default)]
pub struct KnownBusinesses(HashMap<String, Option<String>>);

/// A program as the mirror holds it.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct StoredProgram {
    /// Yelp's program id.
    pub program_id: String,
    /// Yelp's business id.
    pub business_id: Option<String>,
    /// The agency's own id of the business, when Yelp sent one.
    pub partner_business_id: Option<String>,
    /// Program type code (CPC, EP, …).
    pub program_type: String,
    /// ACTIVE or INACTIVE.
    #[sqlx(try_from = "String")]
    pub program_status: ProgramStatus,
    /// PAUSED or NOT_PAUSED.
    #[sqlx(try_from = "String")]
    pub pause_status: PauseStatus,
    /// `YYYY-MM-DD`.
    pub start_date: Option<String>,
    /// `YYYY-MM-DD`; `None` for no end.
    pub end_date: Option<String>,
    /// Monthly budget, cents.
    pub budget_cents: Option<i64>,
    /// Maximum bid, cents.
    pub max_bid_cents: Option<i64>,
    /// Whether Yelp bids automatically: 1 or 0; `None` when Yelp did not say.
    pub is_autobid: Option<i64>,
    /// The budget's currency, as Yelp sent it.
    pub currency: Option<String>,
    /// The budget's period (`CALENDAR_MONTH`, …), as Yelp sent it.
    pub fee_period: Option<String>,
    /// Impressions billed this period.
    pub billed_impressions: Option<i64>,
    /// Clicks billed this period.
    pub billed_clicks: Option<i64>,
    /// Spend this period, cents.
    pub ad_cost_cents: Option<i64>,
    /// The entry exactly as Yelp sent it.
    pub raw: String,
    /// When the mirror first saw it (unix ms).
    pub first_seen_at: i64,
    /// When its content last changed (unix ms).
    pub updated_at: i64,
    /// When a complete listing last missed it (unix ms).
    pub removed_at: Option<i64>,
}

pub(super) const STORED_COLUMNS: &str = "program_id, business_id, partner_business_id, program_type, \
    program_status, pause_status, start_date, end_date, budget_cents, max_bid_cents, is_autobid, currency, \
    fee_period, billed_impressions, billed_clicks, ad_cost_cents, raw, first_seen_at, updated_at, removed_at";

/// The row of one program, flattened from Yelp's object for filtering and sorting.
struct ProgramColumns {
    program_id: String,
    business_id: Option<String>,
    partner_business_id: Option<String>,
    program_type: String,
    program_status: String,
    pause_status: String,
    start_date: Option<String>,
    end_date: Option<String>,
    budget_cents: Option<i64>,
    max_bid_cents: Option<i64>,
    is_autobid: Option<i64>,
    currency: Option<String>,
    fee_period: Option<String>,
    billed_impressions: Option<i64>,
    billed_clicks: Option<i64>,
    ad_cost_cents: Option<i64>,
    active_features: String,
    available_features: String,
    ad_categories: String,
    raw: String,
}

impl ProgramColumns {
    fn from_entry(entry: &ProgramEntry) -> Self {
        let p: &Program = &entry.program;
        let metrics = p.program_metrics.clone().unwrap_or_default();
        Self {
            program_id: p.program_id.to_string(),
            business_id: p.business_id().map(ToString::to_string),
            partner_business_id: p.partner_business_id().map(str::to_owned),
            program_type: p.program_type.to_string(),
            program_status: p.program_status.to_string(),
            pause_status: p.program_pause_status.to_string(),
            start_date: p.start_date.map(|d| d.to_string()),
            end_date: p.end_date.map(|d| d.to_string()),
            budget_cents: metrics.budget.map(|c| c.get()),
            max_bid_cents: metrics.max_bid.map(|c| c.get()),
            is_autobid: metrics.is_autobid.map(i64::from),
            currency: metrics.currency,
            fee_period: metrics.fee_period,
            billed_impressions: metrics.billed_impressions,
            billed_clicks: metrics.billed_clicks,
            ad_cost_cents: metrics.ad_cost.map(|c| c.get()),
            active_features: json_array(&p.active_features),
            available_features: json_array(&p.available_features),
            ad_categories: json_array(&p.ad_categories),
            raw: entry.raw.to_string(),
        }
    }

    /// The fields whose changes the history records.
    fn tracked(&self) -> Tracked {
        Tracked {
            business_id: self.business_id.clone(),
            program_status: self.program_status.clone(),
            pause_status: self.pause_status.clone(),
            budget_cents: self.budget_cents,
            is_autobid: self.is_autobid,
            max_bid_cents: self.max_bid_cents,
            start_date: self.start_date.clone(),
            end_date: self.end_date.clone(),
            active_features: self.active_features.clone(),
        }
    }
}

/// A program as the mirror held it before a write.
struct Existing {
    raw: String,
    removed_at: Option<i64>,
    tracked: Tracked,
}

/// JSON of a small array of strings; serialising one cannot fail.
fn json_array<T: serde::Serialize>(items: &[T]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())
}

impl Store {
    /// Writes one page of a listing: new programs are inserted, changed or returning ones updated, and
    /// unchanged ones not written at all. The page is one transaction, which bumps the mirror version and
    /// records in the programs' history what changed, credited to `writer`.
    pub async fn write_program_page(
        &self,
        workspace_id: &str,
        entries: &[ProgramEntry],
        known: &mut KnownBusinesses,
        now: i64,
        writer: MirrorWriter<'_>,
    ) -> Result<PageWrite> {
        self.write_listed_programs(workspace_id, entries, known, now, true, writer)
            .await
    }

    /// [`Store::write_program_page`] for any number of entries (several pages of a sync at once), in one
    /// transaction that bumps the mirror version only when `bump_version` says so: a sync bumps it at most
    /// once a second and at its end ([`Store::bump_mirror_version`]), so that readers do not recompute
    /// every cached list after every page.
    pub async fn write_listed_programs(
        &self,
        workspace_id: &str,
        entries: &[ProgramEntry],
        known: &mut KnownBusinesses,
        now: i64,
        bump_version: bool,
        writer: MirrorWriter<'_>,
    ) -> Result<PageWrite> {
        // The last occurrence of an id in a page wins, as it would in a plain upsert.
        let mut rows: HashMap<String, ProgramColumns> = HashMap::with_capacity(entries.len());
        for entry in entries {
            let row = ProgramColumns::from_entry(entry);
            rows.insert(row.program_id.clone(), row);
        }
        if rows.is_empty() {
            return Ok(PageWrite::default());
        }
        // Reads and writes of a page share the writer connection, whose page cache stays warm.
        let mut conn = self.writer.acquire().await?;
        let existing =
            existing_programs(&mut conn, self.backend, workspace_id, rows.keys()).await?;
        let mut write = PageWrite::default();
        let mut changed: Vec<&ProgramColumns> = Vec::new();
        let record_added = match writer {
            MirrorWriter::Sync { record_added, .. } => record_added,
            MirrorWriter::Refresh | MirrorWriter::Job(_) | MirrorWriter::User { .. } => true,
        };
        let mut happened: Vec<Happened> = Vec::new();
        for row in rows.values() {
            let before = existing.get(&row.program_id);
            match before {
                None => write.added += 1,
                Some(Existing {
                    removed_at: Some(_),
                    ..
                }) => write.restored += 1,
                Some(e) if e.raw != row.raw => write.updated += 1,
                Some(_) => {
                    write.unchanged += 1;
                    continue;
                }
            }
            happened.extend(Happened::between(
                &row.program_id,
                before.map(|e| (&e.tracked, e.removed_at.is_some())),
                &row.tracked(),
                record_added,
            ));
            changed.push(row);
        }
        let unconfirmed: Vec<&ProgramColumns> = rows
            .values()
            .filter(|r| {
                r.business_id
                    .as_ref()
                    .is_some_and(|b| known.0.get(b) != Some(&r.partner_business_id))
            })
            .collect();
        let businesses = if unconfirmed.is_empty() {
            Vec::new()
        } else {
            changed_businesses(
                &mut conn,
                self.backend,
                workspace_id,
                unconfirmed.into_iter(),
            )
            .await?
        };
        let confirm = |known: &mut KnownBusinesses| {
            for row in rows.values() {
                if let Some(b) = &row.business_id {
                    known.0.insert(b.clone(), row.partner_business_id.clone());
                }
            }
        };
        if changed.is_empty() && businesses.is_empty() {
            confirm(known);
            return Ok(write);
        }
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        if !changed.is_empty() {
            upsert_programs(&mut tx, self.backend, workspace_id, &changed, now).await?;
            history::record(&mut tx, self.backend, workspace_id, writer, happened, now).await?;
            super::snapshots::record(
                &mut tx,
                self.backend,
                workspace_id,
                entries,
                |id| existing.get(id).map(|e| e.raw.as_str()),
                now,
            )
            .await?;
            if bump_version {
                bump_mirror_version(&mut tx, workspace_id).await?;
            }
        }
        if !businesses.is_empty() {
            upsert_businesses(&mut tx, self.backend, workspace_id, &businesses, now).await?;
        }
        tx.commit().await?;
        confirm(known);
        Ok(write)
    }
}

async fn existing_programs<'a>(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    workspace_id: &str,
    ids: impl ExactSizeIterator<Item = &'a String>,
) -> Result<HashMap<String, Existing>> {
    let sql = format!(
        "SELECT program_id, raw, removed_at, {TRACKED_COLUMNS} FROM programs WHERE workspace_id = {} \
         AND program_id IN ({})",
        markers(backend, 1, 1),
        markers(backend, 2, ids.len())
    );
    let mut query = sqlx::query(&sql).bind(workspace_id);
    for id in ids {
        query = query.bind(id);
    }
    let mut found = HashMap::new();
    for row in query.fetch_all(&mut *conn).await? {
        found.insert(
            row.try_get("program_id")?,
            Existing {
                raw: row.try_get("raw")?,
                removed_at: row.try_get("removed_at")?,
                tracked: Tracked::from_row(&row)?,
            },
        );
    }
    Ok(found)
}

/// The businesses of these rows that are new or whose partner id changed.
async fn changed_businesses<'a>(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    workspace_id: &str,
    rows: impl Iterator<Item = &'a ProgramColumns>,
) -> Result<Vec<(String, Option<String>)>> {
    let wanted: HashMap<&String, &Option<String>> = rows
        .filter_map(|r| r.business_id.as_ref().map(|b| (b, &r.partner_business_id)))
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT business_id, partner_business_id FROM businesses WHERE workspace_id = {} AND business_id IN ({})",
        markers(backend, 1, 1),
        markers(backend, 2, wanted.len())
    );
    let mut query = sqlx::query(&sql).bind(workspace_id);
    for id in wanted.keys() {
        query = query.bind(*id);
    }
    let mut known: HashMap<String, Option<String>> = HashMap::new();
    for row in query.fetch_all(&mut *conn).await? {
        known.insert(
            row.try_get("business_id")?,
            row.try_get("partner_business_id")?,
        );
    }
    Ok(wanted
        .into_iter()
        .filter(|(id, partner)| known.get(*id) != Some(*partner))
        .map(|(id, partner)| (id.clone(), partner.clone()))
        .collect())
}

impl Store {
    /// Marks every live program that `listed` does not contain as removed, in one transaction that records
    /// each removal in the history as found by `run_id`, and answers how many. Call it only with a complete
    /// listing.
    pub async fn mark_programs_removed(
        &self,
        workspace_id: &str,
        listed: &HashSet<String>,
        now: i64,
        run_id: &str,
    ) -> Result<u64> {
        let live: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT program_id, business_id FROM programs WHERE workspace_id = $1 AND removed_at IS NULL",
        )
        .bind(workspace_id)
        .fetch_all(&self.writer)
        .await?;
        let missing: Vec<&(String, Option<String>)> =
            live.iter().filter(|(id, _)| !listed.contains(id)).collect();
        if missing.is_empty() {
            return Ok(0);
        }
        let mut tx = self.writer.begin().await?;
        let removals = missing
            .iter()
            .map(|(program_id, business_id)| Happened {
                program_id: program_id.clone(),
                business_id: business_id.clone(),
                kind: history::HistoryKind::Removed,
                field: None,
                old_value: None,
                new_value: None,
            })
            .collect();
        let writer = MirrorWriter::Sync {
            run_id,
            record_added: true,
        };
        history::record(&mut tx, self.backend, workspace_id, writer, removals, now).await?;
        for (id, _) in &missing {
            sqlx::query(
                "UPDATE programs SET removed_at = $1 WHERE workspace_id = $2 AND program_id = $3 AND removed_at IS NULL",
            )
            .bind(now)
            .bind(workspace_id)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        }
        bump_mirror_version(&mut tx, workspace_id).await?;
        tx.commit().await?;
        Ok(missing.len() as u64)
    }

    /// Refreshes the query planner's statistics on programs, after a sync changed many of them. Without
    /// them SQLite reads a 100,000-program list through the workspace index row by row, about 5× slower
    /// than the scan it chooses once it knows the table; PostgreSQL's autovacuum would get there later.
    pub async fn analyze_programs(&self) -> Result<()> {
        sqlx::query("ANALYZE programs")
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The workspace's programs with these ids (those that exist), in no particular order.
    pub(super) async fn programs_by_id(
        &self,
        workspace_id: &str,
        ids: &[String],
    ) -> Result<Vec<StoredProgram>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {STORED_COLUMNS} FROM programs WHERE workspace_id = {} AND program_id IN ({})",
            markers(self.backend, 1, 1),
            markers(self.backend, 2, ids.len())
        );
        let mut query = sqlx::query_as::<_, StoredProgram>(&sql).bind(workspace_id);
        for id in ids {
            query = query.bind(id);
        }
        Ok(query.fetch_all(&self.pool).await?)
    }

    /// How many programs of the workspace are live (not removed).
    pub async fn count_live_programs(&self, workspace_id: &str) -> Result<u64> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM programs WHERE workspace_id = $1 AND removed_at IS NULL",
        )
        .bind(workspace_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// How many programs of the workspace were inserted, changed or marked removed at or after `since`
    /// (unix ms): what a run wrote.
    pub async fn count_programs_written_since(
        &self,
        workspace_id: &str,
        since: i64,
    ) -> Result<u64> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM programs WHERE workspace_id = $1 \
             AND (updated_at >= $2 OR first_seen_at >= $2 OR removed_at >= $2)",
        )
        .bind(workspace_id)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Every program of the workspace, removed ones included, by id.
    pub async fn all_programs(&self, workspace_id: &str) -> Result<Vec<StoredProgram>> {
        let sql = format!(
            "SELECT {STORED_COLUMNS} FROM programs WHERE workspace_id = $1 ORDER BY program_id"
        );
        Ok(sqlx::query_as(&sql)
            .bind(workspace_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// One program of the workspace.
    pub async fn program(
        &self,
        workspace_id: &str,
        program_id: &str,
    ) -> Result<Option<StoredProgram>> {
        let sql = format!(
            "SELECT {STORED_COLUMNS} FROM programs WHERE workspace_id = $1 AND program_id = $2"
        );
        Ok(sqlx::query_as(&sql)
            .bind(workspace_id)
            .bind(program_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The programs of the workspace with these ids (those the mirror holds, removed ones included), in
    /// no particular order.
    pub async fn programs_by_ids(
        &self,
        workspace_id: &str,
        ids: &[String],
    ) -> Result<Vec<StoredProgram>> {
        // Within every database's limit of bound parameters.
        const PER_QUERY: usize = 500;
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(PER_QUERY) {
            let markers: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT {STORED_COLUMNS} FROM programs WHERE workspace_id = $1 \
                 AND program_id IN ({})",
                markers.join(", ")
            );
            let mut query = sqlx::query_as(&sql).bind(workspace_id);
            for id in chunk {
                query = query.bind(id);
            }
            found.extend(query.fetch_all(&self.pool).await?);
        }
        Ok(found)
    }

    /// One program of the workspace by an id a user gave (a link, a form, a script). Ids of Yelp's usual
    /// URL-safe alphabet are looked up; so is any other id that [`could_be_mirrored`] allows, since Yelp
    /// may send ids outside that alphabet and the mirror keeps them as sent, but one the mirror does not
    /// hold is refused as before (`InvalidFields` naming `program_id`) rather than reported missing.
    pub async fn program_by_given_id(
        &self,
        workspace_id: &str,
        given: &str,
    ) -> Result<Option<StoredProgram>> {
        let refused = |e: yelp_partner_api::InvalidId| {
            Error::InvalidFields(vec![("program_id".into(), format!("program_id: {e}"))])
        };
        match yelp_partner_api::ProgramId::parse(given) {
            Ok(id) => self.program(workspace_id, id.as_str()).await,
            Err(e) if !could_be_mirrored(given) => Err(refused(e)),
            Err(e) => match self.program(workspace_id, given).await? {
                Some(program) => Ok(Some(program)),
                None => Err(refused(e)),
            },
        }
    }

    /// Whether the mirror holds a program of business `business_id` in the workspace.
    pub async fn business_known(&self, workspace_id: &str, business_id: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM programs WHERE workspace_id = $1 AND business_id = $2 LIMIT 1",
        )
        .bind(workspace_id)
        .bind(business_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }
}

/// Whether an id outside Yelp's usual alphabet may be looked up in the mirror: 1 to 128 characters, none
/// a control character, and not `.` or `..` (which a URL path would read as a step). Such an id goes to
/// Yelp only as one percent-encoded path segment or inside a JSON body, so it cannot change a request.
pub fn could_be_mirrored(given: &str) -> bool {
    !given.is_empty()
        && given.chars().count() <= 128
        && !given.chars().any(char::is_control)
        && given != "."
        && given != ".."
}

/// Columns of `programs` written by a sync, in bind order.
const PROGRAM_COLUMNS: [&str; 23] = [
    "workspace_id",
    "program_id",
    "business_id",
    "partner_business_id",
    "program_type",
    "program_status",
    "pause_status",
    "start_date",
    "end_date",
    "budget_cents",
    "max_bid_cents",
    "is_autobid",
    "currency",
    "fee_period",
    "billed_impressions",
    "billed_clicks",
    "ad_cost_cents",
    "active_features",
    "available_features",
    "ad_categories",
    "raw",
    "first_seen_at",
    "updated_at",
];

/// `($1, …, $n), ($n+1, …)`: `rows` tuples of `width` markers.
fn value_tuples(backend: Backend, rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", markers(backend, r * width + 1, width)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Inserts or updates many programs in one statement: one round trip per page, not one per program.
async fn upsert_programs(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    workspace_id: &str,
    rows: &[&ProgramColumns],
    now: i64,
) -> Result<()> {
    // Everything from business_id to raw; the key and first_seen_at never change.
    let updates = PROGRAM_COLUMNS[2..21]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO programs ({}) VALUES {} ON CONFLICT (workspace_id, program_id) DO UPDATE SET {updates}, \
         updated_at = excluded.updated_at, removed_at = NULL",
        PROGRAM_COLUMNS.join(", "),
        value_tuples(backend, rows.len(), PROGRAM_COLUMNS.len()),
    );
    let mut query = sqlx::query(&sql);
    for row in rows {
        query = query
            .bind(workspace_id)
            .bind(&row.program_id)
            .bind(&row.business_id)
            .bind(&row.partner_business_id)
            .bind(&row.program_type)
            .bind(&row.program_status)
            .bind(&row.pause_status)
            .bind(&row.start_date)
            .bind(&row.end_date)
            .bind(row.budget_cents)
            .bind(row.max_bid_cents)
            .bind(row.is_autobid)
            .bind(&row.currency)
            .bind(&row.fee_period)
            .bind(row.billed_impressions)
            .bind(row.billed_clicks)
            .bind(row.ad_cost_cents)
            .bind(&row.active_features)
            .bind(&row.available_features)
            .bind(&row.ad_categories)
            .bind(&row.raw)
            .bind(now)
            .bind(now);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

impl Store {
    /// Bumps the workspace's mirror version, so that every cached list of it is recomputed.
    pub async fn bump_mirror_version(&self, workspace_id: &str) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        bump_mirror_version(&mut tx, workspace_id).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Marks the workspace's mirror changed, in the transaction that changed it: list caches key on this.
pub(super) async fn bump_mirror_version(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    workspace_id: &str,
) -> Result<()> {
    sqlx::query("UPDATE workspaces SET mirror_version = mirror_version + 1 WHERE id = $1")
        .bind(workspace_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn upsert_businesses(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    workspace_id: &str,
    businesses: &[(String, Option<String>)],
    now: i64,
) -> Result<()> {
    let sql = format!(
        "INSERT INTO businesses (workspace_id, business_id, partner_business_id, first_seen_at, updated_at) \
         VALUES {} ON CONFLICT (workspace_id, business_id) DO UPDATE \
         SET partner_business_id = excluded.partner_business_id, updated_at = excluded.updated_at",
        value_tuples(backend, businesses.len(), 5)
    );
    let mut query = sqlx::query(&sql);
    for (business_id, partner_id) in businesses {
        query = query
            .bind(workspace_id)
            .bind(business_id)
            .bind(partner_id)
            .bind(now)
            .bind(now);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn value_tuples_number_every_placeholder_once() {
        use super::Backend;
        assert_eq!(
            super::value_tuples(Backend::Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(super::value_tuples(Backend::Sqlite, 2, 2), "(?, ?), (?, ?)");
        let columns = super::PROGRAM_COLUMNS;
        assert_eq!(
            (columns[2], columns[20], columns[21]),
            ("business_id", "raw", "first_seen_at")
        );
    }
}
