//! Bulk changes through the API: stage, check, post as one tracked batch, undo; conflicts, refusals, the
//! rate limit, a restart mid-post, and CSV in and out.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use dashboard::store::{ItemState, now_ms};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::api::{current_cpc, current_cpc_programs, program_id, send};
use crate::helpers::on_every_backend;
use crate::web::{Session, TestApp, Tuning, VICTOR, read_sse, test_job_options};

/// Ids of current CPC programs that have spent less than `cents` this period (a budget may not go below
/// the spend).
async fn current_cpc_spent_under(app: &TestApp, session: &Session, cents: i64) -> Vec<String> {
    current_cpc_programs(app, session)
        .await
        .iter()
        .filter(|p| p["program_metrics"]["ad_cost"].as_i64().unwrap_or(0) < cents)
        .map(program_id)
        .collect()
}

/// The budgets the simulator holds, in cents, by program.
async fn sim_budgets(app: &TestApp) -> HashMap<String, i64> {
    app.sim
        .programs()
        .await
        .iter()
        .filter_map(|p| {
            Some((
                p["program_id"].as_str()?.to_owned(),
                p["program_metrics"]["budget"].as_i64()?,
            ))
        })
        .collect()
}

fn cents(dollars: &Value) -> i64 {
    let text = dollars
        .as_str()
        .unwrap_or_else(|| panic!("dollars as text: {dollars}"));
    let (whole, fraction) = text.split_once('.').unwrap();
    whole.parse::<i64>().unwrap() * 100 + fraction.parse::<i64>().unwrap()
}

/// `cents × 1.1`, rounded half to even, in integers.
fn plus_ten_percent(cents: i64) -> i64 {
    let (q, r) = ((cents * 11) / 10, (cents * 11) % 10);
    match r.cmp(&5) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q % 2),
    }
}

