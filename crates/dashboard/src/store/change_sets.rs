//! Change sets and their items. An item's change and its program's fields before are JSON that the
//! change-set service reads; the states are typed here, at the row boundary.

use std::collections::HashMap;

use sqlx::FromRow;

use super::jobs::{Lease, stored_enum};
use super::{ExportRow, JobStatus, Store};
use crate::error::{Error, Result};

stored_enum! {
    /// Where a change set stands.
    pub enum ChangeSetState in "change set state" {
        /// Staged; not checked since it last changed.
        Draft = "draft",
        /// Checked against the mirror; may be posted.
        Checked = "checked",
        /// Its items are being sent (by the instance holding its lease).
        Posting = "posting",
        /// Every item has ended.
        Done = "done",
    }
}

stored_enum! {
    /// Where an item stands.
    pub enum ItemState in "change set item state" {
        /// Staged; not checked yet.
        Staged = "staged",
        /// Checked: it will be sent.
        Ready = "ready",
        /// It changes nothing: the program holds it already.
        NoOp = "no_op",
        /// The program changed at Yelp since it was staged: to confirm or drop.
        Conflict = "conflict",
        /// A rule refuses it (the message says which).
        Refused = "refused",
        /// Left out by the user.
        Dropped = "dropped",
        /// Recorded as being sent: its job is asked for with the item's token.
        Sending = "sending",
        /// Its job is recorded; the job says how it ends.
        Sent = "sent",
        /// It could not be sent (the message says why).
        Failed = "failed",
        /// Done without a job (a feature change, which Yelp makes at once).
        Completed = "completed",
    }
}

/// A change set as stored.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct ChangeSetRecord {
    /// Its id.
    pub id: String,
    /// The workspace it belongs to.
    pub workspace_id: String,
    /// Who made it.
    pub user_id: Option<String>,
    /// Their username then.
    pub username: Option<String>,
    /// JSON of its operation; `None` for an import, a retry or an undo (whose items say their changes).
    pub operation: Option<String>,
    /// What it does, in words.
    pub description: String,
    /// The change set it retries or undoes.
    pub origin_id: Option<String>,
    /// `retry`, `undo` or `import`.
    pub origin_kind: Option<String>,
    /// Where it stands.
    #[sqlx(try_from = "String")]
    pub state: ChangeSetState,
    /// Made (unix ms).
    pub created_at: i64,
    /// Last changed (unix ms).
    pub updated_at: i64,
    /// Last checked (unix ms).
    pub checked_at: Option<i64>,
    /// Posted (unix ms).
    pub posted_at: Option<i64>,
    /// Every item ended (unix ms).
    pub finished_at: Option<i64>,
}

const SET_COLUMNS: &str = "id, workspace_id, user_id, username, operation, description, origin_id, \
    origin_kind, state, created_at, updated_at, checked_at, posted_at, finished_at";

/// An item as stored, with its job's status when it has one.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct ItemRecord {
    /// Its order in the change set, from 0.
    pub position: i64,
    /// The program it changes.
    pub program_id: String,
    /// JSON of its change.
    pub change: String,
    /// JSON of the program's fields when staged.
    pub before: String,
    /// Where it stands.
    #[sqlx(try_from = "String")]
    pub state: ItemState,
    /// Why it is refused, a conflict, or failed.
    pub message: Option<String>,
    /// Its job, once asked for.
    pub job_id: Option<String>,
    /// Its job's status.
    pub job_status: Option<String>,
    /// Its job's reasons, JSON `[{field, code, message}]`, when the job failed.
    pub job_errors: Option<String>,
}

impl ItemRecord {
    /// Its job's status, when it has a job.
    pub fn job_status(&self) -> Option<JobStatus> {
        self.job_status.as_deref().and_then(JobStatus::parse)
    }
}

/// An item to store, or a new state for one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemWrite {
    /// Its order in the change set.
    pub position: i64,
    /// The program it changes.
    pub program_id: String,
    /// JSON of its change.
    pub change: String,
    /// JSON of the program's fields it was checked against.
    pub before: String,
    /// Its state.
    pub state: ItemState,
    /// Why, for a refusal, a conflict or a failure.
    pub message: Option<String>,
}

