//! What Yelp says of the workspace's businesses — name, address, closed, removed from search, migrated —
//! kept beside the mirror from Yelp's `business_info`, so that every screen can speak of businesses by
//! name without asking Yelp.

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
