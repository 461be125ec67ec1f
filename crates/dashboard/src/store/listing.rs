//! Reading the mirror for lists: filters, sort and pagination done by the database.

use std::str::FromStr;

use chrono::NaiveDate;
use sqlx::Row;
use yelp_partner_api::{ProgramStatus, StatusFilter};

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use metrics::{counter, describe_counter, describe_gauge, gauge};
use moka::future::Cache;
use moka::ops::compute::{CompResult, Op};

use super::{Store, StoredProgram};
use crate::error::{Error, Result};

/// A column a program list can be sorted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortColumn {
    /// Program id.
    ProgramId,
    /// Program type.
    ProgramType,
    /// ACTIVE/INACTIVE.
    ProgramStatus,
    /// PAUSED/NOT_PAUSED.
    PauseStatus,
    /// Start date.
    StartDate,
    /// End date (no end sorts last).
    EndDate,
    /// Monthly budget.
    Budget,
    /// Spend this period.
    AdCost,
    /// Clicks this period.
    BilledClicks,
    /// Impressions this period.
    BilledImpressions,
    /// Business id.
    BusinessId,
    /// When the content last changed.
    UpdatedAt,
}

impl SortColumn {
    /// Every sortable column by its API name.
    pub const NAMES: &[(&str, SortColumn)] = &[
        ("program_id", Self::ProgramId),
        ("program_type", Self::ProgramType),
        ("program_status", Self::ProgramStatus),
        ("program_pause_status", Self::PauseStatus),
        ("start_date", Self::StartDate),
        ("end_date", Self::EndDate),
        ("budget", Self::Budget),
        ("ad_cost", Self::AdCost),
        ("billed_clicks", Self::BilledClicks),
        ("billed_impressions", Self::BilledImpressions),
        ("business_id", Self::BusinessId),
        ("updated_at", Self::UpdatedAt),
    ];

    fn column(self) -> &'static str {
        match self {
            Self::ProgramId => "program_id",
            Self::ProgramType => "program_type",
            Self::ProgramStatus => "program_status",
            Self::PauseStatus => "pause_status",
            Self::StartDate => "start_date",
            Self::EndDate => "end_date",
            Self::Budget => "budget_cents",
            Self::AdCost => "ad_cost_cents",
            Self::BilledClicks => "billed_clicks",
            Self::BilledImpressions => "billed_impressions",
            Self::BusinessId => "business_id",
            Self::UpdatedAt => "updated_at",
        }
    }
}

impl FromStr for SortColumn {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::NAMES
            .iter()
            .find(|(name, _)| *name == s)
            .map(|(_, c)| *c)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::NAMES.iter().map(|(n, _)| *n).collect();
                Error::Invalid(format!(
                    "cannot sort on '{s}'; sort on one of: {}",
                    names.join(", ")
                ))
            })
    }
}

/// What a program list asks for. Parsed and bounded by the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramQuery {
    /// The contract's status buckets, computed against `today`.
    pub status: StatusFilter,
    /// Only programs whose own `program_status` (Yelp's field) is this: the replaced system's ACTIVE and
    /// INACTIVE filter values.
    pub program_status: Option<ProgramStatus>,
    /// Only this program type.
    pub program_type: Option<String>,
    /// Only this business.
    pub business_id: Option<String>,
    /// Only businesses whose name holds this (any case, accents or not): the business filter typed
    /// as text rather than chosen.
    pub business_name: Option<String>,
    /// Part of a program id, business id, partner business id, business name or program label (any case,
    /// accents or not).
    pub search: Option<String>,
    /// Only programs with this feature type switched on (Yelp's `active_features`).
    pub active_feature: Option<String>,
    /// Also programs missing from Yelp's latest complete listing.
    pub include_removed: bool,
    /// Sort column.
    pub sort: SortColumn,
    /// Largest first.
    pub descending: bool,
    /// Rows to skip.
    pub offset: u64,
    /// Rows to return.
    pub limit: u32,
    /// The day the status buckets are computed for.
    pub today: NaiveDate,
}

