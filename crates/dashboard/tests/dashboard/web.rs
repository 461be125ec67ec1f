//! The server as clients use it: spawned on port 0 with the simulator, driven over HTTP, SSE read as an
//! `EventSource` would.

use std::net::SocketAddr;
use std::time::Duration;

use dashboard::app::Application;
use dashboard::auth::hash_password;
use dashboard::change_sets::PosterHandle;
use dashboard::jobs::{JobOptions, WatcherHandle};
use dashboard::secrets::SecretBox;
use dashboard::store::{Role, Store};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub use crate::helpers::Session;
pub use crate::helpers::sse::{SseEvent, read_sse};
use crate::helpers::{TestSim, YELP_PASSWORD, YELP_USER, on_every_backend, sign_in, test_config};

/// The key of the test server's stored credentials.
const KEY: [u8; 32] = [7; 32];

pub const ALICE: (&str, &str) = ("alice", "alice-password-1");
pub const OLGA: (&str, &str) = ("olga", "olga-password-1");
pub const VICTOR: (&str, &str) = ("victor", "victor-password-1");
pub const BOB: (&str, &str) = ("bob", "bob-password-12");

/// A running server over a workspace wired to the simulator (alice: admin, olga: operator, victor:
/// viewer) and a second workspace with its own program (bob).
pub struct TestApp {
    pub addr: SocketAddr,
    pub sim: TestSim,
    pub store: Store,
    /// The simulator-backed workspace (alice, olga, victor).
    pub workspace_id: String,
    pub other_program: String,
    /// The server's job watcher, until a test stops it.
    pub watcher: std::sync::Mutex<Option<WatcherHandle>>,
    /// The server's change-set poster, until a test stops it.
    pub poster: std::sync::Mutex<Option<PosterHandle>>,
    http: reqwest::Client,
}

/// Polling fast enough for the simulator's 0.3 s jobs.
pub fn test_job_options() -> JobOptions {
    JobOptions {
        first_check: Duration::from_millis(50),
        growth: 1.5,
        max_interval: Duration::from_millis(200),
        tick: Duration::from_millis(20),
        lease_ttl: Duration::from_secs(5),
        batch: 32,
        reconcile_interval: Duration::from_millis(100),
        reconcile_window: Duration::from_secs(3),
        unanswered_after: Duration::from_secs(10),
    }
}

/// What a test may change in the server it spawns.
#[derive(Default)]
pub struct Tuning {
    /// The bound of the program-list body cache, instead of the default.
    pub list_cache_bytes: Option<u64>,
    /// How long connections may wait, instead of the defaults.
    pub limits: Option<dashboard::web::ConnectionLimits>,
    /// The simulator's latency per request.
    pub sim_latency_ms: u64,
    /// The token `/metrics` asks for.
    pub metrics_token: Option<&'static str>,
    /// The time limit of answers, instead of the default.
    pub request_timeout: Option<Duration>,
    /// Requests per second to Yelp and burst, instead of no limit.
    pub yelp_rate: Option<(f64, u32)>,
}

impl TestApp {
    pub async fn spawn(store: Store, programs: usize) -> Self {
        Self::spawn_with(store, programs, test_job_options()).await
    }

    /// A server whose job watcher polls as `job_options` says.
    pub async fn spawn_with(store: Store, programs: usize, job_options: JobOptions) -> Self {
        Self::spawn_tuned(store, programs, job_options, Tuning::default()).await
    }

