//! Change-set benchmark: how long checking a large change set takes, and how fast posting one goes
//! against the workspace's Yelp rate limit. `cargo bench -p dashboard --bench change_sets [-- --check-items
//! 1000 --post-items 200 --yelp-rps 20 --latency-ms 100]`.
//!
//! Checking: a change set of `--check-items` programs (budget +10 %) is staged over HTTP, then checked
//! five times; the median and the slowest check are printed. Posting: `--post-items` current CPC
//! programs (budget +$5) are posted with Yelp limited to `--yelp-rps` (burst 10); the time from the post
//! to every item's job completed is printed with items per second, and the Yelp requests per second the
//! simulator served (the edits and their status checks share the one limit).

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
    /// Items of the change set checked.
    #[arg(long, default_value_t = 1000)]
    check_items: usize,
    /// Items of the change set posted.
    #[arg(long, default_value_t = 200)]
    post_items: usize,
    /// Yelp requests per second for the posting.
    #[arg(long, default_value_t = 20.0)]
    yelp_rps: f64,
    /// The simulator's latency per request, ms.
    #[arg(long, default_value_t = 100)]
    latency_ms: u64,
    #[arg(long, hide = true)]
    bench: bool,
}

struct Api<'a> {
    server: &'a support::BenchServer,
}

impl Api<'_> {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .server
            .http
            .request(method.clone(), format!("{}{path}", self.server.url))
            .header("cookie", &self.server.cookie);
        if method != reqwest::Method::GET {
            request = request.header("x-csrf-token", &self.server.csrf);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    async fn sync(&self) {
        self.call(reqwest::Method::POST, "/api/reseller/programs/sync", None)
            .await;
    }

    async fn ids(&self, query: &str, limit: usize) -> Vec<String> {
        let listed = self
            .call(
                reqwest::Method::GET,
                &format!("/api/reseller/programs?{query}&limit=500"),
                None,
            )
            .await;
        let mut ids: Vec<String> = listed["programs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["program_id"].as_str().unwrap().to_owned())
            .collect();
        let mut offset = ids.len();
        while ids.len() < limit && offset < listed["total_count"].as_u64().unwrap() as usize {
            let more = self
                .call(
                    reqwest::Method::GET,
                    &format!("/api/reseller/programs?{query}&limit=500&offset={offset}"),
                    None,
                )
                .await;
            let page = more["programs"].as_array().unwrap();
            offset += page.len();
            ids.extend(
                page.iter()
                    .map(|p| p["program_id"].as_str().unwrap().to_owned()),
            );
        }
        ids.truncate(limit);
        ids
    }
}

async fn checking(args: &Args) {
    let sim = yelp_sim::SimConfig {
        programs: args.check_items,
        businesses: args.check_items / 3 + 1,
        ..yelp_sim::SimConfig::default()
    };
    let server = support::start(
        "change-sets-check",
        sim,
        SyncOptions::default(),
        JobOptions::default(),
    )
    .await;
    let api = Api { server: &server };
    api.sync().await;
    let ids = api.ids("status=ALL", args.check_items).await;
    let started = Instant::now();
    let set = api
        .call(
            reqwest::Method::POST,
            "/api/reseller/change-sets",
            Some(json!({"program_ids": ids, "operation": {"kind": "budget_percent", "value": 10}})),
        )
        .await;
    let staged = started.elapsed();
    let id = set["id"].as_str().unwrap().to_owned();
    let mut checks = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let checked = api
            .call(
                reqwest::Method::POST,
                &format!("/api/reseller/change-sets/{id}/check"),
                None,
            )
            .await;
        checks.push(started.elapsed());
        assert_eq!(checked["counts"]["items"], ids.len());
    }
    checks.sort();
    println!(
        "check: {} items (SQLite): staged in {} ms; check median {} ms, slowest {} ms (target < 1000 ms); {}",
        ids.len(),
        staged.as_millis(),
        checks[2].as_millis(),
        checks[4].as_millis(),
        set["counts"]
    );
}

async fn posting(args: &Args) {
    let sim = yelp_sim::SimConfig {
        programs: args.post_items * 4,
        businesses: args.post_items + 1,
        latency_ms: args.latency_ms,
        job_seconds: 0.5,
        ..yelp_sim::SimConfig::default()
    };
    let server = support::start_limited(
        "change-sets-post",
        sim,
        SyncOptions::default(),
        JobOptions::default(),
        args.yelp_rps,
        10,
    )
    .await;
    let api = Api { server: &server };
    api.sync().await;
    let ids = api
        .ids("status=CURRENT&program_type=CPC", args.post_items)
        .await;
    let set = api
        .call(
            reqwest::Method::POST,
            "/api/reseller/change-sets",
            Some(json!({"program_ids": ids, "operation": {"kind": "budget_dollars", "value": 5}})),
        )
        .await;
    let id = set["id"].as_str().unwrap().to_owned();
    api.call(
        reqwest::Method::POST,
        &format!("/api/reseller/change-sets/{id}/check"),
        None,
    )
    .await;
    let stats_url = format!("{}/_sim/stats", server.sim.base_url());
    server.http.delete(&stats_url).send().await.expect("reset");
    let started = Instant::now();
    api.call(
        reqwest::Method::POST,
        &format!("/api/reseller/change-sets/{id}/post"),
        None,
    )
    .await;
    let done = loop {
        let now = api
            .call(
                reqwest::Method::GET,
                &format!("/api/reseller/change-sets/{id}"),
                None,
            )
            .await;
        if now["state"] == "done" {
            break now;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1800),
            "posting ends"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let elapsed = started.elapsed().as_secs_f64();
    let stats: Value = server
        .http
        .get(&stats_url)
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("stats body");
    let requests: u64 = stats["requests"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_u64)
        .sum();
    println!(
        "post: {} items at --yelp-rps {} (burst 10, {} ms a request): {elapsed:.1} s to all done, {:.1} items/s, \
         {requests} Yelp requests = {:.1}/s; {}",
        ids.len(),
        args.yelp_rps,
        args.latency_ms,
        ids.len() as f64 / elapsed,
        requests as f64 / elapsed,
        done["counts"]
    );
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    checking(&args).await;
    posting(&args).await;
}
