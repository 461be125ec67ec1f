//! `yelp-ads sync` as a user runs it: the real binary, JSON lines out, the exit status telling the outcome.

use std::process::{Command, Output};

use dashboard::store::new_id;
use serde_json::Value;

use crate::helpers::{TestSim, YELP_PASSWORD, YELP_USER};

/// Runs `yelp-ads sync --json` against the simulator with the given password (passed through the
/// environment, as the help advises).
async fn run_sync(sim: &TestSim, database_url: &str, password: &str) -> Output {
    run_sync_as(sim, database_url, password, &["--json"]).await
}

/// Runs `yelp-ads sync` with `extra` arguments.
async fn run_sync_as(sim: &TestSim, database_url: &str, password: &str, extra: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_yelp-ads"));
    command
        .args(["sync", "--concurrency", "4", "--page-size", "40"])
        .args(extra)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_without_json_prints_its_outcome_and_names_the_businesses_yelp_would_refuse() {
    let sim = TestSim::start(120).await;
    // A business with programs, so that the sync sees it.
    let programs = sim.programs().await;
    let closed = programs[0]["yelp_business_id"].as_str().unwrap().to_owned();
    sim.control(
        reqwest::Method::PATCH,
        &format!("/_sim/businesses/{closed}"),
        Some(serde_json::json!({"is_closed": true})),
    )
    .await;
    let at_yelp = sim
        .control(reqwest::Method::GET, "/_sim/businesses", None)
        .await;
    let name = at_yelp["businesses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["yelp_business_id"].as_str() == Some(closed.as_str()))
        .and_then(|b| b["name"].as_str())
        .unwrap()
        .to_owned();
    let dir = std::env::temp_dir().join(format!("yelp-ads-cli-{}", new_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database_url = format!("sqlite://{}", dir.join("cli.db").display());

    let output = run_sync_as(&sim, &database_url, YELP_PASSWORD, &[]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("Successfully synchronized 120 new programs"),
        "{stdout}"
    );
    // Every line after the outcome names a business Yelp refuses programs for, and the one closed is there.
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.contains("closed on Yelp") || l.contains("removed from Yelp's search")),
        "{stdout}"
    );
    let line = lines
        .iter()
        .find(|l| l.contains(&format!("({closed})")))
        .unwrap_or_else(|| panic!("{closed}: {stdout}"));
    assert!(
        line.starts_with(&name) && line.ends_with("the business is closed on Yelp"),
        "{stdout}"
    );
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

/// Runs `yelp-ads ARGS… --data-dir DIR` with `stdin` as its standard input and no key in the environment.
async fn run_in(dir: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    run_with_key(dir, args, stdin, None).await
}

/// Like [`run_in`], with `YELP_ADS_SECRET_KEY` set to `key` when given.
async fn run_with_key(
    dir: &std::path::Path,
    args: &[&str],
    stdin: &str,
    key: Option<&str>,
) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut command = Command::new(env!("CARGO_BIN_EXE_yelp-ads"));
    command
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("YELP_ADS_SECRET_KEY")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(key) = key {
        command.env("YELP_ADS_SECRET_KEY", key);
    }
    let stdin = stdin.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().expect("yelp-ads runs");
        let mut input = child.stdin.take().unwrap();
        // A command that exits before reading closes the pipe; that is its answer, not the test's failure.
        let _ = input.write_all(stdin.as_bytes());
        drop(input);
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn workspaces_and_users_are_managed_from_the_command_line_without_showing_secrets() {
    let dir = std::env::temp_dir().join(format!("yelp-ads-cli-accounts-{}", new_id()));
    let yelp_password = "yelp-partner-pw-7f3a";
    let add = run_in(
        &dir,
        &[
            "workspace",
            "add",
            "Acme Agency",
            "--yelp-base-url",
            "http://127.0.0.1:9",
            "--yelp-username",
            "acme",
            "--yelp-password-stdin",
        ],
        &format!("{yelp_password}\n"),
    )
    .await;
    assert!(add.status.success(), "{}", stderr(&add));
    assert!(stdout(&add).contains("created workspace Acme Agency"));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("secret.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let user_add = run_in(
        &dir,
        &[
            "user",
            "add",
            "alice",
            "--workspace",
            "Acme Agency",
            "--role",
            "operator",
            "--password-stdin",
        ],
        "alice's long password\r\n",
    )
    .await;
    assert!(user_add.status.success(), "{}", stderr(&user_add));

    let users = run_in(&dir, &["user", "list"], "").await;
    assert!(users.status.success(), "{}", stderr(&users));
    assert_eq!(stdout(&users), "alice\tAcme Agency\toperator\n");

    let workspaces = run_in(&dir, &["workspace", "list"], "").await;
    assert!(workspaces.status.success(), "{}", stderr(&workspaces));
    let listed = stdout(&workspaces);
    let line = listed.lines().next().unwrap();
    assert!(line.starts_with("Acme Agency\t"), "{listed}");
    assert!(
        line.contains("http://127.0.0.1:9\tacme\tpassword stored"),
        "{listed}"
    );

    let short = run_in(
        &dir,
        &[
            "user",
            "add",
            "bob",
            "--workspace",
            "Acme Agency",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        "short\n",
    )
    .await;
    assert!(!short.status.success());
    assert!(
        stderr(&short).contains("password must be at least 8 characters"),
        "{}",
        stderr(&short)
    );

    let duplicate = run_in(
        &dir,
        &[
            "user",
            "add",
            "ALICE",
            "--workspace",
            "Acme Agency",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        "another long password\n",
    )
    .await;
    assert!(!duplicate.status.success());
    assert!(
        stderr(&duplicate).contains("already exists"),
        "{}",
        stderr(&duplicate)
    );

    let bad_role = run_in(
        &dir,
        &[
            "user",
            "add",
            "carol",
            "--workspace",
            "Acme Agency",
            "--role",
            "root",
            "--password-stdin",
        ],
        "another long password\n",
    )
    .await;
    assert!(!bad_role.status.success());
    assert!(
        stderr(&bad_role).contains("admin, operator, viewer"),
        "{}",
        stderr(&bad_role)
    );

    let passwd = run_in(
        &dir,
        &["user", "passwd", "alice", "--password-stdin"],
        "a new long password\n",
    )
    .await;
    assert!(passwd.status.success(), "{}", stderr(&passwd));
    let empty = run_in(&dir, &["user", "passwd", "alice", "--password-stdin"], "\n").await;
    assert!(!empty.status.success());
    assert!(
        stderr(&empty).contains("must not be empty"),
        "{}",
        stderr(&empty)
    );

    let set = run_in(
        &dir,
        &[
            "workspace",
            "set-credentials",
            "Acme Agency",
            "--yelp-base-url",
            "http://127.0.0.1:10",
            "--yelp-username",
            "acme2",
            "--yelp-password-stdin",
        ],
        "another-yelp-pw\n",
    )
    .await;
    assert!(set.status.success(), "{}", stderr(&set));
    let listed = stdout(&run_in(&dir, &["workspace", "list"], "").await);
    assert!(
        listed.contains("http://127.0.0.1:10\tacme2\tpassword stored"),
        "{listed}"
    );

    // The stored password opens with the key file the command made, and nothing printed shows it.
    let store = dashboard::store::Store::connect(&format!(
        "sqlite://{}",
        dir.join("yelp-ads.db").display()
    ))
    .await
    .unwrap();
    let workspace = store
        .workspace_by_name("Acme Agency")
        .await
        .unwrap()
        .unwrap();
    let enc = store
        .workspace_password_enc(&workspace.id)
        .await
        .unwrap()
        .unwrap();
    let key = dashboard::secrets::SecretBox::load_key_file(&dir).unwrap();
    use secrecy::ExposeSecret;
    assert_eq!(
        key.decrypt(&enc).unwrap().expose_secret(),
        "another-yelp-pw"
    );
    store.close().await;
    for output in [
        &add,
        &user_add,
        &users,
        &workspaces,
        &short,
        &duplicate,
        &passwd,
        &set,
    ] {
        let all = format!("{}{}", stdout(output), stderr(output));
        for secret in [
            yelp_password,
            "another-yelp-pw",
            "alice's long password",
            "short\n",
            "a new long password",
        ] {
            assert!(!all.contains(secret), "{all}");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_world_readable_key_file_or_a_bad_environment_key_is_refused() {
    let dir = std::env::temp_dir().join(format!("yelp-ads-cli-key-{}", new_id()));
    let add = |dir: std::path::PathBuf, name: &'static str| async move {
        run_in(
            &dir,
            &[
                "workspace",
                "add",
                name,
                "--yelp-base-url",
                "http://127.0.0.1:9",
                "--yelp-username",
                name,
                "--yelp-password-stdin",
            ],
            "pw\n",
        )
        .await
    };
    assert!(add(dir.clone(), "first").await.status.success());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("secret.key");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = add(dir.clone(), "second").await;
        assert!(!refused.status.success());
        assert!(
            stderr(&refused).contains("can be read by other users"),
            "{}",
            stderr(&refused)
        );
    }

    let bad_key = "dG9vLXNob3J0LXNlY3JldA==";
    let output = run_with_key(
        &dir,
        &[
            "workspace",
            "set-credentials",
            "first",
            "--yelp-base-url",
            "http://x",
            "--yelp-username",
            "u",
            "--yelp-password-stdin",
        ],
        "pw\n",
        Some(bad_key),
    )
    .await;
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains("YELP_ADS_SECRET_KEY must be the base64 of 32 bytes"),
        "{err}"
    );
    assert!(!err.contains(bad_key), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
