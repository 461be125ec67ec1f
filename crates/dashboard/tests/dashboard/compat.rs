//! The replaced system's frontend against this server: one test per exchange of
//! `shared/replaced-api.md`, each request exactly as that frontend sends it and each field it reads
//! asserted by name and type. A change that breaks the old client breaks one of these.
//!
//! That frontend (`tarastm95/yelp-ads-dashboard-ui`) talks to the relative base URL `/api` through RTK
//! Query's `fetchBaseQuery`, which sends `Content-Type: application/json` and HTTP Basic with the stored
//! pair on every request (`store/api/yelpApi.ts`); its sign-in page uses a plain `fetch` without either
//! header (`pages/Login.tsx`).

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;

use crate::helpers::on_every_backend;
use crate::web::{OLGA, TestApp, VICTOR, read_sse};

/// The old frontend, signed in with `pair`.
struct OldFrontend<'a> {
    app: &'a TestApp,
    pair: (&'static str, &'static str),
    http: reqwest::Client,
}

impl<'a> OldFrontend<'a> {
    fn new(app: &'a TestApp, pair: (&'static str, &'static str)) -> Self {
        Self {
            app,
            pair,
            http: reqwest::Client::new(),
        }
    }

    /// A request as `fetchBaseQuery` makes it: `/api` + `path`, JSON content type, HTTP Basic.
    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.app.url(&format!("/api{path}")))
            .header("content-type", "application/json")
            .basic_auth(self.pair.0, Some(self.pair.1))
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        answer(self.request(Method::GET, path).send().await.unwrap()).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        answer(
            self.request(Method::POST, path)
                .body(body.to_string())
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// A request as the sign-in page makes it: JSON, no Authorization header.
    async fn sign_in_page(&self, path: &str, username: &str, password: &str) -> reqwest::Response {
        self.http
            .post(self.app.url(&format!("/api{path}")))
            .header("content-type", "application/json")
            .body(json!({"username": username, "password": password}).to_string())
            .send()
            .await
            .unwrap()
    }

    /// The automatic sync, read to its end as the old frontend's stream reader does.
    async fn sync(&self) -> Vec<Value> {
        let response = self
            .request(Method::POST, "/reseller/programs/sync-stream")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        read_sse(response)
            .await
            .into_iter()
            .map(|e| e.data)
            .collect()
    }
}

async fn answer(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {text}")),
    )
}

#[track_caller]
fn string<'v>(item: &'v Value, name: &str) -> &'v str {
    item[name]
        .as_str()
        .unwrap_or_else(|| panic!("`{name}` is not a string in {item}"))
}

#[track_caller]
fn number(item: &Value, name: &str) -> u64 {
    item[name]
        .as_u64()
        .unwrap_or_else(|| panic!("`{name}` is not a whole number in {item}"))
}

#[track_caller]
fn boolean(item: &Value, name: &str) -> bool {
    item[name]
        .as_bool()
        .unwrap_or_else(|| panic!("`{name}` is not a boolean in {item}"))
}

#[track_caller]
fn array<'v>(item: &'v Value, name: &str) -> &'v Vec<Value> {
    item[name]
        .as_array()
        .unwrap_or_else(|| panic!("`{name}` is not an array in {item}"))
}

/// A field that is there, as a string or `null`.
#[track_caller]
fn string_or_null<'v>(item: &'v Value, name: &str) -> Option<&'v str> {
    match item.get(name) {
        Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        other => panic!("`{name}` is not a string or null but {other:?} in {item}"),
    }
}

/// An ISO 8601 time, as `new Date(…)` reads it (the old cards showed "Invalid Date" without one).
#[track_caller]
fn time(item: &Value, name: &str) {
    let text = string(item, name);
    assert!(
        chrono::DateTime::parse_from_rfc3339(text).is_ok(),
        "`{name}` is not an ISO time: {text}"
    );
}

