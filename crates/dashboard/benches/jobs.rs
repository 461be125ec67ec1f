//! Job benchmark: the time from Yelp completing a job to the status endpoint showing COMPLETED.
//! `cargo bench -p dashboard --bench jobs [-- --jobs 20 --job-seconds 3 --first-check-ms 1000
//! --growth 1.5 --max-interval-ms 15000]`.
//!
//! The simulator completes a job exactly `job_seconds` after accepting it; the simulator's own
//! `completed_at` is only to the second, so Yelp's completion is taken as the moment the create was sent
//! plus `job_seconds`, which makes every figure an upper bound (by the request's own latency). A client
//! polls the status endpoint every 10 ms, as a page would (more often than any page does).

// Benchmarks stop at a broken set-up; the workspace denies unwrap and expect elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use clap::Parser;
use dashboard::jobs::JobOptions;
use dashboard::sync::SyncOptions;
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

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn run(args: &Args) {
    let options = JobOptions {
        first_check: Duration::from_millis(args.first_check_ms),
        growth: args.growth,
        max_interval: Duration::from_millis(args.max_interval_ms),
        ..JobOptions::default()
    };
    let sim_config = yelp_sim::SimConfig {
        programs: 100,
        businesses: 300,
        job_seconds: args.job_seconds,
        ..yelp_sim::SimConfig::default()
    };
    let mut server =
        support::start("jobs", sim_config, SyncOptions::default(), options.clone()).await;
    let watcher = server.watcher.take().expect("the server's watcher");
    let (sim, http, url) = (&server.sim, server.http.clone(), server.url.clone());
    let (cookie, csrf) = (server.cookie.clone(), server.csrf.clone());
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