    /// A server set up as `tuning` says.
    pub async fn spawn_tuned(
        store: Store,
        programs: usize,
        job_options: JobOptions,
        tuning: Tuning,
    ) -> Self {
        let sim = TestSim::start_with(programs, |c| c.latency_ms = tuning.sim_latency_ms).await;
        let secrets = SecretBox::from_key_bytes(KEY);
        let ws = store
            .create_workspace(
                "Agency A",
                &sim.base_url(),
                YELP_USER,
                Some(&secrets.encrypt(YELP_PASSWORD)),
            )
            .await
            .unwrap();
        for ((name, password), role) in [
            (ALICE, Role::Admin),
            (OLGA, Role::Operator),
            (VICTOR, Role::Viewer),
        ] {
            store
                .create_user(&ws.id, name, &hash_password(password).unwrap(), role)
                .await
                .unwrap();
        }
        let other = store
            .create_workspace(
                "Agency B",
                "http://127.0.0.1:9",
                "agency-b",
                Some(&secrets.encrypt("b-secret")),
            )
            .await
            .unwrap();
        store
            .create_user(
                &other.id,
                BOB.0,
                &hash_password(BOB.1).unwrap(),
                Role::Admin,
            )
            .await
            .unwrap();
        let other_program = crate::store::entry("OtherAgencyProgram0001", 9900);
        store
            .write_program_page(
                &other.id,
                std::slice::from_ref(&other_program),
                &mut Default::default(),
                1,
                dashboard::store::MirrorWriter::Refresh,
            )
            .await
            .unwrap();

        let mut config = test_config(KEY);
        config.tuning.jobs = Some(job_options);
        config.tuning.posting = Some(dashboard::change_sets::PostOptions {
            tick: Duration::from_millis(50),
            ..Default::default()
        });
        config.tuning.list_cache_bytes = tuning.list_cache_bytes;
        config.metrics_token = tuning
            .metrics_token
            .map(|t| secrecy::SecretString::from(t.to_owned()));
        if let Some((rps, burst)) = tuning.yelp_rate {
            (config.yelp_rps, config.yelp_burst) = (rps, burst);
        }
        if let Some(timeout) = tuning.request_timeout {
            config.request_timeout = timeout;
        }
        if let Some(limits) = tuning.limits {
            config.header_read_timeout = limits.header_read;
            config.idle_timeout = limits.idle;
        }
        let mut app = Application::build_with_store(config, store.clone())
            .await
            .unwrap();
        let watcher = app.take_watcher();
        let poster = app.take_poster();
        let addr = app.local_addr();
        tokio::spawn(app.run_until(std::future::pending(), Duration::from_secs(5)));
        yelp_partner_api::install_crypto_provider();
        Self {
            addr,
            sim,
            store,
            workspace_id: ws.id,
            other_program: "OtherAgencyProgram0001".into(),
            watcher: std::sync::Mutex::new(watcher),
            poster: std::sync::Mutex::new(poster),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        }
    }

    /// Another instance of the server over the same database (as after a restart), not listening: its job
    /// watcher picks up the unfinished jobs.
    pub async fn restarted_watcher(&self) -> WatcherHandle {
        let mut config = test_config(KEY);
        config.tuning.jobs = Some(test_job_options());
        let mut other = Application::build_with_store(config, self.store.clone())
            .await
            .unwrap();
        other.take_watcher().unwrap()
    }

    /// Another instance's change-set poster over the same database (as after a restart), with Yelp
    /// requests limited to `rate` (per second, burst).
    pub async fn restarted_poster(&self, rate: Option<(f64, u32)>) -> PosterHandle {
        self.restarted_poster_at(rate, 0).await
    }

    /// [`Self::restarted_poster`] whose clock of scheduled changes runs `clock_offset_ms` ahead.
    pub async fn restarted_poster_at(
        &self,
        rate: Option<(f64, u32)>,
        clock_offset_ms: i64,
    ) -> PosterHandle {
        let mut config = test_config(KEY);
        config.tuning.jobs = Some(test_job_options());
        config.tuning.posting = Some(dashboard::change_sets::PostOptions {
            tick: Duration::from_millis(50),
            clock_offset_ms,
            ..Default::default()
        });
        if let Some((rps, burst)) = rate {
            (config.yelp_rps, config.yelp_burst) = (rps, burst);
        }
        let mut other = Application::build_with_store(config, self.store.clone())
            .await
            .unwrap();
        other.take_poster().unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Syncs the mirror as an operator (olga); answers her session.
    pub async fn synced(&self) -> Session {
        let session = self.login(OLGA).await;
        let response = self
            .request(Method::POST, "/api/reseller/programs/sync", Some(&session))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        session
    }

    pub async fn login(&self, user: (&str, &str)) -> Session {
        sign_in(&self.http, &self.url(""), user).await
    }

    /// A request with the session's cookie and, for changes, its CSRF token.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        session: Option<&Session>,
    ) -> reqwest::RequestBuilder {
        let mut request = self.http.request(method.clone(), self.url(path));
        if let Some(s) = session {
            request = request.header("cookie", &s.cookie);
            if method != Method::GET {
                request = request.header("x-csrf-token", &s.csrf);
            }
        }
        request
    }

