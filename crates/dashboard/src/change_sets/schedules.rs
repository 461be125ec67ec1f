//! Scheduled changes: a change set staged now and posted at a chosen time. Checked twice — when scheduled,
//! with the rules of the change against the mirror then, and when due, against the programs read again
//! from Yelp — and fired once: the instance whose claim wins checks and posts it; what no longer applies is
//! skipped with the reason. One that came due while no instance ran fires at the next start, late (and
//! says how late), unless it is older than the grace: then it is missed, and says so.

use futures::StreamExt;
use tracing::Instrument;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

use super::operation::{Change, EditChange, Operation};
use super::{ChangeSetService, Counts, Inner, ItemStatus, Resolution};
use crate::error::{Error, Result};
use crate::store::{
    AuditAction, ChangeSetState, ItemState, ItemWrite, LocalTimeGap, Role, ScheduleRecord,
    ScheduleState, User, WorkspaceZone, new_id, now_ms,
};

/// A day, in ms: a budget due at least this far ahead goes to Yelp as a future budget.
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Programs read again from Yelp at once when a schedule comes due.
const REFRESH_AT_ONCE: usize = 4;

/// Schedules one instance fires per look.
const FIRE_AT_ONCE: u32 = 16;

/// A scheduled change with what its change set holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// As stored.
    pub record: ScheduleRecord,
    /// The programs it changes.
    pub program_ids: Vec<String>,
    /// Its change set's counts.
    pub counts: Counts,
    /// The jobs it made, once fired.
    pub job_ids: Vec<String>,
    /// The schedule that ends its pause window, for a pause with one.
    pub window_end: Option<ScheduleRecord>,
    /// Its operation's kind (`pause`, `edit`, …).
    pub operation_kind: Option<String>,
}

/// Why a schedule time could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimeTextError {
    /// It is no time of a form we read.
    NotATime,
    /// A wall-clock time the workspace's zone skips (the clocks jump forward over it).
    Skipped(LocalTimeGap),
}

