//! The simulator's state: the world behind one mutex, runtime faults and settings, and stats.
//!
//! Every access to the world first completes the jobs that are due, in due order, so the state is
//! the same whether or not anyone polled. The mutex is never held across an `.await`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use fastrand::Rng;
use serde::{Deserialize, Deserializer, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::SimConfig;
use crate::error::SimError;
use crate::feature_log::FeatureLog;
use crate::jobs::{self, Job, JobKind, JobStatus, Payload};
use crate::model::{Business, PauseStatus, Program, ProgramStatus, ProgramType, is_alias_syntax};
use crate::params::RequestedFields;
use crate::portfolio::Portfolios;
use crate::reporting::Reports;
use crate::seed;
use crate::spend::Spend;

/// Offset between the world seed and the seed of runtime ids (jobs, created programs).
const RUNTIME_SEED_OFFSET: u64 = 0x9E37_79B9_7F4A_7C15;
/// Most programs one `add_programs` call may create.
const MAX_ADD: usize = 1_000_000;
/// Longest job duration accepted at run time: one year.
const MAX_JOB_SECONDS: f64 = 31_536_000.0;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock cannot leave these values half-written in a way that matters
    // more than answering, so a poisoned lock is used as it is.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn check_rate(name: &str, rate: f64) -> Result<(), SimError> {
    if (0.0..=1.0).contains(&rate) {
        Ok(())
    } else {
        Err(SimError::Invalid(format!(
            "{name} must be between 0 and 1, got {rate}"
        )))
    }
}

/// Lets a patch tell "absent" (`None`) from "set to null" (`Some(None)`).
fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Injected faults of the partner endpoints, changeable at run time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Faults {
    /// Delay added to every partner request, in milliseconds.
    pub latency_ms: u64,
    /// Fraction of partner requests answered with a plain-text 500/502/503.
    pub error_rate: f64,
    /// Fraction of partner requests answered with 429.
    pub rate_limit_rate: f64,
    /// Fraction of partner requests whose connection is dropped.
    pub drop_rate: f64,
    /// Every `/programs/v1` request with `offset >= n` gets a plain-text 500.
    pub fail_offsets_from: Option<u64>,
    /// Every `business_info` request gets a plain-text 500.
    #[serde(default)]
    pub business_info_fails: bool,
    /// Seconds in the `Retry-After` header of a 429.
    pub retry_after_seconds: u64,
    /// Fraction of create/edit/end submissions and feature writes that Yelp carries out (the job is made
    /// and runs, the features change) but whose answer is lost: the client gets a plain-text 504, as when a
    /// gateway times out.
    #[serde(default)]
    pub lose_answer_rate: f64,
    /// Fraction of partner requests answered 200 with a truncated, unreadable JSON body (the request is
    /// not carried out).
    #[serde(default)]
    pub malformed_rate: f64,
    /// Fraction of partner requests held `stall_ms` before they are handled, as a Yelp slower than the
    /// client's timeout would be (the request is carried out when the hold ends, whoever still waits).
    #[serde(default)]
    pub stall_rate: f64,
    /// How long a stalled request is held, in milliseconds.
    #[serde(default)]
    pub stall_ms: u64,
}

/// A partial update of [`Faults`]; `fail_offsets_from: null` clears that fault.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsPatch {
    /// New latency.
    pub latency_ms: Option<u64>,
    /// New error rate (0..=1).
    pub error_rate: Option<f64>,
    /// New rate-limit rate (0..=1).
    pub rate_limit_rate: Option<f64>,
    /// New drop rate (0..=1).
    pub drop_rate: Option<f64>,
    /// `Some(None)` clears, `Some(Some(n))` sets.
    #[serde(default, deserialize_with = "double_option")]
    pub fail_offsets_from: Option<Option<u64>>,
    /// Whether every `business_info` request fails.
    pub business_info_fails: Option<bool>,
    /// New `Retry-After` seconds.
    pub retry_after_seconds: Option<u64>,
    /// New lost-answer rate (0..=1).
    pub lose_answer_rate: Option<f64>,
    /// New malformed-answer rate (0..=1).
    pub malformed_rate: Option<f64>,
    /// New stall rate (0..=1).
    pub stall_rate: Option<f64>,
    /// New stall length in milliseconds.
    pub stall_ms: Option<u64>,
}

/// Behaviour of the account, changeable at run time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Seconds from submission until a job completes.
    pub job_seconds: f64,
    /// Whether pause/resume exist for this account.
    pub pause_resume: bool,
    /// Smallest accepted `max_bid` in cents.
    pub max_bid_min_cents: i64,
    /// HTTP status of a successful create/edit/end submission (200 or 202).
    pub success_status: u16,
    /// Fraction of completed create receipts without `program_id`.
    pub omit_program_id_rate: f64,
    /// Fraction of `/programs/v1` entries whose `program_metrics` lacks `budget`.
    pub missing_budget_rate: f64,
}