    pub async fn get_json(&self, path: &str, session: &Session) -> (StatusCode, Value) {
        let response = self
            .request(Method::GET, path, Some(session))
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// POSTs `body` as JSON with the session's cookie and CSRF token; the status and the JSON answer.
    pub async fn post_json(
        &self,
        path: &str,
        session: &Session,
        body: &Value,
    ) -> (StatusCode, Value) {
        let response = self
            .request(Method::POST, path, Some(session))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

fn types(events: &[SseEvent]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e.data["type"].as_str().unwrap())
        .collect()
}

on_every_backend! {
    async fn signing_in_gives_a_session_and_wrong_credentials_say_nothing_about_the_user(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.login(ALICE).await;
        assert!(session.cookie.starts_with("yelp_ads_session="));
        let (status, me) = app.get_json("/api/auth/me", &session).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["user"]["role"], "admin");

        let mut answers = Vec::new();
        for (user, password) in [("alice", "wrong-password"), ("nobody-here", "wrong-password")] {
            let response = app
                .request(Method::POST, "/api/auth/login", None)
                .json(&json!({"username": user, "password": password}))
                .send()
                .await
                .unwrap();
            answers.push((response.status(), response.text().await.unwrap()));
        }
        assert_eq!(answers[0], answers[1], "the same answer for a wrong password and an unknown user");
        assert_eq!(answers[0].0, StatusCode::BAD_REQUEST);

        let response = app.request(Method::GET, "/api/reseller/programs", None).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthenticated");

        let logout = app.request(Method::POST, "/api/auth/logout", Some(&session)).send().await.unwrap();
        assert_eq!(logout.status(), StatusCode::OK);
        let (status, _) = app.get_json("/api/auth/me", &session).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "the session ended");

        // Scripts may use HTTP Basic with a dashboard user.
        let basic = app.http.get(app.url("/api/reseller/programs")).basic_auth(OLGA.0, Some(OLGA.1)).send().await.unwrap();
        assert_eq!(basic.status(), StatusCode::OK);
    }
}

on_every_backend! {
    async fn the_sync_stream_sends_the_first_and_the_up_to_date_sequence(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 1900).await;
        let session = app.login(OLGA).await;
        let response = app.request(Method::POST, "/api/reseller/programs/sync-stream", Some(&session)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let first = read_sse(response).await;
        let kinds = types(&first);
        assert_eq!(&kinds[..2], ["start", "info"]);
        // Progress per page, the program sync's outcome, then the short phase that names the businesses,
        // then the end.
        let middle = &kinds[2..kinds.len() - 1];
        let pages = middle.iter().take_while(|k| **k == "progress").count();
        assert!(pages > 0 && middle[pages] == "listed", "{kinds:?}");
        assert!(middle[pages + 1..].iter().all(|k| *k == "enrich"), "{kinds:?}");
        assert!(middle.len() > pages + 1, "{kinds:?}");
        assert_eq!(*kinds.last().unwrap(), "complete");
        let listed = &first[2 + pages].data;
        assert_eq!(
            listed,
            &json!({"type": "listed", "status": "synced", "added": 1900, "updated": 0, "removed": 0,
                    "total_synced": 1900, "message": "Successfully synchronized 1900 new programs. Total: 1900"})
        );
        assert!(first[0].data["run_id"].is_string());
        assert_eq!(first[1].data, json!({"type": "info", "total_api": 1900, "total_db": 0, "to_sync": 1900}));
        let last = &first.last().unwrap().data;
        assert_eq!((last["status"].as_str(), last["added"].as_u64()), (Some("synced"), Some(1900)));
        assert_eq!(last["message"], "Successfully synchronized 1900 new programs. Total: 1900");
        let ids: Vec<u64> = first.iter().map(|e| e.id.as_deref().unwrap().parse().unwrap()).collect();
        assert_eq!(ids, (1..=first.len() as u64).collect::<Vec<_>>());

        let response = app.request(Method::POST, "/api/reseller/programs/sync-stream", Some(&session)).send().await.unwrap();
        let second = read_sse(response).await;
        let last = &second.last().unwrap().data;
        assert_eq!(last["status"], "up_to_date");
        assert_eq!(last["message"], "Database already has all 1900 programs");

        let (status, runs) = app.get_json("/api/sync/runs", &session).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(runs["runs"].as_array().unwrap().len(), 2);
        assert_eq!(runs["runs"][0]["status"], "up_to_date");
        assert_eq!(runs["runs"][1]["requested_by"], "olga");
    }
}

