//! `yelp-ads sync` as a user runs it: the real binary, JSON lines out, the exit status telling the outcome.

use std::process::{Command, Output};

use dashboard::store::new_id;
use serde_json::Value;

use crate::helpers::{TestSim, YELP_PASSWORD, YELP_USER};

/// Runs `yelp-ads sync --json` against the simulator with the given password (passed through the
/// environment, as the help advises).
async fn run_sync(sim: &TestSim, database_url: &str, password: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_yelp-ads"));
    command
        .args(["sync", "--json", "--concurrency", "4", "--page-size", "40"])
        .args([
            "--yelp-base-url",
            &sim.base_url(),
            "--yelp-username",
            YELP_USER,
        ])
        .args(["--database-url", database_url])
        .env("YELP_API_PASSWORD", password)
        .env("RUST_LOG", "debug");
    tokio::task::spawn_blocking(move || command.output().expect("yelp-ads runs"))
        .await
        .unwrap()
}

fn events(output: &Output) -> Vec<Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_prints_one_json_event_per_line_and_exits_by_outcome() {
    let sim = TestSim::start(500).await;
    let dir = std::env::temp_dir().join(format!("yelp-ads-cli-{}", new_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database_url = format!("sqlite://{}", dir.join("cli.db").display());

    let first = run_sync(&sim, &database_url, YELP_PASSWORD).await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let lines = events(&first);
    assert_eq!(lines[0]["type"], "start");
    assert_eq!(lines[1]["type"], "info");
    assert_eq!(lines[1]["total_api"], 500);
    let last = lines.last().unwrap();
    assert_eq!(
        (last["type"].as_str(), last["status"].as_str()),
        (Some("complete"), Some("synced"))
    );
    assert_eq!(last["added"], 500);

    let again = run_sync(&sim, &database_url, YELP_PASSWORD).await;
    assert!(again.status.success());
    assert_eq!(events(&again).last().unwrap()["status"], "up_to_date");

    let refused = run_sync(&sim, &database_url, "not-the-password").await;
    assert!(!refused.status.success(), "a failed sync exits non-zero");
    let last = events(&refused).last().unwrap().clone();
    assert_eq!(last["type"], "error");
    assert!(last["message"].as_str().unwrap().contains("credentials"));
    for output in [&first, &again, &refused] {
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            !all.contains(YELP_PASSWORD) && !all.contains("not-the-password"),
            "no password in output or logs"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn sync_refuses_a_database_url_it_does_not_know_without_echoing_it() {
    let output = tokio::task::spawn_blocking(|| {
        Command::new(env!("CARGO_BIN_EXE_yelp-ads"))
            .args([
                "sync",
                "--yelp-base-url",
                "http://127.0.0.1:9",
                "--yelp-username",
                "u",
            ])
            .args(["--database-url", "mysql://root:hunter2@localhost/db"])
            .env("YELP_API_PASSWORD", "pw")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("sqlite:// or postgres://"), "{stderr}");
    assert!(!stderr.contains("hunter2"));
}