/// A partial update of [`Settings`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    /// New job duration in seconds.
    pub job_seconds: Option<f64>,
    /// Switch pause/resume on or off.
    pub pause_resume: Option<bool>,
    /// New minimum bid.
    pub max_bid_min_cents: Option<i64>,
    /// 200 or 202.
    pub success_status: Option<u16>,
    /// New rate (0..=1).
    pub omit_program_id_rate: Option<f64>,
    /// New rate (0..=1).
    pub missing_budget_rate: Option<f64>,
    /// A new partner password, e.g. to see what a client does when its credentials stop working. Never
    /// shown by `GET /_sim/settings`.
    pub password: Option<String>,
}

/// Request counters of the partner endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Requests per `"METHOD /route/{template}"` (unknown routes under `"OTHER"`).
    pub requests: BTreeMap<String, u64>,
    /// Partner requests in flight now.
    pub in_flight: usize,
    /// Most partner requests in flight at once since start or the last reset, queued ones included.
    pub max_in_flight: usize,
    /// Most partner requests waiting for a slot at once (always 0 without `--capacity`).
    pub max_queue: usize,
    /// Time requests spent waiting for a slot, summed over requests, in milliseconds.
    pub total_queue_wait_ms: u64,
    /// Longest wait of one request for a slot, in milliseconds.
    pub max_queue_wait_ms: u64,
    /// Requests answered 429 because the queue was full (`--queue-max`).
    pub queue_full: u64,
}

/// One job as the control API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobSummary {
    /// Job id.
    pub job_id: String,
    /// create, edit or end.
    pub kind: JobKind,
    /// PROCESSING, COMPLETED or REJECTED.
    pub status: JobStatus,
    /// Submission time (receipt format).
    pub created_at: String,
    /// Completion time, once completed.
    pub completed_at: Option<String>,
    /// Program edited or ended, or created once completed (even when the receipt omits it).
    pub program_id: Option<String>,
    /// Business the receipt reports on.
    pub business_id: String,
}

/// What `add_programs` should create.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddPrograms {
    /// How many programs.
    pub count: usize,
    /// Owner of all of them; random businesses when absent.
    #[serde(default)]
    pub business_id: Option<String>,
    /// Type of all of them; the seed mix when absent.
    #[serde(default)]
    pub program_type: Option<ProgramType>,
}

/// A raw change of a program (no business rules beyond type checks), as if made at Yelp.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramPatch {
    /// CPC budget in cents.
    pub budget: Option<i64>,
    /// CPC max bid in cents; `Some(None)` sets null.
    #[serde(default, deserialize_with = "double_option")]
    pub max_bid: Option<Option<i64>>,
    /// CPC autobid.
    pub is_autobid: Option<bool>,
    /// ACTIVE or INACTIVE.
    pub program_status: Option<ProgramStatus>,
    /// PAUSED (CPC only) or NOT_PAUSED.
    pub program_pause_status: Option<PauseStatus>,
    /// New start date.
    pub start_date: Option<NaiveDate>,
    /// New end date.
    pub end_date: Option<NaiveDate>,
    /// CPC category aliases.
    pub ad_categories: Option<Vec<String>>,
    /// CPC billed clicks.
    pub billed_clicks: Option<i64>,
    /// CPC billed impressions.
    pub billed_impressions: Option<i64>,
    /// CPC spend in cents.
    pub ad_cost: Option<i64>,
}

/// A change of a business, as if made at Yelp. `active` is applied first, so that one patch can reopen a
/// business and then close it for a named reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessPatch {
    /// `true` makes the business able to advertise (not held back, not closed, in search); `false` holds it
    /// back for a reason business info does not show (`BUSINESS_NOT_ACTIVE` on create).
    pub active: Option<bool>,
    /// New category aliases.
    pub categories: Option<Vec<String>>,
    /// A new name (1 to 200 characters, not blank).
    pub name: Option<String>,
    /// Closed or open again.
    pub is_closed: Option<bool>,
    /// Removed from search or back in it.
    pub is_removed_from_search: Option<bool>,
    /// The business id the listing moved to; `null` undoes the migration.
    #[serde(default, deserialize_with = "double_option")]
    pub migrated_to: Option<Option<String>>,
}

/// Everything that the partner API reads and changes.
pub(crate) struct World {
    today_override: Option<NaiveDate>,
    businesses: Vec<Business>,
    business_index: HashMap<String, usize>,
    /// Program ids in listing order; new programs are appended.
    pub(crate) order: Vec<String>,
    pub(crate) programs: HashMap<String, Program>,
    jobs: HashMap<String, Job>,
    /// Job ids in submission order, for expiry.
    job_order: VecDeque<String>,
    /// Jobs not completed yet, by due time then submission order.
    pending: BTreeMap<(Instant, u64), String>,
    job_seq: u64,
    /// Source of runtime ids and runtime dice, seeded so that runs are reproducible.
    pub(crate) rng: Rng,
    pub(crate) settings: Settings,
    retention: Duration,
    /// Portfolio projects of YELP_PORTFOLIO programs.
    pub(crate) portfolios: Portfolios,
    /// Every features POST and DELETE, in order.
    pub(crate) feature_log: FeatureLog,
    /// Simulated days (how far "today" was advanced) and the daily figures behind CPC spend.
    pub(crate) spend: Spend,
    /// Reporting API v3: its key, settings and reports.
    pub(crate) reports: Reports,
}