on_every_backend! {
    async fn two_streams_at_once_join_one_run_and_a_stream_resumes_after_its_last_event_id(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 1900).await;
        app.sim.set_faults(json!({"latency_ms": 10})).await;
        let olga = app.login(OLGA).await;
        let alice = app.login(ALICE).await;
        let (a, b) = tokio::join!(
            app.request(Method::POST, "/api/reseller/programs/sync-stream", Some(&olga)).send(),
            app.request(Method::POST, "/api/reseller/programs/sync-stream", Some(&alice)).send(),
        );
        let (a, b) = tokio::join!(read_sse(a.unwrap()), read_sse(b.unwrap()));
        assert_eq!(a, b, "both clients received the whole sequence of one run");
        assert_eq!(app.store.recent_sync_runs(&workspace_of(&app).await, 10).await.unwrap().len(), 1);

        let run_id = a[0].data["run_id"].as_str().unwrap();
        let resumed = app
            .request(Method::GET, &format!("/api/sync/runs/{run_id}/events"), Some(&olga))
            .header("last-event-id", "3")
            .send()
            .await
            .unwrap();
        let replay = read_sse(resumed).await;
        assert_eq!(replay[0].id.as_deref(), Some("4"), "resumes after the last event seen");
        assert_eq!(replay.last().unwrap().data, a.last().unwrap().data);
    }
}

async fn workspace_of(app: &TestApp) -> String {
    app.store
        .workspace_by_name("Agency A")
        .await
        .unwrap()
        .unwrap()
        .id
}

on_every_backend! {
    async fn program_lists_filter_sort_and_page_like_the_simulator_says(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 600).await;
        let session = app.login(VICTOR).await;
        let operator = app.login(OLGA).await;
        read_sse(app.request(Method::POST, "/api/reseller/programs/sync-stream", Some(&operator)).send().await.unwrap()).await;
        let at_yelp = app.sim.programs().await;

        let (status, all) = app.get_json("/api/reseller/programs?limit=500", &session).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(all["total_count"], 600);
        assert_eq!(all["programs"].as_array().unwrap().len(), 500);

        let paused = at_yelp.iter().filter(|p| p["program_pause_status"] == "PAUSED").count();
        let (_, page) = app.get_json("/api/reseller/programs?status=PAUSED&limit=500", &session).await;
        assert_eq!(page["total_count"], paused);
        assert!(page["programs"].as_array().unwrap().iter().all(|p| p["program_pause_status"] == "PAUSED"));

        let cpc = at_yelp.iter().filter(|p| p["program_type"] == "CPC").count();
        let (_, page) = app.get_json("/api/reseller/programs?program_type=CPC&sort=budget&order=desc&limit=20", &session).await;
        assert_eq!(page["total_count"], cpc);
        let budgets: Vec<i64> = page["programs"].as_array().unwrap().iter()
            .map(|p| p["program_metrics"]["budget"].as_i64().unwrap()).collect();
        assert!(budgets.windows(2).all(|w| w[0] >= w[1]), "{budgets:?}");
        let max = at_yelp.iter().filter_map(|p| p["program_metrics"]["budget"].as_i64()).max().unwrap();
        assert_eq!(budgets[0], max);

        // Pages of 50 cover the list exactly once.
        let mut seen = std::collections::BTreeSet::new();
        for offset in (0..600).step_by(50) {
            let (_, page) = app.get_json(&format!("/api/reseller/programs?sort=program_id&limit=50&offset={offset}"), &session).await;
            assert_eq!(page["offset"], offset);
            for p in page["programs"].as_array().unwrap() {
                assert!(seen.insert(p["program_id"].as_str().unwrap().to_owned()));
            }
        }
        assert_eq!(seen.len(), 600);

        let business = at_yelp[0]["yelp_business_id"].as_str().unwrap();
        let of_business = at_yelp.iter().filter(|p| p["yelp_business_id"] == business).count();
        let (_, page) = app.get_json(&format!("/api/reseller/programs?business_id={business}"), &session).await;
        assert_eq!(page["total_count"], of_business);
        let (_, page) = app.get_json(&format!("/api/reseller/programs?search={}", &business[3..12].to_lowercase()), &session).await;
        assert!(page["total_count"].as_u64().unwrap() >= of_business as u64);

        let (_, businesses) = app.get_json("/api/reseller/business-ids", &session).await;
        let listed: u64 = businesses["businesses"].as_array().unwrap().iter().map(|b| b["program_count"].as_u64().unwrap()).sum();
        assert_eq!(listed, 600);

        let id = at_yelp[5]["program_id"].as_str().unwrap();
        let (status, info) = app.get_json(&format!("/api/reseller/program_info/{id}"), &session).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(info["errors"], json!([]));
        let program = &info["programs"][0];
        assert_eq!(program["program_id"], id);
        assert_eq!(program["program_type"], at_yelp[5]["program_type"]);
    }
}

