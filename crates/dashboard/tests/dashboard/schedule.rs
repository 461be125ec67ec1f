//! The background schedule: it fills and refreshes mirrors with no request, never runs a workspace twice
//! at once, skips what it must, and is off at 0.

use std::future::Future;
use std::time::Duration;

use clap::Parser;
use dashboard::app::Application;
use dashboard::cli::{Cli, Command};
use dashboard::schedule::{Decision, Schedule};
use dashboard::secrets::SecretBox;
use dashboard::store::{Store, SyncRun, new_id, now_ms};
use dashboard::web::AppState;

use crate::helpers::{TestSim, YELP_PASSWORD, YELP_USER, on_every_backend, test_config};

/// Waits up to `limit` for `check` to hold, looking every 50 ms; answers whether it did.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// App state over `store` with a workspace wired to `sim` (answered) and one without a password.
async fn state_with_workspaces(store: &Store, sim: &TestSim) -> (AppState, String, String) {
    let secrets = SecretBox::from_key_bytes([3; 32]);
    let wired = store
        .create_workspace(
            "Scheduled agency",
            &sim.base_url(),
            YELP_USER,
            Some(&secrets.encrypt(YELP_PASSWORD)),
        )
        .await
        .unwrap();
    let bare = store
        .create_workspace(
            "Agency without credentials",
            &sim.base_url(),
            "nobody",
            None,
        )
        .await
        .unwrap();
    let app = Application::build_with_store(test_config([3; 32]), store.clone())
        .await
        .unwrap();
    (app.state().clone(), wired.id, bare.id)
}

async fn runs(store: &Store, workspace: &str) -> Vec<SyncRun> {
    let mut runs = store.recent_sync_runs(workspace, 1000).await.unwrap();
    runs.reverse();
    runs
}

on_every_backend! {
    async fn a_tiny_interval_fills_the_mirror_with_no_request_and_skips_a_workspace_without_credentials(db: TestDb) {
        let sim = TestSim::start(400).await;
        let (state, ws, bare) = state_with_workspaces(&db.store, &sim).await;
        let schedule = Schedule::new(state.engine.clone(), state.yelp.source(), Duration::from_millis(300))
            .spawn()
            .expect("a non-zero interval starts the schedule");

        let filled = eventually(Duration::from_secs(60), || async {
            db.store.count_live_programs(&ws).await.unwrap() == 400
        })
        .await;
        assert!(filled, "the schedule synced the mirror");
        tokio::time::timeout(Duration::from_secs(30), schedule.stop())
            .await
            .expect("the schedule stops promptly");
        assert!(state.engine.shutdown(Duration::from_secs(30)).await);

        let runs = runs(&db.store, &ws).await;
        assert!(!runs.is_empty());
        assert!(runs.iter().all(|r| r.trigger_kind == "schedule"), "{runs:?}");
        assert!(db.store.recent_sync_runs(&bare, 10).await.unwrap().is_empty(), "no run for a workspace without a password");
        // Stopped means stopped: no run starts afterwards.
        let count = runs.len();
        tokio::time::sleep(Duration::from_millis(900)).await;
        assert_eq!(db.store.recent_sync_runs(&ws, 1000).await.unwrap().len(), count);
    }
}

on_every_backend! {
    async fn scheduled_runs_never_overlap_even_when_a_run_outlasts_the_interval(db: TestDb) {
        // 400 programs in 10 pages at 100 ms each, 2 served at a time: a run takes about 600 ms, the
        // interval 150.
        let sim = TestSim::start_with(400, |c| {
            c.latency_ms = 100;
            c.capacity = 2;
        })
        .await;
        let (state, ws, _) = state_with_workspaces(&db.store, &sim).await;
        let schedule = Schedule::new(state.engine.clone(), state.yelp.source(), Duration::from_millis(150))
            .spawn()
            .unwrap();
        let three_runs = eventually(Duration::from_secs(90), || async {
            runs(&db.store, &ws).await.iter().filter(|r| r.finished_at.is_some()).count() >= 3
        })
        .await;
        schedule.stop().await;
        assert!(state.engine.shutdown(Duration::from_secs(30)).await);
        assert!(three_runs, "three runs ended");

        let runs = runs(&db.store, &ws).await;
        for pair in runs.windows(2) {
            let ended = pair[0].finished_at.expect("the earlier run ended");
            assert!(pair[1].started_at >= ended, "runs overlap: {pair:?}");
        }
        assert!(
            runs.iter().all(|r| matches!(r.status.as_str(), "synced" | "up_to_date" | "interrupted")),
            "{runs:?}"
        );
        assert_eq!(runs.iter().filter(|r| r.status.as_str() == "synced").count(), 1, "later runs find the mirror up to date");
    }
}

