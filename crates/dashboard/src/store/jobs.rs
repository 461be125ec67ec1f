//! Jobs: one row per change asked of Yelp, from submission to its end. Reads for a user are scoped by
//! workspace; the watcher claims due jobs with a lease so that one instance polls a job at a time.

use sqlx::FromRow;

use super::{Store, is_unique_violation, markers};
use crate::error::Result;

/// Yelp's status of a job whose submission went unanswered, while it is reconciled.
pub const UNKNOWN_OUTCOME: &str = "UNKNOWN";

/// A stored value that is none of the values its column takes: the row was written by something else.
#[derive(Debug, thiserror::Error)]
#[error("unknown {column} '{value}' in the database")]
pub struct UnknownValue {
    /// The column.
    pub column: &'static str,
    /// What it held.
    pub value: String,
}

/// Declares an enum whose values are stored as text, each variant with its stored name: `ALL`, `as_str`
/// (one exhaustive match), `parse`, and `TryFrom<String>` for reading rows (`#[sqlx(try_from = "String")]`),
/// whose error names the column. One table of names, so that writing and reading cannot disagree.
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident in $column:literal {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$variant_meta])* $variant, )+
        }

        impl $name {
            /// Every value, in the order declared.
            pub const ALL: [Self; [$($text),+].len()] = [$(Self::$variant),+];

            /// The stored name, which clients read too.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            /// The value of this stored name, if it is one.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::store::UnknownValue;

            fn try_from(value: String) -> ::std::result::Result<Self, Self::Error> {
                Self::parse(&value).ok_or($crate::store::UnknownValue {
                    column: $column,
                    value,
                })
            }
        }
    };
}
pub(super) use stored_enum;

stored_enum! {
    /// A job's status as clients read it.
    pub enum JobStatus in "job status" {
        /// Recorded; not yet taken up by Yelp.
        Pending = "PENDING",
        /// Yelp is working on it.
        InProgress = "IN_PROGRESS",
        /// Done; the mirror shows the change.
        Completed = "COMPLETED",
        /// Refused, partly refused, expired, or not submitted.
        Failed = "FAILED",
    }
}

/// The SQL condition of an unfinished job: the statuses of which [`JobStatus::is_unfinished`] holds.
const UNFINISHED: &str = "status IN ('PENDING', 'IN_PROGRESS')";

impl JobStatus {
    /// Whether the watcher still has work on it (PENDING or IN_PROGRESS).
    pub fn is_unfinished(self) -> bool {
        match self {
            Self::Pending | Self::InProgress => true,
            Self::Completed | Self::Failed => false,
        }
    }
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for JobStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

stored_enum! {
    /// What a job does.
    pub enum JobType in "job type" {
        /// A new program.
        Create = "create",
        /// A change to a program.
        Edit = "edit",
        /// A new program like an existing one.
        Duplicate = "duplicate",
        /// Ending a program.
        Terminate = "terminate",
        /// Pausing a CPC program.
        Pause = "pause",
        /// Resuming a paused CPC program.
        Resume = "resume",
    }
}

impl JobType {
    /// Whether the job makes a new program (create or duplicate).
    pub fn creates_program(self) -> bool {
        match self {
            Self::Create | Self::Duplicate => true,
            Self::Edit | Self::Terminate | Self::Pause | Self::Resume => false,
        }
    }
}

impl std::fmt::Display for JobType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for JobType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The number of jobs of one type in one status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobCount {
    /// create, edit, duplicate, terminate, pause or resume.
    pub job_type: String,
    /// PENDING, IN_PROGRESS, COMPLETED or FAILED.
    pub status: String,
    /// How many.
    pub count: u64,
}

/// A job as stored.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct JobRecord {
    /// Our id: Yelp's job id when there is one.
    pub id: String,
    /// The workspace it belongs to.
    pub workspace_id: String,
    /// Who asked for it.
    pub user_id: Option<String>,
    /// Their username at the time.
    pub username: Option<String>,
    /// What it does.
    #[sqlx(try_from = "String")]
    pub job_type: JobType,
    /// The program changed (or created, once known).
    pub program_id: Option<String>,
    /// The business concerned.
    pub business_id: Option<String>,
    /// JSON of what was asked.
    pub request: String,
    /// Yelp's job id, for jobs Yelp tracks.
    pub yelp_job_id: Option<String>,
    /// Where it stands.
    #[sqlx(try_from = "String")]
    pub status: JobStatus,
    /// Yelp's last raw status.
    pub yelp_status: Option<String>,
    /// Yelp's last receipt, as JSON.
    pub receipt: Option<String>,
    /// JSON `[{field, code, message}]` when failed.
    pub errors: Option<String>,
    /// Submission (unix ms).
    pub created_at: i64,
    /// Last change (unix ms).
    pub updated_at: i64,
    /// End (unix ms).
    pub completed_at: Option<i64>,
    /// When the watcher looks next (unix ms); `None` once finished.
    pub next_poll_at: Option<i64>,
    /// Status checks so far.
    pub poll_count: i64,
    /// The one-time token of the form or script submission that asked for it, if it sent one.
    pub submission_token: Option<String>,
    /// For a create or duplicate: what makes another one identical (business, type, start, budget).
    pub fingerprint: Option<String>,
}

