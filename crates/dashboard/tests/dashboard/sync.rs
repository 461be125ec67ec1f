//! The sync engine against the simulator: reconciliation, failures, single flight, events.

use std::collections::BTreeMap;
use std::time::Duration;

use dashboard::store::{Store, StoredProgram};
use dashboard::sync::{
    CompleteStatus, SequencedEvent, SyncEngine, SyncEvent, SyncOptions, Trigger,
};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::helpers::{TestSim, on_every_backend};

/// Runs a sync to its end and answers every event it sent.
async fn sync_events(engine: &SyncEngine, workspace: &str, sim: &TestSim) -> Vec<SyncEvent> {
    engine
        .sync(workspace, sim.client(), Trigger::Api, None)
        .into_stream()
        .map(|e: SequencedEvent| e.event)
        .collect()
        .await
}

async fn setup(store: &Store, sim: &TestSim) -> (SyncEngine, String) {
    let workspace = store
        .workspace_for_credentials(&sim.base_url(), crate::helpers::YELP_USER)
        .await
        .unwrap();
    (
        SyncEngine::new(store.clone(), SyncOptions::default()),
        workspace.id,
    )
}

fn last(events: &[SyncEvent]) -> &SyncEvent {
    events.last().expect("at least one event")
}

/// Asserts that the live mirror holds exactly the simulator's programs, with their content.
pub(crate) async fn assert_mirror_matches(store: &Store, workspace: &str, sim: &TestSim) {
    let at_yelp: BTreeMap<String, Value> = sim
        .programs()
        .await
        .into_iter()
        .map(|p| (p["program_id"].as_str().unwrap().to_owned(), p))
        .collect();
    let mirrored: BTreeMap<String, StoredProgram> = store
        .all_programs(workspace)
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.removed_at.is_none())
        .map(|p| (p.program_id.clone(), p))
        .collect();
    assert_eq!(
        at_yelp.keys().collect::<Vec<_>>(),
        mirrored.keys().collect::<Vec<_>>(),
        "same program ids"
    );
    for (id, want) in &at_yelp {
        let got = &mirrored[id];
        assert_eq!(
            got.program_type,
            want["program_type"].as_str().unwrap(),
            "{id}"
        );
        assert_eq!(
            got.program_status.as_str(),
            want["program_status"].as_str().unwrap(),
            "{id}"
        );
        assert_eq!(
            got.pause_status.as_str(),
            want["program_pause_status"].as_str().unwrap(),
            "{id}"
        );
        assert_eq!(
            got.business_id.as_deref(),
            want["yelp_business_id"].as_str(),
            "{id}"
        );
        assert_eq!(
            got.budget_cents,
            want["program_metrics"]["budget"].as_i64(),
            "{id}"
        );
        assert_eq!(
            got.start_date.as_deref(),
            want["start_date"].as_str(),
            "{id}"
        );
        let end = want["end_date"].as_str().filter(|d| *d != "9999-12-31");
        assert_eq!(got.end_date.as_deref(), end, "{id}");
        // The row holds what the table shows, so that no page parses the raw entry again.
        assert_eq!(
            got.billed_clicks,
            want["program_metrics"]["billed_clicks"].as_i64(),
            "{id}"
        );
        assert_eq!(
            got.billed_impressions,
            want["program_metrics"]["billed_impressions"].as_i64(),
            "{id}"
        );
        assert_eq!(
            got.currency.as_deref(),
            want["program_metrics"]["currency"].as_str(),
            "{id}"
        );
    }
}