impl World {
    fn new(config: &SimConfig) -> Self {
        let today = config.today.unwrap_or_else(|| Utc::now().date_naive());
        let (businesses, programs) =
            seed::world(config.seed, config.businesses, config.programs, today);
        let business_index = businesses
            .iter()
            .enumerate()
            .map(|(i, b)| (b.yelp_business_id.clone(), i))
            .collect();
        let order = programs.iter().map(|p| p.program_id.clone()).collect();
        let programs = programs
            .into_iter()
            .map(|p| (p.program_id.clone(), p))
            .collect();
        Self {
            today_override: config.today,
            businesses,
            business_index,
            order,
            programs,
            jobs: HashMap::new(),
            job_order: VecDeque::new(),
            pending: BTreeMap::new(),
            job_seq: 0,
            rng: Rng::with_seed(
                config
                    .runtime_seed
                    .unwrap_or_else(|| config.seed.wrapping_add(RUNTIME_SEED_OFFSET)),
            ),
            settings: Settings {
                job_seconds: config.job_seconds,
                pause_resume: config.pause_resume,
                max_bid_min_cents: config.max_bid_min_cents,
                success_status: config.success_status,
                omit_program_id_rate: config.omit_program_id_rate,
                missing_budget_rate: config.missing_budget_rate,
            },
            retention: Duration::from_secs(config.job_retention_seconds),
            portfolios: Portfolios::default(),
            feature_log: FeatureLog::default(),
            spend: Spend::default(),
            reports: Reports::new(config),
        }
    }

    /// The simulator's today: pinned, or the current UTC date, moved on by `POST /_sim/advance`.
    pub(crate) fn today(&self) -> NaiveDate {
        self.today_at(Utc::now())
    }

    /// The simulator's today at the moment `at`.
    pub(crate) fn today_at(&self, at: DateTime<Utc>) -> NaiveDate {
        let day = self.today_override.unwrap_or_else(|| at.date_naive());
        seed::shift(day, self.spend.days_advanced())
    }

    pub(crate) fn business(&self, id: &str) -> Option<&Business> {
        self.business_index
            .get(id)
            .and_then(|&i| self.businesses.get(i))
    }

    fn business_mut(&mut self, id: &str) -> Option<&mut Business> {
        self.business_index
            .get(id)
            .and_then(|&i| self.businesses.get_mut(i))
    }

    pub(crate) fn businesses(&self) -> &[Business] {
        &self.businesses
    }

    /// Programs in listing order.
    pub(crate) fn listing(&self) -> impl Iterator<Item = &Program> {
        self.order.iter().filter_map(|id| self.programs.get(id))
    }

    pub(crate) fn insert_program(&mut self, program: Program) {
        self.order.push(program.program_id.clone());
        self.programs.insert(program.program_id.clone(), program);
    }

    fn remove_program(&mut self, id: &str) -> Option<Program> {
        let program = self.programs.remove(id)?;
        if let Some(position) = self.order.iter().position(|p| p == id) {
            self.order.remove(position);
        }
        Some(program)
    }

    /// A runtime die: `true` with probability `rate`. Draws nothing when the rate is 0 or 1, so
    /// that switching a rate on does not shift the ids generated otherwise.
    pub(crate) fn roll(&mut self, rate: f64) -> bool {
        if rate <= 0.0 {
            false
        } else if rate >= 1.0 {
            true
        } else {
            self.rng.f64() < rate
        }
    }

    /// Records a job and returns its id.
    pub(crate) fn submit(
        &mut self,
        payload: Payload,
        identifier: String,
        requested: RequestedFields,
    ) -> String {
        let mut id = seed::new_id(&mut self.rng);
        // The first job id of a run starts with '-' so that clients meet that case early (§1).
        if self.job_seq == 0 {
            id.replace_range(0..1, "-");
        }
        while self.jobs.contains_key(&id) {
            id = seed::new_id(&mut self.rng);
        }
        let created = Instant::now();
        let created_at = Utc::now();
        let wait = Duration::try_from_secs_f64(self.settings.job_seconds).unwrap_or(Duration::MAX);
        let due = created
            .checked_add(wait)
            .unwrap_or_else(|| created + Duration::from_secs(MAX_JOB_SECONDS as u64));
        let due_at = TimeDelta::from_std(wait)
            .ok()
            .and_then(|delta| created_at.checked_add_signed(delta))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let program_id = match &payload {
            Payload::Create(_) => None,
            Payload::Edit { program_id, .. } | Payload::End { program_id } => {
                Some(program_id.clone())
            }
        };
        let seq = self.job_seq;
        self.job_seq += 1;
        self.jobs.insert(
            id.clone(),
            Job {
                id: id.clone(),
                payload,
                identifier,
                requested,
                created_at,
                created,
                due_at,
                program_id,
                outcome: None,
            },
        );
        self.job_order.push_back(id.clone());
        self.pending.insert((due, seq), id.clone());
        id
    }

