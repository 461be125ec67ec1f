//! Bulk changes: a change set stages one operation (or an imported file) over many programs, is checked
//! against the mirror with the rules of a single change, and is posted as one tracked batch: each item
//! becomes a job of its own through [`JobService`] (and so the workspace's rate limit and the job
//! watcher), sent once, from a poster whose state is in the database, so that a restarted (or another)
//! instance carries the batch on without sending an item twice.

pub mod import;
pub mod operation;
mod poster;
mod schedules;

pub use schedules::{Schedule, TimeTextError, schedule_time};

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use tokio::sync::{broadcast, watch};

use self::operation::{Change, Operation, Snapshot};
use crate::error::{Error, Result};
use crate::features::FeatureService;
use crate::jobs::{JobService, SubmissionToken, validate};
use crate::store::{
    AuditAction, AuditEvent, ChangeSetRecord, ChangeSetState, ItemRecord, ItemState, ItemWrite,
    JobStatus, Store, StoredProgram, User, new_id, now_ms,
};

/// The most programs one change set takes.
pub const MAX_ITEMS: usize = 10_000;

/// How the poster works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostOptions {
    /// How often it looks for change sets to post.
    pub tick: Duration,
    /// How long its claim on a change set lasts; a poster that died frees its change sets after this.
    pub lease_ttl: Duration,
    /// Items of one change set sent at once (each one Yelp request, under the workspace's rate limit).
    pub in_flight: usize,
    /// A scheduled change that came due longer ago than this while no instance ran is missed, not fired.
    pub schedule_grace: Duration,
    /// Added to the clock of scheduled changes (tests move time forward with it); 0 in service.
    pub clock_offset_ms: i64,
}

impl Default for PostOptions {
    fn default() -> Self {
        Self {
            tick: Duration::from_millis(250),
            lease_ttl: Duration::from_secs(30),
            in_flight: 8,
            schedule_grace: Duration::from_secs(24 * 60 * 60),
            clock_offset_ms: 0,
        }
    }
}

/// Where an item stands, with its job's outcome once it has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemStatus {
    /// Staged, not checked.
    Staged,
    /// Checked: it will be sent.
    Ready,
    /// The program holds it already.
    NoOp,
    /// The program changed at Yelp since it was staged.
    Conflict,
    /// A rule refuses it.
    Refused,
    /// Left out.
    Dropped,
    /// Being sent.
    Sending,
    /// Its job is under way.
    InProgress,
    /// Its job completed.
    Completed,
    /// Not sent, or its job failed.
    Failed,
}

impl ItemStatus {
    /// As the API and pages name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staged => "staged",
            Self::Ready => "ready",
            Self::NoOp => "no_op",
            Self::Conflict => "conflict",
            Self::Refused => "refused",
            Self::Dropped => "dropped",
            Self::Sending => "sending",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    fn of(record: &ItemRecord) -> Self {
        match record.state {
            ItemState::Staged => Self::Staged,
            ItemState::Ready => Self::Ready,
            ItemState::NoOp => Self::NoOp,
            ItemState::Conflict => Self::Conflict,
            ItemState::Refused => Self::Refused,
            ItemState::Dropped => Self::Dropped,
            ItemState::Sending => Self::Sending,
            ItemState::Failed => Self::Failed,
            ItemState::Completed => Self::Completed,
            ItemState::Sent => match record.job_status() {
                Some(JobStatus::Completed) => Self::Completed,
                Some(JobStatus::Failed) => Self::Failed,
                _ => Self::InProgress,
            },
        }
    }

    /// Whether it will not change any more.
    pub fn is_final(self) -> bool {
        !matches!(
            self,
            Self::Staged | Self::Ready | Self::Sending | Self::InProgress
        )
    }
}

/// One program's change in a change set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// Its order, from 0.
    pub position: i64,
    /// The program.
    pub program_id: String,
    /// What it changes; `None` when the operation does not apply to the program at all.
    pub change: Option<Change>,
    /// The program's fields it was staged (or confirmed) against.
    pub before: Snapshot,
    /// Where it stands.
    pub status: ItemStatus,
    /// Why it is refused, a conflict or failed.
    pub message: Option<String>,
    /// Its job, once sent.
    pub job_id: Option<String>,
}

impl Item {
    /// What it does, in words: "Budget $75.00 → $82.50".
    pub fn describe(&self) -> String {
        self.change
            .as_ref()
            .map_or_else(|| "Does not apply".to_owned(), |c| c.describe(&self.before))
    }