on_every_backend! {
    async fn a_first_sync_adds_every_program_with_the_replaced_systems_events(db: TestDb) {
        let sim = TestSim::start(1900).await;
        let (engine, ws) = setup(&db.store, &sim).await;
        let events = sync_events(&engine, &ws, &sim).await;

        let SyncEvent::Start { message, run_id } = &events[0] else { panic!("{:?}", events[0]) };
        assert_eq!(message, "Starting synchronization...");
        assert_eq!(events[1], SyncEvent::Info { total_api: 1900, total_db: 0, to_sync: 1900 });
        let progress: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                SyncEvent::Progress { synced, total, percentage, .. } => Some((*synced, *total, *percentage)),
                _ => None,
            })
            .collect();
        assert_eq!(progress.len(), 48, "one progress event per page of 40");
        assert!(progress.windows(2).all(|w| w[0].0 < w[1].0), "synced only grows");
        assert_eq!(progress.last(), Some(&(1900, 1900, 100)));
        // The last phase names every business: 200 a call, each call an `enrich` event.
        let businesses = db.store.business_profiles(&ws).await.unwrap();
        assert!(!businesses.is_empty());
        let unnamed: Vec<_> = businesses.iter().filter(|b| b.name.is_none() || b.info_at.is_none()).collect();
        assert!(unnamed.is_empty(), "{unnamed:?}");
        let enrich: Vec<_> = events.iter().filter_map(|e| match e {
            SyncEvent::Enrich { done, total } => Some((*done, *total)),
            _ => None,
        }).collect();
        // 200 a call: those seen by three quarters of the listing, then those only its last pages brought
        // (at most one call more than one phase would make).
        let calls = businesses.len().div_ceil(200) as u64;
        let &(done, total) = enrich.last().unwrap();
        assert!(done == total && (calls..=calls + 1).contains(&total), "{enrich:?}");
        // The program sync's outcome comes before that phase, so that naming businesses never delays it.
        let listed = events.iter().position(|e| matches!(e, SyncEvent::Listed { .. })).expect("a listed event");
        let first_enrich = events.iter().position(|e| matches!(e, SyncEvent::Enrich { .. })).unwrap();
        assert!(listed < first_enrich, "{events:?}");
        assert_eq!(
            events[listed],
            SyncEvent::Listed {
                status: CompleteStatus::Synced,
                added: 1900,
                updated: 0,
                removed: 0,
                total_synced: 1900,
                message: "Successfully synchronized 1900 new programs. Total: 1900".into(),
            }
        );
        assert_eq!(
            last(&events),
            &SyncEvent::Complete {
                status: CompleteStatus::Synced,
                added: 1900,
                updated: 0,
                removed: 0,
                unchanged: 0,
                total_synced: 1900,
                businesses_updated: businesses.len() as u64,
                message: "Successfully synchronized 1900 new programs. Total: 1900".into(),
                warning: None,
            }
        );
        assert_mirror_matches(&db.store, &ws, &sim).await;
        let run = db.store.sync_run(&ws, run_id).await.unwrap().unwrap();
        assert_eq!((run.status.as_str(), run.added, run.pages), ("synced", 1900, 48));
        assert!(run.finished_at.is_some());
        // Kept for replay: every event but progress, and progress once per percentage point.
        let stored = db.store.sync_events(run_id, 0).await.unwrap();
        let kept: Vec<SyncEvent> = stored.iter().map(|(_, e)| serde_json::from_str(e).unwrap()).collect();
        let not_progress = |e: &&SyncEvent| !matches!(e, SyncEvent::Progress { .. });
        assert_eq!(
            kept.iter().filter(not_progress).collect::<Vec<_>>(),
            events.iter().filter(not_progress).collect::<Vec<_>>()
        );
        let kept_percentages: Vec<u8> = kept
            .iter()
            .filter_map(|e| match e {
                SyncEvent::Progress { percentage, .. } => Some(*percentage),
                _ => None,
            })
            .collect();
        let mut all_percentages: Vec<u8> = progress.iter().map(|p| p.2).collect();
        all_percentages.dedup();
        assert_eq!(kept_percentages, all_percentages);
        assert!(stored.windows(2).all(|w| w[0].0 < w[1].0), "in order, with their stream ids");
    }
}