impl ProgramQuery {
    /// Every live program, newest start first, in one page of `limit`.
    pub fn every_program(today: NaiveDate, limit: u32) -> Self {
        Self {
            status: StatusFilter::All,
            program_status: None,
            program_type: None,
            business_id: None,
            business_name: None,
            search: None,
            active_feature: None,
            include_removed: false,
            sort: SortColumn::StartDate,
            descending: true,
            offset: 0,
            limit,
            today,
        }
    }
}

/// A page of a program list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramListing {
    /// The programs of the page.
    pub programs: Vec<StoredProgram>,
    /// How many programs match, over all pages.
    pub total_count: u64,
}

/// A business of the workspace with how many live programs it has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusinessSummary {
    /// Yelp's business id.
    pub business_id: String,
    /// The partner's id for it.
    pub partner_business_id: Option<String>,
    /// Its name, when known.
    pub name: Option<String>,
    /// Its live programs (those the query asked for).
    pub program_count: u64,
    /// How many of those Yelp says are ACTIVE.
    pub active_count: u64,
}

/// A view's ids and the mirror version they were computed at.
type View = (i64, Arc<Vec<String>>);

/// The list cache's figures on `/metrics`: views answered from the cache or computed, by outcome.
const VIEW_LOOKUPS: &str = "yelp_ads_list_view_lookups_total";
/// The list cache's figures on `/metrics`: program and business ids held over all views.
const VIEW_IDS: &str = "yelp_ads_list_view_ids";
/// The list cache's figures on `/metrics`: views held.
const VIEWS: &str = "yelp_ads_list_views";

/// Views of the mirror: every matching program id, in order, by workspace, filter and sort (not offset or
/// limit), with the mirror version they were computed at. A count is a length and a page is a slice, so a
/// view costs one query per change of the mirror however deep people page.
///
/// A view is kept under its key alone, not its key and version: a new version replaces the old one in
/// place rather than leaving it to be evicted, and keeps the key's standing in moka's admission policy, so
/// a view asked often stays cached through every change of the mirror.
pub(super) struct ListCache {
    views: Cache<String, View>,
    /// Asks answered with a view already computed (by this ask or one it waited for).
    hits: AtomicU64,
    /// Asks that computed their view.
    computed: AtomicU64,
}

impl std::fmt::Debug for ListCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListCache")
            .field("views", &self.views.entry_count())
            .field("ids", &self.views.weighted_size())
            .finish_non_exhaustive()
    }
}

impl Default for ListCache {
    fn default() -> Self {
        Self::holding(Self::MAX_IDS)
    }
}

impl ListCache {
    /// Ids kept over all views (about 40 MB); past it moka evicts the views least likely to be asked again.
    const MAX_IDS: u64 = 1_000_000;

    /// A cache of at most `max_ids` ids over all its views.
    fn holding(max_ids: u64) -> Self {
        let views = Cache::builder()
            .max_capacity(max_ids)
            // Weighed in ids, the bound's unit; an empty view weighs one, so that many of them are bounded too.
            .weigher(|_key: &String, view: &View| {
                u32::try_from(view.1.len().max(1)).unwrap_or(u32::MAX)
            })
            .build();
        Self {
            views,
            hits: AtomicU64::new(0),
            computed: AtomicU64::new(0),
        }
    }