/// Stages, checks and posts; answers the change set's id.
async fn stage(app: &TestApp, session: &Session, body: Value) -> Value {
    let (status, set) = send(
        app,
        Method::POST,
        "/api/reseller/change-sets",
        session,
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{set}");
    set
}

async fn check(app: &TestApp, session: &Session, id: &str) -> Value {
    let (status, set) = send(
        app,
        Method::POST,
        &format!("/api/reseller/change-sets/{id}/check"),
        session,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set["state"], "checked", "{set}");
    set
}

/// Posts and follows the live stream to its end; answers the change set as it ended.
async fn post_and_follow(app: &TestApp, session: &Session, id: &str) -> Value {
    let (status, posted) = send(
        app,
        Method::POST,
        &format!("/api/reseller/change-sets/{id}/post"),
        session,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{posted}");
    assert_eq!(posted["state"], "posting");
    let stream = app
        .request(
            Method::GET,
            &format!("/api/reseller/change-sets/{id}/events"),
            Some(session),
        )
        .send()
        .await
        .unwrap();
    let events = tokio::time::timeout(Duration::from_secs(90), read_sse(stream))
        .await
        .expect("the change set ends");
    let last = &events.last().unwrap().data;
    assert_eq!(last["state"], "done", "{last}");
    let pending: Vec<u64> = events
        .iter()
        .map(|e| e.data["counts"]["pending"].as_u64().unwrap())
        .collect();
    assert!(
        pending.windows(2).all(|w| w[0] >= w[1]),
        "progress only goes forward: {pending:?}"
    );
    app.get_json(&format!("/api/reseller/change-sets/{id}"), session)
        .await
        .1
}

on_every_backend! {
    async fn ten_percent_more_on_thirty_cpc_budgets_is_previewed_in_exact_cents_posted_and_undone(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 200).await;
        let session = app.synced().await;
        let ids: Vec<String> = current_cpc(&app, &session).await.into_iter().take(30).collect();
        assert_eq!(ids.len(), 30);
        let before = sim_budgets(&app).await;

        let set = stage(&app, &session, json!({"program_ids": ids, "operation": {"kind": "budget_percent", "value": 10}})).await;
        assert_eq!((set["state"].as_str(), set["description"].as_str()), (Some("draft"), Some("Budget +10 %")));
        assert_eq!(set["author"], "olga");
        let items = set["items"].as_array().unwrap();
        assert_eq!(items.len(), 30);
        for (item, id) in items.iter().zip(&ids) {
            assert_eq!(item["program_id"], id.as_str());
            let (was, will) = (cents(&item["before"]["budget"]), cents(&item["after"]["budget"]));
            assert_eq!(was, before[id], "before is the mirror's budget: {item}");
            assert_eq!(will, plus_ten_percent(was), "{item}");
            assert_eq!(item["status"], "ready", "{item}");
            assert!(item["change"].as_str().unwrap().starts_with("Budget $"), "{item}");
        }
        let id = set["id"].as_str().unwrap().to_owned();
        let checked = check(&app, &session, &id).await;
        assert_eq!(checked["counts"]["changes"], 30, "{}", checked["counts"]);
        assert_eq!(checked["counts"]["conflicts"], 0);
        assert_eq!(checked["counts"]["refused"], 0);

        let viewer = app.login(VICTOR).await;
        let (refused, _) = send(&app, Method::POST, &format!("/api/reseller/change-sets/{id}/post"), &viewer, None).await;
        assert_eq!(refused, StatusCode::FORBIDDEN, "viewers read, never post");

        let done = post_and_follow(&app, &session, &id).await;
        assert_eq!(done["counts"]["completed"], 30, "{}", done["counts"]);
        let after = sim_budgets(&app).await;
        for item in done["items"].as_array().unwrap() {
            let program = item["program_id"].as_str().unwrap();
            assert_eq!(after[program], cents(&item["after"]["budget"]), "the simulator holds the new budget");
            assert!(item["job_id"].is_string());
            let (_, job) = app.get_json(&format!("/api/reseller/status/{}", item["job_id"].as_str().unwrap()), &session).await;
            assert_eq!(job["status"], "COMPLETED", "{job}");
            assert_eq!((job["change_set_id"].as_str(), job["requested_by"].as_str()), (Some(id.as_str()), Some("olga")), "{job}");
        }
        let (_, mirrored) = app.get_json(&format!("/api/reseller/programs?search={}", ids[0]), &session).await;
        assert_eq!(mirrored["programs"][0]["program_metrics"]["budget"].as_i64(), Some(after[&ids[0]]), "the mirror too");

        let (status, undo) = send(&app, Method::POST, &format!("/api/reseller/change-sets/{id}/undo"), &session, None).await;
        assert_eq!(status, StatusCode::CREATED, "{undo}");
        assert_eq!(undo["origin"], json!({"id": id, "kind": "undo"}));
        let undo_id = undo["id"].as_str().unwrap().to_owned();
        check(&app, &session, &undo_id).await;
        let undone = post_and_follow(&app, &session, &undo_id).await;
        assert_eq!(undone["counts"]["completed"], 30, "{}", undone["counts"]);
        let back = sim_budgets(&app).await;
        for id in &ids {
            assert_eq!(back[id], before[id], "undo puts {id}'s budget back");
        }
        let (_, list) = app.get_json("/api/reseller/change-sets", &viewer).await;
        assert_eq!(list["total"], 2);
        assert_eq!(list["change_sets"][0]["description"], "Undo of Budget +10 %");
    }
}

on_every_backend! {
    async fn a_cut_that_would_take_a_budget_below_the_minimum_is_flagged_not_clamped(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 200).await;
        let session = app.synced().await;
        let set = stage(&app, &session, json!({
            "filter": {"status": "CURRENT", "program_type": "CPC"},
            "operation": {"kind": "budget_percent", "value": "-95"},
        })).await;
        let items = set["items"].as_array().unwrap();
        assert_eq!(items.len(), current_cpc(&app, &session).await.len(), "the filter selects every matching program");
        let mut flagged = 0;
        for item in items {
            let was = cents(&item["before"]["budget"]);
            // 5 % of the budget, in whole cents (budgets here are whole dollars, so no rounding arises).
            if was * 5 / 100 < 2500 {
                flagged += 1;
                assert_eq!(item["status"], "refused", "{item}");
                let message = item["message"].as_str().unwrap();
                assert!(message.contains("below Yelp's minimum of $25.00"), "{message}");
            } else if item["status"] == "refused" {
                // Yelp's other rule: not below what the program has spent this period.
                assert!(item["message"].as_str().unwrap().contains("already spent this period"), "{item}");
            } else {
                assert_eq!(item["status"], "ready", "{item}");
            }
        }
        assert!(flagged > 0, "some budgets are under $500");
        assert!(set["counts"]["refused"].as_u64().unwrap() >= flagged);
        assert_eq!(app.sim.control(Method::GET, "/_sim/stats", None).await["requests"]
            .get("POST /v1/reseller/program/{program_id}/edit"), None, "staging sends nothing");
    }
}