on_every_backend! {
    async fn a_slot_is_skipped_while_the_workspace_syncs_elsewhere_or_has_just_been_synced(db: TestDb) {
        let sim = TestSim::start(20).await;
        let (state, ws, _) = state_with_workspaces(&db.store, &sim).await;
        let schedule = Schedule::new(state.engine.clone(), state.yelp.source(), Duration::from_secs(600));
        assert_eq!(schedule.decide(&ws).await.unwrap(), Decision::Start);

        // Another instance's live lease.
        let other_run = new_id();
        assert!(db.store.claim_sync_lease(&ws, &other_run, "other-instance", now_ms(), 60_000).await.unwrap());
        assert_eq!(schedule.decide(&ws).await.unwrap(), Decision::RunningElsewhere);
        db.store.release_sync_lease(&ws, &other_run).await.unwrap();

        // A run that started a minute ago, within half of the ten-minute interval.
        let started = now_ms() - 60_000;
        db.store.insert_sync_run(&new_id(), &ws, "page", None, "other-instance", started).await.unwrap();
        assert_eq!(schedule.decide(&ws).await.unwrap(), Decision::RecentlySynced(started));
        let stale = Schedule::new(state.engine.clone(), state.yelp.source(), Duration::from_secs(60));
        assert_eq!(stale.decide(&ws).await.unwrap(), Decision::Start, "older than half of a one-minute interval");
    }
}

#[test]
fn an_interval_of_zero_switches_the_schedule_off_and_the_flags_read_human_durations() {
    let serve = |args: &[&str]| {
        let cli = Cli::try_parse_from([&["yelp-ads", "serve"], args].concat()).unwrap();
        match cli.command {
            Some(Command::Serve(serve)) => serve,
            other => panic!("{other:?}"),
        }
    };
    // The environment of a test run could set these; only compare defaults when it does not.
    if std::env::var_os("YELP_ADS_SYNC_INTERVAL").is_none()
        && std::env::var_os("YELP_ADS_YELP_RPS").is_none()
    {
        let defaults = serve(&[]);
        assert_eq!(defaults.sync_interval, Duration::from_secs(900));
        assert_eq!((defaults.yelp_rps, defaults.yelp_burst), (20.0, 40));
    }
    assert_eq!(
        serve(&["--sync-interval", "0"]).sync_interval,
        Duration::ZERO
    );
    assert_eq!(
        serve(&["--sync-interval", "90s"]).sync_interval,
        Duration::from_secs(90)
    );
    assert_eq!(
        serve(&["--sync-interval", "1h30m"]).sync_interval,
        Duration::from_secs(5400)
    );
    assert_eq!(serve(&["--yelp-rps", "0"]).yelp_rps, 0.0);
    assert!(Cli::try_parse_from(["yelp-ads", "serve", "--sync-interval", "15"]).is_err());
    assert!(Cli::try_parse_from(["yelp-ads", "serve", "--yelp-burst", "0"]).is_err());

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let db = crate::helpers::TestDb::sqlite().await;
        let mut app = Application::build_with_store(test_config([3; 32]), db.store.clone())
            .await
            .unwrap();
        assert!(
            app.take_schedule().is_none(),
            "the server starts no schedule at 0"
        );
        let state = app.state();
        assert!(
            Schedule::new(state.engine.clone(), state.yelp.source(), Duration::ZERO)
                .spawn()
                .is_none()
        );
    });
}
