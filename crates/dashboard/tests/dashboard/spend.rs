//! Spend and pacing (issue 19): metric snapshots written only when a CPC program's figures change, the
//! metrics and pacing APIs, and the status page's chart, on both databases.

use chrono::{DateTime, Datelike, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::html::get;
use crate::helpers::{on_every_backend, running_sim_cpc};
use crate::web::{BOB, Session, TestApp};

/// A running CPC program of the simulator on a calendar month that runs the whole of this month, and
/// its budget and spend.
async fn whole_month_cpc(app: &TestApp) -> (String, i64, i64) {
    let today = Utc::now().date_naive();
    let first = today.with_day(1).unwrap().to_string();
    let p = running_sim_cpc(&app.sim, |p| {
        p["program_metrics"]["fee_period"] == "Calendar Month"
            && p["start_date"]
                .as_str()
                .is_some_and(|s| s <= first.as_str())
            && p["end_date"] == "9999-12-31"
            && p["program_metrics"]["budget"]
                .as_i64()
                .is_some_and(|b| b > 1_000)
    })
    .await;
    let metrics = &p["program_metrics"];
    (
        p["program_id"].as_str().unwrap().to_owned(),
        metrics["budget"].as_i64().unwrap(),
        metrics["ad_cost"].as_i64().unwrap_or(0),
    )
}

/// How many CPC programs with a budget the simulator has.
async fn sim_cpc_count(app: &TestApp) -> u64 {
    app.sim
        .programs()
        .await
        .iter()
        .filter(|p| p["program_type"] == "CPC" && p["program_metrics"]["budget"].is_i64())
        .count() as u64
}

async fn ok_json(app: &TestApp, path: &str, session: &Session) -> Value {
    let (status, body) = app.get_json(path, session).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

/// A different spend, within the budget.
fn other_spend(spend: i64) -> i64 {
    if spend >= 500 {
        spend - 300
    } else {
        spend + 300
    }
}

on_every_backend! {
    async fn snapshots_are_written_only_when_a_cpc_programs_figures_change(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 40).await;
        let ws = app.workspace_id.clone();
        let session = app.synced().await;
        let first = app.store.count_snapshots(&ws).await.unwrap();
        assert_eq!(first, sim_cpc_count(&app).await, "seeing a CPC program for the first time is a change");

        app.synced().await;
        assert_eq!(app.store.count_snapshots(&ws).await.unwrap(), first, "a sync that finds nothing changed writes none");

        let (id, _, spend) = whole_month_cpc(&app).await;
        let other = app.sim.programs().await.into_iter()
            .find(|p| p["program_type"] == "CPC" && p["program_id"] != id.as_str())
            .unwrap()["program_id"].as_str().unwrap().to_owned();
        app.sim.patch_program(&other, json!({"end_date": "2031-12-31"})).await;
        app.synced().await;
        assert_eq!(app.store.count_snapshots(&ws).await.unwrap(), first,
            "a change of anything but the figures writes none");

        app.sim.patch_program(&id, json!({"ad_cost": other_spend(spend)})).await;
        app.synced().await;
        assert_eq!(app.store.count_snapshots(&ws).await.unwrap(), first + 1, "a spend change writes one snapshot");
        let body = ok_json(&app, &format!("/api/reseller/programs/{id}/metrics"), &session).await;
        let spends: Vec<i64> = body["snapshots"].as_array().unwrap().iter()
            .map(|s| s["spend_cents"].as_i64().unwrap()).collect();
        assert_eq!(spends, [spend, other_spend(spend)], "of that program, oldest first: {body}");
        let body = ok_json(&app, &format!("/api/reseller/programs/{other}/metrics"), &session).await;
        assert_eq!(body["snapshots"].as_array().unwrap().len(), 1, "{body}");

        // Pruning drops what is older than its limit.
        assert_eq!(app.store.prune_snapshots(0).await.unwrap(), 0);
        let later = chrono::Utc::now().timestamp_millis() + 1;
        assert!(app.store.prune_snapshots(later).await.unwrap() > first);
        assert_eq!(app.store.count_snapshots(&ws).await.unwrap(), 0);
    }
}

on_every_backend! {
    async fn the_metrics_api_answers_the_snapshots_in_range_and_the_pacing_of_the_mirror(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 40).await;
        let session = app.synced().await;
        let (id, budget, spend) = whole_month_cpc(&app).await;
        let new_spend = other_spend(spend);
        app.sim.patch_program(&id, json!({"ad_cost": new_spend, "billed_clicks": 40, "billed_impressions": 800})).await;
        app.synced().await;

        let body = ok_json(&app, &format!("/api/reseller/programs/{id}/metrics"), &session).await;
        assert_eq!(body["program_type"], "CPC");
        let snapshots = body["snapshots"].as_array().unwrap();
        assert_eq!(snapshots.len(), 2, "{body}");
        let last = &snapshots[1];
        assert_eq!((last["budget_cents"].as_i64(), last["spend_cents"].as_i64(), last["billed_clicks"].as_i64(),
            last["billed_impressions"].as_i64()), (Some(budget), Some(new_spend), Some(40), Some(800)));
        assert_eq!(body["has_more"], false);

        // The pacing, by hand: the whole month at one budget; spend projected over the month from the
        // time the figures were read.
        let pacing = &body["pacing"];
        assert!(body["pacing_unavailable"].is_null(), "{body}");
        assert_eq!(pacing["period_budget_cents"].as_i64(), Some(budget), "{pacing}");
        assert_eq!(pacing["spend_cents"].as_i64(), Some(new_spend));
        assert_eq!((pacing["billed_clicks"].as_i64(), pacing["billed_impressions"].as_i64()), (Some(40), Some(800)));
        assert_eq!(pacing["ctr"].as_f64(), Some(0.05));
        assert_eq!(pacing["cost_per_click_cents"].as_i64(), Some((2 * new_spend + 40) / 80));
        let as_of: DateTime<Utc> = pacing["as_of"].as_str().unwrap().parse().unwrap();
        let month_start = as_of.date_naive().with_day(1).unwrap();
        let next_month = month_start.checked_add_months(chrono::Months::new(1)).unwrap();
        assert_eq!(pacing["period"]["start"], month_start.to_string());
        assert_eq!(pacing["period"]["days"].as_i64(), Some((next_month - month_start).num_days()));
        let window = i128::from((next_month - month_start).num_seconds());
        let elapsed = i128::from((as_of - month_start.and_hms_opt(0, 0, 0).unwrap().and_utc()).num_seconds());
        let projected = (2 * i128::from(new_spend) * window + elapsed) / (2 * elapsed);
        assert_eq!(pacing["projected_spend_cents"].as_i64(), Some(projected as i64), "{pacing}");
        assert!(pacing["flags"].is_array());

        // A range without snapshots has none; the pacing is the same.
        let tomorrow = (Utc::now().date_naive() + chrono::Days::new(1)).to_string();
        let body = ok_json(&app, &format!("/api/reseller/programs/{id}/metrics?from={tomorrow}&to={tomorrow}"), &session).await;
        assert_eq!(body["snapshots"], json!([]));
        assert_eq!(body["pacing"]["spend_cents"].as_i64(), Some(new_spend));
        let today = Utc::now().date_naive().to_string();
        let body = ok_json(&app, &format!("/api/reseller/programs/{id}/metrics?from={today}&to={today}"), &session).await;
        assert_eq!(body["snapshots"].as_array().unwrap().len(), 2, "`to` as a day counts its whole day: {body}");

        // Programs of other types have no pacing, and say why.
        let ep = app.sim.programs().await.into_iter().find(|p| p["program_type"] != "CPC").unwrap();
        let ep = ep["program_id"].as_str().unwrap();
        let body = ok_json(&app, &format!("/api/reseller/programs/{ep}/metrics"), &session).await;
        assert_eq!((body["pacing"].clone(), body["snapshots"].clone()), (Value::Null, json!([])));
        assert!(body["pacing_unavailable"].as_str().unwrap().contains("CPC"), "{body}");
    }
}