on_every_backend! {
    async fn a_program_changed_at_yelp_after_staging_is_a_conflict_to_confirm_or_drop(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 120).await;
        let session = app.synced().await;
        let ids: Vec<String> = current_cpc_spent_under(&app, &session, 32_150).await.into_iter().take(3).collect();
        assert_eq!(ids.len(), 3);
        let set = stage(&app, &session, json!({"program_ids": ids, "operation": {"kind": "set_budget", "value": "321.50"}})).await;
        let id = set["id"].as_str().unwrap().to_owned();
        app.sim.patch_program(&ids[1], json!({"budget": 77_700})).await;
        app.synced().await;

        let checked = check(&app, &session, &id).await;
        assert_eq!(checked["counts"]["conflicts"], 1, "{}", checked["counts"]);
        let conflict = &checked["items"][1];
        assert_eq!(conflict["status"], "conflict");
        assert!(conflict["message"].as_str().unwrap().contains("budget $"), "{conflict}");
        let (status, refused) = send(&app, Method::POST, &format!("/api/reseller/change-sets/{id}/post"), &session, None).await;
        assert_eq!(status, StatusCode::CONFLICT, "{refused}");
        assert!(refused["error"]["message"].as_str().unwrap().contains("confirm or drop"), "{refused}");

        let (status, confirmed) = send(&app, Method::POST, &format!("/api/reseller/change-sets/{id}/items/1/confirm"), &session, None).await;
        assert_eq!(status, StatusCode::OK, "{confirmed}");
        assert_eq!(confirmed["items"][1]["status"], "ready");
        assert_eq!(confirmed["items"][1]["before"]["budget"], "777.00", "confirmed against the program as it is now");
        assert_eq!(confirmed["state"], "draft", "to be checked again");
        let (status, dropped) = send(&app, Method::POST, &format!("/api/reseller/change-sets/{id}/items/2/drop"), &session, None).await;
        assert_eq!(status, StatusCode::OK, "{dropped}");
        check(&app, &session, &id).await;
        let done = post_and_follow(&app, &session, &id).await;
        assert_eq!((done["counts"]["completed"].as_u64(), done["counts"]["dropped"].as_u64()), (Some(2), Some(1)), "{}", done["items"]);
        let budgets = sim_budgets(&app).await;
        assert_eq!((budgets[&ids[0]], budgets[&ids[1]]), (32_150, 32_150));
        assert_ne!(budgets[&ids[2]], 32_150, "the dropped item was not sent");

        let (status, gone) = send(&app, Method::DELETE, &format!("/api/reseller/change-sets/{id}"), &session, None).await;
        assert_eq!(status, StatusCode::CONFLICT, "a posted change set stays: {gone}");
    }
}

