//! What people call programs beside Yelp's ids: the business's name (from `businesses`) and a program's
//! own label, kept here as Yelp has no name field for a program.

use std::collections::HashMap;

use sqlx::{FromRow, Row};

use super::programs::{STORED_COLUMNS, bump_mirror_version};
use super::{Store, StoredProgram, markers};
use crate::error::{Error, Result};

/// The longest label accepted, in characters.
pub const MAX_CUSTOM_NAME_CHARS: usize = 100;

/// A label as typed, trimmed, checked; `None` (empty) clears it.
pub fn custom_name(raw: Option<&str>) -> Result<Option<String>> {
    let Some(name) = raw.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > MAX_CUSTOM_NAME_CHARS {
        return Err(Error::field(
            "custom_name",
            format!("custom_name must be at most {MAX_CUSTOM_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::field(
            "custom_name",
            "custom_name must be one line of text, without control characters",
        ));
    }
    Ok(Some(name.to_owned()))
}

/// The names of one program, when known.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProgramLabels {
    /// Its business's name.
    pub business_name: Option<String>,
    /// Its own label, set by a user.
    pub custom_name: Option<String>,
}

/// Ids looked up per statement: well within both databases' limits on bound values.
const IDS_PER_QUERY: usize = 500;

/// The joins that bring the names of `programs p`.
const NAME_JOINS: &str = "LEFT JOIN businesses b ON b.workspace_id = p.workspace_id AND b.business_id = p.business_id \
     LEFT JOIN program_labels l ON l.workspace_id = p.workspace_id AND l.program_id = p.program_id";

/// What an export shows of one program: the mirror's columns and the names.
#[derive(Clone, Debug, FromRow)]
pub struct ExportRow {
    /// Yelp's id.
    pub program_id: String,
    /// Its own label.
    pub custom_name: Option<String>,
    /// The type.
    pub program_type: String,
    /// Its business.
    pub business_id: Option<String>,
    /// The business's name.
    pub business_name: Option<String>,
    /// The partner's id of the business.
    pub partner_business_id: Option<String>,
    /// ACTIVE or INACTIVE.
    pub program_status: String,
    /// PAUSED or NOT_PAUSED.
    pub pause_status: String,
    /// First day.
    pub start_date: Option<String>,
    /// Last day.
    pub end_date: Option<String>,
    /// Monthly budget.
    pub budget_cents: Option<i64>,
    /// 1 when Yelp sets the bid.
    pub is_autobid: Option<i64>,
    /// Maximum bid.
    pub max_bid_cents: Option<i64>,
    /// Spend this period.
    pub ad_cost_cents: Option<i64>,
    /// Clicks this period.
    pub billed_clicks: Option<i64>,
    /// Impressions this period.
    pub billed_impressions: Option<i64>,
    /// When Yelp's listing stopped holding it.
    pub removed_at: Option<i64>,
}

/// A program row with its names.
#[derive(FromRow)]
struct LabeledRow {
    #[sqlx(flatten)]
    program: StoredProgram,
    business_name: Option<String>,
    custom_name: Option<String>,
}

impl Store {
    /// The names known for these programs of the workspace, by program id; programs with neither name are
    /// left out.
    pub async fn program_labels(
        &self,
        workspace_id: &str,
        program_ids: &[String],
    ) -> Result<HashMap<String, ProgramLabels>> {
        let mut labels = HashMap::new();
        for ids in program_ids.chunks(IDS_PER_QUERY) {
            let sql = format!(
                "SELECT p.program_id AS program_id, b.name AS business_name, l.custom_name AS custom_name \
                 FROM programs p {NAME_JOINS} WHERE p.workspace_id = {} AND p.program_id IN ({}) \
                 AND (b.name IS NOT NULL OR l.custom_name IS NOT NULL)",
                markers(self.backend, 1, 1),
                markers(self.backend, 2, ids.len())
            );
            let mut query = sqlx::query(&sql).bind(workspace_id);
            for id in ids {
                query = query.bind(id);
            }
            for row in query.fetch_all(&self.pool).await? {
                labels.insert(
                    row.try_get("program_id")?,
                    ProgramLabels {
                        business_name: row.try_get("business_name")?,
                        custom_name: row.try_get("custom_name")?,
                    },
                );
            }
        }
        Ok(labels)
    }