on_every_backend! {
    async fn the_pacing_apis_totals_are_the_sums_over_the_listed_programs(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 60).await;
        let session = app.synced().await;
        let sum = |rows: &[Value], field: &str| rows.iter().map(|r| r[field].as_i64().unwrap_or(0)).sum::<i64>();

        let body = ok_json(&app, "/api/reseller/pacing?limit=500", &session).await;
        let rows = body["programs"].as_array().unwrap();
        assert_eq!(rows.len() as u64, sim_cpc_count(&app).await, "every CPC program, no other");
        let totals = &body["totals"];
        assert_eq!(totals["programs"].as_u64(), Some(rows.len() as u64));
        assert_eq!(body["total_count"], totals["programs"]);
        for field in ["monthly_budget_cents", "spend_cents", "billed_clicks", "billed_impressions"] {
            assert_eq!(totals[field].as_i64(), Some(sum(rows, field)), "{field}: {totals}");
        }
        // The same sums as the programs list's own figures.
        let list = ok_json(&app, "/api/reseller/programs?program_type=CPC&limit=500", &session).await;
        let listed: Vec<Value> = list["programs"].as_array().unwrap().iter().map(|p| p["program_metrics"].clone()).collect();
        assert_eq!(totals["monthly_budget_cents"].as_i64(), Some(sum(&listed, "budget")));
        assert_eq!(totals["spend_cents"].as_i64(), Some(sum(&listed, "ad_cost")));
        assert_eq!(totals["billed_clicks"].as_i64(), Some(sum(&listed, "billed_clicks")));
        assert!(rows.iter().all(|r| r["pacing"]["flags"].is_array() || r["pacing_unavailable"].is_string()), "{body}");

        // Filters narrow the totals to every matching program, however small the page.
        let current = ok_json(&app, "/api/reseller/programs?program_type=CPC&status=CURRENT&limit=500", &session).await;
        let current_budget: i64 = current["programs"].as_array().unwrap().iter()
            .map(|p| p["program_metrics"]["budget"].as_i64().unwrap_or(0)).sum();
        let page = ok_json(&app, "/api/reseller/pacing?status=CURRENT&limit=2&sort=budget&order=desc", &session).await;
        assert_eq!(page["programs"].as_array().unwrap().len(), 2);
        assert_eq!(page["totals"]["programs"], current["total_count"]);
        assert_eq!(page["totals"]["monthly_budget_cents"].as_i64(), Some(current_budget));
        let budgets: Vec<i64> = page["programs"].as_array().unwrap().iter().map(|r| r["monthly_budget_cents"].as_i64().unwrap()).collect();
        assert!(budgets[0] >= budgets[1], "in the list's order: {budgets:?}");

        let none = ok_json(&app, "/api/reseller/pacing?program_type=EP", &session).await;
        assert_eq!((none["programs"].clone(), none["totals"]["programs"].clone(), none["totals"]["spend_cents"].clone()),
            (json!([]), json!(0), json!(0)));
    }
}