/// A schedule time as typed or sent, in unix ms (UTC): ISO 8601 with an offset or `Z` keeps its meaning;
/// without one (as a `datetime-local` field sends it: `2026-12-24T09:00`, seconds optional, a space for
/// the `T` too) it is a wall-clock time of the workspace's `zone`. A time the zone skips is refused; one
/// it shows twice (the hour the clocks go back) is the earlier instant, see [`WorkspaceZone::resolve`].
pub fn schedule_time(zone: WorkspaceZone, text: &str) -> std::result::Result<i64, TimeTextError> {
    let text = text.trim();
    let with_offset = DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M%:z"))
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M%:z"));
    if let Ok(t) = with_offset {
        return Ok(t.timestamp_millis());
    }
    let local = [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    .ok_or(TimeTextError::NotATime)?;
    zone.resolve(local).map_err(TimeTextError::Skipped)
}

impl Inner {
    /// Now, for scheduled changes (moved by `clock_offset_ms` in tests).
    pub(super) fn now(&self) -> i64 {
        now_ms() + self.options.clock_offset_ms
    }
}

impl ChangeSetService {
    /// Schedules `operation` over `program_ids` at `at` (unix ms); with `until`, a pause window: the
    /// programs are paused at `at` and resumed at `until`. Checked now with the rules of the change:
    /// refused when nothing of it would apply. Answers the schedule (and its window's end).
    pub async fn schedule(
        &self,
        user: &User,
        program_ids: Vec<String>,
        operation: Operation,
        at: i64,
        until: Option<i64>,
    ) -> Result<Schedule> {
        let now = self.inner.now();
        if at <= now {
            return Err(Error::field("at", "The time must be in the future"));
        }
        if let Some(until) = until {
            if operation != Operation::Pause {
                return Err(Error::field(
                    "until",
                    "until ends a pause window: it goes with the pause operation only",
                ));
            }
            if until <= at {
                return Err(Error::field(
                    "until",
                    "The pause window must end after it starts",
                ));
            }
        }
        // A budget alone, for a later day: Yelp takes it now as a budget from that day (its
        // `future_budget_date`) and applies it itself, so it cannot be missed.
        let day_of = |ms: i64| {
            Utc.timestamp_millis_opt(ms)
                .single()
                .map(|t| t.date_naive())
        };
        if let (Operation::SetBudget { cents }, Some(day), Some(today), None) =
            (&operation, day_of(at), day_of(now), until)
        {
            // Yelp takes a day, not a time: it applies the budget on that day at its own hour.
            if day > today && at - now >= DAY_MS {
                let handed = Operation::Edit {
                    fields: EditChange {
                        budget_cents: Some(*cents),
                        future_budget_date: Some(day),
                        ..EditChange::default()
                    },
                };
                return self
                    .schedule_future_budget(user, program_ids, &operation, handed, at)
                    .await;
            }
        }
        let set = self.stage(user, program_ids, operation.clone()).await?;
        self.refuse_unless_it_applies(user, &set).await?;
        let pause = self
            .record_schedule(user, &set.record.id, operation.describe(), at, None)
            .await?;
        if let Some(until) = until {
            // Staged unchecked: the programs are not paused yet; the check when due decides.
            let items: Vec<ItemWrite> = set
                .items
                .iter()
                .filter(|i| i.status == ItemStatus::Ready)
                .zip(0..)
                .map(|(item, position)| ItemWrite {
                    position,
                    program_id: item.program_id.clone(),
                    change: serde_json::to_string(&Some(Change::Resume))
                        .unwrap_or_else(|_| "null".into()),
                    before: serde_json::to_string(&item.before).unwrap_or_else(|_| "{}".into()),
                    state: ItemState::Staged,
                    message: None,
                })
                .collect();
            let resume = self
                .record(user, Some(&Operation::Resume), "Resume".into(), None, items)
                .await?;
            self.record_schedule(
                user,
                &resume.record.id,
                "Resume (end of the pause window)".into(),
                until,
                Some(&pause.id),
            )
            .await?;
        }
        self.schedule_view(&user.workspace_id, &pause.id).await
    }

    /// A budget schedule handed to Yelp at once as a future budget: the change set is staged, checked and
    /// posted now; the schedule, when due, reads the programs back to say whether Yelp applied it.
    async fn schedule_future_budget(
        &self,
        user: &User,
        program_ids: Vec<String>,
        asked: &Operation,
        handed: Operation,
        at: i64,
    ) -> Result<Schedule> {
        let set = self.stage(user, program_ids, handed).await?;
        self.refuse_unless_it_applies(user, &set).await?;
        let record = self
            .record_schedule(
                user,
                &set.record.id,
                format!("{} (sent to Yelp as a future budget)", asked.describe()),
                at,
                None,
            )
            .await?;
        self.check(user, &set.record.id).await?;
        self.post_checked(user, &set.record.id, true).await?;
        self.schedule_view(&user.workspace_id, &record.id).await
    }

    /// Refuses to cancel or move a schedule whose change went to Yelp already (a future budget): Yelp
    /// applies it on its day whatever this dashboard then marks.
    async fn refuse_if_sent(&self, view: &Schedule) -> Result<()> {
        // Only one still waiting can have been sent ahead; one that fired has its change set posted
        // too, and is refused for having fired.
        if view.record.state != ScheduleState::Scheduled {
            return Ok(());
        }
        let set = self
            .get(&view.record.workspace_id, &view.record.change_set_id)
            .await?;
        if matches!(
            set.record.state,
            ChangeSetState::Posting | ChangeSetState::Done
        ) {
            return Err(Error::Conflict(
                "This budget was sent to Yelp already, as a budget from its day, and Yelp will apply it \
                 then; to change it, schedule another budget for that day"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Refuses (and deletes) a staged change set of which nothing would apply, saying why.
    async fn refuse_unless_it_applies(&self, user: &User, set: &super::ChangeSet) -> Result<()> {
        if set.items.iter().any(|i| i.status == ItemStatus::Ready) {
            return Ok(());
        }
        let why = set
            .items
            .iter()
            .find_map(|i| i.message.clone())
            .unwrap_or_else(|| "it changes nothing".into());
        self.inner
            .store
            .delete_change_set(&user.workspace_id, &set.record.id)
            .await?;
        Err(Error::field(
            "program_ids",
            format!("Nothing of the change would apply: {why}"),
        ))
    }

    async fn record_schedule(
        &self,
        user: &User,
        change_set_id: &str,
        description: String,
        due_at: i64,
        window_of: Option<&str>,
    ) -> Result<ScheduleRecord> {
        let now = now_ms();
        let record = ScheduleRecord {
            id: new_id(),
            workspace_id: user.workspace_id.clone(),
            user_id: Some(user.id.clone()),
            username: Some(user.username.clone()),
            change_set_id: change_set_id.to_owned(),
            description,
            due_at,
            window_of: window_of.map(str::to_owned),
            state: ScheduleState::Scheduled,
            outcome: None,
            fired_at: None,
            late_ms: None,
            created_at: now,
            updated_at: now,
        };
        self.inner.store.insert_schedule(&record).await?;
        self.audit(
            user,
            AuditAction::ScheduleCreated,
            &record.id,
            &record.description,
        )
        .await;
        Ok(record)
    }

    /// A scheduled change of the workspace, with its programs, counts and jobs.
    pub async fn schedule_view(&self, workspace_id: &str, id: &str) -> Result<Schedule> {
        let record = self
            .inner
            .store
            .schedule(workspace_id, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("scheduled change {id}")))?;
        let set = self.get(workspace_id, &record.change_set_id).await?;
        let window_end = self.inner.store.window_end(&record.id).await?;
        Ok(Schedule {
            program_ids: set.items.iter().map(|i| i.program_id.clone()).collect(),
            counts: set.counts,
            operation_kind: set.operation.as_ref().map(|o| o.kind().to_owned()),
            job_ids: set.items.iter().filter_map(|i| i.job_id.clone()).collect(),
            record,
            window_end,
        })
    }

    /// The workspace's scheduled changes: upcoming by time, then the others newest first.
    pub async fn schedules(&self, workspace_id: &str, limit: u32) -> Result<Vec<Schedule>> {
        let records = self.inner.store.schedules(workspace_id, limit).await?;
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            out.push(self.schedule_view(workspace_id, &record.id).await?);
        }
        Ok(out)
    }

    /// Cancels a scheduled change that has not fired (and the end of its pause window with it).
    pub async fn cancel_schedule(&self, user: &User, id: &str) -> Result<Schedule> {
        let view = self.schedule_view(&user.workspace_id, id).await?;
        self.refuse_if_sent(&view).await?;
        let now = now_ms();
        if !self
            .inner
            .store
            .update_scheduled(&user.workspace_id, id, ScheduleState::Cancelled, None, now)
            .await?
        {
            return Err(Error::Conflict(format!(
                "The scheduled change is {} already; only one still to come can be cancelled",
                view.record.state.as_str()
            )));
        }
        self.audit(
            user,
            AuditAction::ScheduleCancelled,
            id,
            &view.record.description,
        )
        .await;
        if let Some(end) = &view.window_end {
            self.inner
                .store
                .update_scheduled(
                    &user.workspace_id,
                    &end.id,
                    ScheduleState::Cancelled,
                    None,
                    now,
                )
                .await?;
        }
        self.schedule_view(&user.workspace_id, id).await
    }

    /// Moves a scheduled change that has not fired: its time to `at`, and for a pause with a window, the
    /// window's end to `until` (either or both; unix ms). Each new time must be in the future and a window
    /// must end after it starts. Before either part of a window has fired both may move, together or not
    /// at all; once the pause has fired, its end alone may still move (`until`) until it fires too. The
    /// end of a window can also be moved by its own id, with `at`.
    pub async fn reschedule(
        &self,
        user: &User,
        id: &str,
        at: Option<i64>,
        until: Option<i64>,
    ) -> Result<Schedule> {
        let now = self.inner.now();
        if at.is_none() && until.is_none() {
            return Err(Error::field(
                "at",
                "Give the new time: at, or until for the end of a pause window",
            ));
        }
        for (field, time) in [("at", at), ("until", until)] {
            if time.is_some_and(|t| t <= now) {
                return Err(Error::field(field, "The time must be in the future"));
            }
        }
        let view = self.schedule_view(&user.workspace_id, id).await?;
        self.refuse_if_sent(&view).await?;
        let ws = user.workspace_id.as_str();
        let end = match (until, &view.window_end) {
            (None, _) => None,
            (Some(_), None) => {
                return Err(Error::field(
                    "until",
                    if view.record.window_of.is_some() {
                        "This is the end of a pause window: move it with at"
                    } else {
                        "This scheduled change has no pause window: until moves the end of one"
                    },
                ));
            }
            (Some(until), Some(end)) => Some((end, until)),
        };
        // The window as it will be, checked whole: the end after the start.
        if let Some(window_end) = &view.window_end {
            let start = at.unwrap_or(view.record.due_at);
            let finish = until.unwrap_or(window_end.due_at);
            let still_to_start = at.is_some() || view.record.state == ScheduleState::Scheduled;
            if still_to_start && finish <= start {
                return Err(Error::field(
                    if until.is_some() { "until" } else { "at" },
                    "The pause window must end after it starts",
                ));
            }
        }
        if let (Some(at), Some(pause_id)) = (at, view.record.window_of.as_deref()) {
            // The end of a window moved by its own id: still after its pause, while that is to come.
            let pause = self.inner.store.schedule(ws, pause_id).await?;
            if pause.is_some_and(|p| {
                matches!(p.state, ScheduleState::Scheduled | ScheduleState::Firing)
                    && at <= p.due_at
            }) {
                return Err(Error::field(
                    "at",
                    "The pause window must end after it starts",
                ));
            }
        }
        let moved = match (at, end) {
            (Some(at), Some((end, until))) => {
                self.inner
                    .store
                    .move_window(ws, (id, at), (&end.id, until), now_ms())
                    .await?
            }
            (Some(at), None) => {
                self.inner
                    .store
                    .update_scheduled(ws, id, ScheduleState::Scheduled, Some(at), now_ms())
                    .await?
            }
            (None, Some((end, until))) => {
                let moved = self
                    .inner
                    .store
                    .update_scheduled(ws, &end.id, ScheduleState::Scheduled, Some(until), now_ms())
                    .await?;
                if !moved {
                    return Err(self
                        .refused_move(ws, &end.id, "The end of the pause window")
                        .await);
                }
                moved
            }
            (None, None) => false,
        };
        if !moved {
            return Err(self.refused_move(ws, id, "The scheduled change").await);
        }
        self.schedule_view(ws, id).await
    }

    /// Why a schedule (`what`) could not move, read again: it fired, was cancelled or is being fired since.
    async fn refused_move(&self, workspace_id: &str, id: &str, what: &str) -> Error {
        let state = match self.inner.store.schedule(workspace_id, id).await {
            Ok(Some(record)) => record.state,
            Ok(None) => return Error::NotFound(format!("scheduled change {id}")),
            Err(e) => return e,
        };
        let state = match state {
            ScheduleState::Firing => "being fired",
            other => other.as_str(),
        };
        Error::Conflict(format!(
            "{what} is {state} already; only one still to come can move"
        ))
    }
}

/// The author of a schedule, as its change set's jobs record them.
fn author(record: &ScheduleRecord) -> User {
    User {
        id: record.user_id.clone().unwrap_or_default(),
        workspace_id: record.workspace_id.clone(),
        username: record.username.clone().unwrap_or_default(),
        role: Role::Operator,
        created_at: 0,
    }
}

/// How long, in words: `10 min`, `3 h`, `40 s`.
fn spoken_ms(ms: i64) -> String {
    let minutes = ms / 60_000;
    if minutes >= 120 {
        format!("{} h", minutes / 60)
    } else if minutes >= 1 {
        format!("{minutes} min")
    } else {
        format!("{} s", ms / 1000)
    }
}

/// Fires the due schedules this instance claims. Answers whether it fired any.
pub(super) async fn fire_due(service: &ChangeSetService) -> bool {
    let inner = &service.inner;
    let now = inner.now();
    let lease_ms = i64::try_from(inner.options.lease_ttl.as_millis()).unwrap_or(30_000);
    let claimed = match inner
        .store
        .claim_due_schedules(&inner.instance_id, now, now + lease_ms, FIRE_AT_ONCE)
        .await
    {
        Ok(claimed) => claimed,
        Err(e) => {
            tracing::warn!(error = %e, "scheduled changes: cannot claim the due ones");
            return false;
        }
    };
    let fired = !claimed.is_empty();
    for record in claimed {
        let span = tracing::info_span!("scheduled_change", schedule_id = record.id);
        if let Err(e) = fire(service, &record, now).instrument(span).await {
            // The claim runs out and the next look (here or elsewhere) takes it up again.
            tracing::warn!(error = %e, "scheduled change could not be fired yet");
        }
    }
    fired
}

/// Fires one claimed schedule.
async fn fire(service: &ChangeSetService, record: &ScheduleRecord, now: i64) -> Result<()> {
    let inner = &service.inner;
    let owner = inner.instance_id.as_str();
    let late = (now - record.due_at).max(0);
    let grace = i64::try_from(inner.options.schedule_grace.as_millis()).unwrap_or(i64::MAX);
    let set = service
        .get(&record.workspace_id, &record.change_set_id)
        .await?;
    if matches!(
        set.record.state,
        ChangeSetState::Posting | ChangeSetState::Done
    ) {
        // Posted already: a future budget handed to Yelp when scheduled (whether Yelp applied it is read
        // back now), or an instance that posted it and stopped before saying so.
        let outcome = applied_future_budgets(service, &set).await;
        inner
            .store
            .end_firing(
                &record.id,
                owner,
                ScheduleState::Fired,
                outcome.as_deref(),
                Some(late),
                inner.now(),
            )
            .await?;
        return Ok(());
    }
    if late > grace {
        let outcome = format!(
            "Missed: it came due {} ago while the dashboard was not running, longer than the {} grace; \
             nothing was sent",
            spoken_ms(late),
            spoken_ms(grace)
        );
        tracing::error!(late_ms = late, "scheduled change missed");
        inner
            .store
            .end_firing(
                &record.id,
                owner,
                ScheduleState::Missed,
                Some(&outcome),
                None,
                inner.now(),
            )
            .await?;
        return Ok(());
    }
    // Checked against the programs as Yelp has them now.
    let ids: Vec<String> = set.items.iter().map(|i| i.program_id.clone()).collect();
    let workspace_id = record.workspace_id.as_str();
    let refreshed = futures::stream::iter(ids)
        .map(|id| {
            let (jobs, workspace_id) = (inner.jobs.clone(), workspace_id.to_owned());
            async move {
                let outcome = jobs.refresh(&workspace_id, &id).await;
                (id, outcome)
            }
        })
        .buffer_unordered(REFRESH_AT_ONCE)
        .collect::<Vec<_>>()
        .await;
    for (id, outcome) in refreshed {
        if let Err(e) = outcome {
            tracing::warn!(error = %e, program_id = %id, "scheduled change: checking against the mirror's copy");
        }
    }
    let user = author(record);
    let mut checked = service.check(&user, &set.record.id).await?;
    if record.window_of.is_some() {
        // The end of a pause window: the pause itself changed the programs since they were staged.
        for item in checked.items.clone() {
            if item.status == ItemStatus::Conflict {
                service
                    .resolve(&user, &set.record.id, item.position, Resolution::Confirm)
                    .await?;
            }
        }
        checked = service.check(&user, &set.record.id).await?;
    }
    if !checked.items.iter().any(|i| i.status == ItemStatus::Ready) {
        let reasons: Vec<String> = checked
            .items
            .iter()
            .filter_map(|i| i.message.clone())
            .collect();
        let outcome = format!(
            "Skipped: nothing of it applied any more when it came due{}",
            reasons
                .first()
                .map(|r| format!(
                    " ({r}{})",
                    if reasons.len() > 1 {
                        format!("; and {} more", reasons.len() - 1)
                    } else {
                        String::new()
                    }
                ))
                .unwrap_or_default()
        );
        inner
            .store
            .end_firing(
                &record.id,
                owner,
                ScheduleState::Skipped,
                Some(&outcome),
                Some(late),
                inner.now(),
            )
            .await?;
        tracing::info!("scheduled change skipped");
        return Ok(());
    }
    service.post_checked(&user, &set.record.id, true).await?;
    inner
        .store
        .end_firing(
            &record.id,
            owner,
            ScheduleState::Fired,
            None,
            Some(late),
            inner.now(),
        )
        .await?;
    tracing::info!(late_ms = late, "scheduled change fired");
    Ok(())
}

/// For a change set of future budgets: whether the programs, read again from Yelp, hold them now.
async fn applied_future_budgets(
    service: &ChangeSetService,
    set: &super::ChangeSet,
) -> Option<String> {
    let targets: Vec<(&str, i64)> = set
        .items
        .iter()
        .filter_map(|item| match &item.change {
            Some(Change::Edit(fields)) if fields.future_budget_date.is_some() => {
                Some((item.program_id.as_str(), fields.budget_cents?))
            }
            _ => None,
        })
        .collect();
    if targets.is_empty() {
        return None;
    }
    let mut applied = 0;
    for (program_id, cents) in &targets {
        if let Err(e) = service
            .inner
            .jobs
            .refresh(&set.record.workspace_id, program_id)
            .await
        {
            tracing::warn!(error = %e, program_id, "scheduled budget: cannot read the program back");
        }
        let holds = service
            .inner
            .store
            .program(&set.record.workspace_id, program_id)
            .await
            .ok()
            .flatten()
            .is_some_and(|p| p.budget_cents == Some(*cents));
        applied += usize::from(holds);
    }
    Some(if applied == targets.len() {
        "Yelp applied the budget on its day".to_owned()
    } else {
        format!(
            "Yelp has applied {applied} of {} budgets so far; the others are still among the programs' \
             future budget changes",
            targets.len()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::{TimeTextError, WorkspaceZone, schedule_time};

    #[test]
    fn a_time_without_an_offset_is_the_workspaces_wall_clock_and_one_with_an_offset_keeps_its_meaning()
     {
        let new_york = WorkspaceZone::parse("America/New_York").unwrap();
        let utc_14 = schedule_time(WorkspaceZone::UTC, "2026-12-24T14:00").unwrap();
        for text in [
            "2026-12-24T09:00",
            "2026-12-24 09:00",
            "2026-12-24T09:00:00",
            "2026-12-24T09:00:00.000",
        ] {
            assert_eq!(schedule_time(new_york, text), Ok(utc_14), "{text}");
        }
        for text in [
            "2026-12-24T14:00:00Z",
            "2026-12-24T09:00:00-05:00",
            "2026-12-24T15:00+01:00",
        ] {
            assert_eq!(schedule_time(new_york, text), Ok(utc_14), "{text}");
        }
        assert_eq!(
            schedule_time(new_york, "next tuesday"),
            Err(TimeTextError::NotATime)
        );
        assert!(matches!(
            schedule_time(new_york, "2027-03-14T02:30"),
            Err(TimeTextError::Skipped(_))
        ));
    }
}