    fn of(record: ItemRecord) -> Self {
        let status = ItemStatus::of(&record);
        // A failed job's own reason, when the item has none of its own.
        let message = record.message.clone().or_else(|| {
            (status == ItemStatus::Failed)
                .then(|| job_reason(record.job_errors.as_deref()))
                .flatten()
        });
        Self {
            position: record.position,
            change: serde_json::from_str(&record.change).ok().flatten(),
            before: serde_json::from_str(&record.before).unwrap_or_default(),
            program_id: record.program_id,
            status,
            message,
            job_id: record.job_id,
        }
    }
}

/// The messages of a failed job's reasons, joined.
fn job_reason(errors: Option<&str>) -> Option<String> {
    let list: Vec<serde_json::Value> = serde_json::from_str(errors?).ok()?;
    let messages: Vec<&str> = list
        .iter()
        .filter_map(|e| e.get("message").and_then(serde_json::Value::as_str))
        .collect();
    (!messages.is_empty()).then(|| messages.join("; "))
}

/// How many items stand where.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Every item.
    pub items: usize,
    /// Items that change their program (staged, ready, being sent or sent).
    pub changes: usize,
    /// Items that change nothing.
    pub no_ops: usize,
    /// Programs changed at Yelp since staged.
    pub conflicts: usize,
    /// Items a rule refuses.
    pub refused: usize,
    /// Items left out.
    pub dropped: usize,
    /// Items posted and not ended yet (ready, being sent, in progress), once posting.
    pub pending: usize,
    /// Items whose job completed.
    pub completed: usize,
    /// Items not sent or whose job failed.
    pub failed: usize,
}

impl Counts {
    fn add(&mut self, status: ItemStatus, n: usize) {
        self.items += n;
        match status {
            ItemStatus::NoOp => self.no_ops += n,
            ItemStatus::Conflict => self.conflicts += n,
            ItemStatus::Refused => self.refused += n,
            ItemStatus::Dropped => self.dropped += n,
            ItemStatus::Staged
            | ItemStatus::Ready
            | ItemStatus::Sending
            | ItemStatus::InProgress => {
                self.changes += n;
                self.pending += n;
            }
            ItemStatus::Completed => {
                self.changes += n;
                self.completed += n;
            }
            ItemStatus::Failed => {
                self.changes += n;
                self.failed += n;
            }
        }
    }

    fn of(items: &[Item]) -> Self {
        let mut counts = Self::default();
        for item in items {
            counts.add(item.status, 1);
        }
        counts
    }
}

/// A change set with its items.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeSet {
    /// As stored.
    pub record: ChangeSetRecord,
    /// Its operation, when it has one (not an import, a retry or an undo).
    pub operation: Option<Operation>,
    /// Its items, in order.
    pub items: Vec<Item>,
    /// How many stand where.
    pub counts: Counts,
}

/// A change set in a list, with its counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeSetSummary {
    /// As stored.
    pub record: ChangeSetRecord,
    /// How many items stand where.
    pub counts: Counts,
}

/// What to do with an item in conflict (or any item before posting).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Take the program as it is now and apply the change to it.
    Confirm,
    /// Leave it out.
    Drop,
}

/// Stages, checks and posts change sets. Cheap to clone.
#[derive(Clone)]
pub struct ChangeSetService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ChangeSetService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeSetService")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

struct Inner {
    store: Store,
    jobs: JobService,
    features: FeatureService,
    options: PostOptions,
    /// Names this poster in change-set leases.
    instance_id: String,
    /// Ids of change sets whose items just changed, for live streams and the poster.
    changes: broadcast::Sender<String>,
}