    /// The ids kept for `key` at `version`, or those `compute` answers, kept. Many asking for the same key
    /// at once compute it once; the others wait for it.
    pub(super) async fn get_or_compute(
        &self,
        key: String,
        version: i64,
        compute: impl std::future::Future<Output = Result<Vec<String>>>,
    ) -> Result<Arc<Vec<String>>> {
        if let Some((_, ids)) = self.views.get(&key).await.filter(|(v, _)| *v == version) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(ids);
        }
        // moka runs the computations of one key one at a time, so the asks that waited find the view
        // computed by the first.
        let answer = self
            .views
            .entry(key)
            .and_try_compute_with(|kept| async move {
                match kept {
                    Some(kept) if kept.value().0 == version => Ok(Op::Nop),
                    _ => {
                        let ids = compute.await?;
                        self.computed.fetch_add(1, Ordering::Relaxed);
                        Ok::<_, Error>(Op::Put((version, Arc::new(ids))))
                    }
                }
            })
            .await?;
        match answer {
            CompResult::Unchanged(entry) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Ok(entry.into_value().1)
            }
            CompResult::Inserted(entry) | CompResult::ReplacedWith(entry) => {
                Ok(entry.into_value().1)
            }
            // Neither: the computation above never removes, and leaves alone only a view it found.
            CompResult::StillNone(_) | CompResult::Removed(_) => {
                Err(Error::Internal("the list cache answered no view".into()))
            }
        }
    }

    /// Reports the cache's figures to the current `metrics` recorder. Meant for the scrape of `/metrics`,
    /// inside the server's own recorder, as the figures read from the database are.
    fn report_metrics(&self) {
        describe_counter!(
            VIEW_LOOKUPS,
            "Program and business list views asked for, by outcome (hit: cached; computed: read from the database)."
        );
        describe_gauge!(VIEW_IDS, "Ids held over all cached list views.");
        describe_gauge!(VIEWS, "List views cached.");
        counter!(VIEW_LOOKUPS, "outcome" => "hit").absolute(self.hits.load(Ordering::Relaxed));
        counter!(VIEW_LOOKUPS, "outcome" => "computed")
            .absolute(self.computed.load(Ordering::Relaxed));
        // Gauges are floats; the counts are far below 2^53, so they are exact.
        gauge!(VIEW_IDS).set(self.views.weighted_size() as f64);
        gauge!(VIEWS).set(self.views.entry_count() as f64);
    }
}

/// `WHERE` text and its values, numbered from `$1` (the workspace id).
struct Filter {
    sql: String,
    values: Vec<String>,
}

impl Filter {
    fn new(workspace_id: &str) -> Self {
        Self {
            sql: "workspace_id = $1".into(),
            values: vec![workspace_id.to_owned()],
        }
    }

    /// Adds a condition in which every `{v}` stands for `value`.
    fn and(&mut self, condition: &str, value: Option<String>) {
        let condition = match value {
            Some(value) => {
                self.values.push(value);
                condition.replace("{v}", &format!("${}", self.values.len()))
            }
            None => condition.to_owned(),
        };
        self.sql.push_str(" AND ");
        self.sql.push_str(&condition);
    }
}

/// `%` and `_` typed by a user match themselves.
pub(super) fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{}%", escaped.to_lowercase())
}

