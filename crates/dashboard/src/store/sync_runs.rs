//! Sync runs, their events, and the lease that keeps one sync of a workspace at a time across processes.

use sqlx::FromRow;

use super::{Store, UnknownValue};
use crate::error::Result;

/// How a sync run stands or ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunStatus {
    /// Under way.
    Running,
    /// Ended; something changed.
    Synced,
    /// Ended; nothing changed.
    UpToDate,
    /// Failed; the mirror keeps what was written.
    Error,
    /// Its process stopped before it ended.
    Interrupted,
}

impl RunStatus {
    /// Every status.
    pub const ALL: [RunStatus; 5] = [
        Self::Running,
        Self::Synced,
        Self::UpToDate,
        Self::Error,
        Self::Interrupted,
    ];

    /// The stored name, which clients read.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Synced => "synced",
            Self::UpToDate => "up_to_date",
            Self::Error => "error",
            Self::Interrupted => "interrupted",
        }
    }

    /// Whether the run ended with the mirror complete (synced or up to date).
    pub fn is_success(self) -> bool {
        match self {
            Self::Synced | Self::UpToDate => true,
            Self::Running | Self::Error | Self::Interrupted => false,
        }
    }
}

impl TryFrom<String> for RunStatus {
    type Error = UnknownValue;

    fn try_from(value: String) -> Result<Self, UnknownValue> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == value)
            .ok_or(UnknownValue {
                column: "sync run status",
                value,
            })
    }
}

impl serde::Serialize for RunStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A recorded sync run.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct SyncRun {
    /// Its id.
    pub id: String,
    /// The workspace synced.
    pub workspace_id: String,
    /// What started it: cli, page, button, api, schedule.
    pub trigger_kind: String,
    /// Who asked, when a person did.
    pub requested_by: Option<String>,
    /// When it started (unix ms).
    pub started_at: i64,
    /// When it ended (unix ms).
    pub finished_at: Option<i64>,
    /// How it stands or ended.
    #[sqlx(try_from = "String")]
    pub status: RunStatus,
    /// Programs Yelp reported.
    pub total_api: Option<i64>,
    /// Programs added.
    pub added: i64,
    /// Programs updated.
    pub updated: i64,
    /// Programs unchanged.
    pub unchanged: i64,
    /// Programs marked removed.
    pub removed: i64,
    /// Pages written.
    pub pages: i64,
    /// Pages that could not be fetched.
    pub pages_failed: i64,
    /// Why it failed.
    pub error: Option<String>,
    /// Pages in flight at once that the run's adaptive window settled on.
    pub settled_window: Option<i64>,
    /// Programs per page it listed with.
    pub page_size: Option<i64>,
    /// Businesses whose name, address or status changed in its enrichment phase.
    pub businesses_updated: Option<i64>,
}

/// The counts a run ends with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunCounts {
    /// Programs Yelp reported.
    pub total_api: Option<u64>,
    /// Programs added (restored ones included).
    pub added: u64,
    /// Programs updated.
    pub updated: u64,
    /// Programs unchanged.
    pub unchanged: u64,
    /// Programs marked removed.
    pub removed: u64,
    /// Pages written.
    pub pages: u64,
    /// Pages that could not be fetched.
    pub pages_failed: u64,
    /// Pages in flight at once that the adaptive window settled on, once listing began.
    pub settled_window: Option<u64>,
    /// Programs per page listed with, once listing began.
    pub page_size: Option<u64>,
    /// Businesses whose name, address or status changed, once the enrichment phase ran.
    pub businesses_updated: Option<u64>,
}

/// Who holds a workspace's sync lease.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct SyncLease {
    /// The run it is held for.
    pub run_id: String,
    /// The instance running it.
    pub holder: String,
    /// When it runs out unless renewed (unix ms).
    pub expires_at: i64,
}

const RUN_COLUMNS: &str = "id, workspace_id, trigger_kind, requested_by, started_at, finished_at, status, \
    total_api, added, updated, unchanged, removed, pages, pages_failed, error, settled_window, page_size, businesses_updated";

fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Store {
    /// Records a run that is starting.
    pub async fn insert_sync_run(
        &self,
        id: &str,
        workspace_id: &str,
        trigger: &str,
        requested_by: Option<&str>,
        instance_id: &str,
        started_at: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sync_runs (id, workspace_id, trigger_kind, requested_by, instance_id, started_at, status) \
             VALUES ($1, $2, $3, $4, $5, $6, 'running')",
        )
        .bind(id)
        .bind(workspace_id)
        .bind(trigger)
        .bind(requested_by)
        .bind(instance_id)
        .bind(started_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Records how a run ended.
    pub async fn finish_sync_run(
        &self,
        id: &str,
        status: RunStatus,
        counts: &RunCounts,
        error: Option<&str>,
        finished_at: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE sync_runs SET status = $1, finished_at = $2, total_api = $3, added = $4, updated = $5, \
             unchanged = $6, removed = $7, pages = $8, pages_failed = $9, error = $10, settled_window = $11, \
             page_size = $12, businesses_updated = $13 WHERE id = $14",
        )
        .bind(status.as_str())
        .bind(finished_at)
        .bind(counts.total_api.map(int))
        .bind(int(counts.added))
        .bind(int(counts.updated))
        .bind(int(counts.unchanged))
        .bind(int(counts.removed))
        .bind(int(counts.pages))
        .bind(int(counts.pages_failed))
        .bind(error)
        .bind(counts.settled_window.map(int))
        .bind(counts.page_size.map(int))
        .bind(counts.businesses_updated.map(int))
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The page size the workspace's syncs use, when Yelp refused the default one.
    pub async fn sync_page_size(&self, workspace_id: &str) -> Result<Option<u32>> {
        let size: Option<Option<i64>> =
            sqlx::query_scalar("SELECT sync_page_size FROM workspaces WHERE id = $1")
                .bind(workspace_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(size.flatten().and_then(|n| u32::try_from(n).ok()))
    }

    /// Remembers the page size Yelp accepts for the workspace's syncs.
    pub async fn set_sync_page_size(&self, workspace_id: &str, page_size: u32) -> Result<()> {
        sqlx::query("UPDATE workspaces SET sync_page_size = $1 WHERE id = $2")
            .bind(i64::from(page_size))
            .bind(workspace_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Appends an event (JSON) to a run's log.
    pub async fn append_sync_event(&self, run_id: &str, seq: u64, event: &str) -> Result<()> {
        sqlx::query("INSERT INTO sync_events (run_id, seq, event) VALUES ($1, $2, $3)")
            .bind(run_id)
            .bind(int(seq))
            .bind(event)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// A run's events after `after_seq`, in order.
    pub async fn sync_events(&self, run_id: &str, after_seq: u64) -> Result<Vec<(u64, String)>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, event FROM sync_events WHERE run_id = $1 AND seq > $2 ORDER BY seq",
        )
        .bind(run_id)
        .bind(int(after_seq))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(seq, e)| (u64::try_from(seq).unwrap_or(0), e))
            .collect())
    }

    /// One run of the workspace.
    pub async fn sync_run(&self, workspace_id: &str, run_id: &str) -> Result<Option<SyncRun>> {
        let sql =
            format!("SELECT {RUN_COLUMNS} FROM sync_runs WHERE workspace_id = $1 AND id = $2");
        Ok(sqlx::query_as(&sql)
            .bind(workspace_id)
            .bind(run_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The workspace's most recent runs, newest first.
    pub async fn recent_sync_runs(&self, workspace_id: &str, limit: u32) -> Result<Vec<SyncRun>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM sync_runs WHERE workspace_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2"
        );
        Ok(sqlx::query_as(&sql)
            .bind(workspace_id)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?)
    }

    /// Takes the workspace's sync lease for `run_id` if nobody holds a live one. The unique key decides, so
    /// two processes racing cannot both win.
    pub async fn claim_sync_lease(
        &self,
        workspace_id: &str,
        run_id: &str,
        holder: &str,
        now: i64,
        ttl_ms: i64,
    ) -> Result<bool> {
        let claimed = sqlx::query(
            "INSERT INTO sync_leases (workspace_id, run_id, holder, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (workspace_id) DO UPDATE SET run_id = excluded.run_id, holder = excluded.holder, \
             expires_at = excluded.expires_at WHERE sync_leases.expires_at < $5",
        )
        .bind(workspace_id)
        .bind(run_id)
        .bind(holder)
        .bind(now + ttl_ms)
        .bind(now)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(claimed == 1)
    }

    /// Extends a held lease; `false` if it was lost (expired and taken by another run).
    pub async fn renew_sync_lease(
        &self,
        workspace_id: &str,
        run_id: &str,
        now: i64,
        ttl_ms: i64,
    ) -> Result<bool> {
        let renewed = sqlx::query(
            "UPDATE sync_leases SET expires_at = $1 WHERE workspace_id = $2 AND run_id = $3",
        )
        .bind(now + ttl_ms)
        .bind(workspace_id)
        .bind(run_id)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(renewed == 1)
    }

    /// Gives a lease back.
    pub async fn release_sync_lease(&self, workspace_id: &str, run_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM sync_leases WHERE workspace_id = $1 AND run_id = $2")
            .bind(workspace_id)
            .bind(run_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The workspace's sync lease, whether live or expired; `None` when nobody holds one.
    pub async fn sync_lease(&self, workspace_id: &str) -> Result<Option<SyncLease>> {
        Ok(sqlx::query_as(
            "SELECT run_id, holder, expires_at FROM sync_leases WHERE workspace_id = $1",
        )
        .bind(workspace_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Marks one run of the workspace interrupted if it is still recorded as running: the instance running
    /// it stopped (its lease ran out without a final event). Answers whether this call marked it.
    pub async fn interrupt_sync_run(
        &self,
        workspace_id: &str,
        run_id: &str,
        now: i64,
    ) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE sync_runs SET status = 'interrupted', finished_at = $1, \
             error = 'the process running this sync stopped before it ended' \
             WHERE workspace_id = $2 AND id = $3 AND status = 'running'",
        )
        .bind(now)
        .bind(workspace_id)
        .bind(run_id)
        .execute(&self.writer)
        .await?
        .rows_affected()
            == 1)
    }

    /// Marks the workspace's runs still recorded as running, other than `current`, as interrupted: their
    /// process died (the caller holds the lease, so none of them is alive).
    pub async fn interrupt_stale_sync_runs(
        &self,
        workspace_id: &str,
        current: &str,
        now: i64,
    ) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE sync_runs SET status = 'interrupted', finished_at = $1, \
             error = 'the process running this sync stopped before it ended' \
             WHERE workspace_id = $2 AND status = 'running' AND id <> $3",
        )
        .bind(now)
        .bind(workspace_id)
        .bind(current)
        .execute(&self.writer)
        .await?
        .rows_affected())
    }
}

/// Runs of one status, over all workspaces, for metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunStats {
    /// running, synced, up_to_date, error or interrupted.
    pub status: String,
    /// How many runs.
    pub count: u64,
    /// Their summed duration (finished runs), in milliseconds.
    pub total_duration_ms: u64,
}

impl Store {
    /// How many runs ended each way, and how long they took in all.
    pub async fn sync_run_stats(&self) -> Result<Vec<RunStats>> {
        let rows: Vec<(String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT status, COUNT(*), CAST(SUM(finished_at - started_at) AS BIGINT) FROM sync_runs \
             GROUP BY status ORDER BY status",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(status, count, total)| RunStats {
                status,
                count: u64::try_from(count).unwrap_or(0),
                total_duration_ms: u64::try_from(total.unwrap_or(0)).unwrap_or(0),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_read_back_as_the_same_run_status() {
        for status in RunStatus::ALL {
            assert_eq!(
                RunStatus::try_from(status.as_str().to_owned()).ok(),
                Some(status)
            );
        }
        assert!(RunStatus::try_from("done".to_owned()).is_err());
    }
}
