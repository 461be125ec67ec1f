//! API benchmark: program-list latency under concurrent clients over a large mirror, the replaced
//! system's `all=true` list (10,000 programs in one streamed answer) over the same mirror, the CSV export
//! of every program, and one sync
//! fanned out to many SSE subscribers. `cargo bench -p dashboard --bench api [-- --programs 100000 --clients 50
//! --requests 40 --subscribers 500]`.
//!
//! The mirror is filled by a real sync from the simulator; the server runs on port 0 in this process and
//! the clients talk to it over HTTP, as a browser would.

// Benchmarks stop at a broken set-up; the workspace denies unwrap and expect elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use dashboard::jobs::JobOptions;
use dashboard::sync::{SyncOptions, Trigger, sync_to_end};
use serde_json::Value;
use support::BenchServer;

#[derive(Parser)]
struct Args {
    /// Programs in the mirror for the list benchmark.
    #[arg(long, default_value_t = 100_000)]
    programs: usize,
    /// Concurrent list clients.
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// Requests per client and query shape.
    #[arg(long, default_value_t = 20)]
    requests: usize,
    /// SSE subscribers of one sync.
    #[arg(long, default_value_t = 500)]
    subscribers: usize,
    #[arg(long, hide = true)]
    bench: bool,
}

/// A server over a SQLite mirror of `programs` programs (synced from the simulator when `presync`).
async fn server(programs: usize, latency_ms: u64, presync: bool) -> BenchServer {
    let sim = yelp_sim::SimConfig {
        programs,
        businesses: (programs / 6).clamp(300, 20_000),
        latency_ms,
        page_size_max: 40,
        ..yelp_sim::SimConfig::default()
    };
    let engine = SyncOptions {
        page_size: 40,
        ..SyncOptions::default()
    };
    let server = support::start("api", sim, engine, JobOptions::default()).await;
    if presync {
        let started = Instant::now();
        let last = sync_to_end(
            &server.state.engine,
            &server.workspace_id,
            server.yelp_client(),
            Trigger::Cli,
        )
        .await
        .expect("sync");
        eprintln!(
            "mirror of {programs} programs synced in {:.1} s: {last:?}",
            started.elapsed().as_secs_f64()
        );
    }
    server
}

/// `GET path` as the signed-in operator, asserting a success.
async fn get(server: &BenchServer, path: &str) -> reqwest::Response {
    let response = server
        .http
        .get(format!("{}{path}", server.url))
        .header("cookie", &server.cookie)
        .send()
        .await
        .expect("request");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1000.0
}

/// Part of a business name of the mirror that several businesses share: the first word of the name of the
/// business in the middle of the list by name (a search such as an agency types into the programs search).
async fn name_fragment(server: &BenchServer) -> String {
    let page: Value = get(server, "/api/reseller/businesses?limit=1&offset=500")
        .await
        .json()
        .await
        .expect("JSON");
    let name = page["businesses"][0]["name"]
        .as_str()
        .expect("a named business");
    name.split_whitespace()
        .next()
        .unwrap_or(name)
        .to_lowercase()
}

