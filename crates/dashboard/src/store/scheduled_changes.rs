//! Scheduled changes: a change set and the time to post it.

use sqlx::FromRow;

use super::Store;
use super::jobs::{Lease, stored_enum};
use crate::error::Result;

stored_enum! {
    /// Where a scheduled change stands.
    pub enum ScheduleState in "schedule state" {
        /// Waiting for its time.
        Scheduled = "scheduled",
        /// Claimed by an instance that is firing it.
        Firing = "firing",
        /// Its change set was posted.
        Fired = "fired",
        /// Nothing of it applied any more when it came due (the outcome says why).
        Skipped = "skipped",
        /// It came due while no instance ran, longer ago than the grace.
        Missed = "missed",
        /// Cancelled before its time.
        Cancelled = "cancelled",
    }
}

/// A scheduled change as stored.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct ScheduleRecord {
    /// Its id.
    pub id: String,
    /// The workspace.
    pub workspace_id: String,
    /// Who scheduled it.
    pub user_id: Option<String>,
    /// Their username then.
    pub username: Option<String>,
    /// The change set it posts.
    pub change_set_id: String,
    /// What it does, in words.
    pub description: String,
    /// When (unix ms, UTC).
    pub due_at: i64,
    /// For the resume that ends a pause window: the pause's schedule.
    pub window_of: Option<String>,
    /// Where it stands.
    #[sqlx(try_from = "String")]
    pub state: ScheduleState,
    /// Why it was skipped or missed.
    pub outcome: Option<String>,
    /// When it fired (unix ms).
    pub fired_at: Option<i64>,
    /// How long after its time it fired (ms).
    pub late_ms: Option<i64>,
    /// Made (unix ms).
    pub created_at: i64,
    /// Last changed (unix ms).
    pub updated_at: i64,
}

/// The workspace's recently missed scheduled changes, for the alert every page shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MissedSchedules {
    /// How many.
    pub count: i64,
    /// When the latest of them was due (unix ms).
    pub last_due_at: Option<i64>,
}

const COLUMNS: &str = "id, workspace_id, user_id, username, change_set_id, description, due_at, \
    window_of, state, outcome, fired_at, late_ms, created_at, updated_at";

impl Store {
    /// Records a scheduled change.
    pub async fn insert_schedule(&self, s: &ScheduleRecord) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO scheduled_changes ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(&s.id)
        .bind(&s.workspace_id)
        .bind(&s.user_id)
        .bind(&s.username)
        .bind(&s.change_set_id)
        .bind(&s.description)
        .bind(s.due_at)
        .bind(&s.window_of)
        .bind(s.state.as_str())
        .bind(&s.outcome)
        .bind(s.fired_at)
        .bind(s.late_ms)
        .bind(s.created_at)
        .bind(s.updated_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// A scheduled change of the workspace.
    pub async fn schedule(&self, workspace_id: &str, id: &str) -> Result<Option<ScheduleRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM scheduled_changes WHERE workspace_id = $1 AND id = $2"
        ))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The workspace's scheduled changes: those not fired yet by time, then the others newest first.
    pub async fn schedules(&self, workspace_id: &str, limit: u32) -> Result<Vec<ScheduleRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM scheduled_changes WHERE workspace_id = $1 \
             ORDER BY CASE WHEN state IN ('scheduled', 'firing') THEN 0 ELSE 1 END, \
             CASE WHEN state IN ('scheduled', 'firing') THEN due_at ELSE -due_at END LIMIT $2"
        ))
        .bind(workspace_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    /// The schedule that ends the pause window of `pause_id`, if any.
    pub async fn window_end(&self, pause_id: &str) -> Result<Option<ScheduleRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM scheduled_changes WHERE window_of = $1"
        ))
        .bind(pause_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// How many of the workspace's scheduled changes were missed at or after `since` (unix ms), and when
    /// the latest of them was due.
    pub async fn missed_schedules_since(
        &self,
        workspace_id: &str,
        since: i64,
    ) -> Result<MissedSchedules> {
        let (count, last_due_at): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MAX(due_at) FROM scheduled_changes WHERE workspace_id = $1 \
             AND state = 'missed' AND updated_at >= $2",
        )
        .bind(workspace_id)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok(MissedSchedules { count, last_due_at })
    }

    /// Moves a schedule from `scheduled` to `to` (cancel, a new time); `false` when it is not scheduled
    /// any more.
    pub async fn update_scheduled(
        &self,
        workspace_id: &str,
        id: &str,
        to: ScheduleState,
        due_at: Option<i64>,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE scheduled_changes SET state = $1, due_at = COALESCE($2, due_at), updated_at = $3 \
             WHERE workspace_id = $4 AND id = $5 AND state = 'scheduled'",
        )
        .bind(to.as_str())
        .bind(due_at)
        .bind(now)
        .bind(workspace_id)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Moves a pause (`pause_id`, to `at`) and the end of its window (`end_id`, to `until`) together: both
    /// or neither, and only while both are still `scheduled`; `false` when either is not any more.
    pub async fn move_window(
        &self,
        workspace_id: &str,
        (pause_id, at): (&str, i64),
        (end_id, until): (&str, i64),
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        for (id, due_at) in [(pause_id, at), (end_id, until)] {
            let done = sqlx::query(
                "UPDATE scheduled_changes SET due_at = $1, updated_at = $2 \
                 WHERE workspace_id = $3 AND id = $4 AND state = 'scheduled'",
            )
            .bind(due_at)
            .bind(now)
            .bind(workspace_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                tx.rollback().await?;
                return Ok(false);
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Claims up to `limit` schedules due at `now` (or being fired by an instance whose lease ran out) for
    /// `owner` until `lease_until`. Of two instances racing for one, the conditional update picks one.
    pub async fn claim_due_schedules(
        &self,
        owner: &str,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> Result<Vec<ScheduleRecord>> {
        let candidates: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM scheduled_changes WHERE (state = 'scheduled' AND due_at <= $1) \
             OR (state = 'firing' AND lease_expires_at < $1) ORDER BY due_at LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        self.claim_each(
            candidates,
            "UPDATE scheduled_changes SET state = 'firing', lease_owner = $1, lease_expires_at = $2, \
             updated_at = $3 WHERE id = $4 AND ((state = 'scheduled' AND due_at <= $3) \
             OR (state = 'firing' AND lease_expires_at < $3))",
            &format!("SELECT {COLUMNS} FROM scheduled_changes WHERE id = $1"),
            Lease {
                owner,
                now,
                until: lease_until,
            },
        )
        .await
    }

    /// Ends the firing of a schedule `owner` holds.
    pub async fn end_firing(
        &self,
        id: &str,
        owner: &str,
        state: ScheduleState,
        outcome: Option<&str>,
        late_ms: Option<i64>,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE scheduled_changes SET state = $1, outcome = $2, late_ms = $3, fired_at = $4, \
             updated_at = $4, lease_owner = NULL, lease_expires_at = NULL \
             WHERE id = $5 AND state = 'firing' AND lease_owner = $6",
        )
        .bind(state.as_str())
        .bind(outcome)
        .bind(late_ms)
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
