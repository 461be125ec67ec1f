//! Set-up shared by the benchmarks: a server on port 0 over a fresh SQLite file, wired to an in-process
//! simulator, with an operator signed in over HTTP as a browser would be.

// Each benchmark is its own binary and uses a part of this module.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use dashboard::app::Application;
use dashboard::auth::hash_password;
use dashboard::config::Config;
use dashboard::jobs::{JobOptions, WatcherHandle};
use dashboard::secrets::SecretBox;
use dashboard::store::{Role, Store, new_id};
use dashboard::sync::SyncOptions;
use dashboard::web::AppState;
use yelp_partner_api::{Client, SecretString};
use yelp_sim::{SimConfig, SimHandle};

#[path = "../../tests/support/session.rs"]
pub mod session;
#[path = "../../tests/support/sse.rs"]
pub mod sse;

/// The simulated partner account's credentials.
const PARTNER: (&str, &str) = ("bench", "bench-partner");

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running server and a signed-in client of it.
pub struct BenchServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The session cookie, `name=value`.
    pub cookie: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// An HTTP client with room for many connections.
    pub http: reqwest::Client,
    /// The simulator the workspace is wired to.
    pub sim: SimHandle,
    /// The server's state (shares the store, the engine and the job service with the server).
    pub state: AppState,
    /// The benchmark workspace.
    pub workspace_id: String,
    /// The server's job watcher.
    pub watcher: Option<WatcherHandle>,
    _dir: TempDir,
}

impl BenchServer {
    /// A Yelp client for the simulated partner account.
    pub fn yelp_client(&self) -> Client {
        dashboard::yelp::client(
            &self.sim.base_url(),
            PARTNER.0,
            SecretString::from(PARTNER.1.to_owned()),
            None,
        )
        .expect("client")
    }
}

/// Starts the simulator (`sim`, with the partner credentials set here), a workspace wired to it with an
/// operator `bench`, and a server built by `Application::build` with `engine_options` and `job_options`
/// (no rate limit, no schedule); signs the operator in.
pub async fn start(
    name: &str,
    sim: SimConfig,
    engine_options: SyncOptions,
    job_options: JobOptions,
) -> BenchServer {
    start_limited(name, sim, engine_options, job_options, 0.0, 1).await
}

/// [`start`] with Yelp requests limited to `yelp_rps` a second (0 for no limit) and `burst`.
pub async fn start_limited(
    name: &str,
    sim: SimConfig,
    engine_options: SyncOptions,
    job_options: JobOptions,
    yelp_rps: f64,
    burst: u32,
) -> BenchServer {
    const KEY: [u8; 32] = [9; 32];
    let dir = TempDir(std::env::temp_dir().join(format!("yelp-ads-{name}-bench-{}", new_id())));
    std::fs::create_dir_all(&dir.0).expect("temp dir");
    let store = Store::connect(&format!("sqlite://{}", dir.0.join("bench.db").display()))
        .await
        .expect("db");
    store.migrate().await.expect("migrate");
    let sim = yelp_sim::spawn(SimConfig {
        bind: "127.0.0.1:0".parse().expect("addr"),
        username: PARTNER.0.into(),
        password: PARTNER.1.into(),
        ..sim
    })
    .await
    .expect("simulator");
    let secrets = SecretBox::from_key_bytes(KEY);
    let ws = store
        .create_workspace(
            "Bench",
            &sim.base_url(),
            PARTNER.0,
            Some(&secrets.encrypt(PARTNER.1)),
        )
        .await
        .expect("workspace");
    let hash = hash_password("bench-password").expect("hash");
    store
        .create_user(&ws.id, "bench", &hash, Role::Operator)
        .await
        .expect("user");
    let mut config = Config {
        bind: "127.0.0.1:0".parse().expect("addr"),
        yelp_rps,
        yelp_burst: burst,
        sync_interval: Duration::ZERO,
        ..Config::default()
    };
    config.database.secret_key = Some(base64::engine::general_purpose::STANDARD.encode(KEY).into());
    config.tuning.sync = Some(engine_options);
    config.tuning.jobs = Some(job_options);
    let mut app = Application::build_with_store(config, store)
        .await
        .expect("build");
    let state = app.state().clone();
    let watcher = app.take_watcher();
    let url = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until(std::future::pending(), Duration::from_secs(5)));
    yelp_partner_api::install_crypto_provider();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1000)
        .timeout(Duration::from_secs(120))
        .build()
        .expect("http");
    let session::Session { cookie, csrf, .. } =
        session::sign_in(&http, &url, ("bench", "bench-password")).await;
    BenchServer {
        url,
        cookie,
        csrf,
        http,
        sim,
        state,
        workspace_id: ws.id,
        watcher,
        _dir: dir,
    }
}