async fn list_benchmark(args: &Args, server: &Arc<BenchServer>) {
    let fragment = name_fragment(server).await;
    // (path and query, label, pages of 50 the clients ask for): lists are paged through; a search is
    // asked for its first page, as the search box and the pickers do.
    let shapes: Vec<(String, String, usize)> = vec![
        (
            "/api/reseller/programs?status=CURRENT&sort=budget&order=desc".into(),
            "current, by budget".into(),
            20,
        ),
        (
            "/api/reseller/programs?program_type=CPC&status=ALL&sort=start_date&order=desc".into(),
            "CPC, by start date".into(),
            20,
        ),
        (
            "/api/reseller/programs?status=PAUSED&sort=ad_cost&order=desc".into(),
            "paused, by spend".into(),
            20,
        ),
        (
            "/api/reseller/programs?search=ab&sort=program_id".into(),
            "search 'ab'".into(),
            20,
        ),
        (
            format!("/api/reseller/programs?search={fragment}&sort=program_id"),
            format!("search by business name '{fragment}'"),
            1,
        ),
        (
            "/api/reseller/businesses?sort=spend&order=desc".into(),
            "businesses, by spend".into(),
            20,
        ),
        (
            format!("/api/reseller/businesses?search={fragment}"),
            format!("businesses, search '{fragment}'"),
            1,
        ),
    ];
    println!(
        "| query (limit 50; pages 1–20 of it, a search its first) | first ask (computes the view) | then, 50 clients: requests | p50 | p95 | p99 | max | throughput |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (query, label, pages) in shapes {
        // The first ask computes the view (every matching id, sorted) from the database; later pages of it
        // are slices of that, until the mirror changes.
        let t = Instant::now();
        let body = get(
            server,
            &format!(
                "{query}&limit=50&offset={}",
                if pages > 1 { 5000 } else { 0 }
            ),
        )
        .await
        .bytes()
        .await
        .expect("body");
        if pages == 1 {
            let answer: Value = serde_json::from_slice(&body).expect("JSON");
            eprintln!(
                "{label}: {} matches",
                answer
                    .get("total_count")
                    .or(answer.get("total"))
                    .unwrap_or(&Value::Null)
            );
        }
        let first_ask = t.elapsed();
        let started = Instant::now();
        let mut tasks = Vec::new();
        for client in 0..args.clients {
            let server = server.clone();
            let requests = args.requests;
            let query = query.clone();
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(requests);
                for i in 0..requests {
                    let offset = ((client * 7 + i * 13) % pages) * 50;
                    let path = format!("{query}&limit=50&offset={offset}");
                    let t = Instant::now();
                    let response = get(&server, &path).await;
                    // Read, not parsed: the figure is the server's answer time (a browser parses it later).
                    let body = response.bytes().await.expect("body");
                    latencies.push(t.elapsed());
                    assert!(body.starts_with(b"{"));
                }
                latencies
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.expect("client"));
        }
        let wall = started.elapsed();
        all.sort();
        println!(
            "| {label} | {:.1} ms | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.0} req/s |",
            first_ask.as_secs_f64() * 1000.0,
            all.len(),
            percentile(&all, 0.50),
            percentile(&all, 0.95),
            percentile(&all, 0.99),
            all.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
            all.len() as f64 / wall.as_secs_f64(),
        );
    }
}

/// One `all=true` answer read to its end (not parsed): the time to its first bytes (the status and the
/// head), to its last byte, and the answer.
async fn full_list_ask(server: &BenchServer, query: &str) -> (Duration, Duration, Vec<u8>) {
    let t = Instant::now();
    let mut response = get(server, &format!("/api/reseller/programs?{query}")).await;
    let mut body = Vec::new();
    let mut first_bytes = None;
    while let Some(chunk) = response.chunk().await.expect("chunk") {
        first_bytes.get_or_insert_with(|| t.elapsed());
        body.extend_from_slice(&chunk);
    }
    let whole = t.elapsed();
    (first_bytes.unwrap_or(whole), whole, body)
}

