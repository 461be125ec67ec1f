//! Sync benchmark: our sync side by side with two baselines on one simulator shape per row, against the
//! floor that Yelp's capacity allows; peak memory; rows written by a re-sync.
//!
//! `cargo bench -p dashboard --bench sync` prints the side-by-side table (1,900 and 10,000 programs at
//! capacity 10 and 250 ms, capacity 10 and 900 ms, capacity 4 and 250 ms, unlimited and 250 ms; one row at
//! the default rate budget; 100,000 programs at 0 ms). Options: `-- --programs 1900` (only that size),
//! `--sequential` (also run baseline (a) at 10,000 programs, which takes minutes a row). One case alone:
//! `-- case --programs 1900 --latency-ms 250 --capacity 10 [--algorithm ours|sequential|flood]
//! [--page-size 40] [--concurrency 64] [--rate-budget] [--resync]`.
//!
//! The baselines: (a) pages of 20 one at a time from offset 0, each written as it comes (the replaced
//! system's first sync); (b) the first page of 40, then every other page at once, then one bulk write (its
//! later sync). Each case runs in a process of its own, so that its peak memory (VmHWM) is its own; the
//! simulator runs in a child process, so that its memory is not counted.

// Benchmarks stop at a broken set-up; the workspace denies unwrap and expect elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use dashboard::store::{KnownBusinesses, MirrorWriter, Store, new_id, now_ms};
use dashboard::sync::{SyncEngine, SyncEvent, SyncOptions, Trigger, sync_to_end};
use serde::{Deserialize, Serialize};
use yelp_partner_api::{Client, ClientConfig, RateLimit, SecretString, StatusFilter};

#[derive(Parser)]
struct Bench {
    #[command(subcommand)]
    role: Option<Role>,
    /// Only rows of this many programs (the 100,000-program row aside).
    #[arg(long)]
    programs: Option<u64>,
    /// Run baseline (a) at 10,000 programs too (500 sequential pages: minutes a row).
    #[arg(long)]
    sequential: bool,
}

/// How a case lists Yelp.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
enum Algorithm {
    /// Our sync engine.
    Ours,
    /// Baseline (a): pages of 20, one at a time, each written as it comes.
    Sequential,
    /// Baseline (b): the first page of 40, then every other page at once, then one bulk write.
    Flood,
}

