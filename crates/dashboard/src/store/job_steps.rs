//! The steps of a job after Yelp's own job (a duplicate's feature copies), each recorded before it is
//! sent so that it is never sent twice.

use sqlx::FromRow;

use super::Store;
use crate::error::Result;

/// Where a step stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepState {
    /// Recorded and (being) sent; its outcome is not known yet.
    Sending,
    /// Done: Yelp holds it.
    Copied,
    /// Not done; the message says why.
    Failed,
}

impl StepState {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sending => "sending",
            Self::Copied => "copied",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "copied" => Self::Copied,
            "failed" => Self::Failed,
            // Anything else is an unknown outcome, as a step being sent is.
            _ => Self::Sending,
        }
    }
}

/// One step of a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobStep {
    /// The feature type it copies.
    pub feature_type: String,
    /// Its place in the job's order.
    pub position: i64,
    /// Where it stands.
    pub state: StepState,
    /// Why it failed.
    pub message: Option<String>,
}

#[derive(FromRow)]
struct StepRow {
    feature_type: String,
    position: i64,
    state: String,
    message: Option<String>,
}

impl Store {
    /// A job's steps, in their order.
    pub async fn job_steps(&self, job_id: &str) -> Result<Vec<JobStep>> {
        let rows: Vec<StepRow> = sqlx::query_as(
            "SELECT feature_type, position, state, message FROM job_steps WHERE job_id = $1 \
             ORDER BY position",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| JobStep {
                feature_type: r.feature_type,
                position: r.position,
                state: StepState::parse(&r.state),
                message: r.message,
            })
            .collect())
    }

    /// Records a step as being sent; `false` when it was recorded before (by this job's earlier run or
    /// another watcher), which must then not send it.
    pub async fn begin_job_step(
        &self,
        job_id: &str,
        feature_type: &str,
        position: i64,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO job_steps (job_id, feature_type, position, state, message, updated_at) \
             VALUES ($1, $2, $3, 'sending', NULL, $4) ON CONFLICT (job_id, feature_type) DO NOTHING",
        )
        .bind(job_id)
        .bind(feature_type)
        .bind(position)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records how a step ended.
    pub async fn end_job_step(
        &self,
        job_id: &str,
        feature_type: &str,
        state: StepState,
        message: Option<&str>,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE job_steps SET state = $1, message = $2, updated_at = $3 \
             WHERE job_id = $4 AND feature_type = $5",
        )
        .bind(state.as_str())
        .bind(message)
        .bind(now)
        .bind(job_id)
        .bind(feature_type)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