on_every_backend! {
    async fn roles_workspaces_and_csrf_are_enforced(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let viewer = app.login(VICTOR).await;
        let response = app.request(Method::POST, "/api/reseller/programs/sync-stream", Some(&viewer)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "a viewer cannot start a sync");

        let operator = app.login(OLGA).await;
        let no_csrf = app.http.post(app.url("/api/reseller/programs/sync-stream")).header("cookie", &operator.cookie).send().await.unwrap();
        assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
        let body: Value = no_csrf.json().await.unwrap();
        assert!(body["error"]["message"].as_str().unwrap().contains("CSRF"));
        let wrong_csrf = app.http.post(app.url("/api/reseller/programs/sync-stream"))
            .header("cookie", &operator.cookie).header("x-csrf-token", "forged").send().await.unwrap();
        assert_eq!(wrong_csrf.status(), StatusCode::FORBIDDEN);

        // Another workspace's program is not found, not forbidden: its existence is not revealed.
        let (status, _) = app.get_json(&format!("/api/reseller/program_info/{}", app.other_program), &operator).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let bob = app.login(BOB).await;
        let (status, info) = app.get_json(&format!("/api/reseller/program_info/{}", app.other_program), &bob).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(info["programs"][0]["program_id"], app.other_program);
        let (_, listed) = app.get_json("/api/reseller/programs", &bob).await;
        assert_eq!(listed["total_count"], 1);
        let finished = read_sse(app.request(Method::POST, "/api/reseller/programs/sync-stream", Some(&operator)).send().await.unwrap()).await;
        let run_id = finished[0].data["run_id"].as_str().unwrap();
        let (status, _) = app.get_json(&format!("/api/sync/runs/{run_id}/events"), &bob).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

on_every_backend! {
    async fn bad_input_gets_a_400_naming_the_field_and_never_a_500(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.login(VICTOR).await;
        for (query, field) in [
            ("status=ACTIVATED", "status"),
            ("program_status=nonsense", "program_status"),
            ("status=CURRENT&program_status=PAST", "program_status"),
            ("program_status=CURRENT&colour=red", "colour"),
            ("all=perhaps", "all"),
            ("all=true&limit=10001", "limit"),
            ("status=nonsense", "status"),
            ("program_type=HOLOGRAM", "program_type"),
            ("offset=-1", "offset"),
            ("limit=10000", "limit"),
            ("limit=0", "limit"),
            ("limit=ten", "limit"),
            ("sort=password", "sort"),
            ("order=sideways", "order"),
            ("include_removed=maybe", "include_removed"),
            ("business_id=../../etc", "business_id"),
        ] {
            let (status, body) = app.get_json(&format!("/api/reseller/programs?{query}"), &session).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
            assert_eq!(body["error"]["field"], field, "{query}: {body}");
        }
        let (status, _) = app.get_json("/api/reseller/program_info/not%2Fan%2Fid", &session).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        for body in ["{", "[]", "{\"username\": 5}", &format!("{{\"username\": \"{}\", \"password\": \"x\"}}", "a".repeat(100_000))] {
            let response = app.request(Method::POST, "/api/auth/login", None)
                .header("content-type", "application/json").body(body.to_owned()).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{}", &body[..body.len().min(40)]);
            let error: Value = response.json().await.unwrap();
            assert!(error["error"]["message"].is_string());
        }
        let response = app.request(Method::GET, "/no/such/thing", Some(&session)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
}

on_every_backend! {
    async fn health_metrics_and_security_headers_are_served(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 40).await;
        let health = app.request(Method::GET, "/healthz", None).send().await.unwrap();
        assert_eq!(health.status(), StatusCode::OK);
        assert_eq!(health.headers()["x-content-type-options"], "nosniff");
        assert_eq!(health.headers()["x-frame-options"], "DENY");
        assert!(health.headers().contains_key("content-security-policy"));
        let operator = app.login(OLGA).await;
        read_sse(app.request(Method::POST, "/api/reseller/programs/sync-stream", Some(&operator)).send().await.unwrap()).await;
        let metrics = app.request(Method::GET, "/metrics", None).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("yelp_ads_http_requests_total{route=\"/api/auth/login\",status=\"200\"} 1"), "{metrics}");
        // 40 programs: one page of 40.
        assert!(metrics.contains("yelp_ads_yelp_api_calls_total{endpoint=\"GET /programs/v1\",outcome=\"ok\"} 1"), "{metrics}");
        assert!(metrics.contains("yelp_ads_sync_runs_total{status=\"synced\"} 1"), "{metrics}");
    }
}

on_every_backend! {
    async fn html_and_json_answers_are_gzipped_for_clients_that_accept_it_and_event_streams_never(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 300).await;
        let session = app.login(OLGA).await;
        // The stream first: it fills the mirror, and its events must arrive as they are, uncompressed.
        let stream = app
            .request(Method::POST, "/api/reseller/programs/sync-stream", Some(&session))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(stream.headers().get("content-encoding"), None);
        let events = read_sse(stream).await;
        assert_eq!(events.last().unwrap().data["type"], "complete", "{events:?}");

        for (path, accept) in [("/programs", "text/html"), ("/api/reseller/programs", "application/json")] {
            let get = |encoding: &'static str| {
                app.request(Method::GET, path, Some(&session))
                    .header("accept", accept)
                    .header("accept-encoding", encoding)
                    .send()
            };
            let plain = get("identity").await.unwrap();
            assert_eq!(plain.status(), StatusCode::OK);
            assert_eq!(plain.headers().get("content-encoding"), None, "{path}");
            let plain = plain.bytes().await.unwrap().len();
            let gzipped = get("gzip").await.unwrap();
            assert_eq!(gzipped.status(), StatusCode::OK);
            assert_eq!(gzipped.headers()["content-encoding"], "gzip", "{path}");
            let gzipped = gzipped.bytes().await.unwrap().len();
            eprintln!("{path}: {plain} bytes, {gzipped} gzipped");
            assert!(gzipped < plain / 3, "{path}: {gzipped} of {plain}");
        }
    }
}

on_every_backend! {
    async fn the_time_limit_cuts_a_slow_answer_but_never_an_event_stream(db: TestDb) {
        // 600 programs in 30 pages of 300 ms each, 8 at a time: a sync lasts at least 1.2 s.
        let tuning = Tuning { sim_latency_ms: 300, request_timeout: Some(Duration::from_millis(500)), ..Tuning::default() };
        let app = TestApp::spawn_tuned(db.store.clone(), 600, test_job_options(), tuning).await;
        let session = app.login(OLGA).await;
        let waited = app.request(Method::POST, "/api/reseller/programs/sync", Some(&session)).send().await.unwrap();
        assert_eq!(waited.status(), StatusCode::REQUEST_TIMEOUT);

        let stream = app.request(Method::POST, "/api/reseller/programs/sync-stream", Some(&session)).send().await.unwrap();
        let events = read_sse(stream).await;
        assert_eq!(events.last().unwrap().data["type"], "complete", "{events:?}");
    }
}
