//! The defects a security and bad-input battery found (issue 11), each with the test that showed it:
//! sign-in throttling, NUL bytes, the write-only Yelp password and the connection test, file modes, the
//! list cache's bound, slow clients, double submissions, and the smaller ones.

use std::time::Duration;

use dashboard::auth::{self, LoginError};
use dashboard::store::{Role, new_id};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::on_every_backend;
use crate::web::{ALICE, OLGA, TestApp, Tuning, VICTOR, read_sse, test_job_options};

const PASSWORD: &str = "a-long-password";

async fn user(store: &dashboard::store::Store, workspace_id: &str, name: &str) {
    let hash = auth::hash_password(PASSWORD).unwrap();
    store
        .create_user(workspace_id, name, &hash, Role::Viewer)
        .await
        .unwrap();
}

on_every_backend! {
    async fn a_success_forgets_only_its_own_users_failures_not_its_addresss(db: TestDb) {
        let store = &db.store;
        let ws = store.create_workspace("acme", "http://127.0.0.1:9", "p", None).await.unwrap().id;
        for name in ["ann", "ben", "cat"] {
            user(store, &ws, name).await;
        }
        let now = 1_700_000_000_000;
        let addr = "198.51.100.4";
        // Four guesses at ben, then a success as ann, then one guess at cat: five failures from one
        // address, which must lock it however the guesses are interleaved with successes.
        for i in 0..4 {
            let err = auth::login(store, "ben", "guess", addr, now + i).await.unwrap_err();
            assert!(matches!(err, LoginError::Invalid), "{err}");
        }
        auth::login(store, "ann", PASSWORD, addr, now + 10).await.unwrap();
        let err = auth::login(store, "cat", "guess", addr, now + 11).await.unwrap_err();
        assert!(matches!(err, LoginError::Invalid), "{err}");
        let locked = auth::login(store, "ann", PASSWORD, addr, now + 12).await.unwrap_err();
        assert!(matches!(locked, LoginError::Throttled { .. }), "the address is locked: {locked}");
        // ann's own success cleared ann's count, and ben's four stay counted against ben.
        assert_eq!(store.throttle_state("user:ann").await.unwrap(), None);
        assert_eq!(store.throttle_state("user:ben").await.unwrap().unwrap().failures, 4);
    }
}

on_every_backend! {
    async fn right_passwords_sent_at_the_same_moment_all_sign_in_and_wrong_ones_count_one_each(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 0).await;
        let http = reqwest::Client::new();
        let login = |body: Value| http.post(app.url("/api/auth/login")).json(&body).send();
        let burst = (0..12).map(|_| login(json!({"username": OLGA.0, "password": OLGA.1})));
        for answer in futures::future::join_all(burst).await {
            let answer = answer.unwrap();
            assert_eq!(answer.status(), StatusCode::OK, "{:?}", answer.headers().get("retry-after"));
        }
        // Wrong ones at the same moment still count one each: five lock the username.
        let wrong = (0..5).map(|_| login(json!({"username": VICTOR.0, "password": "not-it"})));
        for answer in futures::future::join_all(wrong).await {
            assert_eq!(answer.unwrap().status(), StatusCode::BAD_REQUEST);
        }
        let locked = login(json!({"username": VICTOR.0, "password": VICTOR.1})).await.unwrap();
        assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    }
}

/// Asserts a JSON 400 naming `field`.
async fn refused(response: reqwest::Response, field: &str, what: &str) {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
    assert_eq!(body["error"]["field"], field, "{what}: {body}");
}

