//! What the sync schedule reads before it starts a run: when the workspace was last synced, and whether a
//! run holds its lease now (in any instance).

use super::Store;
use crate::error::Result;

/// A workspace's sync activity, as the schedule sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncActivity {
    /// When its latest run started (unix ms), whatever started it and however it ended.
    pub last_started_at: Option<i64>,
    /// Whether a run holds the workspace's lease and the lease has not expired.
    pub lease_live: bool,
}

impl Store {
    /// The workspace's sync activity at `now` (unix ms).
    pub async fn sync_activity(&self, workspace_id: &str, now: i64) -> Result<SyncActivity> {
        let last_started_at: Option<i64> =
            sqlx::query_scalar("SELECT MAX(started_at) FROM sync_runs WHERE workspace_id = $1")
                .bind(workspace_id)
                .fetch_one(&self.pool)
                .await?;
        let leases: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sync_leases WHERE workspace_id = $1 AND expires_at >= $2",
        )
        .bind(workspace_id)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(SyncActivity {
            last_started_at,
            lease_live: leases > 0,
        })
    }
}