on_every_backend! {
    async fn a_second_sync_is_up_to_date_and_rewrites_no_row(db: TestDb) {
        let sim = TestSim::start(1900).await;
        let (engine, ws) = setup(&db.store, &sim).await;
        sync_events(&engine, &ws, &sim).await;
        let before = db.store.all_programs(&ws).await.unwrap();

        let events = sync_events(&engine, &ws, &sim).await;
        assert_eq!(events[1], SyncEvent::Info { total_api: 1900, total_db: 1900, to_sync: 1900 });
        let SyncEvent::Complete { status, added, updated, removed, unchanged, message, .. } = last(&events) else {
            panic!("{:?}", last(&events))
        };
        assert_eq!(*status, CompleteStatus::UpToDate);
        assert_eq!((*added, *updated, *removed, *unchanged), (0, 0, 0, 1900));
        assert_eq!(message, "Database already has all 1900 programs");
        let after = db.store.all_programs(&ws).await.unwrap();
        assert_eq!(before, after, "no row was rewritten (updated_at included)");
    }
}

on_every_backend! {
    async fn additions_removals_and_budget_changes_at_yelp_are_reconciled_exactly(db: TestDb) {
        let sim = TestSim::start(1900).await;
        let (engine, ws) = setup(&db.store, &sim).await;
        sync_events(&engine, &ws, &sim).await;

        let programs = sim.programs().await;
        sim.add_programs(20).await;
        let removed: Vec<String> = programs[10..13]
            .iter()
            .map(|p| p["program_id"].as_str().unwrap().to_owned())
            .collect();
        for id in &removed {
            sim.remove_program(id).await;
        }
        let cpc: Vec<&Value> = programs
            .iter()
            .filter(|p| p["program_type"] == "CPC")
            .skip(20)
            .take(5)
            .collect();
        for p in &cpc {
            let budget = p["program_metrics"]["budget"].as_i64().unwrap() + 5000;
            sim.patch_program(p["program_id"].as_str().unwrap(), json!({"budget": budget})).await;
        }

        let events = sync_events(&engine, &ws, &sim).await;
        let SyncEvent::Complete { status, added, updated, removed: gone, total_synced, message, .. } = last(&events) else {
            panic!("{:?}", last(&events))
        };
        assert_eq!(*status, CompleteStatus::Synced);
        assert_eq!((*added, *updated, *gone), (20, 5, 3));
        assert_eq!(*total_synced, 1917);
        assert_eq!(message, "Successfully synchronized 20 new programs. Total: 1917 (5 updated, 3 removed)");
        assert_mirror_matches(&db.store, &ws, &sim).await;
        for id in &removed {
            let kept = db.store.program(&ws, id).await.unwrap().expect("removed programs are kept");
            assert!(kept.removed_at.is_some());
        }
    }
}

on_every_backend! {
    async fn a_listing_that_fails_part_way_marks_nothing_removed_and_keeps_the_pages_it_wrote(db: TestDb) {
        let sim = TestSim::start(1900).await;
        let (engine, ws) = setup(&db.store, &sim).await;
        sim.set_faults(json!({"fail_offsets_from": 1000})).await;

        let events = sync_events(&engine, &ws, &sim).await;
        let SyncEvent::Error { message } = last(&events) else { panic!("{:?}", last(&events)) };
        assert!(message.contains("Nothing was marked removed"), "{message}");
        assert!(message.contains("HTTP 500"), "{message}");
        assert_eq!(db.store.count_live_programs(&ws).await.unwrap(), 1000, "pages before offset 1000 kept");
        let runs = db.store.recent_sync_runs(&ws, 5).await.unwrap();
        assert_eq!(runs[0].status.as_str(), "error");
        assert_eq!((runs[0].pages, runs[0].pages_failed), (25, 23));

        // With a full mirror, a failing listing must not mark the programs it could not see as removed.
        sim.set_faults(json!({"fail_offsets_from": null})).await;
        sync_events(&engine, &ws, &sim).await;
        let first = sim.programs().await[0]["program_id"].as_str().unwrap().to_owned();
        sim.remove_program(&first).await;
        sim.set_faults(json!({"fail_offsets_from": 1000})).await;
        let events = sync_events(&engine, &ws, &sim).await;
        assert!(matches!(last(&events), SyncEvent::Error { .. }));
        let all = db.store.all_programs(&ws).await.unwrap();
        assert_eq!(all.len(), 1900);
        assert!(all.iter().all(|p| p.removed_at.is_none()), "nothing marked removed");
    }
}

