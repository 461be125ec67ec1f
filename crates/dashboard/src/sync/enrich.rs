//! The last phase of a run: names, addresses and Yelp status of the businesses that are new or whose info
//! is older than the configured age, from Yelp's `business_info` (200 ids a call), through the same client
//! and so the same rate budget as the listing. It never fails the run: what could not be fetched is
//! retried by the next run and the old names are kept.

use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
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
pub(super) struct Enrichment<'a> {
    store: &'a Store,
    workspace_id: &'a str,
    batches: Option<BoxStream<'static, Result<BusinessInfoBatch, BusinessInfoError>>>,
    asked: usize,
    calls: usize,
    done: usize,
    failed_ids: usize,
    first_failure: Option<String>,
    enriched: Enriched,
}

impl<'a> Enrichment<'a> {
    /// Finds the workspace's businesses that are new or whose info is older than `max_age`, and starts
    /// asking Yelp for them.
    pub(super) async fn start(
        store: &'a Store,
        client: &Client,
        workspace_id: &'a str,
        max_age: Duration,
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
        let max_age_ms = i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
        match store
            .businesses_needing_info(workspace_id, now_ms().saturating_sub(max_age_ms))
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
                        self.workspace_id,
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
        Some(EnrichProgress {
            done: self.done.min(self.calls),
            calls: self.calls,
        })
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