impl JobRecord {
    /// Whether the job has ended (COMPLETED or FAILED).
    pub fn is_finished(&self) -> bool {
        !self.status.is_unfinished()
    }
}

pub(super) const JOB_COLUMNS: &str = "id, workspace_id, user_id, username, job_type, program_id, business_id, request, \
    yelp_job_id, status, yelp_status, receipt, errors, created_at, updated_at, completed_at, next_poll_at, \
    poll_count, submission_token, fingerprint";

/// Filters of a job history.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobFilter {
    /// Jobs created at or after this (unix ms).
    pub since: i64,
    /// Only this status.
    pub status: Option<JobStatus>,
    /// Only jobs whose last status from Yelp is this.
    pub yelp_status: Option<String>,
    /// Only this type.
    pub job_type: Option<JobType>,
    /// Only jobs on this program.
    pub program_id: Option<String>,
    /// At most this many, newest first.
    pub limit: u32,
}

/// A claim of rows for an instance: its id, the time now and the end of the lease (unix ms).
#[derive(Clone, Copy, Debug)]
pub(super) struct Lease<'a> {
    /// The claiming instance.
    pub(super) owner: &'a str,
    /// Now (unix ms).
    pub(super) now: i64,
    /// When the claim runs out unless renewed (unix ms).
    pub(super) until: i64,
}

impl Store {
    /// Claims each of `candidates` (row ids) with `claim`, an `UPDATE … WHERE id = $4` that checks again
    /// whether the row may be claimed (`$1` the owner, `$2` the lease's end, `$3` now), so that of
    /// instances racing for a row one wins; answers the rows won, read with `select` (`… WHERE id = $1`).
    /// The claims of jobs, change sets and schedules.
    pub(super) async fn claim_each<R>(
        &self,
        candidates: Vec<String>,
        claim: &str,
        select: &str,
        lease: Lease<'_>,
    ) -> Result<Vec<R>>
    where
        R: for<'r> FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
    {
        let mut claimed = Vec::with_capacity(candidates.len());
        for id in candidates {
            let done = sqlx::query(claim)
                .bind(lease.owner)
                .bind(lease.until)
                .bind(lease.now)
                .bind(&id)
                .execute(&self.writer)
                .await?;
            if done.rows_affected() == 1 {
                // Read from the writer, which made the claim: a reader might not see it yet.
                let row: Option<R> = sqlx::query_as(select)
                    .bind(&id)
                    .fetch_optional(&self.writer)
                    .await?;
                claimed.extend(row);
            }
        }
        Ok(claimed)
    }
}