    /// The workspace's programs with these ids (at most a few hundred), each with its names, in the
    /// order of `ids` (ids it does not have are left out): one statement where a list and its names would
    /// be two.
    pub async fn labeled_programs_in_order(
        &self,
        workspace_id: &str,
        ids: &[String],
    ) -> Result<Vec<(StoredProgram, ProgramLabels)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let columns: Vec<String> = STORED_COLUMNS
            .split(", ")
            .map(|c| format!("p.{c} AS {c}"))
            .collect();
        let sql = format!(
            "SELECT {}, b.name AS business_name, l.custom_name AS custom_name FROM programs p {NAME_JOINS} \
             WHERE p.workspace_id = {} AND p.program_id IN ({})",
            columns.join(", "),
            markers(self.backend, 1, 1),
            markers(self.backend, 2, ids.len())
        );
        let mut query = sqlx::query_as::<_, LabeledRow>(&sql).bind(workspace_id);
        for id in ids {
            query = query.bind(id);
        }
        let mut rows: HashMap<String, LabeledRow> = query
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|row| (row.program.program_id.clone(), row))
            .collect();
        Ok(ids
            .iter()
            .filter_map(|id| rows.remove(id))
            .map(|row| {
                let labels = ProgramLabels {
                    business_name: row.business_name,
                    custom_name: row.custom_name,
                };
                (row.program, labels)
            })
            .collect())
    }

    /// The columns an export shows of these programs of the workspace, with their names, in the order of
    /// `ids` (ids it does not have are left out): the mirror's columns only, not Yelp's object.
    pub async fn export_rows_in_order(
        &self,
        workspace_id: &str,
        ids: &[String],
    ) -> Result<Vec<ExportRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT p.program_id AS program_id, l.custom_name AS custom_name, p.program_type AS program_type, \
             p.business_id AS business_id, b.name AS business_name, \
             p.partner_business_id AS partner_business_id, p.program_status AS program_status, \
             p.pause_status AS pause_status, p.start_date AS start_date, p.end_date AS end_date, \
             p.budget_cents AS budget_cents, p.is_autobid AS is_autobid, p.max_bid_cents AS max_bid_cents, \
             p.ad_cost_cents AS ad_cost_cents, p.billed_clicks AS billed_clicks, \
             p.billed_impressions AS billed_impressions, p.removed_at AS removed_at \
             FROM programs p {NAME_JOINS} WHERE p.workspace_id = {} AND p.program_id IN ({})",
            markers(self.backend, 1, 1),
            markers(self.backend, 2, ids.len())
        );
        let mut query = sqlx::query_as::<_, ExportRow>(&sql).bind(workspace_id);
        for id in ids {
            query = query.bind(id);
        }
        let mut rows: HashMap<String, ExportRow> = query
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|row| (row.program_id.clone(), row))
            .collect();
        Ok(ids.iter().filter_map(|id| rows.remove(id)).collect())
    }

    /// Sets (or, with `None`, clears) the label of a program of the workspace, and marks the mirror changed
    /// in the same transaction so that cached lists show it at once. `NotFound` unless the workspace has the
    /// program.
    pub async fn set_custom_name(
        &self,
        workspace_id: &str,
        program_id: &str,
        custom_name: Option<&str>,
        username: &str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let known: Option<String> = sqlx::query_scalar(
            "SELECT program_id FROM programs WHERE workspace_id = $1 AND program_id = $2",
        )
        .bind(workspace_id)
        .bind(program_id)
        .fetch_optional(&mut *tx)
        .await?;
        if known.is_none() {
            return Err(Error::NotFound(format!("program {program_id}")));
        }
        match custom_name {
            Some(name) => {
                sqlx::query(
                    "INSERT INTO program_labels \
                     (workspace_id, program_id, custom_name, updated_at, updated_by, search_name) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (workspace_id, program_id) DO UPDATE \
                     SET custom_name = excluded.custom_name, updated_at = excluded.updated_at, \
                     updated_by = excluded.updated_by, search_name = excluded.search_name",
                )
                .bind(workspace_id)
                .bind(program_id)
                .bind(name)
                .bind(now)
                .bind(username)
                .bind(super::search_form(name))
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query(
                    "DELETE FROM program_labels WHERE workspace_id = $1 AND program_id = $2",
                )
                .bind(workspace_id)
                .bind(program_id)
                .execute(&mut *tx)
                .await?;
            }
        }
        bump_mirror_version(&mut tx, workspace_id).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_trimmed_bounded_and_one_line() {
        assert_eq!(
            custom_name(Some("  Spring push ")).unwrap().as_deref(),
            Some("Spring push")
        );
        assert_eq!(custom_name(Some("   ")).unwrap(), None);
        assert_eq!(custom_name(None).unwrap(), None);
        let long = "x".repeat(MAX_CUSTOM_NAME_CHARS + 1);
        for bad in [long.as_str(), "two\nlines"] {
            match custom_name(Some(bad)) {
                Err(Error::InvalidField { field, .. }) => assert_eq!(field, "custom_name"),
                other => panic!("{other:?}"),
            }
        }
        assert!(
            custom_name(Some(&"é".repeat(MAX_CUSTOM_NAME_CHARS))).is_ok(),
            "characters, not bytes"
        );
    }
}
