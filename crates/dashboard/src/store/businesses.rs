//! What Yelp says of the workspace's businesses — name, address, closed, removed from search, migrated —
//! kept beside the mirror from Yelp's `business_info`, so that every screen can speak of businesses by
//! name without asking Yelp.

use std::collections::HashMap;

use sqlx::{FromRow, Row};
use yelp_partner_api::{BusinessId, BusinessInfo};

use super::programs::bump_mirror_version;
use super::{Store, markers};
use crate::error::Result;

/// Rows written per statement: 13 values each, well within both databases' limits on bound values.
const ROWS_PER_STATEMENT: usize = 200;

/// One business of a workspace as the dashboard knows it.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct BusinessProfile {
    /// Yelp's business id.
    pub business_id: String,
    /// The agency's own id for it, from the programs' listing.
    pub partner_business_id: Option<String>,
    /// Its name on Yelp, once `business_info` has answered for it.
    pub name: Option<String>,
    /// Its street lines, joined with ", ".
    pub address: Option<String>,
    /// Its city.
    pub city: Option<String>,
    /// Its state or region.
    pub state: Option<String>,
    /// Its postal code.
    pub zip: Option<String>,
    /// Whether Yelp says it is closed (`None`: not said).
    #[sqlx(try_from = "Option<i64>")]
    pub is_closed: OptionalFlag,
    /// Whether Yelp says it is removed from search (`None`: not said).
    #[sqlx(try_from = "Option<i64>")]
    pub is_removed_from_search: OptionalFlag,
    /// The business id Yelp moved it to.
    pub migrated_to: Option<String>,
    /// When `business_info` last answered for it (unix ms); `None`: never.
    pub info_at: Option<i64>,
}

/// A yes/no that Yelp may leave unsaid, stored as 0/1/NULL.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OptionalFlag(pub Option<bool>);

impl From<Option<i64>> for OptionalFlag {
    fn from(value: Option<i64>) -> Self {
        Self(value.map(|v| v != 0))
    }
}

impl BusinessProfile {
    /// Whether a program for it would be refused by Yelp (`BUSINESS_NOT_ACTIVE`): closed or removed from
    /// search.
    pub fn inactive_reason(&self) -> Option<&'static str> {
        if self.is_closed.0 == Some(true) {
            Some("the business is closed on Yelp")
        } else if self.is_removed_from_search.0 == Some(true) {
            Some("the business is removed from Yelp's search")
        } else {
            None
        }
    }

    /// Its name and city, as a person would say it: "Golden Gate Legal Pros, San Francisco".
    pub fn display_name(&self) -> Option<String> {
        let name = self.name.as_deref()?;
        Some(match self.city.as_deref() {
            Some(city) if !city.is_empty() => format!("{name}, {city}"),
            _ => name.to_owned(),
        })
    }
}

const PROFILE_COLUMNS: &str = "business_id, partner_business_id, name, address, city, state, zip, is_closed, \
     is_removed_from_search, migrated_to, info_at";