/// The fields the old programs list reads of each program (`types/yelp.ts`, `ProgramsList.tsx`).
#[track_caller]
fn assert_program_item(p: &Value) {
    string(p, "program_id");
    string(p, "program_type");
    string(p, "program_status");
    string(p, "program_pause_status");
    string(p, "start_date");
    string(p, "end_date");
    array(p, "active_features");
    array(p, "available_features");
    string(p, "yelp_business_id");
    string(p, "business_id");
    string_or_null(p, "business_name");
    string_or_null(p, "custom_name");
}

fn ids(programs: &[Value]) -> Vec<String> {
    programs
        .iter()
        .map(|p| string(p, "program_id").to_owned())
        .collect()
}

on_every_backend! {
    async fn validate_credentials_answers_valid_for_a_user_and_the_same_401_for_an_unknown_user_and_a_wrong_password(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let old = OldFrontend::new(&app, OLGA);
        let response = old.sign_in_page("/auth/validate-credentials", OLGA.0, OLGA.1).await;
        let (status, body) = answer(response).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(boolean(&body, "valid"));
        assert_eq!(string(&body, "message"), "Credentials are valid");
        assert_eq!(string(&body, "username"), OLGA.0);

        let mut refusals = Vec::new();
        for (username, password) in [(OLGA.0, "not-her-password"), ("nobody-at-all", "not-her-password")] {
            let (status, mut body) = answer(old.sign_in_page("/auth/validate-credentials", username, password).await).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
            assert!(!boolean(&body, "valid"));
            string(&body, "message");
            // The sign-in page shows `errorData.error` as a string.
            assert_eq!(string(&body, "error"), "Wrong username or password.");
            assert_eq!(string(&body, "detail"), string(&body, "error"));
            assert_eq!(string(&body, "username"), username);
            body.as_object_mut().unwrap().remove("username");
            refusals.push(body);
        }
        assert_eq!(refusals[0], refusals[1], "an unknown user and a wrong password get the same answer");
    }
}

