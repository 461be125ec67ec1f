//! Yelp failing in every way the client knows, on purpose: a sync ends either correct (the mirror is exactly
//! Yelp's programs) or in `error` with the mirror intact (nothing marked removed, nothing lost, every row
//! either as it was or as Yelp has it now), never on a panic; and a clean sync afterwards repairs it.

use std::collections::BTreeMap;
use std::time::Duration;

use dashboard::store::{Store, StoredProgram};
use dashboard::sync::{SyncEngine, SyncEvent, SyncOptions, Trigger};
use serde_json::{Value, json};
use yelp_partner_api::{Client, ClientConfig, RetryPolicy, SecretString};
use yelp_sim::{FaultsPatch, SettingsPatch, SimConfig};

use crate::helpers::{TestSim, YELP_PASSWORD, YELP_USER, on_every_backend};
use crate::sync::assert_mirror_matches;

/// Programs at the simulator: 15 pages of 40.
const PROGRAMS: usize = 600;

/// The client's timeout where the test is not about timeouts.
const ATTEMPT: Duration = Duration::from_secs(15);

/// A mirror synced once, then Yelp changed under it (5 programs added, 2 removed, 3 budgets raised), so that
/// a correct sync has each kind of work to do.
struct Scene {
    sim: TestSim,
    engine: SyncEngine,
    store: Store,
    workspace: String,
}

/// How a faulted run ended.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Complete, and the mirror is exactly Yelp's programs.
    Correct,
    /// In error, with the mirror intact.
    Error(String),
}

impl Scene {
    async fn new(store: &Store, configure: impl FnOnce(&mut SimConfig)) -> Self {
        let sim = TestSim::start_with(PROGRAMS, configure).await;
        let workspace = store
            .workspace_for_credentials(&sim.base_url(), YELP_USER)
            .await
            .unwrap()
            .id;
        let engine = SyncEngine::new(store.clone(), SyncOptions::default());
        let first = engine
            .sync(&workspace, sim.client(), Trigger::Api, None)
            .finish()
            .await;
        assert!(
            matches!(first, Some(SyncEvent::Complete { .. })),
            "{first:?}"
        );

        let programs = sim.programs().await;
        sim.add_programs(5).await;
        for p in &programs[100..102] {
            sim.remove_program(p["program_id"].as_str().unwrap()).await;
        }
        let cpc = programs
            .iter()
            .filter(|p| p["program_type"] == "CPC")
            .take(3);
        for p in cpc {
            let budget = p["program_metrics"]["budget"].as_i64().unwrap() + 5000;
            sim.patch_program(p["program_id"].as_str().unwrap(), json!({"budget": budget}))
                .await;
        }
        Self {
            sim,
            engine,
            store: store.clone(),
            workspace,
        }
    }

    /// A client that gives up on an attempt after `timeout`, with 12 quick attempts for reads: at a 20 % fault
    /// rate a page then fails all of them once in 4 × 10⁸, so a run through scattered faults ends correct.
    fn client(&self, timeout: Duration) -> Client {
        let mut config = ClientConfig::new(
            &self.sim.base_url(),
            YELP_USER,
            SecretString::from(YELP_PASSWORD.to_owned()),
        )
        .unwrap();
        config.timeout = timeout;
        config.retry = RetryPolicy {
            max_attempts: 12,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(20),
            ..RetryPolicy::default()
        };
        Client::new(config).unwrap()
    }

    fn set_faults(&self, patch: FaultsPatch) {
        self.sim.sim.state().set_faults(&patch).unwrap();
    }

    async fn mirror(&self) -> BTreeMap<String, StoredProgram> {
        self.store
            .all_programs(&self.workspace)
            .await
            .unwrap()
            .into_iter()
            .map(|p| (p.program_id.clone(), p))
            .collect()
    }

    /// Runs a sync with `client`, calling `during` at its first progress event, and checks that it ended
    /// correct or in error with the mirror intact.
    async fn run(&self, client: Client, during: impl FnOnce()) -> Outcome {
        let before = self.mirror().await;
        let last = self.sync_with(client, during).await;
        self.assert_correct_or_intact(&before, &last).await
    }

    /// Runs a sync with `client`, calling `during` at its first progress event.
    async fn sync_with(&self, client: Client, during: impl FnOnce()) -> SyncEvent {
        let mut run = self
            .engine
            .sync(&self.workspace, client, Trigger::Api, None);
        let mut during = Some(during);
        let mut last = None;
        while let Some(event) = run.next().await {
            if matches!(event.event, SyncEvent::Progress { .. }) {
                if let Some(during) = during.take() {
                    during();
                }
            }
            last = Some(event.event);
        }
        last.expect("a run ends with a final event")
    }

