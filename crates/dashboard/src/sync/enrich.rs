//! Names, addresses and Yelp status of the businesses that are new or whose info is older than the
//! configured age, from Yelp's `business_info` (200 ids a call), through the same client and so the same
//! rate budget as the listing. It never fails the run: what could not be fetched is retried by the next run
//! and the old names are kept.
//!
//! It runs in the background of a run, in two phases: the first when three quarters of the listing is in
//! (by then nearly every business has been seen, and its calls take slots the listing's last rounds leave
//! free), the second as soon as the listing ends, for the few businesses only its last pages brought, while
//! the run decides removals. So naming adds little to a sync's wall time, and the program sync's outcome
//! (the `listed` event) never waits for it.

use futures::StreamExt;
use futures::stream::BoxStream;
use tokio_util::task::AbortOnDropHandle;
use tracing::warn;
use yelp_partner_api::{
    BUSINESS_INFO_CONCURRENCY, BUSINESS_INFO_MAX_IDS, BusinessInfoBatch, BusinessInfoError, Client,
};

use crate::store::{Store, now_ms};

/// What the phase did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Enriched {
    /// Businesses whose name, address or flags changed.
    pub(super) updated: u64,
    /// Set when some businesses could not be fetched: a sentence for people.
    pub(super) warning: Option<String>,
}

/// How far the phase is: calls done of calls to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct EnrichProgress {
    pub(super) done: usize,
    pub(super) calls: usize,
}

/// The phase under way: call [`Enrichment::next`] until it answers `None`, then [`Enrichment::finish`].
pub(super) struct Enrichment {
    store: Store,
    workspace_id: String,
    batches: Option<BoxStream<'static, Result<BusinessInfoBatch, BusinessInfoError>>>,
    asked: usize,
    calls: usize,
    done: usize,
    failed_ids: usize,
    first_failure: Option<String>,
    enriched: Enriched,
}

impl Enrichment {
    /// Finds the workspace's businesses whose info was never fetched or was fetched before `stale_before`
    /// (unix ms; fixed for the run, so that what its first phase fetched is not due in its second), and
    /// starts asking Yelp for them.
    pub(super) async fn start(
        store: Store,
        client: &Client,
        workspace_id: String,
        stale_before: i64,
    ) -> Self {
        let mut phase = Self {
            store,
            workspace_id,
            batches: None,
            asked: 0,
            calls: 0,
            done: 0,
            failed_ids: 0,
            first_failure: None,
            enriched: Enriched::default(),
        };
        match phase
            .store
            .businesses_needing_info(&phase.workspace_id, stale_before)
            .await
        {
            Ok(due) if due.is_empty() => {}
            Ok(due) => {
                phase.asked = due.len();
                phase.calls = due.len().div_ceil(BUSINESS_INFO_MAX_IDS);
                phase.batches = Some(client.business_info_batches(&due, BUSINESS_INFO_CONCURRENCY));
            }
            Err(e) => {
                warn!(error = %e, "could not read which businesses need their info");
                phase.first_failure = Some(unavailable_warning());
            }
        }
        phase
    }

    /// Waits for the next call to end and stores what it brought; `None` once every call has ended.
    pub(super) async fn next(&mut self) -> Option<EnrichProgress> {
        let batch = self.batches.as_mut()?.next().await?;
        match batch {
            Ok(batch) => {
                for bad in &batch.malformed {
                    warn!(business_id = bad.business_id.as_ref().map(|b| b.as_str()), error = %bad.error, "unreadable business info");
                }
                match self
                    .store
                    .write_business_info(
                        &self.workspace_id,
                        &batch.businesses,
                        &batch.missing,
                        now_ms(),
                        false,
                    )
                    .await
                {
                    Ok(updated) => self.enriched.updated += updated,
                    Err(e) => {
                        warn!(error = %e, "could not store business info");
                        self.failed_ids += batch.businesses.len() + batch.missing.len();
                        self.first_failure.get_or_insert_with(unavailable_warning);
                    }
                }
            }
            Err(e) => {
                warn!(businesses = e.business_ids.len(), error = %e.source, "business info call failed");
                self.failed_ids += e.business_ids.len();
                self.first_failure
                    .get_or_insert_with(|| super::run::describe_yelp_error(&e.source));
            }
        }
        self.done += 1;
        Some(self.progress())
    }

