//! The per-workspace limit on Yelp requests: one client per workspace, so its syncs, job checks and
//! operations share one bucket. Only lower bounds on time are asserted (a loaded machine is only slower).

use std::time::{Duration, Instant};

use dashboard::app::Application;
use dashboard::secrets::SecretBox;
use dashboard::sync::{SyncEvent, Trigger};
use futures::future::join_all;
use yelp_partner_api::JobId;

use crate::helpers::{TestSim, YELP_PASSWORD, YELP_USER, on_every_backend, test_config};

on_every_backend! {
    async fn a_sync_and_job_status_checks_of_one_workspace_share_its_rate_limit(db: TestDb) {
        // 200 programs: 5 pages of 40.
        let sim = TestSim::start(200).await;
        let secrets = SecretBox::from_key_bytes([5; 32]);
        let ws = db.store
            .create_workspace("Limited", &sim.base_url(), YELP_USER, Some(&secrets.encrypt(YELP_PASSWORD)))
            .await
            .unwrap();
        let (rate, burst) = (20.0, 2);
        let mut config = test_config([5; 32]);
        (config.yelp_rps, config.yelp_burst) = (rate, burst);
        let app = Application::build_with_store(config, db.store.clone()).await.unwrap();
        let state = app.state();
        let engine = state.engine.clone();
        // The sync endpoints take the client from `yelp_client`; the job watcher and the schedule from
        // the clients' `source`.
        let for_sync = state.yelp_client(&ws.id).await.unwrap();
        let for_jobs = (state.yelp.source())(ws.id.clone()).await.unwrap();

        let started = Instant::now();
        let sync = engine.sync(&ws.id, for_sync, Trigger::Api, None).finish();
        let polls = join_all((0..10).map(|i| {
            let client = for_jobs.clone();
            // Unknown jobs: Yelp answers each at once (500 JOB_NOT_FOUND, not retried).
            async move { client.job_status(&JobId::from_yelp(format!("unknownjob{i:012}"))).await }
        }));
        let (last, polled) = tokio::join!(sync, polls);
        let elapsed = started.elapsed();
        assert!(matches!(last, Some(SyncEvent::Complete { added: 200, .. })), "{last:?}");
        assert!(polled.iter().all(Result::is_err));

        let stats = sim.control(reqwest::Method::GET, "/_sim/stats", None).await;
        let pages = stats["requests"]["GET /programs/v1"].as_u64().unwrap();
        let checks = stats["requests"]["GET /v1/reseller/status/{job_id}"].as_u64().unwrap();
        assert_eq!((pages, checks), (5, 10));
        // One bucket: 15 requests at 20 a second with a burst of 2 need at least 0.65 s. Two buckets would
        // let the ten checks through in 0.4 s.
        let least = Duration::from_secs_f64((pages + checks - u64::from(burst)) as f64 / rate);
        eprintln!("{pages} pages + {checks} status checks at {rate}/s, burst {burst}: {elapsed:?} (floor {least:?})");
        assert!(elapsed >= least, "took {elapsed:?}, less than {least:?}");
    }
}