    /// Checks the invariant after a faulted run and answers which way it ended.
    async fn assert_correct_or_intact(
        &self,
        before: &BTreeMap<String, StoredProgram>,
        last: &SyncEvent,
    ) -> Outcome {
        let run = &self
            .store
            .recent_sync_runs(&self.workspace, 1)
            .await
            .unwrap()[0];
        let error = run.error.as_deref().unwrap_or("");
        assert!(
            !error.contains("internal error") && !error.contains("task failed"),
            "nothing panicked: {run:?}"
        );
        match last {
            SyncEvent::Complete { .. } => {
                assert_mirror_matches(&self.store, &self.workspace, &self.sim).await;
                Outcome::Correct
            }
            SyncEvent::Error { message } => {
                assert_eq!(run.status.as_str(), "error", "{run:?}");
                self.assert_intact(before, message).await;
                Outcome::Error(message.clone())
            }
            other => panic!("not a final event: {other:?}"),
        }
    }

    /// Nothing marked removed, nothing lost, every row as it was or as Yelp has it now.
    async fn assert_intact(&self, before: &BTreeMap<String, StoredProgram>, message: &str) {
        let at_yelp: BTreeMap<String, Value> = self
            .sim
            .programs()
            .await
            .into_iter()
            .map(|p| (p["program_id"].as_str().unwrap().to_owned(), p))
            .collect();
        let now = self.mirror().await;
        for (id, was) in before {
            let row = now
                .get(id)
                .unwrap_or_else(|| panic!("{id} was lost after: {message}"));
            if was.removed_at.is_none() {
                assert!(
                    row.removed_at.is_none(),
                    "{id} was marked removed after: {message}"
                );
            }
        }
        for row in now.values() {
            let old = before.get(&row.program_id);
            let new = at_yelp
                .get(&row.program_id)
                .map(|p| p["program_metrics"]["budget"].as_i64());
            assert!(
                old.is_some_and(|o| o.budget_cents == row.budget_cents)
                    || new == Some(row.budget_cents),
                "{} is neither as it was nor as Yelp has it",
                row.program_id
            );
        }
    }

    /// Clears every fault; a sync then leaves the mirror exactly Yelp's.
    async fn assert_a_clean_sync_repairs_it(&self) {
        self.set_faults(FaultsPatch {
            error_rate: Some(0.0),
            rate_limit_rate: Some(0.0),
            drop_rate: Some(0.0),
            malformed_rate: Some(0.0),
            stall_rate: Some(0.0),
            latency_ms: Some(0),
            ..FaultsPatch::default()
        });
        assert_eq!(
            self.run(self.client(ATTEMPT), || {}).await,
            Outcome::Correct
        );
    }
}

fn is_error(outcome: &Outcome, containing: &str) -> bool {
    matches!(outcome, Outcome::Error(message) if message.contains(containing))
}

on_every_backend! {
    async fn a_burst_of_5xx_mid_run_and_scattered_5xx_end_correct_or_in_error_with_the_mirror_intact(db: TestDb) {
        let scene = Scene::new(&db.store, |c| c.latency_ms = 10).await;
        // Every request fails for 500 ms from the first page written: longer than a page's retries last.
        let state = scene.sim.sim.state().clone();
        let burst = || {
            state.set_faults(&FaultsPatch { error_rate: Some(1.0), ..FaultsPatch::default() }).unwrap();
            let state = state.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(500)).await;
                state.set_faults(&FaultsPatch { error_rate: Some(0.0), ..FaultsPatch::default() }).unwrap();
            });
        };
        let outcome = scene.run(scene.client(ATTEMPT), burst).await;
        eprintln!("5xx burst: {outcome:?}");

        scene.set_faults(FaultsPatch { error_rate: Some(0.2), ..FaultsPatch::default() });
        assert_eq!(scene.run(scene.client(ATTEMPT), || {}).await, Outcome::Correct, "retries get through 20 % of 5xx");
        scene.assert_a_clean_sync_repairs_it().await;
    }
}

on_every_backend! {
    async fn throttling_with_retry_after_is_waited_out_or_ends_the_run_in_error_with_the_mirror_intact(db: TestDb) {
        let scene = Scene::new(&db.store, |_| {}).await;
        scene.set_faults(FaultsPatch { rate_limit_rate: Some(0.2), retry_after_seconds: Some(1), ..FaultsPatch::default() });
        assert_eq!(scene.run(scene.client(ATTEMPT), || {}).await, Outcome::Correct);
        // Yelp throttling every request: the run gives up in error.
        scene.set_faults(FaultsPatch { rate_limit_rate: Some(1.0), retry_after_seconds: Some(0), ..FaultsPatch::default() });
        let outcome = scene.run(scene.client(ATTEMPT), || {}).await;
        assert!(is_error(&outcome, "HTTP 429"), "{outcome:?}");
        scene.assert_a_clean_sync_repairs_it().await;
    }
}