on_every_backend! {
    async fn a_sync_through_injected_5xx_and_429_ends_with_exactly_yelps_programs(db: TestDb) {
        let sim = TestSim::start(1900).await;
        let (engine, ws) = setup(&db.store, &sim).await;
        sync_events(&engine, &ws, &sim).await;
        sim.add_programs(7).await;
        let second = sim.programs().await[1]["program_id"].as_str().unwrap().to_owned();
        sim.remove_program(&second).await;
        sim.set_faults(json!({"error_rate": 0.10, "rate_limit_rate": 0.05, "retry_after_seconds": 0})).await;

        let events = sync_events(&engine, &ws, &sim).await;
        let SyncEvent::Complete { added, removed, .. } = last(&events) else { panic!("{:?}", last(&events)) };
        assert_eq!((*added, *removed), (7, 1));
        sim.set_faults(json!({"error_rate": 0.0, "rate_limit_rate": 0.0})).await;
        assert_mirror_matches(&db.store, &ws, &sim).await;
    }
}

on_every_backend! {
    async fn two_concurrent_requests_share_one_run_and_both_get_every_event(db: TestDb) {
        let sim = TestSim::start_with(1900, |c| c.latency_ms = 5).await;
        let (engine, ws) = setup(&db.store, &sim).await;
        let first = engine.sync(&ws, sim.client(), Trigger::Page, None);
        let second = engine.sync(&ws, sim.client(), Trigger::Button, Some("someone"));
        assert!(!first.joined());
        assert!(second.joined());
        assert_eq!(first.run_id(), second.run_id());
        let (a, b): (Vec<_>, Vec<_>) = tokio::join!(first.into_stream().collect(), second.into_stream().collect());
        assert_eq!(a, b, "the same events, in the same order, with the same ids");
        assert!(matches!(a.last().unwrap().event, SyncEvent::Complete { added: 1900, .. }));
        assert_eq!(db.store.recent_sync_runs(&ws, 10).await.unwrap().len(), 1);

        // A request after the run ended starts a new one.
        let third = engine.sync(&ws, sim.client(), Trigger::Page, None);
        assert!(!third.joined());
        assert!(matches!(third.finish().await, Some(SyncEvent::Complete { status: CompleteStatus::UpToDate, .. })));
    }
}

on_every_backend! {
    async fn a_request_to_an_instance_without_the_lease_joins_the_run_that_holds_it(db: TestDb) {
        let sim = TestSim::start_with(400, |c| c.latency_ms = 20).await;
        let (engine, ws) = setup(&db.store, &sim).await;
        // Another engine on the same database stands for another dashboard instance.
        let other = SyncEngine::new(db.store.clone(), SyncOptions::default());
        let mut running = engine.sync(&ws, sim.client(), Trigger::Page, None);
        // Once the run has started (and holds the lease), ask the other instance.
        let first = running.next().await.unwrap();
        let joined = other.sync(&ws, sim.client(), Trigger::Button, None);
        let (rest, followed): (Vec<_>, Vec<_>) =
            tokio::join!(running.into_stream().collect(), joined.into_stream().collect());
        let mut here = vec![first];
        here.extend(rest);
        assert!(matches!(here.last().unwrap().event, SyncEvent::Complete { added: 400, .. }));
        assert_eq!(followed, here, "the other instance forwards every event, with the same ids");
        assert_eq!(db.store.recent_sync_runs(&ws, 10).await.unwrap().len(), 1, "one run recorded");
        // Once the lease is released, the other instance runs the next sync itself.
        let after = other.sync(&ws, sim.client(), Trigger::Page, None).finish().await.unwrap();
        assert!(matches!(after, SyncEvent::Complete { status: CompleteStatus::UpToDate, .. }), "{after:?}");
        assert_eq!(db.store.recent_sync_runs(&ws, 10).await.unwrap().len(), 2);
    }
}