/// A running poster; [`PosterHandle::stop`] ends it after the sends under way.
#[derive(Debug)]
pub struct PosterHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl PosterHandle {
    /// Stops the poster after the sends under way and frees its claims.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// The messages of a refusal from the rules of a single change.
fn refusal(e: Error) -> String {
    match e {
        Error::InvalidFields(list) => list
            .into_iter()
            .map(|(_, m)| m)
            .collect::<Vec<_>>()
            .join("; "),
        Error::InvalidField { message, .. } => message,
        other => other.to_string(),
    }
}

/// Where `change` to `program` stands by the rules of a single change, against the mirror now.
fn evaluate(
    change: &Change,
    program: &StoredProgram,
    today: NaiveDate,
) -> (ItemState, Option<String>) {
    if program.removed_at.is_some() {
        return (
            ItemState::Refused,
            Some("The program is no longer at Yelp".into()),
        );
    }
    let before = Snapshot::of(program);
    let checked = match change {
        Change::Edit(fields) => {
            if change.is_no_op(&before) {
                return (ItemState::NoOp, None);
            }
            if validate::has_ended(program, today) {
                return (
                    ItemState::Refused,
                    Some("The program has ended; an ended program cannot be edited".into()),
                );
            }
            validate::edit(fields.beyond(&before).draft(), program, today).map(|_| ())
        }
        Change::Pause => validate::pause(program, today),
        Change::Resume => validate::resume(program),
        Change::End => validate::end(program, today),
        Change::Feature { .. } if validate::has_ended(program, today) => Err(Error::field(
            "program_id",
            "The program has ended; its features cannot change",
        )),
        // Yelp's rules of a feature need its current features, read from Yelp when it is sent.
        Change::Feature { .. } => Ok(()),
    };
    match checked {
        Ok(()) => (ItemState::Ready, None),
        Err(e) => (ItemState::Refused, Some(refusal(e))),
    }
}

/// The item of `change` (or of a change that could not be made: `Err` says why) to `program`.
fn staged(
    position: i64,
    program: &StoredProgram,
    change: std::result::Result<Change, String>,
    today: NaiveDate,
) -> ItemWrite {
    let before = Snapshot::of(program);
    let (change, state, message) = match change {
        Ok(change) => {
            let (state, message) = evaluate(&change, program, today);
            (Some(change), state, message)
        }
        Err(why) => (None, ItemState::Refused, Some(why)),
    };
    ItemWrite {
        position,
        program_id: program.program_id.clone(),
        change: serde_json::to_string(&change).unwrap_or_else(|_| "null".into()),
        before: serde_json::to_string(&before).unwrap_or_else(|_| "{}".into()),
        state,
        message,
    }
}

/// The submission token of an item: the same every time it is sent, so that it is sent once.
pub(crate) fn item_token(change_set_id: &str, position: i64) -> Result<SubmissionToken> {
    SubmissionToken::parse(&format!("cs_{change_set_id}_{position}"))
}

/// The change set an item's job belongs to, from the job's submission token.
pub fn change_set_of_token(token: &str) -> Option<&str> {
    let rest = token.strip_prefix("cs_")?;
    rest.rsplit_once('_').map(|(id, _)| id)
}

impl ChangeSetService {
    /// A service over `store`, posting through `jobs` (and `features`, for feature changes).
    pub fn new(
        store: Store,
        jobs: JobService,
        features: FeatureService,
        options: PostOptions,
    ) -> Self {
        let (changes, _) = broadcast::channel(256);
        Self {
            inner: Arc::new(Inner {
                store,
                jobs,
                features,
                options,
                instance_id: new_id(),
                changes,
            }),
        }
    }

    /// Ids of change sets as their items change (in this process).
    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.inner.changes.subscribe()
    }

    /// Ids of jobs as they change (in this process), for a live view of a change set's jobs.
    pub fn subscribe_jobs(&self) -> broadcast::Receiver<String> {
        self.inner.jobs.subscribe()
    }

    /// Starts the poster: it posts every change set being posted, those a stopped process left included.
    pub fn spawn_poster(&self) -> PosterHandle {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(poster::run(self.inner.clone(), stopped));
        PosterHandle { stop, task }
    }

    /// The programs of the workspace with these ids, in that order; an id the mirror does not hold is
    /// refused, naming it.
    async fn programs(&self, workspace_id: &str, ids: &[String]) -> Result<Vec<StoredProgram>> {
        let mut by_id: HashMap<String, StoredProgram> = self
            .inner
            .store
            .programs_by_ids(workspace_id, ids)
            .await?
            .into_iter()
            .map(|p| (p.program_id.clone(), p))
            .collect();
        let mut missing = Vec::new();
        let mut programs = Vec::with_capacity(ids.len());
        for id in ids {
            match by_id.remove(id) {
                Some(program) => programs.push(program),
                None => missing.push(id.as_str()),
            }
        }
        if !missing.is_empty() {
            let shown: Vec<&str> = missing.iter().take(5).copied().collect();
            return Err(Error::field(
                "program_ids",
                format!(
                    "{} of the programs {} not in this workspace's programs: {}{}",
                    missing.len(),
                    if missing.len() == 1 { "is" } else { "are" },
                    shown.join(", "),
                    if missing.len() > shown.len() {
                        ", …"
                    } else {
                        ""
                    }
                ),
            ));
        }
        Ok(programs)
    }