/// The `WHERE` clause of a query's programs (its sort, offset and limit aside).
fn filter(workspace_id: &str, q: &ProgramQuery) -> Filter {
    let mut filter = Filter::new(workspace_id);
    if !q.include_removed {
        filter.and("removed_at IS NULL", None);
    }
    if let Some(t) = &q.program_type {
        filter.and("program_type = {v}", Some(t.clone()));
    }
    if let Some(b) = &q.business_id {
        // A business Yelp moved to this id keeps its programs under its old id in the listing: they are
        // this business's too. One `IN` on the indexed column, the subquery run once.
        filter.and(
            "business_id IN (SELECT {v} UNION SELECT mb.business_id FROM businesses mb              WHERE mb.workspace_id = $1 AND mb.migrated_to = {v})",
            Some(b.clone()),
        );
    }
    if let Some(name) = q.business_name.as_deref().filter(|n| !n.trim().is_empty()) {
        filter.and(
            "business_id IN (SELECT fb.business_id FROM businesses fb WHERE fb.workspace_id = $1 \
             AND fb.search_name LIKE {v} ESCAPE '\\')",
            Some(like_pattern(&super::search_form(name))),
        );
    }
    if let Some(s) = &q.program_status {
        filter.and("program_status = {v}", Some(s.as_str().to_owned()));
    }
    if let Some(s) = q.search.as_deref().filter(|s| !s.is_empty()) {
        // Business names are matched in their search form (lower case, no accents), so "cafe" finds
        // "Café"; ids have no accents or spaces, so the same folded text matches them too. `$1` is the
        // workspace.
        filter.and(
            "(LOWER(program_id) LIKE {v} ESCAPE '\\' OR LOWER(business_id) LIKE {v} ESCAPE '\\' \
             OR LOWER(COALESCE(partner_business_id, '')) LIKE {v} ESCAPE '\\' \
             OR business_id IN (SELECT nb.business_id FROM businesses nb WHERE nb.workspace_id = $1 \
                AND nb.search_name LIKE {v} ESCAPE '\\') \
             OR program_id IN (SELECT pl.program_id FROM program_labels pl WHERE pl.workspace_id = $1 \
                AND pl.search_name LIKE {v} ESCAPE '\\'))",
            Some(like_pattern(&super::search_form(s))),
        );
    }
    if let Some(feature) = &q.active_feature {
        // `active_features` is a JSON array of type names: a quoted name matches that one type only.
        filter.and(
            "LOWER(active_features) LIKE {v} ESCAPE '\\'",
            Some(like_pattern(&format!("\"{feature}\""))),
        );
    }
    let today = q.today.to_string();
    // The contract's buckets (yelp-partner-api.md §2.3); dates are YYYY-MM-DD text, which sorts as dates.
    let not_paused = "pause_status <> 'PAUSED'";
    let started = "(start_date IS NULL OR start_date <= {v})";
    match q.status {
        StatusFilter::All => {}
        StatusFilter::Paused => filter.and("pause_status = 'PAUSED'", None),
        StatusFilter::Future => {
            filter.and(&format!("{not_paused} AND start_date > {{v}}"), Some(today))
        }
        StatusFilter::Past => filter.and(
            &format!("{not_paused} AND {started} AND end_date IS NOT NULL AND end_date < {{v}}"),
            Some(today),
        ),
        StatusFilter::Current => filter.and(
            &format!(
                "{not_paused} AND program_status = 'ACTIVE' AND {started} \
                 AND (end_date IS NULL OR end_date >= {{v}})"
            ),
            Some(today),
        ),
    }
    filter
}

impl Store {
    /// A page of the workspace's programs. Never calls Yelp.
    pub async fn list_programs(
        &self,
        workspace_id: &str,
        q: &ProgramQuery,
    ) -> Result<ProgramListing> {
        let ids = self.program_view(workspace_id, q).await?;
        let total_count = ids.len() as u64;
        let start = usize::try_from(q.offset)
            .unwrap_or(usize::MAX)
            .min(ids.len());
        let end = start.saturating_add(q.limit as usize).min(ids.len());
        let programs = self
            .programs_in_order(workspace_id, &ids[start..end])
            .await?;
        Ok(ProgramListing {
            programs,
            total_count,
        })
    }

    /// Every program id the query matches, in its order (its offset and limit aside). Computed once per
    /// change of the mirror and shared: a count is its length and a page a slice of it.
    pub async fn program_view(
        &self,
        workspace_id: &str,
        q: &ProgramQuery,
    ) -> Result<Arc<Vec<String>>> {
        // A list is recomputed only when the mirror changed: every write bumps the version in its own
        // transaction, on whichever instance made it, so a cached answer is never stale (a sync's writes
        // bump it at most once a second and at the run's end: up to a second old while a sync writes).
        let version = self.mirror_version(workspace_id).await?;
        let view = ProgramQuery {
            offset: 0,
            limit: 0,
            ..q.clone()
        };
        let key = format!("{workspace_id}\n{view:?}");
        let filter = filter(workspace_id, q);
        self.list_cache
            .get_or_compute(key, version, self.view_ids(&filter, q))
            .await
    }

    /// The workspace's programs with these ids, in the order of `ids` (ids it does not have are left out).
    pub async fn programs_in_order(
        &self,
        workspace_id: &str,
        ids: &[String],
    ) -> Result<Vec<StoredProgram>> {
        let mut rows: HashMap<String, StoredProgram> = self
            .programs_by_id(workspace_id, ids)
            .await?
            .into_iter()
            .map(|p| (p.program_id.clone(), p))
            .collect();
        Ok(ids.iter().filter_map(|id| rows.remove(id)).collect())
    }

