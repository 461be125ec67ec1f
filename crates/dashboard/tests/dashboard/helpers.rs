//! Test databases (one per test, removed after), a simulator with a client for it, sign-in and the event
//! stream reader (the last two shared with the benchmarks), and requests as the page and API tests send
//! them.

use std::path::PathBuf;
use std::time::Duration;

use dashboard::config::Config;
use dashboard::jobs::JobOptions;
use dashboard::store::{Store, new_id};
use dashboard::sync::SyncOptions;
use serde_json::Value;
use sqlx::{Connection, Executor};
use yelp_partner_api::{Client, ClientConfig, RetryPolicy, SecretString};
use yelp_sim::{SimConfig, SimHandle};

#[path = "../support/session.rs"]
mod session;
#[path = "../support/sse.rs"]
pub mod sse;

pub use session::{Session, session_cookie, sign_in};

/// Runs a test body once on SQLite and once on PostgreSQL. PostgreSQL needs `TEST_DATABASE_URL`; without it
/// the PostgreSQL case says it was skipped, except under CI, where it fails.
macro_rules! on_every_backend {
    ($(#[$meta:meta])* async fn $name:ident($db:ident: TestDb) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn case($db: crate::helpers::TestDb) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                case(crate::helpers::TestDb::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(db) = crate::helpers::TestDb::postgres().await {
                    case(db).await;
                }
            }
        }
    };
}
pub(crate) use on_every_backend;

/// The configuration of a test server: port 0, stored credentials sealed with `key`, no rate limit, no
/// schedule, never demo mode, the engine's and the watcher's default options.
pub fn test_config(key: [u8; 32]) -> Config {
    use base64::Engine as _;
    let mut config = Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        yelp_rps: 0.0,
        sync_interval: Duration::ZERO,
        ..Config::default()
    };
    config.database.secret_key = Some(base64::engine::general_purpose::STANDARD.encode(key).into());
    config.tuning.jobs = Some(JobOptions::default());
    config.tuning.sync = Some(SyncOptions::default());
    config.tuning.no_demo_fallback = true;
    config
}

/// Builds a dashboard over `store` as `config` says and serves it in the background; answers its
/// address. Its job watcher runs until the test ends.
pub async fn serve(config: Config, store: Store) -> std::net::SocketAddr {
    let app = dashboard::app::Application::build_with_store(config, store)
        .await
        .unwrap();
    let addr = app.local_addr();
    tokio::spawn(app.run_until(std::future::pending(), Duration::from_secs(5)));
    yelp_partner_api::install_crypto_provider();
    addr
}

/// A database of its own for one test.
pub struct TestDb {
    pub store: Store,
    /// Its URL, for other instances (processes) to share it.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(format!("yelp-ads-test-{}", new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("test.db").display());
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        Self {
            store,
            url,
            cleanup: Cleanup::Dir(dir),
        }
    }

    pub async fn postgres() -> Option<Self> {
        let db = Self::postgres_empty().await?;
        db.store.migrate().await.unwrap();
        Some(db)
    }

    /// A new PostgreSQL database without the schema (the test migrates it).
    pub async fn postgres_empty() -> Option<Self> {
        let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "TEST_DATABASE_URL must be set in CI so that the PostgreSQL tests run"
            );
            eprintln!("skipped: TEST_DATABASE_URL is not set, so this PostgreSQL case did not run");
            return None;
        };
        sqlx::any::install_default_drivers();
        let name = format!("yelp_ads_test_{}", new_id());
        let mut admin = sqlx::AnyConnection::connect(&admin_url).await.unwrap();
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        admin.close().await.unwrap();
        let mut url = url::Url::parse(&admin_url).unwrap();
        url.set_path(&name);
        let store = Store::connect(url.as_str()).await.unwrap();
        Some(Self {
            store,
            url: url.to_string(),
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                let store = self.store.clone();
                // Drop runs outside any runtime we may block; a thread with its own runtime does the async work.
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    runtime.block_on(async move {
                        store.close().await;
                        let mut admin = sqlx::AnyConnection::connect(&admin_url).await.ok()?;
                        let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        admin.execute(drop.as_str()).await.ok()?;
                        Some(())
                    });
                    std::io::Result::Ok(())
                })
                .join();
            }
        }
    }
}

/// A running simulator and an HTTP client for its control API.
pub struct TestSim {
    pub sim: SimHandle,
    http: reqwest::Client,
}

