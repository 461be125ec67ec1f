//! The durable watcher: claims due unfinished jobs with a lease in the database, asks Yelp how each is
//! going, and records the answer. A job ends on anything but a running status; a COMPLETED job is shown
//! as such only after its program is in the mirror.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::watch;
use tracing::Instrument;
use yelp_partner_api::{
    BusinessId, Client, JobId, JobOutcome, JobReceipt, JobStatus, PauseStatus, ProgramId,
    ProgramType,
};

use super::asked::{Asked, CreateAsked, EditAsked};
use super::feature_copy;
use super::{Inner, ms, refresh_program};
use crate::error::{Error, Result};
use crate::store::{
    JobRecord, JobStatus as Status, JobType, MirrorWriter, UNKNOWN_OUTCOME, now_ms,
};

pub(super) async fn run(inner: Arc<Inner>, mut stop: watch::Receiver<bool>) {
    tracing::info!(instance_id = inner.instance_id, "job watcher started");
    // Every so often, submissions cut short by a stop (whose answer never came) become unknown outcomes.
    const SWEEP_EVERY_MS: i64 = 5_000;
    let mut last_sweep = i64::MIN;
    loop {
        if *stop.borrow() {
            break;
        }
        let now = now_ms();
        if now.saturating_sub(last_sweep) >= SWEEP_EVERY_MS {
            last_sweep = now;
            sweep_unanswered(&inner, now).await;
        }
        let lease_ms = i64::try_from(inner.options.lease_ttl.as_millis()).unwrap_or(30_000);
        match inner
            .store
            .claim_due_jobs(&inner.instance_id, now, now + lease_ms, inner.options.batch)
            .await
        {
            Ok(jobs) => {
                let checks = jobs.into_iter().map(|job| {
                    let span = tracing::info_span!(
                        "job",
                        job_id = job.id,
                        job_type = job.job_type.as_str()
                    );
                    check(&inner, job).instrument(span)
                });
                futures::future::join_all(checks).await;
            }
            Err(e) => tracing::warn!(error = %e, "job watcher: cannot claim jobs"),
        }
        tokio::select! {
            changed = stop.changed() => {
                // A dropped handle stops it too.
                if changed.is_err() {
                    break;
                }
            }
            () = tokio::time::sleep(inner.options.tick) => {}
        }
    }
    if let Err(e) = inner.store.release_job_leases(&inner.instance_id).await {
        tracing::warn!(error = %e, "job watcher: cannot free its claims");
    }
    tracing::info!(instance_id = inner.instance_id, "job watcher stopped");
}

/// Marks as unknown outcomes, to reconcile, the submissions recorded longer ago than a send can take and
/// still without Yelp's answer.
async fn sweep_unanswered(inner: &Inner, now: i64) {
    let cutoff = now - ms(inner.options.unanswered_after);
    match inner
        .store
        .reconcile_unanswered_submissions(cutoff, now)
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            jobs = n,
            "submissions cut short by a stop: outcome unknown, reconciling"
        ),
        Err(e) => tracing::warn!(error = %e, "job watcher: cannot check unanswered submissions"),
    }
}

/// One status check of a claimed job.
async fn check(inner: &Inner, job: JobRecord) {
    if let Err(e) = try_check(inner, &job).await {
        // The database failed: look again later (the lease expires if even this fails).
        tracing::warn!(error = %e, "job check failed");
        let next = now_ms() + inner.options.interval_ms(job.poll_count);
        let _ = progress(inner, &job, job.status, None, None, next, now_ms()).await;
    }
    let _ = inner.changes.send(job.id.clone());
}