    /// How many programs the query matches (its sort, offset and limit aside), counted by the database.
    pub async fn count_programs(&self, workspace_id: &str, q: &ProgramQuery) -> Result<u64> {
        let filter = filter(workspace_id, q);
        let sql = format!("SELECT COUNT(*) FROM programs WHERE {}", filter.sql);
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        for v in &filter.values {
            query = query.bind(v);
        }
        Ok(u64::try_from(query.fetch_one(&self.pool).await?).unwrap_or(0))
    }

    /// The program types among the programs the query matches, with how many of each, by type.
    pub async fn program_type_counts(
        &self,
        workspace_id: &str,
        q: &ProgramQuery,
    ) -> Result<Vec<(String, u64)>> {
        let filter = filter(workspace_id, q);
        let sql = format!(
            "SELECT program_type, COUNT(*) FROM programs WHERE {} \
             GROUP BY program_type ORDER BY program_type",
            filter.sql
        );
        let mut query = sqlx::query_as::<_, (String, i64)>(&sql);
        for v in &filter.values {
            query = query.bind(v);
        }
        Ok(query
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|(t, n)| (t, u64::try_from(n).unwrap_or(0)))
            .collect())
    }

    /// Reports the list cache's figures (views asked for, by outcome; views and ids held) to the current
    /// `metrics` recorder: for the scrape of `/metrics`, inside the server's recorder.
    pub fn report_list_cache_metrics(&self) {
        self.list_cache.report_metrics();
    }

    /// The workspace's mirror version: it changes in the transaction of every change to its programs, so
    /// anything computed from the mirror can be cached under it.
    pub async fn mirror_version(&self, workspace_id: &str) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT mirror_version FROM workspaces WHERE id = $1")
                .bind(workspace_id)
                .fetch_optional(&self.pool)
                .await?
                .unwrap_or(0),
        )
    }

    /// Every matching id in order, from the narrow table alone.
    async fn view_ids(&self, filter: &Filter, q: &ProgramQuery) -> Result<Vec<String>> {
        let column = q.sort.column();
        let direction = if q.descending { "DESC" } else { "ASC" };
        // NULLs last in both databases (they disagree by default), then a stable tiebreak.
        let sql = format!(
            "SELECT program_id FROM programs WHERE {} \
             ORDER BY ({column} IS NULL), {column} {direction}, program_id {direction}",
            filter.sql
        );
        let mut query = sqlx::query_scalar::<_, String>(&sql);
        for v in &filter.values {
            query = query.bind(v);
        }
        Ok(query.fetch_all(&self.pool).await?)
    }

    /// The businesses of the programs the query matches (its sort, offset and limit aside), with how many
    /// of those each has, by business id.
    pub async fn business_summaries(
        &self,
        workspace_id: &str,
        q: &ProgramQuery,
    ) -> Result<Vec<BusinessSummary>> {
        let filter = filter(workspace_id, q);
        // The filter names columns of `programs` alone, so it is applied before the join.
        let sql = format!(
            "SELECT f.business_id AS business_id, b.partner_business_id AS partner_business_id, \
             b.name AS name, f.program_count AS program_count, f.active_count AS active_count \
             FROM (SELECT business_id, COUNT(*) AS program_count, \
                   SUM(CASE WHEN program_status = 'ACTIVE' THEN 1 ELSE 0 END) AS active_count \
                   FROM programs WHERE {} AND business_id IS NOT NULL GROUP BY business_id) f \
             LEFT JOIN businesses b ON b.workspace_id = $1 AND b.business_id = f.business_id \
             ORDER BY f.business_id",
            filter.sql
        );
        let mut query = sqlx::query(&sql);
        for v in &filter.values {
            query = query.bind(v);
        }
        let count = |row: &sqlx::any::AnyRow, column: &str| -> Result<u64> {
            Ok(u64::try_from(row.try_get::<i64, _>(column)?).unwrap_or(0))
        };
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(BusinessSummary {
                    business_id: row.try_get("business_id")?,
                    partner_business_id: row.try_get("partner_business_id")?,
                    name: row.try_get("name")?,
                    program_count: count(row, "program_count")?,
                    active_count: count(row, "active_count")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_matched_literally() {
        assert_eq!(like_pattern("Ab_%"), "%ab\\_\\%%");
    }

    #[test]
    fn conditions_number_their_values_after_the_workspace() {
        let mut f = Filter::new("ws");
        f.and("program_type = {v}", Some("CPC".into()));
        f.and("removed_at IS NULL", None);
        f.and("(a LIKE {v} OR b LIKE {v})", Some("%x%".into()));
        assert_eq!(
            f.sql,
            "workspace_id = $1 AND program_type = $2 AND removed_at IS NULL AND (a LIKE $3 OR b LIKE $3)"
        );
        assert_eq!(f.values, ["ws", "CPC", "%x%"]);
    }

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("p{i}")).collect()
    }

    #[tokio::test]
    async fn many_asking_for_one_view_at_once_compute_it_once() {
        let cache = ListCache::default();
        let computations = AtomicU64::new(0);
        let ask = || {
            cache.get_or_compute("view".into(), 7, async {
                computations.fetch_add(1, Ordering::Relaxed);
                // Lets the other asks arrive while this one computes.
                tokio::task::yield_now().await;
                Ok(ids(3))
            })
        };
        let answers = futures::future::join_all((0..20).map(|_| ask())).await;
        assert_eq!(computations.load(Ordering::Relaxed), 1);
        for answer in answers {
            assert_eq!(*answer.unwrap(), ids(3));
        }
        assert_eq!(cache.hits.load(Ordering::Relaxed), 19);
        assert_eq!(cache.computed.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn a_view_is_answered_only_at_its_mirror_version() {
        let cache = ListCache::default();
        let first = cache
            .get_or_compute("view".into(), 1, async { Ok(ids(1)) })
            .await
            .unwrap();
        assert_eq!(*first, ids(1));
        let again = cache
            .get_or_compute("view".into(), 1, async { Ok(ids(9)) })
            .await
            .unwrap();
        assert_eq!(*again, ids(1), "same version: the kept view");
        let newer = cache
            .get_or_compute("view".into(), 2, async { Ok(ids(2)) })
            .await
            .unwrap();
        assert_eq!(*newer, ids(2), "another version: computed again");
        cache.views.run_pending_tasks().await;
        assert_eq!(
            cache.views.entry_count(),
            1,
            "the new version replaced the old"
        );
        let failed = cache
            .get_or_compute("view".into(), 3, async { Err(Error::Invalid("no".into())) })
            .await;
        assert!(failed.is_err());
        let kept = cache
            .get_or_compute("view".into(), 2, async { Ok(ids(5)) })
            .await
            .unwrap();
        assert_eq!(*kept, ids(2), "a failed computation keeps what was there");
    }

    #[tokio::test]
    async fn the_ids_held_stay_within_the_bound() {
        let cache = ListCache::holding(1_000);
        for i in 0..100 {
            cache
                .get_or_compute(format!("view {i}"), 1, async { Ok(ids(50)) })
                .await
                .unwrap();
        }
        cache.views.run_pending_tasks().await;
        let held = cache.views.weighted_size();
        assert!(held <= 1_000, "{held} ids held");
        assert!(held >= 500, "the cache is used: {held} ids held");
    }

    #[tokio::test]
    async fn the_cache_reports_its_figures_through_the_metrics_recorder() {
        let cache = ListCache::default();
        for version in [1, 1, 1, 2] {
            cache
                .get_or_compute("view".into(), version, async { Ok(ids(4)) })
                .await
                .unwrap();
        }
        cache.views.run_pending_tasks().await;
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        metrics::with_local_recorder(&recorder, || cache.report_metrics());
        let text = recorder.handle().render();
        for line in [
            "yelp_ads_list_view_lookups_total{outcome=\"hit\"} 2\n",
            "yelp_ads_list_view_lookups_total{outcome=\"computed\"} 2\n",
            "yelp_ads_list_view_ids 4\n",
            "yelp_ads_list_views 1\n",
            "# TYPE yelp_ads_list_view_ids gauge\n",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
    }

    #[test]
    fn unknown_sort_columns_name_the_choices() {
        let err = "password".parse::<SortColumn>().unwrap_err().to_string();
        assert!(err.contains("start_date"), "{err}");
    }
}