on_every_backend! {
    async fn bad_parameters_are_refused_with_a_400_naming_them(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.synced().await;
        let (id, _, _) = whole_month_cpc(&app).await;
        let metrics = format!("/api/reseller/programs/{id}/metrics");
        for (query, field) in [
            ("from=yesterday", "from"),
            ("to=2026-13-01", "to"),
            ("from=2026-03-10&to=2026-03-01", "from"),
            ("from=2020-01-01&to=2026-01-01", "from"),
            ("since=2026-01-01", "since"),
        ] {
            let (status, body) = app.get_json(&format!("{metrics}?{query}"), &session).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
            assert_eq!(body["error"]["field"], field, "{query}: {body}");
        }
        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=501", "limit"),
            ("sort=pacing_flag", "sort"),
            ("status=SOMETIMES", "status"),
            ("program_type=XYZ", "program_type"),
            ("all=true", "all"),
            ("bogus=1", "bogus"),
        ] {
            let (status, body) = app.get_json(&format!("/api/reseller/pacing?{query}"), &session).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
            assert_eq!(body["error"]["field"], field, "{query}: {body}");
        }
        let (status, _) = app.get_json("/api/reseller/programs/NoSuchProgram123/metrics", &session).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

on_every_backend! {
    async fn another_workspaces_programs_and_snapshots_never_appear(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.synced().await;
        let theirs = app.other_program.clone();
        let (status, _) = app.get_json(&format!("/api/reseller/programs/{theirs}/metrics"), &session).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "another workspace's program is not found");
        let ours = ok_json(&app, "/api/reseller/pacing?limit=500", &session).await;
        assert!(ours["programs"].as_array().unwrap().iter().all(|p| p["program_id"] != theirs.as_str()));
        assert_eq!(ours["totals"]["programs"].as_u64(), Some(sim_cpc_count(&app).await));

        // Their admin sees their one program, with a snapshot of its new budget, and nothing of ours.
        let agency_b = app.store.workspaces().await.unwrap().into_iter().find(|w| w.name == "Agency B").unwrap().id;
        let now = Utc::now().timestamp_millis();
        app.store.write_program_page(&agency_b, &[crate::store::entry(&theirs, 12_300)], &mut Default::default(), now,
            dashboard::store::MirrorWriter::Refresh).await.unwrap();
        let bob = app.login(BOB).await;
        let their_list = ok_json(&app, "/api/reseller/pacing", &bob).await;
        assert_eq!(their_list["totals"], json!({"programs": 1, "monthly_budget_cents": 12_300, "spend_cents": 100,
            "billed_clicks": 0, "billed_impressions": 0}));
        let mine = ok_json(&app, &format!("/api/reseller/programs/{theirs}/metrics"), &bob).await;
        let budgets: Vec<&Value> = mine["snapshots"].as_array().unwrap().iter().map(|s| &s["budget_cents"]).collect();
        assert_eq!(budgets, [&json!(12_300)], "{mine}");
        assert!(mine["pacing_unavailable"].as_str().unwrap().contains("fee period"), "{mine}");
        let (id, _, _) = whole_month_cpc(&app).await;
        let (status, _) = app.get_json(&format!("/api/reseller/programs/{id}/metrics"), &bob).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(app.store.count_snapshots(&app.workspace_id).await.unwrap(), sim_cpc_count(&app).await);
    }
}

