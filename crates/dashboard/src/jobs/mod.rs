//! Program operations as tracked jobs: each change is validated before Yelp sees it, submitted once (Yelp
//! has no idempotency key, so nothing is resubmitted), recorded, and followed to its end by a durable
//! watcher whose state is in the database, so that a restarted (or another) instance carries on.

pub mod asked;
pub mod draft;
mod feature_copy;
pub mod validate;
mod watcher;

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};
use yelp_partner_api::{Client, CreateProgram, JobId, PauseStatus, ProgramId};

use self::asked::{Asked, CreateAsked, EditAsked};
use self::draft::{CreateDraft, DuplicateDraft, EditDraft};
use crate::error::{Error, Result};
use crate::store::{
    JobRecord, KnownBusinesses, MirrorWriter, Store, StoredProgram, UNKNOWN_OUTCOME, User, new_id,
    now_ms,
};
pub use crate::store::{JobStatus, JobType};

/// How long an identical create needs the user's confirmation (ms): 10 minutes.
pub const DUPLICATE_WINDOW_MS: i64 = 10 * 60 * 1000;

/// How long a second submission of a token waits for the first one's answer from Yelp before answering
/// its job as it stands: longer than a Yelp request may take.
const FIRST_ANSWER_WAIT: Duration = Duration::from_secs(30);

/// A form's (or a script's) one-time submission token: every submission of the form carries it, and a
/// second one with the same token answers the first one's job instead of sending the change again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubmissionToken(String);

impl SubmissionToken {
    /// A token as sent: 16 to 128 characters of A-Z, a-z, 0-9, `-` or `_` (pages send 32 of base64url).
    pub fn parse(text: &str) -> Result<Self> {
        let ok = (16..=128).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(Error::InvalidFields(vec![(
                "submission_token".into(),
                "submission_token must be 16 to 128 characters of A-Z, a-z, 0-9, '-' or '_'".into(),
            )]))
        }
    }

    /// A new random token, for a form being shown.
    pub fn new_random() -> Self {
        use base64::Engine as _;
        Self(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(crate::secrets::random_bytes::<24>()),
        )
    }

    /// The token as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Builds the Yelp client of a workspace (from its stored credentials).
pub type ClientSource = Arc<dyn Fn(String) -> BoxFuture<'static, Result<Client>> + Send + Sync>;

/// How the watcher polls.
#[derive(Clone, Debug, PartialEq)]
pub struct JobOptions {
    /// First status check after submission.
    pub first_check: Duration,
    /// Each interval is the previous one times this.
    pub growth: f64,
    /// Longest interval between checks.
    pub max_interval: Duration,
    /// How often the watcher looks for due jobs.
    pub tick: Duration,
    /// How long a claim on a job lasts; a watcher that died frees its jobs after this.
    pub lease_ttl: Duration,
    /// Jobs polled at once per tick.
    pub batch: u32,
    /// Between looks at the program of a submission whose answer was lost.
    pub reconcile_interval: Duration,
    /// How long after such a submission its change may still appear; past it, a change not seen was not
    /// made.
    pub reconcile_window: Duration,
    /// A submission recorded this long ago and still without Yelp's answer was cut short by a stop (of
    /// this process or another): its outcome is unknown and it is reconciled. Longer than sending one
    /// can take (the client's timeout, after the rate limit's wait).
    pub unanswered_after: Duration,
}

impl Default for JobOptions {
    fn default() -> Self {
        Self {
            first_check: Duration::from_secs(1),
            growth: 1.5,
            // A finished job is seen at most ~2 s late, for one status call per open job every 2 s.
            max_interval: Duration::from_secs(2),
            tick: Duration::from_millis(100),
            lease_ttl: Duration::from_secs(30),
            batch: 32,
            reconcile_interval: Duration::from_secs(10),
            // Yelp finishes jobs in seconds to minutes.
            reconcile_window: Duration::from_secs(10 * 60),
            unanswered_after: Duration::from_secs(2 * 60),
        }
    }
}

