//! The durable watcher: claims due unfinished jobs with a lease in the database, asks Yelp how each is
//! going, and records the answer. A job ends on anything but a running status; a COMPLETED job is shown
//! as such only after its program is in the mirror.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::watch;
use tracing::Instrument;
use yelp_partner_api::{
    BusinessId, Client, JobId, JobOutcome, JobReceipt, JobStatus, ProgramId, ProgramType,
};

use super::{Inner, refresh_program, unanswered_errors};
use crate::error::Result;
use crate::store::{COMPLETED, FAILED, IN_PROGRESS, JobRecord, PENDING, now_ms};

pub(super) async fn run(inner: Arc<Inner>, mut stop: watch::Receiver<bool>) {
    tracing::info!(instance_id = inner.instance_id, "job watcher started");
    // A submission still unanswered after this long was cut short by a stop: Yelp's answer is lost.
    const UNANSWERED_AFTER_MS: i64 = 10 * 60 * 1000;
    let now = now_ms();
    match inner
        .store
        .fail_unanswered_submissions(now - UNANSWERED_AFTER_MS, &unanswered_errors(), now)
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            jobs = n,
            "submissions cut short by a stop recorded as outcome unknown"
        ),
        Err(e) => tracing::warn!(error = %e, "job watcher: cannot check unanswered submissions"),
    }
    loop {
        if *stop.borrow() {
            break;
        }
        let now = now_ms();
        let lease_ms = i64::try_from(inner.options.lease_ttl.as_millis()).unwrap_or(30_000);
        match inner
            .store
            .claim_due_jobs(&inner.instance_id, now, now + lease_ms, inner.options.batch)
            .await
        {
            Ok(jobs) => {
                let checks = jobs.into_iter().map(|job| {
                    let span = tracing::info_span!("job", job_id = job.id, job_type = job.job_type);
                    check(&inner, job).instrument(span)
                });
                futures::future::join_all(checks).await;
            }
            Err(e) => tracing::warn!(error = %e, "job watcher: cannot claim jobs"),
        }
        tokio::select! {
            _ = stop.changed() => {}
            () = tokio::time::sleep(inner.options.tick) => {}
        }
    }
    if let Err(e) = inner.store.release_job_leases(&inner.instance_id).await {
        tracing::warn!(error = %e, "job watcher: cannot free its claims");
    }
    tracing::info!(instance_id = inner.instance_id, "job watcher stopped");
}

/// One status check of a claimed job.
async fn check(inner: &Inner, job: JobRecord) {
    if let Err(e) = try_check(inner, &job).await {
        // The database failed: look again later (the lease expires if even this fails).
        tracing::warn!(error = %e, "job check failed");
        let next = now_ms() + inner.options.interval_ms(job.poll_count);
        let _ = inner
            .store
            .update_job_progress(&job.id, &job.status, None, None, next, now_ms())
            .await;
    }
    let _ = inner.changes.send(job.id.clone());
}

