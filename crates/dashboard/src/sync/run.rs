//! One run: list → reconcile → write → events.

use std::collections::{BTreeSet, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use futures::{FutureExt, StreamExt};
use tokio_util::task::AbortOnDropHandle;
use tracing::{error, info, warn};
use yelp_partner_api::{AdaptiveWindow, Client, INITIAL_WINDOW, ListAllOptions, StatusFilter};

use super::enrich::{Enriched, Naming};
use super::events::{CompleteStatus, RunLog, SyncEvent};
use super::{Inner, Trigger};
use crate::store::{KnownBusinesses, MirrorWriter, RunCounts, RunStatus, now_ms};

/// Most pages written in one transaction (400 programs at 40 a page: a few thousand bound values).
const MAX_PAGES_PER_WRITE: usize = 10;

/// How often a run's writes bump the mirror version, which makes readers recompute their cached lists.
const VERSION_BUMP_INTERVAL: Duration = Duration::from_secs(1);

pub(super) struct RunTask {
    pub(super) engine: Arc<Inner>,
    pub(super) workspace_id: String,
    pub(super) client: Client,
    pub(super) trigger: Trigger,
    pub(super) requested_by: Option<String>,
    pub(super) log: Arc<RunLog>,
    /// The percentage of the last progress event stored, so that the database keeps one per point.
    pub(super) last_kept_percentage: AtomicU8,
    /// Programs were written since the mirror version was last bumped: the run bumps it when it ends.
    pub(super) unversioned_writes: AtomicBool,
}

/// How a run ended, for the record.
struct Ended {
    status: RunStatus,
    counts: RunCounts,
    error: Option<String>,
    event: SyncEvent,
}

/// A run that could not finish, with what it managed.
struct Failed {
    /// For the user: what went wrong and what to do.
    message: String,
    counts: RunCounts,
    /// Recorded status: `Error`, or `Interrupted` when the process is stopping.
    status: RunStatus,
}

impl Failed {
    fn error(message: String, counts: RunCounts) -> Self {
        Self {
            message,
            counts,
            status: RunStatus::Error,
        }
    }
}

/// Where a request stands once it has looked at the workspace's lease.
enum Claim {
    /// This run holds the lease: it runs here.
    Held,
    /// Another instance runs the workspace's sync, under this id: follow it.
    Follow(String),
}

impl RunTask {
    pub(super) async fn run(self) {
        let ws = self.workspace_id.clone();
        match self.claim().await {
            Ok(Claim::Held) => {
                tracing::Span::current().record("run_id", self.log.run_id());
                self.lead().await;
            }
            Ok(Claim::Follow(run_id)) => {
                tracing::Span::current().record("run_id", &run_id);
                super::follow::follow(&self.engine, &ws, &run_id, &self.log).await;
            }
            Err(message) => {
                self.log.push(SyncEvent::Error { message });
            }
        }
        // Forget the run before ending it, so that a request arriving now starts a fresh one rather than
        // joining a run that is over.
        self.engine.forget(&ws, &self.log);
        self.log.finish();
    }

    /// Takes the workspace's lease for this run, or finds the run of another instance that holds it.
    /// Answers a message for the user when neither can be done.
    async fn claim(&self) -> Result<Claim, String> {
        let store = &self.engine.store;
        let ws = self.workspace_id.as_str();
        let run_id = self.log.run_id();
        let ttl_ms = i64::try_from(self.engine.options.lease_ttl.as_millis()).unwrap_or(30_000);
        let unavailable = |e: crate::error::Error| {
            error!(error = %e, "could not claim the sync lease");
            "The dashboard's database is unavailable; the sync did not start.".to_owned()
        };
        // A run that has ended releases its lease just after storing its final event: a request arriving
        // in between waits for the release (at worst, for the lease to run out) rather than join a run
        // that is over.
        let deadline = Instant::now() + self.engine.options.lease_ttl + Duration::from_secs(5);
        loop {
            let claimed = store
                .claim_sync_lease(ws, &run_id, &self.engine.instance_id, now_ms(), ttl_ms)
                .await
                .map_err(unavailable)?;
            if claimed {
                return Ok(Claim::Held);
            }
            if let Some(lease) = store.sync_lease(ws).await.map_err(unavailable)? {
                let live = lease.expires_at >= now_ms();
                // No record yet: its holder has just claimed the lease and is writing it.
                let going = store
                    .sync_run(ws, &lease.run_id)
                    .await
                    .map_err(unavailable)?
                    .is_none_or(|run| run.status == RunStatus::Running);
                if live && going {
                    return Ok(Claim::Follow(lease.run_id));
                }
            }
            if Instant::now() >= deadline {
                return Err(
                    "Another dashboard instance is finishing a sync of this workspace; try again in a \
                     moment."
                        .into(),
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Runs the sync here, under the lease this task holds.
    async fn lead(&self) {
        let started = Instant::now();
        let store = &self.engine.store;
        let run_id = self.log.run_id();
        let ws = self.workspace_id.as_str();

        let recorded = async {
            // Holding the lease, this is the only live run of the workspace: any other still recorded as
            // running was left by a process that stopped.
            let stale = store
                .interrupt_stale_sync_runs(ws, &run_id, now_ms())
                .await?;
            if stale > 0 {
                warn!(
                    stale,
                    "earlier runs of this workspace were left running by a stopped process"
                );
            }
            store
                .insert_sync_run(
                    &run_id,
                    ws,
                    self.trigger.as_str(),
                    self.requested_by.as_deref(),
                    &self.engine.instance_id,
                    now_ms(),
                )
                .await
        };
        if let Err(e) = recorded.await {
            error!(error = %e, "could not record the sync run");
            self.release_lease(&run_id).await;
            self.log.push(SyncEvent::Error {
                message: "The dashboard's database is unavailable; the sync did not start.".into(),
            });
            return;
        }

        let lost = Arc::new(AtomicBool::new(false));
        // Aborted when dropped: if this task is itself dropped (the runtime shutting down), the lease is
        // not renewed past it.
        let renewer = AbortOnDropHandle::new(tokio::spawn(renew_lease(
            self.engine.clone(),
            self.workspace_id.clone(),
            run_id.clone(),
            lost.clone(),
        )));
        // A panic must not leave subscribers waiting for a final event that never comes.
        let result = AssertUnwindSafe(self.execute(&lost)).catch_unwind().await;
        // The run is over: its lease is released below, and must not be renewed meanwhile.
        drop(renewer);
        // However the run ended, what it wrote is shown to readers from now on.
        if self.unversioned_writes.swap(false, Ordering::Relaxed) {
            if let Err(e) = store.bump_mirror_version(ws).await {
                error!(error = %e, "could not bump the mirror version after the sync");
            }
        }
        let ended = match result {
            Ok(Ok(ended)) => ended,
            Ok(Err(failed)) => Ended {
                status: failed.status,
                counts: failed.counts,
                error: Some(failed.message.clone()),
                event: SyncEvent::Error {
                    message: failed.message,
                },
            },
            Err(_) => {
                error!("the sync run panicked");
                Ended {
                    status: RunStatus::Error,
                    counts: RunCounts::default(),
                    error: Some("internal error".into()),
                    event: SyncEvent::Error {
                        message:
                            "The sync stopped on an internal error; it has been logged. Try again."
                                .into(),
                    },
                }
            }
        };
        let c = &ended.counts;
        if let Err(e) = store
            .finish_sync_run(&run_id, ended.status, c, ended.error.as_deref(), now_ms())
            .await
        {
            error!(error = %e, "could not record the end of the sync run");
        }
        info!(
            status = ended.status.as_str(),
            total_api = c.total_api,
            pages = c.pages,
            pages_failed = c.pages_failed,
            added = c.added,
            updated = c.updated,
            unchanged = c.unchanged,
            removed = c.removed,
            settled_window = c.settled_window,
            page_size = c.page_size,
            duration_ms = started.elapsed().as_millis() as u64,
            error = ended.error.as_deref(),
            "sync run ended"
        );
        // The final event is stored, then the lease released, then the event shown here: whoever sees it
        // and asks again, on any instance, starts a new run rather than join this one.
        let seq = self.log.next_seq();
        self.store_event(seq, &ended.event).await;
        self.release_lease(&run_id).await;
        self.log.push_at(seq, ended.event);
    }

    async fn release_lease(&self, run_id: &str) {
        if let Err(e) = self
            .engine
            .store
            .release_sync_lease(&self.workspace_id, run_id)
            .await
        {
            warn!(error = %e, "could not release the sync lease; it will expire");
        }
    }

    /// Keeps an event for replay and for instances following the run.
    async fn store_event(&self, seq: u64, event: &SyncEvent) {
        let json = serde_json::to_string(event).unwrap_or_default();
        let run_id = self.log.run_id();
        let stored = self.engine.store.append_sync_event(&run_id, seq, &json);
        if let Err(e) = stored.await {
            warn!(error = %e, seq, "could not store a sync event");
        }
    }

    /// Sends an event to subscribers and keeps it for replay. Live subscribers get every progress event;
    /// the database keeps one per percentage point, which is all a replay needs, and spares a large
    /// sync a write per page.
    async fn emit(&self, event: SyncEvent) {
        let keep = match &event {
            SyncEvent::Progress { percentage, .. } => {
                self.last_kept_percentage
                    .swap(*percentage, Ordering::Relaxed)
                    != *percentage
            }
            _ => true,
        };
        let seq = self.log.next_seq();
        if keep {
            self.store_event(seq, &event).await;
        }
        self.log.push_at(seq, event);
    }

    async fn execute(&self, lease_lost: &AtomicBool) -> Result<Ended, Failed> {
        let store = &self.engine.store;
        let options = &self.engine.options;
        let ws = self.workspace_id.as_str();
        self.emit(SyncEvent::Start {
            message: "Starting synchronization...".into(),
            run_id: self.log.run_id(),
        })
        .await;
        let mut counts = RunCounts::default();
        let total_db = store
            .count_live_programs(ws)
            .await
            .map_err(|e| self.store_failure(&e, counts))?;
        let run_id = self.log.run_id();
        // Into an empty mirror every program is new, and a history of "added" for each says nothing.
        let writer = MirrorWriter::Sync {
            run_id: &run_id,
            record_added: total_db > 0,
        };

        let mut restored = 0u64;
        let mut known_businesses = KnownBusinesses::default();
        let mut warning = None;
        let mut complete_listing = None;
        // A size Yelp refused before is not asked again.
        let page_size = match store.sync_page_size(ws).await {
            Ok(remembered) => remembered
                .unwrap_or(options.page_size)
                .min(options.page_size),
            Err(e) => return Err(self.store_failure(&e, counts)),
        };
        let mut last_bump: Option<Instant> = None;
        // Business info older than this is fetched again; fixed for the run (see `enrich`).
        let max_age_ms =
            i64::try_from(options.business_info_max_age.as_millis()).unwrap_or(i64::MAX);
        let stale_before = now_ms().saturating_sub(max_age_ms);
        let mut naming: Option<Naming> = None;
        for pass in 1..=options.max_passes.max(1) {
            let mut pass_seen: HashSet<String> = HashSet::new();
            let mut totals = BTreeSet::new();
            let mut failures = Vec::new();
            let mut malformed = 0usize;
            let mut total = None;
            let window = Arc::new(AdaptiveWindow::new(
                INITIAL_WINDOW,
                options.concurrency.max(1),
            ));
            let mut pages = self
                .client
                .list_all_programs_in(
                    ListAllOptions {
                        status: StatusFilter::All,
                        page_size,
                        concurrency: options.concurrency,
                    },
                    window.clone(),
                )
                .fuse();
            while let Some(first) = pages.next().await {
                // Pages that came while the last write was committing go into one transaction: at Yelp's
                // speed that is one page, at a local simulator's, several.
                let mut batch = vec![first];
                while batch.len() < MAX_PAGES_PER_WRITE {
                    match pages.next().now_or_never() {
                        Some(Some(page)) => batch.push(page),
                        _ => break,
                    }
                }
                if lease_lost.load(Ordering::Relaxed) {
                    return Err(Failed::error(
                        "The sync lost its lock on this workspace (the database was unreachable for too \
                         long); programs written so far are kept. Try again."
                            .into(),
                        counts,
                    ));
                }
                if self.engine.stopping.load(Ordering::SeqCst) {
                    return Err(Failed {
                        message: format!(
                            "The dashboard is shutting down; the sync stopped after {} pages, which are \
                             saved. The next sync completes it.",
                            counts.pages
                        ),
                        counts,
                        status: RunStatus::Interrupted,
                    });
                }
                let mut fetched = Vec::with_capacity(batch.len());
                for page in batch {
                    let page = match page {
                        Ok(page) => page,
                        Err(e) => {
                            warn!(offset = e.offset, error = %e.source, "page failed");
                            counts.pages_failed += 1;
                            if matches!(e.source, yelp_partner_api::Error::Unauthorized)
                                || total.is_none()
                            {
                                // Nothing else can be listed: stop now rather than fail page after page.
                                return Err(Failed::error(describe_yelp_error(&e.source), counts));
                            }
                            failures.push(e);
                            continue;
                        }
                    };
                    let total_api = *total.get_or_insert(page.total);
                    if page.offset == 0 {
                        counts.page_size = Some(u64::from(page.limit));
                        if page.limit < page_size {
                            warn!(
                                asked = page_size,
                                used = page.limit,
                                "Yelp refused the page size; this workspace's syncs use the smaller one"
                            );
                            if let Err(e) = store.set_sync_page_size(ws, page.limit).await {
                                warn!(error = %e, "could not remember the page size");
                            }
                        }
                    }
                    if pass == 1 && counts.total_api.is_none() {
                        counts.total_api = Some(total_api);
                        self.emit(SyncEvent::Info {
                            total_api,
                            total_db,
                            to_sync: total_api,
                        })
                        .await;
                    }
                    totals.insert(page.total);
                    malformed += page.malformed.len();
                    for bad in &page.malformed {
                        warn!(offset = page.offset, index = bad.index, program_id = bad.program_id.as_deref(), error = %bad.error, "unreadable program entry");
                    }
                    fetched.push(page);
                }
                let Some(total_api) = total else {
                    continue;
                };
                if fetched.is_empty() {
                    continue;
                }
                let entries: Vec<_> = fetched
                    .iter()
                    .flat_map(|page| page.programs.iter().cloned())
                    .collect();
                // Readers' cached lists are recomputed at most once a second during a run, and at its end.
                let bump = last_bump.is_none_or(|at| at.elapsed() >= VERSION_BUMP_INTERVAL);
                let written = store
                    .write_listed_programs(
                        ws,
                        &entries,
                        &mut known_businesses,
                        now_ms(),
                        bump,
                        writer,
                    )
                    .await
                    .map_err(|e| self.store_failure(&e, counts))?;
                let wrote = written.added + written.updated + written.restored > 0;
                if wrote && bump {
                    last_bump = Some(Instant::now());
                    self.unversioned_writes.store(false, Ordering::Relaxed);
                } else if wrote {
                    self.unversioned_writes.store(true, Ordering::Relaxed);
                }
                counts.pages += fetched.len() as u64;
                counts.added += written.added + written.restored;
                counts.updated += written.updated;
                restored += written.restored;
                // One progress event per page, as the replaced system sent them.
                for page in &fetched {
                    pass_seen.extend(
                        page.programs
                            .iter()
                            .map(|p| p.program.program_id.to_string()),
                    );
                    let synced = (pass_seen.len() as u64).min(total_api);
                    self.emit(SyncEvent::Progress {
                        synced,
                        total: total_api,
                        added: counts.added,
                        updated: counts.updated,
                        percentage: percentage(synced, total_api),
                    })
                    .await;
                }
                if naming.is_none() && pass_seen.len() as u64 * 4 >= total_api * 3 {
                    naming = Some(Naming::spawn(
                        store.clone(),
                        self.client.clone(),
                        ws.to_owned(),
                        stale_before,
                    ));
                }
            }
            counts.settled_window = Some(window.limit() as u64);
            info!(
                pass,
                settled_window = window.limit(),
                max_in_flight = window.max_in_flight(),
                min_rtt_ms = window.min_rtt().map(|d| d.as_millis() as u64),
                page_size = counts.page_size,
                "listing ended"
            );
            drop(pages);
            if !failures.is_empty() {
                let message = format!(
                    "Could not fetch {} of {} pages from Yelp: {} Nothing was marked removed; the {} pages \
                     fetched were saved.",
                    failures.len(),
                    failures.len() as u64 + counts.pages,
                    describe_yelp_error(&failures[0].source),
                    counts.pages,
                );
                return Err(Failed::error(message, counts));
            }
            let last_total = totals.last().copied().unwrap_or(0);
            if malformed > 0 {
                warning = Some(format!(
                    "{malformed} program entries from Yelp could not be read; removals were not decided \
                     this time."
                ));
                break;
            }
            if totals.len() == 1 && pass_seen.len() as u64 >= last_total {
                complete_listing = Some(pass_seen);
                break;
            }
            info!(pass, totals = ?totals, listed = pass_seen.len(), "Yelp's listing changed while it was read; listing again");
            if pass == options.max_passes.max(1) {
                warning = Some(
                    "Yelp's program list kept changing during the sync; removals were not decided this time."
                        .into(),
                );
            }
        }

        // The listing has ended: the businesses its last pages brought are named while removals are decided.
        let mut naming = naming.unwrap_or_else(|| {
            Naming::spawn(
                store.clone(),
                self.client.clone(),
                ws.to_owned(),
                stale_before,
            )
        });
        naming.listing_ended();
        if let Some(listed) = &complete_listing {
            counts.removed = store
                .mark_programs_removed(ws, listed, now_ms(), &run_id)
                .await
                .map_err(|e| self.store_failure(&e, counts))?;
        }
        let changed_rows = counts.added + counts.updated + counts.removed;
        if changed_rows >= 1000 {
            if let Err(e) = store.analyze_programs().await {
                warn!(error = %e, "could not refresh the planner's statistics");
            }
        }
        let total_synced = store
            .count_live_programs(ws)
            .await
            .map_err(|e| self.store_failure(&e, counts))?;
        counts.unchanged = total_synced.saturating_sub(counts.added + counts.updated);
        if restored > 0 {
            info!(restored, "programs marked removed earlier are back at Yelp");
        }
        let changed = counts.added + counts.updated + counts.removed > 0;
        let (status, message) = if changed {
            let mut message = format!(
                "Successfully synchronized {} new programs. Total: {total_synced}",
                counts.added
            );
            if counts.updated + counts.removed > 0 {
                message.push_str(&format!(
                    " ({} updated, {} removed)",
                    counts.updated, counts.removed
                ));
            }
            (CompleteStatus::Synced, message)
        } else {
            (
                CompleteStatus::UpToDate,
                format!("Database already has all {total_synced} programs"),
            )
        };
        self.emit(SyncEvent::Listed {
            status,
            added: counts.added,
            updated: counts.updated,
            removed: counts.removed,
            total_synced,
            message: message.clone(),
        })
        .await;
        // Names and status of new or day-old businesses: never the run's outcome, at worst a warning.
        while let Some(step) = naming.next_progress().await {
            self.emit(SyncEvent::Enrich {
                done: step.done as u64,
                total: step.calls as u64,
            })
            .await;
        }
        let enriched = naming
            .finish()
            .await
            .map(|phases| phases.finish())
            .unwrap_or_else(|| Enriched {
                updated: 0,
                warning: Some(
                    "Programs are synchronized, but business names could not be updated this time."
                        .into(),
                ),
            });
        if enriched.updated > 0 {
            // Shown to readers by the run's last bump of the mirror version.
            self.unversioned_writes.store(true, Ordering::Relaxed);
        }
        counts.businesses_updated = Some(enriched.updated);
        if let Some(more) = enriched.warning {
            warning = Some(match warning {
                Some(first) => format!("{first} {more}"),
                None => more,
            });
        }
        Ok(Ended {
            status: match status {
                CompleteStatus::Synced => RunStatus::Synced,
                CompleteStatus::UpToDate => RunStatus::UpToDate,
            },
            counts,
            error: warning.clone(),
            event: SyncEvent::Complete {
                status,
                added: counts.added,
                updated: counts.updated,
                removed: counts.removed,
                unchanged: counts.unchanged,
                total_synced,
                businesses_updated: enriched.updated,
                message,
                warning,
            },
        })
    }

    fn store_failure(&self, e: &crate::error::Error, counts: RunCounts) -> Failed {
        error!(error = %e, "the sync could not use the database");
        Failed::error(
            "The dashboard's database failed during the sync; programs written before the failure are \
             kept. Try again."
                .into(),
            counts,
        )
    }
}

/// Keeps the run's lease alive; flags it if it was lost.
async fn renew_lease(
    engine: Arc<Inner>,
    workspace_id: String,
    run_id: String,
    lost: Arc<AtomicBool>,
) {
    let ttl = engine.options.lease_ttl;
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(30_000);
    let mut ticks = tokio::time::interval(ttl / 3);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        match engine
            .store
            .renew_sync_lease(&workspace_id, &run_id, now_ms(), ttl_ms)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                error!("the sync lease was lost");
                lost.store(true, Ordering::Relaxed);
                return;
            }
            Err(e) => warn!(error = %e, "could not renew the sync lease"),
        }
    }
}

fn percentage(done: u64, total: u64) -> u8 {
    if total == 0 {
        return 100;
    }
    u8::try_from((done.min(total) * 100) / total).unwrap_or(100)
}

/// What a user should read when Yelp fails a sync.
pub(super) fn describe_yelp_error(e: &yelp_partner_api::Error) -> String {
    use yelp_partner_api::Error as E;
    match e {
        E::Unauthorized => {
            "Yelp rejected the partner credentials. Check the workspace's Yelp username \
                            and password."
                .into()
        }
        E::RateLimited { .. } => {
            "Yelp is limiting how fast the dashboard may ask (HTTP 429). Try again in a minute."
                .into()
        }
        E::Server { status } => {
            format!("Yelp is unavailable right now (HTTP {status}). Try again in a few minutes.")
        }
        E::Transport(_) | E::Timeout => {
            "Could not reach Yelp (network error or timeout). Try again in a few minutes.".into()
        }
        E::Decode { .. } => {
            "Yelp answered with data the dashboard cannot read; the details are in the server log."
                .into()
        }
        E::Rejected { description, .. } => format!("Yelp refused the listing: {description}"),
        E::NotFound { .. } => "Yelp's program listing is not available for this account.".into(),
        E::InvalidRequest(_) | E::Config(_) => format!("The Yelp connection is misconfigured: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_whole_and_bounded() {
        assert_eq!(percentage(0, 1900), 0);
        assert_eq!(percentage(95, 1900), 5);
        assert_eq!(percentage(1900, 1900), 100);
        assert_eq!(percentage(2000, 1900), 100);
        assert_eq!(percentage(0, 0), 100);
    }

    #[test]
    fn yelp_failures_read_as_advice_without_secrets() {
        let m = describe_yelp_error(&yelp_partner_api::Error::Unauthorized);
        assert!(m.contains("credentials"));
        let m = describe_yelp_error(&yelp_partner_api::Error::Server { status: 503 });
        assert!(m.contains("HTTP 503"));
    }
}