pub const YELP_USER: &str = "agency-partner";
pub const YELP_PASSWORD: &str = "yelp-partner-secret-pw";

impl TestSim {
    pub async fn start(programs: usize) -> Self {
        Self::start_with(programs, |_| {}).await
    }

    pub async fn start_with(programs: usize, configure: impl FnOnce(&mut SimConfig)) -> Self {
        let mut config = SimConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            programs,
            businesses: 300,
            username: YELP_USER.into(),
            password: YELP_PASSWORD.into(),
            job_seconds: 0.3,
            ..SimConfig::default()
        };
        configure(&mut config);
        Self {
            sim: yelp_sim::spawn(config).await.unwrap(),
            http: test_http_client(),
        }
    }

    pub fn base_url(&self) -> String {
        self.sim.base_url()
    }

    /// A client with retries quick enough for tests and many enough for injected faults.
    pub fn client(&self) -> Client {
        let mut config = ClientConfig::new(
            &self.base_url(),
            YELP_USER,
            SecretString::from(YELP_PASSWORD.to_owned()),
        )
        .unwrap();
        config.retry = RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(20),
            ..RetryPolicy::default()
        };
        Client::new(config).unwrap()
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url()));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub async fn programs(&self) -> Vec<Value> {
        let all = self
            .call(reqwest::Method::GET, "/_sim/programs", None)
            .await;
        all["programs"].as_array().unwrap().clone()
    }

    pub async fn add_programs(&self, count: usize) -> Vec<String> {
        let added = self
            .call(
                reqwest::Method::POST,
                "/_sim/programs",
                Some(serde_json::json!({"count": count})),
            )
            .await;
        added["program_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    pub async fn remove_program(&self, id: &str) {
        self.call(
            reqwest::Method::DELETE,
            &format!("/_sim/programs/{id}"),
            None,
        )
        .await;
    }

    pub async fn patch_program(&self, id: &str, patch: Value) {
        self.call(
            reqwest::Method::PATCH,
            &format!("/_sim/programs/{id}"),
            Some(patch),
        )
        .await;
    }

    /// An active business whose categories can all be advertised.
    pub async fn good_business(&self) -> String {
        let all = self
            .control(reqwest::Method::GET, "/_sim/businesses", None)
            .await;
        all["businesses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| {
                b["active"] == true
                    && b["categories"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .all(|c| c != "landmarks" && c != "airportterminals")
            })
            .unwrap()["yelp_business_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Any call of the control API (`/_sim/...`), answering its JSON.
    pub async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.call(method, path, body).await
    }

    pub async fn set_faults(&self, faults: Value) {
        self.call(reqwest::Method::PUT, "/_sim/faults", Some(faults))
            .await;
    }
}

/// A plain HTTP client for the simulator's control API.
fn test_http_client() -> reqwest::Client {
    yelp_partner_api::install_crypto_provider();
    reqwest::Client::new()
}

/// Pages as a browser without JavaScript gets them: fetched without following redirects, asserted with
/// CSS selectors (the selector contract the browser tests rely on).
pub mod html {
    use std::time::Duration;

    use reqwest::StatusCode;
    use reqwest::header::LOCATION;
    use scraper::{ElementRef, Html, Selector};

    use crate::web::{Session, TestApp};

    /// A page as fetched, without following redirects.
    pub struct Page {
        pub status: StatusCode,
        pub location: Option<String>,
        pub html: Html,
    }

    impl Page {
        pub async fn of(request: reqwest::RequestBuilder) -> Self {
            let response = request.send().await.unwrap();
            let status = response.status();
            let location = response
                .headers()
                .get(LOCATION)
                .map(|v| v.to_str().unwrap().to_owned());
            let html = Html::parse_document(&response.text().await.unwrap());
            Self {
                status,
                location,
                html,
            }
        }

        pub fn all(&self, css: &str) -> Vec<ElementRef<'_>> {
            self.html.select(&Selector::parse(css).unwrap()).collect()
        }

        pub fn one(&self, css: &str) -> ElementRef<'_> {
            let found = self.all(css);
            assert_eq!(
                found.len(),
                1,
                "exactly one {css} in:\n{}",
                self.html.html()
            );
            found[0]
        }

        pub fn text(&self, css: &str) -> String {
            text(self.one(css))
        }
    }

    /// An element's text with its whitespace collapsed.
    pub fn text(element: ElementRef<'_>) -> String {
        element
            .text()
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// An HTTP client that, like a test should, sees redirects instead of following them.
    pub fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap()
    }

    /// A page as the session's browser asks for it.
    pub async fn get(app: &TestApp, path: &str, session: &Session) -> Page {
        Page::of(
            client()
                .get(app.url(path))
                .header("accept", "text/html")
                .header("cookie", &session.cookie),
        )
        .await
    }

    /// Posts a form as a browser does, with the session's CSRF token in its `csrf_token` field.
    pub async fn post_form(
        app: &TestApp,
        path: &str,
        session: &Session,
        fields: &[(&str, &str)],
    ) -> Page {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("csrf_token", &session.csrf);
        form.extend_pairs(fields);
        Page::of(
            client()
                .post(app.url(path))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", &session.cookie)
                .body(form.finish()),
        )
        .await
    }
}