async fn try_check(inner: &Inner, job: &JobRecord) -> Result<()> {
    let store = &inner.store;
    let later = |job: &JobRecord| now_ms() + inner.options.interval_ms(job.poll_count + 1);
    let Some(yelp_job_id) = &job.yelp_job_id else {
        let errors = reasons("NO_JOB", "Yelp gave no job to follow");
        return store
            .finish_job(&job.id, FAILED, None, None, Some(&errors), None, now_ms())
            .await;
    };
    let client = match (inner.clients)(job.workspace_id.clone()).await {
        Ok(client) => client,
        Err(e) => {
            tracing::warn!(error = %e, "no Yelp client for the job's workspace");
            return store
                .update_job_progress(&job.id, &job.status, None, None, later(job), now_ms())
                .await;
        }
    };
    let receipt = match client.job_status(&JobId::from_yelp(yelp_job_id)).await {
        Ok(receipt) => receipt,
        Err(yelp_partner_api::Error::NotFound { .. }) => {
            let errors = reasons(
                "JOB_NOT_FOUND",
                "Yelp no longer knows this job (it expired); check the program before trying again",
            );
            return store
                .finish_job(&job.id, FAILED, None, None, Some(&errors), None, now_ms())
                .await;
        }
        Err(e) => {
            // Reading a status is safe to repeat: try again at the next interval.
            tracing::warn!(error = %e, "job status check failed");
            return store
                .update_job_progress(&job.id, &job.status, None, None, later(job), now_ms())
                .await;
        }
    };
    let yelp_status = receipt.status.as_str().to_owned();
    let raw = receipt.raw.to_string();
    match receipt.outcome() {
        JobOutcome::InProgress => {
            let status = match receipt.status {
                JobStatus::Processing | JobStatus::InProgress => IN_PROGRESS,
                _ if job.status == IN_PROGRESS => IN_PROGRESS,
                _ => PENDING,
            };
            store
                .update_job_progress(
                    &job.id,
                    status,
                    Some(&yelp_status),
                    Some(&raw),
                    later(job),
                    now_ms(),
                )
                .await
        }
        JobOutcome::Completed => match reconcile(inner, &client, job, &receipt).await {
            Ok(program_id) => {
                store
                    .finish_job(
                        &job.id,
                        COMPLETED,
                        Some(&yelp_status),
                        Some(&raw),
                        None,
                        program_id.as_ref().map(ProgramId::as_str),
                        now_ms(),
                    )
                    .await
            }
            Err(e) => {
                // Done at Yelp but not yet in the mirror: not COMPLETED until it is.
                tracing::warn!(error = %e, "completed job: cannot refresh the mirror yet");
                store
                    .update_job_progress(
                        &job.id,
                        IN_PROGRESS,
                        Some(&yelp_status),
                        Some(&raw),
                        later(job),
                        now_ms(),
                    )
                    .await
            }
        },
        JobOutcome::Rejected | JobOutcome::Partial => {
            let errors: Vec<Value> = receipt
                .failure_reasons()
                .iter()
                .map(|r| json!({"field": r.field, "code": r.code, "message": r.describe()}))
                .collect();
            let errors = if errors.is_empty() {
                reasons(&yelp_status, "Yelp did not complete the job")
            } else {
                Value::Array(errors).to_string()
            };
            store
                .finish_job(
                    &job.id,
                    FAILED,
                    Some(&yelp_status),
                    Some(&raw),
                    Some(&errors),
                    None,
                    now_ms(),
                )
                .await
        }
    }
}

fn reasons(code: &str, message: &str) -> String {
    json!([{"field": null, "code": code, "message": message}]).to_string()
}

/// Writes the job's program into the mirror; answers its id (for a create, found in the receipt or, when
/// the receipt lacks it, among the business's programs).
async fn reconcile(
    inner: &Inner,
    client: &Client,
    job: &JobRecord,
    receipt: &JobReceipt,
) -> Result<Option<ProgramId>> {
    let program_id = match job.job_type.as_str() {
        "create" | "duplicate" => match receipt.new_program_id() {
            Some(id) => Some(id),
            None => find_created(inner, client, job).await?,
        },
        _ => job.program_id.clone().map(ProgramId::from_yelp),
    };
    match &program_id {
        Some(id) => refresh_program(&inner.store, client, &job.workspace_id, id).await?,
        None => tracing::warn!("completed create: the new program could not be identified"),
    }
    Ok(program_id)
}

async fn find_created(
    inner: &Inner,
    client: &Client,
    job: &JobRecord,
) -> Result<Option<ProgramId>> {
    let request: Value = serde_json::from_str(&job.request).unwrap_or(Value::Null);
    let Some(business) = job.business_id.as_deref() else {
        return Ok(None);
    };
    let program_type = ProgramType::from_wire(request["program_name"].as_str().unwrap_or(""));
    let start = request["start"].as_str().and_then(|s| s.parse().ok());
    let known: HashSet<ProgramId> = inner
        .store
        .program_ids(&job.workspace_id)
        .await?
        .into_iter()
        .map(ProgramId::from_yelp)
        .collect();
    Ok(client
        .find_created_program(
            &BusinessId::from_yelp(business),
            &program_type,
            start,
            &known,
        )
        .await?)
}