/// `all=true` as the replaced system's frontend asks it, one request at a time: the first ask (which
/// computes the view), then `ASKS` more.
async fn full_list_benchmark(server: &BenchServer) {
    const ASKS: usize = 10;
    let shapes = [
        (
            "all=true&program_status=ALL&offset=0&limit=10000",
            "all programs (the old frontend's ask)",
        ),
        (
            "all=true&program_status=CURRENT&offset=0&limit=10000",
            "current programs",
        ),
    ];
    println!(
        "| all=true over {} programs | first ask: first bytes | first ask: whole body | then {ASKS} asks: first bytes p50 | whole body min | p50 | max | programs | body | loaded_all | total_count |",
        server_programs(server).await
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|");
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    for (query, label) in shapes {
        let (first_bytes, whole, body) = full_list_ask(server, query).await;
        let answer: Value = serde_json::from_slice(&body).expect("JSON");
        let mut firsts = Vec::with_capacity(ASKS);
        let mut wholes = Vec::with_capacity(ASKS);
        for _ in 0..ASKS {
            let (first, all, _) = full_list_ask(server, query).await;
            firsts.push(first);
            wholes.push(all);
        }
        firsts.sort();
        wholes.sort();
        println!(
            "| {label} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {} | {:.1} MB | {} | {} |",
            ms(first_bytes),
            ms(whole),
            percentile(&firsts, 0.5),
            ms(wholes[0]),
            percentile(&wholes, 0.5),
            ms(wholes[ASKS - 1]),
            answer["programs"].as_array().map_or(0, Vec::len),
            body.len() as f64 / 1e6,
            answer["loaded_all"],
            answer["total_count"],
        );
    }
}

/// This process's resident memory now (the server runs in it), in MB.
fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// `GET /api/reseller/programs.csv` of every program, read as it streams (not kept): the time to its last
/// byte, its rows, and the process's resident memory before and at most while it streamed.
async fn csv_benchmark(server: &BenchServer) {
    println!(
        "| CSV export over {} programs | first bytes | whole file | rows | size | RSS before | RSS peak while streaming |",
        server_programs(server).await
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (query, label) in [
        ("", "every program"),
        ("?status=CURRENT", "current programs"),
    ] {
        let before = rss_mb();
        let t = Instant::now();
        let mut response = get(server, &format!("/api/reseller/programs.csv{query}")).await;
        let (mut first, mut bytes, mut lines, mut peak) = (None, 0usize, 0usize, before);
        while let Some(chunk) = response.chunk().await.expect("chunk") {
            first.get_or_insert_with(|| t.elapsed());
            bytes += chunk.len();
            lines += chunk.iter().filter(|b| **b == b'\n').count();
            peak = peak.max(rss_mb());
        }
        let whole = t.elapsed();
        println!(
            "| {label} | {:.1} ms | {:.0} ms | {} | {:.1} MB | {before:.0} MB | {peak:.0} MB |",
            first.unwrap_or(whole).as_secs_f64() * 1000.0,
            whole.as_secs_f64() * 1000.0,
            lines.saturating_sub(1),
            bytes as f64 / 1e6,
        );
    }
}

async fn server_programs(server: &BenchServer) -> u64 {
    server
        .state
        .store
        .count_live_programs(&server.workspace_id)
        .await
        .expect("count")
}

/// Every subscriber asks for the sync stream at once; all must join one run and receive every event.
async fn fanout_benchmark(args: &Args) {
    // Demo-like latency, so that the run lasts while all subscribers connect.
    let server = Arc::new(server(1900, 250, false).await);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.subscribers {
        let server = server.clone();
        tasks.push(tokio::spawn(async move {
            let response = server
                .http
                .post(format!("{}/api/reseller/programs/sync-stream", server.url))
                .header("cookie", &server.cookie)
                .header("x-csrf-token", &server.csrf)
                .send()
                .await
                .expect("stream");
            let events = support::sse::SseReader::new(response).rest().await;
            let ids: Vec<String> = events.iter().filter_map(|e| e.id.clone()).collect();
            let run_id = events
                .first()
                .and_then(|e| e.data["run_id"].as_str())
                .unwrap_or_default()
                .to_owned();
            let last = events.last().map(|e| e.data.clone()).unwrap_or_default();
            (ids, last, run_id)
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("subscriber"));
    }
    let wall = started.elapsed();
    let reference = &results[0];
    let identical = results.iter().filter(|r| *r == reference).count();
    let one_run = results.iter().all(|r| r.2 == reference.2);
    let complete = reference.1["type"] == "complete";
    let contiguous = reference
        .0
        .iter()
        .enumerate()
        .all(|(i, id)| *id == (i + 1).to_string());
    println!(
        "| subscribers | one run | events each | identical sequences | ends with complete | ids 1..n | wall |"
    );
    println!("|---:|---|---:|---|---|---|---:|");
    println!(
        "| {} | {one_run} | {} | {} of {} | {complete} | {contiguous} | {:.2} s |",
        args.subscribers,
        reference.0.len(),
        identical,
        results.len(),
        wall.as_secs_f64()
    );
}

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let big = Arc::new(server(args.programs, 0, true).await);
        list_benchmark(&args, &big).await;
        println!();
        full_list_benchmark(&big).await;
        println!();
        csv_benchmark(&big).await;
        drop(big);
        println!();
        fanout_benchmark(&args).await;
    });
}