#[derive(Subcommand)]
enum Role {
    /// Run one case and print its result as JSON.
    Case(CaseArgs),
    /// Serve the simulator (the case's child process).
    Sim {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(Clone, Debug, clap::Args, Serialize, Deserialize)]
struct CaseArgs {
    #[arg(long)]
    programs: u64,
    #[arg(long)]
    latency_ms: u64,
    /// The simulator's parallel slots (0: unlimited).
    #[arg(long, default_value_t = 0)]
    capacity: usize,
    #[arg(long, value_enum, default_value_t = Algorithm::Ours)]
    algorithm: Algorithm,
    #[arg(long, default_value_t = 40)]
    page_size: u32,
    /// Our window's ceiling.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Apply the default rate budget (20 a second, burst 40).
    #[arg(long)]
    rate_budget: bool,
    /// Sync a second time with nothing changed and count the rows it wrote.
    #[arg(long)]
    resync: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct CaseResult {
    case: CaseArgs,
    pages: u64,
    floor_ms: f64,
    /// To the end of the listing (ours: its `listed` event).
    wall_ms: f64,
    /// Ours: from `listed` to `complete`, the phase that names the businesses.
    naming_ms: Option<f64>,
    peak_rss_mb: f64,
    resync_ms: Option<f64>,
    resync_rows_written: Option<u64>,
    /// The window our run settled on.
    settled_window: Option<i64>,
    /// The simulator's stats after the run.
    max_queue: u64,
    total_queue_wait_ms: u64,
    max_in_flight: u64,
}

fn main() -> ExitCode {
    // `cargo bench` adds `--bench`; it means nothing here.
    let args = std::env::args().filter(|a| a != "--bench");
    let bench = Bench::parse_from(args);
    match bench.role {
        Some(Role::Sim { args }) => serve_sim(args),
        Some(Role::Case(case)) => {
            let result = run_case(case);
            println!(
                "{}",
                serde_json::to_string(&result).expect("result serialises")
            );
            ExitCode::SUCCESS
        }
        None => run_suite(bench.programs, bench.sequential),
    }
}

/// Runs one case in a process of its own and reads its result.
fn run_in_child(case: &CaseArgs) -> Option<CaseResult> {
    let exe = std::env::current_exe().expect("own path");
    let mut command = Command::new(exe);
    command.args([
        "case",
        "--programs",
        &case.programs.to_string(),
        "--latency-ms",
        &case.latency_ms.to_string(),
        "--capacity",
        &case.capacity.to_string(),
        "--page-size",
        &case.page_size.to_string(),
        "--concurrency",
        &case.concurrency.to_string(),
        "--algorithm",
        match case.algorithm {
            Algorithm::Ours => "ours",
            Algorithm::Sequential => "sequential",
            Algorithm::Flood => "flood",
        },
    ]);
    if case.resync {
        command.arg("--resync");
    }
    if case.rate_budget {
        command.arg("--rate-budget");
    }
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .expect("case runs");
    let parsed = serde_json::from_slice::<CaseResult>(&output.stdout).ok();
    if parsed.is_none() {
        eprintln!(
            "case {case:?} failed: {}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
    parsed
}

fn case(programs: u64, latency_ms: u64, capacity: usize, algorithm: Algorithm) -> CaseArgs {
    CaseArgs {
        programs,
        latency_ms,
        capacity,
        algorithm,
        page_size: if algorithm == Algorithm::Sequential {
            20
        } else {
            40
        },
        concurrency: 64,
        rate_budget: false,
        resync: false,
    }
}

/// `(1 + ceil((pages − 1) / capacity)) × latency` with pages of 40; two rounds when the capacity is
/// unlimited.
fn floor_ms(programs: u64, latency_ms: u64, capacity: usize) -> f64 {
    let pages = programs.div_ceil(40).max(1);
    let rounds = if capacity == 0 {
        if pages > 1 { 2 } else { 1 }
    } else {
        1 + (pages - 1).div_ceil(capacity as u64)
    };
    (rounds * latency_ms) as f64
}

/// What naming the businesses added after our listing, and its share of the listing's wall.
fn naming(ours: &CaseResult) -> String {
    ours.naming_ms.map_or("—".into(), |n| {
        format!("+{} ({:.0} %)", ms(n), n / ours.wall_ms * 100.0)
    })
}

fn ms(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.1} s", v / 1000.0)
    } else {
        format!("{v:.0} ms")
    }
}

fn run_suite(only: Option<u64>, sequential_at_10k: bool) -> ExitCode {
    let shapes = [(10, 250), (10, 900), (4, 250), (0, 250)];
    println!(
        "| programs | capacity | latency | (a) sequential 20s | (b) first, then all at once | ours | then naming businesses | floor | ours ÷ floor | ours ÷ (b) | window | max queue ours / (b) | queue wait ours / (b) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut failed = false;
    for programs in [1900u64, 10_000] {
        if only.is_some_and(|n| n != programs) {
            continue;
        }
        for (capacity, latency) in shapes {
            let ours = run_in_child(&case(programs, latency, capacity, Algorithm::Ours));
            let flood = run_in_child(&case(programs, latency, capacity, Algorithm::Flood));
            let sequential = (programs < 10_000 || sequential_at_10k)
                .then(|| run_in_child(&case(programs, latency, capacity, Algorithm::Sequential)))
                .flatten();
            let (Some(ours), Some(flood)) = (ours, flood) else {
                failed = true;
                continue;
            };
            let floor = floor_ms(programs, latency, capacity);
            let sequential = sequential.map_or_else(
                || {
                    format!(
                        "≈ {} (not run)",
                        ms((programs.div_ceil(20) * latency) as f64)
                    )
                },
                |r| ms(r.wall_ms),
            );
            println!(
                "| {programs} | {} | {latency} ms | {sequential} | {} | **{}** | {} | {} | {:.2}× | {:.2}× | {} | {} / {} | {} / {} |",
                if capacity == 0 {
                    "unlimited".to_owned()
                } else {
                    capacity.to_string()
                },
                ms(flood.wall_ms),
                ms(ours.wall_ms),
                naming(&ours),
                ms(floor),
                ours.wall_ms / floor,
                ours.wall_ms / flood.wall_ms,
                ours.settled_window.map_or("—".into(), |w| w.to_string()),
                ours.max_queue,
                flood.max_queue,
                ms(ours.total_queue_wait_ms as f64),
                ms(flood.total_queue_wait_ms as f64),
            );
        }
    }
    // Ours alone at the default rate budget: the floor is the capacity's or the budget's, whichever binds.
    if only.is_none_or(|n| n == 1900) {
        let mut budget = case(1900, 250, 10, Algorithm::Ours);
        budget.rate_budget = true;
        if let Some(r) = run_in_child(&budget) {
            let pages = 1900u64.div_ceil(40);
            let by_rate = (pages.saturating_sub(40) as f64 / 20.0) * 1000.0 + 250.0;
            let floor = floor_ms(1900, 250, 10).max(by_rate);
            println!(
                "| 1900, rate budget 20/s burst 40 | 10 | 250 ms | — | — | **{}** | {} | {} | {:.2}× | — | {} | {} / — | {} / — |",
                ms(r.wall_ms),
                naming(&r),
                ms(floor),
                r.wall_ms / floor,
                r.settled_window.map_or("—".into(), |w| w.to_string()),
                r.max_queue,
                ms(r.total_queue_wait_ms as f64),
            );
        } else {
            failed = true;
        }
    }
    println!();
    println!(
        "| 100,000 programs, 0 ms, unlimited, SQLite | wall | then naming businesses | peak RSS | no-change re-sync | rows written by re-sync |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for algorithm in [Algorithm::Ours, Algorithm::Flood] {
        let mut big = case(100_000, 0, 0, algorithm);
        big.resync = algorithm == Algorithm::Ours;
        let Some(r) = run_in_child(&big) else {
            failed = true;
            continue;
        };
        println!(
            "| {} | {} | {} | {:.0} MB | {} | {} |",
            match algorithm {
                Algorithm::Ours => "ours",
                Algorithm::Flood => "(b) first, then all at once",
                Algorithm::Sequential => "(a) sequential",
            },
            ms(r.wall_ms),
            naming(&r),
            r.peak_rss_mb,
            r.resync_ms.map_or("—".into(), ms),
            r.resync_rows_written.map_or("—".into(), |n| n.to_string()),
        );
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The simulator child: serves until its parent closes our stdin.
fn serve_sim(args: Vec<String>) -> ExitCode {
    let config =
        yelp_sim::SimConfig::parse_from(std::iter::once("yelp-sim".to_owned()).chain(args));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let handle = yelp_sim::spawn(config).await.expect("simulator starts");
        println!("yelp-sim listening on {}", handle.base_url());
        tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            while std::io::stdin()
                .read_line(&mut sink)
                .map(|n| n > 0)
                .unwrap_or(false)
            {}
        })
        .await
        .ok();
    });
    ExitCode::SUCCESS
}

/// Kills the simulator child when the case ends, however it ends.
struct SimChild(Child);

impl Drop for SimChild {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_sim(case: &CaseArgs) -> (SimChild, String) {
    let exe = std::env::current_exe().expect("own path");
    let businesses = (case.programs / 6).clamp(300, 20_000);
    let mut child = Command::new(exe)
        .args([
            "sim",
            "--bind",
            "127.0.0.1:0",
            "--username",
            "bench",
            "--password",
            "bench",
        ])
        .args([
            "--programs",
            &case.programs.to_string(),
            "--businesses",
            &businesses.to_string(),
        ])
        .args([
            "--latency-ms",
            &case.latency_ms.to_string(),
            "--capacity",
            &case.capacity.to_string(),
            "--page-size-max",
            "100",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("simulator child starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("simulator prints its address");
    let url = line
        .trim()
        .trim_start_matches("yelp-sim listening on ")
        .to_owned();
    (SimChild(child), url)
}

fn run_case(case: CaseArgs) -> CaseResult {
    let (_sim, url) = start_sim(&case);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async move {
        let dir = std::env::temp_dir().join(format!("yelp-ads-bench-{}", new_id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let store = Store::connect(&format!("sqlite://{}", dir.join("bench.db").display()))
            .await
            .expect("database");
        store.migrate().await.expect("migrations");
        let workspace = store
            .workspace_for_credentials(&url, "bench")
            .await
            .expect("workspace");
        let mut config = ClientConfig::new(&url, "bench", SecretString::from("bench".to_owned()))
            .expect("config");
        config.timeout = Duration::from_secs(120);
        if case.rate_budget {
            config.rate_limit = Some(RateLimit::new(20.0, 40).expect("rate"));
        }
        let client = Client::new(config).expect("client");
        let engine = SyncEngine::new(
            store.clone(),
            SyncOptions {
                concurrency: case.concurrency,
                page_size: case.page_size,
                ..SyncOptions::default()
            },
        );

        let started = Instant::now();
        let mut listed_at = None;
        match case.algorithm {
            Algorithm::Ours => {
                // The program sync ends at `listed`; naming the businesses, which the baselines do not
                // do at all, follows and is timed apart.
                let mut events = engine.sync(&workspace.id, client.clone(), Trigger::Cli, None);
                let last = loop {
                    let event = events
                        .next()
                        .await
                        .expect("the sync ends with a final event")
                        .event;
                    if matches!(event, SyncEvent::Listed { .. }) {
                        listed_at = Some(started.elapsed());
                    }
                    if event.is_final() {
                        break event;
                    }
                };
                assert!(
                    matches!(last, SyncEvent::Complete { added, .. } if added == case.programs),
                    "{last:?}"
                );
            }
            Algorithm::Sequential => {
                let mut known = KnownBusinesses::default();
                let mut offset = 0;
                loop {
                    let page = client
                        .list_programs(StatusFilter::All, offset, case.page_size)
                        .await
                        .expect("page");
                    store
                        .write_program_page(
                            &workspace.id,
                            &page.programs,
                            &mut known,
                            now_ms(),
                            MirrorWriter::Refresh,
                        )
                        .await
                        .expect("write");
                    offset += u64::from(case.page_size);
                    if offset >= page.total {
                        break;
                    }
                }
            }
            Algorithm::Flood => {
                let size = case.page_size;
                let first = client
                    .list_programs(StatusFilter::All, 0, size)
                    .await
                    .expect("first page");
                let rest = (u64::from(size)..first.total)
                    .step_by(size as usize)
                    .map(|offset| {
                        let client = client.clone();
                        tokio::spawn(async move {
                            client.list_programs(StatusFilter::All, offset, size).await
                        })
                    })
                    .collect::<Vec<_>>();
                let mut entries = first.programs;
                for page in futures::future::join_all(rest).await {
                    entries.extend(page.expect("task").expect("page").programs);
                }
                // One bulk write, in statements of 400 rows (SQLite's limit on bound values).
                let mut known = KnownBusinesses::default();
                for chunk in entries.chunks(400) {
                    store
                        .write_listed_programs(
                            &workspace.id,
                            chunk,
                            &mut known,
                            now_ms(),
                            false,
                            MirrorWriter::Refresh,
                        )
                        .await
                        .expect("write");
                }
                store
                    .bump_mirror_version(&workspace.id)
                    .await
                    .expect("bump");
            }
        }
        let ended = started.elapsed();
        let wall = listed_at.unwrap_or(ended);
        let naming_ms = listed_at.map(|listed| (ended - listed).as_secs_f64() * 1000.0);
        let mut peak = peak_rss_mb();
        let stats: serde_json::Value = reqwest::get(format!("{url}/_sim/stats"))
            .await
            .expect("stats")
            .json()
            .await
            .expect("stats JSON");
        let settled_window = if case.algorithm == Algorithm::Ours {
            store
                .recent_sync_runs(&workspace.id, 1)
                .await
                .expect("runs")
                .first()
                .and_then(|r| r.settled_window)
        } else {
            None
        };

        let (resync_ms, resync_rows_written) = if case.resync {
            let since = now_ms();
            let started = Instant::now();
            let last = sync_to_end(&engine, &workspace.id, client, Trigger::Cli)
                .await
                .expect("re-sync ends");
            let elapsed = started.elapsed();
            assert!(matches!(last, SyncEvent::Complete { .. }), "{last:?}");
            peak = peak.max(peak_rss_mb());
            let written = store
                .count_programs_written_since(&workspace.id, since)
                .await
                .expect("count");
            (Some(elapsed.as_secs_f64() * 1000.0), Some(written))
        } else {
            (None, None)
        };
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);

        let pages = case.programs.div_ceil(u64::from(case.page_size));
        CaseResult {
            floor_ms: floor_ms(case.programs, case.latency_ms, case.capacity),
            pages,
            wall_ms: wall.as_secs_f64() * 1000.0,
            naming_ms,
            peak_rss_mb: peak,
            resync_ms,
            resync_rows_written,
            settled_window,
            max_queue: stats["max_queue"].as_u64().unwrap_or(0),
            total_queue_wait_ms: stats["total_queue_wait_ms"].as_u64().unwrap_or(0),
            max_in_flight: stats["max_in_flight"].as_u64().unwrap_or(0),
            case,
        }
    })
}

/// Peak resident memory of this process so far, from `/proc/self/status` (Linux).
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}
