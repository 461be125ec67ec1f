//! Load benchmark: program-list readers and sync-stream subscribers at once, while syncs and jobs run,
//! against one and then two `yelp-ads serve` processes sharing one PostgreSQL database.
//!
//! `cargo bench -p dashboard --bench load [-- --duration-secs 60 --clients 200 --subscribers 100
//! --instances 1,2 --programs 10000 --database-url postgres://postgres@127.0.0.1:5432/test]`
//! (the database URL defaults to `TEST_DATABASE_URL`; each run gets a new database, dropped after).
//!
//! - `--clients` clients each read program lists (varied filters, sorts and pages) one request after
//!   another, spread over the instances.
//! - `--subscribers` clients each ask for the sync stream and read it to its end, then ask again, spread
//!   over the instances: syncs run back to back, each joined by every subscriber (those on an instance
//!   that does not run it follow it through the database).
//! - Yelp (the simulator, in this process) changes a few program budgets a second, so that syncs write
//!   and list caches are invalidated; one budget edit a second is submitted as a job and followed to its
//!   end through the status endpoint.
//!
//! Reported: every answer's status (any 5xx is a failure of the run), list latency percentiles,
//! time to a stream's first event, how streams, syncs and jobs ended, and each instance's resident
//! memory (RSS) sampled every second.

// Benchmarks stop at a broken set-up; the workspace denies unwrap and expect elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use clap::Parser;
use dashboard::auth::hash_password;
use dashboard::secrets::SecretBox;
use dashboard::store::{Role, Store, new_id};
use serde_json::{Value, json};
use sqlx::{Connection as _, Executor as _};
use support::TempDir;
use tokio::sync::Mutex;

#[derive(Parser)]
struct Args {
    /// How long each run lasts, in seconds.
    #[arg(long, default_value_t = 60)]
    duration_secs: u64,
    /// Concurrent program-list readers.
    #[arg(long, default_value_t = 200)]
    clients: usize,
    /// Concurrent sync-stream subscribers.
    #[arg(long, default_value_t = 100)]
    subscribers: usize,
    /// Numbers of instances to run with, one run each.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    instances: Vec<usize>,
    /// Programs in the simulated partner account (and so in the mirror).
    #[arg(long, default_value_t = 10_000)]
    programs: usize,
    /// Simulated Yelp latency per request, in milliseconds.
    #[arg(long, default_value_t = 25)]
    latency_ms: u64,
    /// PostgreSQL server (any database on it): a new database is made for each run.
    #[arg(long, env = "TEST_DATABASE_URL")]
    database_url: String,
    #[arg(long, hide = true)]
    bench: bool,
}

const KEY: [u8; 32] = [5; 32];
const PARTNER: (&str, &str) = ("load", "load-partner");
const OPERATOR: (&str, &str) = ("loader", "loader-password");
/// Sessions the clients share (signed in one after the other: concurrent sign-ins of one user would
/// trip the sign-in throttle).
const SESSIONS: usize = 8;

/// Answers seen, by kind of request.
#[derive(Default)]
struct Tally {
    /// Latencies of answered requests.
    latencies: Vec<Duration>,
    /// Answers by HTTP status.
    statuses: BTreeMap<u16, u64>,
    /// Requests that got no answer (connection refused or broken, timeout).
    failed: u64,
}

impl Tally {
    fn record(&mut self, status: u16, latency: Duration) {
        self.latencies.push(latency);
        *self.statuses.entry(status).or_default() += 1;
    }

    fn merge(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_default() += n;
        }
        self.failed += other.failed;
    }

    fn count(&self) -> u64 {
        self.statuses.values().sum()
    }

    fn server_errors(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(s, _)| **s >= 500)
            .map(|(_, n)| n)
            .sum()
    }
}

/// How the sync streams went.
#[derive(Default)]
struct Streams {
    first_event: Tally,
    complete: u64,
    error: u64,
    /// Ended without a final event (the connection broke).
    broken: u64,
    events: u64,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1000.0
}

