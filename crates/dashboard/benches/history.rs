//! History benchmark: what recording programs' history costs a sync, and how fast a business's history
//! reads back from a large table. `cargo bench -p dashboard --bench history [-- --changed 10000 --entries
//! 1000000 --businesses 1000 --queries 200]`.
//!
//! Recording: a simulator (0 ms a request, no capacity limit) with enough programs for `--changed` CPC
//! programs is synced once; then, in each of three rounds and side by side, the `--changed` programs are
//! changed at the simulator in a field the history does not record (spend), and synced — the same rewrite
//! of the mirror with no history — and in one it records (budget), and synced — each change one history
//! entry. The median walls and the difference are printed.
//!
//! Reading: `--entries` history entries spread over `--businesses` businesses and a year are written, then
//! `--queries` reads of the newest 100 entries of a random business, through the store and through
//! `GET /api/reseller/history?business_id=…` (which also names the businesses); p50 and p95 are printed.

// Benchmarks stop at a broken set-up; the workspace denies unwrap and expect elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use clap::Parser;
use dashboard::jobs::JobOptions;
use dashboard::store::{HistoryFilter, now_ms};
use dashboard::sync::SyncOptions;
use serde_json::Value;
use yelp_sim::{ProgramPatch, SimConfig};

#[derive(Parser)]
struct Args {
    /// CPC programs changed before each measured sync.
    #[arg(long, default_value_t = 10_000)]
    changed: usize,
    /// History entries written for the reads.
    #[arg(long, default_value_t = 1_000_000)]
    entries: u64,
    /// Businesses they are spread over.
    #[arg(long, default_value_t = 1000)]
    businesses: u64,
    /// Reads measured.
    #[arg(long, default_value_t = 200)]
    queries: usize,
    #[arg(long, hide = true)]
    bench: bool,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1000.0
}

fn median(mut walls: Vec<Duration>) -> Duration {
    walls.sort();
    walls[walls.len() / 2]
}

async fn sync(server: &support::BenchServer) -> Duration {
    let started = Instant::now();
    let response = server
        .http
        .post(format!("{}/api/reseller/programs/sync", server.url))
        .header("cookie", &server.cookie)
        .header("x-csrf-token", &server.csrf)
        .send()
        .await
        .expect("sync");
    assert!(
        response.status().is_success(),
        "sync: {}",
        response.status()
    );
    // The answer is the run's final event, once the run has ended.
    let body = response.text().await.expect("sync answer");
    assert!(body.contains("complete"), "the sync completed: {body:.400}");
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    // About 45 % of the simulator's programs are CPC: seed enough for `--changed` of them.
    let programs = args.changed * 9 / 4;
    let server = support::start(
        "history",
        SimConfig {
            programs,
            businesses: (programs / 6).max(1),
            latency_ms: 0,
            ..SimConfig::default()
        },
        SyncOptions::default(),
        JobOptions::default(),
    )
    .await;
    let first = sync(&server).await;
    let cpc: Vec<(String, i64, i64)> = server
        .sim
        .state()
        .programs()
        .into_iter()
        .filter_map(|p| {
            let m = p.program_metrics.as_ref()?;
            Some((p.program_id.clone(), m.budget, m.ad_cost))
        })
        .take(args.changed)
        .collect();
    assert_eq!(cpc.len(), args.changed, "enough CPC programs to change");
    println!(
        "history bench: {programs} programs ({} CPC changed each time), first sync {} ms",
        cpc.len(),
        first.as_millis()
    );

    let (mut untracked, mut tracked) = (Vec::new(), Vec::new());
    for round in 1..=3i64 {
        for (id, _, spend) in &cpc {
            let patch = ProgramPatch {
                ad_cost: Some(spend + round),
                ..ProgramPatch::default()
            };
            server.sim.state().patch_program(id, &patch).expect("patch");
        }
        untracked.push(sync(&server).await);
        for (id, budget, _) in &cpc {
            let patch = ProgramPatch {
                budget: Some(budget + 100 * round),
                ..ProgramPatch::default()
            };
            server.sim.state().patch_program(id, &patch).expect("patch");
        }
        tracked.push(sync(&server).await);
    }
    let (without, with) = (median(untracked), median(tracked));
    let store = &server.state.store;
    let ws = &server.workspace_id;
    let (recorded, _) = store
        .history(
            ws,
            &HistoryFilter {
                limit: 1000,
                ..HistoryFilter::default()
            },
        )
        .await
        .expect("history");
    assert!(!recorded.is_empty(), "the budget syncs recorded history");
    println!(
        "| sync rewriting {} programs | median wall of 3 |",
        cpc.len()
    );
    println!("|---|---:|");
    println!(
        "| spend changed (no history) | {} ms |",
        without.as_millis()
    );
    println!(
        "| budget changed ({} history entries a sync) | {} ms |",
        cpc.len(),
        with.as_millis()
    );
    println!(
        "| recording the history adds | {:+.1} % |",
        (with.as_secs_f64() / without.as_secs_f64() - 1.0) * 100.0
    );

    let seeding = Instant::now();
    store
        .seed_history(
            ws,
            args.entries,
            args.businesses,
            now_ms(),
            365 * 24 * 60 * 60 * 1000,
        )
        .await
        .expect("seed");
    println!(
        "\nwrote {} history entries over {} businesses in {} ms",
        args.entries,
        args.businesses,
        seeding.elapsed().as_millis()
    );
    let (mut direct, mut http) = (Vec::new(), Vec::new());
    for _ in 0..args.queries {
        let business = format!("bench_business_{}", fastrand::u64(..args.businesses));
        let started = Instant::now();
        let (entries, _) = store
            .history(
                ws,
                &HistoryFilter {
                    business_id: Some(business.clone()),
                    limit: 100,
                    ..HistoryFilter::default()
                },
            )
            .await
            .expect("history");
        direct.push(started.elapsed());
        assert_eq!(entries.len(), 100, "each business has more than a page");
        let started = Instant::now();
        let body: Value = server
            .http
            .get(format!(
                "{}/api/reseller/history?business_id={business}&limit=100",
                server.url
            ))
            .header("cookie", &server.cookie)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json");
        http.push(started.elapsed());
        assert_eq!(body["entries"].as_array().map(Vec::len), Some(100));
    }
    direct.sort();
    http.sort();
    println!(
        "| newest 100 of one business, over {} entries | p50 | p95 |",
        args.entries
    );
    println!("|---|---:|---:|");
    println!(
        "| store | {:.1} ms | {:.1} ms |",
        percentile(&direct, 0.5),
        percentile(&direct, 0.95)
    );
    println!(
        "| GET /api/reseller/history | {:.1} ms | {:.1} ms |",
        percentile(&http, 0.5),
        percentile(&http, 0.95)
    );
}