on_every_backend! {
    async fn bad_change_sets_are_refused_naming_what_is_wrong(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 40).await;
        let session = app.synced().await;
        let ids = current_cpc(&app, &session).await;
        for (body, field, says) in [
            (json!({"operation": {"kind": "pause"}}), "program_ids", "Give program_ids"),
            (json!({"program_ids": [], "operation": {"kind": "pause"}}), "program_ids", "at least one"),
            (json!({"program_ids": ["NoSuchProgram0000000001"], "operation": {"kind": "pause"}}), "program_ids", "NoSuchProgram0000000001"),
            (json!({"program_ids": ids, "operation": {"kind": "budget_percent", "value": "lots"}}), "operation", "percentage"),
            (json!({"program_ids": ids}), "operation", "operation is required"),
            (json!({"program_ids": ids, "filter": {}, "operation": {"kind": "pause"}}), "program_ids", "not both"),
            (json!({"filter": {"limit": "5"}, "operation": {"kind": "pause"}}), "limit", "limit"),
            (json!({"program_ids": ids, "operation": {"kind": "pause"}, "colour": 1}), "colour", "not a field"),
        ] {
            let (status, answer) = send(&app, Method::POST, "/api/reseller/change-sets", &session, Some(body.clone())).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
            assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
            assert!(answer["error"]["message"].as_str().unwrap().contains(says), "{body}: {answer}");
        }
        let (_, list) = app.get_json("/api/reseller/change-sets", &session).await;
        assert_eq!(list["total"], 0, "nothing was staged");
        let (status, _) = app.get_json("/api/reseller/change-sets/nosuchset", &session).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

/// How many edit jobs the simulator took for each program, and the most it took in one second.
async fn sim_edits(app: &TestApp) -> (BTreeMap<String, usize>, usize) {
    let jobs = app.sim.control(Method::GET, "/_sim/jobs", None).await;
    let mut per_program = BTreeMap::new();
    let mut per_second: BTreeMap<String, usize> = BTreeMap::new();
    for job in jobs["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["kind"] == "edit")
    {
        *per_program
            .entry(job["program_id"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
        *per_second
            .entry(job["created_at"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    (per_program, per_second.values().copied().max().unwrap_or(0))
}

on_every_backend! {
    async fn two_hundred_items_post_within_the_rate_limit_and_a_restart_mid_post_sends_none_twice(db: TestDb) {
        let (rps, burst) = (40.0, 5);
        let app = TestApp::spawn_tuned(db.store.clone(), 700, test_job_options(), Tuning {
            yelp_rate: Some((rps, burst)),
            ..Tuning::default()
        }).await;
        let session = app.synced().await;
        let ids: Vec<String> = current_cpc(&app, &session).await.into_iter().take(200).collect();
        assert_eq!(ids.len(), 200, "700 programs hold 200 current CPC ones");
        let before = sim_budgets(&app).await;
        let set = stage(&app, &session, json!({"program_ids": ids, "operation": {"kind": "budget_dollars", "value": "5"}})).await;
        let id = set["id"].as_str().unwrap().to_owned();
        check(&app, &session, &id).await;
        let started = Instant::now();
        let (status, _) = send(&app, Method::POST, &format!("/api/reseller/change-sets/{id}/post"), &session, None).await;
        assert_eq!(status, StatusCode::ACCEPTED);

        // Stop the poster part-way (as a stop of the process would), once some items are sent.
        loop {
            let (_, now) = app.get_json(&format!("/api/reseller/change-sets/{id}"), &session).await;
            let sent = now["items"].as_array().unwrap().iter().filter(|i| i["job_id"].is_string()).count();
            if sent >= 40 {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "posting started");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let poster = app.poster.lock().unwrap().take().unwrap();
        poster.stop().await;
        let (_, stopped) = app.get_json(&format!("/api/reseller/change-sets/{id}"), &session).await;
        assert_eq!(stopped["state"], "posting");
        let pending = stopped["counts"]["pending"].as_u64().unwrap();
        assert!(pending > 0, "stopped mid-post: {}", stopped["counts"]);
        // The hardest moment to stop at: an item's job recorded (and sent), the item not told yet.
        let sent = stopped["items"].as_array().unwrap().iter().find(|i| i["job_id"].is_string()).unwrap();
        db.store.end_sending_item(&id, sent["position"].as_i64().unwrap(), ItemState::Sending, None, None, now_ms())
            .await.unwrap();

        let poster = app.restarted_poster(Some((rps, burst))).await;
        let done = loop {
            let (_, now) = app.get_json(&format!("/api/reseller/change-sets/{id}"), &session).await;
            if now["state"] == "done" {
                break now;
            }
            assert!(started.elapsed() < Duration::from_secs(120), "the restarted poster finishes: {}", now["counts"]);
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let elapsed = started.elapsed();
        poster.stop().await;
        assert_eq!(done["counts"]["completed"], 200, "{}", done["counts"]);
        let (edits, most_in_a_second) = sim_edits(&app).await;
        assert_eq!(edits.len(), 200);
        assert!(edits.values().all(|n| *n == 1), "no item was sent twice: {edits:?}");
        let after = sim_budgets(&app).await;
        assert!(ids.iter().all(|id| after[id] == before[id] + 500), "every budget is $5.00 higher");
        // 200 edits (and their status checks) through one bucket of 40 a second with a burst of 5.
        let least = Duration::from_secs_f64((200.0 - f64::from(burst)) / rps);
        eprintln!("200 items posted at --yelp-rps {rps}: {elapsed:?} (floor {least:?}), at most {most_in_a_second} edits in one second");
        assert!(elapsed >= least, "took {elapsed:?}, less than the rate limit allows ({least:?})");
        assert!(most_in_a_second as f64 <= rps + f64::from(burst), "{most_in_a_second} edits in one second");
    }
}

on_every_backend! {
    async fn a_csv_with_a_bad_budget_on_line_7_is_refused_naming_line_7(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 60).await;
        let session = app.synced().await;
        let ids = current_cpc(&app, &session).await;
        let mut file = String::from("program_id,budget\n");
        for (n, id) in ids.iter().take(7).enumerate() {
            let budget = if n == 5 { "1O0.00" } else { "100.00" };
            file.push_str(&format!("{id},{budget}\n"));
        }
        let response = app.request(Method::POST, "/api/reseller/change-sets/import", Some(&session))
            .header("content-type", "text/csv").body(file).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["field"], "line 7", "{answer}");
        assert!(answer["error"]["message"].as_str().unwrap().starts_with("Line 7, column budget:"), "{answer}");
        let (_, list) = app.get_json("/api/reseller/change-sets", &session).await;
        assert_eq!(list["total"], 0, "nothing was staged");

        let response = app.request(Method::POST, "/api/reseller/change-sets/import", Some(&session))
            .header("content-type", "application/json").body("{}").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "a file is CSV");
    }
}

on_every_backend! {
    async fn an_exported_view_imported_back_is_a_change_set_of_no_ops_and_an_edited_cell_is_its_one_change(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 150).await;
        let session = app.synced().await;
        let (_, view) = app.get_json("/api/reseller/programs?status=CURRENT&limit=1", &session).await;
        let total = view["total_count"].as_u64().unwrap() as usize;
        let export = app.request(Method::GET, "/api/reseller/programs.csv?status=CURRENT", Some(&session))
            .send().await.unwrap().text().await.unwrap();
        assert_eq!(csv::Reader::from_reader(export.as_bytes()).records().count(), total);
        let import = |file: String| {
            app.request(Method::POST, "/api/reseller/change-sets/import", Some(&session))
                .header("content-type", "text/csv; charset=utf-8").body(file).send()
        };
        let response = import(export.clone()).await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let set: Value = response.json().await.unwrap();
        assert_eq!(set["counts"]["items"], total, "{}", set["counts"]);
        assert_eq!(set["counts"]["no_ops"], total, "a round trip changes nothing: {}", set["counts"]);
        let id = set["id"].as_str().unwrap();
        check(&app, &session, id).await;
        let (status, refused) = send(&app, Method::POST, &format!("/api/reseller/change-sets/{id}/post"), &session, None).await;
        assert_eq!(status, StatusCode::CONFLICT, "{refused}");
        assert!(refused["error"]["message"].as_str().unwrap().contains("Nothing to post"), "{refused}");

        // One budget edited in the file: one change, the rest no-ops.
        let mut reader = csv::Reader::from_reader(export.as_bytes());
        let header = reader.headers().unwrap().clone();
        let budget = header.iter().position(|h| h == "budget").unwrap();
        let mut rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let spend = header.iter().position(|h| h == "spend").unwrap();
        let edited = rows.iter()
            .position(|r| !r[budget].is_empty() && r[spend].parse::<f64>().unwrap_or(0.0) < 432.10)
            .unwrap();
        let mut row: Vec<String> = rows[edited].iter().map(str::to_owned).collect();
        row[budget] = "432.10".into();
        rows[edited] = csv::StringRecord::from(row);
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(&header).unwrap();
        for r in &rows {
            out.write_record(r).unwrap();
        }
        let file = String::from_utf8(out.into_inner().unwrap()).unwrap();
        let set: Value = import(file).await.unwrap().json().await.unwrap();
        assert_eq!((set["counts"]["changes"].as_u64(), set["counts"]["no_ops"].as_u64()), (Some(1), Some(total as u64 - 1)), "{}", set["counts"]);
        let change = set["items"].as_array().unwrap().iter().find(|i| i["status"] == "ready").unwrap();
        assert_eq!(change["after"]["budget"], "432.10");
        assert_eq!(change["program_id"].as_str(), Some(&rows[edited][0]));
    }
}

on_every_backend! {
    async fn items_yelp_refused_are_retried_as_a_new_change_set_of_just_those(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 120).await;
        let session = app.synced().await;
        let ids: Vec<String> = current_cpc_spent_under(&app, &session, 45_600).await.into_iter().take(4).collect();
        let set = stage(&app, &session, json!({"program_ids": ids, "operation": {"kind": "set_budget", "value": 456}})).await;
        let id = set["id"].as_str().unwrap().to_owned();
        check(&app, &session, &id).await;
        app.sim.set_faults(json!({"rate_limit_rate": 1.0})).await;
        let failed = post_and_follow(&app, &session, &id).await;
        app.sim.set_faults(json!({"rate_limit_rate": 0.0})).await;
        assert_eq!(failed["counts"]["failed"], 4, "{}", failed["counts"]);
        let reason = failed["items"][0]["message"].as_str().unwrap();
        assert!(reason.contains("limiting requests"), "the job's reason is the item's: {reason}");
        let (status, _) = send(&app, Method::POST, &format!("/api/reseller/change-sets/{id}/undo"), &session, None).await;
        assert_eq!(status, StatusCode::CONFLICT, "nothing completed, nothing to undo");

        let (status, retry) = send(&app, Method::POST, &format!("/api/reseller/change-sets/{id}/retry-failed"), &session, None).await;
        assert_eq!(status, StatusCode::CREATED, "{retry}");
        assert_eq!(retry["origin"], json!({"id": id, "kind": "retry"}));
        assert_eq!(retry["counts"]["items"], 4);
        let retry_id = retry["id"].as_str().unwrap().to_owned();
        check(&app, &session, &retry_id).await;
        let done = post_and_follow(&app, &session, &retry_id).await;
        assert_eq!(done["counts"]["completed"], 4, "{}", done["counts"]);
        let budgets = sim_budgets(&app).await;
        assert!(ids.iter().all(|id| budgets[id] == 45_600));
    }
}

on_every_backend! {
    async fn a_feature_set_on_many_programs_reaches_each_one_that_offers_it(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 80).await;
        let session = app.synced().await;
        let (_, listed) = app.get_json("/api/reseller/programs?status=CURRENT&limit=500", &session).await;
        let programs = listed["programs"].as_array().unwrap();
        let offers = |p: &Value| p["available_features"].as_array().unwrap().iter().any(|f| f == "CUSTOM_RADIUS_TARGETING");
        let with: Vec<&str> = programs.iter().filter(|p| offers(p)).take(3).map(|p| p["program_id"].as_str().unwrap()).collect();
        let without: Vec<&str> = programs.iter().filter(|p| !offers(p)).take(1).map(|p| p["program_id"].as_str().unwrap()).collect();
        assert_eq!((with.len(), without.len()), (3, 1));
        let ids: Vec<&str> = with.iter().chain(&without).copied().collect();
        let (status, bad) = send(&app, Method::POST, "/api/reseller/change-sets", &session, Some(json!({
            "program_ids": ids, "operation": {"kind": "set_feature", "value": {"CUSTOM_RADIUS_TARGETING": {"custom_radius": "far"}}},
        }))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "a setting of the wrong kind is named before staging: {bad}");
        let set = stage(&app, &session, json!({
            "program_ids": ids, "operation": {"kind": "set_feature", "value": {"CUSTOM_RADIUS_TARGETING": {"custom_radius": 25}}},
        })).await;
        assert_eq!(set["counts"]["refused"], 1, "{}", set["counts"]);
        assert_eq!(set["items"][3]["message"], "The program does not offer custom radius");
        assert!(set["items"][0]["change"].as_str().unwrap().starts_with("Set custom radius"), "{}", set["items"][0]);
        let id = set["id"].as_str().unwrap().to_owned();
        check(&app, &session, &id).await;
        let done = post_and_follow(&app, &session, &id).await;
        assert_eq!(done["counts"]["completed"], 3, "{}", done["items"]);
        for program in &with {
            let (_, features) = app.get_json(&format!("/api/program/{program}/features/v1"), &session).await;
            assert_eq!(features["features"]["CUSTOM_RADIUS_TARGETING"]["custom_radius"].as_f64(), Some(25.0), "{program}");
        }
        let (status, undo) = send(&app, Method::POST, &format!("/api/reseller/change-sets/{id}/undo"), &session, None).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(undo["counts"]["refused"], 3, "a feature change is listed as not undoable: {}", undo["items"]);
    }
}
