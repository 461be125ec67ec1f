//! The sync engine: list every program at Yelp, reconcile the mirror, and tell subscribers how it goes.
//!
//! One run per workspace at a time: in this process a second request joins the running one (and is replayed
//! its events from the start); across processes a lease row in the database decides, and a request reaching
//! an instance that does not hold it follows the holder's run through the events it stores.

mod enrich;
mod events;
mod follow;
mod run;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tracing::Instrument;
use yelp_partner_api::Client;

use crate::error::Result;
use crate::store::{Store, new_id};

use events::RunLog;
pub use events::{CompleteStatus, RunSubscription, SequencedEvent, SyncEvent};

/// The default ceiling of a run's window: high enough that Yelp's capacity, not the ceiling, binds.
pub const DEFAULT_CONCURRENCY: usize = 64;

/// The default page size: Yelp's documented maximum (§13).
pub const DEFAULT_PAGE_SIZE: u32 = 40;

/// How runs list Yelp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncOptions {
    /// Most pages in flight at once: the ceiling of the adaptive window, which finds how many Yelp serves
    /// at once.
    pub concurrency: usize,
    /// Programs per page (Yelp's documented maximum is 40; a workspace whose Yelp refuses it falls back to
    /// 20 and remembers that).
    pub page_size: u32,
    /// Listings of one run at most, when Yelp's total changes while we read it.
    pub max_passes: u32,
    /// How long a run's lease lasts without renewal; a dead process frees the workspace after this.
    pub lease_ttl: Duration,
    /// How old a business's name and status may be before a run asks Yelp again (new businesses are
    /// always asked).
    pub business_info_max_age: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            concurrency: DEFAULT_CONCURRENCY,
            page_size: DEFAULT_PAGE_SIZE,
            max_passes: 3,
            lease_ttl: Duration::from_secs(30),
            business_info_max_age: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// What asked for a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// `yelp-ads sync`.
    Cli,
    /// The programs page was opened.
    Page,
    /// The "Sync Programs" button.
    Button,
    /// An API client.
    Api,
    /// The background schedule.
    Schedule,
}

impl Trigger {
    /// The name stored with the run.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cli => "cli",
            Self::Page => "page",
            Self::Button => "button",
            Self::Api => "api",
            Self::Schedule => "schedule",
        }
    }
}

/// Starts runs and lets callers join them. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SyncEngine {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    options: SyncOptions,
    /// Names this process in leases and run records.
    instance_id: String,
    /// The run going on for each workspace, in this process.
    running: Mutex<HashMap<String, Arc<RunLog>>>,
    /// Set on shutdown: runs stop after the page they are writing.
    stopping: std::sync::atomic::AtomicBool,
}

impl SyncEngine {
    /// An engine writing to `store`.
    pub fn new(store: Store, options: SyncOptions) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                options,
                instance_id: new_id(),
                running: Mutex::new(HashMap::new()),
                stopping: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    /// Starts a run of the workspace with `client`, or joins the one already going, in this instance or
    /// in another; either way the subscription replays every event of the run from its start. (A run of
    /// another instance is followed through the events it stores: progress once per percentage point.)
    pub fn sync(
        &self,
        workspace_id: &str,
        client: Client,
        trigger: Trigger,
        requested_by: Option<&str>,
    ) -> RunSubscription {
        let log = {
            let mut running = self
                .inner
                .running
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(log) = running.get(workspace_id) {
                return RunSubscription::new(log.clone(), true);
            }
            let log = Arc::new(RunLog::new(new_id()));
            running.insert(workspace_id.to_owned(), log.clone());
            log
        };
        let subscription = RunSubscription::new(log.clone(), false);
        // The run's id is recorded once known: this one, or that of another instance's run it joins.
        let span = tracing::info_span!(
            "sync_run",
            run_id = tracing::field::Empty,
            workspace_id,
            trigger = trigger.as_str()
        );
        let task = run::RunTask {
            engine: self.inner.clone(),
            workspace_id: workspace_id.to_owned(),
            client,
            trigger,
            requested_by: requested_by.map(str::to_owned),
            log,
            last_kept_percentage: std::sync::atomic::AtomicU8::new(u8::MAX),
            unversioned_writes: std::sync::atomic::AtomicBool::new(false),
        };
        tokio::spawn(task.run().instrument(span));
        subscription
    }

    /// Follows a run of the workspace that another instance is running (a client resuming its stream
    /// here), from its first event; joins it instead if this instance already runs or follows it.
    pub fn follow_run(&self, workspace_id: &str, run_id: &str) -> RunSubscription {
        let (log, registered) = {
            let mut running = self
                .inner
                .running
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match running.get(workspace_id) {
                Some(log) if log.run_id() == run_id => {
                    return RunSubscription::new(log.clone(), true);
                }
                Some(_) => (Arc::new(RunLog::new(run_id.to_owned())), false),
                None => {
                    // Registered, so that a sync asked of this instance meanwhile joins it too.
                    let log = Arc::new(RunLog::new(run_id.to_owned()));
                    running.insert(workspace_id.to_owned(), log.clone());
                    (log, true)
                }
            }
        };
        let subscription = RunSubscription::new(log.clone(), true);
        let span = tracing::info_span!("sync_run", run_id, workspace_id);
        let (inner, workspace_id, run_id) = (
            self.inner.clone(),
            workspace_id.to_owned(),
            run_id.to_owned(),
        );
        tokio::spawn(
            async move {
                follow::follow(&inner, &workspace_id, &run_id, &log).await;
                if registered {
                    inner.forget(&workspace_id, &log);
                }
                log.finish();
            }
            .instrument(span),
        );
        subscription
    }

    /// Subscribes to a run going on in this process, by its id.
    pub fn subscribe_run(&self, run_id: &str) -> Option<RunSubscription> {
        let running = self
            .inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        running
            .values()
            .find(|log| log.run_id() == run_id)
            .map(|log| RunSubscription::new(log.clone(), true))
    }

    /// Asks every run to stop after the page it is writing (each is recorded as interrupted), and waits
    /// up to `grace` for them to end. Answers whether they all did.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        self.inner
            .stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let idle = self
                .inner
                .running
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_empty();
            if idle {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Whether a run of the workspace is going in this process (or followed from it).
    pub fn is_running(&self, workspace_id: &str) -> bool {
        let running = self
            .inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        running.contains_key(workspace_id)
    }

    /// The store runs write to.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }
}

impl Inner {
    fn forget(&self, workspace_id: &str, log: &Arc<RunLog>) {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if running
            .get(workspace_id)
            .is_some_and(|l| Arc::ptr_eq(l, log))
        {
            running.remove(workspace_id);
        }
    }
}

/// Runs a sync to its end and answers its final event.
pub async fn sync_to_end(
    engine: &SyncEngine,
    workspace_id: &str,
    client: Client,
    trigger: Trigger,
) -> Result<SyncEvent> {
    engine
        .sync(workspace_id, client, trigger, None)
        .finish()
        .await
        .ok_or_else(|| crate::error::Error::Conflict("the sync ended without a final event".into()))
}