impl JobOptions {
    /// Milliseconds to wait before the check that follows `checks_done` checks.
    fn interval_ms(&self, checks_done: i64) -> i64 {
        let first = self.first_check.as_secs_f64() * 1000.0;
        let cap = self.max_interval.as_secs_f64() * 1000.0;
        let exponent = i32::try_from(checks_done.clamp(0, 64)).unwrap_or(64);
        (first * self.growth.powi(exponent)).min(cap) as i64
    }
}

/// Where an unfinished job stands against the typical duration of its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobProgress {
    /// 0–95 while unfinished, 100 once finished.
    pub progress: u8,
    /// Seconds until the typical end; 0 once finished or overdue.
    pub eta_seconds: u64,
}

/// Typical duration when a workspace has no completed job of the kind yet.
const DEFAULT_TYPICAL_MS: i64 = 30_000;

/// Submits operations and watches jobs. Cheap to clone.
#[derive(Clone)]
pub struct JobService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for JobService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobService")
            .field("instance_id", &self.inner.instance_id)
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

struct Inner {
    store: Store,
    clients: ClientSource,
    options: JobOptions,
    /// Names this watcher in job leases.
    instance_id: String,
    /// Ids of jobs whose row just changed, for live streams.
    changes: broadcast::Sender<String>,
    /// Held while a create is checked against recent ones and recorded.
    creating: tokio::sync::Mutex<()>,
}