on_every_backend! {
    async fn validate_credentials_is_throttled_with_every_other_sign_in(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let old = OldFrontend::new(&app, OLGA);
        for _ in 0..dashboard::auth::MAX_LOGIN_FAILURES {
            let response = old.sign_in_page("/auth/validate-credentials", OLGA.0, "guess").await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        // The right password is refused now, here and at the sign-in API: one throttle for every sign-in.
        let response = old.sign_in_page("/auth/validate-credentials", OLGA.0, OLGA.1).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(response.headers().get("retry-after").is_some());
        let (_, body) = answer(response).await;
        assert!(!boolean(&body, "valid"));
        assert!(string(&body, "error").starts_with("Too many failed sign-ins"), "{body}");
        let login = old.sign_in_page("/auth/login", OLGA.0, OLGA.1).await;
        assert_eq!(login.status(), StatusCode::TOO_MANY_REQUESTS);
    }
}

on_every_backend! {
    async fn failures_at_the_sign_in_api_throttle_validate_credentials(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let old = OldFrontend::new(&app, VICTOR);
        for _ in 0..dashboard::auth::MAX_LOGIN_FAILURES {
            let response = old.sign_in_page("/auth/login", VICTOR.0, "guess").await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        }
        let response = old.sign_in_page("/auth/validate-credentials", VICTOR.0, VICTOR.1).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    }
}

on_every_backend! {
    async fn save_credentials_answers_200_for_a_user_and_then_http_basic_works(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let old = OldFrontend::new(&app, VICTOR);
        let (status, body) = answer(old.sign_in_page("/auth/save-credentials", VICTOR.0, VICTOR.1).await).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        string(&body, "message");
        assert_eq!(string(&body, "username"), VICTOR.0);
        assert!(!body.to_string().contains(VICTOR.1), "the password is not echoed: {body}");
        // The frontend keeps the pair and sends it as HTTP Basic from now on.
        let (status, _) = old.get("/reseller/programs?offset=0&limit=100&program_status=CURRENT").await;
        assert_eq!(status, StatusCode::OK);

        let (status, body) = answer(old.sign_in_page("/auth/save-credentials", VICTOR.0, "wrong").await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "nothing is saved for a pair that does not sign in");
        assert_eq!(string(&body, "error"), "Wrong username or password.");
        let (status, body) = answer(old.sign_in_page("/auth/save-credentials", "", "").await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(string(&body, "field"), "username");
        string(&body, "error");
    }
}

on_every_backend! {
    async fn every_error_body_carries_detail_beside_error(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let viewer = OldFrontend::new(&app, VICTOR);
        let stranger = OldFrontend::new(&app, ("nobody-at-all", "wrong-password"));
        let cases = [
            (viewer.get("/reseller/programs?limit=ten").await, StatusCode::BAD_REQUEST),
            (stranger.get("/reseller/programs").await, StatusCode::UNAUTHORIZED),
            (viewer.post("/reseller/program/create", json!({"program_name": "EP"})).await, StatusCode::FORBIDDEN),
            (viewer.get("/reseller/program_info/NoSuchProgram00000000a").await, StatusCode::NOT_FOUND),
            (viewer.get("/reseller/status/NoSuchJob").await, StatusCode::NOT_FOUND),
        ];
        for ((status, body), expected) in cases {
            assert_eq!(status, expected, "{body}");
            // `components/ApiErrorMessage.tsx` and `lib/utils.ts` show `data.detail`.
            assert_eq!(string(&body, "detail"), body["error"]["message"].as_str().unwrap(), "{body}");
            string(&body["error"], "code");
        }
    }
}

on_every_backend! {
    async fn the_automatic_sync_streams_events_the_old_frontend_parses(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 120).await;
        let events = OldFrontend::new(&app, OLGA).sync().await;
        for event in &events {
            string(event, "type");
        }
        let last = events.last().unwrap();
        assert_eq!(string(last, "type"), "complete");
        assert_eq!(number(last, "added"), 120);
        string(last, "message");
    }
}

on_every_backend! {
    async fn the_programs_list_takes_program_status_as_the_old_frontend_sends_it(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 300).await;
        let old = OldFrontend::new(&app, OLGA);
        old.sync().await;
        let (status, current) = old.get("/reseller/programs?offset=0&limit=100&program_status=CURRENT").await;
        assert_eq!(status, StatusCode::OK, "{current}");
        let (_, ours) = old.get("/reseller/programs?offset=0&limit=100&status=CURRENT").await;
        assert_eq!(current, ours, "program_status is our status by its old name");
        let (_, everything) = old.get("/reseller/programs?offset=0&limit=100&program_status=ALL").await;
        assert_eq!(number(&everything, "total_count"), 300);
        assert!(number(&current, "total_count") < 300, "the filter narrows the list: {}", current["total_count"]);
        for p in array(&current, "programs") {
            assert_program_item(p);
        }

        // ACTIVE and INACTIVE filter on the program's own status, as the old backend did.
        let at_yelp = app.sim.programs().await;
        for value in ["ACTIVE", "INACTIVE"] {
            let (status, page) = old.get(&format!("/reseller/programs?offset=0&limit=500&program_status={value}")).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            let expected = at_yelp.iter().filter(|p| p["program_status"] == value).count() as u64;
            assert_eq!(number(&page, "total_count"), expected, "{value}");
            assert!(array(&page, "programs").iter().all(|p| p["program_status"] == value));
        }
        // `business_id=all` and `program_type=ALL` mean no filter.
        let (_, no_filter) = old.get("/reseller/programs?offset=0&limit=100&program_status=ALL&business_id=all&program_type=ALL").await;
        assert_eq!(no_filter, everything);
    }
}

