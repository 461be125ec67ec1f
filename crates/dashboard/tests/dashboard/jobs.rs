//! Program operations as tracked jobs, against the simulator (jobs of 0.3 s, a watcher polling every
//! 50–200 ms).

use std::time::{Duration, Instant};

use chrono::Utc;
use dashboard::jobs::{JobOptions, JobStatus, JobType};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::on_every_backend;
use crate::web::{ALICE, BOB, Session, TestApp, VICTOR, read_sse, test_job_options};

async fn post(app: &TestApp, path: &str, session: &Session, body: Value) -> (StatusCode, Value) {
    app.post_json(path, session, &body).await
}

fn today() -> String {
    Utc::now().date_naive().to_string()
}

fn in_days(days: i64) -> String {
    (Utc::now().date_naive() + chrono::Duration::days(days)).to_string()
}

/// Submits and answers the job id, asserting 202.
async fn submit(app: &TestApp, path: &str, session: &Session, body: Value) -> String {
    let (status, answer) = post(app, path, session, body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{path}: {answer}");
    answer["job_id"].as_str().unwrap().to_owned()
}

/// Polls the status endpoint until the job ends; answers every distinct status seen and the final body.
pub(crate) async fn wait_for_end(
    app: &TestApp,
    session: &Session,
    job_id: &str,
) -> (Vec<String>, Value) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen: Vec<String> = Vec::new();
    loop {
        let (status, body) = app
            .get_json(&format!("/api/reseller/status/{job_id}"), session)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let s = body["status"].as_str().unwrap().to_owned();
        if seen.last() != Some(&s) {
            seen.push(s.clone());
        }
        if s == "COMPLETED" || s == "FAILED" {
            return (seen, body);
        }
        assert!(
            Instant::now() < deadline,
            "job {job_id} did not end: {body}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A program of the simulator matching `wanted`.
async fn sim_program(app: &TestApp, wanted: impl Fn(&Value) -> bool) -> Value {
    app.sim
        .programs()
        .await
        .into_iter()
        .find(|p| wanted(p))
        .expect("the simulator has such a program")
}

fn running_cpc(p: &Value) -> bool {
    let today = today();
    p["program_type"] == "CPC"
        && p["program_status"] == "ACTIVE"
        && p["program_pause_status"] == "NOT_PAUSED"
        && p["start_date"].as_str().unwrap() <= today.as_str()
        && p["end_date"].as_str().unwrap() > today.as_str()
}

async fn mirrored(app: &TestApp, session: &Session, program_id: &str) -> Value {
    let (status, body) = app
        .get_json(&format!("/api/reseller/program_info/{program_id}"), session)
        .await;
    assert_eq!(status, StatusCode::OK, "{program_id} in the mirror: {body}");
    // Yelp's shape for program info: the program is the only one in `programs`.
    assert_eq!(body["errors"], json!([]), "{body}");
    assert_eq!(body["programs"].as_array().map(Vec::len), Some(1), "{body}");
    body["programs"][0].clone()
}

async fn sim_requests(app: &TestApp) -> Value {
    app.sim.control(Method::GET, "/_sim/stats", None).await["requests"].clone()
}

on_every_backend! {
    async fn a_cpc_create_goes_pending_then_in_progress_then_completed_and_its_program_is_in_the_mirror_at_once(db: TestDb) {
        // Slow enough that each state lasts long enough to be seen on a loaded machine (CI runs two
        // hundred tests at once on two cores): PENDING for the first 2 s, then IN_PROGRESS until Yelp
        // finishes at 4 s.
        let options = JobOptions { first_check: Duration::from_secs(2), ..test_job_options() };
        let app = TestApp::spawn_with(db.store.clone(), 40, options).await;
        app.sim.control(Method::PUT, "/_sim/settings", Some(json!({"job_seconds": 4.0}))).await;
        let session = app.synced().await;
        let business = app.sim.good_business().await;
        let job_id = submit(&app, "/api/reseller/program/create", &session, json!({
            "business_id": business, "program_name": "CPC", "start": today(), "end": in_days(60),
            "budget": 300.29, "is_autobid": false, "max_bid": "1.25", "pacing_method": "paced",
            "ad_categories": ["plumbing"],
        })).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen: Vec<String> = Vec::new();
        let body = loop {
            let (_, body) = app.get_json(&format!("/api/reseller/status/{job_id}"), &session).await;
            let status = body["status"].as_str().unwrap().to_owned();
            if seen.last() != Some(&status) {
                seen.push(status.clone());
            }
            if status == "COMPLETED" || status == "FAILED" {
                break body;
            }
            // No completed create yet in this workspace: the typical duration is the default 30 s.
            // Progress and ETA both measure the time elapsed against those 30 s (how much has elapsed
            // depends on the machine's load).
            let progress = body["progress"].as_u64().unwrap();
            let eta = body["eta_seconds"].as_u64().unwrap();
            assert!(progress <= 95 && eta <= 30, "{body}");
            assert!((29..=31).contains(&(progress * 3 / 10 + eta)), "{body}");
            assert!(body["completed_at"].is_null());
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        // The first time COMPLETED is visible, the program is already in the mirror.
        let program_id = body["program_id"].as_str().expect("the new program's id").to_owned();
        let program = mirrored(&app, &session, &program_id).await;
        assert_eq!(seen, ["PENDING", "IN_PROGRESS", "COMPLETED"], "{body}");
        assert_eq!(body["job_type"], "create");
        assert_eq!(body["yelp_status"], "COMPLETED");
        assert_eq!(body["progress"], 100);
        assert!(body["completed_at"].as_str().is_some() && body["created_at"].as_str().is_some());
        assert_eq!(body["errors"], json!([]));
        assert!(!body["business_results"].as_array().unwrap().is_empty());
        assert_eq!(program["program_type"], "CPC");
        assert_eq!(program["program_metrics"]["budget"], 30029);
        assert_eq!(program["program_metrics"]["max_bid"], 125);
        let created = app.sim.control(Method::GET, &format!("/_sim/programs/{program_id}"), None).await;
        assert_eq!(created["program_id"], program_id.as_str());
        // A job's own duration never measures its progress: its record read just before it completed
        // would otherwise show 95 % with no time left (this test once saw that under load).
        let durations = |except: &'static str| app.store.recent_job_durations(&app.workspace_id, JobType::Create, except);
        assert_eq!(durations("another job").await.unwrap().len(), 1);
        let own = app.store.recent_job_durations(&app.workspace_id, JobType::Create, &job_id).await.unwrap();
        assert!(own.is_empty(), "{own:?}");
    }
}

on_every_backend! {
    async fn edit_duplicate_end_pause_and_resume_each_end_in_the_right_program_state(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 200).await;
        let session = app.synced().await;
        let running = sim_program(&app, running_cpc).await;
        let id = running["program_id"].as_str().unwrap().to_owned();

        // Edit: a new budget.
        let job = submit(&app, &format!("/api/reseller/program/{id}/edit"), &session, json!({"budget": "412.50"})).await;
        let (_, body) = wait_for_end(&app, &session, &job).await;
        assert_eq!(body["status"], "COMPLETED", "{body}");
        assert_eq!(mirrored(&app, &session, &id).await["program_metrics"]["budget"], 41250);

        // Pause, then resume: synchronous at Yelp, recorded all the same.
        let job = submit(&app, &format!("/api/program/{id}/pause/v1"), &session, json!({})).await;
        let (_, body) = wait_for_end(&app, &session, &job).await;
        assert_eq!((body["status"].as_str(), body["job_type"].as_str()), (Some("COMPLETED"), Some("pause")), "{body}");
        assert_eq!(mirrored(&app, &session, &id).await["program_pause_status"], "PAUSED");
        let job = submit(&app, &format!("/api/program/{id}/resume/v1"), &session, json!({})).await;
        let (_, body) = wait_for_end(&app, &session, &job).await;
        assert_eq!(body["status"], "COMPLETED", "{body}");
        assert_eq!(mirrored(&app, &session, &id).await["program_pause_status"], "NOT_PAUSED");

        // Duplicate: a new program like it, with new dates and budget.
        let job = submit(&app, &format!("/api/reseller/program/{id}/duplicate"), &session,
            json!({"start": in_days(1), "end": in_days(30), "budget": 99})).await;
        let (_, body) = wait_for_end(&app, &session, &job).await;
        assert_eq!(body["status"], "COMPLETED", "{body}");
        let copy_id = body["program_id"].as_str().unwrap().to_owned();
        assert_ne!(copy_id, id);
        let copy = mirrored(&app, &session, &copy_id).await;
        assert_eq!(copy["program_type"], "CPC");
        assert_eq!(copy["start_date"], in_days(1));
        assert_eq!(copy["program_metrics"]["budget"], 9900);
        assert_eq!(copy["yelp_business_id"], running["yelp_business_id"]);

        // End.
        let job = submit(&app, &format!("/api/reseller/program/{id}/end"), &session, json!({})).await;
        let (_, body) = wait_for_end(&app, &session, &job).await;
        assert_eq!((body["status"].as_str(), body["job_type"].as_str()), (Some("COMPLETED"), Some("terminate")), "{body}");
        let ended = mirrored(&app, &session, &id).await;
        assert_eq!(ended["program_status"], "INACTIVE");
        assert_eq!(ended["end_date"], today());

        // The workspace's history holds all five, newest first.
        let (status, history) = app.get_json("/api/reseller/job-history?days=1", &session).await;
        assert_eq!(status, StatusCode::OK);
        let types: Vec<&str> = history["jobs"].as_array().unwrap().iter().map(|j| j["job_type"].as_str().unwrap()).collect();
        assert_eq!(types, ["terminate", "duplicate", "resume", "pause", "edit"]);
        let (_, only) = app.get_json("/api/reseller/job-history?job_type=pause", &session).await;
        assert_eq!(only["total"], 1);
        let (_, active) = app.get_json("/api/reseller/active-jobs", &session).await;
        assert_eq!(active["total"], 5, "finished in the last 5 minutes");
        let (status, bad) = app.get_json("/api/reseller/job-history?status=DONE", &session).await;
        assert_eq!((status, bad["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("status")));
    }
}

on_every_backend! {
    async fn creates_that_yelp_rejects_end_failed_with_readable_reasons(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.synced().await;
        let business = app.sim.good_business().await;

        let job = submit(&app, "/api/reseller/program/create", &session, json!({
            "business_id": business, "program_name": "CPC", "budget": 100, "is_autobid": true,
            "ad_categories": ["plumbing", "notarealcategory"],
        })).await;
        let (_, body) = wait_for_end(&app, &session, &job).await;
        assert_eq!(body["status"], "FAILED", "{body}");
        assert_eq!(body["yelp_status"], "REJECTED");
        let messages: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap()).collect();
        assert_eq!(messages[0], "Category 'notarealcategory' is not a Yelp category alias", "{messages:?}");

        app.sim.control(Method::PATCH, &format!("/_sim/businesses/{business}"), Some(json!({"active": false}))).await;
        let job = submit(&app, "/api/reseller/program/create", &session, json!({
            "business_id": business, "program_name": "EP", "start": today(),
        })).await;
        let (_, body) = wait_for_end(&app, &session, &job).await;
        assert_eq!(body["status"], "FAILED", "{body}");
        assert_eq!(body["errors"][0]["code"], "BUSINESS_NOT_ACTIVE");
        assert_eq!(body["errors"][0]["message"], "The business is not active on Yelp (closed or removed from search)");
    }
}

on_every_backend! {
    async fn every_validation_rule_answers_400_naming_the_field_and_nothing_reaches_yelp(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 200).await;
        let session = app.synced().await;
        let business = app.sim.good_business().await;
        let running = sim_program(&app, running_cpc).await["program_id"].as_str().unwrap().to_owned();
        let not_cpc = sim_program(&app, |p| p["program_type"] != "CPC").await["program_id"].as_str().unwrap().to_owned();
        let started = running.clone();
        app.sim.control(Method::DELETE, "/_sim/stats", None).await;

        let cpc = |extra: Value| {
            let mut body = json!({"business_id": business, "program_name": "CPC", "start": today(),
                                  "end": in_days(30), "budget": 100, "is_autobid": true});
            for (k, v) in extra.as_object().unwrap() {
                if v.is_null() { body.as_object_mut().unwrap().remove(k); } else { body[k] = v.clone(); }
            }
            body
        };
        let create = "/api/reseller/program/create".to_owned();
        let cases: Vec<(String, Value, &str)> = vec![
            (create.clone(), cpc(json!({"budget": 24.99})), "budget"),
            (create.clone(), cpc(json!({"budget": null})), "budget"),
            (create.clone(), cpc(json!({"budget": "lots"})), "budget"),
            (create.clone(), cpc(json!({"is_autobid": false, "max_bid": 0.24})), "max_bid"),
            (create.clone(), cpc(json!({"is_autobid": false})), "max_bid"),
            (create.clone(), cpc(json!({"start": "2026/01/01"})), "start"),
            (create.clone(), cpc(json!({"start": "2020-01-01"})), "start"),
            (create.clone(), cpc(json!({"end": today()})), "end"),
            (create.clone(), cpc(json!({"program_name": "BANNER"})), "program_name"),
            (create.clone(), cpc(json!({"ad_categories": ["Restaurants"]})), "ad_categories"),
            (create.clone(), cpc(json!({"pacing_method": "fast"})), "pacing_method"),
            (create.clone(), cpc(json!({"fee_period": "WEEK"})), "fee_period"),
            (create.clone(), cpc(json!({"business_id": null})), "business_id"),
            (create.clone(), json!({"business_id": business, "program_name": "EP", "budget": 100}), "budget"),
            (create.clone(), json!({"business_id": business, "program_name": "LOGO", "ad_categories": ["plumbing"]}), "ad_categories"),
            (format!("/api/reseller/program/{started}/edit"), json!({"start": in_days(3)}), "start"),
            (format!("/api/reseller/program/{running}/edit"), json!({"budget": 10}), "budget"),
            (format!("/api/reseller/program/{running}/edit"), json!({}), "body"),
            (format!("/api/reseller/program/{not_cpc}/edit"), json!({"max_bid": 2}), "max_bid"),
            (format!("/api/reseller/program/{running}/duplicate"), json!({"start": "2020-01-01"}), "start"),
            (format!("/api/reseller/program/{running}/duplicate"), json!({"budget": 1}), "budget"),
            (format!("/api/program/{not_cpc}/pause/v1"), json!({}), "program_id"),
            (format!("/api/program/{running}/resume/v1"), json!({}), "program_id"),
        ];
        for (path, body, field) in &cases {
            let (status, answer) = post(&app, path, &session, body.clone()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}: {answer}");
            assert_eq!(answer["error"]["field"], *field, "{path} {body}: {answer}");
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(!message.is_empty() && !message.contains("ValidationError"), "{message}");
        }
        // Every failing field at once.
        let (_, answer) = post(&app, &create, &session, cpc(json!({"budget": 1, "end": "2000-01-01", "max_bid": 0.1}))).await;
        let fields: Vec<&str> = answer["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["end", "budget", "max_bid"], "{answer}");
        assert_eq!(answer["error"]["fields"][1]["message"], "Budget must be at least $25.00");
        // Another workspace's program is not found.
        let (status, _) = post(&app, &format!("/api/reseller/program/{}/end", app.other_program), &session, json!({})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        assert_eq!(sim_requests(&app).await, json!({}), "nothing reached the simulator");
    }
}

on_every_backend! {
    async fn a_server_error_on_create_is_not_retried_and_reconciled_as_not_created(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.synced().await;
        let business = app.sim.good_business().await;
        app.sim.control(Method::DELETE, "/_sim/stats", None).await;
        app.sim.set_faults(json!({"error_rate": 1})).await;
        let job = submit(&app, "/api/reseller/program/create", &session, json!({
            "business_id": business, "program_name": "EP", "start": today(),
        })).await;
        app.sim.set_faults(json!({"error_rate": 0})).await;
        let (_, open) = app.get_json(&format!("/api/reseller/status/{job}"), &session).await;
        assert_eq!((open["status"].as_str(), open["yelp_status"].as_str()), (Some("IN_PROGRESS"), Some("UNKNOWN")), "{open}");
        let programs_before = app.sim.programs().await.len();

        let (_, body) = wait_for_end(&app, &session, &job).await;
        assert_eq!(body["status"], "FAILED", "{body}");
        assert_eq!(body["errors"][0]["code"], "NOT_APPLIED");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("no new program appeared within 3 seconds: it was not created"), "{message}");
        let completed = body["completed_at"].as_str().unwrap();
        let created = body["created_at"].as_str().unwrap();
        assert!(completed > created, "ended after the reconcile window: {body}");
        let requests = sim_requests(&app).await;
        assert_eq!(requests["POST /v1/reseller/program/create"], 1, "never resent: {requests}");
        assert!(requests["GET /v1/programs/list/{business_id}"].as_u64().unwrap_or(0) >= 2, "looked more than once: {requests}");
        assert_eq!(app.sim.programs().await.len(), programs_before);
    }
}

on_every_backend! {
    async fn a_create_whose_answer_was_lost_is_found_at_yelp_and_completed_without_resending(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.synced().await;
        let business = app.sim.good_business().await;
        app.sim.control(Method::DELETE, "/_sim/stats", None).await;
        app.sim.set_faults(json!({"lose_answer_rate": 1})).await;
        let job = submit(&app, "/api/reseller/program/create", &session, json!({
            "business_id": business, "program_name": "CPC", "start": today(), "end": in_days(30),
            "budget": 80, "is_autobid": true,
        })).await;
        app.sim.set_faults(json!({"lose_answer_rate": 0})).await;
        let (_, body) = wait_for_end(&app, &session, &job).await;
        assert_eq!((body["status"].as_str(), body["yelp_status"].as_str()), (Some("COMPLETED"), Some("UNKNOWN")), "{body}");
        let program_id = body["program_id"].as_str().expect("the program found at Yelp");
        let program = sim_program(&app, |p| p["program_id"] == program_id).await;
        assert_eq!((program["program_type"].as_str(), program["yelp_business_id"].as_str()), (Some("CPC"), Some(business.as_str())), "{program}");
        let mirrored = mirrored(&app, &session, program_id).await;
        assert_eq!(mirrored["program_metrics"]["budget"], 8000, "{mirrored}");
        assert_eq!(sim_requests(&app).await["POST /v1/reseller/program/create"], 1);
    }
}

on_every_backend! {
    async fn an_edit_and_an_end_whose_answers_were_lost_are_confirmed_from_the_program(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.synced().await;
        let running = sim_program(&app, running_cpc).await["program_id"].as_str().unwrap().to_owned();
        let other = app.sim.programs().await.into_iter()
            .find(|p| running_cpc(p) && p["program_id"] != running.as_str())
            .unwrap()["program_id"].as_str().unwrap().to_owned();
        app.sim.set_faults(json!({"lose_answer_rate": 1})).await;
        let edit = submit(&app, &format!("/api/reseller/program/{running}/edit"), &session, json!({"budget": 123.45})).await;
        let end = submit(&app, &format!("/api/reseller/program/{other}/end"), &session, json!({})).await;
        app.sim.set_faults(json!({"lose_answer_rate": 0})).await;

        let (_, body) = wait_for_end(&app, &session, &edit).await;
        assert_eq!((body["status"].as_str(), body["yelp_status"].as_str()), (Some("COMPLETED"), Some("UNKNOWN")), "{body}");
        assert_eq!(mirrored(&app, &session, &running).await["program_metrics"]["budget"], 12345);
        let (_, body) = wait_for_end(&app, &session, &end).await;
        assert_eq!(body["status"], "COMPLETED", "{body}");
        assert_eq!(mirrored(&app, &session, &other).await["end_date"], today());
        let requests = sim_requests(&app).await;
        assert_eq!(requests["POST /v1/reseller/program/{program_id}/edit"], 1, "{requests}");
        assert_eq!(requests["POST /v1/reseller/program/{program_id}/end"], 1, "{requests}");
    }
}

on_every_backend! {
    async fn a_job_left_unfinished_by_a_stopped_watcher_is_completed_by_a_new_one(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.synced().await;
        let business = app.sim.good_business().await;
        let watcher = app.watcher.lock().unwrap().take().unwrap();
        watcher.stop().await;
        let job = submit(&app, "/api/reseller/program/create", &session, json!({
            "business_id": business, "program_name": "EP", "start": today(),
        })).await;
        // Yelp finishes the job while nobody watches.
        tokio::time::sleep(Duration::from_millis(800)).await;
        let (_, body) = app.get_json(&format!("/api/reseller/status/{job}"), &session).await;
        assert_eq!(body["status"], "PENDING", "{body}");

        // A new server process over the same database: its watcher resumes the job.
        let watcher = app.restarted_watcher().await;
        let (_, body) = wait_for_end(&app, &session, &job).await;
        assert_eq!(body["status"], "COMPLETED", "{body}");
        mirrored(&app, &session, body["program_id"].as_str().unwrap()).await;
        watcher.stop().await;
    }
}

on_every_backend! {
    async fn the_event_stream_of_a_job_ends_with_its_final_status(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.synced().await;
        let business = app.sim.good_business().await;
        let job = submit(&app, "/api/reseller/program/create", &session, json!({
            "business_id": business, "program_name": "CPC", "budget": 50, "is_autobid": true,
        })).await;
        let response = app.request(Method::GET, &format!("/api/reseller/jobs/{job}/events"), Some(&session)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let events = read_sse(response).await;
        let statuses: Vec<&str> = events.iter().map(|e| e.data["status"].as_str().unwrap()).collect();
        assert_eq!(statuses.last(), Some(&"COMPLETED"), "{statuses:?}");
        assert!(statuses.windows(2).all(|w| w[0] != w[1]), "one event per change: {statuses:?}");
        let ids: Vec<String> = (1..=events.len()).map(|i| i.to_string()).collect();
        assert_eq!(events.iter().map(|e| e.id.clone().unwrap()).collect::<Vec<_>>(), ids);
        // A finished job's stream is its final state, then the end.
        let response = app.request(Method::GET, &format!("/api/reseller/jobs/{job}/events"), Some(&session)).send().await.unwrap();
        let again = read_sse(response).await;
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].data["status"], "COMPLETED");
    }
}

on_every_backend! {
    async fn another_workspaces_job_answers_404_and_a_viewer_gets_403(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.synced().await;
        let business = app.sim.good_business().await;
        let job = submit(&app, "/api/reseller/program/create", &session, json!({
            "business_id": business, "program_name": "EP",
        })).await;
        let bob = app.login(BOB).await;
        for path in [format!("/api/reseller/status/{job}"), format!("/api/reseller/jobs/{job}/events")] {
            let (status, _) = app.get_json(&path, &bob).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
        let (_, history) = app.get_json("/api/reseller/job-history", &bob).await;
        assert_eq!(history["total"], 0);

        let victor = app.login(VICTOR).await;
        let (status, answer) = post(&app, "/api/reseller/program/create", &victor, json!({
            "business_id": business, "program_name": "EP",
        })).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
        let (status, _) = app.get_json(&format!("/api/reseller/status/{job}"), &victor).await;
        assert_eq!(status, StatusCode::OK, "a viewer reads jobs");
        let alice = app.login(ALICE).await;
        let (status, _) = post(&app, &format!("/api/reseller/program/{}/end", app.other_program), &alice, json!({})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

on_every_backend! {
    async fn one_watcher_at_a_time_holds_a_due_job_until_its_lease_ends(db: TestDb) {
        let ws = db.store.create_workspace("Agency L", "http://127.0.0.1:9", "l", None).await.unwrap();
        let now = dashboard::store::now_ms();
        let job = dashboard::store::JobRecord {
            id: "LeaseJob".into(), workspace_id: ws.id.clone(), user_id: None, username: None,
            job_type: JobType::Create, program_id: None, business_id: None, request: "{}".into(),
            yelp_job_id: Some("LeaseJob".into()), status: JobStatus::Pending, yelp_status: None,
            receipt: None, errors: None, created_at: now, updated_at: now, completed_at: None,
            next_poll_at: Some(now), poll_count: 0, submission_token: None, fingerprint: None,
        };
        db.store.insert_job(&job).await.unwrap();
        let a = db.store.claim_due_jobs("watcher-a", now, now + 1000, 10).await.unwrap();
        let b = db.store.claim_due_jobs("watcher-b", now, now + 1000, 10).await.unwrap();
        assert_eq!((a.len(), b.len()), (1, 0));
        // Watcher A died: once its lease has run out, B takes the job over.
        let b = db.store.claim_due_jobs("watcher-b", now + 1001, now + 2000, 10).await.unwrap();
        assert_eq!(b.len(), 1);
        assert!(db.store.update_job_progress("LeaseJob", "watcher-b", JobStatus::InProgress, Some("PROCESSING"), None, now + 5000, now).await.unwrap());
        assert!(db.store.claim_due_jobs("watcher-a", now + 4000, now + 9000, 10).await.unwrap().is_empty(), "not due yet");
        assert_eq!(db.store.claim_due_jobs("watcher-a", now + 5000, now + 9000, 10).await.unwrap().len(), 1);
        assert!(db.store.finish_job("LeaseJob", Some("watcher-a"), JobStatus::Completed, Some("COMPLETED"), None, None, Some("P1"), now + 6000).await.unwrap());
        assert!(db.store.claim_due_jobs("watcher-b", now + 99_000, now + 100_000, 10).await.unwrap().is_empty(), "finished");
        let stored = db.store.job(&ws.id, "LeaseJob").await.unwrap().unwrap();
        assert_eq!((stored.status.as_str(), stored.program_id.as_deref(), stored.poll_count), ("COMPLETED", Some("P1"), 2));
        assert!(db.store.job("another-workspace", "LeaseJob").await.unwrap().is_none());
    }
}

on_every_backend! {
    async fn a_job_ends_exactly_once_and_a_watcher_whose_claim_was_taken_over_writes_nothing(db: TestDb) {
        let ws = db.store.create_workspace("Agency O", "http://127.0.0.1:9", "o", None).await.unwrap();
        let now = dashboard::store::now_ms();
        let job = dashboard::store::JobRecord {
            id: "OnceJob".into(), workspace_id: ws.id.clone(), user_id: None, username: None,
            job_type: JobType::Edit, program_id: Some("P1".into()), business_id: None, request: "{}".into(),
            yelp_job_id: Some("OnceJob".into()), status: JobStatus::InProgress, yelp_status: None,
            receipt: None, errors: None, created_at: now, updated_at: now, completed_at: None,
            next_poll_at: Some(now), poll_count: 0, submission_token: None, fingerprint: None,
        };
        db.store.insert_job(&job).await.unwrap();
        assert_eq!(db.store.claim_due_jobs("watcher-a", now, now + 1000, 10).await.unwrap().len(), 1);
        // A's check outlasts its claim (a slow Yelp); B takes the job over and ends it.
        assert_eq!(db.store.claim_due_jobs("watcher-b", now + 1001, now + 2000, 10).await.unwrap().len(), 1);
        assert!(!db.store.update_job_progress("OnceJob", "watcher-a", JobStatus::InProgress, Some("PROCESSING"), None, now + 1500, now + 1100).await.unwrap(),
            "A's claim was taken over: its check is not recorded");
        assert!(db.store.finish_job("OnceJob", Some("watcher-b"), JobStatus::Completed, Some("COMPLETED"), None, None, None, now + 1200).await.unwrap());
        // A's answer comes back late, and a submission path tries too: the job has ended, once.
        assert!(!db.store.finish_job("OnceJob", Some("watcher-a"), JobStatus::Failed, Some("REJECTED"), None, Some("[]"), None, now + 1300).await.unwrap());
        assert!(!db.store.finish_job("OnceJob", Some("watcher-b"), JobStatus::Completed, Some("COMPLETED"), None, None, None, now + 1400).await.unwrap());
        assert!(!db.store.finish_job("OnceJob", None, JobStatus::Failed, None, None, Some("[]"), None, now + 1500).await.unwrap());
        assert!(!db.store.update_job_progress("OnceJob", "watcher-b", JobStatus::InProgress, None, None, now + 1600, now + 1600).await.unwrap(),
            "an ended job never goes back to running");
        let stored = db.store.job(&ws.id, "OnceJob").await.unwrap().unwrap();
        assert_eq!(
            (stored.status.as_str(), stored.yelp_status.as_deref(), stored.completed_at, stored.errors, stored.poll_count),
            ("COMPLETED", Some("COMPLETED"), Some(now + 1200), None, 1)
        );
        assert!(db.store.claim_due_jobs("watcher-a", now + 99_000, now + 100_000, 10).await.unwrap().is_empty());
    }
}

on_every_backend! {
    async fn a_submission_cut_short_by_a_stop_is_reconciled_from_yelp_not_resent(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.synced().await;
        let business = app.sim.good_business().await;
        let watcher = app.watcher.lock().unwrap().take().unwrap();
        watcher.stop().await;
        // The process stopped while sending a create, an hour ago; Yelp had made the program.
        let made = app.sim.control(Method::POST, "/_sim/programs", Some(json!({
            "count": 1, "business_id": business, "program_type": "BP",
        }))).await["program_ids"][0].as_str().unwrap().to_owned();
        app.sim.patch_program(&made, json!({"start_date": today()})).await;
        let then = dashboard::store::now_ms() - 3_600_000;
        let job = dashboard::store::JobRecord {
            id: "Unanswered".into(), workspace_id: app.workspace_id.clone(), user_id: None, username: None,
            job_type: JobType::Create, program_id: None, business_id: Some(business.clone()),
            request: json!({"business_id": business, "program_name": "BP", "start": today()}).to_string(),
            yelp_job_id: None, status: JobStatus::Pending, yelp_status: None, receipt: None, errors: None,
            created_at: then, updated_at: then, completed_at: None, next_poll_at: None, poll_count: 0, submission_token: None, fingerprint: None,
        };
        db.store.insert_job(&job).await.unwrap();
        app.sim.control(Method::DELETE, "/_sim/stats", None).await;
        let watcher = app.restarted_watcher().await;
        let (_, body) = wait_for_end(&app, &session, "Unanswered").await;
        watcher.stop().await;
        assert_eq!((body["status"].as_str(), body["program_id"].as_str()), (Some("COMPLETED"), Some(made.as_str())), "{body}");
        mirrored(&app, &session, &made).await;
        assert!(sim_requests(&app).await.get("POST /v1/reseller/program/create").is_none(), "never resent");
    }
}

on_every_backend! {
    async fn a_yelp_job_id_seen_before_keeps_the_recorded_id_instead_of_failing(db: TestDb) {
        let ws = db.store.create_workspace("Agency R", "http://127.0.0.1:9", "r", None).await.unwrap();
        let now = dashboard::store::now_ms();
        let job = |id: &str| dashboard::store::JobRecord {
            id: id.into(), workspace_id: ws.id.clone(), user_id: None, username: None,
            job_type: JobType::Terminate, program_id: Some("P".into()), business_id: None, request: "{}".into(),
            yelp_job_id: None, status: JobStatus::Pending, yelp_status: None, receipt: None, errors: None,
            created_at: now, updated_at: now, completed_at: None, next_poll_at: None, poll_count: 0, submission_token: None, fingerprint: None,
        };
        db.store.insert_job(&job("first")).await.unwrap();
        assert_eq!(db.store.job_submitted("first", "Y1", now, now).await.unwrap(), "Y1");
        // A simulator restarted with the same seed answers with Y1 again.
        db.store.insert_job(&job("second")).await.unwrap();
        assert_eq!(db.store.job_submitted("second", "Y1", now, now).await.unwrap(), "second");
        let second = db.store.job(&ws.id, "second").await.unwrap().unwrap();
        assert_eq!((second.yelp_job_id.as_deref(), second.next_poll_at), (Some("Y1"), Some(now)));
        assert_eq!(db.store.job(&ws.id, "Y1").await.unwrap().unwrap().yelp_job_id.as_deref(), Some("Y1"));
    }
}

on_every_backend! {
    async fn a_max_bid_of_49_cents_is_refused_before_yelp_and_50_cents_completes_at_yelp_on_create_and_edit(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 200).await;
        let session = app.synced().await;
        let business = app.sim.good_business().await;
        let running = sim_program(&app, running_cpc).await["program_id"].as_str().unwrap().to_owned();
        let create = |bid: &str| json!({"business_id": business, "program_name": "CPC", "start": today(),
                                        "budget": 300, "is_autobid": false, "max_bid": bid});
        let edit = format!("/api/reseller/program/{running}/edit");
        app.sim.control(Method::DELETE, "/_sim/stats", None).await;
        for (path, body) in [("/api/reseller/program/create", create("0.49")),
                             (edit.as_str(), json!({"is_autobid": false, "max_bid": "0.49"}))] {
            let (status, answer) = post(&app, path, &session, body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {answer}");
            assert_eq!(answer["error"]["field"], "max_bid", "{answer}");
            assert_eq!(answer["error"]["message"], "Maximum bid must be at least $0.50", "{answer}");
        }
        assert_eq!(sim_requests(&app).await, json!({}), "nothing reached the simulator");

        let job = submit(&app, "/api/reseller/program/create", &session, create("0.50")).await;
        let (_, body) = wait_for_end(&app, &session, &job).await;
        assert_eq!(body["status"], "COMPLETED", "Yelp takes 50 cents too: {body}");
        let created = body["program_id"].as_str().unwrap().to_owned();
        assert_eq!(mirrored(&app, &session, &created).await["program_metrics"]["max_bid"], 50);
        let job = submit(&app, &edit, &session, json!({"is_autobid": false, "max_bid": "0.50"})).await;
        let (_, body) = wait_for_end(&app, &session, &job).await;
        assert_eq!(body["status"], "COMPLETED", "{body}");
        assert_eq!(mirrored(&app, &session, &running).await["program_metrics"]["max_bid"], 50);
    }
}

on_every_backend! {
    async fn a_create_for_a_closed_or_hidden_business_is_refused_with_the_reason_before_yelp_sees_it(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 200).await;
        let businesses: Vec<String> = {
            let mut ids: Vec<String> = app.sim.programs().await.iter()
                .filter_map(|p| p["yelp_business_id"].as_str().map(str::to_owned)).collect();
            ids.sort();
            ids.dedup();
            ids
        };
        let (closed, hidden, open) = (&businesses[0], &businesses[1], &businesses[2]);
        app.sim.control(Method::PATCH, &format!("/_sim/businesses/{closed}"), Some(json!({"is_closed": true}))).await;
        app.sim.control(Method::PATCH, &format!("/_sim/businesses/{hidden}"), Some(json!({"is_removed_from_search": true}))).await;
        // The sync learns each business's status from Yelp's business_info.
        let session = app.synced().await;
        app.sim.control(Method::DELETE, "/_sim/stats", None).await;
        let create = |business: &str| json!({"business_id": business, "program_name": "CPC", "start": today(),
                                              "end": in_days(30), "budget": 100, "is_autobid": true});
        for (business, reason) in [(closed, "closed"), (hidden, "removed from Yelp's search")] {
            let (status, answer) = post(&app, "/api/reseller/program/create", &session, create(business)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
            assert_eq!(answer["error"]["field"], "business_id", "{answer}");
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(message.contains(reason) && message.contains("BUSINESS_NOT_ACTIVE"), "{message}");
        }
        assert_eq!(sim_requests(&app).await, json!({}), "nothing reached the simulator");
        let (status, jobs) = app.get_json("/api/reseller/job-history", &session).await;
        assert_eq!(status, StatusCode::OK, "{jobs}");
        assert_eq!(jobs["jobs"].as_array().map(Vec::len), Some(0), "no job recorded: {jobs}");
        // A business Yelp still shows takes the same create.
        let job_id = submit(&app, "/api/reseller/program/create", &session, create(open)).await;
        assert!(!job_id.is_empty());
    }
}
