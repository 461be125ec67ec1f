//! Reports of Yelp's Reporting API v3 as a workspace asked for them, and where each stands. One row a
//! distinct request (its `request_key`), so that of two identical requests at once one asks Yelp and the
//! other reads its answer, and a ready report is answered from here for good.

use sqlx::FromRow;

use super::{Store, is_unique_violation};
use crate::error::{Error, Result};

/// Where a stored report stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportState {
    /// Stored before Yelp is asked: the request is on its way.
    Requesting,
    /// Yelp took it and is making it.
    Requested,
    /// Made; its rows are stored.
    Ready,
    /// Yelp could not make it, or would not take it; an identical request asks again.
    Failed,
}

impl ReportState {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requesting => "requesting",
            Self::Requested => "requested",
            Self::Ready => "ready",
            Self::Failed => "failed",
        }
    }
}

impl TryFrom<String> for ReportState {
    type Error = Error;

    fn try_from(text: String) -> Result<Self> {
        [Self::Requesting, Self::Requested, Self::Ready, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| Error::Internal(format!("a report in an unknown state: {text}")))
    }
}

/// A report as stored.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct StoredReport {
    /// Ours.
    pub id: String,
    /// `daily` or `monthly`.
    pub granularity: String,
    /// First day (`YYYY-MM-DD`) or month (`YYYY-MM`).
    pub start_date: String,
    /// Last day or month.
    pub end_date: String,
    /// Comma-separated, sorted.
    pub business_ids: String,
    /// Comma-separated, sorted.
    pub metrics: String,
    /// Where it stands.
    #[sqlx(try_from = "String")]
    pub state: ReportState,
    /// Yelp's id, once Yelp took it.
    pub yelp_report_id: Option<String>,
    /// Who asked first.
    pub requested_by: Option<String>,
    /// When it was asked for (unix ms).
    pub requested_at: i64,
    /// When Yelp was last asked how it stands.
    pub checked_at: Option<i64>,
    /// When it was found ready.
    pub ready_at: Option<i64>,
    /// Its rows as JSON, once ready.
    pub rows_json: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
}

const REPORT_COLUMNS: &str = "id, granularity, start_date, end_date, business_ids, metrics, state, \
    yelp_report_id, requested_by, requested_at, checked_at, ready_at, rows_json, error";

/// A report to store before Yelp is asked.
#[derive(Clone, Debug)]
pub struct NewReport<'a> {
    /// SHA-256 of the canonical request.
    pub request_key: &'a str,
    /// `daily` or `monthly`.
    pub granularity: &'a str,
    /// First day or month.
    pub start_date: &'a str,
    /// Last day or month.
    pub end_date: &'a str,
    /// Comma-separated, sorted.
    pub business_ids: &'a str,
    /// Comma-separated, sorted.
    pub metrics: &'a str,
    /// Who asks.
    pub requested_by: &'a str,
}

/// The workspace's Reporting API settings; the key sealed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportingSettings {
    /// The API's root, when not Yelp's own.
    pub base_url: Option<String>,
    /// The Fusion API key, sealed.
    pub key_enc: Option<String>,
}