on_every_backend! {
    async fn dropped_connections_are_retried_or_end_the_run_in_error_with_the_mirror_intact(db: TestDb) {
        let scene = Scene::new(&db.store, |_| {}).await;
        scene.set_faults(FaultsPatch { drop_rate: Some(0.2), ..FaultsPatch::default() });
        assert_eq!(scene.run(scene.client(ATTEMPT), || {}).await, Outcome::Correct);
        scene.set_faults(FaultsPatch { drop_rate: Some(1.0), ..FaultsPatch::default() });
        let outcome = scene.run(scene.client(ATTEMPT), || {}).await;
        assert!(is_error(&outcome, "Could not reach Yelp"), "{outcome:?}");
        scene.assert_a_clean_sync_repairs_it().await;
    }
}

on_every_backend! {
    async fn answers_slower_than_the_client_timeout_are_retried_or_end_the_run_in_error_with_the_mirror_intact(db: TestDb) {
        let scene = Scene::new(&db.store, |_| {}).await;
        let timeout = Duration::from_millis(300);
        scene.set_faults(FaultsPatch { stall_rate: Some(0.2), stall_ms: Some(2_000), ..FaultsPatch::default() });
        assert_eq!(scene.run(scene.client(timeout), || {}).await, Outcome::Correct);
        // Slower than the timeout every time.
        scene.set_faults(FaultsPatch { stall_rate: Some(1.0), ..FaultsPatch::default() });
        let outcome = scene.run(scene.client(timeout), || {}).await;
        assert!(is_error(&outcome, "Could not reach Yelp"), "{outcome:?}");
        scene.assert_a_clean_sync_repairs_it().await;
    }
}

on_every_backend! {
    async fn a_partner_password_changed_mid_run_ends_it_in_error_with_advice_and_the_mirror_intact(db: TestDb) {
        // Two served at a time: most pages are still to be asked when the password changes.
        let scene = Scene::new(&db.store, |c| {
            c.latency_ms = 20;
            c.capacity = 2;
        })
        .await;
        let state = scene.sim.sim.state().clone();
        let rotate = || {
            state.set_settings(&SettingsPatch { password: Some("rotated-at-yelp".into()), ..SettingsPatch::default() }).unwrap();
        };
        let outcome = scene.run(scene.client(ATTEMPT), rotate).await;
        assert!(is_error(&outcome, "credentials"), "{outcome:?}");
        assert!(!format!("{outcome:?}").contains(YELP_PASSWORD) && !format!("{outcome:?}").contains("rotated-at-yelp"));
        let run = &db.store.recent_sync_runs(&scene.workspace, 1).await.unwrap()[0];
        assert!(run.pages_failed >= 1 && run.pages >= 1, "{run:?}");

        state.set_settings(&SettingsPatch { password: Some(YELP_PASSWORD.into()), ..SettingsPatch::default() }).unwrap();
        scene.assert_a_clean_sync_repairs_it().await;
    }
}

on_every_backend! {
    async fn malformed_json_answers_end_the_run_in_error_with_the_mirror_intact(db: TestDb) {
        let scene = Scene::new(&db.store, |_| {}).await;
        scene.set_faults(FaultsPatch { malformed_rate: Some(0.15), ..FaultsPatch::default() });
        let outcome = scene.run(scene.client(ATTEMPT), || {}).await;
        // 15 pages at 15 %: all 15 readable is a 9 % chance, which would end correct.
        assert!(outcome == Outcome::Correct || is_error(&outcome, "cannot read"), "{outcome:?}");
        scene.set_faults(FaultsPatch { malformed_rate: Some(1.0), ..FaultsPatch::default() });
        let outcome = scene.run(scene.client(ATTEMPT), || {}).await;
        assert!(is_error(&outcome, "cannot read"), "{outcome:?}");
        scene.assert_a_clean_sync_repairs_it().await;
    }
}

on_every_backend! {
    async fn every_fault_at_once_never_loses_a_program_and_a_clean_sync_repairs_the_mirror(db: TestDb) {
        let scene = Scene::new(&db.store, |c| c.latency_ms = 2).await;
        scene.set_faults(FaultsPatch {
            error_rate: Some(0.1),
            rate_limit_rate: Some(0.05),
            retry_after_seconds: Some(0),
            drop_rate: Some(0.05),
            malformed_rate: Some(0.02),
            stall_rate: Some(0.05),
            stall_ms: Some(1_000),
            ..FaultsPatch::default()
        });
        let mut outcomes = Vec::new();
        for _ in 0..3 {
            outcomes.push(scene.run(scene.client(Duration::from_millis(300)), || {}).await);
        }
        eprintln!("every fault at once: {outcomes:?}");
        scene.assert_a_clean_sync_repairs_it().await;
    }
}