impl Store {
    /// Records a job. Answers `false`, recording nothing, when a job of the workspace already carries its
    /// submission token: the unique key decides, so of two submissions racing with one token one is
    /// recorded.
    pub async fn insert_job(&self, job: &JobRecord) -> Result<bool> {
        let inserted = sqlx::query(&format!(
            "INSERT INTO jobs ({JOB_COLUMNS}) VALUES ({})",
            markers(self.backend, 1, 20)
        ))
        .bind(&job.id)
        .bind(&job.workspace_id)
        .bind(&job.user_id)
        .bind(&job.username)
        .bind(job.job_type.as_str())
        .bind(&job.program_id)
        .bind(&job.business_id)
        .bind(&job.request)
        .bind(&job.yelp_job_id)
        .bind(job.status.as_str())
        .bind(&job.yelp_status)
        .bind(&job.receipt)
        .bind(&job.errors)
        .bind(job.created_at)
        .bind(job.updated_at)
        .bind(job.completed_at)
        .bind(job.next_poll_at)
        .bind(job.poll_count)
        .bind(&job.submission_token)
        .bind(&job.fingerprint)
        .execute(&self.writer)
        .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(e) if job.submission_token.is_some() && is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The workspace's job that carries this submission token, if any.
    pub async fn job_by_submission_token(
        &self,
        workspace_id: &str,
        token: &str,
    ) -> Result<Option<JobRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE workspace_id = $1 AND submission_token = $2"
        ))
        .bind(workspace_id)
        .bind(token)
        .fetch_optional(&self.writer)
        .await?)
    }

    /// The workspace's latest job with this fingerprint created at or after `since` that has not failed.
    pub async fn recent_job_with_fingerprint(
        &self,
        workspace_id: &str,
        fingerprint: &str,
        since: i64,
    ) -> Result<Option<JobRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE workspace_id = $1 AND fingerprint = $2 \
             AND created_at >= $3 AND status <> 'FAILED' ORDER BY created_at DESC LIMIT 1"
        ))
        .bind(workspace_id)
        .bind(fingerprint)
        .bind(since)
        .fetch_optional(&self.writer)
        .await?)
    }

    /// One job of the workspace.
    pub async fn job(&self, workspace_id: &str, job_id: &str) -> Result<Option<JobRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE workspace_id = $1 AND id = $2"
        ))
        .bind(workspace_id)
        .bind(job_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Claims up to `limit` unfinished jobs due at `now` for `owner` until `lease_until`: a job whose lease
    /// is held by another live watcher is left alone, so that one watcher polls a job at a time.
    pub async fn claim_due_jobs(
        &self,
        owner: &str,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> Result<Vec<JobRecord>> {
        let candidates: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT id FROM jobs WHERE {UNFINISHED} AND next_poll_at <= $1 \
                 AND (lease_owner IS NULL OR lease_expires_at < $1) ORDER BY next_poll_at LIMIT $2"
        ))
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        self.claim_each(
            candidates,
            &format!(
                "UPDATE jobs SET lease_owner = $1, lease_expires_at = $2 WHERE id = $4 \
                 AND {UNFINISHED} AND (lease_owner IS NULL OR lease_expires_at < $3)"
            ),
            &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"),
            Lease {
                owner,
                now,
                until: lease_until,
            },
        )
        .await
    }

    /// Records a status check of an unfinished job claimed by `owner`, and when to look next; frees its
    /// lease. Answers `false`, changing nothing, when the job is no longer `owner`'s (its claim ran out and
    /// another watcher took it over) or has ended.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_job_progress(
        &self,
        job_id: &str,
        owner: &str,
        status: JobStatus,
        yelp_status: Option<&str>,
        receipt: Option<&str>,
        next_poll_at: i64,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(&format!(
            "UPDATE jobs SET status = $1, yelp_status = COALESCE($2, yelp_status), \
             receipt = COALESCE($3, receipt), next_poll_at = $4, updated_at = $5, \
             poll_count = poll_count + 1, lease_owner = NULL, lease_expires_at = NULL WHERE id = $6 \
             AND lease_owner = $7 AND {UNFINISHED}"
        ))
        .bind(status.as_str())
        .bind(yelp_status)
        .bind(receipt)
        .bind(next_poll_at)
        .bind(now)
        .bind(job_id)
        .bind(owner)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends a job as COMPLETED or FAILED and frees its lease: the job of watcher `owner`, or with `None` a
    /// submission being recorded (which no watcher holds). Answers `false`, changing nothing, when the job
    /// has ended already or is held by another: a job ends exactly once, whichever instances race for it.
    #[allow(clippy::too_many_arguments)]
    pub async fn finish_job(
        &self,
        job_id: &str,
        owner: Option<&str>,
        status: JobStatus,
        yelp_status: Option<&str>,
        receipt: Option<&str>,
        errors: Option<&str>,
        program_id: Option<&str>,
        now: i64,
    ) -> Result<bool> {
        // The status condition is checked again when the row is written: of two racing writers, the
        // second finds the job ended and changes nothing.
        let held = match owner {
            Some(_) => "lease_owner = $8",
            None => "lease_owner IS NULL",
        };
        let sql = format!(
            "UPDATE jobs SET status = $1, yelp_status = COALESCE($2, yelp_status), \
             receipt = COALESCE($3, receipt), errors = $4, program_id = COALESCE($5, program_id), \
             completed_at = $6, updated_at = $6, next_poll_at = NULL, poll_count = poll_count + 1, \
             lease_owner = NULL, lease_expires_at = NULL WHERE id = $7 \
             AND {UNFINISHED} AND {held}"
        );
        let mut query = sqlx::query(&sql)
            .bind(status.as_str())
            .bind(yelp_status)
            .bind(receipt)
            .bind(errors)
            .bind(program_id)
            .bind(now)
            .bind(job_id);
        if let Some(owner) = owner {
            query = query.bind(owner);
        }
        Ok(query.execute(&self.writer).await?.rows_affected() == 1)
    }

    /// Gives a recorded submission the id Yelp answered with (it becomes the job's id, used in URLs) and
    /// schedules its first status check. Answers the job's id: Yelp's, or the recorded one when a job of
    /// that id exists already (Yelp's ids are unique, but a restarted simulator may repeat them).
    pub async fn job_submitted(
        &self,
        recorded_id: &str,
        yelp_job_id: &str,
        next_poll_at: i64,
        now: i64,
    ) -> Result<String> {
        let renamed = sqlx::query(
            "UPDATE jobs SET id = $1, yelp_job_id = $1, next_poll_at = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(yelp_job_id)
        .bind(next_poll_at)
        .bind(now)
        .bind(recorded_id)
        .execute(&self.writer)
        .await;
        match renamed {
            Ok(_) => Ok(yelp_job_id.to_owned()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                sqlx::query(
                    "UPDATE jobs SET yelp_job_id = $1, next_poll_at = $2, updated_at = $3 WHERE id = $4",
                )
                .bind(yelp_job_id)
                .bind(next_poll_at)
                .bind(now)
                .bind(recorded_id)
                .execute(&self.writer)
                .await?;
                Ok(recorded_id.to_owned())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Marks a submission whose answer from Yelp was lost (a timeout, a 5xx, a dropped connection): Yelp
    /// may or may not have taken it, so it is not resent but reconciled from `next_poll_at` on, by
    /// looking at the program itself. Shown as IN_PROGRESS with Yelp's status `UNKNOWN`.
    pub async fn job_outcome_unknown(
        &self,
        job_id: &str,
        next_poll_at: i64,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET status = 'IN_PROGRESS', yelp_status = $1, next_poll_at = $2, updated_at = $3 \
             WHERE id = $4",
        )
        .bind(UNKNOWN_OUTCOME)
        .bind(next_poll_at)
        .bind(now)
        .bind(job_id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Marks for reconciliation every submission recorded before `cutoff` whose answer from Yelp was never
    /// recorded (the process stopped while sending it): its outcome is unknown. Answers how many.
    pub async fn reconcile_unanswered_submissions(&self, cutoff: i64, now: i64) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE jobs SET status = 'IN_PROGRESS', yelp_status = $1, next_poll_at = $2, updated_at = $2 \
             WHERE status = 'PENDING' AND yelp_job_id IS NULL AND next_poll_at IS NULL AND created_at < $3",
        )
        .bind(UNKNOWN_OUTCOME)
        .bind(now)
        .bind(cutoff)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected())
    }

    /// Frees every lease `owner` holds (a watcher stopping), so that another watcher takes over at once.
    pub async fn release_job_leases(&self, owner: &str) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1",
        )
        .bind(owner)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The workspace's jobs that are unfinished or finished at or after `finished_since`, newest first.
    pub async fn active_jobs(
        &self,
        workspace_id: &str,
        finished_since: i64,
    ) -> Result<Vec<JobRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE workspace_id = $1 \
             AND ({UNFINISHED} OR completed_at >= $2) \
             ORDER BY created_at DESC LIMIT 500"
        ))
        .bind(workspace_id)
        .bind(finished_since)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The workspace's jobs matching `filter`, newest first.
    pub async fn job_history(
        &self,
        workspace_id: &str,
        filter: &JobFilter,
    ) -> Result<Vec<JobRecord>> {
        let mut sql =
            format!("SELECT {JOB_COLUMNS} FROM jobs WHERE workspace_id = $1 AND created_at >= $2");
        let mut next = 3;
        let values = [
            ("status", filter.status.map(JobStatus::as_str)),
            ("yelp_status", filter.yelp_status.as_deref()),
            ("job_type", filter.job_type.map(JobType::as_str)),
            ("program_id", filter.program_id.as_deref()),
        ];
        for (column, value) in values {
            if value.is_some() {
                sql.push_str(&format!(" AND {column} = ${next}"));
                next += 1;
            }
        }
        sql.push_str(&format!(" ORDER BY created_at DESC LIMIT ${next}"));
        let mut query = sqlx::query_as(&sql).bind(workspace_id).bind(filter.since);
        for value in values.into_iter().filter_map(|(_, v)| v) {
            query = query.bind(value);
        }
        Ok(query
            .bind(i64::from(filter.limit))
            .fetch_all(&self.pool)
            .await?)
    }

    /// How long the workspace's last 20 completed jobs of `job_type` other than `except` took (ms), newest
    /// first. The job being measured is left out: it may complete between the read of its record and this
    /// one, and would then measure itself as overdue (95 %, no time left) while its record says unfinished.
    pub async fn recent_job_durations(
        &self,
        workspace_id: &str,
        job_type: JobType,
        except: &str,
    ) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT completed_at - created_at FROM jobs WHERE workspace_id = $1 AND job_type = $2 \
             AND status = 'COMPLETED' AND completed_at IS NOT NULL AND id <> $3 \
             ORDER BY completed_at DESC LIMIT 20",
        )
        .bind(workspace_id)
        .bind(job_type.as_str())
        .bind(except)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The ids of the business's programs that the mirror first saw before `before` (unix ms): those
    /// that cannot be the result of a submission made at `before`.
    pub async fn program_ids_seen_before(
        &self,
        workspace_id: &str,
        business_id: &str,
        before: i64,
    ) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT program_id FROM programs WHERE workspace_id = $1 AND business_id = $2 \
             AND first_seen_at < $3",
        )
        .bind(workspace_id)
        .bind(business_id)
        .bind(before)
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many jobs there are of each type and status, for metrics.
    pub async fn job_counts(&self) -> Result<Vec<JobCount>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT job_type, status, COUNT(*) FROM jobs GROUP BY job_type, status ORDER BY job_type, status",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(job_type, status, count)| JobCount {
                job_type,
                status,
                count: u64::try_from(count).unwrap_or(0),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sql_of_unfinished_names_exactly_the_unfinished_statuses() {
        for status in JobStatus::ALL {
            let named = UNFINISHED.contains(&format!("'{}'", status.as_str()));
            assert_eq!(named, status.is_unfinished(), "{status}");
        }
    }

    #[test]
    fn stored_names_read_back_as_the_same_status_and_type() {
        for status in JobStatus::ALL {
            assert_eq!(
                JobStatus::try_from(status.as_str().to_owned()).ok(),
                Some(status)
            );
        }
        for kind in JobType::ALL {
            assert_eq!(JobType::try_from(kind.as_str().to_owned()).ok(), Some(kind));
        }
        assert!(JobStatus::try_from("DONE".to_owned()).is_err());
        assert!(JobType::try_from("rename".to_owned()).is_err());
    }
}
