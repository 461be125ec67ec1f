//! PostgreSQL stopped and started again under a running server: requests fail cleanly and fast while it is
//! down and succeed again afterwards, with no restart of the server. The database is a private cluster on
//! a free port in a temporary directory, never the shared one that other tests use.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use dashboard::auth::hash_password;
use dashboard::store::{Role, Store, new_id};
use reqwest::StatusCode;
use serde_json::Value;

use crate::schedule::eventually;

const USER: (&str, &str) = ("pat", "pat-password-1");

/// A PostgreSQL cluster of this test's own, removed when dropped.
struct PrivateCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    /// initdb refuses to run as root: as root the tools run as the `postgres` user.
    as_postgres: bool,
}

impl PrivateCluster {
    /// Creates and starts a cluster, or says why it cannot (no PostgreSQL binaries) and answers `None`.
    fn start() -> Option<Self> {
        let Some(bin) = postgres_bin() else {
            eprintln!(
                "skipped: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (initdb, pg_ctl)"
            );
            return None;
        };
        let as_postgres = is_root();
        let dir = std::env::temp_dir().join(format!("yelp-ads-pg-{}", new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        if as_postgres {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir));
        }
        let port = free_port();
        let cluster = Self {
            bin,
            dir,
            port,
            as_postgres,
        };
        let data = cluster.data();
        cluster.tool(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        cluster.up();
        Some(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn up(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let data = self.data();
        let log = self.dir.join("server.log");
        self.tool(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "-t",
                "120",
                "start",
            ],
        );
    }

    fn down(&self) {
        let data = self.data();
        self.tool(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                "fast",
                "-w",
                "-t",
                "120",
                "stop",
            ],
        );
    }

    fn tool(&self, name: &str, args: &[&str]) {
        let program = self.bin.join(name);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        // The tools must not find the test's working directory unreadable as the postgres user.
        command.args(args).current_dir(&self.dir);
        run(&mut command);
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let data = self.data();
        let program = self.bin.join("pg_ctl");
        let args = ["-D", data.to_str().unwrap_or(""), "-m", "immediate", "stop"];
        let _ = if self.as_postgres {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&program)
                .args(args)
                .current_dir(&self.dir)
                .output()
        } else {
            Command::new(&program).args(args).output()
        };
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest installed PostgreSQL's binaries.
fn postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").exists() && bin.join("pg_ctl").exists()).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run(command: &mut Command) {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn serve(store: &Store) -> SocketAddr {
    let ws = store
        .create_workspace("Restarted", "http://127.0.0.1:9", "nobody", None)
        .await
        .unwrap();
    store
        .create_user(&ws.id, USER.0, &hash_password(USER.1).unwrap(), Role::Admin)
        .await
        .unwrap();
    crate::helpers::serve(crate::helpers::test_config([9; 32]), store.clone()).await
}

/// A status and a body, and how long they took.
async fn get(http: &reqwest::Client, url: &str) -> (StatusCode, String, Duration) {
    let started = Instant::now();
    let response = http
        .get(url)
        .basic_auth(USER.0, Some(USER.1))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.text().await.unwrap(), started.elapsed())
}

/// A session sign-in, which reads the user and writes a session.
async fn sign_in(http: &reqwest::Client, url: &str) -> (StatusCode, String, Duration) {
    let started = Instant::now();
    let response = http
        .post(url)
        .json(&serde_json::json!({"username": USER.0, "password": USER.1}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.text().await.unwrap(), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_fail_cleanly_and_fast_while_postgresql_is_down_and_succeed_again_once_it_is_back()
{
    let Some(cluster) = PrivateCluster::start() else {
        return;
    };
    let store = Store::connect(&cluster.url()).await.unwrap();
    store.migrate().await.unwrap();
    let addr = serve(&store).await;
    yelp_partner_api::install_crypto_provider();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let health = format!("http://{addr}/healthz");
    let programs = format!("http://{addr}/api/reseller/programs?limit=5");
    let runs = format!("http://{addr}/api/sync/runs");
    let login = format!("http://{addr}/api/auth/login");
    for url in [&health, &programs, &runs] {
        assert_eq!(
            get(&http, url).await.0,
            StatusCode::OK,
            "{url} before the stop"
        );
    }

    cluster.down();
    let (status, body, took) = get(&http, &health).await;
    eprintln!("while down: /healthz {status} in {took:?}");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(took < Duration::from_secs(30), "fails fast: {took:?}");
    for url in [&programs, &runs, &login] {
        let (status, body, took) = if url == &login {
            sign_in(&http, url).await
        } else {
            get(&http, url).await
        };
        eprintln!("while down: {url} {status} in {took:?}");
        assert!(
            status == StatusCode::INTERNAL_SERVER_ERROR
                || status == StatusCode::SERVICE_UNAVAILABLE,
            "{url}: {status} {body}"
        );
        assert!(took < Duration::from_secs(30), "fails fast: {took:?}");
        let json: Value = serde_json::from_str(&body).expect("a JSON error body");
        assert!(json["error"]["code"].is_string(), "{body}");
        let lower = body.to_lowercase();
        for internal in [
            "sqlx",
            "postgres",
            "database error",
            "connection",
            "refused",
            "127.0.0.1",
            &cluster.port.to_string(),
        ] {
            assert!(!lower.contains(internal), "{url} told {internal:?}: {body}");
        }
    }

    cluster.up();
    let recovered = eventually(Duration::from_secs(120), || async {
        get(&http, &health).await.0 == StatusCode::OK
    })
    .await;
    assert!(
        recovered,
        "/healthz answers 200 again without a restart of the server"
    );
    assert_eq!(
        sign_in(&http, &login).await.0,
        StatusCode::OK,
        "sign-in after the restart"
    );
    for url in [&programs, &runs] {
        let (status, body, _) = get(&http, url).await;
        assert_eq!(status, StatusCode::OK, "{url} after the restart: {body}");
    }
    store.close().await;
    drop(cluster);
}