    /// Completes every job due by `now`, in due order, and forgets expired ones.
    fn settle(&mut self, now: Instant) {
        while let Some(entry) = self.pending.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let id = entry.remove();
            if let Some(mut job) = self.jobs.remove(&id) {
                jobs::complete(self, &mut job);
                self.jobs.insert(id, job);
            }
        }
        while let Some(front) = self.job_order.front() {
            let expired = self.jobs.get(front).is_none_or(|job| {
                job.outcome.is_some() && now.duration_since(job.created) > self.retention
            });
            if !expired {
                break;
            }
            if let Some(id) = self.job_order.pop_front() {
                self.jobs.remove(&id);
            }
        }
    }

    /// A job that is known and not expired.
    pub(crate) fn job(&self, id: &str) -> Option<&Job> {
        self.jobs
            .get(id)
            .filter(|job| job.created.elapsed() <= self.retention)
    }
}

/// In-flight partner request; dropping it leaves the gauge.
pub(crate) struct InFlight(Arc<Inner>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A fault the dice chose for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Plain-text 5xx with this status.
    ServerError(u16),
    /// 429 with `Retry-After`.
    RateLimited,
    /// Abort the connection.
    Drop,
    /// 200 with a truncated JSON body.
    Malformed,
}

struct Inner {
    config: SimConfig,
    world: Mutex<World>,
    faults: Mutex<Faults>,
    fault_rng: Mutex<Rng>,
    /// The partner password now in force (the configured one until a settings change).
    password: Mutex<String>,
    requests: Mutex<BTreeMap<String, u64>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// The account's slots (`--capacity`); `None` when unlimited. tokio's semaphore is fair: waiters are
    /// served in arrival order, as Yelp's queue is.
    slots: Option<Arc<Semaphore>>,
    queued: AtomicUsize,
    max_queue: AtomicUsize,
    queue_wait_total_us: AtomicU64,
    queue_wait_max_us: AtomicU64,
    queue_full: AtomicU64,
}

/// A request refused because too many wait for a slot already.
#[derive(Debug)]
pub(crate) struct QueueFull;

/// Leaves the queue gauge when dropped (also when the client goes away while waiting).
struct Queued<'a>(&'a Inner);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.queued.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Shared handle on the simulator's state; cheap to clone.
#[derive(Clone)]
pub struct SimState {
    inner: Arc<Inner>,
}

