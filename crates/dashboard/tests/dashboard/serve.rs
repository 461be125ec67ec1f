//! `yelp-ads serve` as an operator runs it: the real binary, set up with the CLI, stopped with SIGTERM; and
//! every line it printed scanned for secrets.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use dashboard::store::new_id;
use serde_json::{Value, json};

use crate::helpers::{TestSim, YELP_PASSWORD, YELP_USER, sign_in};

const ADMIN_PASSWORD: &str = "ops-admin-password-9";

fn yelp_ads(
    data_dir: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_yelp-ads"))
        .args(args)
        .args(["--data-dir", data_dir.to_str().unwrap()])
        .env("RUST_LOG", "debug")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_server_serves_syncs_stops_cleanly_and_never_prints_a_secret() {
    let sim = TestSim::start(300).await;
    let dir = std::env::temp_dir().join(format!("yelp-ads-serve-{}", new_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut printed = String::new();

    let base = sim.base_url();
    let setup = [
        (
            vec![
                "workspace",
                "add",
                "Agency",
                "--yelp-base-url",
                base.as_str(),
                "--yelp-username",
                YELP_USER,
                "--yelp-password-stdin",
            ],
            format!("{YELP_PASSWORD}\n"),
        ),
        (
            vec![
                "user",
                "add",
                "ops",
                "--workspace",
                "Agency",
                "--role",
                "admin",
                "--password-stdin",
            ],
            format!("{ADMIN_PASSWORD}\n"),
        ),
    ];
    for (args, input) in &setup {
        let output = yelp_ads(&dir, args, Some(input));
        printed.push_str(&String::from_utf8_lossy(&output.stdout));
        printed.push_str(&String::from_utf8_lossy(&output.stderr));
        assert!(output.status.success(), "{args:?}: {printed}");
    }

    let mut server = Command::new(env!("CARGO_BIN_EXE_yelp-ads"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
            dir.to_str().unwrap(),
        ])
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let url = first
        .trim()
        .strip_prefix("yelp-ads listening on ")
        .expect("first line names the address")
        .to_owned();
    let stderr = server.stderr.take().unwrap();
    let stderr_reader = std::thread::spawn(move || {
        let mut all = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut all);
        all
    });

    yelp_partner_api::install_crypto_provider();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let wrong = http
        .post(format!("{url}/api/auth/login"))
        .json(&json!({"username": "ops", "password": "guess-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    let session = sign_in(&http, &url, ("ops", ADMIN_PASSWORD)).await;
    let token = session.cookie.split_once('=').unwrap().1.to_owned();
    let body = &session.answer;
    let events = session.sync_stream(&http, &url).await;
    assert_eq!(events.last().unwrap().data["added"], 300);
    let basic = http
        .get(format!("{url}/api/reseller/programs?limit=5"))
        .basic_auth("ops", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    let listed: Value = basic.json().await.unwrap();
    assert_eq!(listed["total_count"], 300);
    let responses = format!("{body}{listed}");
    assert!(!responses.contains(YELP_PASSWORD) && !responses.contains(ADMIN_PASSWORD));

    // SIGTERM: the server stops by itself.
    let pid = server.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::task::spawn_blocking(move || server.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "a clean stop exits 0");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    printed.push_str(&first);
    printed.push_str(&rest);
    printed.push_str(&stderr_reader.join().unwrap());
    assert!(printed.contains("signed in"), "the debug log was captured");
    for secret in [
        YELP_PASSWORD,
        ADMIN_PASSWORD,
        "guess-password",
        token.as_str(),
        session.csrf.as_str(),
    ] {
        assert!(!printed.contains(secret), "a secret appeared in the output");
    }
    let key = std::fs::read_to_string(dir.join("secret.key")).unwrap();
    assert!(!printed.contains(key.trim()));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yelp_ads_alone_on_a_fresh_data_dir_serves_the_demo_with_its_sign_in() {
    let dir = std::env::temp_dir().join(format!("yelp-ads-demo-{}", new_id()));
    let mut server = Command::new(env!("CARGO_BIN_EXE_yelp-ads"))
        .args(["--bind", "127.0.0.1:0", "--data-dir", dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    stdout.read_line(&mut first).unwrap();
    stdout.read_line(&mut second).unwrap();
    let url = first
        .trim()
        .strip_prefix("yelp-ads listening on ")
        .expect("first line")
        .to_owned();
    assert!(
        second.contains("Demo mode") && second.contains("demo / demo"),
        "{second}"
    );

    yelp_partner_api::install_crypto_provider();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let session = sign_in(&http, &url, ("demo", "demo")).await;
    assert_eq!(session.answer["user"]["role"], "admin");
    let events = session.sync_stream(&http, &url).await;
    assert_eq!(
        events[1].data["total_api"], 1900,
        "the demo account has 1,900 programs"
    );
    assert_eq!(
        events.last().unwrap().data["message"],
        "Successfully synchronized 1900 new programs. Total: 1900"
    );

    let pid = server.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = tokio::task::spawn_blocking(move || server.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success());
    let _ = std::fs::remove_dir_all(dir);
}