/// A `yelp-ads serve` process, killed when dropped.
struct Instance {
    child: Child,
    url: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Instance {
    fn start(db_url: &str, sim_url: &str, dir: &std::path::Path, n: usize) -> Instance {
        let log = std::fs::File::create(dir.join(format!("instance-{n}.log"))).expect("log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_yelp-ads"))
            .args(["serve", "--bind", "127.0.0.1:0", "--database-url", db_url])
            .args(["--yelp-base-url", sim_url])
            .args(["--data-dir", dir.to_str().expect("utf-8 path")])
            .env(
                "YELP_ADS_SECRET_KEY",
                base64::engine::general_purpose::STANDARD.encode(KEY),
            )
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("yelp-ads serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
        let first = lines.next().and_then(|l| l.ok()).unwrap_or_default();
        std::thread::spawn(move || lines.for_each(drop));
        let url = first
            .strip_prefix("yelp-ads listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        Instance { child, url }
    }

    /// Resident memory, in MiB (Linux).
    fn rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kb / 1024.0)
    }
}

/// A new database on the server of `admin_url`; dropped by [`drop_database`].
async fn create_database(admin_url: &str) -> (String, String) {
    sqlx::any::install_default_drivers();
    let name = format!("yelp_ads_load_{}", new_id());
    let mut admin = sqlx::AnyConnection::connect(admin_url)
        .await
        .expect("PostgreSQL");
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create database");
    admin.close().await.expect("close");
    let mut url = url::Url::parse(admin_url).expect("database URL");
    url.set_path(&name);
    (name, url.to_string())
}

async fn drop_database(admin_url: &str, name: &str) {
    if let Ok(mut admin) = sqlx::AnyConnection::connect(admin_url).await {
        let _ = admin
            .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await;
    }
}

const SHAPES: [&str; 6] = [
    "status=CURRENT&sort=budget&order=desc",
    "program_type=CPC&sort=start_date&order=desc",
    "status=PAUSED&sort=ad_cost&order=desc",
    "search=ab&sort=program_id",
    "status=ALL&sort=-end_date",
    "status=FUTURE",
];

/// Seconds since the load began, and each instance's RSS then (MiB).
type RssSample = (f64, Vec<f64>);

/// What one run printed: its row of the main table, its rows of the memory table, a sentence.
struct Report {
    row: String,
    memory: String,
    summary: String,
}

