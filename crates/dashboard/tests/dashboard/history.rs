//! Program history: what each change was, who or what made it, on both databases.

use std::collections::HashSet;

use dashboard::store::{HistoryFilter, MirrorWriter};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{on_every_backend, running_sim_cpc};
use crate::jobs::wait_for_end;
use crate::store::entry;
use crate::web::{Session, TestApp};

/// A current, running CPC program of the simulator with a budget.
async fn running_cpc(app: &TestApp) -> (String, i64) {
    let p = running_sim_cpc(&app.sim, |p| {
        p["program_metrics"]["budget"]
            .as_i64()
            .is_some_and(|b| b > 0 && b != 41_250)
    })
    .await;
    (
        p["program_id"].as_str().unwrap().to_owned(),
        p["program_metrics"]["budget"].as_i64().unwrap(),
    )
}

async fn history(app: &TestApp, session: &Session, path: &str) -> Vec<Value> {
    let (status, body) = app.get_json(path, session).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body["entries"].as_array().unwrap().clone()
}

fn dollars(cents: i64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

on_every_backend! {
    async fn an_edit_job_records_exactly_the_fields_it_changed_with_its_author(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 40).await;
        let session = app.synced().await;
        assert!(history(&app, &session, "/api/reseller/history").await.is_empty(),
            "a first sync into an empty mirror records nothing");
        let (id, before) = running_cpc(&app).await;
        let response = app.request(Method::POST, &format!("/api/reseller/program/{id}/edit"), Some(&session))
            .json(&json!({"budget": "412.50"})).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let job = response.json::<Value>().await.unwrap()["job_id"].as_str().unwrap().to_owned();
        let (_, done) = wait_for_end(&app, &session, &job).await;
        assert_eq!(done["status"], "COMPLETED", "{done}");

        let entries = history(&app, &session, &format!("/api/reseller/programs/{id}/history")).await;
        assert_eq!(entries.len(), 1, "{entries:?}");
        let e = &entries[0];
        assert_eq!((e["kind"].as_str(), e["field"].as_str()), (Some("changed"), Some("budget")));
        assert_eq!((e["old_value"].clone(), e["new_value"].clone()), (json!(before.to_string()), json!("41250")));
        assert_eq!((e["source"].as_str(), e["user"].as_str(), e["job_id"].as_str()), (Some("job"), Some("olga"), Some(job.as_str())));
        let words = format!("Budget {} → $412.50", dollars(before));
        assert_eq!(e["change"], words.as_str());

        // A sync afterwards finds the mirror already right: nothing more, and nothing called outside.
        app.synced().await;
        assert_eq!(history(&app, &session, "/api/reseller/history").await.len(), 1);

        // The job page says what it changed; the jobs list sums it up; the status page's timeline names the user.
        for path in [format!("/jobs/{job}"), "/jobs".to_owned(), format!("/program-status/{id}")] {
            let page = app.request(Method::GET, &path, Some(&session)).send().await.unwrap().text().await.unwrap();
            assert!(page.contains(&words), "{path} says {words}");
        }
        let status_page = app.request(Method::GET, &format!("/program-status/{id}"), Some(&session)).send().await.unwrap().text().await.unwrap();
        assert!(status_page.contains("by olga"), "the timeline names who");
    }
}