impl Store {
    /// The report of this request, if the workspace asked for it before.
    pub async fn report_by_request(
        &self,
        workspace_id: &str,
        request_key: &str,
    ) -> Result<Option<StoredReport>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE workspace_id = $1 AND request_key = $2"
        ))
        .bind(workspace_id)
        .bind(request_key)
        .fetch_optional(&self.writer)
        .await?)
    }

    /// One of the workspace's reports.
    pub async fn report(&self, workspace_id: &str, id: &str) -> Result<StoredReport> {
        sqlx::query_as(&format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE workspace_id = $1 AND id = $2"
        ))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| Error::NotFound(format!("report {id}")))
    }

    /// The workspace's reports of this granularity, newest first.
    pub async fn reports(
        &self,
        workspace_id: &str,
        granularity: &str,
        limit: u32,
    ) -> Result<Vec<StoredReport>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE workspace_id = $1 AND granularity = $2 \
             ORDER BY requested_at DESC, id DESC LIMIT $3"
        ))
        .bind(workspace_id)
        .bind(granularity)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Stores a new report as `requesting` and answers it; `None` when an identical request was stored
    /// first (read it with [`Store::report_by_request`]).
    pub async fn insert_report(
        &self,
        workspace_id: &str,
        id: &str,
        report: &NewReport<'_>,
        now: i64,
    ) -> Result<bool> {
        let inserted = sqlx::query(
            "INSERT INTO reports (id, workspace_id, request_key, granularity, start_date, end_date, \
             business_ids, metrics, state, requested_by, requested_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id)
        .bind(workspace_id)
        .bind(report.request_key)
        .bind(report.granularity)
        .bind(report.start_date)
        .bind(report.end_date)
        .bind(report.business_ids)
        .bind(report.metrics)
        .bind(ReportState::Requesting.as_str())
        .bind(report.requested_by)
        .bind(now)
        .execute(&self.writer)
        .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Moves a report from `from` to `requesting` again, for a new attempt; answers whether this caller
    /// won it (of two at once, one does).
    pub async fn retry_report(
        &self,
        workspace_id: &str,
        id: &str,
        from: ReportState,
        requested_by: &str,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE reports SET state = $1, yelp_report_id = NULL, error = NULL, checked_at = NULL, \
             requested_by = $2, requested_at = $3 WHERE workspace_id = $4 AND id = $5 AND state = $6",
        )
        .bind(ReportState::Requesting.as_str())
        .bind(requested_by)
        .bind(now)
        .bind(workspace_id)
        .bind(id)
        .bind(from.as_str())
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that Yelp took the report under `yelp_report_id`.
    pub async fn report_requested(
        &self,
        workspace_id: &str,
        id: &str,
        yelp_report_id: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE reports SET state = $1, yelp_report_id = $2, checked_at = $3 \
             WHERE workspace_id = $4 AND id = $5",
        )
        .bind(ReportState::Requested.as_str())
        .bind(yelp_report_id)
        .bind(now)
        .bind(workspace_id)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Records that Yelp was asked how the report stands and it is not made yet.
    pub async fn report_checked(&self, workspace_id: &str, id: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE reports SET checked_at = $1 WHERE workspace_id = $2 AND id = $3")
            .bind(now)
            .bind(workspace_id)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Stores a made report's rows; a ready report never changes again.
    pub async fn report_ready(
        &self,
        workspace_id: &str,
        id: &str,
        rows_json: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE reports SET state = $1, rows_json = $2, ready_at = $3, checked_at = $3 \
             WHERE workspace_id = $4 AND id = $5 AND state <> $1",
        )
        .bind(ReportState::Ready.as_str())
        .bind(rows_json)
        .bind(now)
        .bind(workspace_id)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Records why a report failed.
    pub async fn report_failed(
        &self,
        workspace_id: &str,
        id: &str,
        error: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE reports SET state = $1, error = $2, checked_at = $3 \
             WHERE workspace_id = $4 AND id = $5 AND state <> $6",
        )
        .bind(ReportState::Failed.as_str())
        .bind(error)
        .bind(now)
        .bind(workspace_id)
        .bind(id)
        .bind(ReportState::Ready.as_str())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The workspace's Reporting API settings.
    pub async fn reporting_settings(&self, workspace_id: &str) -> Result<ReportingSettings> {
        let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT reporting_base_url, reporting_key_enc FROM workspaces WHERE id = $1",
        )
        .bind(workspace_id)
        .fetch_optional(&self.pool)
        .await?;
        let (base_url, key_enc) =
            row.ok_or_else(|| Error::NotFound(format!("workspace {workspace_id}")))?;
        Ok(ReportingSettings { base_url, key_enc })
    }

    /// Stores the workspace's Reporting API settings.
    pub async fn set_reporting_settings(
        &self,
        workspace_id: &str,
        settings: &ReportingSettings,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE workspaces SET reporting_base_url = $1, reporting_key_enc = $2 WHERE id = $3",
        )
        .bind(&settings.base_url)
        .bind(&settings.key_enc)
        .bind(workspace_id)
        .execute(&self.writer)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound(format!("workspace {workspace_id}")));
        }
        Ok(())
    }
}