on_every_backend! {
    async fn nul_and_control_characters_are_refused_at_the_edge_naming_the_field(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 0).await;
        let admin = app.login(ALICE).await;
        for query in ["search=%00", "search=a%00b", "search=%1B%5B2J"] {
            let response = app.request(Method::GET, &format!("/api/reseller/programs?{query}"), Some(&admin)).send().await.unwrap();
            refused(response, "search", query).await;
        }
        let page = app.request(Method::GET, "/programs?search=%00", Some(&admin)).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::BAD_REQUEST, "the programs page");

        let login = app.request(Method::POST, "/api/auth/login", None)
            .json(&json!({"username": "ali\u{0}ce", "password": ALICE.1})).send().await.unwrap();
        refused(login, "username", "the sign-in API").await;

        let basic = app.request(Method::GET, "/api/reseller/programs", None)
            .basic_auth("ali\u{0}ce", Some(ALICE.1)).send().await.unwrap();
        refused(basic, "username", "HTTP Basic").await;

        let form = crate::pages::sign_in_with_form(&app, "/programs", "ali\u{0}ce", ALICE.1).await;
        assert_eq!(form.status, StatusCode::BAD_REQUEST, "the sign-in form");

        let role = app.request(Method::POST, "/api/settings/users/a%00b/role", Some(&admin))
            .json(&json!({"role": "viewer"})).send().await.unwrap();
        refused(role, "user_id", "a user id in the path").await;

        for (field, value) in [("yelp_username", "agency\u{0}partner"), ("yelp_base_url", "http://127.0.0.1:9/\u{0}")] {
            let response = app.request(Method::POST, "/api/settings/credentials", Some(&admin))
                .json(&json!({field: value, "yelp_password": "a-new-password"})).send().await.unwrap();
            refused(response, field, field).await;
        }
        // The mirror and the credentials are as they were.
        let (status, body) = app.get_json("/api/settings/credentials", &admin).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!body["yelp_username"].as_str().unwrap().contains('\u{0}'));
    }
}

/// A server on loopback that answers every request 403 with a body that must never reach a user.
async fn internal_admin_page() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let body = "INTERNAL-ADMIN-PAGE db_password=hunter2-internal";
                let answer = format!(
                    "HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    url
}