impl Store {
    /// Records a change set with its items, at once.
    pub async fn insert_change_set(
        &self,
        set: &ChangeSetRecord,
        items: &[ItemWrite],
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO change_sets ({SET_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(&set.id)
        .bind(&set.workspace_id)
        .bind(&set.user_id)
        .bind(&set.username)
        .bind(&set.operation)
        .bind(&set.description)
        .bind(&set.origin_id)
        .bind(&set.origin_kind)
        .bind(set.state.as_str())
        .bind(set.created_at)
        .bind(set.updated_at)
        .bind(set.checked_at)
        .bind(set.posted_at)
        .bind(set.finished_at)
        .execute(&mut *tx)
        .await?;
        for item in items {
            sqlx::query(
                "INSERT INTO change_set_items (change_set_id, position, program_id, change, before, \
                 state, message, job_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8)",
            )
            .bind(&set.id)
            .bind(item.position)
            .bind(&item.program_id)
            .bind(&item.change)
            .bind(&item.before)
            .bind(item.state.as_str())
            .bind(&item.message)
            .bind(set.created_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A change set of the workspace.
    pub async fn change_set(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Option<ChangeSetRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {SET_COLUMNS} FROM change_sets WHERE workspace_id = $1 AND id = $2"
        ))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The workspace's change sets, newest first.
    pub async fn change_sets(
        &self,
        workspace_id: &str,
        limit: u32,
    ) -> Result<Vec<ChangeSetRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {SET_COLUMNS} FROM change_sets WHERE workspace_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(workspace_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    /// A change set's items in order, with their jobs' status.
    pub async fn change_set_items(&self, change_set_id: &str) -> Result<Vec<ItemRecord>> {
        Ok(sqlx::query_as(
            "SELECT i.position, i.program_id, i.change, i.before, i.state, i.message, i.job_id, \
             j.status AS job_status, j.errors AS job_errors \
             FROM change_set_items i LEFT JOIN jobs j ON j.id = i.job_id \
             WHERE i.change_set_id = $1 ORDER BY i.position",
        )
        .bind(change_set_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The names and labels of the programs of a change set's items, by program id: how the API and the
    /// pages name its items (a program the mirror no longer has is left out).
    pub async fn item_labels<'a>(
        &self,
        workspace_id: &str,
        program_ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<HashMap<String, ExportRow>> {
        let ids: Vec<String> = program_ids.into_iter().map(str::to_owned).collect();
        Ok(self
            .export_rows_in_order(workspace_id, &ids)
            .await?
            .into_iter()
            .map(|row| (row.program_id.clone(), row))
            .collect())
    }

    /// Counts of items by state (and job status), for each of these change sets:
    /// `(change_set_id, item state, job status, count)`.
    pub async fn change_set_counts(
        &self,
        workspace_id: &str,
        ids: &[String],
    ) -> Result<Vec<(String, String, Option<String>, i64)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let markers: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT i.change_set_id, i.state, j.status, COUNT(*) FROM change_set_items i \
             JOIN change_sets s ON s.id = i.change_set_id \
             LEFT JOIN jobs j ON j.id = i.job_id \
             WHERE s.workspace_id = $1 AND i.change_set_id IN ({}) \
             GROUP BY i.change_set_id, i.state, j.status",
            markers.join(", ")
        );
        let mut query = sqlx::query_as(&sql).bind(workspace_id);
        for id in ids {
            query = query.bind(id);
        }
        Ok(query.fetch_all(&self.pool).await?)
    }

    /// Rewrites items' states (and what they were checked against) at once; the change set's state
    /// becomes `state` if it is one of `from`. Answers `false`, changing nothing, when it is not.
    pub async fn rewrite_items(
        &self,
        change_set_id: &str,
        from: &[ChangeSetState],
        state: ChangeSetState,
        items: &[ItemWrite],
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let current: Option<String> =
            sqlx::query_scalar("SELECT state FROM change_sets WHERE id = $1")
                .bind(change_set_id)
                .fetch_optional(&mut *tx)
                .await?;
        let allowed = current
            .map(ChangeSetState::try_from)
            .transpose()
            .map_err(|e| Error::Internal(e.to_string()))?
            .is_some_and(|s| from.contains(&s));
        if !allowed {
            return Ok(false);
        }
        let checked_at = (state == ChangeSetState::Checked).then_some(now);
        sqlx::query(
            "UPDATE change_sets SET state = $1, updated_at = $2, checked_at = $3 WHERE id = $4",
        )
        .bind(state.as_str())
        .bind(now)
        .bind(checked_at)
        .bind(change_set_id)
        .execute(&mut *tx)
        .await?;
        for item in items {
            sqlx::query(
                "UPDATE change_set_items SET change = $1, before = $2, state = $3, message = $4, \
                 updated_at = $5 WHERE change_set_id = $6 AND position = $7",
            )
            .bind(&item.change)
            .bind(&item.before)
            .bind(item.state.as_str())
            .bind(&item.message)
            .bind(now)
            .bind(change_set_id)
            .bind(item.position)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Moves a change set from one of `from` to `to`; `false` when it was in none of them.
    pub async fn move_change_set(
        &self,
        change_set_id: &str,
        from: &[ChangeSetState],
        to: ChangeSetState,
        now: i64,
    ) -> Result<bool> {
        let froms: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
        let sql = format!(
            "UPDATE change_sets SET state = $1, updated_at = $2, \
             posted_at = CASE WHEN $1 = 'posting' THEN $2 ELSE posted_at END, \
             finished_at = CASE WHEN $1 = 'done' THEN $2 ELSE finished_at END \
             WHERE id = $3 AND state IN ('{}')",
            froms.join("', '")
        );
        let done = sqlx::query(&sql)
            .bind(to.as_str())
            .bind(now)
            .bind(change_set_id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a change set that was never posted; `false` when there is none such.
    pub async fn delete_change_set(&self, workspace_id: &str, id: &str) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let deletable: Option<String> = sqlx::query_scalar(
            "SELECT id FROM change_sets WHERE workspace_id = $1 AND id = $2 \
             AND state IN ('draft', 'checked')",
        )
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if deletable.is_none() {
            return Ok(false);
        }
        sqlx::query("DELETE FROM change_set_items WHERE change_set_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM change_sets WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Claims up to `limit` change sets being posted whose lease is free, ran out or is `owner`'s already
    /// (which renews it), for `owner` until `lease_until`.
    pub async fn claim_posting_change_sets(
        &self,
        owner: &str,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> Result<Vec<ChangeSetRecord>> {
        let candidates: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM change_sets WHERE state = 'posting' \
             AND (lease_owner IS NULL OR lease_expires_at < $1 OR lease_owner = $2) \
             ORDER BY posted_at LIMIT $3",
        )
        .bind(now)
        .bind(owner)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        self.claim_each(
            candidates,
            "UPDATE change_sets SET lease_owner = $1, lease_expires_at = $2 WHERE id = $4 \
             AND state = 'posting' \
             AND (lease_owner IS NULL OR lease_expires_at < $3 OR lease_owner = $1)",
            &format!("SELECT {SET_COLUMNS} FROM change_sets WHERE id = $1"),
            Lease {
                owner,
                now,
                until: lease_until,
            },
        )
        .await
    }

    /// Frees `owner`'s leases on change sets (a poster stopping), so that another takes over at once.
    pub async fn release_change_set_leases(&self, owner: &str) -> Result<()> {
        sqlx::query(
            "UPDATE change_sets SET lease_owner = NULL, lease_expires_at = NULL \
             WHERE lease_owner = $1",
        )
        .bind(owner)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Marks an item as being sent, if it is ready; `false` when it was not (another poster took it).
    pub async fn begin_sending_item(
        &self,
        change_set_id: &str,
        position: i64,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE change_set_items SET state = 'sending', updated_at = $1 \
             WHERE change_set_id = $2 AND position = $3 AND state = 'ready'",
        )
        .bind(now)
        .bind(change_set_id)
        .bind(position)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records how sending an item ended: its job, or a failure without one, or ready again (not sent).
    pub async fn end_sending_item(
        &self,
        change_set_id: &str,
        position: i64,
        state: ItemState,
        job_id: Option<&str>,
        message: Option<&str>,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE change_set_items SET state = $1, job_id = $2, message = $3, updated_at = $4 \
             WHERE change_set_id = $5 AND position = $6",
        )
        .bind(state.as_str())
        .bind(job_id)
        .bind(message)
        .bind(now)
        .bind(change_set_id)
        .bind(position)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Whether the program has a job that has not ended (ours or anyone's).
    pub async fn program_has_open_job(&self, workspace_id: &str, program_id: &str) -> Result<bool> {
        let open: Option<String> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE workspace_id = $1 AND program_id = $2 \
             AND status IN ('PENDING', 'IN_PROGRESS') LIMIT 1",
        )
        .bind(workspace_id)
        .bind(program_id)
        .fetch_optional(&self.writer)
        .await?;
        Ok(open.is_some())
    }
}
