//! The composition root: [`Application::build`] turns a [`Config`] into a running dashboard (store, key of
//! stored credentials, the Yelp clients, sync engine, jobs and their watcher, the schedule, the router and
//! its listener). `serve`, the sync command and the tests all build the dashboard here.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::task::AbortOnDropHandle;
use yelp_partner_api::CallObserver;

use crate::auth;
use crate::cache::BodyCache;
use crate::change_sets::{ChangeSetService, PosterHandle};
use crate::config::Config;
use crate::demo::{self, DEMO_WORKSPACE, Demo, DemoOptions};
use crate::error::{Error, Result};
use crate::features::FeatureService;
use crate::jobs::{JobService, WatcherHandle};
use crate::schedule::{Schedule, ScheduleHandle};
use crate::store::{Store, now_ms};
use crate::sync::SyncEngine;
use crate::web::{self, AppState, ConnectionLimits};
use crate::yelp::YelpClients;

/// A built dashboard: its services running in the background, its listener bound, ready to serve.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    limits: ConnectionLimits,
    watcher: Option<WatcherHandle>,
    poster: Option<PosterHandle>,
    schedule: Option<ScheduleHandle>,
    /// Deletes expired sessions and stale sign-in failure counts; stops when dropped.
    pruning: AbortOnDropHandle<()>,
    demo: Option<Demo>,
}

/// How long the audit log keeps an entry: a year.
pub const AUDIT_RETENTION_MS: i64 = 366 * 24 * 60 * 60 * 1000;
/// How long programs' history is kept: two years (and a day, for a leap year).
pub const HISTORY_RETENTION_MS: i64 = 731 * 24 * 60 * 60 * 1000;

/// How often expired sessions and sign-in failure counts that no longer matter are deleted.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(10 * 60);

impl Application {
    /// Opens the database that `config` names (migrating it) and builds the dashboard over it.
    pub async fn build(config: Config) -> Result<Self> {
        let store = config.database.open().await?;
        Self::build_with_store(config, store).await
    }

    /// Builds the dashboard over an open, migrated `store` (tests keep a handle on theirs): loads the key
    /// of stored credentials, starts the demo's simulator when the dashboard is in demo mode, the job
    /// watcher (which picks up every unfinished job, a previous run's included) and the schedule, and
    /// binds `config.bind` (port 0 picks a free one).
    pub async fn build_with_store(config: Config, store: Store) -> Result<Self> {
        let secrets = Arc::new(config.database.secrets()?);
        let yelp_settings = config.yelp_settings()?;
        let workspaces = store.workspaces().await?;
        let demo_mode = config.demo
            || (!config.tuning.no_demo_fallback
                && config.yelp_base_url.is_none()
                && workspaces.iter().all(|w| w.name == DEMO_WORKSPACE));
        let demo = if demo_mode {
            Some(demo::start(&store, &secrets, &DemoOptions::default()).await?)
        } else {
            None
        };

        let metrics = Arc::new(web::metrics::Metrics::default());
        let observer: CallObserver = {
            let metrics = metrics.clone();
            Arc::new(move |call| metrics.yelp_call(call))
        };
        let yelp = YelpClients::new(
            store.clone(),
            secrets.clone(),
            yelp_settings,
            Some(observer),
        );
        let engine = sync_engine(&config, &store);
        let jobs = JobService::new(store.clone(), yelp.source(), config.job_options());
        let features = FeatureService::new(store.clone(), yelp.source());
        let watcher = jobs.spawn_watcher();
        let change_sets = ChangeSetService::new(
            store.clone(),
            jobs.clone(),
            features.clone(),
            config.tuning.posting.clone().unwrap_or_default(),
        );
        let poster = change_sets.spawn_poster();
        let mut schedule = Schedule::new(engine.clone(), yelp.source(), config.sync_interval);
        if demo.is_none() {
            // The simulator of a previous demo run is gone.
            for stale_demo in workspaces.iter().filter(|w| w.name == DEMO_WORKSPACE) {
                schedule = schedule.skipping(stale_demo.id.clone());
            }
        }
        let schedule = schedule.spawn();
        let pruning = spawn_pruning(
            store.clone(),
            config.tuning.prune_interval.unwrap_or(PRUNE_INTERVAL),
            config.snapshot_retention_ms(),
        );

        let state = AppState {
            store,
            engine,
            secrets,
            metrics,
            secure_cookies: config.secure_cookies,
            trust_forwarded_for: config.trust_forwarded_for,
            metrics_token: config.metrics_token(),
            basic_logins: Arc::default(),
            yelp,
            jobs,
            features,
            change_sets,
            request_timeout: config.request_timeout,
            list_bodies: Arc::new(BodyCache::of_bodies(config.list_cache_bytes())),
        };
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|e| Error::Invalid(format!("cannot listen on {}: {e}", config.bind)))?;
        Ok(Self {
            listener,
            state,
            limits: config.connection_limits(),
            watcher: Some(watcher),
            poster: Some(poster),
            schedule,
            pruning,
            demo,
        })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// What the handlers reach: the store, the engine, the jobs, the Yelp clients.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The demo's simulator, in demo mode.
    pub fn demo(&self) -> Option<&Demo> {
        self.demo.as_ref()
    }