on_every_backend! {
    async fn the_status_page_charts_a_cpc_programs_spend_with_its_numbers_and_pacing_in_words(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 40).await;
        let session = app.synced().await;
        let (id, budget, spend) = whole_month_cpc(&app).await;
        app.sim.patch_program(&id, json!({"ad_cost": other_spend(spend)})).await;
        app.synced().await;

        let page = get(&app, &format!("/program-status/{id}"), &session).await;
        assert_eq!(page.status, StatusCode::OK);
        let chart = page.one("#spend-chart svg[role=img]");
        let labelled = chart.value().attr("aria-labelledby").unwrap();
        assert_eq!(labelled, "spend-chart-title spend-chart-desc");
        assert!(page.text("#spend-chart-title").contains(&id));
        assert!(page.text("#spend-chart-desc").contains(&yelp_partner_api::Cents::new(other_spend(spend)).to_string()));
        assert_eq!(page.all("#spend-chart polyline").len(), 3, "spend, budget and clicks");
        let rows = page.all("#spend-table tbody tr");
        assert_eq!(rows.len(), 2, "one row a snapshot");
        assert!(crate::helpers::html::text(rows[0]).contains(&yelp_partner_api::Cents::new(other_spend(spend)).to_string()),
            "newest first");
        let line = page.text("#pacing-line");
        let expected = format!("{} of {} spent, ", yelp_partner_api::Cents::new(other_spend(spend)), yelp_partner_api::Cents::new(budget));
        assert!(line.starts_with(&expected) && line.contains(" % of the period; on track to spend $"), "{line}");
        assert_eq!(page.all("#pacing-flags").len(), 1);
        assert_eq!(page.all("#program-history").len(), 1, "the timeline stays");

        // Other programs' pages have no spend section and work as before.
        let ep = app.sim.programs().await.into_iter().find(|p| p["program_type"] != "CPC").unwrap();
        let page = get(&app, &format!("/program-status/{}", ep["program_id"].as_str().unwrap()), &session).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.all("#program-pacing").is_empty());
        assert_eq!(page.all("#program-history").len(), 1);

        // A CPC program without snapshots in the chart's days, and without a fee period, says so.
        let bob = app.login(BOB).await;
        let page = get(&app, &format!("/program-status/{}", app.other_program), &bob).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.all("#spend-chart-empty").len(), 1);
        assert!(page.text("#pacing-line").contains("fee period"));
        assert!(page.all("#spend-chart").is_empty());
    }
}