on_every_backend! {
    async fn the_stored_yelp_password_goes_nowhere_new_and_no_remote_body_is_quoted(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 0).await;
        let admin = app.login(ALICE).await;
        let internal = internal_admin_page().await;
        let set = |body: Value| app.request(Method::POST, "/api/settings/credentials", Some(&admin)).json(&body).send();

        // A new place or a new username needs the password again: the stored one goes nowhere new.
        refused(set(json!({"yelp_base_url": internal})).await.unwrap(), "yelp_password", "a new base URL").await;
        refused(set(json!({"yelp_username": "someone-else"})).await.unwrap(), "yelp_password", "a new username").await;
        let (_, stored) = app.get_json("/api/settings/credentials", &admin).await;
        assert_eq!(stored["yelp_base_url"], app.sim.base_url(), "nothing changed");

        // Plain http only on loopback (tests, the demo, a local proxy).
        let insecure = set(json!({"yelp_base_url": "http://partner-api.example.com", "yelp_password": "x-password"})).await.unwrap();
        refused(insecure, "yelp_base_url", "http beyond loopback").await;

        // With the password typed in, the admin may point it at anything https or local; the test of the
        // connection then says what failed without quoting what answered.
        let ok = set(json!({"yelp_base_url": internal, "yelp_password": "typed-again"})).await.unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        let test = app.request(Method::POST, "/api/settings/test-connection", Some(&admin)).send().await.unwrap();
        assert_eq!(test.status(), StatusCode::OK);
        let result: Value = test.json().await.unwrap();
        let message = result["message"].as_str().unwrap();
        assert_eq!(result["ok"], false);
        assert!(message.contains("403"), "{message}");
        assert!(!message.contains("INTERNAL") && !message.contains("hunter2"), "{message}");
        // The settings page says the same.
        let page = app.request(Method::POST, "/settings/test-connection", Some(&admin))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf_token={}", admin.csrf)).send().await.unwrap();
        let html = page.text().await.unwrap();
        assert!(!html.contains("INTERNAL") && !html.contains("hunter2"));
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_and_the_database_files_are_for_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("yelp-ads-modes-{}", new_id()));
    let data_dir = dir.join("data");
    std::fs::create_dir_all(&dir).unwrap();
    let args = dashboard::config::DatabaseConfig::in_dir(&data_dir);
    let store = args.open().await.unwrap();
    // A write, so that the WAL and its index exist.
    store
        .workspace_for_credentials("http://127.0.0.1:9", "u")
        .await
        .unwrap();
    let mode = |name: &str| {
        std::fs::metadata(data_dir.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(
        std::fs::metadata(&data_dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    for file in ["yelp-ads.db", "yelp-ads.db-wal", "yelp-ads.db-shm"] {
        assert_eq!(mode(file), 0o600, "{file}");
    }
    store.close().await;

    // An existing file others can read is reported (the server warns at start-up).
    std::fs::set_permissions(
        data_dir.join("yelp-ads.db"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let open = dashboard::secrets::readable_by_others(&data_dir);
    assert_eq!(open, vec![data_dir.join("yelp-ads.db")]);
    let _ = std::fs::remove_dir_all(dir);
}

on_every_backend! {
    async fn wrong_methods_and_undecodable_paths_answer_the_json_error(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 0).await;
        let session = app.login(VICTOR).await;
        let wrong = app.request(Method::DELETE, "/api/reseller/programs", Some(&session)).send().await.unwrap();
        assert_eq!(wrong.status(), StatusCode::METHOD_NOT_ALLOWED);
        let body: Value = wrong.json().await.unwrap();
        assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");

        let undecodable = app.request(Method::GET, "/api/reseller/program_info/%FF%FE", Some(&session)).send().await.unwrap();
        assert_eq!(undecodable.status(), StatusCode::BAD_REQUEST);
        assert!(undecodable.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        let body: Value = undecodable.json().await.unwrap();
        assert_eq!(body["error"]["field"], "program_id", "{body}");
    }
}

on_every_backend! {
    async fn a_yelp_id_outside_the_usual_alphabet_that_the_mirror_holds_can_be_opened(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 0).await;
        let odd = "Odd+Id/With=Chars.x";
        let mut entry = crate::store::entry(odd, 5000);
        entry.raw["businesses"][0]["yelp_business_id"] = json!("biz+odd/1");
        entry.program = serde_json::from_value(entry.raw.clone()).unwrap();
        app.store.write_program_page(&app.workspace_id, &[entry], &mut Default::default(), 1, dashboard::store::MirrorWriter::Refresh).await.unwrap();
        let session = app.login(OLGA).await;
        let encoded: String = url::form_urlencoded::byte_serialize(odd.as_bytes()).collect();
        let (status, body) = app.get_json(&format!("/api/reseller/program_info/{}", encoded.replace('+', "%2B")), &session).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["programs"][0]["program_id"], odd);
        for page in [format!("/program-status/{encoded}"), format!("/edit/{encoded}")] {
            let page = page.replace('+', "%2B");
            let response = app.request(Method::GET, &page, Some(&session)).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{page}");
        }
        let (status, body) = app.get_json("/api/reseller/programs?business_id=biz%2Bodd%2F1", &session).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["total_count"], 1);
        // What the mirror does not hold is still refused as before.
        let (status, _) = app.get_json("/api/reseller/program_info/not%2Fheld", &session).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
}

#[test]
fn boolean_settings_from_the_environment_accept_1_0_yes_no_true_false() {
    let data_dir = std::env::temp_dir().join(format!("yelp-ads-bool-{}", new_id()));
    for value in ["1", "0", "yes", "no", "true", "false", "TRUE"] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_yelp-ads"))
            .arg("migrate")
            .env("YELP_ADS_SECURE_COOKIES", value)
            .env("YELP_ADS_TRUST_FORWARDED_FOR", value)
            .env("YELP_ADS_DATA_DIR", &data_dir)
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{value}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_yelp-ads"))
        .arg("migrate")
        .env("YELP_ADS_SECURE_COOKIES", "maybe")
        .env("YELP_ADS_DATA_DIR", &data_dir)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(!bad.status.success(), "nonsense is refused");
    let _ = std::fs::remove_dir_all(data_dir);
}

/// The value of a gauge in `/metrics`.
async fn gauge(app: &TestApp, name: &str) -> u64 {
    let text = app
        .request(Method::GET, "/metrics", None)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

on_every_backend! {
    async fn many_distinct_list_queries_keep_the_cached_bodies_within_their_bound(db: TestDb) {
        const BOUND: u64 = 256 * 1024;
        let tuning = Tuning { list_cache_bytes: Some(BOUND), ..Tuning::default() };
        let app = TestApp::spawn_tuned(db.store.clone(), 600, test_job_options(), tuning).await;
        let session = app.synced().await;
        // A hundred distinct pages of 50 (tens of kilobytes each): megabytes of bodies in all.
        let mut served = 0;
        for offset in 0..100 {
            let (status, body) = app.get_json(&format!("/api/reseller/programs?limit=50&offset={offset}"), &session).await;
            assert_eq!(status, StatusCode::OK);
            assert!(body["programs"][0]["program_id"].is_string());
            served += body.to_string().len() as u64;
        }
        assert!(served > 10 * BOUND, "the queries asked for far more than the bound: {served}");
        let held = gauge(&app, "yelp_ads_list_cache_bytes").await;
        assert!(held <= BOUND, "{held} bytes cached over a bound of {BOUND}");
        assert!(held > 0, "the cache is used");
        // A body asked again is still right (from the cache or computed anew).
        let (_, again) = app.get_json("/api/reseller/programs?limit=50&offset=99", &session).await;
        let (_, fresh) = app.get_json("/api/reseller/programs?limit=50&offset=99&order=desc", &session).await;
        assert_eq!(again["programs"], fresh["programs"]);
    }
}

/// Reads a raw connection until the server closes it; `None` when it is still open after `PATIENCE`.
async fn until_closed(socket: &mut tokio::net::TcpStream) -> Option<String> {
    let mut seen = Vec::new();
    match tokio::time::timeout(PATIENCE, socket.read_to_end(&mut seen)).await {
        Ok(_) => Some(String::from_utf8_lossy(&seen).into_owned()),
        Err(_) => None,
    }
}

const PATIENCE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_and_idle_connections_are_closed_while_handlers_and_streams_are_not() {
    let db = crate::helpers::TestDb::sqlite().await;
    let limits = dashboard::web::ConnectionLimits {
        header_read: Duration::from_millis(200),
        idle: Duration::from_millis(400),
    };
    // 600 ms a Yelp request: a sync takes seconds, with quiet spells longer than either limit.
    let tuning = Tuning {
        limits: Some(limits),
        sim_latency_ms: 600,
        ..Tuning::default()
    };
    let app = TestApp::spawn_tuned(db.store.clone(), 300, test_job_options(), tuning).await;

    let mut stalled = Vec::new();
    for _ in 0..10 {
        let mut socket = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        socket
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        stalled.push(socket);
    }
    let mut silent = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let mut kept_alive = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    kept_alive
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();

    // Others are served meanwhile.
    let health = app
        .request(Method::GET, "/healthz", None)
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);

    for (i, socket) in stalled.iter_mut().enumerate() {
        let answer = until_closed(socket).await;
        assert!(
            answer.is_some(),
            "stalled connection {i} is still open after {PATIENCE:?}"
        );
    }
    assert!(
        until_closed(&mut silent).await.is_some(),
        "a connection that never sent a byte is closed"
    );
    let answered = until_closed(&mut kept_alive)
        .await
        .expect("an idle keep-alive connection is closed");
    assert!(
        answered.starts_with("HTTP/1.1 200"),
        "its request was answered first: {answered}"
    );

    // A stream quiet for longer than the limits is not cut, nor is a handler that takes seconds. (A new
    // connection for each request: a pooled one may be closed for idleness just as it is reused.)
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let session = crate::helpers::sign_in(&http, &app.url(""), OLGA).await;
    let post = |path: &str| session.request(&http, Method::POST, app.url(path)).send();
    let stream = post("/api/reseller/programs/sync-stream").await.unwrap();
    let events = read_sse(stream).await;
    assert_eq!(
        events.last().unwrap().data["type"],
        "complete",
        "{events:?}"
    );
    let started = std::time::Instant::now();
    let sync = post("/api/reseller/programs/sync").await.unwrap();
    assert_eq!(sync.status(), StatusCode::OK);
    let body: Value = sync.json().await.unwrap();
    assert_eq!(body["type"], "complete", "{body}");
    assert!(
        started.elapsed() > limits.idle,
        "the handler outlasted the idle limit"
    );
}

/// A create of a CPC program of `business` with `budget` dollars, starting today.
fn create_body(business: &str, budget: &str) -> Value {
    let today = chrono::Utc::now().date_naive();
    json!({
        "business_id": business, "program_name": "CPC", "start": today.to_string(),
        "end": (today + chrono::Duration::days(30)).to_string(), "budget": budget, "is_autobid": true,
    })
}

async fn post_job(
    app: &TestApp,
    session: &crate::web::Session,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut request = app.request(Method::POST, path, Some(session)).json(&body);
    if let Some(token) = token {
        request = request.header("x-submission-token", token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn yelp_calls(app: &TestApp, endpoint: &str) -> u64 {
    let stats = app.sim.control(Method::GET, "/_sim/stats", None).await;
    stats["requests"][endpoint].as_u64().unwrap_or(0)
}

on_every_backend! {
    async fn a_submission_token_sent_twice_answers_the_first_job_and_reaches_yelp_once(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 40).await;
        let session = app.synced().await;
        let business = app.sim.good_business().await;
        let create = "/api/reseller/program/create";

        // One after the other (a double click whose second request came once the first was answered)...
        let token = "form-token-0000000000000001";
        let (status, first) = post_job(&app, &session, create, Some(token), create_body(&business, "301")).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{first}");
        let (status, second) = post_job(&app, &session, create, Some(token), create_body(&business, "301")).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{second}");
        assert_eq!(first["job_id"], second["job_id"]);

        // ...and at the same moment, with a new token and new values.
        let token = "form-token-0000000000000002";
        let (a, b) = tokio::join!(
            post_job(&app, &session, create, Some(token), create_body(&business, "302")),
            post_job(&app, &session, create, Some(token), create_body(&business, "302")),
        );
        assert_eq!((a.0, b.0), (StatusCode::ACCEPTED, StatusCode::ACCEPTED), "{a:?} {b:?}");
        assert_eq!(a.1["job_id"], b.1["job_id"]);
        assert_eq!(yelp_calls(&app, "POST /v1/reseller/program/create").await, 2, "one create per token");

        // Edits and ends carry tokens the same way.
        let today = chrono::Utc::now().date_naive().to_string();
        let running = app.sim.programs().await.into_iter().find(|p| {
            p["program_type"] == "CPC" && p["program_status"] == "ACTIVE" && p["program_pause_status"] == "NOT_PAUSED"
                && p["start_date"].as_str().unwrap() <= today.as_str() && p["end_date"].as_str().unwrap() > today.as_str()
        }).expect("a running CPC program");
        let program = running["program_id"].as_str().unwrap().to_owned();
        let edit = format!("/api/reseller/program/{program}/edit");
        let token = "form-token-0000000000000003";
        let (_, e1) = post_job(&app, &session, &edit, Some(token), json!({"budget": "455"})).await;
        let (_, e2) = post_job(&app, &session, &edit, Some(token), json!({"budget": "455"})).await;
        assert!(e1["job_id"].is_string(), "{e1}");
        assert_eq!(e1["job_id"], e2["job_id"]);
        assert_eq!(yelp_calls(&app, "POST /v1/reseller/program/{program_id}/edit").await, 1);
        let end = format!("/api/reseller/program/{program}/end");
        let token = "form-token-0000000000000004";
        let (_, n1) = post_job(&app, &session, &end, Some(token), json!({})).await;
        let (_, n2) = post_job(&app, &session, &end, Some(token), json!({})).await;
        assert!(n1["job_id"].is_string(), "{n1}");
        assert_eq!(n1["job_id"], n2["job_id"]);
        assert_eq!(yelp_calls(&app, "POST /v1/reseller/program/{program_id}/end").await, 1);
    }
}

on_every_backend! {
    async fn an_identical_create_within_ten_minutes_needs_confirmation_and_callers_without_tokens_still_work(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 40).await;
        let session = app.synced().await;
        let business = app.sim.good_business().await;
        let create = "/api/reseller/program/create";
        // No token, as scripts and the replaced system's frontend send: accepted as before.
        let (status, first) = post_job(&app, &session, create, None, create_body(&business, "310")).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{first}");
        // The same again: refused, naming the earlier job.
        let (status, again) = post_job(&app, &session, create, None, create_body(&business, "310.00")).await;
        assert_eq!(status, StatusCode::CONFLICT, "{again}");
        assert_eq!(again["error"]["code"], "duplicate");
        assert_eq!(again["error"]["job_id"], first["job_id"]);
        // Another budget is another program.
        let (status, other) = post_job(&app, &session, create, None, create_body(&business, "311")).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{other}");
        // Confirmed, the identical one is sent.
        let mut confirmed = create_body(&business, "310");
        confirmed["confirm_duplicate"] = json!(true);
        let (status, third) = post_job(&app, &session, create, None, confirmed).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{third}");
        assert_ne!(third["job_id"], first["job_id"]);
        assert_eq!(yelp_calls(&app, "POST /v1/reseller/program/create").await, 3);

        // The page without JavaScript: the same refusal, and the box to tick.
        let form = app.request(Method::GET, "/create-program", Some(&session)).send().await.unwrap().text().await.unwrap();
        let token = scraper::Html::parse_document(&form)
            .select(&scraper::Selector::parse("#program-form input[name=submission_token]").unwrap())
            .next().expect("the form carries a token").value().attr("value").unwrap().to_owned();
        let fields = |confirm: bool| {
            let mut body = url::form_urlencoded::Serializer::new(String::new());
            body.append_pair("csrf_token", &session.csrf).append_pair("submission_token", &token)
                .append_pair("business_id", &business).append_pair("program_name", "CPC")
                .append_pair("start", create_body(&business, "1")["start"].as_str().unwrap())
                .append_pair("budget", "311").append_pair("is_autobid", "on");
            if confirm {
                body.append_pair("confirm_duplicate", "yes");
            }
            body.finish()
        };
        let post_form = |body: String| app.request(Method::POST, "/create-program", Some(&session))
            .header("content-type", "application/x-www-form-urlencoded").body(body).send();
        let refused = post_form(fields(false)).await.unwrap();
        assert_eq!(refused.status(), StatusCode::CONFLICT);
        let html = scraper::Html::parse_document(&refused.text().await.unwrap());
        let panel = html.select(&scraper::Selector::parse("#duplicate-confirm").unwrap()).next().expect("the confirmation");
        assert!(panel.value().attr("hidden").is_none(), "shown");
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let send = |body: String| client.post(app.url("/create-program")).header("cookie", &session.cookie)
            .header("content-type", "application/x-www-form-urlencoded").body(body).send();
        let sent = send(fields(true)).await.unwrap();
        assert_eq!(sent.status(), StatusCode::SEE_OTHER);
        // The same form posted again (a double click without JavaScript) lands on the same job.
        let resent = send(fields(true)).await.unwrap();
        assert_eq!(resent.headers()["location"], sent.headers()["location"]);
        assert_eq!(yelp_calls(&app, "POST /v1/reseller/program/create").await, 4);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_metrics_token_the_metrics_are_only_for_who_bears_it() {
    let db = crate::helpers::TestDb::sqlite().await;
    let tuning = Tuning {
        metrics_token: Some("scrape-token-1"),
        ..Tuning::default()
    };
    let app = TestApp::spawn_tuned(db.store.clone(), 0, test_job_options(), tuning).await;
    let metrics = || app.request(Method::GET, "/metrics", None);
    assert_eq!(
        metrics().send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let wrong = metrics()
        .bearer_auth("scrape-token-2")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = metrics()
        .bearer_auth("scrape-token-1")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::OK);
    assert!(
        right
            .text()
            .await
            .unwrap()
            .contains("yelp_ads_http_requests_total")
    );
}