    /// Stages `operation` over the programs `program_ids` (in their order, each once) as a draft.
    pub async fn stage(
        &self,
        user: &User,
        program_ids: Vec<String>,
        operation: Operation,
    ) -> Result<ChangeSet> {
        let mut seen = HashSet::new();
        let ids: Vec<String> = program_ids
            .into_iter()
            .filter(|id| seen.insert(id.clone()))
            .collect();
        if ids.is_empty() {
            return Err(Error::field(
                "program_ids",
                "Select at least one program for the change",
            ));
        }
        if ids.len() > MAX_ITEMS {
            return Err(Error::field(
                "program_ids",
                format!(
                    "A change set takes at most {MAX_ITEMS} programs; {} were selected",
                    ids.len()
                ),
            ));
        }
        let programs = self.programs(&user.workspace_id, &ids).await?;
        let today = today();
        let items: Vec<ItemWrite> = programs
            .iter()
            .zip(0..)
            .map(|(program, position)| {
                staged(position, program, operation.change_for(program), today)
            })
            .collect();
        self.record(user, Some(&operation), operation.describe(), None, items)
            .await
    }

    /// Records a new draft change set.
    async fn record(
        &self,
        user: &User,
        operation: Option<&Operation>,
        description: String,
        origin: Option<(&str, &str)>,
        items: Vec<ItemWrite>,
    ) -> Result<ChangeSet> {
        let now = now_ms();
        let record = ChangeSetRecord {
            id: new_id(),
            workspace_id: user.workspace_id.clone(),
            user_id: Some(user.id.clone()),
            username: Some(user.username.clone()),
            operation: operation.and_then(|o| serde_json::to_string(o).ok()),
            description,
            origin_id: origin.map(|(id, _)| id.to_owned()),
            origin_kind: origin.map(|(_, kind)| kind.to_owned()),
            state: ChangeSetState::Draft,
            created_at: now,
            updated_at: now,
            checked_at: None,
            posted_at: None,
            finished_at: None,
        };
        self.inner.store.insert_change_set(&record, &items).await?;
        self.audit(
            user,
            AuditAction::ChangeSetCreated,
            &record.id,
            &record.description,
        )
        .await;
        self.get(&user.workspace_id, &record.id).await
    }