/// A running watcher; [`WatcherHandle::stop`] ends it after the checks under way.
#[derive(Debug)]
pub struct WatcherHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl WatcherHandle {
    /// Stops the watcher after the checks under way and frees its claims, so that another watcher takes
    /// its jobs over at once.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

impl JobService {
    /// A service over `store`, reaching Yelp through `clients`.
    pub fn new(store: Store, clients: ClientSource, options: JobOptions) -> Self {
        let (changes, _) = broadcast::channel(1024);
        Self {
            inner: Arc::new(Inner {
                store,
                clients,
                options,
                instance_id: new_id(),
                changes,
                creating: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// Ids of jobs as their rows change (in this process).
    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.inner.changes.subscribe()
    }

    /// Starts the watcher: it polls every due unfinished job of every workspace, those left by a previous
    /// run of the process included.
    pub fn spawn_watcher(&self) -> WatcherHandle {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(watcher::run(self.inner.clone(), stopped));
        WatcherHandle { stop, task }
    }

    /// Reads a program from Yelp again and writes it to the mirror.
    pub async fn refresh(&self, workspace_id: &str, program_id: &str) -> Result<()> {
        let client = (self.inner.clients)(workspace_id.to_owned()).await?;
        refresh_program(
            &self.inner.store,
            &client,
            workspace_id,
            &ProgramId::from_yelp(program_id.to_owned()),
            MirrorWriter::Refresh,
        )
        .await
    }

    /// A program of the workspace that the mirror holds (removed ones are not found).
    pub async fn program(&self, workspace_id: &str, program_id: &str) -> Result<StoredProgram> {
        self.inner
            .store
            .program_by_given_id(workspace_id, program_id)
            .await?
            .filter(|p| p.removed_at.is_none())
            .ok_or_else(|| Error::NotFound(format!("program {program_id}")))
    }

    /// Submits a create; answers the job's id. With `token`, a second submission answers the first one's
    /// job; with or without it, a create identical to one of the last 10 minutes is refused
    /// ([`Error::Duplicate`]) unless the body says `"confirm_duplicate": true`.
    pub async fn create(
        &self,
        user: &User,
        draft: CreateDraft,
        token: Option<&SubmissionToken>,
    ) -> Result<String> {
        if let Some(job_id) = self.answered(user, token).await? {
            return Ok(job_id);
        }
        let confirmed = validate::confirmation(draft.confirm_duplicate.as_ref())?;
        let request = validate::create(draft, today())?;
        self.submit_create(user, JobType::Create, None, request, token, confirmed)
            .await
    }

    /// Submits a new program like `program_id`; answers the job's id. Guarded like [`Self::create`].
    pub async fn duplicate(
        &self,
        user: &User,
        program_id: &str,
        draft: DuplicateDraft,
        token: Option<&SubmissionToken>,
    ) -> Result<String> {
        if let Some(job_id) = self.answered(user, token).await? {
            return Ok(job_id);
        }
        let confirmed = validate::confirmation(draft.confirm_duplicate.as_ref())?;
        let source = self.program(&user.workspace_id, program_id).await?;
        let request = validate::duplicate(draft, &source, today())?;
        self.submit_create(
            user,
            JobType::Duplicate,
            Some(source.program_id),
            request,
            token,
            confirmed,
        )
        .await
    }

    async fn submit_create(
        &self,
        user: &User,
        job_type: JobType,
        source: Option<String>,
        request: CreateProgram,
        token: Option<&SubmissionToken>,
        confirmed: bool,
    ) -> Result<String> {
        self.refuse_inactive_business(&user.workspace_id, request.business_id.as_str())
            .await?;
        let client = (self.inner.clients)(user.workspace_id.clone()).await?;
        let mut job = self.new_job(
            user,
            job_type,
            None,
            Some(request.business_id.to_string()),
            &Asked::Create(CreateAsked::new(&request, source)),
        );
        job.fingerprint = Some(fingerprint(&request));
        job.submission_token = token.map(|t| t.as_str().to_owned());
        // The check and the record under one lock, so that two identical creates sent at once in this
        // process cannot both pass the check.
        let recorded = {
            let _turn = self.inner.creating.lock().await;
            let earlier = if confirmed {
                None
            } else {
                let since = now_ms() - DUPLICATE_WINDOW_MS;
                self.inner
                    .store
                    .recent_job_with_fingerprint(&user.workspace_id, &fingerprint(&request), since)
                    .await?
            };
            match earlier {
                // The same submission sent again (another instance may have recorded it first).
                Some(earlier)
                    if earlier.submission_token == job.submission_token && token.is_some() =>
                {
                    false
                }
                Some(earlier) => return Err(Error::Duplicate { job_id: earlier.id }),
                None => self.inner.store.insert_job(&job).await?,
            }
        };
        if !recorded {
            return self.first_answer(user, token).await;
        }
        let sent = client.create_program(&request).await;
        self.record_submission(job, sent).await
    }

    /// Yelp refuses a program for a business that is closed or removed from its search
    /// (`BUSINESS_NOT_ACTIVE`), after the job would have been recorded and sent: refuse it here first, as
    /// the last sync knows the business. A business the mirror has never named is let through; Yelp
    /// decides.
    async fn refuse_inactive_business(&self, workspace_id: &str, business_id: &str) -> Result<()> {
        let profile = self
            .inner
            .store
            .business_profile(workspace_id, business_id)
            .await?;
        let Some(profile) = profile else {
            return Ok(());
        };
        match profile.inactive_reason() {
            Some(reason) => Err(Error::field(
                "business_id",
                format!(
                    "{} cannot take a new program: {reason}, so Yelp would refuse it \
                     (BUSINESS_NOT_ACTIVE)",
                    profile
                        .display_name()
                        .unwrap_or_else(|| business_id.to_owned())
                ),
            )),
            None => Ok(()),
        }
    }

    /// Submits an edit of `program_id`; answers the job's id (the first one's, for a token sent before).
    pub async fn edit(
        &self,
        user: &User,
        program_id: &str,
        draft: EditDraft,
        token: Option<&SubmissionToken>,
    ) -> Result<String> {
        if let Some(job_id) = self.answered(user, token).await? {
            return Ok(job_id);
        }
        let program = self.program(&user.workspace_id, program_id).await?;
        let edit = validate::edit(draft, &program, today())?;
        let client = (self.inner.clients)(user.workspace_id.clone()).await?;
        let mut job = self.new_job(
            user,
            JobType::Edit,
            Some(program.program_id.clone()),
            program.business_id.clone(),
            &Asked::Edit(EditAsked::from(&edit)),
        );
        job.submission_token = token.map(|t| t.as_str().to_owned());
        if !self.inner.store.insert_job(&job).await? {
            return self.first_answer(user, token).await;
        }
        let sent = client
            .edit_program(&ProgramId::from_yelp(program.program_id), &edit)
            .await;
        self.record_submission(job, sent).await
    }

    /// Submits the end of `program_id`; answers the job's id (the first one's, for a token sent before).
    pub async fn end(
        &self,
        user: &User,
        program_id: &str,
        token: Option<&SubmissionToken>,
    ) -> Result<String> {
        if let Some(job_id) = self.answered(user, token).await? {
            return Ok(job_id);
        }
        let program = self.program(&user.workspace_id, program_id).await?;
        validate::end(&program, today())?;
        let client = (self.inner.clients)(user.workspace_id.clone()).await?;
        let mut job = self.new_job(
            user,
            JobType::Terminate,
            Some(program.program_id.clone()),
            program.business_id.clone(),
            &Asked::Program,
        );
        job.submission_token = token.map(|t| t.as_str().to_owned());
        if !self.inner.store.insert_job(&job).await? {
            return self.first_answer(user, token).await;
        }
        let sent = client
            .end_program(&ProgramId::from_yelp(program.program_id))
            .await;
        self.record_submission(job, sent).await
    }

    /// The job of an earlier submission with `token`, once that one has Yelp's answer; `None` for a token
    /// not used yet (or none).
    async fn answered(
        &self,
        user: &User,
        token: Option<&SubmissionToken>,
    ) -> Result<Option<String>> {
        let Some(token) = token else {
            return Ok(None);
        };
        if self
            .inner
            .store
            .job_by_submission_token(&user.workspace_id, token.as_str())
            .await?
            .is_none()
        {
            return Ok(None);
        }
        self.first_answer(user, Some(token)).await.map(Some)
    }

    /// The id of the job recorded with `token`, waiting while its submission is being sent (its id then
    /// becomes Yelp's job id): at most [`FIRST_ANSWER_WAIT`], then the job's id as it stands.
    async fn first_answer(&self, user: &User, token: Option<&SubmissionToken>) -> Result<String> {
        let token = token.ok_or_else(|| Error::NotFound("the submission".into()))?;
        let mut changes = self.subscribe();
        let deadline = tokio::time::Instant::now() + FIRST_ANSWER_WAIT;
        loop {
            let job = self
                .inner
                .store
                .job_by_submission_token(&user.workspace_id, token.as_str())
                .await?
                .ok_or_else(|| Error::NotFound("the submission's job".into()))?;
            let being_sent = job.status == JobStatus::Pending && job.next_poll_at.is_none();
            if !being_sent || tokio::time::Instant::now() >= deadline {
                return Ok(job.id);
            }
            // Told when a job of this process changes; another instance's is seen on the next look.
            let _ = tokio::time::timeout(Duration::from_millis(200), changes.recv()).await;
        }
    }

    /// Pauses (`pause`) or resumes a CPC program. Yelp answers at once, so the job ends with the answer:
    /// COMPLETED once the mirror shows the change, or FAILED. Recorded before it is sent, like every change,
    /// so that a stop while sending leaves a job to reconcile and a second use of `token` finds it.
    pub async fn pause_or_resume(
        &self,
        user: &User,
        program_id: &str,
        pause: bool,
        token: Option<&SubmissionToken>,
    ) -> Result<String> {
        if let Some(job_id) = self.answered(user, token).await? {
            return Ok(job_id);
        }
        let program = self.program(&user.workspace_id, program_id).await?;
        if pause {
            validate::pause(&program, today())?;
        } else {
            validate::resume(&program)?;
        }
        let client = (self.inner.clients)(user.workspace_id.clone()).await?;
        let job_type = if pause {
            JobType::Pause
        } else {
            JobType::Resume
        };
        let mut job = self.new_job(
            user,
            job_type,
            Some(program.program_id.clone()),
            program.business_id.clone(),
            &Asked::Program,
        );
        job.submission_token = token.map(|t| t.as_str().to_owned());
        if !self.inner.store.insert_job(&job).await? {
            return self.first_answer(user, token).await;
        }
        let id = ProgramId::from_yelp(program.program_id);
        let sent = if pause {
            client.pause_program(&id).await
        } else {
            client.resume_program(&id).await
        };
        match sent {
            Ok(()) => {
                if let Err(e) = refresh_program(
                    &self.inner.store,
                    &client,
                    &user.workspace_id,
                    &id,
                    MirrorWriter::Job(&job),
                )
                .await
                {
                    // Yelp made the change; the next sync brings the mirror up to date.
                    tracing::warn!(error = %e, program_id = %id, "could not refresh the program after {}", job_type.as_str());
                }
                job.status = JobStatus::Completed;
                job.yelp_status = Some("COMPLETED".into());
            }
            Err(e) if outcome_unknown(&e) => {
                // Yelp applies these at once: the program itself tells whether it did.
                let wanted = if pause {
                    PauseStatus::Paused
                } else {
                    PauseStatus::NotPaused
                };
                let now_is = match client.program_info(&id).await {
                    Ok(entry) => {
                        let status = entry.program.program_pause_status.clone();
                        if let Err(e) = self
                            .inner
                            .store
                            .write_program_page(
                                &user.workspace_id,
                                std::slice::from_ref(&entry),
                                &mut KnownBusinesses::default(),
                                now_ms(),
                                MirrorWriter::Job(&job),
                            )
                            .await
                        {
                            tracing::warn!(error = %e, program_id = %id, "could not refresh the program");
                        }
                        Some(status)
                    }
                    Err(read) => {
                        tracing::warn!(error = %read, program_id = %id, "cannot read the program back");
                        None
                    }
                };
                job.yelp_status = Some(UNKNOWN_OUTCOME.into());
                if now_is == Some(wanted) {
                    job.status = JobStatus::Completed;
                } else {
                    let (code, message) = match now_is {
                        Some(_) => ("NOT_APPLIED", format!(
                            "Yelp did not answer and the program is not {}: nothing changed; try again",
                            if pause { "paused" } else { "running" }
                        )),
                        None => ("OUTCOME_UNKNOWN", "Yelp did not answer and the program could not be read back, so the outcome is unknown; check the program before trying again".to_owned()),
                    };
                    job.status = JobStatus::Failed;
                    job.errors = Some(
                        json!([{"field": null, "code": code, "message": message}]).to_string(),
                    );
                }
            }
            Err(e) => {
                job.status = JobStatus::Failed;
                job.errors = Some(submission_errors(&e).to_string());
            }
        }
        let now = now_ms();
        self.inner
            .store
            .finish_job(
                &job.id,
                None,
                job.status,
                job.yelp_status.as_deref(),
                None,
                job.errors.as_deref(),
                None,
                now,
            )
            .await?;
        let _ = self.inner.changes.send(job.id.clone());
        Ok(job.id)
    }

    fn new_job(
        &self,
        user: &User,
        job_type: JobType,
        program_id: Option<String>,
        business_id: Option<String>,
        request: &Asked,
    ) -> JobRecord {
        let now = now_ms();
        JobRecord {
            id: new_id(),
            workspace_id: user.workspace_id.clone(),
            user_id: Some(user.id.clone()),
            username: Some(user.username.clone()),
            job_type,
            program_id,
            business_id,
            request: request.to_json(),
            yelp_job_id: None,
            status: JobStatus::Pending,
            yelp_status: None,
            receipt: None,
            errors: None,
            created_at: now,
            updated_at: now,
            completed_at: None,
            next_poll_at: None,
            poll_count: 0,
            submission_token: None,
            fingerprint: None,
        }
    }

    /// Records what a submission gave: a job to watch, a failure, or an unknown outcome to reconcile.
    /// Never resubmits. The job was recorded before sending, so that a stop while sending leaves a trace
    /// (see the watcher).
    async fn record_submission(
        &self,
        job: JobRecord,
        sent: yelp_partner_api::Result<JobId>,
    ) -> Result<String> {
        let now = now_ms();
        let id = match sent {
            Ok(yelp_job) => {
                let next = now + self.inner.options.interval_ms(0);
                self.inner
                    .store
                    .job_submitted(&job.id, yelp_job.as_str(), next, now)
                    .await?
            }
            Err(e) if outcome_unknown(&e) => {
                // Yelp may have taken it: look at the program instead of sending it again.
                tracing::warn!(error = %e, job_type = job.job_type.as_str(), "submission unanswered; reconciling");
                let next = now + ms(self.inner.options.reconcile_interval);
                self.inner
                    .store
                    .job_outcome_unknown(&job.id, next, now)
                    .await?;
                job.id
            }
            Err(e) => {
                tracing::warn!(error = %e, job_type = job.job_type.as_str(), "submission to Yelp failed");
                let errors = submission_errors(&e).to_string();
                self.inner
                    .store
                    .finish_job(
                        &job.id,
                        None,
                        JobStatus::Failed,
                        None,
                        None,
                        Some(&errors),
                        None,
                        now,
                    )
                    .await?;
                job.id
            }
        };
        let _ = self.inner.changes.send(id.clone());
        Ok(id)
    }

    /// Progress of a job against the median duration of the workspace's last 20 completed jobs of its kind.
    pub async fn progress(&self, job: &JobRecord) -> Result<JobProgress> {
        if job.is_finished() {
            return Ok(JobProgress {
                progress: 100,
                eta_seconds: 0,
            });
        }
        let mut durations = self
            .inner
            .store
            .recent_job_durations(&job.workspace_id, job.job_type, &job.id)
            .await?;
        durations.sort_unstable();
        let typical = durations
            .get(durations.len() / 2)
            .copied()
            .filter(|d| *d > 0)
            .unwrap_or(DEFAULT_TYPICAL_MS);
        let elapsed = (now_ms() - job.created_at).max(0);
        let progress = (elapsed.saturating_mul(100) / typical).min(95);
        Ok(JobProgress {
            progress: u8::try_from(progress).unwrap_or(95),
            eta_seconds: u64::try_from((typical - elapsed).max(0))
                .unwrap_or(0)
                .div_ceil(1000),
        })
    }
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// What makes two creates identical: the business, the type, the start date and the budget.
fn fingerprint(r: &CreateProgram) -> String {
    format!(
        "{}|{}|{}|{}",
        r.business_id.as_str(),
        r.program_type.as_str(),
        r.start.map_or_else(|| "-".to_owned(), |d| d.to_string()),
        r.budget
            .map_or_else(|| "-".to_owned(), |c| c.get().to_string()),
    )
}

/// Whether a failed submission may all the same have reached Yelp and been carried out.
fn outcome_unknown(e: &yelp_partner_api::Error) -> bool {
    use yelp_partner_api::Error as Y;
    matches!(e, Y::Timeout | Y::Transport(_) | Y::Server { .. })
}

/// A duration in milliseconds, for the database's times.
fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The reasons of a submission that failed, as `[{field, code, message}]`.
fn submission_errors(e: &yelp_partner_api::Error) -> Value {
    use yelp_partner_api::Error as Y;
    let (code, message) = match e {
        Y::Rejected {
            id, description, ..
        } => (
            id.clone().unwrap_or_else(|| "REJECTED".into()),
            format!("Yelp refused the request: {description}"),
        ),
        Y::Unauthorized => (
            "UNAUTHORIZED".into(),
            "Yelp rejected the workspace's partner credentials; an admin should check them".into(),
        ),
        Y::NotFound { .. } => (
            "NOT_FOUND".into(),
            "Yelp does not know this program, or this partner account may not do this".into(),
        ),
        Y::RateLimited { .. } => (
            "RATE_LIMITED".into(),
            "Yelp is limiting requests; nothing was changed, try again in a minute".into(),
        ),
        other => ("ERROR".into(), other.to_string()),
    };
    json!([{"field": null, "code": code, "message": message}])
}

/// Fetches a program from Yelp and writes it into the mirror (which bumps the mirror's version), crediting
/// what changed to `writer` in the program's history.
pub(crate) async fn refresh_program(
    store: &Store,
    client: &Client,
    workspace_id: &str,
    program_id: &ProgramId,
    writer: MirrorWriter<'_>,
) -> Result<()> {
    let entry = client.program_info(program_id).await?;
    store
        .write_program_page(
            workspace_id,
            std::slice::from_ref(&entry),
            &mut KnownBusinesses::default(),
            now_ms(),
            writer,
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_start_after_the_first_delay_and_grow_to_the_cap() {
        let options = JobOptions::default();
        let got: Vec<i64> = (0..9).map(|n| options.interval_ms(n)).collect();
        assert_eq!(got[..4], [1000, 1500, 2000, 2000]);
        assert_eq!(got[8], 2_000);
    }
}