/// API requests as the API tests send them, and the programs they pick.
pub mod api {
    use reqwest::{Method, StatusCode};
    use serde_json::Value;

    use crate::web::{Session, TestApp};

    /// Sends a request with the session (and a JSON body, if any); answers the status and the JSON
    /// answer (`null` when it is not JSON).
    pub async fn send(
        app: &TestApp,
        method: Method,
        path: &str,
        session: &Session,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = app.request(method, path, Some(session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The workspace's current CPC programs, as the list orders them (at most 500).
    pub async fn current_cpc_programs(app: &TestApp, session: &Session) -> Vec<Value> {
        let (status, listed) = app
            .get_json(
                "/api/reseller/programs?status=CURRENT&program_type=CPC&limit=500",
                session,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        listed["programs"].as_array().unwrap().clone()
    }

    /// A program's id, as the list shows it.
    pub fn program_id(program: &Value) -> String {
        program["program_id"].as_str().unwrap().to_owned()
    }

    /// The ids of the workspace's current CPC programs, as the list orders them.
    pub async fn current_cpc(app: &TestApp, session: &Session) -> Vec<String> {
        current_cpc_programs(app, session)
            .await
            .iter()
            .map(program_id)
            .collect()
    }

    /// `count` running, unpaused CPC programs: ones a pause applies to.
    pub async fn running_cpc(app: &TestApp, session: &Session, count: usize) -> Vec<String> {
        let ids: Vec<String> = current_cpc_programs(app, session)
            .await
            .iter()
            .filter(|p| {
                p["program_pause_status"] == "NOT_PAUSED" && p["program_status"] == "ACTIVE"
            })
            .map(program_id)
            .take(count)
            .collect();
        assert_eq!(ids.len(), count, "enough running CPC programs");
        ids
    }
}

/// Days that test how schedules read times in New York's time zone.
pub mod new_york {
    use chrono::{Datelike, NaiveDate, Utc, Weekday};

    /// The next 24 December at least a week ahead: a winter day, when New York is on EST (UTC-5).
    pub fn next_christmas_eve() -> NaiveDate {
        let soon = (Utc::now() + chrono::Duration::days(7)).date_naive();
        let this_year = NaiveDate::from_ymd_opt(soon.year(), 12, 24).unwrap();
        if this_year >= soon {
            this_year
        } else {
            NaiveDate::from_ymd_opt(soon.year() + 1, 12, 24).unwrap()
        }
    }

    /// The next year's second Sunday of March: the day New York's clocks go from 02:00 to 03:00.
    pub fn next_spring_forward() -> NaiveDate {
        let year = Utc::now().year() + 1;
        (8..=14)
            .map(|day| NaiveDate::from_ymd_opt(year, 3, day).unwrap())
            .find(|d| d.weekday() == Weekday::Sun)
            .unwrap()
    }
}

/// The first of the simulator's programs that is a running CPC program (active, not paused, started by
/// today) and for which `also` holds; the tests that need one say what else it must have.
pub async fn running_sim_cpc(sim: &TestSim, also: impl Fn(&Value) -> bool) -> Value {
    let today = chrono::Utc::now().date_naive().to_string();
    sim.programs()
        .await
        .into_iter()
        .find(|p| {
            p["program_type"] == "CPC"
                && p["program_status"] == "ACTIVE"
                && p["program_pause_status"] == "NOT_PAUSED"
                && p["start_date"]
                    .as_str()
                    .is_some_and(|s| s <= today.as_str())
                && also(p)
        })
        .expect("a running CPC program of the simulator")
}