on_every_backend! {
    async fn all_true_answers_every_matching_program_in_one_streamed_body(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 600).await;
        let old = OldFrontend::new(&app, OLGA);
        old.sync().await;
        // Past 500 programs the old frontend asks for everything at once.
        let response = old.request(Method::GET, "/reseller/programs?all=true&program_status=ALL&offset=0&limit=10000").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().get("content-length").is_none(), "streamed, not buffered whole");
        let (_, all) = answer(response).await;
        assert!(boolean(&all, "loaded_all"));
        assert_eq!(number(&all, "total_count"), 600);
        let programs = array(&all, "programs");
        assert_eq!(programs.len(), 600);
        assert_eq!(ids(programs).into_iter().collect::<HashSet<_>>().len(), 600, "each program once");
        for p in programs {
            assert_program_item(p);
        }
        // In the list's order: the same programs, in the same order, as our pages of it.
        let (_, page) = old.get("/reseller/programs?program_status=ALL&offset=100&limit=100").await;
        assert_eq!(ids(&programs[100..200]), ids(array(&page, "programs")));

        // Fewer than all: the answer says so.
        let (_, part) = old.get("/reseller/programs?all=true&program_status=ALL&offset=0&limit=250").await;
        assert!(!boolean(&part, "loaded_all"));
        assert_eq!(number(&part, "total_count"), 600);
        assert_eq!(array(&part, "programs").len(), 250);
        string(&part, "warning");
        // Without all=true the page stays at most 500.
        let (status, refused) = old.get("/reseller/programs?offset=0&limit=10000").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(string(&refused["error"], "field"), "limit");
    }
}

on_every_backend! {
    async fn all_true_stops_at_10000_programs_and_says_so(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 0).await;
        let entries: Vec<_> = (0..10_050).map(|i| crate::store::entry(&format!("Bulk{i:018}"), 5000 + i)).collect();
        for page in entries.chunks(400) {
            app.store.write_program_page(&app.workspace_id, page, &mut Default::default(), 1, dashboard::store::MirrorWriter::Refresh).await.unwrap();
        }
        let old = OldFrontend::new(&app, VICTOR);
        let (status, all) = old.get("/reseller/programs?all=true&program_status=ALL&offset=0&limit=10000").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(number(&all, "total_count"), 10_050);
        assert_eq!(array(&all, "programs").len(), 10_000);
        assert!(!boolean(&all, "loaded_all"));
        assert_eq!(number(&all, "limit"), 10_000);
        assert!(string(&all, "warning").contains("at most 10000"), "{}", all["warning"]);
        let (_, rest) = old.get("/reseller/programs?all=true&program_status=ALL&offset=10000").await;
        assert_eq!(array(&rest, "programs").len(), 50);
        let (status, body) = old.get("/reseller/programs?all=true&limit=10001").await;
        assert_eq!((status, string(&body["error"], "field")), (StatusCode::BAD_REQUEST, "limit"));
    }
}

on_every_backend! {
    async fn a_parameter_that_is_neither_ours_nor_an_old_name_is_a_400_naming_it(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let old = OldFrontend::new(&app, VICTOR);
        for (path, field) in [
            ("/reseller/programs?program_state=CURRENT", "program_state"),
            ("/reseller/programs?offset=0&limit=100&program_status=CURRENT&colour=red", "colour"),
            ("/reseller/available-filters?program_status=CURRENT&page=2", "page"),
            ("/reseller/business-ids?search=x", "search"),
            ("/reseller/job-history?days=7&status=ALL&limit=100&sort=asc", "sort"),
            ("/reseller/active-jobs?days=1", "days"),
        ] {
            let (status, body) = old.get(path).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
            assert_eq!(string(&body["error"], "field"), field, "{path}");
            assert!(string(&body, "detail").contains(field), "{path}: {body}");
        }
    }
}