    /// A change set of the workspace with its items.
    pub async fn get(&self, workspace_id: &str, id: &str) -> Result<ChangeSet> {
        let record = self
            .inner
            .store
            .change_set(workspace_id, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("change set {id}")))?;
        let items: Vec<Item> = self
            .inner
            .store
            .change_set_items(&record.id)
            .await?
            .into_iter()
            .map(Item::of)
            .collect();
        let counts = Counts::of(&items);
        let operation = record
            .operation
            .as_deref()
            .and_then(|o| serde_json::from_str(o).ok());
        Ok(ChangeSet {
            record,
            operation,
            items,
            counts,
        })
    }

    /// The workspace's latest change sets with their counts, newest first.
    pub async fn list(&self, workspace_id: &str, limit: u32) -> Result<Vec<ChangeSetSummary>> {
        let records = self.inner.store.change_sets(workspace_id, limit).await?;
        let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
        let mut counts: HashMap<String, Counts> = HashMap::new();
        for (id, state, job_status, n) in self
            .inner
            .store
            .change_set_counts(workspace_id, &ids)
            .await?
        {
            let Ok(state) = ItemState::try_from(state) else {
                continue;
            };
            let record = ItemRecord {
                position: 0,
                program_id: String::new(),
                change: String::new(),
                before: String::new(),
                state,
                message: None,
                job_id: None,
                job_status,
                job_errors: None,
            };
            counts
                .entry(id)
                .or_default()
                .add(ItemStatus::of(&record), usize::try_from(n).unwrap_or(0));
        }
        Ok(records
            .into_iter()
            .map(|record| ChangeSetSummary {
                counts: counts.remove(&record.id).unwrap_or_default(),
                record,
            })
            .collect())
    }

    /// Checks every item against the mirror now, with the rules of a single change: a program changed
    /// since it was staged becomes a conflict (to confirm or drop), one a rule refuses is refused, one
    /// that holds the change already is a no-op. The change set becomes `checked`.
    pub async fn check(&self, user: &User, id: &str) -> Result<ChangeSet> {
        let set = self.get(&user.workspace_id, id).await?;
        refuse_unless_open(&set.record)?;
        let ids: Vec<String> = set.items.iter().map(|i| i.program_id.clone()).collect();
        let programs: HashMap<String, StoredProgram> = self
            .inner
            .store
            .programs_by_ids(&user.workspace_id, &ids)
            .await?
            .into_iter()
            .map(|p| (p.program_id.clone(), p))
            .collect();
        let today = today();
        let mut writes = Vec::with_capacity(set.items.len());
        for item in &set.items {
            if item.status == ItemStatus::Dropped {
                continue;
            }
            let Some(program) = programs.get(&item.program_id) else {
                writes.push(write_of(
                    item,
                    ItemState::Refused,
                    Some("The program is no longer in this workspace".into()),
                ));
                continue;
            };
            let change = match &item.change {
                Some(change) => Ok(change.clone()),
                None => match &set.operation {
                    Some(op) => op.change_for(program),
                    None => Err(item.message.clone().unwrap_or_default()),
                },
            };
            let checked = staged(item.position, program, change, today);
            // A rule that refuses it now says more than "it changed" (it ended, it is paused already).
            if checked.state == ItemState::Refused {
                writes.push(checked);
                continue;
            }
            let now = Snapshot::of(program);
            let differences = item.before.differences(&now);
            if !differences.is_empty() {
                writes.push(write_of(
                    item,
                    ItemState::Conflict,
                    Some(format!(
                        "Changed at Yelp since it was staged: {}; confirm to apply the change to the \
                         program as it is now, or drop it",
                        differences.join(", ")
                    )),
                ));
                continue;
            }
            writes.push(checked);
        }
        let done = self
            .inner
            .store
            .rewrite_items(
                id,
                &[ChangeSetState::Draft, ChangeSetState::Checked],
                ChangeSetState::Checked,
                &writes,
                now_ms(),
            )
            .await?;
        if !done {
            return Err(Error::Conflict(
                "The change set was posted meanwhile; it can no longer be checked".into(),
            ));
        }
        self.notify(id);
        self.get(&user.workspace_id, id).await
    }

    /// Confirms an item in conflict against the program as it is now, or drops an item. The change
    /// set goes back to `draft` when it was checked: post checks it again first.
    pub async fn resolve(
        &self,
        user: &User,
        id: &str,
        position: i64,
        resolution: Resolution,
    ) -> Result<ChangeSet> {
        let set = self.get(&user.workspace_id, id).await?;
        refuse_unless_open(&set.record)?;
        let item = set
            .items
            .iter()
            .find(|i| i.position == position)
            .ok_or_else(|| Error::NotFound(format!("item {position} of change set {id}")))?;
        let write = match resolution {
            Resolution::Drop => write_of(item, ItemState::Dropped, None),
            Resolution::Confirm => {
                let program = self
                    .inner
                    .store
                    .program(&user.workspace_id, &item.program_id)
                    .await?
                    .ok_or_else(|| Error::NotFound(format!("program {}", item.program_id)))?;
                let change = match (&set.operation, &item.change) {
                    // A relative change (+10 %) applies to the budget as it is now.
                    (Some(op), _) => op.change_for(&program),
                    (None, Some(change)) => Ok(change.clone()),
                    (None, None) => Err(item.message.clone().unwrap_or_default()),
                };
                staged(item.position, &program, change, today())
            }
        };
        let state = match set.record.state {
            ChangeSetState::Checked if resolution == Resolution::Drop => ChangeSetState::Checked,
            _ => ChangeSetState::Draft,
        };
        let done = self
            .inner
            .store
            .rewrite_items(
                id,
                &[ChangeSetState::Draft, ChangeSetState::Checked],
                state,
                &[write],
                now_ms(),
            )
            .await?;
        if !done {
            return Err(Error::Conflict(
                "The change set was posted meanwhile; its items can no longer change".into(),
            ));
        }
        self.notify(id);
        self.get(&user.workspace_id, id).await
    }

    /// Posts a checked change set: the poster sends its ready items as jobs, within the workspace's rate
    /// limit, never two at once to one program. Refused while an item is in conflict or nothing would
    /// change.
    pub async fn post(&self, user: &User, id: &str) -> Result<ChangeSet> {
        self.post_checked(user, id, false).await
    }

    /// [`Self::post`]; with `leave_conflicts`, the items in conflict are left out (as a scheduled change
    /// does: what changed since it was scheduled is skipped, not forced) instead of refusing the post.
    async fn post_checked(
        &self,
        user: &User,
        id: &str,
        leave_conflicts: bool,
    ) -> Result<ChangeSet> {
        let set = self.get(&user.workspace_id, id).await?;
        match set.record.state {
            ChangeSetState::Checked => {}
            ChangeSetState::Draft => {
                return Err(Error::Conflict(
                    "Check the change set before posting it: its items changed since the last check"
                        .into(),
                ));
            }
            ChangeSetState::Posting | ChangeSetState::Done => {
                return Err(Error::Conflict("The change set was posted already".into()));
            }
        }
        if set.counts.conflicts > 0 && !leave_conflicts {
            return Err(Error::Conflict(format!(
                "{} {} changed at Yelp since staged: confirm or drop each, then post",
                set.counts.conflicts,
                if set.counts.conflicts == 1 {
                    "program"
                } else {
                    "programs"
                }
            )));
        }
        if !set.items.iter().any(|i| i.status == ItemStatus::Ready) {
            return Err(Error::Conflict(
                "Nothing to post: no item would change a program".into(),
            ));
        }
        let moved = self
            .inner
            .store
            .move_change_set(
                id,
                &[ChangeSetState::Checked],
                ChangeSetState::Posting,
                now_ms(),
            )
            .await?;
        if !moved {
            return Err(Error::Conflict(
                "The change set changed meanwhile; check it again".into(),
            ));
        }
        tracing::info!(
            change_set_id = id,
            items = set.counts.changes,
            "change set posted"
        );
        self.audit(
            user,
            AuditAction::ChangeSetPosted,
            id,
            &set.record.description,
        )
        .await;
        self.notify(id);
        self.get(&user.workspace_id, id).await
    }

    /// A new draft of the items that failed, staged against the mirror now.
    pub async fn retry_failed(&self, user: &User, id: &str) -> Result<ChangeSet> {
        let set = self.get(&user.workspace_id, id).await?;
        let failed: Vec<&Item> = set
            .items
            .iter()
            .filter(|i| i.status == ItemStatus::Failed)
            .collect();
        if failed.is_empty() {
            return Err(Error::Conflict("No item of the change set failed".into()));
        }
        let ids: Vec<String> = failed.iter().map(|i| i.program_id.clone()).collect();
        let programs = self.programs(&user.workspace_id, &ids).await?;
        let today = today();
        let items = failed
            .iter()
            .zip(&programs)
            .zip(0..)
            .map(|((item, program), position)| {
                let change = match (&set.operation, &item.change) {
                    (Some(op), _) => op.change_for(program),
                    (None, Some(change)) => Ok(change.clone()),
                    (None, None) => Err("Does not apply".into()),
                };
                staged(position, program, change, today)
            })
            .collect();
        self.record(
            user,
            set.operation.as_ref(),
            format!("Retry of {}", set.record.description),
            Some((id, "retry")),
            items,
        )
        .await
    }

    /// A new draft that takes every completed item back to its values before; what cannot be undone (an
    /// end, an end date where there was none) is listed as refused, with why.
    pub async fn undo(&self, user: &User, id: &str) -> Result<ChangeSet> {
        let set = self.get(&user.workspace_id, id).await?;
        let done: Vec<&Item> = set
            .items
            .iter()
            .filter(|i| i.status == ItemStatus::Completed)
            .collect();
        if done.is_empty() {
            return Err(Error::Conflict(
                "No item of the change set completed, so there is nothing to undo".into(),
            ));
        }
        let ids: Vec<String> = done.iter().map(|i| i.program_id.clone()).collect();
        let programs = self.programs(&user.workspace_id, &ids).await?;
        let today = today();
        let items = done
            .iter()
            .zip(&programs)
            .zip(0..)
            .map(|((item, program), position)| {
                let back = item
                    .change
                    .as_ref()
                    .ok_or_else(|| "Does not apply".to_owned())
                    .and_then(|c| c.beyond(&item.before).inverse(&item.before))
                    .map_err(|why| format!("Cannot be undone: {why}"));
                staged(position, program, back, today)
            })
            .collect();
        self.record(
            user,
            None,
            format!("Undo of {}", set.record.description),
            Some((id, "undo")),
            items,
        )
        .await
    }

    /// Deletes a change set that was never posted.
    pub async fn delete(&self, user: &User, id: &str) -> Result<()> {
        let set = self.get(&user.workspace_id, id).await?;
        refuse_unless_open(&set.record)?;
        if !self
            .inner
            .store
            .delete_change_set(&user.workspace_id, id)
            .await?
        {
            return Err(Error::Conflict(
                "The change set was posted meanwhile; it can no longer be deleted".into(),
            ));
        }
        Ok(())
    }

    /// Makes a draft from an imported CSV file (see [`import`]): each row's changes to its program.
    pub async fn import(&self, user: &User, file: &[u8]) -> Result<ChangeSet> {
        let rows = import::parse(file)?;
        if rows.len() > MAX_ITEMS {
            return Err(Error::field(
                "file",
                format!(
                    "A change set takes at most {MAX_ITEMS} programs; the file has {} rows",
                    rows.len()
                ),
            ));
        }
        let ids: Vec<String> = rows.iter().map(|r| r.program_id.clone()).collect();
        let found: HashMap<String, StoredProgram> = self
            .inner
            .store
            .programs_by_ids(&user.workspace_id, &ids)
            .await?
            .into_iter()
            .map(|p| (p.program_id.clone(), p))
            .collect();
        let unknown: Vec<(String, String)> = rows
            .iter()
            .filter(|r| !found.contains_key(&r.program_id))
            .take(import::MAX_ERRORS)
            .map(|r| {
                (
                    format!("line {}", r.line),
                    format!(
                        "Line {}, column program_id: program {} is not in this workspace's programs",
                        r.line, r.program_id
                    ),
                )
            })
            .collect();
        if !unknown.is_empty() {
            return Err(Error::InvalidFields(unknown));
        }
        let today = today();
        let mut items = Vec::new();
        for row in &rows {
            let program = &found[&row.program_id];
            for change in row.changes(&Snapshot::of(program)) {
                let position = i64::try_from(items.len()).unwrap_or(i64::MAX);
                items.push(staged(position, program, Ok(change), today));
            }
        }
        self.record(
            user,
            None,
            format!(
                "Import of {} {}",
                rows.len(),
                if rows.len() == 1 {
                    "program"
                } else {
                    "programs"
                }
            ),
            None,
            items,
        )
        .await
    }

    /// Records in the audit log what `user` did to change set (or schedule) `target`.
    pub(crate) async fn audit(&self, user: &User, action: AuditAction, target: &str, detail: &str) {
        let event = AuditEvent {
            workspace_id: Some(user.workspace_id.clone()),
            actor_id: Some(user.id.clone()).filter(|id| !id.is_empty()),
            actor: Some(user.username.clone()),
            target: Some(target.to_owned()),
            detail: Some(detail.to_owned()),
            ..AuditEvent::default()
        };
        if let Err(e) = self.inner.store.audit(action, event, now_ms()).await {
            tracing::warn!(error = %e, action = action.as_str(), "could not record an audit event");
        }
    }

    fn notify(&self, id: &str) {
        let _ = self.inner.changes.send(id.to_owned());
    }
}

/// The write that gives `item` a new state, keeping what it was staged against.
fn write_of(item: &Item, state: ItemState, message: Option<String>) -> ItemWrite {
    ItemWrite {
        position: item.position,
        program_id: item.program_id.clone(),
        change: serde_json::to_string(&item.change).unwrap_or_else(|_| "null".into()),
        before: serde_json::to_string(&item.before).unwrap_or_else(|_| "{}".into()),
        state,
        message,
    }
}

fn refuse_unless_open(record: &ChangeSetRecord) -> Result<()> {
    match record.state {
        ChangeSetState::Draft | ChangeSetState::Checked => Ok(()),
        ChangeSetState::Posting | ChangeSetState::Done => Err(Error::Conflict(
            "The change set was posted; it can no longer change".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_items_token_is_a_valid_submission_token_that_names_its_change_set() {
        let id = new_id();
        let token = item_token(&id, 917).unwrap();
        assert_eq!(change_set_of_token(token.as_str()), Some(id.as_str()));
        assert_eq!(
            change_set_of_token("a-form-token-of-32-characters-xx"),
            None
        );
    }
}