    /// The job watcher, for a caller that stops it itself (a test of a restart).
    pub fn take_watcher(&mut self) -> Option<WatcherHandle> {
        self.watcher.take()
    }

    /// The change-set poster, for a caller that stops it itself (a test of a restart).
    pub fn take_poster(&mut self) -> Option<PosterHandle> {
        self.poster.take()
    }

    /// The schedule of syncs (none with an interval of 0), for a caller that stops it itself.
    pub fn take_schedule(&mut self) -> Option<ScheduleHandle> {
        self.schedule.take()
    }

    /// Serves until `shutdown` resolves; then the schedule stops (so that it starts no run while the
    /// engine stops the running ones), running syncs stop after their current page and are recorded, open
    /// streams end, the server stops within `grace`, and the job watcher last. Unfinished jobs stay in the
    /// database; the next start (or another instance) carries on with them.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
        grace: Duration,
    ) -> Result<()> {
        let Self {
            listener,
            state,
            limits,
            watcher,
            poster,
            schedule,
            pruning,
            demo,
        } = self;
        let engine = state.engine.clone();
        let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
        let serve = web::connections::serve(listener, web::router(state), limits, async move {
            shutdown.await;
            if let Some(schedule) = schedule {
                schedule.stop().await;
            }
            tracing::info!("shutting down: stopping syncs after their current page");
            if !engine.shutdown(grace).await {
                tracing::warn!("a sync did not stop in time");
            }
            let _ = stopped_tx.send(());
        });
        // Connections that outlive the grace period (a client that never reads) do not hold the process.
        let deadline = async move {
            let _ = stopped_rx.await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            () = serve => {}
            () = deadline => {
                tracing::warn!("connections still open after the grace period; stopping anyway");
            }
        }
        // The poster first: its last sends become jobs that the watcher then leaves for the next start.
        if let Some(poster) = poster {
            poster.stop().await;
        }
        if let Some(watcher) = watcher {
            watcher.stop().await;
        }
        drop(pruning);
        drop(demo);
        Ok(())
    }
}

/// Every `every` (the first time at once), deletes the expired sessions, the sign-in failure counts that
/// no longer matter, audit entries past their year, history past its two years and metric snapshots older
/// than `snapshot_retention_ms`, which would otherwise grow for ever. A failure is logged and tried again
/// next time.
fn spawn_pruning(
    store: Store,
    every: Duration,
    snapshot_retention_ms: i64,
) -> AbortOnDropHandle<()> {
    AbortOnDropHandle::new(tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match auth::prune_expired(&store, now_ms()).await {
                Ok(sessions) => tracing::debug!(sessions, "pruned expired sessions"),
                Err(e) => tracing::warn!(error = %e, "cannot prune expired sessions"),
            }
            match store.prune_audit(now_ms() - AUDIT_RETENTION_MS).await {
                Ok(entries) => tracing::debug!(entries, "pruned the audit log"),
                Err(e) => tracing::warn!(error = %e, "cannot prune the audit log"),
            }
            match store.prune_history(now_ms() - HISTORY_RETENTION_MS).await {
                Ok(entries) => tracing::debug!(entries, "pruned the programs' history"),
                Err(e) => tracing::warn!(error = %e, "cannot prune the programs' history"),
            }
            match store
                .prune_snapshots(now_ms() - snapshot_retention_ms)
                .await
            {
                Ok(snapshots) => tracing::debug!(snapshots, "pruned the metric snapshots"),
                Err(e) => tracing::warn!(error = %e, "cannot prune the metric snapshots"),
            }
        }
    }))
}

/// The sync engine as `config` sets it, over `store`: the one the server builds, and `yelp-ads sync`'s.
pub fn sync_engine(config: &Config, store: &Store) -> SyncEngine {
    SyncEngine::new(store.clone(), config.sync_options())
}