on_every_backend! {
    async fn program_items_carry_business_name_and_custom_name(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 30).await;
        let old = OldFrontend::new(&app, OLGA);
        old.sync().await;
        let (_, list) = old.get("/reseller/programs?offset=0&limit=100&program_status=ALL").await;
        let first = &array(&list, "programs")[0];
        let (id, business) = (string(first, "program_id").to_owned(), string(first, "business_id").to_owned());
        // The sync names businesses from Yelp's business_info; a program's own label is null until set.
        let profile = app.store.business_profile(&app.workspace_id, &business).await.unwrap().unwrap();
        assert!(profile.name.is_some(), "{profile:?}");
        assert_eq!((string_or_null(first, "business_name"), string_or_null(first, "custom_name")), (profile.name.as_deref(), None));

        let (status, set) = old.post(&format!("/reseller/program/{id}/custom-name"), json!({"custom_name": "  Spring push "})).await;
        assert_eq!(status, StatusCode::OK, "{set}");
        assert_eq!((string(&set, "program_id"), string(&set, "custom_name")), (id.as_str(), "Spring push"));
        // Business names come from `businesses.name`, as a later change fills it (bumping the mirror's
        // version, as every change to what lists show does).
        let mut conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
        sqlx::query("UPDATE businesses SET name = $1 WHERE workspace_id = $2 AND business_id = $3")
            .bind("Joe's Plumbing").bind(&app.workspace_id).bind(&business).execute(&mut conn).await.unwrap();
        sqlx::query("UPDATE workspaces SET mirror_version = mirror_version + 1 WHERE id = $1")
            .bind(&app.workspace_id).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();

        let (_, list) = old.get("/reseller/programs?offset=0&limit=100&program_status=ALL").await;
        let item = array(&list, "programs").iter().find(|p| p["program_id"] == id.as_str()).unwrap();
        assert_eq!(string_or_null(item, "custom_name"), Some("Spring push"), "the list shows the new label at once");
        assert_eq!(string_or_null(item, "business_name"), Some("Joe's Plumbing"));
        let (_, all) = old.get("/reseller/programs?all=true&program_status=ALL&offset=0&limit=10000").await;
        let streamed = array(&all, "programs").iter().find(|p| p["program_id"] == id.as_str()).unwrap();
        assert_eq!(streamed, item, "the streamed list names it as the pages do");

        let (status, cleared) = old.post(&format!("/reseller/program/{id}/custom-name"), json!({"custom_name": ""})).await;
        assert_eq!((status, string_or_null(&cleared, "custom_name")), (StatusCode::OK, None));
        let viewer = OldFrontend::new(&app, VICTOR);
        let (status, _) = viewer.post(&format!("/reseller/program/{id}/custom-name"), json!({"custom_name": "x"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = old.post(&format!("/reseller/program/{}/custom-name", app.other_program), json!({"custom_name": "x"})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "another workspace's program");
    }
}

on_every_backend! {
    async fn available_filters_answers_the_choices_of_the_current_filters(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 200).await;
        let old = OldFrontend::new(&app, OLGA);
        old.sync().await;
        let (status, filters) = old.get("/reseller/available-filters?program_status=CURRENT").await;
        assert_eq!(status, StatusCode::OK, "{filters}");
        let statuses: Vec<&str> = array(&filters, "statuses").iter().map(|s| s.as_str().unwrap()).collect();
        assert_eq!(statuses[0], "ALL");
        assert!(statuses.contains(&"CURRENT"), "{statuses:?}");
        let types = array(&filters, "program_types");
        assert_eq!(types[0], "ALL");
        let businesses = array(&filters, "businesses");
        for b in businesses {
            string(b, "business_id");
            string_or_null(b, "business_name");
            number(b, "program_count");
        }
        let (_, current) = old.get("/reseller/programs?offset=0&limit=1&program_status=CURRENT").await;
        let total = number(&filters, "total_programs");
        assert_eq!(total, number(&current, "total_count"));
        assert_eq!(businesses.iter().map(|b| number(b, "program_count")).sum::<u64>(), total);
        let applied = &filters["applied_filters"];
        assert_eq!((string(applied, "program_status"), string(applied, "program_type"), string(applied, "business_id")), ("CURRENT", "ALL", "all"));

        // Narrowed to one business, the choices are that business's.
        let business = string(&businesses[0], "business_id").to_owned();
        let (_, narrowed) = old.get(&format!("/reseller/available-filters?program_status=CURRENT&business_id={business}")).await;
        assert_eq!(array(&narrowed, "businesses").len(), 1);
        assert_eq!(number(&narrowed, "total_programs"), number(&businesses[0], "program_count"));
    }
}

on_every_backend! {
    async fn program_info_answers_yelps_shape_with_programs_and_errors(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let old = OldFrontend::new(&app, OLGA);
        old.sync().await;
        let id = app.sim.programs().await[3]["program_id"].as_str().unwrap().to_owned();
        let (status, info) = old.get(&format!("/reseller/program_info/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        // `types/yelp.ts` ProgramInfoResponse: the edit page fills its form from `programs[0]`.
        assert_eq!(array(&info, "errors").len(), 0);
        let programs = array(&info, "programs");
        assert_eq!(programs.len(), 1);
        assert_program_item(&programs[0]);
        assert_eq!(string(&programs[0], "program_id"), id);
    }
}

on_every_backend! {
    async fn business_ids_items_carry_business_name_program_count_and_active_count(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 200).await;
        let old = OldFrontend::new(&app, OLGA);
        old.sync().await;
        let (status, body) = old.get("/reseller/business-ids").await;
        assert_eq!(status, StatusCode::OK);
        let at_yelp = app.sim.programs().await;
        let businesses = array(&body, "businesses");
        assert_eq!(businesses.iter().map(|b| number(b, "program_count")).sum::<u64>(), 200);
        for b in businesses {
            let id = string(b, "business_id");
            string_or_null(b, "business_name");
            let active = at_yelp.iter().filter(|p| p["yelp_business_id"] == id && p["program_status"] == "ACTIVE").count();
            assert_eq!(number(b, "active_count"), active as u64, "{b}");
        }
    }
}

on_every_backend! {
    async fn business_programs_answers_that_business_in_yelps_shape(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 200).await;
        let old = OldFrontend::new(&app, OLGA);
        old.sync().await;
        let at_yelp = app.sim.programs().await;
        let business = at_yelp[0]["yelp_business_id"].as_str().unwrap();
        let (status, body) = old.get(&format!("/reseller/business_programs/{business}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(array(&body, "errors").len(), 0);
        let entries = array(&body, "businesses");
        assert_eq!(entries.len(), 1);
        assert_eq!(string(&entries[0], "yelp_business_id"), business);
        string_or_null(&entries[0], "partner_business_id");
        string_or_null(&entries[0], "advertiser_status");
        string_or_null(&entries[0], "destination_yelp_business_id");
        let expected: HashSet<&str> = at_yelp.iter().filter(|p| p["yelp_business_id"] == business).map(|p| p["program_id"].as_str().unwrap()).collect();
        let programs = array(&entries[0], "programs");
        for p in programs {
            assert_program_item(p);
        }
        assert_eq!(ids(programs).iter().map(String::as_str).collect::<HashSet<_>>(), expected);
        let (status, _) = old.get("/reseller/business_programs/NoSuchBusiness0000000a").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

/// Creates a CPC program as the old create page does (with its extra `currency`) and follows the job
/// to its end through the job's event stream; answers the job id.
async fn create_cpc(app: &TestApp, old: &OldFrontend<'_>, budget: f64) -> String {
    let business = app.sim.good_business().await;
    let start = chrono::Utc::now().date_naive().to_string();
    let (status, created) = old.post("/reseller/program/create", json!({
        "business_id": business, "program_name": "CPC", "budget": budget, "is_autobid": true,
        "start": start, "currency": "USD",
    })).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{created}");
    let job_id = string(&created, "job_id").to_owned();
    let events = old
        .request(Method::GET, &format!("/reseller/jobs/{job_id}/events"))
        .send()
        .await
        .unwrap();
    let last = read_sse(events).await.pop().unwrap().data;
    assert!(
        last["status"] == "COMPLETED" || last["status"] == "FAILED",
        "{last}"
    );
    job_id
}

on_every_backend! {
    async fn job_history_takes_status_all_and_answers_count_and_the_old_field_names(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let old = OldFrontend::new(&app, OLGA);
        old.sync().await;
        let job_id = create_cpc(&app, &old, 300.29).await;
        let (status, history) = old.get("/reseller/job-history?days=7&status=ALL&limit=100").await;
        assert_eq!(status, StatusCode::OK, "{history}");
        assert_eq!(number(&history, "count"), 1);
        let job = &array(&history, "jobs")[0];
        assert_eq!(string(job, "job_id"), job_id);
        assert_eq!(string(job, "status"), "COMPLETED");
        let program_id = string(job, "program_id");
        assert_eq!(string(job, "partner_program_id"), program_id);
        string(job, "business_id");
        assert_eq!(string(job, "product_type"), "CPC");
        time(job, "created_date");
        time(job, "modified_date");
        // Dollars with two decimals, as the old backend's decimal field wrote them.
        assert_eq!(string(job, "budget_amount"), "300.29");
        assert_eq!(string(job, "start_date"), chrono::Utc::now().date_naive().to_string());
        string_or_null(job, "end_date");

        let (_, active) = old.get("/reseller/active-jobs").await;
        assert_eq!(number(&active, "count"), 1);
        let item = &array(&active, "jobs")[0];
        assert_eq!(string(item, "partner_program_id"), program_id);
        time(item, "created_date");
        // The old history's other status choices: Yelp's names for ours.
        for (value, count) in [("COMPLETED", 1), ("PROCESSING", 0), ("REJECTED", 0), ("FAILED", 0)] {
            let (status, body) = old.get(&format!("/reseller/job-history?days=7&status={value}&limit=100")).await;
            assert_eq!(status, StatusCode::OK, "{value}: {body}");
            assert_eq!(number(&body, "count"), count, "{value}");
        }
    }
}

on_every_backend! {
    async fn a_job_yelp_rejects_carries_its_receipt_as_status_data(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let old = OldFrontend::new(&app, OLGA);
        old.sync().await;
        let business = app.sim.good_business().await;
        app.sim.control(Method::PATCH, &format!("/_sim/businesses/{business}"), Some(json!({"active": false}))).await;
        let start = chrono::Utc::now().date_naive().to_string();
        let (status, created) = old.post("/reseller/program/create", json!({
            "business_id": business, "program_name": "EP", "start": start,
        })).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{created}");
        let job_id = string(&created, "job_id");
        let events = old.request(Method::GET, &format!("/reseller/jobs/{job_id}/events")).send().await.unwrap();
        assert_eq!(read_sse(events).await.pop().unwrap().data["status"], "FAILED");
        let (_, history) = old.get("/reseller/job-history?days=7&status=REJECTED&limit=100").await;
        let job = &array(&history, "jobs")[0];
        assert_eq!(string(job, "job_id"), job_id);
        assert_eq!(string(job, "status"), "FAILED");
        // `JobHistory.tsx` shows `status_data.business_results[0].error`.
        let results = array(&job["status_data"], "business_results");
        assert_eq!(string(&results[0]["error"], "code"), "BUSINESS_NOT_ACTIVE", "{}", job["status_data"]);
        string(&results[0]["error"], "message");
    }
}

on_every_backend! {
    async fn the_status_answer_carries_the_new_program_id_in_business_results(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let old = OldFrontend::new(&app, OLGA);
        old.sync().await;
        let job_id = create_cpc(&app, &old, 250.0).await;
        let (status, job) = old.get(&format!("/reseller/status/{job_id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(string(&job, "status"), "COMPLETED");
        time(&job, "created_at");
        time(&job, "completed_at");
        // `JobTracker.tsx` reads the new program's id from the first business result.
        let program_id = string(&array(&job, "business_results")[0], "program_id");
        assert_eq!(program_id, string(&job, "program_id"));
        let (status, info) = old.get(&format!("/reseller/program_info/{program_id}")).await;
        assert_eq!(status, StatusCode::OK, "the new program is in the mirror: {info}");
    }
}