/// A name as the programs search compares it: lower case, without accents, spaces collapsed.
pub fn search_form(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    let folded: String = text
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Store {
    /// Businesses of the workspace that have programs in the mirror and whose info was never fetched, or
    /// was fetched before `stale_before` (unix ms), oldest first.
    pub async fn businesses_needing_info(
        &self,
        workspace_id: &str,
        stale_before: i64,
    ) -> Result<Vec<BusinessId>> {
        let rows = sqlx::query(
            "SELECT business_id FROM businesses WHERE workspace_id = $1 \
             AND (info_at IS NULL OR info_at < $2) ORDER BY COALESCE(info_at, 0), business_id",
        )
        .bind(workspace_id)
        .bind(stale_before)
        .fetch_all(&self.pool)
        .await?;
        let mut ids = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.try_get("business_id")?;
            // The listing wrote these ids from Yelp's own answers; one that is not a valid id can only be
            // skipped, as Yelp could not answer for it either.
            if let Ok(id) = id.parse() {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    /// Writes what `business_info` said of these businesses and marks the `missing` ones (Yelp did not
    /// know them) as asked, so that neither is asked again for a day. Only businesses the workspace already
    /// has are written. Returns how many businesses' names, addresses or flags changed; when any did and
    /// `bump_version` says so, the mirror version moves so that cached lists show the new names (a sync
    /// passes `false` and bumps it once at its end).
    pub async fn write_business_info(
        &self,
        workspace_id: &str,
        infos: &[BusinessInfo],
        missing: &[BusinessId],
        now: i64,
        bump_version: bool,
    ) -> Result<u64> {
        let mut tx = self.writer.begin().await?;
        let mut changed = 0;
        for chunk in infos.chunks(ROWS_PER_STATEMENT) {
            for info in chunk {
                let address = info.address.lines.join(", ");
                let result = sqlx::query(
                    "UPDATE businesses SET name = $1, search_name = $2, address = $3, city = $4, state = $5, \
                     zip = $6, is_closed = $7, is_removed_from_search = $8, migrated_to = $9, \
                     unknown_at_yelp = 0, info_at = $10, updated_at = $10 \
                     WHERE workspace_id = $11 AND business_id = $12 AND NOT ( \
                        name IS NOT DISTINCT FROM $1 AND address IS NOT DISTINCT FROM $3 \
                        AND city IS NOT DISTINCT FROM $4 AND state IS NOT DISTINCT FROM $5 \
                        AND zip IS NOT DISTINCT FROM $6 AND is_closed IS NOT DISTINCT FROM $7 \
                        AND is_removed_from_search IS NOT DISTINCT FROM $8 \
                        AND migrated_to IS NOT DISTINCT FROM $9 AND unknown_at_yelp = 0)",
                )
                .bind(&info.name)
                .bind(search_form(&info.name))
                .bind((!address.is_empty()).then_some(address))
                .bind(&info.address.city)
                .bind(&info.address.state)
                .bind(&info.address.zip)
                .bind(info.is_closed.map(i64::from))
                .bind(info.is_removed_from_search.map(i64::from))
                .bind(info.migrated_to().map(ToString::to_string))
                .bind(now)
                .bind(workspace_id)
                .bind(info.business_id.as_str())
                .execute(&mut *tx)
                .await?;
                changed += result.rows_affected();
            }
            // The unchanged ones were asked too: only their time moves.
            let sql = format!(
                "UPDATE businesses SET info_at = {} WHERE workspace_id = {} AND business_id IN ({})",
                markers(self.backend, 1, 1),
                markers(self.backend, 2, 1),
                markers(self.backend, 3, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(now).bind(workspace_id);
            for info in chunk {
                query = query.bind(info.business_id.as_str());
            }
            query.execute(&mut *tx).await?;
        }
        for chunk in missing.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "UPDATE businesses SET info_at = {}, unknown_at_yelp = 1 WHERE workspace_id = {} \
                 AND business_id IN ({})",
                markers(self.backend, 1, 1),
                markers(self.backend, 2, 1),
                markers(self.backend, 3, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(now).bind(workspace_id);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            query.execute(&mut *tx).await?;
        }
        if changed > 0 && bump_version {
            bump_mirror_version(&mut tx, workspace_id).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// One business of the workspace, when it has it.
    pub async fn business_profile(
        &self,
        workspace_id: &str,
        business_id: &str,
    ) -> Result<Option<BusinessProfile>> {
        let sql = format!(
            "SELECT {PROFILE_COLUMNS} FROM businesses WHERE workspace_id = $1 AND business_id = $2"
        );
        Ok(sqlx::query_as(&sql)
            .bind(workspace_id)
            .bind(business_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// What the workspace knows of these businesses, by business id (those it has no row for are left
    /// out): one query for every business a page names.
    pub async fn business_profiles_of(
        &self,
        workspace_id: &str,
        business_ids: &[&str],
    ) -> Result<HashMap<String, BusinessProfile>> {
        let mut ids: Vec<&str> = business_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT {PROFILE_COLUMNS} FROM businesses WHERE workspace_id = {} AND business_id IN ({})",
            markers(self.backend, 1, 1),
            markers(self.backend, 2, ids.len())
        );
        let mut query = sqlx::query_as::<_, BusinessProfile>(&sql).bind(workspace_id);
        for id in ids {
            query = query.bind(id);
        }
        let rows = query.fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|p| (p.business_id.clone(), p))
            .collect())
    }

    /// Every business of the workspace, by name (unnamed ones last, by id).
    pub async fn business_profiles(&self, workspace_id: &str) -> Result<Vec<BusinessProfile>> {
        let sql = format!(
            "SELECT {PROFILE_COLUMNS} FROM businesses WHERE workspace_id = $1 \
             ORDER BY name IS NULL, search_name, business_id"
        );
        Ok(sqlx::query_as(&sql)
            .bind(workspace_id)
            .fetch_all(&self.pool)
            .await?)
    }
}

/// What a businesses list is sorted by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BusinessSort {
    /// Name (unnamed ones last), the default.
    #[default]
    Name,
    /// City.
    City,
    /// Live programs.
    Programs,
    /// Total monthly budget of current CPC programs.
    Budget,
    /// Spend of the current period.
    Spend,
}

impl BusinessSort {
    /// Every sort by its name in a query string.
    pub const NAMES: [(&'static str, Self); 5] = [
        ("name", Self::Name),
        ("city", Self::City),
        ("programs", Self::Programs),
        ("budget", Self::Budget),
        ("spend", Self::Spend),
    ];

    /// The sort a query string names.
    pub fn parse(name: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| *s)
    }

    fn column(self) -> &'static str {
        match self {
            Self::Name => "b.search_name",
            Self::City => "LOWER(COALESCE(b.city, ''))",
            Self::Programs => "live_programs",
            Self::Budget => "current_cpc_budget_cents",
            Self::Spend => "spend_cents",
        }
    }
}

/// A page of the workspace's businesses asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusinessQuery {
    /// Part of a name (any case, accents or not), a business id or a partner business id.
    pub search: Option<String>,
    /// One business, by id.
    pub business_id: Option<String>,
    /// The order.
    pub sort: BusinessSort,
    /// Largest first.
    pub descending: bool,
    /// Rows skipped.
    pub offset: u64,
    /// Rows answered at the most.
    pub limit: u64,
    /// The day "current" is judged on.
    pub today: chrono::NaiveDate,
}

/// A business with what its programs add up to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusinessOverview {
    /// The business.
    pub profile: BusinessProfile,
    /// The name of the business it migrated to, when known.
    pub migrated_to_name: Option<String>,
    /// Its programs in the mirror (not removed).
    pub live_programs: u64,
    /// Those running now (active, started, not ended, not paused).
    pub current_programs: u64,
    /// Total monthly budget of its current CPC programs, in cents.
    pub current_cpc_budget_cents: i64,
    /// What its live programs cost in the current period, in cents.
    pub spend_cents: i64,
}

/// A page of businesses and how many match in all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusinessPage {
    /// The page.
    pub businesses: Vec<BusinessOverview>,
    /// Matches over all pages.
    pub total_count: u64,
}

/// Which of a workspace's programs count for a business, and those running now (`$2`: today).
const LIVE: &str = "p.workspace_id = $1 AND p.removed_at IS NULL";
const CURRENT: &str = "p.pause_status <> 'PAUSED' AND p.program_status = 'ACTIVE' \
     AND (p.start_date IS NULL OR p.start_date <= $2) AND (p.end_date IS NULL OR p.end_date >= $2)";

/// The per-business totals of the programs `programs_where` selects, as a subquery `t`.
fn totals_subquery(programs_where: &str) -> String {
    format!(
        "(SELECT p.business_id AS business_id, COUNT(*) AS live_programs, \
         CAST(SUM(CASE WHEN {CURRENT} THEN 1 ELSE 0 END) AS BIGINT) AS current_programs, \
         CAST(SUM(CASE WHEN {CURRENT} AND p.program_type = 'CPC' THEN COALESCE(p.budget_cents, 0) \
             ELSE 0 END) AS BIGINT) AS current_cpc_budget_cents, \
         CAST(SUM(COALESCE(p.ad_cost_cents, 0)) AS BIGINT) AS spend_cents \
         FROM programs p WHERE {programs_where} GROUP BY p.business_id) t"
    )
}

impl Store {
    /// A page of the workspace's businesses with their programs' counts, budget and spend.
    ///
    /// The order of every business the query matches is computed once per change of the mirror and kept
    /// (like a program list's view), so that paging, and many people on the same list, cost one query of
    /// 50 businesses' totals each rather than totals over every program.
    pub async fn businesses_page(
        &self,
        workspace_id: &str,
        q: &BusinessQuery,
    ) -> Result<BusinessPage> {
        let ids = self.business_view(workspace_id, q).await?;
        let start = usize::try_from(q.offset)
            .unwrap_or(usize::MAX)
            .min(ids.len());
        let end = start
            .saturating_add(usize::try_from(q.limit).unwrap_or(usize::MAX))
            .min(ids.len());
        let businesses = self
            .business_overviews(workspace_id, &ids[start..end], q.today)
            .await?;
        Ok(BusinessPage {
            businesses,
            total_count: ids.len() as u64,
        })
    }

    /// The ids of every business the query matches, in its order (offset and limit aside), cached at the
    /// mirror version.
    async fn business_view(
        &self,
        workspace_id: &str,
        q: &BusinessQuery,
    ) -> Result<std::sync::Arc<Vec<String>>> {
        let version = self.mirror_version(workspace_id).await?;
        let view = BusinessQuery {
            offset: 0,
            limit: 0,
            ..q.clone()
        };
        let key = format!("businesses\n{workspace_id}\n{view:?}");
        self.list_cache
            .get_or_compute(key, version, self.business_view_ids(workspace_id, q))
            .await
    }

    /// Every business id the query matches, in its order, from the database.
    async fn business_view_ids(
        &self,
        workspace_id: &str,
        q: &BusinessQuery,
    ) -> Result<Vec<String>> {
        // $1 the workspace, $2 today, $3 the search pattern or the business id when given.
        let mut wanted = String::from("b.workspace_id = $1");
        let mut third: Option<String> = None;
        if let Some(id) = &q.business_id {
            wanted.push_str(" AND b.business_id = $3");
            third = Some(id.clone());
        } else if let Some(text) = q.search.as_deref().filter(|t| !t.trim().is_empty()) {
            wanted.push_str(
                " AND (b.search_name LIKE $3 ESCAPE '\\' OR LOWER(b.business_id) LIKE $3 ESCAPE '\\' \
                 OR LOWER(COALESCE(b.partner_business_id, '')) LIKE $3 ESCAPE '\\')",
            );
            third = Some(super::listing::like_pattern(&search_form(text)));
        }
        let order = if q.descending { "DESC" } else { "ASC" };
        // Totals are computed only when the order needs them; `$2` is then bound in the subquery.
        let (totals, column) = match q.sort {
            BusinessSort::Name | BusinessSort::City => (String::new(), q.sort.column().to_owned()),
            other => (
                format!(
                    " LEFT JOIN {} ON t.business_id = b.business_id",
                    totals_subquery(LIVE)
                ),
                format!("COALESCE({}, 0)", other.column()),
            ),
        };
        let uses_today = !totals.is_empty();
        let sql = format!(
            "SELECT b.business_id FROM businesses b{totals} WHERE {} \
             ORDER BY (b.name IS NULL), {column} {order}, b.business_id",
            if uses_today {
                wanted.clone()
            } else {
                wanted.replace("$3", "$2")
            }
        );
        let mut query = sqlx::query_scalar::<_, String>(&sql).bind(workspace_id);
        if uses_today {
            query = query.bind(q.today.to_string());
        }
        if let Some(v) = &third {
            query = query.bind(v);
        }
        Ok(query.fetch_all(&self.pool).await?)
    }

    /// These businesses of the workspace with their totals, in the order of `ids`.
    async fn business_overviews(
        &self,
        workspace_id: &str,
        ids: &[String],
        today: chrono::NaiveDate,
    ) -> Result<Vec<BusinessOverview>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let profile_columns = PROFILE_COLUMNS
            .split(", ")
            .map(|c| format!("b.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        // Numbered markers on both databases: the list appears twice and `$1`, `$2` precede it.
        let list = (3..3 + ids.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {profile_columns}, d.name AS migrated_to_name, \
             COALESCE(t.live_programs, 0) AS live_programs, \
             COALESCE(t.current_programs, 0) AS current_programs, \
             COALESCE(t.current_cpc_budget_cents, 0) AS current_cpc_budget_cents, \
             COALESCE(t.spend_cents, 0) AS spend_cents \
             FROM businesses b \
             LEFT JOIN {} ON t.business_id = b.business_id \
             LEFT JOIN businesses d ON d.workspace_id = b.workspace_id AND d.business_id = b.migrated_to \
             WHERE b.workspace_id = $1 AND b.business_id IN ({list})",
            totals_subquery(&format!("{LIVE} AND p.business_id IN ({list})")),
        );
        let mut query = sqlx::query(&sql).bind(workspace_id).bind(today.to_string());
        for id in ids {
            query = query.bind(id);
        }
        let count = |row: &sqlx::any::AnyRow, column: &str| -> Result<i64> {
            Ok(row.try_get::<Option<i64>, _>(column)?.unwrap_or(0))
        };
        let mut found = HashMap::new();
        for row in query.fetch_all(&self.pool).await? {
            let overview = BusinessOverview {
                profile: BusinessProfile::from_row(&row)?,
                migrated_to_name: row.try_get("migrated_to_name")?,
                live_programs: u64::try_from(count(&row, "live_programs")?).unwrap_or(0),
                current_programs: u64::try_from(count(&row, "current_programs")?).unwrap_or(0),
                current_cpc_budget_cents: count(&row, "current_cpc_budget_cents")?,
                spend_cents: count(&row, "spend_cents")?,
            };
            found.insert(overview.profile.business_id.clone(), overview);
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::search_form;

    #[test]
    fn names_are_compared_without_case_accents_or_extra_spaces() {
        assert_eq!(search_form("  Café  Nô\u{e9}l "), "cafe noel");
        assert_eq!(search_form("GOLDEN Gate"), "golden gate");
        assert_eq!(search_form("Zürich Ärzte"), "zurich arzte");
    }
}
