//! Job benchmark: the time from Yelp completing a job to the status endpoint showing COMPLETED.
//! `cargo bench -p dashboard --bench jobs [-- --jobs 20 --job-seconds 3 --first-check-ms 1000
//! --growth 1.5 --max-interval-ms 15000]`.
//!
//! The simulator completes a job exactly `job_seconds` after accepting it; the simulator's own
//! `completed_at` is only to the second, so Yelp's completion is taken as the moment the create was sent
//! plus `job_seconds`, which makes every figure an upper bound (by the request's own latency). A client
//! polls the status endpoint every 10 ms, as a page would (more often than any page does).

use std::time::{Duration, Instant};

use clap::Parser;
use dashboard::auth::hash_password;
use dashboard::jobs::JobOptions;
use dashboard::secrets::SecretBox;
use dashboard::store::{Role, Store, new_id};
use dashboard::sync::{SyncEngine, SyncOptions};
use dashboard::web::{AppState, Application};
use serde_json::{Value, json};

#[derive(Parser)]
struct Args {
    /// Jobs measured.
    #[arg(long, default_value_t = 20)]
    jobs: usize,
    /// How long the simulator takes per job, in seconds.
    #[arg(long, default_value_t = 3.0)]
    job_seconds: f64,
    /// Job i of n takes `job_seconds + spread_seconds * i / (n - 1)`: Yelp's jobs vary (22–58 s live), and
    /// how long a job waits for its next check depends on where its end falls between two checks.
    #[arg(long, default_value_t = 0.0)]
    spread_seconds: f64,
    /// The watcher's first check after submission, ms.
    #[arg(long, default_value_t = 1000)]
    first_check_ms: u64,
    /// Growth of the interval between checks.
    #[arg(long, default_value_t = 1.5)]
    growth: f64,
    /// Longest interval between checks, ms.
    #[arg(long, default_value_t = 2_000)]
    max_interval_ms: u64,
    #[arg(long, hide = true)]
    bench: bool,
}

struct TempDir(std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn run(args: &Args) {
    let dir = TempDir(std::env::temp_dir().join(format!("yelp-ads-jobs-bench-{}", new_id())));
    std::fs::create_dir_all(&dir.0).expect("temp dir");
    let store = Store::connect(&format!("sqlite://{}", dir.0.join("bench.db").display()))
        .await
        .expect("db");
    store.migrate().await.expect("migrate");
    let sim = yelp_sim::spawn(yelp_sim::SimConfig {
        bind: "127.0.0.1:0".parse().expect("addr"),
        programs: 100,
        businesses: 300,
        job_seconds: args.job_seconds,
        username: "bench".into(),
        password: "bench-partner".into(),
        ..yelp_sim::SimConfig::default()
    })
    .await
    .expect("simulator");
    let secrets = SecretBox::from_key_bytes([9; 32]);
    let ws = store
        .create_workspace(
            "Bench",
            &sim.base_url(),
            "bench",
            Some(&secrets.encrypt("bench-partner")),
        )
        .await
        .expect("workspace");
    store
        .create_user(
            &ws.id,
            "bench",
            &hash_password("bench-password").expect("hash"),
            Role::Operator,
        )
        .await
        .expect("user");
    let engine = SyncEngine::new(store.clone(), SyncOptions::default());
    let options = JobOptions {
        first_check: Duration::from_millis(args.first_check_ms),
        growth: args.growth,
        max_interval: Duration::from_millis(args.max_interval_ms),
        ..JobOptions::default()
    };
    let state = AppState::with_job_options(store, engine, secrets, false, options.clone());
    let watcher = state.jobs.spawn_watcher();
    let app = Application::bind("127.0.0.1:0".parse().expect("addr"), state)
        .await
        .expect("bind");
    let url = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until(std::future::pending(), Duration::from_secs(5)));
    yelp_partner_api::install_crypto_provider();
    let http = reqwest::Client::new();
    let login = http
        .post(format!("{url}/api/auth/login"))
        .json(&json!({"username": "bench", "password": "bench-password"}))
        .send()
        .await
        .expect("login");
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    let body: Value = login.json().await.expect("login body");
    let csrf = body["csrf_token"].as_str().unwrap_or_default().to_owned();
    let businesses: Value = http
        .get(format!("{}/_sim/businesses", sim.base_url()))
        .send()
        .await
        .expect("businesses")
        .json()
        .await
        .expect("businesses body");
    let active: Vec<String> = businesses["businesses"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|b| b["active"] == true)
        .filter_map(|b| b["yelp_business_id"].as_str().map(str::to_owned))
        .collect();

    let started = Instant::now();
    let mut waits = Vec::new();
    for i in 0..args.jobs {
        let job_seconds = if args.jobs > 1 {
            args.job_seconds + args.spread_seconds * i as f64 / (args.jobs - 1) as f64
        } else {
            args.job_seconds
        };
        // Submissions one after the other, so that each job gets its own duration.
        http.put(format!("{}/_sim/settings", sim.base_url()))
            .json(&json!({"job_seconds": job_seconds}))
            .send()
            .await
            .expect("settings");
        let business = active[i % active.len()].clone();
        let sent = Instant::now();
        let answer: Value = http
            .post(format!("{url}/api/reseller/program/create"))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&json!({"business_id": business, "program_name": "EP"}))
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("create body");
        let job_id = answer["job_id"].as_str().expect("job id").to_owned();
        let yelp_done = sent + Duration::from_secs_f64(job_seconds);
        let (http, url, cookie) = (http.clone(), url.clone(), cookie.clone());
        waits.push(tokio::spawn(async move {
            loop {
                let status: Value = http
                    .get(format!("{url}/api/reseller/status/{job_id}"))
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .expect("status")
                    .json()
                    .await
                    .expect("status body");
                match status["status"].as_str() {
                    Some("COMPLETED") => {
                        return Instant::now()
                            .saturating_duration_since(yelp_done)
                            .as_secs_f64();
                    }
                    Some("FAILED") => panic!("job failed: {status}"),
                    _ => tokio::time::sleep(Duration::from_millis(10)).await,
                }
            }
        }));
    }
    let mut lags = Vec::new();
    for wait in waits {
        lags.push(wait.await.expect("job task"));
    }
    lags.sort_by(f64::total_cmp);
    println!(
        "| jobs | Yelp job | first check | growth | cap | p50 | p95 | max | wall |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|\n\
         | {} | {:.1}–{:.1} s | {} ms | {} | {} ms | {:.0} ms | {:.0} ms | {:.0} ms | {:.1} s |",
        lags.len(),
        args.job_seconds,
        args.job_seconds + args.spread_seconds,
        args.first_check_ms,
        args.growth,
        args.max_interval_ms,
        percentile(&lags, 50.0) * 1000.0,
        percentile(&lags, 95.0) * 1000.0,
        lags.last().copied().unwrap_or_default() * 1000.0,
        started.elapsed().as_secs_f64(),
    );
    watcher.stop().await;
}

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(run(&args));
}