async fn try_check(inner: &Inner, job: &JobRecord) -> Result<()> {
    let later = |job: &JobRecord| now_ms() + inner.options.interval_ms(job.poll_count + 1);
    let Some(yelp_job_id) = &job.yelp_job_id else {
        if job.yelp_status.as_deref() == Some(UNKNOWN_OUTCOME) {
            return reconcile_unknown(inner, job).await;
        }
        return fail(inner, job, "NO_JOB", "Yelp gave no job to follow").await;
    };
    let client = match (inner.clients)(job.workspace_id.clone()).await {
        Ok(client) => client,
        Err(e) => {
            tracing::warn!(error = %e, "no Yelp client for the job's workspace");
            return progress(inner, job, job.status, None, None, later(job), now_ms()).await;
        }
    };
    let receipt = match client.job_status(&JobId::from_yelp(yelp_job_id)).await {
        Ok(receipt) => receipt,
        Err(yelp_partner_api::Error::NotFound { .. }) => {
            return fail(
                inner,
                job,
                "JOB_NOT_FOUND",
                "Yelp no longer knows this job (it expired); check the program before trying again",
            )
            .await;
        }
        Err(e) => {
            // Reading a status is safe to repeat: try again at the next interval.
            tracing::warn!(error = %e, "job status check failed");
            return progress(inner, job, job.status, None, None, later(job), now_ms()).await;
        }
    };
    let yelp_status = receipt.status.as_str().to_owned();
    let raw = receipt.raw.to_string();
    match receipt.outcome() {
        JobOutcome::InProgress => {
            let status = match receipt.status {
                JobStatus::Processing | JobStatus::InProgress => Status::InProgress,
                _ if job.status == Status::InProgress => Status::InProgress,
                _ => Status::Pending,
            };
            progress(
                inner,
                job,
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
                if let (JobType::Duplicate, Some(new_program)) = (job.job_type, &program_id) {
                    match copy_source_features(inner, &client, job, new_program).await {
                        Ok(()) => {}
                        Err(Error::Yelp(e)) if e.is_transient() => {
                            // The copies taken are recorded; the others are taken at the next check.
                            tracing::warn!(error = %e, "duplicate: features not read yet");
                            return progress(
                                inner,
                                job,
                                Status::InProgress,
                                Some(&yelp_status),
                                Some(&raw),
                                later(job),
                                now_ms(),
                            )
                            .await;
                        }
                        Err(e) => tracing::warn!(error = %e, "duplicate: features not copied"),
                    }
                }
                finish(
                    inner,
                    job,
                    Status::Completed,
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
                progress(
                    inner,
                    job,
                    Status::InProgress,
                    Some(&yelp_status),
                    Some(&raw),
                    later(job),
                    now_ms(),
                )
                .await
            }
        },
        JobOutcome::Rejected | JobOutcome::Partial => {
            // Part of a partial job was carried out: the mirror shows what Yelp has now.
            let program_id = if receipt.outcome() == JobOutcome::Partial {
                reconcile(inner, &client, job, &receipt)
                    .await
                    .unwrap_or_else(|e| {
                        tracing::warn!(error = %e, "partial job: cannot refresh the mirror");
                        None
                    })
            } else {
                None
            };
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
            finish(
                inner,
                job,
                Status::Failed,
                Some(&yelp_status),
                Some(&raw),
                Some(&errors),
                program_id.as_ref().map(ProgramId::as_str),
                now_ms(),
            )
            .await
        }
    }
}

/// Records a status check of a job this watcher claimed. A watcher whose claim ran out while it checked
/// (another took the job over) or whose job has ended meanwhile writes nothing: the job is the other's.
async fn progress(
    inner: &Inner,
    job: &JobRecord,
    status: Status,
    yelp_status: Option<&str>,
    receipt: Option<&str>,
    next_poll_at: i64,
    now: i64,
) -> Result<()> {
    let kept = inner
        .store
        .update_job_progress(
            &job.id,
            &inner.instance_id,
            status,
            yelp_status,
            receipt,
            next_poll_at,
            now,
        )
        .await?;
    if !kept {
        tracing::info!("another watcher took this job over; its check is theirs to record");
    }
    Ok(())
}

/// Ends a job as FAILED for one reason of ours (not Yelp's receipt).
async fn fail(inner: &Inner, job: &JobRecord, code: &str, message: &str) -> Result<()> {
    let errors = reasons(code, message);
    finish(
        inner,
        job,
        Status::Failed,
        None,
        None,
        Some(&errors),
        None,
        now_ms(),
    )
    .await
}

/// Ends a job this watcher claimed, unless another watcher took it over or it has ended already: a job
/// ends once.
#[allow(clippy::too_many_arguments)]
async fn finish(
    inner: &Inner,
    job: &JobRecord,
    status: Status,
    yelp_status: Option<&str>,
    receipt: Option<&str>,
    errors: Option<&str>,
    program_id: Option<&str>,
    now: i64,
) -> Result<()> {
    let ended = inner
        .store
        .finish_job(
            &job.id,
            Some(&inner.instance_id),
            status,
            yelp_status,
            receipt,
            errors,
            program_id,
            now,
        )
        .await?;
    if ended {
        tracing::info!(status = status.as_str(), "job ended");
    } else {
        tracing::info!("another watcher took this job over; its end is theirs to record");
    }
    Ok(())
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
    let program_id = if job.job_type.creates_program() {
        match receipt.new_program_id() {
            Some(id) => Some(id),
            None => find_created(inner, client, job).await?,
        }
    } else {
        job.program_id.clone().map(ProgramId::from_yelp)
    };
    match &program_id {
        Some(id) => {
            refresh_program(
                &inner.store,
                client,
                &job.workspace_id,
                id,
                MirrorWriter::Job(job),
            )
            .await?
        }
        None => tracing::warn!("completed create: the new program could not be identified"),
    }
    Ok(program_id)
}

/// Copies a duplicate's source features to its new program (see [`feature_copy`]), then reads the new
/// program again so that the mirror shows them on. A source the mirror no longer has is not copied.
async fn copy_source_features(
    inner: &Inner,
    client: &Client,
    job: &JobRecord,
    new_program: &ProgramId,
) -> Result<()> {
    let Asked::Create(CreateAsked {
        source_program_id: Some(source_id),
        ..
    }) = Asked::of(job)
    else {
        return Ok(());
    };
    let Some(source) = inner
        .store
        .program_by_given_id(&job.workspace_id, &source_id)
        .await?
    else {
        return Ok(());
    };
    feature_copy::copy_features(&inner.store, client, job, &source, new_program).await?;
    if let Err(e) = refresh_program(
        &inner.store,
        client,
        &job.workspace_id,
        new_program,
        MirrorWriter::Job(job),
    )
    .await
    {
        tracing::warn!(error = %e, "duplicate: new program not read again after its features");
    }
    Ok(())
}

async fn find_created(
    inner: &Inner,
    client: &Client,
    job: &JobRecord,
) -> Result<Option<ProgramId>> {
    let asked = Asked::of(job);
    let Some(business) = job.business_id.as_deref() else {
        return Ok(None);
    };
    let program_type = ProgramType::from_wire(asked.program_name().unwrap_or(""));
    let start = asked.start();
    let known: HashSet<ProgramId> = inner
        .store
        .program_ids_seen_before(&job.workspace_id, business, job.created_at)
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

/// What looking at Yelp tells of a submission whose answer was lost.
enum Seen {
    /// The change is there (for a create: this new program).
    Made(Option<ProgramId>),
    /// Not (yet) there.
    NotYet,
    /// The answer cannot be read from the program; the message says why.
    Undecidable(&'static str, String),
}

/// Reconciles a submission whose answer was lost: looks at the program (or, for a create, the
/// business's programs) until the change shows or the window for it has passed. Never resubmits.
async fn reconcile_unknown(inner: &Inner, job: &JobRecord) -> Result<()> {
    let now = now_ms();
    let window_over = now >= job.created_at + ms(inner.options.reconcile_window);
    let later = now + ms(inner.options.reconcile_interval);
    let client = match (inner.clients)(job.workspace_id.clone()).await {
        Ok(client) => client,
        Err(e) => {
            tracing::warn!(error = %e, "no Yelp client for the job's workspace");
            return progress(inner, job, Status::InProgress, None, None, later, now).await;
        }
    };
    let seen = match job.job_type {
        JobType::Create | JobType::Duplicate => created_since(inner, &client, job).await,
        JobType::Edit | JobType::Terminate | JobType::Pause | JobType::Resume => {
            changed(inner, &client, job).await
        }
    };
    let window = spoken(inner.options.reconcile_window);
    match seen {
        Ok(Seen::Made(program_id)) => {
            tracing::info!(program_id = ?program_id, "unanswered submission found carried out");
            finish(
                inner,
                job,
                Status::Completed,
                None,
                None,
                None,
                program_id.as_ref().map(ProgramId::as_str),
                now_ms(),
            )
            .await
        }
        Ok(Seen::Undecidable(code, message)) => fail(inner, job, code, &message).await,
        Ok(Seen::NotYet) if window_over => {
            let message = if job.job_type.creates_program() {
                format!(
                    "Yelp did not answer, and no new program appeared within {window}: it was not \
                     created. You can submit it again"
                )
            } else {
                format!(
                    "Yelp did not answer, and the change did not appear within {window}: it was \
                     not made. The program shows what Yelp has now; you can submit the change again"
                )
            };
            fail(inner, job, "NOT_APPLIED", &message).await
        }
        Ok(Seen::NotYet) => progress(inner, job, Status::InProgress, None, None, later, now).await,
        Err(e) if now >= job.created_at + 2 * ms(inner.options.reconcile_window) => {
            tracing::warn!(error = %e, "cannot reconcile an unanswered submission; giving up");
            fail(
                inner,
                job,
                "OUTCOME_UNKNOWN",
                "Yelp did not answer, and its programs could not be read since, so the outcome is \
                 unknown; check the program before trying again",
            )
            .await
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot reconcile an unanswered submission yet");
            progress(inner, job, Status::InProgress, None, None, later, now).await
        }
    }
}

/// For a create or duplicate: the one program of its type and start that the business has now and had
/// not when the job was submitted.
async fn created_since(inner: &Inner, client: &Client, job: &JobRecord) -> Result<Seen> {
    let Some(business) = job.business_id.as_deref() else {
        return Ok(Seen::Undecidable(
            "OUTCOME_UNKNOWN",
            "Yelp did not answer and the job names no business to look in; check the business's programs"
                .into(),
        ));
    };
    let asked = Asked::of(job);
    let program_type = ProgramType::from_wire(asked.program_name().unwrap_or(""));
    let start = asked.start();
    let known: HashSet<String> = inner
        .store
        .program_ids_seen_before(&job.workspace_id, business, job.created_at)
        .await?
        .into_iter()
        .collect();
    let programs = client
        .all_business_programs(&BusinessId::from_yelp(business))
        .await?;
    let new: Vec<ProgramId> = programs
        .into_iter()
        .map(|e| e.program)
        .filter(|p| {
            p.program_type == program_type
                && start.is_none_or(|s| p.start_date == Some(s))
                && !known.contains(p.program_id.as_str())
        })
        .map(|p| p.program_id)
        .collect();
    match new.as_slice() {
        [] => Ok(Seen::NotYet),
        [id] => {
            refresh_program(
                &inner.store,
                client,
                &job.workspace_id,
                id,
                MirrorWriter::Job(job),
            )
            .await?;
            Ok(Seen::Made(Some(id.clone())))
        }
        several => {
            let ids: Vec<&str> = several.iter().map(ProgramId::as_str).collect();
            Ok(Seen::Undecidable(
                "AMBIGUOUS",
                format!(
                    "Yelp did not answer, and since then {} new {} programs appeared for this business ({}); \
                     check which one is this request's before trying again",
                    ids.len(),
                    program_type.as_str(),
                    ids.join(", ")
                ),
            ))
        }
    }
}

/// For an edit, end, pause or resume: whether the program, read again from Yelp (and written to the mirror), shows it.
async fn changed(inner: &Inner, client: &Client, job: &JobRecord) -> Result<Seen> {
    let Some(program_id) = job.program_id.as_deref().map(ProgramId::from_yelp) else {
        return Ok(Seen::Undecidable(
            "OUTCOME_UNKNOWN",
            "Yelp did not answer and the job names no program; check the program".into(),
        ));
    };
    let entry = client.program_info(&program_id).await?;
    inner
        .store
        .write_program_page(
            &job.workspace_id,
            std::slice::from_ref(&entry),
            &mut crate::store::KnownBusinesses::default(),
            now_ms(),
            MirrorWriter::Job(job),
        )
        .await?;
    let today = chrono::Utc::now().date_naive();
    let shown = match Asked::of(job) {
        _ if job.job_type == JobType::Terminate => {
            Some(entry.program.end_date.is_some_and(|end| end <= today))
        }
        // Yelp pauses and resumes at once: the program shows it or it was not done.
        _ if job.job_type == JobType::Pause => {
            Some(entry.program.program_pause_status == PauseStatus::Paused)
        }
        _ if job.job_type == JobType::Resume => {
            Some(entry.program.program_pause_status == PauseStatus::NotPaused)
        }
        Asked::Edit(edit) => edit_shown(&edit, &entry.program),
        Asked::Create(_) | Asked::Program => None,
    };
    Ok(match shown {
        Some(true) => Seen::Made(Some(program_id)),
        Some(false) => Seen::NotYet,
        None => Seen::Undecidable(
            "OUTCOME_UNKNOWN",
            "Yelp did not answer, and the fields changed cannot be read back from the program, so the \
             outcome is unknown; check the program before trying again"
                .into(),
        ),
    })
}

/// Whether `program` shows every field of an edit that Yelp reports back; `None` when it reports none of
/// them (pacing, or a budget change set for a later date).
fn edit_shown(asked: &EditAsked, program: &yelp_partner_api::Program) -> Option<bool> {
    let metrics = program.program_metrics.as_ref();
    let mut checks: Vec<bool> = Vec::new();
    if let Some(start) = asked.start {
        checks.push(program.start_date == Some(start));
    }
    if let Some(end) = asked.end {
        checks.push(program.end_date == Some(end));
    }
    if asked.future_budget_date.is_none() {
        if let Some(budget) = asked.budget_cents {
            checks.push(metrics.and_then(|m| m.budget).map(|c| c.get()) == Some(budget));
        }
    }
    if let Some(bid) = asked.max_bid_cents {
        checks.push(metrics.and_then(|m| m.max_bid).map(|c| c.get()) == Some(bid));
    }
    if let Some(autobid) = asked.is_autobid {
        checks.push(metrics.and_then(|m| m.is_autobid) == Some(autobid));
    }
    if let Some(categories) = &asked.ad_categories {
        let mut asked: Vec<&str> = categories.iter().map(String::as_str).collect();
        let mut has: Vec<&str> = program.ad_categories.iter().map(String::as_str).collect();
        asked.sort_unstable();
        has.sort_unstable();
        checks.push(asked == has);
    }
    (!checks.is_empty()).then(|| checks.iter().all(|c| *c))
}

/// A duration as words: "3 seconds", "10 minutes".
fn spoken(d: std::time::Duration) -> String {
    let seconds = d.as_secs();
    if seconds < 120 {
        format!("{seconds} seconds")
    } else {
        format!("{} minutes", seconds.div_ceil(60))
    }
}
