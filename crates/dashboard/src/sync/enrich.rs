//! The last phase of a run: names, addresses and Yelp status of the businesses that are new or whose info
//! is older than the configured age, from Yelp's `business_info` (200 ids a call), through the same client
//! and so the same rate budget as the listing. It never fails the run: what could not be fetched is
//! retried by the next run and the old names are kept.

use std::time::Duration;

use futures::StreamExt;
use tracing::warn;
use yelp_partner_api::{BUSINESS_INFO_CONCURRENCY, BUSINESS_INFO_MAX_IDS, Client};

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

/// Fetches and stores the info of the workspace's businesses that need it, reporting each finished call.
pub(super) async fn enrich_businesses(
    store: &Store,
    client: &Client,
    workspace_id: &str,
    max_age: Duration,
    mut progress: impl AsyncFnMut(EnrichProgress),
) -> Enriched {
    let max_age_ms = i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
    let due = match store
        .businesses_needing_info(workspace_id, now_ms().saturating_sub(max_age_ms))
        .await
    {
        Ok(due) => due,
        Err(e) => {
            warn!(error = %e, "could not read which businesses need their info");
            return Enriched {
                updated: 0,
                warning: Some(unavailable_warning()),
            };
        }
    };
    if due.is_empty() {
        return Enriched::default();
    }
    let calls = due.len().div_ceil(BUSINESS_INFO_MAX_IDS);
    let mut batches = client.business_info_batches(&due, BUSINESS_INFO_CONCURRENCY);
    let mut enriched = Enriched::default();
    let mut failed_ids = 0usize;
    let mut first_failure = None;
    let mut done = 0;
    while let Some(batch) = batches.next().await {
        match batch {
            Ok(batch) => {
                for bad in &batch.malformed {
                    warn!(business_id = bad.business_id.as_ref().map(|b| b.as_str()), error = %bad.error, "unreadable business info");
                }
                match store
                    .write_business_info(workspace_id, &batch.businesses, &batch.missing, now_ms())
                    .await
                {
                    Ok(updated) => enriched.updated += updated,
                    Err(e) => {
                        warn!(error = %e, "could not store business info");
                        failed_ids += batch.businesses.len() + batch.missing.len();
                        first_failure.get_or_insert_with(unavailable_warning);
                    }
                }
            }
            Err(e) => {
                warn!(businesses = e.business_ids.len(), error = %e.source, "business info call failed");
                failed_ids += e.business_ids.len();
                first_failure.get_or_insert_with(|| e.source.to_string());
            }
        }
        done += 1;
        progress(EnrichProgress {
            done: done.min(calls),
            calls,
        })
        .await;
    }
    if let Some(cause) = first_failure {
        enriched.warning = Some(format!(
            "Programs are synchronized, but the names and status of {failed_ids} of {} businesses could not \
             be fetched from Yelp ({cause}); their old names are kept and the next sync tries again.",
            due.len()
        ));
    }
    enriched
}

fn unavailable_warning() -> String {
    "the dashboard's database could not be used".into()
}
