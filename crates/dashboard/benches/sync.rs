//! Sync benchmark: wall time against the floor that concurrency allows, peak memory, and rows written by a
//! re-sync. Run `cargo bench -p dashboard --bench sync` for the standard cases, or one case with
//! `cargo bench -p dashboard --bench sync -- case --programs 1900 --latency-ms 100 [--page-size 20]
//! [--concurrency 8] [--resync]`.
//!
//! Each case runs in a process of its own, so that its peak memory (VmHWM) is its own; the simulator runs
//! in a child process, so that its memory is not counted.

// Benchmarks stop at a broken set-up; the workspace denies unwrap and expect elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use dashboard::store::{Store, new_id, now_ms};
use dashboard::sync::{SyncEngine, SyncEvent, SyncOptions, Trigger, sync_to_end};
use serde::{Deserialize, Serialize};
use yelp_partner_api::{Client, ClientConfig, SecretString};

#[derive(Parser)]
struct Bench {
    #[command(subcommand)]
    role: Option<Role>,
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
    #[arg(long, default_value_t = 20)]
    page_size: u32,
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Sync a second time with nothing changed and count the rows it wrote.
    #[arg(long)]
    resync: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct CaseResult {
    case: CaseArgs,
    pages: u64,
    floor_ms: f64,
    wall_ms: f64,
    peak_rss_mb: f64,
    resync_ms: Option<f64>,
    resync_rows_written: Option<u64>,
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
        None => run_suite(),
    }
}

fn run_suite() -> ExitCode {
    let cases = [
        CaseArgs {
            programs: 1900,
            latency_ms: 100,
            page_size: 20,
            concurrency: 8,
            resync: false,
        },
        CaseArgs {
            programs: 1900,
            latency_ms: 250,
            page_size: 20,
            concurrency: 8,
            resync: false,
        },
        CaseArgs {
            programs: 100_000,
            latency_ms: 0,
            page_size: 20,
            concurrency: 8,
            resync: true,
        },
        CaseArgs {
            programs: 100_000,
            latency_ms: 0,
            page_size: 40,
            concurrency: 8,
            resync: true,
        },
    ];
    println!(
        "| programs | latency | page size | concurrency | pages | floor | wall | wall / floor | peak RSS | no-change re-sync | rows written by re-sync |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for case in cases {
        let exe = std::env::current_exe().expect("own path");
        let mut command = Command::new(exe);
        command.args([
            "case",
            "--programs",
            &case.programs.to_string(),
            "--latency-ms",
            &case.latency_ms.to_string(),
            "--page-size",
            &case.page_size.to_string(),
            "--concurrency",
            &case.concurrency.to_string(),
        ]);
        if case.resync {
            command.arg("--resync");
        }
        let output = command
            .stderr(Stdio::inherit())
            .output()
            .expect("case runs");
        let Ok(result) = serde_json::from_slice::<CaseResult>(&output.stdout) else {
            eprintln!(
                "case {case:?} failed: {}",
                String::from_utf8_lossy(&output.stdout)
            );
            return ExitCode::FAILURE;
        };
        let ratio = if result.floor_ms > 0.0 {
            format!("{:.2}×", result.wall_ms / result.floor_ms)
        } else {
            "—".into()
        };
        println!(
            "| {} | {} ms | {} | {} | {} | {:.0} ms | {:.0} ms | {ratio} | {:.0} MB | {} | {} |",
            case.programs,
            case.latency_ms,
            case.page_size,
            case.concurrency,
            result.pages,
            result.floor_ms,
            result.wall_ms,
            result.peak_rss_mb,
            result
                .resync_ms
                .map_or("—".into(), |ms| format!("{ms:.0} ms")),
            result
                .resync_rows_written
                .map_or("—".into(), |n| n.to_string()),
        );
    }
    ExitCode::SUCCESS
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
        config.timeout = Duration::from_secs(60);
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
        let last = sync_to_end(&engine, &workspace.id, client.clone(), Trigger::Cli)
            .await
            .expect("sync ends");
        let wall = started.elapsed();
        assert!(
            matches!(last, SyncEvent::Complete { added, .. } if added == case.programs),
            "{last:?}"
        );
        let mut peak = peak_rss_mb();

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
        let rounds = 1 + (pages.saturating_sub(1)).div_ceil(case.concurrency as u64);
        CaseResult {
            floor_ms: (rounds * case.latency_ms) as f64,
            pages,
            wall_ms: wall.as_secs_f64() * 1000.0,
            peak_rss_mb: peak,
            resync_ms,
            resync_rows_written,
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