on_every_backend! {
    async fn a_change_made_at_yelp_is_recorded_as_outside_with_the_run_that_found_it(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 40).await;
        let session = app.synced().await;
        let (id, before) = running_cpc(&app).await;
        app.sim.patch_program(&id, json!({"budget": 77_700})).await;
        let gone = app.sim.programs().await.into_iter()
            .map(|p| p["program_id"].as_str().unwrap().to_owned())
            .find(|p| *p != id).unwrap();
        app.sim.remove_program(&gone).await;
        app.synced().await;
        let (_, runs) = app.get_json("/api/sync/runs", &session).await;
        let run_id = runs["runs"][0]["run_id"].as_str().map(str::to_owned);
        assert!(run_id.is_some(), "{runs}");

        let entries = history(&app, &session, "/api/reseller/history?source=outside").await;
        assert_eq!(entries.len(), 2, "{entries:?}");
        let budget = entries.iter().find(|e| e["program_id"] == id.as_str()).unwrap();
        assert_eq!((budget["field"].as_str(), budget["new_value"].as_str()), (Some("budget"), Some("77700")));
        assert_eq!(budget["old_value"], before.to_string());
        assert_eq!(budget["by"], "outside this dashboard");
        assert!(budget["user"].is_null());
        assert_eq!(budget["run_id"].as_str().map(str::to_owned), run_id, "{runs}");
        let removed = entries.iter().find(|e| e["program_id"] == gone.as_str()).unwrap();
        assert_eq!(removed["kind"], "removed");

        // An identical sync records nothing.
        app.synced().await;
        assert_eq!(history(&app, &session, "/api/reseller/history").await.len(), 2);

        // Filters, paging and the CSV.
        let by_field = history(&app, &session, "/api/reseller/history?field=budget").await;
        assert_eq!(by_field.len(), 1);
        // Each filter alone and together: the query is built of only the filters given.
        let business = budget["business_id"].as_str().unwrap();
        let of_business = history(&app, &session, &format!("/api/reseller/history?business_id={business}")).await;
        assert!(of_business.iter().any(|e| e["id"] == budget["id"]), "{of_business:?}");
        assert!(of_business.iter().all(|e| e["business_id"] == business), "{of_business:?}");
        let of_program = history(&app, &session, &format!("/api/reseller/history?program_id={id}&field=budget&source=outside")).await;
        assert_eq!(of_program.len(), 1, "{of_program:?}");
        assert!(history(&app, &session, "/api/reseller/history?business_id=NoSuchBusiness").await.is_empty());
        assert!(history(&app, &session, &format!("/api/reseller/history?program_id={id}&field=max_bid")).await.is_empty());
        assert!(history(&app, &session, &format!("/api/reseller/history?program_id={id}&source=job")).await.is_empty());
        assert!(history(&app, &session, "/api/reseller/history?user=demo").await.is_empty(), "no user made these");
        assert!(history(&app, &session, "/api/reseller/history?until=2000-01-01").await.is_empty());
        assert_eq!(history(&app, &session, "/api/reseller/history?since=2000-01-01&until=2999-01-01").await.len(), 2);
        let (status, first) = app.get_json("/api/reseller/history?limit=1", &session).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(first["has_more"], true);
        let next = first["next_before"].as_str().unwrap();
        let second = history(&app, &session, &format!("/api/reseller/history?limit=1&before={next}")).await;
        assert_eq!(second.len(), 1);
        assert_ne!(second[0]["id"], first["entries"][0]["id"]);
        let csv = app.request(Method::GET, "/api/reseller/history.csv?field=budget", Some(&session)).send().await.unwrap().text().await.unwrap();
        assert_eq!(csv.lines().count(), 2, "{csv}");
        assert!(csv.contains("$777.00"), "money in dollars: {csv}");
        let (status, bad) = app.get_json("/api/reseller/history?field=spend", &session).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(bad.to_string().contains("field must be one of"), "{bad}");
        let (status, _) = app.get_json("/api/reseller/programs/NoSuchProgram123/history", &session).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

on_every_backend! {
    async fn removals_and_restores_are_recorded_and_workspaces_stay_apart(db: TestDb) {
        let store = &db.store;
        let one = store.workspace_for_credentials("http://yelp.test", "agency-one").await.unwrap().id;
        let two = store.workspace_for_credentials("http://yelp.test", "agency-two").await.unwrap().id;
        let sync = MirrorWriter::Sync { run_id: "run-1", record_added: true };
        store.write_program_page(&one, &[entry("a", 5000)], &mut Default::default(), 1_000, sync).await.unwrap();
        store.write_program_page(&two, &[entry("z", 5000)], &mut Default::default(), 1_000, sync).await.unwrap();
        store.mark_programs_removed(&one, &HashSet::new(), 2_000, "run-2").await.unwrap();
        store.write_program_page(&one, &[entry("a", 6000)], &mut Default::default(), 3_000, sync).await.unwrap();
        store.write_program_page(&one, &[entry("a", 6000)], &mut Default::default(), 4_000, sync).await.unwrap();

        let (entries, more) = store.history(&one, &HistoryFilter { limit: 100, ..HistoryFilter::default() }).await.unwrap();
        assert!(!more);
        let got: Vec<(&str, Option<&str>, Option<&str>, i64)> = entries.iter().rev()
            .map(|e| (e.kind.as_str(), e.field.as_deref(), e.new_value.as_deref(), e.at)).collect();
        assert_eq!(got, [
            ("added", None, None, 1_000),
            ("removed", None, None, 2_000),
            ("restored", None, None, 3_000),
            ("changed", Some("budget"), Some("6000"), 3_000),
        ], "an identical write records nothing");
        assert!(entries.iter().all(|e| e.program_id == "a" && e.source == "outside"));
        let (theirs, _) = store.history(&two, &HistoryFilter { limit: 100, ..HistoryFilter::default() }).await.unwrap();
        assert_eq!(theirs.len(), 1, "another workspace's entries never appear");
        assert_eq!(theirs[0].program_id, "z");

        // Pruning keeps what is newer than its limit.
        assert_eq!(store.prune_history(2_500).await.unwrap(), 3);
        let (kept, _) = store.history(&one, &HistoryFilter { limit: 100, ..HistoryFilter::default() }).await.unwrap();
        assert_eq!(kept.len(), 2);
    }
}

on_every_backend! {
    async fn the_history_and_audit_pages_list_filter_and_refuse_who_may_not_see(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 40).await;
        let session = app.synced().await;
        let (id, _) = running_cpc(&app).await;
        app.sim.patch_program(&id, json!({"budget": 77_700})).await;
        app.synced().await;
        let page = |session: &Session, path: &str| {
            let request = app.request(Method::GET, path, Some(session));
            async move {
                let response = request.send().await.unwrap();
                (response.status(), response.text().await.unwrap())
            }
        };
        let (status, all) = page(&session, "/history").await;
        assert_eq!(status, StatusCode::OK);
        assert!(all.contains("→ $777.00") && all.contains("outside this dashboard"), "{all}");
        let (_, none) = page(&session, "/history?field=pause").await;
        assert!(none.contains("No change matches these filters"));
        let (status, bad) = page(&session, "/history?field=nonsense").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(bad.contains("field must be one of"), "the page names what is wrong");

        let viewer = app.login(crate::web::VICTOR).await;
        let (status, _) = page(&viewer, "/history").await;
        assert_eq!(status, StatusCode::OK, "everyone may read the history");
        let (status, _) = page(&viewer, "/audit").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = app.get_json("/api/audit", &viewer).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let admin = app.login(crate::web::ALICE).await;
        let (status, audit) = page(&admin, "/audit?action=sign_in").await;
        assert_eq!(status, StatusCode::OK);
        assert!(audit.contains("Signed in") && audit.contains("victor"), "{audit}");
        assert!(!audit.contains(crate::web::VICTOR.1), "never a password");
    }
}