// By hand: the world can hold 100k programs, too many for a debug line.
impl std::fmt::Debug for SimState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimState")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl SimState {
    /// Generates the seeded world of `config`.
    pub fn new(config: SimConfig) -> Self {
        let world = World::new(&config);
        let faults = Faults {
            latency_ms: config.latency_ms,
            error_rate: config.error_rate,
            rate_limit_rate: config.rate_limit_rate,
            drop_rate: config.drop_rate,
            fail_offsets_from: None,
            business_info_fails: false,
            retry_after_seconds: config.retry_after_seconds,
            lose_answer_rate: 0.0,
            malformed_rate: config.malformed_rate,
            stall_rate: config.stall_rate,
            stall_ms: config.stall_ms,
        };
        let fault_rng = Rng::with_seed(config.fault_seed);
        let password = Mutex::new(config.password.clone());
        Self {
            inner: Arc::new(Inner {
                world: Mutex::new(world),
                faults: Mutex::new(faults),
                fault_rng: Mutex::new(fault_rng),
                password,
                requests: Mutex::new(BTreeMap::new()),
                in_flight: AtomicUsize::new(0),
                max_in_flight: AtomicUsize::new(0),
                slots: (config.capacity > 0).then(|| Arc::new(Semaphore::new(config.capacity))),
                queued: AtomicUsize::new(0),
                max_queue: AtomicUsize::new(0),
                queue_wait_total_us: AtomicU64::new(0),
                queue_wait_max_us: AtomicU64::new(0),
                queue_full: AtomicU64::new(0),
                config,
            }),
        }
    }

    /// The configuration the simulator started with.
    pub fn config(&self) -> &SimConfig {
        &self.inner.config
    }

    /// Runs `f` on the world after completing the jobs that are due.
    pub(crate) fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let mut world = lock(&self.inner.world);
        world.settle(Instant::now());
        f(&mut world)
    }

    /// Completes the jobs that are due now (every other method does this first anyway).
    pub fn settle_jobs(&self) {
        self.with_world(|_| ());
    }

    /// The simulator's today.
    pub fn today(&self) -> NaiveDate {
        self.with_world(|w| w.today())
    }

    /// Every program, in listing order.
    pub fn programs(&self) -> Vec<Program> {
        self.with_world(|w| w.listing().cloned().collect())
    }

    /// One program.
    pub fn program(&self, program_id: &str) -> Option<Program> {
        self.with_world(|w| w.programs.get(program_id).cloned())
    }

    /// How many programs exist.
    pub fn program_count(&self) -> usize {
        self.with_world(|w| w.order.len())
    }

    /// Every business, in seed order.
    pub fn businesses(&self) -> Vec<Business> {
        self.with_world(|w| w.businesses().to_vec())
    }

    /// One business.
    pub fn business(&self, business_id: &str) -> Option<Business> {
        self.with_world(|w| w.business(business_id).cloned())
    }

    /// Creates running programs like the seeded ones, appended to the listing; returns their ids.
    pub fn add_programs(&self, request: &AddPrograms) -> Result<Vec<String>, SimError> {
        if request.count > MAX_ADD {
            return Err(SimError::Invalid(format!(
                "count must be at most {MAX_ADD}"
            )));
        }
        self.with_world(|w| {
            let owner =
                match &request.business_id {
                    Some(id) => Some(w.business(id).cloned().ok_or_else(|| {
                        SimError::Invalid(format!("business {id} does not exist"))
                    })?),
                    None => None,
                };
            if owner.is_none() && w.businesses.is_empty() && request.count > 0 {
                return Err(SimError::Invalid("the world has no businesses".into()));
            }
            let today = w.today();
            let mut ids = Vec::with_capacity(request.count);
            for _ in 0..request.count {
                let business = match &owner {
                    Some(b) => b.clone(),
                    None => {
                        let index = w.rng.usize(..w.businesses.len());
                        w.businesses[index].clone()
                    }
                };
                let program_type = request
                    .program_type
                    .unwrap_or_else(|| seed::program_type(&mut w.rng));
                let program = seed::program(
                    &mut w.rng,
                    &business,
                    program_type,
                    seed::Lifecycle::Running,
                    today,
                );
                ids.push(program.program_id.clone());
                w.insert_program(program);
            }
            Ok(ids)
        })
    }

    /// Deletes a program as if it was deleted at Yelp; later listing offsets shift.
    pub fn remove_program(&self, program_id: &str) -> Result<Program, SimError> {
        self.with_world(|w| w.remove_program(program_id))
            .ok_or_else(|| SimError::NotFound(format!("program {program_id} does not exist")))
    }

    /// Changes a program directly; all values are checked before anything changes.
    pub fn patch_program(
        &self,
        program_id: &str,
        patch: &ProgramPatch,
    ) -> Result<Program, SimError> {
        self.with_world(|w| {
            let program = w.programs.get_mut(program_id).ok_or_else(|| {
                SimError::NotFound(format!("program {program_id} does not exist"))
            })?;
            let is_cpc = program.program_metrics.is_some();
            let cpc_fields = [
                ("budget", patch.budget.is_some()),
                ("max_bid", patch.max_bid.is_some()),
                ("is_autobid", patch.is_autobid.is_some()),
                ("ad_categories", patch.ad_categories.is_some()),
                ("billed_clicks", patch.billed_clicks.is_some()),
                ("billed_impressions", patch.billed_impressions.is_some()),
                ("ad_cost", patch.ad_cost.is_some()),
            ];
            if !is_cpc {
                if let Some((name, _)) = cpc_fields.iter().find(|(_, given)| *given) {
                    return Err(SimError::Invalid(format!(
                        "{name} applies to CPC programs only; {program_id} is {}",
                        program.program_type
                    )));
                }
                if patch.program_pause_status == Some(PauseStatus::Paused) {
                    return Err(SimError::Invalid("only CPC programs can be paused".into()));
                }
            }
            let counts = [
                ("budget", patch.budget),
                ("max_bid", patch.max_bid.flatten()),
                ("billed_clicks", patch.billed_clicks),
                ("billed_impressions", patch.billed_impressions),
                ("ad_cost", patch.ad_cost),
            ];
            if let Some((name, value)) = counts.iter().find(|(_, v)| v.is_some_and(|v| v < 0)) {
                return Err(SimError::Invalid(format!(
                    "{name} must not be negative, got {}",
                    value.unwrap_or_default()
                )));
            }
            if let Some(bad) = patch
                .ad_categories
                .iter()
                .flatten()
                .find(|alias| !is_alias_syntax(alias))
            {
                return Err(SimError::Invalid(format!(
                    "`{bad}` is not a category alias"
                )));
            }

            if let Some(status) = patch.program_status {
                program.program_status = status;
            }
            if let Some(pause) = patch.program_pause_status {
                program.program_pause_status = pause;
            }
            if let Some(start) = patch.start_date {
                program.start_date = start;
            }
            if let Some(end) = patch.end_date {
                program.end_date = end;
            }
            if let Some(categories) = &patch.ad_categories {
                program.ad_categories = categories.clone();
            }
            if let Some(metrics) = program.program_metrics.as_mut() {
                if let Some(budget) = patch.budget {
                    metrics.budget = budget;
                }
                if let Some(max_bid) = patch.max_bid {
                    metrics.max_bid = max_bid;
                }
                if let Some(is_autobid) = patch.is_autobid {
                    metrics.is_autobid = is_autobid;
                }
                if let Some(clicks) = patch.billed_clicks {
                    metrics.billed_clicks = clicks;
                }
                if let Some(impressions) = patch.billed_impressions {
                    metrics.billed_impressions = impressions;
                }
                if let Some(ad_cost) = patch.ad_cost {
                    metrics.ad_cost = ad_cost;
                }
            }
            Ok(program.clone())
        })
    }

    /// Lets a business advertise again, or holds it back (`BUSINESS_NOT_ACTIVE` on create).
    pub fn set_business_active(
        &self,
        business_id: &str,
        active: bool,
    ) -> Result<Business, SimError> {
        self.patch_business(
            business_id,
            &BusinessPatch {
                active: Some(active),
                ..BusinessPatch::default()
            },
        )
    }

    /// Changes a business; every value is checked before anything changes.
    pub fn patch_business(
        &self,
        business_id: &str,
        patch: &BusinessPatch,
    ) -> Result<Business, SimError> {
        patch.check(business_id)?;
        self.with_world(|w| {
            let business = w.business_mut(business_id).ok_or_else(|| {
                SimError::NotFound(format!("business {business_id} does not exist"))
            })?;
            business.apply(patch);
            Ok(business.clone())
        })
    }

    /// Every job still kept, in submission order.
    pub fn jobs(&self) -> Vec<JobSummary> {
        self.with_world(|w| {
            w.job_order
                .iter()
                .filter_map(|id| w.job(id))
                .map(|job| JobSummary {
                    job_id: job.id.clone(),
                    kind: job.payload.kind(),
                    status: job
                        .outcome
                        .as_ref()
                        .map_or(JobStatus::Processing, |o| o.status),
                    created_at: jobs::timestamp(job.created_at),
                    completed_at: job.outcome.as_ref().map(|_| jobs::timestamp(job.due_at)),
                    program_id: job.program_id.clone(),
                    business_id: job.identifier.clone(),
                })
                .collect()
        })
    }

    /// The current faults.
    pub fn faults(&self) -> Faults {
        lock(&self.inner.faults).clone()
    }

    /// Changes some faults; rates must be within 0..=1. Returns the faults now in force.
    pub fn set_faults(&self, patch: &FaultsPatch) -> Result<Faults, SimError> {
        for (name, rate) in [
            ("error_rate", patch.error_rate),
            ("rate_limit_rate", patch.rate_limit_rate),
            ("drop_rate", patch.drop_rate),
            ("lose_answer_rate", patch.lose_answer_rate),
            ("malformed_rate", patch.malformed_rate),
            ("stall_rate", patch.stall_rate),
        ] {
            if let Some(rate) = rate {
                check_rate(name, rate)?;
            }
        }
        let mut faults = lock(&self.inner.faults);
        if let Some(v) = patch.latency_ms {
            faults.latency_ms = v;
        }
        if let Some(v) = patch.error_rate {
            faults.error_rate = v;
        }
        if let Some(v) = patch.rate_limit_rate {
            faults.rate_limit_rate = v;
        }
        if let Some(v) = patch.drop_rate {
            faults.drop_rate = v;
        }
        if let Some(v) = patch.fail_offsets_from {
            faults.fail_offsets_from = v;
        }
        if let Some(v) = patch.business_info_fails {
            faults.business_info_fails = v;
        }
        if let Some(v) = patch.retry_after_seconds {
            faults.retry_after_seconds = v;
        }
        if let Some(v) = patch.lose_answer_rate {
            faults.lose_answer_rate = v;
        }
        if let Some(v) = patch.malformed_rate {
            faults.malformed_rate = v;
        }
        if let Some(v) = patch.stall_rate {
            faults.stall_rate = v;
        }
        if let Some(v) = patch.stall_ms {
            faults.stall_ms = v;
        }
        Ok(faults.clone())
    }

    /// The current settings.
    pub fn settings(&self) -> Settings {
        self.with_world(|w| w.settings.clone())
    }

    /// Changes some settings. Returns the settings now in force.
    pub fn set_settings(&self, patch: &SettingsPatch) -> Result<Settings, SimError> {
        if let Some(seconds) = patch
            .job_seconds
            .filter(|s| !(s.is_finite() && (0.0..=MAX_JOB_SECONDS).contains(s)))
        {
            return Err(SimError::Invalid(format!(
                "job_seconds must be between 0 and {MAX_JOB_SECONDS}, got {seconds}"
            )));
        }
        if let Some(status) = patch.success_status.filter(|s| *s != 200 && *s != 202) {
            return Err(SimError::Invalid(format!(
                "success_status must be 200 or 202, got {status}"
            )));
        }
        if patch.max_bid_min_cents.is_some_and(|c| c < 0) {
            return Err(SimError::Invalid(
                "max_bid_min_cents must not be negative".into(),
            ));
        }
        for (name, rate) in [
            ("omit_program_id_rate", patch.omit_program_id_rate),
            ("missing_budget_rate", patch.missing_budget_rate),
        ] {
            if let Some(rate) = rate {
                check_rate(name, rate)?;
            }
        }
        if let Some(password) = &patch.password {
            *lock(&self.inner.password) = password.clone();
        }
        Ok(self.with_world(|w| {
            let settings = &mut w.settings;
            if let Some(v) = patch.job_seconds {
                settings.job_seconds = v;
            }
            if let Some(v) = patch.pause_resume {
                settings.pause_resume = v;
            }
            if let Some(v) = patch.max_bid_min_cents {
                settings.max_bid_min_cents = v;
            }
            if let Some(v) = patch.success_status {
                settings.success_status = v;
            }
            if let Some(v) = patch.omit_program_id_rate {
                settings.omit_program_id_rate = v;
            }
            if let Some(v) = patch.missing_budget_rate {
                settings.missing_budget_rate = v;
            }
            settings.clone()
        }))
    }

    /// Request counters since start or the last reset.
    pub fn stats(&self) -> Stats {
        Stats {
            requests: lock(&self.inner.requests).clone(),
            in_flight: self.inner.in_flight.load(Ordering::SeqCst),
            max_in_flight: self.inner.max_in_flight.load(Ordering::SeqCst),
            max_queue: self.inner.max_queue.load(Ordering::SeqCst),
            total_queue_wait_ms: self.inner.queue_wait_total_us.load(Ordering::SeqCst) / 1000,
            max_queue_wait_ms: self.inner.queue_wait_max_us.load(Ordering::SeqCst) / 1000,
            queue_full: self.inner.queue_full.load(Ordering::SeqCst),
        }
    }

    /// Clears the counters; `max_in_flight` restarts from the requests in flight now.
    pub fn reset_stats(&self) {
        lock(&self.inner.requests).clear();
        let now = self.inner.in_flight.load(Ordering::SeqCst);
        self.inner.max_in_flight.store(now, Ordering::SeqCst);
        let queued = self.inner.queued.load(Ordering::SeqCst);
        self.inner.max_queue.store(queued, Ordering::SeqCst);
        self.inner.queue_wait_total_us.store(0, Ordering::SeqCst);
        self.inner.queue_wait_max_us.store(0, Ordering::SeqCst);
        self.inner.queue_full.store(0, Ordering::SeqCst);
    }

    /// Waits, in arrival order, for one of the account's slots (`--capacity`), held until the permit
    /// drops; at once when the capacity is unlimited. Refused when `--queue-max` requests wait already.
    pub(crate) async fn take_slot(&self) -> Result<Option<OwnedSemaphorePermit>, QueueFull> {
        let inner = &*self.inner;
        let Some(slots) = &inner.slots else {
            return Ok(None);
        };
        if let Ok(permit) = Arc::clone(slots).try_acquire_owned() {
            return Ok(Some(permit));
        }
        let waiting = inner.queued.fetch_add(1, Ordering::SeqCst) + 1;
        let queued = Queued(inner);
        if inner.config.queue_max.is_some_and(|max| waiting > max) {
            drop(queued);
            inner.queue_full.fetch_add(1, Ordering::SeqCst);
            return Err(QueueFull);
        }
        inner.max_queue.fetch_max(waiting, Ordering::SeqCst);
        let started = Instant::now();
        // The semaphore is never closed.
        let permit = Arc::clone(slots).acquire_owned().await.ok();
        drop(queued);
        let waited = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        inner
            .queue_wait_total_us
            .fetch_add(waited, Ordering::SeqCst);
        inner.queue_wait_max_us.fetch_max(waited, Ordering::SeqCst);
        Ok(permit)
    }

    /// Counts one request under `key` (`"GET /programs/v1"`, `"OTHER"`).
    pub(crate) fn count_request(&self, key: &str) {
        let mut requests = lock(&self.inner.requests);
        match requests.get_mut(key) {
            Some(count) => *count += 1,
            None => {
                requests.insert(key.to_owned(), 1);
            }
        }
    }

    /// Enters the in-flight gauge until the guard drops.
    pub(crate) fn enter(&self) -> InFlight {
        let now = self.inner.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.inner.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(Arc::clone(&self.inner))
    }

    /// Rolls the fault dice for one request.
    /// Whether the answer to a submission that was carried out is lost.
    pub(crate) fn roll_lost_answer(&self, faults: &Faults) -> bool {
        let rate = faults.lose_answer_rate;
        rate > 0.0 && lock(&self.inner.fault_rng).f64() < rate
    }

    pub(crate) fn roll_fault(&self, faults: &Faults) -> Option<Fault> {
        let mut rng = lock(&self.inner.fault_rng);
        let mut hit = |rate: f64| rate > 0.0 && rng.f64() < rate;
        if hit(faults.error_rate) {
            let status = [500, 502, 503][rng.usize(..3)];
            return Some(Fault::ServerError(status));
        }
        if hit(faults.rate_limit_rate) {
            return Some(Fault::RateLimited);
        }
        if hit(faults.drop_rate) {
            return Some(Fault::Drop);
        }
        if hit(faults.malformed_rate) {
            return Some(Fault::Malformed);
        }
        None
    }

    /// How long to hold this request before handling it, if the stall dice say so.
    pub(crate) fn roll_stall(&self, faults: &Faults) -> Option<Duration> {
        let rate = faults.stall_rate;
        (rate > 0.0 && lock(&self.inner.fault_rng).f64() < rate)
            .then(|| Duration::from_millis(faults.stall_ms))
    }

    /// Whether `user:password` are the partner credentials.
    pub(crate) fn credentials_match(&self, user: &str, password: &str) -> bool {
        let config = &self.inner.config;
        let expected = lock(&self.inner.password).clone();
        // Compare both fields in full so the time taken does not tell which one was wrong.
        let user_ok = constant_time_eq(user.as_bytes(), config.username.as_bytes());
        let password_ok = constant_time_eq(password.as_bytes(), expected.as_bytes());
        user_ok & password_ok
    }
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (x, y) in a.iter().zip(b) {
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> SimConfig {
        SimConfig {
            programs: 50,
            businesses: 10,
            today: NaiveDate::from_ymd_opt(2026, 3, 19),
            ..SimConfig::for_tests()
        }
    }

    #[test]
    fn added_programs_are_appended_and_removed_ones_shift_the_listing() {
        let state = SimState::new(config());
        let ids = state
            .add_programs(&AddPrograms {
                count: 3,
                business_id: None,
                program_type: Some(ProgramType::Cpc),
            })
            .expect("added");
        let programs = state.programs();
        assert_eq!(programs.len(), 53);
        assert_eq!(programs[50].program_id, ids[0]);
        let second = programs[1].program_id.clone();
        state
            .remove_program(&programs[0].program_id)
            .expect("removed");
        assert_eq!(state.programs()[0].program_id, second);
        assert!(matches!(
            state.remove_program("nope"),
            Err(SimError::NotFound(_))
        ));
    }

    #[test]
    fn patches_check_every_value_before_changing_anything() {
        let state = SimState::new(config());
        let non_cpc = state
            .programs()
            .into_iter()
            .find(|p| p.program_metrics.is_none())
            .expect("a non-CPC program");
        let patch = ProgramPatch {
            end_date: NaiveDate::from_ymd_opt(2030, 1, 1),
            budget: Some(5000),
            ..ProgramPatch::default()
        };
        assert!(state.patch_program(&non_cpc.program_id, &patch).is_err());
        assert_eq!(state.program(&non_cpc.program_id), Some(non_cpc));
    }

    #[test]
    fn fault_and_setting_rates_outside_zero_to_one_are_refused() {
        let state = SimState::new(config());
        let faults = FaultsPatch {
            error_rate: Some(1.5),
            ..FaultsPatch::default()
        };
        assert!(state.set_faults(&faults).is_err());
        let settings = SettingsPatch {
            success_status: Some(201),
            ..SettingsPatch::default()
        };
        assert!(state.set_settings(&settings).is_err());
        let set = state
            .set_faults(&FaultsPatch {
                fail_offsets_from: Some(Some(80)),
                ..FaultsPatch::default()
            })
            .expect("valid");
        assert_eq!(set.fail_offsets_from, Some(80));
    }

    #[test]
    fn credentials_are_compared_exactly() {
        let state = SimState::new(config());
        assert!(state.credentials_match("demo", "demo"));
        assert!(!state.credentials_match("demo", "demo2"));
        assert!(!state.credentials_match("", ""));
        state
            .set_settings(&SettingsPatch {
                password: Some("changed".into()),
                ..SettingsPatch::default()
            })
            .expect("valid");
        assert!(!state.credentials_match("demo", "demo"));
        assert!(state.credentials_match("demo", "changed"));
        assert!(
            !serde_json::to_string(&state.settings())
                .unwrap()
                .contains("changed")
        );
    }
}