on_every_backend! {
    async fn a_run_whose_instance_died_ends_its_followers_with_an_error_and_is_recorded_interrupted(db: TestDb) {
        let sim = TestSim::start(40).await;
        let (_, ws) = setup(&db.store, &sim).await;
        // Another instance's run, with two events stored; the instance died, and its lease runs out in 1 s.
        let now = dashboard::store::now_ms();
        db.store.insert_sync_run("DeadRun", &ws, "page", None, "dead-instance", now).await.unwrap();
        assert!(db.store.claim_sync_lease(&ws, "DeadRun", "dead-instance", now, 1000).await.unwrap());
        let stored = [
            SyncEvent::Start { message: "Starting synchronization...".into(), run_id: "DeadRun".into() },
            SyncEvent::Info { total_api: 40, total_db: 0, to_sync: 40 },
        ];
        for (seq, event) in (1..).zip(&stored) {
            db.store.append_sync_event("DeadRun", seq, &serde_json::to_string(event).unwrap()).await.unwrap();
        }
        let engine = SyncEngine::new(db.store.clone(), SyncOptions::default());
        let followed: Vec<SequencedEvent> =
            engine.sync(&ws, sim.client(), Trigger::Page, None).into_stream().collect().await;
        assert_eq!(followed.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(followed[..2].iter().map(|e| e.event.clone()).collect::<Vec<_>>(), stored);
        let SyncEvent::Error { message } = &followed[2].event else { panic!("{followed:?}") };
        assert!(message.contains("stopped before it ended"), "{message}");
        let run = db.store.sync_run(&ws, "DeadRun").await.unwrap().unwrap();
        assert_eq!(run.status.as_str(), "interrupted");
        assert_eq!(db.store.sync_events("DeadRun", 2).await.unwrap().len(), 1, "the ending is kept for replay");

        // The lease is free: the next sync runs here and completes.
        let after = engine.sync(&ws, sim.client(), Trigger::Page, None).finish().await.unwrap();
        assert!(matches!(after, SyncEvent::Complete { added: 40, .. }), "{after:?}");
        let statuses: Vec<String> =
            db.store.recent_sync_runs(&ws, 10).await.unwrap().into_iter().map(|r| r.status.as_str().to_owned()).collect();
        assert_eq!(statuses, ["synced", "interrupted"]);
    }
}

on_every_backend! {
    async fn bad_credentials_end_the_run_at_once_with_advice_and_no_secret(db: TestDb) {
        let sim = TestSim::start(100).await;
        let (engine, ws) = setup(&db.store, &sim).await;
        let mut config = yelp_partner_api::ClientConfig::new(
            &sim.base_url(),
            crate::helpers::YELP_USER,
            yelp_partner_api::SecretString::from("wrong-password".to_owned()),
        )
        .unwrap();
        config.retry = yelp_partner_api::RetryPolicy::never();
        let client = yelp_partner_api::Client::new(config).unwrap();
        let last = engine.sync(&ws, client, Trigger::Api, None).finish().await.unwrap();
        let SyncEvent::Error { message } = last else { panic!("{last:?}") };
        assert!(message.contains("credentials"), "{message}");
        assert!(!message.contains("wrong-password"));
        let runs = db.store.recent_sync_runs(&ws, 1).await.unwrap();
        assert_eq!(runs[0].status.as_str(), "error");
    }
}

on_every_backend! {
    async fn a_shutdown_stops_a_run_after_its_page_keeps_what_it_wrote_and_records_it_interrupted(db: TestDb) {
        // Two served at a time: 48 pages take about a second, so the stop comes part-way.
        let sim = TestSim::start_with(1900, |c| {
            c.latency_ms = 40;
            c.capacity = 2;
        })
        .await;
        let (engine, ws) = setup(&db.store, &sim).await;
        let run = engine.sync(&ws, sim.client(), Trigger::Page, None);
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        assert!(engine.shutdown(std::time::Duration::from_secs(10)).await, "the run stopped in time");
        let SyncEvent::Error { message } = run.finish().await.unwrap() else { panic!("expected an error event") };
        assert!(message.contains("shutting down"), "{message}");
        let runs = db.store.recent_sync_runs(&ws, 1).await.unwrap();
        assert_eq!(runs[0].status.as_str(), "interrupted");
        let kept = db.store.count_live_programs(&ws).await.unwrap();
        assert!(kept > 0 && kept < 1900, "the pages written before the stop are kept ({kept})");
        // Only whole pages: 47 of 40 programs and the last of 20, which may be among those written when
        // a loaded machine lets the run get far before the stop.
        let whole = runs[0].pages as u64 * 40;
        assert!(kept == whole || kept == whole - 20, "only whole pages: {kept} programs in {} pages", runs[0].pages);
        assert!(db.store.all_programs(&ws).await.unwrap().iter().all(|p| p.removed_at.is_none()));
    }
}

on_every_backend! {
    async fn a_sync_against_four_slots_is_exact_and_never_has_more_in_flight_than_its_ceiling(db: TestDb) {
        let sim = TestSim::start_with(1900, |c| {
            c.latency_ms = 20;
            c.capacity = 4;
        })
        .await;
        let ws = db.store.workspace_for_credentials(&sim.base_url(), crate::helpers::YELP_USER).await.unwrap().id;
        let ceiling = 12;
        let engine = SyncEngine::new(db.store.clone(), SyncOptions { concurrency: ceiling, ..SyncOptions::default() });
        let events = sync_events(&engine, &ws, &sim).await;
        assert!(matches!(last(&events), SyncEvent::Complete { added: 1900, .. }), "{:?}", last(&events));
        assert_mirror_matches(&db.store, &ws, &sim).await;

        let stats = sim.control(reqwest::Method::GET, "/_sim/stats", None).await;
        let max_in_flight = stats["max_in_flight"].as_u64().unwrap();
        assert!(max_in_flight <= ceiling as u64, "{stats}");
        assert_eq!(stats["requests"]["GET /programs/v1"], 48, "pages of 40, none asked twice");
        let run = &db.store.recent_sync_runs(&ws, 1).await.unwrap()[0];
        let window = run.settled_window.expect("the window is recorded");
        assert!((1..=ceiling as i64).contains(&window), "{run:?}");
        assert_eq!(run.page_size, Some(40));
    }
}

on_every_backend! {
    async fn a_yelp_that_refuses_pages_of_40_is_synced_whole_at_20_and_the_workspace_remembers(db: TestDb) {
        let sim = TestSim::start_with(1900, |c| c.page_size_max = 20).await;
        let (engine, ws) = setup(&db.store, &sim).await;
        let events = sync_events(&engine, &ws, &sim).await;
        assert!(matches!(last(&events), SyncEvent::Complete { added: 1900, .. }), "{:?}", last(&events));
        assert_mirror_matches(&db.store, &ws, &sim).await;
        let run = &db.store.recent_sync_runs(&ws, 1).await.unwrap()[0];
        assert_eq!((run.pages, run.page_size), (95, Some(20)));
        assert_eq!(db.store.sync_page_size(&ws).await.unwrap(), Some(20));

        // The next run asks for 20 from its first page: no request is refused.
        sim.control(reqwest::Method::DELETE, "/_sim/stats", None).await;
        sim.add_programs(3).await;
        let events = sync_events(&engine, &ws, &sim).await;
        assert!(matches!(last(&events), SyncEvent::Complete { added: 3, .. }), "{:?}", last(&events));
        let stats = sim.control(reqwest::Method::GET, "/_sim/stats", None).await;
        assert_eq!(stats["requests"]["GET /programs/v1"], 96, "{stats}");
    }
}

on_every_backend! {
    async fn a_sync_bumps_the_mirror_version_at_most_once_a_second_and_at_its_end(db: TestDb) {
        let sim = TestSim::start(1900).await;
        let (engine, ws) = setup(&db.store, &sim).await;
        let before = db.store.mirror_version(&ws).await.unwrap();
        let query = dashboard::store::ProgramQuery::every_program(chrono::Utc::now().date_naive(), 10);
        let started = std::time::Instant::now();
        let mut events = engine.sync(&ws, sim.client(), Trigger::Api, None);
        let mut end = None;
        while let Some(e) = events.next().await {
            // A reader during the run caches the list at the version it sees.
            if matches!(e.event, SyncEvent::Progress { .. }) {
                db.store.program_view(&ws, &query).await.unwrap();
            }
            end = Some(e.event);
        }
        let seconds = started.elapsed().as_secs() as i64;
        assert!(matches!(end, Some(SyncEvent::Complete { added: 1900, .. })), "{end:?}");
        let bumps = db.store.mirror_version(&ws).await.unwrap() - before;
        // 48 pages written; one bump at the first write, at most one a second after it, one at the end.
        assert!((1..=2 + seconds).contains(&bumps), "{bumps} bumps in {seconds} s");
        // The end's bump shows every program to a reader, whatever it cached during the run.
        assert_eq!(db.store.program_view(&ws, &query).await.unwrap().len(), 1900);
    }
}

on_every_backend! {
    async fn business_names_follow_yelp_once_stale_and_a_failing_business_info_only_warns(db: TestDb) {
        let sim = TestSim::start(100).await;
        let ws = db.store.workspace_for_credentials(&sim.base_url(), crate::helpers::YELP_USER).await.unwrap().id;
        // Every business's info counts as stale at once: the setting stands in for a day passing.
        let engine = SyncEngine::new(db.store.clone(), SyncOptions { business_info_max_age: Duration::ZERO, ..SyncOptions::default() });
        let daily = SyncEngine::new(db.store.clone(), SyncOptions::default());
        assert!(matches!(last(&sync_events(&engine, &ws, &sim).await), SyncEvent::Complete { warning: None, .. }));
        let business = db.store.business_profiles(&ws).await.unwrap()[0].clone();
        let old_name = business.name.clone().expect("named by the first sync");
        sim.control(reqwest::Method::PATCH, &format!("/_sim/businesses/{}", business.business_id), Some(json!({"name": "Renamed Plumbing Co"}))).await;

        // Fresh info is not asked again: the old name stays.
        let events = sync_events(&daily, &ws, &sim).await;
        assert!(events.iter().all(|e| !matches!(e, SyncEvent::Enrich { .. })), "{events:?}");
        assert_eq!(db.store.business_profile(&ws, &business.business_id).await.unwrap().unwrap().name, Some(old_name.clone()));

        // Stale, but Yelp's business_info fails: the programs' sync completes, warns, keeps the old name.
        sim.set_faults(json!({"business_info_fails": true})).await;
        let SyncEvent::Complete { warning, businesses_updated, .. } = last(&sync_events(&engine, &ws, &sim).await).clone() else { panic!("the sync completes") };
        let warning = warning.expect("a warning");
        assert!(warning.contains("old names are kept"), "{warning}");
        assert_eq!(businesses_updated, 0);
        assert_eq!(db.store.business_profile(&ws, &business.business_id).await.unwrap().unwrap().name, Some(old_name));
        let run = &db.store.recent_sync_runs(&ws, 1).await.unwrap()[0];
        assert_eq!(run.status.as_str(), "up_to_date", "{run:?}");

        // Yelp answers again: the new name arrives, and only that business changed.
        sim.set_faults(json!({"business_info_fails": false})).await;
        let SyncEvent::Complete { warning, businesses_updated, .. } = last(&sync_events(&engine, &ws, &sim).await).clone() else { panic!("the sync completes") };
        assert_eq!((warning, businesses_updated), (None, 1));
        assert_eq!(db.store.business_profile(&ws, &business.business_id).await.unwrap().unwrap().name.as_deref(), Some("Renamed Plumbing Co"));
        assert_eq!(db.store.recent_sync_runs(&ws, 1).await.unwrap()[0].businesses_updated, Some(1));
    }
}
