//! Several dashboard instances on one PostgreSQL database, as behind a load balancer: one sync of a
//! workspace across all of them, joined from any; sessions good on every instance; migrations run once
//! when instances start together; instances killed (SIGKILL) in the middle of a sync and of jobs, with
//! nothing lost. PostgreSQL only (but for SQLite's concurrent migrations): these skip, saying why,
//! without `TEST_DATABASE_URL`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use dashboard::auth::hash_password;
use dashboard::secrets::SecretBox;
use dashboard::store::{Role, Store, new_id};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::{Connection, Row};

use crate::helpers::sse::{SseEvent, SseReader, read_sse};
use crate::helpers::{TestDb, TestSim, YELP_PASSWORD, YELP_USER, sign_in};

/// The key every instance encrypts Yelp credentials with (instances sharing a database must share it).
const KEY: [u8; 32] = [11; 32];
const OPERATOR: (&str, &str) = ("olga", "olga-password-1");
/// Claims on syncs and jobs in the process tests: short, so that a killed instance's work is taken over
/// within seconds (renewed every second while the instance lives).
const LEASE_SECONDS: &str = "3";

fn http() -> reqwest::Client {
    yelp_partner_api::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

/// Creates the workspace wired to `sim` and its operator; answers the workspace's id.
async fn workspace(store: &Store, sim: &TestSim) -> String {
    let ws = store
        .create_workspace(
            "Agency",
            &sim.base_url(),
            YELP_USER,
            Some(&SecretBox::from_key_bytes(KEY).encrypt(YELP_PASSWORD)),
        )
        .await
        .unwrap();
    store
        .create_user(
            &ws.id,
            OPERATOR.0,
            &hash_password(OPERATOR.1).unwrap(),
            Role::Operator,
        )
        .await
        .unwrap();
    ws.id
}

/// A dashboard instance in this process with pools of its own, as a separate process would have
/// (without a job watcher: these tests do not submit jobs). Answers its base URL.
async fn local_instance(db_url: &str) -> String {
    let store = Store::connect(db_url).await.unwrap();
    let config = crate::helpers::test_config(KEY);
    format!("http://{}", crate::helpers::serve(config, store).await)
}

/// A `yelp-ads serve` process; killed (SIGKILL) when dropped.
struct Instance {
    child: Child,
    url: String,
    /// Everything it wrote to stderr, for failure messages.
    log: Arc<Mutex<String>>,
    dir: std::path::PathBuf,
}

impl Instance {
    /// Starts `yelp-ads serve` on port 0 over `db_url`, with the shared key, and waits for its address.
    async fn start(db_url: &str, extra: &[&str]) -> Self {
        let dir = std::env::temp_dir().join(format!("yelp-ads-instance-{}", new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_yelp-ads"))
            .args(["serve", "--bind", "127.0.0.1:0", "--database-url", db_url])
            .args(["--data-dir", dir.to_str().unwrap()])
            .args(extra)
            .env(
                "YELP_ADS_SECRET_KEY",
                base64::engine::general_purpose::STANDARD.encode(KEY),
            )
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let stdout = child.stdout.take().unwrap();
        let first = tokio::task::spawn_blocking(move || {
            let mut stdout = BufReader::new(stdout);
            let mut first = String::new();
            stdout.read_line(&mut first).unwrap();
            // Keep draining, so that the process never blocks on a full pipe.
            std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
            first
        })
        .await
        .unwrap();
        let url = first
            .trim()
            .strip_prefix("yelp-ads listening on ")
            .unwrap_or_else(|| panic!("first line {first:?}; stderr: {}", log.lock().unwrap()))
            .to_owned();
        Self {
            child,
            url,
            log,
            dir,
        }
    }

    /// SIGKILL: no shutdown, no lease released, nothing recorded.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A request as the operator, with HTTP Basic (no CSRF token needed).
fn as_operator(http: &reqwest::Client, method: Method, url: String) -> reqwest::RequestBuilder {
    http.request(method, url)
        .basic_auth(OPERATOR.0, Some(OPERATOR.1))
}

fn kinds(events: &[SseEvent]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e.data["type"].as_str().unwrap())
        .collect()
}

/// Waits for `condition`, checking every 50 ms, for at most `limit`.
async fn wait_for<F, Fut>(limit: Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A simulator whose sync lasts: 48 pages of 40, 4 served at a time and 200 ms a page take about 2.6 s,
/// time for other requests (joins, resumes, clients of other instances) to arrive while it goes.
async fn slow_sim() -> TestSim {
    TestSim::start_with(1900, |c| {
        c.latency_ms = 200;
        c.capacity = 4;
    })
    .await
}

/// Every client of every instance asks for the sync at once: one run, whose whole sequence each sees.
async fn one_run_seen_whole_from_every_instance(instances: usize) {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let sim = slow_sim().await;
    let ws = workspace(&db.store, &sim).await;
    let mut urls = Vec::new();
    for _ in 0..instances {
        urls.push(local_instance(&db.url).await);
    }
    let http = http();
    // One session, signed in on the first instance, for every client: sessions are good on any instance
    // (and concurrent HTTP Basic sign-ins of one user would trip the sign-in throttle).
    let session = sign_in(&http, &urls[0], OPERATOR).await;
    // Two clients per instance.
    let streams = urls.iter().chain(urls.iter()).map(|url| {
        let request = session.request(
            &http,
            Method::POST,
            format!("{url}/api/reseller/programs/sync-stream"),
        );
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            if status != StatusCode::OK {
                panic!("{status}: {}", response.text().await.unwrap());
            }
            read_sse(response).await
        }
    });
    let seen: Vec<Vec<SseEvent>> = futures::future::join_all(streams).await;

    let first = &seen[0];
    let kinds = kinds(first);
    assert_eq!(&kinds[..2], ["start", "info"]);
    assert_eq!(*kinds.last().unwrap(), "complete", "{:?}", first.last());
    assert_eq!(first.last().unwrap().data["added"], 1900);
    // Every progress event is kept here (each page moves the percentage), so that followers, which
    // read the stored events, see exactly what the instance running the sync sent.
    let ids: Vec<String> = (1..=first.len()).map(|i| i.to_string()).collect();
    assert_eq!(
        first
            .iter()
            .map(|e| e.id.clone().unwrap())
            .collect::<Vec<_>>(),
        ids
    );
    for (client, events) in seen.iter().enumerate() {
        assert_eq!(
            events,
            first,
            "client {client} (instance {}) saw the whole sequence of the one run",
            client % instances
        );
    }
    let runs = db.store.recent_sync_runs(&ws, 10).await.unwrap();
    assert_eq!(runs.len(), 1, "one run for {} requests", seen.len());
    assert_eq!(runs[0].status.as_str(), "synced");
    assert_eq!(runs[0].id, first[0].data["run_id"].as_str().unwrap());
    assert!(
        db.store.sync_lease(&ws).await.unwrap().is_none(),
        "lease released"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_asked_for_one_workspaces_sync_run_it_once_and_every_client_sees_every_event()
{
    one_run_seen_whole_from_every_instance(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_asked_for_one_workspaces_sync_run_it_once_and_every_client_sees_every_event()
 {
    one_run_seen_whole_from_every_instance(3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_joined_or_resumed_on_another_instance_mid_run_gets_the_events_it_lacks() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let sim = slow_sim().await;
    let ws = workspace(&db.store, &sim).await;
    let (a, b) = (local_instance(&db.url).await, local_instance(&db.url).await);
    let http = http();
    let start = |url: &str| {
        as_operator(
            &http,
            Method::POST,
            format!("{url}/api/reseller/programs/sync-stream"),
        )
        .send()
    };
    let mut on_a = SseReader::new(start(&a).await.unwrap());
    let mut here = vec![on_a.next().await.unwrap()];
    here.push(on_a.next().await.unwrap());
    let run_id = here[0].data["run_id"].as_str().unwrap().to_owned();
    // The run is going on A; a client of B joins it, and another resumes its stream on B after event 2.
    let joined = start(&b);
    let resumed = as_operator(
        &http,
        Method::GET,
        format!("{b}/api/sync/runs/{run_id}/events"),
    )
    .header("last-event-id", "2")
    .send();
    let (joined, resumed) = tokio::join!(joined, resumed);
    let (rest, joined, resumed) = tokio::join!(
        on_a.rest(),
        SseReader::new(joined.unwrap()).rest(),
        SseReader::new(resumed.unwrap()).rest()
    );
    here.extend(rest);
    assert_eq!(kinds(&here).last(), Some(&"complete"), "{:?}", here.last());
    assert_eq!(
        joined, here,
        "the joiner on B got the run from its first event"
    );
    assert_eq!(
        resumed,
        here[2..],
        "the resumed stream on B got every event after 2"
    );
    assert_eq!(db.store.recent_sync_runs(&ws, 10).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_opened_on_one_instance_works_on_the_others_and_signing_out_ends_it_on_all() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let sim = TestSim::start(40).await;
    workspace(&db.store, &sim).await;
    let urls = [
        local_instance(&db.url).await,
        local_instance(&db.url).await,
        local_instance(&db.url).await,
    ];
    let http = http();
    let session = sign_in(&http, &urls[0], OPERATOR).await;

    // A change (with the CSRF token of the session) on the second instance, reads on the third.
    let synced = session
        .request(
            &http,
            Method::POST,
            format!("{}/api/reseller/programs/sync", urls[1]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(synced.status(), StatusCode::OK);
    let me = session
        .request(&http, Method::GET, format!("{}/api/auth/me", urls[2]))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(
        me.json::<Value>().await.unwrap()["user"]["username"],
        OPERATOR.0
    );
    let listed: Value = session
        .request(
            &http,
            Method::GET,
            format!("{}/api/reseller/programs", urls[2]),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total_count"], 40);
    let forged = http
        .post(format!("{}/api/reseller/programs/sync", urls[2]))
        .header("cookie", &session.cookie)
        .header("x-csrf-token", "forged")
        .send()
        .await
        .unwrap();
    assert_eq!(
        forged.status(),
        StatusCode::FORBIDDEN,
        "the session's CSRF token is checked everywhere"
    );

    // Signing out on the third instance ends the session on all of them.
    let out = session
        .request(&http, Method::POST, format!("{}/api/auth/logout", urls[2]))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::OK);
    for url in &urls {
        let me = session
            .request(&http, Method::GET, format!("{url}/api/auth/me"))
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), StatusCode::UNAUTHORIZED, "{url}");
    }
}

/// Asserts that the database at `url` records every migration of the crate once, applied.
async fn assert_each_migration_applied_once(url: &str) {
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .filter(|f| {
            f.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|e| e == "sql")
        })
        .count();
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let applied = sqlx::query(
        "SELECT version, CAST(CASE WHEN success THEN 1 ELSE 0 END AS BIGINT) FROM _sqlx_migrations \
         ORDER BY version",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let versions: Vec<i64> = applied.iter().map(|r| r.get::<i64, _>(0)).collect();
    assert_eq!(
        versions.len(),
        migrations,
        "each migration applied once: {versions:?}"
    );
    assert_eq!(versions.iter().collect::<BTreeSet<_>>().len(), migrations);
    assert!(applied.iter().all(|r| r.get::<i64, _>(1) == 1));
    conn.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_migrating_a_new_sqlite_file_at_once_each_succeed_and_apply_each_migration_once() {
    // No advisory lock on SQLite (a CLI sync and a server starting together on a new data directory):
    // the loser of each race must try again, not fail. Several rounds, as the race is not always lost.
    for _ in 0..5 {
        let dir = std::env::temp_dir().join(format!("yelp-ads-migrate-{}", new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("new.db").display());
        let stores = futures::future::join_all((0..4).map(|_| async {
            let store = Store::connect(&url).await.unwrap();
            store.migrate().await.unwrap();
            store
        }))
        .await;
        assert_each_migration_applied_once(&url).await;
        for store in stores {
            store.close().await;
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_at_once_on_a_fresh_database_apply_each_migration_once() {
    let Some(db) = TestDb::postgres_empty().await else {
        return;
    };
    // Four processes and four in-process stores migrate the empty database at the same moment.
    let processes =
        (0..4).map(|_| Instance::start(&db.url, &["--yelp-base-url", "http://127.0.0.1:9"]));
    let stores = (0..4).map(|_| async {
        let store = Store::connect(&db.url).await.unwrap();
        store.migrate().await.unwrap();
        store
    });
    let (processes, stores) = tokio::join!(
        futures::future::join_all(processes),
        futures::future::join_all(stores)
    );
    let http = http();
    for instance in &processes {
        let health = http
            .get(format!("{}/healthz", instance.url))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), StatusCode::OK, "{}", instance.log());
    }
    assert_each_migration_applied_once(&db.url).await;
    // The schema works: a store of one instance writes, another reads.
    let ws = stores[0]
        .create_workspace("After", "http://127.0.0.1:9", "after", None)
        .await
        .unwrap();
    assert_eq!(stores[3].workspace(&ws.id).await.unwrap().name, "After");
    for store in stores {
        store.close().await;
    }
}

/// Programs of the simulator by id.
async fn at_yelp(sim: &TestSim) -> BTreeMap<String, Value> {
    sim.programs()
        .await
        .into_iter()
        .map(|p| (p["program_id"].as_str().unwrap().to_owned(), p))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_killed_mid_sync_loses_nothing_and_another_instance_completes_the_sync() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    // 4 served at a time, as a slow Yelp would.
    let sim = TestSim::start_with(1900, |c| c.capacity = 4).await;
    let ws = workspace(&db.store, &sim).await;
    let args = [
        "--yelp-base-url",
        &sim.base_url(),
        "--lease-seconds",
        LEASE_SECONDS,
    ];
    let (mut a, b) = tokio::join!(
        Instance::start(&db.url, &args),
        Instance::start(&db.url, &args)
    );
    let http = http();
    let sync = |url: &str| {
        as_operator(
            &http,
            Method::POST,
            format!("{url}/api/reseller/programs/sync"),
        )
        .send()
    };
    let first = sync(&a.url).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK, "{}", a.log());

    // Yelp changes: 30 programs gone, 10 new, 50 with a new budget; and it slows down, so that the next
    // sync lasts several seconds (48 pages, 4 at a time, 300 ms each).
    let before = at_yelp(&sim).await;
    let gone: Vec<String> = before.keys().step_by(60).take(30).cloned().collect();
    for id in &gone {
        sim.remove_program(id).await;
    }
    sim.add_programs(10).await;
    for (id, p) in before.iter().skip(1).step_by(37).take(50) {
        if p["program_type"] == "CPC" && !gone.contains(id) {
            let budget = p["program_metrics"]["budget"].as_i64().unwrap_or(5000) + 100;
            sim.patch_program(id, json!({"budget": budget})).await;
        }
    }
    sim.set_faults(json!({"latency_ms": 300})).await;

    let mut on_a = SseReader::new(
        as_operator(
            &http,
            Method::POST,
            format!("{}/api/reseller/programs/sync-stream", a.url),
        )
        .send()
        .await
        .unwrap(),
    );
    let start = on_a.next().await.unwrap();
    let run_id = start.data["run_id"].as_str().unwrap().to_owned();
    let on_b = as_operator(
        &http,
        Method::POST,
        format!("{}/api/reseller/programs/sync-stream", b.url),
    )
    .send()
    .await
    .unwrap();
    let on_b = tokio::spawn(SseReader::new(on_b).rest());
    // Mid-run: some pages written, most not.
    loop {
        let event = on_a
            .next()
            .await
            .expect("A's stream goes on until A is killed");
        let percentage = event.data["percentage"].as_u64().unwrap_or(0);
        assert_ne!(
            event.data["type"], "complete",
            "the run ended before it could be killed"
        );
        if percentage >= 15 {
            break;
        }
    }
    a.kill();
    let after_kill = on_a.rest().await;
    assert!(
        kinds(&after_kill).iter().all(|k| *k == "progress"),
        "{after_kill:?}"
    );

    // B's client followed the run; once A's lease runs out it is told the run stopped.
    let followed = tokio::time::timeout(Duration::from_secs(60), on_b)
        .await
        .expect("the follower ends within the lease")
        .unwrap();
    let last = followed.last().unwrap();
    assert_eq!(last.data["type"], "error", "{followed:?}");
    assert!(
        last.data["message"]
            .as_str()
            .unwrap()
            .contains("stopped before it ended"),
        "{last:?}"
    );
    assert_eq!(followed[0].data["run_id"], run_id.as_str());
    assert!(kinds(&followed).contains(&"progress"));

    // The database is consistent: the run is recorded interrupted, nothing was marked removed, and the
    // mirror holds whole pages of what Yelp has (old or new), nothing else.
    let run = db.store.sync_run(&ws, &run_id).await.unwrap().unwrap();
    assert_eq!(run.status.as_str(), "interrupted", "{run:?}");
    assert!(run.finished_at.is_some());
    let mirrored = db.store.all_programs(&ws).await.unwrap();
    assert!(
        mirrored.iter().all(|p| p.removed_at.is_none()),
        "nothing marked removed"
    );
    let now_at_yelp = at_yelp(&sim).await;
    assert!(
        mirrored
            .iter()
            .all(|p| before.contains_key(&p.program_id) || now_at_yelp.contains_key(&p.program_id))
    );
    let stored = db.store.sync_events(&run_id, 0).await.unwrap();
    let final_stored: Value = serde_json::from_str(&stored.last().unwrap().1).unwrap();
    assert_eq!(
        final_stored, last.data,
        "the event ending the run is kept for replay"
    );

    // A sync on B runs (the lease is free) and makes the mirror exactly Yelp's.
    sim.set_faults(json!({"latency_ms": 0})).await;
    let answer = sync(&b.url).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK, "{}", b.log());
    let complete: Value = answer.json().await.unwrap();
    assert_eq!(complete["type"], "complete", "{complete}");
    assert_eq!(complete["removed"], 30, "{complete}");
    let live: BTreeSet<String> = db
        .store
        .all_programs(&ws)
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.removed_at.is_none())
        .map(|p| p.program_id)
        .collect();
    assert_eq!(live, now_at_yelp.keys().cloned().collect::<BTreeSet<_>>());
    for program in db.store.all_programs(&ws).await.unwrap() {
        if let Some(p) = now_at_yelp.get(&program.program_id) {
            assert_eq!(
                program.budget_cents,
                p["program_metrics"]["budget"].as_i64(),
                "{}",
                program.program_id
            );
        }
    }
    let runs = db.store.recent_sync_runs(&ws, 10).await.unwrap();
    let statuses: Vec<&str> = runs.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(statuses, ["synced", "interrupted", "synced"]);
    assert!(db.store.sync_lease(&ws).await.unwrap().is_none());
}

/// A job row as the test reads it straight from the database, lease included.
#[derive(Debug, Clone, PartialEq)]
struct JobRow {
    status: String,
    yelp_status: Option<String>,
    program_id: Option<String>,
    errors: Option<String>,
    completed_at: Option<i64>,
    poll_count: i64,
    lease_owner: Option<String>,
    lease_expires_at: Option<i64>,
}

async fn job_rows(url: &str) -> BTreeMap<String, JobRow> {
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let rows = sqlx::query(
        "SELECT id, status, yelp_status, program_id, errors, completed_at, poll_count, lease_owner, \
         lease_expires_at FROM jobs",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    rows.iter()
        .map(|r| {
            (
                r.get(0),
                JobRow {
                    status: r.get(1),
                    yelp_status: r.get(2),
                    program_id: r.get(3),
                    errors: r.get(4),
                    completed_at: r.get(5),
                    poll_count: r.get(6),
                    lease_owner: r.get(7),
                    lease_expires_at: r.get(8),
                },
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_in_flight_on_a_killed_instance_are_each_finished_once_by_another() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let sim = TestSim::start(200).await;
    let ws = workspace(&db.store, &sim).await;
    let args = [
        "--yelp-base-url",
        &sim.base_url(),
        "--lease-seconds",
        LEASE_SECONDS,
        "--job-poll-cap-ms",
        "200",
    ];
    let mut a = Instance::start(&db.url, &args).await;
    let http = http();
    let synced = as_operator(
        &http,
        Method::POST,
        format!("{}/api/reseller/programs/sync", a.url),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(synced.status(), StatusCode::OK, "{}", a.log());

    // Yelp takes 6 s per job. Submitted to A: creates that Yelp carries out, creates it rejects, and
    // budget edits of running CPC programs.
    sim.control(
        Method::PUT,
        "/_sim/settings",
        Some(json!({"job_seconds": 6})),
    )
    .await;
    let business = sim.good_business().await;
    let today = chrono::Utc::now().date_naive().to_string();
    let running_cpc: Vec<String> = sim
        .programs()
        .await
        .into_iter()
        .filter(|p| {
            p["program_type"] == "CPC"
                && p["program_status"] == "ACTIVE"
                && p["program_pause_status"] == "NOT_PAUSED"
                && p["start_date"].as_str().unwrap() <= today.as_str()
                && p["end_date"].as_str().unwrap() > today.as_str()
                // Yelp refuses a budget below what the program has spent.
                && p["program_metrics"]["ad_cost"].as_i64().unwrap_or(0) < 41_250
        })
        .map(|p| p["program_id"].as_str().unwrap().to_owned())
        .take(2)
        .collect();
    assert_eq!(running_cpc.len(), 2);
    let mut expected: BTreeMap<String, (&str, &str)> = BTreeMap::new();
    let submit = |path: String, body: Value| {
        let request = as_operator(&http, Method::POST, format!("{}{path}", a.url)).json(&body);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::ACCEPTED);
            response.json::<Value>().await.unwrap()["job_id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    for _ in 0..3 {
        let job = submit(
            "/api/reseller/program/create".into(),
            // Three identical creates on purpose: confirmed, as the 10-minute guard asks.
            json!({"business_id": business, "program_name": "CPC", "budget": 50, "is_autobid": true,
                   "confirm_duplicate": true}),
        )
        .await;
        expected.insert(job, ("COMPLETED", "create"));
    }
    for _ in 0..2 {
        let job = submit(
            "/api/reseller/program/create".into(),
            json!({"business_id": business, "program_name": "CPC", "budget": 50, "is_autobid": true,
                   "ad_categories": ["plumbing", "notarealcategory"], "confirm_duplicate": true}),
        )
        .await;
        expected.insert(job, ("FAILED", "create"));
    }
    for id in &running_cpc {
        let job = submit(
            format!("/api/reseller/program/{id}/edit"),
            json!({"budget": "412.50"}),
        )
        .await;
        expected.insert(job, ("COMPLETED", "edit"));
    }

    // Yelp slows to 700 ms an answer, so that A is in the middle of checks most of the time; A is killed
    // once it has checked every job and holds claims on unfinished ones.
    sim.set_faults(json!({"latency_ms": 700})).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let held: BTreeMap<String, i64> = loop {
        let rows = job_rows(&db.url).await;
        let held: BTreeMap<String, i64> = rows
            .iter()
            .filter(|(_, j)| j.lease_owner.is_some() && j.completed_at.is_none())
            .map(|(id, j)| (id.clone(), j.lease_expires_at.unwrap()))
            .collect();
        if rows.values().all(|j| j.poll_count >= 1) && !held.is_empty() {
            a.kill();
            break held;
        }
        assert!(
            Instant::now() < deadline,
            "A never held claims: {rows:?}\n{}",
            a.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // The jobs A left unfinished, with the end of its claim on those it held (a check may have ended
    // one in the moment between the look and the kill).
    let at_kill = job_rows(&db.url).await;
    assert!(at_kill.values().any(|j| j.completed_at.is_none()));
    let in_flight: BTreeMap<String, i64> = held
        .into_iter()
        .filter(|(id, _)| at_kill[id].completed_at.is_none())
        .collect();

    // B starts after A died and finishes every job: those A held once their claims ran out.
    let b = Instance::start(&db.url, &args).await;
    wait_for(Duration::from_secs(90), "every job to end", || async {
        job_rows(&db.url)
            .await
            .values()
            .all(|j| j.completed_at.is_some())
    })
    .await;
    let ended = job_rows(&db.url).await;
    assert_eq!(ended.len(), expected.len());
    for (id, (status, job_type)) in &expected {
        let job = &ended[id];
        assert_eq!(job.status, *status, "{job_type} {id}: {job:?}\n{}", b.log());
        assert!(job.lease_owner.is_none(), "{job:?}");
        if *status == "COMPLETED" {
            let program = job.program_id.as_deref().expect("the job's program");
            let mirrored = db.store.program(&ws, program).await.unwrap();
            assert!(
                mirrored.is_some(),
                "{job_type} {id}: its program is in the mirror"
            );
        } else {
            assert_eq!(job.yelp_status.as_deref(), Some("REJECTED"), "{job:?}");
            assert!(
                job.errors.as_deref().unwrap().contains("notarealcategory"),
                "{job:?}"
            );
        }
        if let Some(expired) = in_flight.get(id) {
            assert!(
                job.completed_at.unwrap() >= *expired,
                "taken over only once A's claim ran out"
            );
        }
    }
    for id in &running_cpc {
        let program = db.store.program(&ws, id).await.unwrap().unwrap();
        assert_eq!(program.budget_cents, Some(41250));
    }

    // Exactly once: an ended job never changes again (B keeps running its watcher meanwhile), and Yelp
    // received each submission once.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(job_rows(&db.url).await, ended, "no job ended twice");
    let requests = sim.control(Method::GET, "/_sim/stats", None).await["requests"].clone();
    assert_eq!(
        requests["POST /v1/reseller/program/create"], 5,
        "{requests}"
    );
    assert_eq!(
        requests["POST /v1/reseller/program/{program_id}/edit"], 2,
        "{requests}"
    );
    let _ = &b;
}