/// One run with `instances` instances.
async fn run(args: &Args, instances: usize) -> Report {
    let dir = TempDir(std::env::temp_dir().join(format!("yelp-ads-load-bench-{}", new_id())));
    std::fs::create_dir_all(&dir.0).expect("temp dir");
    let (db_name, db_url) = create_database(&args.database_url).await;
    let sim = yelp_sim::spawn(yelp_sim::SimConfig {
        bind: "127.0.0.1:0".parse().expect("addr"),
        programs: args.programs,
        businesses: (args.programs / 6).clamp(300, 20_000),
        latency_ms: args.latency_ms,
        job_seconds: 3.0,
        username: PARTNER.0.into(),
        password: PARTNER.1.into(),
        ..yelp_sim::SimConfig::default()
    })
    .await
    .expect("simulator");
    {
        let store = Store::connect(&db_url).await.expect("db");
        store.migrate().await.expect("migrate");
        let ws = store
            .create_workspace(
                "Load",
                &sim.base_url(),
                PARTNER.0,
                Some(&SecretBox::from_key_bytes(KEY).encrypt(PARTNER.1)),
            )
            .await
            .expect("workspace");
        let hash = hash_password(OPERATOR.1).expect("hash");
        store
            .create_user(&ws.id, OPERATOR.0, &hash, Role::Operator)
            .await
            .expect("user");
        store.close().await;
    }
    let servers: Vec<Instance> = (0..instances)
        .map(|n| Instance::start(&db_url, &sim.base_url(), &dir.0, n))
        .collect();
    let urls: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    yelp_partner_api::install_crypto_provider();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(2000)
        .timeout(Duration::from_secs(120))
        .build()
        .expect("http");
    let mut sessions = Vec::new();
    for _ in 0..SESSIONS {
        let session = support::session::sign_in(&http, &urls[0], OPERATOR).await;
        sessions.push((session.cookie, session.csrf));
    }
    // The mirror starts full, as it is once an agency has used the dashboard.
    let first = http
        .post(format!("{}/api/reseller/programs/sync", urls[0]))
        .header("cookie", &sessions[0].0)
        .header("x-csrf-token", &sessions[0].1)
        .send()
        .await
        .expect("first sync");
    assert!(
        first.status().is_success(),
        "first sync: {}",
        first.status()
    );

    let programs: Vec<Value> = http
        .get(format!("{}/_sim/programs", sim.base_url()))
        .send()
        .await
        .expect("programs")
        .json::<Value>()
        .await
        .expect("programs")["programs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let today = chrono::Utc::now().date_naive().to_string();
    let editable: Vec<String> = programs
        .iter()
        .filter(|p| {
            p["program_type"] == "CPC"
                && p["program_status"] == "ACTIVE"
                && p["start_date"].as_str().unwrap_or("") <= today.as_str()
                && p["end_date"].as_str().unwrap_or("") > today.as_str()
                && p["program_metrics"]["ad_cost"].as_i64().unwrap_or(0) < 50_000
        })
        .filter_map(|p| p["program_id"].as_str().map(str::to_owned))
        .collect();
    // Budgets are CPC programs' only.
    let cpc: Vec<String> = programs
        .iter()
        .filter(|p| p["program_type"] == "CPC")
        .filter_map(|p| p["program_id"].as_str().map(str::to_owned))
        .collect();

    let load_started_ms = dashboard::store::now_ms();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.duration_secs);
    let sessions = Arc::new(sessions);
    let urls = Arc::new(urls);

    // Memory of each instance, every second.
    let servers = Arc::new(servers);
    let rss: Arc<Mutex<Vec<RssSample>>> = Arc::default();
    let sampler = {
        let (servers, rss) = (servers.clone(), rss.clone());
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(Duration::from_secs(1));
            while Instant::now() < deadline + Duration::from_millis(500) {
                ticks.tick().await;
                let sample = servers.iter().map(|s| s.rss_mib().unwrap_or(0.0)).collect();
                rss.lock()
                    .await
                    .push((started.elapsed().as_secs_f64(), sample));
            }
        })
    };

    // Yelp changes a few budgets a second.
    let changes = {
        let (http, sim_url, ids) = (http.clone(), sim.base_url(), cpc);
        tokio::spawn(async move {
            let mut n = 0usize;
            while Instant::now() < deadline && !ids.is_empty() {
                let id = &ids[(n * 7919) % ids.len()];
                let _ = http
                    .patch(format!("{sim_url}/_sim/programs/{id}"))
                    .json(&json!({"budget": 60_000 + (n % 1000) as i64}))
                    .send()
                    .await;
                n += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };

    let mut readers = Vec::new();
    for client in 0..args.clients {
        let (http, urls, sessions) = (http.clone(), urls.clone(), sessions.clone());
        readers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let url = &urls[client % urls.len()];
            let (cookie, _) = &sessions[client % sessions.len()];
            let mut i = 0usize;
            while Instant::now() < deadline {
                let shape = SHAPES[(client + i) % SHAPES.len()];
                let offset = ((client * 7 + i * 13) % 20) * 50;
                let t = Instant::now();
                let answer = http
                    .get(format!(
                        "{url}/api/reseller/programs?{shape}&limit=50&offset={offset}"
                    ))
                    .header("cookie", cookie)
                    .send()
                    .await;
                match answer {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        match response.bytes().await {
                            Ok(_) => tally.record(status, t.elapsed()),
                            Err(_) => tally.failed += 1,
                        }
                    }
                    Err(_) => tally.failed += 1,
                }
                i += 1;
            }
            tally
        }));
    }

    let mut subscribers = Vec::new();
    for n in 0..args.subscribers {
        let (http, urls, sessions) = (http.clone(), urls.clone(), sessions.clone());
        subscribers.push(tokio::spawn(async move {
            let mut streams = Streams::default();
            let url = &urls[n % urls.len()];
            let (cookie, csrf) = &sessions[n % sessions.len()];
            while Instant::now() < deadline {
                let t = Instant::now();
                let answer = http
                    .post(format!("{url}/api/reseller/programs/sync-stream"))
                    .header("cookie", cookie)
                    .header("x-csrf-token", csrf)
                    .send()
                    .await;
                let response = match answer {
                    Ok(r) if r.status().is_success() => r,
                    Ok(r) => {
                        streams.first_event.record(r.status().as_u16(), t.elapsed());
                        let _ = r.bytes().await;
                        continue;
                    }
                    Err(_) => {
                        streams.first_event.failed += 1;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let mut reader = support::sse::SseReader::new(response);
                let mut last = None;
                while let Some(event) = reader.next().await {
                    if last.is_none() {
                        streams.first_event.record(200, t.elapsed());
                    }
                    streams.events += 1;
                    last = Some(event.data);
                }
                let last_type = last.as_ref().and_then(|data| data["type"].as_str());
                if reader.broken() {
                    streams.broken += 1;
                } else if last_type == Some("complete") {
                    streams.complete += 1;
                } else if last_type == Some("error") {
                    streams.error += 1;
                } else {
                    streams.broken += 1;
                }
            }
            streams
        }));
    }

    // One budget edit a second, as a job followed to its end.
    let jobs_submitted = Arc::new(AtomicU64::new(0));
    let jobs = {
        let (http, urls, sessions, submitted) = (
            http.clone(),
            urls.clone(),
            sessions.clone(),
            jobs_submitted.clone(),
        );
        tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut open: Vec<(String, String)> = Vec::new();
            let mut ended: BTreeMap<String, u64> = BTreeMap::new();
            let mut n = 0usize;
            let mut next_submit = Instant::now();
            loop {
                let now = Instant::now();
                if now < deadline && now >= next_submit && !editable.is_empty() {
                    let url = &urls[n % urls.len()];
                    let (cookie, csrf) = &sessions[n % sessions.len()];
                    let id = &editable[n % editable.len()];
                    let t = Instant::now();
                    let answer = http
                        .post(format!("{url}/api/reseller/program/{id}/edit"))
                        .header("cookie", cookie)
                        .header("x-csrf-token", csrf)
                        .json(&json!({"budget": 700 + n % 100}))
                        .send()
                        .await;
                    match answer {
                        Ok(r) => {
                            tally.record(r.status().as_u16(), t.elapsed());
                            if let Ok(body) = r.json::<Value>().await {
                                if let Some(job) = body["job_id"].as_str() {
                                    open.push((url.clone(), job.to_owned()));
                                    submitted.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                        Err(_) => tally.failed += 1,
                    }
                    n += 1;
                    next_submit += Duration::from_secs(1);
                }
                let mut still = Vec::new();
                for (url, job) in open.drain(..) {
                    let (cookie, _) = &sessions[0];
                    let t = Instant::now();
                    match http
                        .get(format!("{url}/api/reseller/status/{job}"))
                        .header("cookie", cookie)
                        .send()
                        .await
                    {
                        Ok(r) => {
                            tally.record(r.status().as_u16(), t.elapsed());
                            let status = r
                                .json::<Value>()
                                .await
                                .ok()
                                .and_then(|b| b["status"].as_str().map(str::to_owned))
                                .unwrap_or_default();
                            if status == "COMPLETED" || status == "FAILED" {
                                *ended.entry(status).or_default() += 1;
                            } else {
                                still.push((url, job));
                            }
                        }
                        Err(_) => {
                            tally.failed += 1;
                            still.push((url, job));
                        }
                    }
                }
                open = still;
                // After the load stops, give the last jobs time to end.
                if Instant::now() >= deadline
                    && (open.is_empty() || Instant::now() >= deadline + Duration::from_secs(30))
                {
                    return (tally, ended, open.len());
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };

    let mut lists = Tally::default();
    for reader in readers {
        lists.merge(reader.await.expect("reader"));
    }
    let mut streams = Streams::default();
    for subscriber in subscribers {
        let s = subscriber.await.expect("subscriber");
        streams.first_event.merge(s.first_event);
        streams.complete += s.complete;
        streams.error += s.error;
        streams.broken += s.broken;
        streams.events += s.events;
    }
    let (job_requests, jobs_ended, jobs_open) = jobs.await.expect("jobs");
    let _ = changes.await;
    let _ = sampler.await;
    let wall = started.elapsed();

    // Runs during the load (not the first sync, before it), with their mean duration.
    let runs: Vec<(String, i64, i64)> = {
        let mut conn = sqlx::AnyConnection::connect(&db_url).await.expect("db");
        let rows = sqlx::query_as(
            "SELECT status, COUNT(*), CAST(AVG(COALESCE(finished_at, started_at) - started_at) AS BIGINT) \
             FROM sync_runs WHERE started_at >= $1 GROUP BY status ORDER BY status",
        )
        .bind(load_started_ms)
        .fetch_all(&mut conn)
        .await
        .expect("runs");
        conn.close().await.expect("close");
        rows
    };
    let logged: Vec<String> = (0..instances)
        .flat_map(|n| {
            std::fs::read_to_string(dir.0.join(format!("instance-{n}.log")))
                .unwrap_or_default()
                .lines()
                .filter(|l| l.contains("ERROR"))
                .map(|l| format!("instance {}: {l}", n + 1))
                .collect::<Vec<_>>()
        })
        .collect();
    let logged_errors = logged.len();
    // The first few, to say what went wrong.
    for line in logged.iter().take(10) {
        eprintln!("{}", line.chars().take(400).collect::<String>());
    }
    drop(servers);
    drop(sim);
    drop_database(&args.database_url, &db_name).await;

    let total_requests = lists.count() + streams.first_event.count() + job_requests.count();
    let total_5xx =
        lists.server_errors() + streams.first_event.server_errors() + job_requests.server_errors();
    let total_failed = lists.failed + streams.first_event.failed + job_requests.failed;
    let other_than_ok: BTreeMap<u16, u64> = [&lists, &streams.first_event, &job_requests]
        .iter()
        .flat_map(|t| t.statuses.iter())
        .filter(|(s, _)| !(200..300).contains(*s))
        .fold(BTreeMap::new(), |mut all, (s, n)| {
            *all.entry(*s).or_default() += n;
            all
        });
    lists.latencies.sort();
    streams.first_event.latencies.sort();
    let secs = wall.as_secs_f64();

    let mut out = String::new();
    out.push_str(&format!(
        "| {instances} | {} | {:.0} req/s | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {} | {} / {} / {} | {:.1} ms | {} | {} of {} | {} |\n",
        lists.count(),
        lists.count() as f64 / secs,
        percentile(&lists.latencies, 0.50),
        percentile(&lists.latencies, 0.95),
        percentile(&lists.latencies, 0.99),
        lists.latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        streams.complete + streams.error + streams.broken,
        streams.complete,
        streams.error,
        streams.broken,
        percentile(&streams.first_event.latencies, 0.99),
        runs.iter()
            .map(|(s, n, ms)| format!("{n} {s} ({:.1} s each)", *ms as f64 / 1000.0))
            .collect::<Vec<_>>()
            .join(", "),
        jobs_ended.values().sum::<u64>(),
        jobs_submitted.load(Ordering::Relaxed),
        jobs_ended
            .iter()
            .map(|(s, n)| format!("{n} {s}"))
            .chain((jobs_open > 0).then(|| format!("{jobs_open} unfinished")))
            .collect::<Vec<_>>()
            .join(", "),
    ));
    let samples = rss.lock().await;
    let mut memory = String::new();
    for instance in 0..instances {
        let at = |t: f64| {
            samples
                .iter()
                .rfind(|(s, _)| *s <= t + 0.5)
                .map_or(0.0, |(_, v)| v[instance])
        };
        let values: Vec<f64> = samples.iter().map(|(_, v)| v[instance]).collect();
        let checkpoints: Vec<String> = (1..=6)
            .map(|k| {
                format!(
                    "{:.0} MiB",
                    at(args.duration_secs as f64 * f64::from(k) / 6.0)
                )
            })
            .collect();
        memory.push_str(&format!(
            "| {instances} | {} | {} | {:.0} MiB | {:.0} MiB |\n",
            instance + 1,
            checkpoints.join(" | "),
            values.iter().copied().fold(f64::INFINITY, f64::min),
            values.iter().copied().fold(0.0, f64::max),
        ));
    }
    let summary = format!(
        "{instances} instance(s): {total_requests} requests, {total_5xx} answered 5xx, {total_failed} unanswered, \
         other non-2xx {other_than_ok:?}, {} stream events, {logged_errors} ERROR lines in the servers' logs\n",
        streams.events
    );
    Report {
        row: out,
        memory,
        summary,
    }
}

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut rows = String::new();
    let mut memory = String::new();
    let mut summaries = String::new();
    for &instances in &args.instances {
        eprintln!(
            "running with {instances} instance(s) for {} s…",
            args.duration_secs
        );
        let report = runtime.block_on(run(&args, instances));
        rows.push_str(&report.row);
        memory.push_str(&report.memory);
        summaries.push_str(&report.summary);
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{} list clients, {} sync-stream subscribers, {} s, {} programs, Yelp at {} ms a request\n",
        args.clients, args.subscribers, args.duration_secs, args.programs, args.latency_ms
    );
    let _ = writeln!(
        out,
        "| instances | list requests | throughput | p50 | p95 | p99 | max | streams | complete / error / broken | first event p99 | sync runs | jobs ended | job outcomes |"
    );
    let _ = writeln!(
        out,
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---|---|"
    );
    let _ = write!(out, "{rows}");
    let d = args.duration_secs as f64 / 6.0;
    let _ = writeln!(
        out,
        "\n| instances | instance | RSS at {:.0} s | {:.0} s | {:.0} s | {:.0} s | {:.0} s | {:.0} s | min | max |",
        d,
        2.0 * d,
        3.0 * d,
        4.0 * d,
        5.0 * d,
        6.0 * d
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let _ = write!(out, "{memory}");
    let _ = write!(out, "\n{summaries}");
}
