//! The poster: sends the ready items of change sets being posted, a few at a time, each as a job with the
//! item's own submission token. An item is marked `sending` before its job is asked for; one found
//! `sending` (a poster stopped half-way) is asked for again with the same token, which answers the job
//! recorded the first time rather than sending the change again.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::watch;
use tracing::Instrument;

use super::operation::{Change, Snapshot};
use super::{Inner, Item, ItemStatus, item_token, refusal};
use crate::error::{Error, Result};
use crate::store::{ChangeSetRecord, ChangeSetState, ItemState, Role, User, now_ms};

/// Change sets one poster works on at once.
const SETS_AT_ONCE: u32 = 8;

pub(super) async fn run(inner: Arc<Inner>, mut stop: watch::Receiver<bool>) {
    tracing::info!(instance_id = inner.instance_id, "change set poster started");
    let mut wake = inner.changes.subscribe();
    let service = super::ChangeSetService {
        inner: inner.clone(),
    };
    loop {
        if *stop.borrow() {
            break;
        }
        // Due scheduled changes become change sets being posted, which this loop then posts.
        super::schedules::fire_due(&service).await;
        let now = now_ms();
        let lease_ms = i64::try_from(inner.options.lease_ttl.as_millis()).unwrap_or(30_000);
        let mut sent_any = false;
        match inner
            .store
            .claim_posting_change_sets(&inner.instance_id, now, now + lease_ms, SETS_AT_ONCE)
            .await
        {
            Ok(sets) => {
                let rounds = sets.iter().map(|set| {
                    let span = tracing::info_span!("change_set", change_set_id = set.id);
                    round(&inner, set).instrument(span)
                });
                for outcome in futures::future::join_all(rounds).await {
                    match outcome {
                        Ok(sent) => sent_any |= sent,
                        Err(e) => tracing::warn!(error = %e, "change set poster: a round failed"),
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "change set poster: cannot claim change sets"),
        }
        if sent_any {
            // More may be ready: the rate limit, not the tick, paces the next round.
            continue;
        }
        tokio::select! {
            changed = stop.changed() => {
                // A dropped handle stops it too.
                if changed.is_err() {
                    break;
                }
            }
            _ = wake.recv() => {}
            () = tokio::time::sleep(inner.options.tick) => {}
        }
    }
    if let Err(e) = inner
        .store
        .release_change_set_leases(&inner.instance_id)
        .await
    {
        tracing::warn!(error = %e, "change set poster: cannot free its claims");
    }
    tracing::info!(instance_id = inner.instance_id, "change set poster stopped");
}

/// The author of a change set, as its jobs record them.
fn author(set: &ChangeSetRecord) -> User {
    User {
        id: set.user_id.clone().unwrap_or_default(),
        workspace_id: set.workspace_id.clone(),
        username: set.username.clone().unwrap_or_default(),
        role: Role::Operator,
        created_at: 0,
    }
}

/// One round of a change set: sends up to `in_flight` items (never two to one program, never to a
/// program with a job under way), or ends the change set once every item has ended. Answers whether it
/// sent any.
async fn round(inner: &Inner, set: &ChangeSetRecord) -> Result<bool> {
    let items: Vec<Item> = inner
        .store
        .change_set_items(&set.id)
        .await?
        .into_iter()
        .map(Item::of)
        .collect();
    let mut busy: HashSet<&str> = HashSet::new();
    let mut batch: Vec<&Item> = Vec::new();
    for item in &items {
        let program = item.program_id.as_str();
        match item.status {
            ItemStatus::Sending if batch.len() < inner.options.in_flight => {
                batch.push(item);
                busy.insert(program);
            }
            ItemStatus::Ready
                if batch.len() < inner.options.in_flight && !busy.contains(program) =>
            {
                busy.insert(program);
                if !inner
                    .store
                    .program_has_open_job(&set.workspace_id, program)
                    .await?
                {
                    batch.push(item);
                }
            }
            // Later items of the program wait for this one.
            ItemStatus::Sending | ItemStatus::Ready | ItemStatus::InProgress => {
                busy.insert(program);
            }
            _ => {}
        }
    }
    if batch.is_empty() {
        if items.iter().all(|i| i.status.is_final()) {
            let done = inner
                .store
                .move_change_set(
                    &set.id,
                    &[ChangeSetState::Posting],
                    ChangeSetState::Done,
                    now_ms(),
                )
                .await?;
            if done {
                tracing::info!("change set done");
                let _ = inner.changes.send(set.id.clone());
            }
        }
        return Ok(false);
    }
    let user = author(set);
    let sends = batch.into_iter().map(|item| send(inner, set, &user, item));
    for outcome in futures::future::join_all(sends).await {
        if let Err(e) = outcome {
            tracing::warn!(error = %e, "change set poster: an item could not be recorded");
        }
    }
    let _ = inner.changes.send(set.id.clone());
    Ok(true)
}

/// Sends one item (again, for one left `sending`: its token then answers the job recorded the first
/// time) and records its job, or why it has none.
async fn send(inner: &Inner, set: &ChangeSetRecord, user: &User, item: &Item) -> Result<()> {
    let token = item_token(&set.id, item.position)?;
    let end = |state: ItemState, job_id: Option<String>, message: Option<String>| async move {
        inner
            .store
            .end_sending_item(
                &set.id,
                item.position,
                state,
                job_id.as_deref(),
                message.as_deref(),
                now_ms(),
            )
            .await
    };
    match item.status {
        ItemStatus::Ready => {
            if !inner
                .store
                .begin_sending_item(&set.id, item.position, now_ms())
                .await?
            {
                return Ok(());
            }
        }
        ItemStatus::Sending => {
            // Stopped half-way: the job, if it was recorded, carries the token.
            if let Some(job) = inner
                .store
                .job_by_submission_token(&set.workspace_id, token.as_str())
                .await?
            {
                return end(ItemState::Sent, Some(job.id), None).await;
            }
            // A feature change has no job to find: it may have reached Yelp, so it is not sent again.
            if matches!(item.change, Some(Change::Feature { .. })) {
                let message = "The posting stopped while this feature change was being sent; it was not \
                               sent again. The program's features page shows what Yelp holds";
                return end(ItemState::Failed, None, Some(message.into())).await;
            }
        }
        _ => return Ok(()),
    }
    let Some(change) = item.change.as_ref() else {
        return end(ItemState::Failed, None, Some("Does not apply".into())).await;
    };
    // The mirror as it is now must still be what the item was checked against.
    let program = inner
        .store
        .program(&set.workspace_id, &item.program_id)
        .await?;
    let now = program.as_ref().map(Snapshot::of);
    let differences = now
        .as_ref()
        .map(|now| item.before.differences(now))
        .unwrap_or_default();
    if program.is_none() || !differences.is_empty() {
        let message = match program {
            None => "The program is no longer in this workspace; not sent".to_owned(),
            Some(_) => format!(
                "Changed at Yelp since the change set was checked ({}); not sent. Retry failed \
                 stages it again against the program as it is now",
                differences.join(", ")
            ),
        };
        return end(ItemState::Failed, None, Some(message)).await;
    }
    let program_id = item.program_id.as_str();
    let jobs = &inner.jobs;
    let sent = match change {
        Change::Edit(fields) => {
            jobs.edit(
                user,
                program_id,
                fields.beyond(&item.before).draft(),
                Some(&token),
            )
            .await
        }
        Change::Pause => {
            jobs.pause_or_resume(user, program_id, true, Some(&token))
                .await
        }
        Change::Resume => {
            jobs.pause_or_resume(user, program_id, false, Some(&token))
                .await
        }
        Change::End => jobs.end(user, program_id, Some(&token)).await,
        Change::Feature { features } => {
            return send_features(inner, set, user, item, features).await;
        }
    };
    match sent {
        Ok(job_id) => end(ItemState::Sent, Some(job_id), None).await,
        Err(e) => {
            // Whatever went wrong, a job recorded with the token is the item's: it may have been sent.
            if let Some(job) = inner
                .store
                .job_by_submission_token(&set.workspace_id, token.as_str())
                .await?
            {
                return end(ItemState::Sent, Some(job.id), None).await;
            }
            match e {
                // Nothing was recorded, so nothing was sent: the next round sends it.
                Error::Database(_) => Err(e),
                Error::Config(_) | Error::Internal(_) => {
                    tracing::warn!(error = %e, "change set item could not be sent");
                    end(
                        ItemState::Failed,
                        None,
                        Some(
                            "Not sent: the workspace's Yelp connection could not be used; an \
                             admin should check it"
                                .into(),
                        ),
                    )
                    .await
                }
                other => end(ItemState::Failed, None, Some(refusal(other))).await,
            }
        }
    }
}

/// Sets an item's features: Yelp makes the change at once, so the item ends with the answer, without a
/// job. The write is never sent again: after an unanswered one the features are read back, and what they
/// do not show is reported.
async fn send_features(
    inner: &Inner,
    set: &ChangeSetRecord,
    user: &User,
    item: &Item,
    features: &serde_json::Value,
) -> Result<()> {
    let outcome = match crate::features::parse_changes(serde_json::json!({"features": features})) {
        Ok(changes) => {
            inner
                .features
                .change(user, &item.program_id, &changes)
                .await
        }
        Err(e) => Err(e),
    };
    let (state, message) = match outcome {
        Ok(change) if change.not_applied.is_empty() => (ItemState::Completed, None),
        Ok(change) => {
            let types: Vec<&str> = change.not_applied.iter().map(|t| t.label()).collect();
            (
                ItemState::Failed,
                Some(format!(
                    "Yelp did not answer, and the features read back do not show {}; it was sent once \
                     and not again",
                    types.join(", ")
                )),
            )
        }
        Err(Error::Database(e)) => return Err(Error::Database(e)),
        Err(e) => (ItemState::Failed, Some(refusal(e))),
    };
    inner
        .store
        .end_sending_item(
            &set.id,
            item.position,
            state,
            None,
            message.as_deref(),
            now_ms(),
        )
        .await
}