    /// Counts an earlier, ended phase of the same run as part of this one: its calls, what it updated and
    /// what it could not fetch.
    pub(super) fn absorb(&mut self, earlier: Enrichment) {
        self.asked += earlier.asked;
        self.calls += earlier.calls;
        self.done += earlier.done;
        self.failed_ids += earlier.failed_ids;
        self.enriched.updated += earlier.enriched.updated;
        if self.first_failure.is_none() {
            self.first_failure = earlier.first_failure;
        }
    }

    /// Calls ended so far, of calls to make.
    pub(super) fn progress(&self) -> EnrichProgress {
        EnrichProgress {
            done: self.done.min(self.calls),
            calls: self.calls,
        }
    }

    /// What the phase did, with a warning when some businesses could not be fetched.
    pub(super) fn finish(mut self) -> Enriched {
        if let Some(cause) = self.first_failure {
            self.enriched.warning = Some(if self.asked == 0 {
                format!(
                    "Programs are synchronized, but business names could not be updated ({cause})."
                )
            } else {
                format!(
                    "Programs are synchronized, but the names and status of {} of {} businesses could \
                     not be fetched from Yelp ({cause}); their old names are kept and the next sync tries \
                     again.",
                    self.failed_ids, self.asked
                )
            });
        }
        self.enriched
    }
}

fn unavailable_warning() -> String {
    "the dashboard's database could not be used".into()
}

/// Naming in the background of a run: the first phase at once, the second once told the listing has
/// ended (after the first, so that no business is asked for twice). Its progress comes through
/// [`Naming::next_progress`]. Dropped, it stops: a run that fails or is stopped leaves no call behind.
pub(super) struct Naming {
    task: AbortOnDropHandle<Enrichment>,
    listing_ended: Option<tokio::sync::oneshot::Sender<()>>,
    progress: tokio::sync::mpsc::UnboundedReceiver<EnrichProgress>,
}

impl Naming {
    /// Starts naming the businesses due now; those due once the listing has ended follow.
    pub(super) fn spawn(
        store: Store,
        client: Client,
        workspace_id: String,
        stale_before: i64,
    ) -> Self {
        let (ended_tx, ended_rx) = tokio::sync::oneshot::channel::<()>();
        let (progress_tx, progress) = tokio::sync::mpsc::unbounded_channel();
        let task = AbortOnDropHandle::new(tokio::spawn(async move {
            let mut first =
                Enrichment::start(store.clone(), &client, workspace_id.clone(), stale_before).await;
            while let Some(step) = first.next().await {
                let _ = progress_tx.send(step);
            }
            // A run that ends early drops the sender and aborts this task; either way, go no further.
            if ended_rx.await.is_err() {
                return first;
            }
            let mut rest = Enrichment::start(store, &client, workspace_id, stale_before).await;
            rest.absorb(first);
            if rest.progress().calls > rest.progress().done {
                let _ = progress_tx.send(rest.progress());
            }
            while let Some(step) = rest.next().await {
                let _ = progress_tx.send(step);
            }
            rest
        }));
        Self {
            task,
            listing_ended: Some(ended_tx),
            progress,
        }
    }

    /// Says the listing has ended: the businesses it brought since the first phase began are named next.
    pub(super) fn listing_ended(&mut self) {
        if let Some(ended) = self.listing_ended.take() {
            let _ = ended.send(());
        }
    }

    /// The next step of its progress; `None` once every call has ended.
    pub(super) async fn next_progress(&mut self) -> Option<EnrichProgress> {
        self.progress.recv().await
    }

    /// Waits for it to end; `None` if its task failed (what it stored is kept; the next run asks again for
    /// the rest).
    pub(super) async fn finish(mut self) -> Option<Enrichment> {
        self.listing_ended();
        match (&mut self.task).await {
            Ok(done) => Some(done),
            Err(e) => {
                warn!(error = %e, "naming the businesses failed");
                None
            }
        }
    }
}
