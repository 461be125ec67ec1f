//! Scheduled changes through the API: fired once and followed to their jobs, pause windows, skips with
//! their reason, cancel, a stop across the due time (late, or missed past the grace), two instances
//! firing fifty at once, times read in the workspace's time zone, and moving a pause window's end. Time
//! moves forward through the poster's clock offset, not by sleeping.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::api::{running_cpc, send};
use crate::helpers::new_york::{next_christmas_eve, next_spring_forward};
use crate::helpers::on_every_backend;
use crate::web::{ALICE, Session, TestApp, VICTOR};

const HOUR_MS: i64 = 3_600_000;

fn iso_in(ms_from_now: i64) -> String {
    Utc.timestamp_millis_opt(dashboard::store::now_ms() + ms_from_now)
        .unwrap()
        .to_rfc3339()
}

async fn schedule(app: &TestApp, session: &Session, body: Value) -> Value {
    let (status, made) = send(
        app,
        Method::POST,
        "/api/reseller/schedules",
        session,
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["state"], "scheduled");
    made
}

/// Waits until the schedule has left `scheduled`/`firing` and its jobs have ended; answers it.
async fn settled(app: &TestApp, session: &Session, id: &str) -> Value {
    let started = Instant::now();
    loop {
        let (_, now) = app
            .get_json(&format!("/api/reseller/schedules/{id}"), session)
            .await;
        let fired_and_done = now["state"] == "fired" && now["counts"]["pending"] == 0;
        if fired_and_done
            || ["skipped", "missed", "cancelled"].contains(&now["state"].as_str().unwrap())
        {
            return now;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the schedule settles: {now}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn sim_paused(app: &TestApp, id: &str) -> bool {
    app.sim
        .programs()
        .await
        .iter()
        .find(|p| p["program_id"] == id)
        .unwrap()["program_pause_status"]
        == "PAUSED"
}

async fn pause_requests(app: &TestApp) -> u64 {
    app.sim.control(Method::GET, "/_sim/stats", None).await["requests"]["POST /program/{program_id}/pause/v1"]
        .as_u64().unwrap_or(0)
}

on_every_backend! {
    async fn a_pause_scheduled_two_seconds_ahead_fires_once_and_its_job_completes(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 80).await;
        let session = app.synced().await;
        let ids = running_cpc(&app, &session, 1).await;
        let made = schedule(&app, &session, json!({
            "program_ids": ids, "operation": {"kind": "pause"}, "at": iso_in(2_000),
        })).await;
        assert_eq!(made["description"], "Pause");
        let fired = settled(&app, &session, made["id"].as_str().unwrap()).await;
        assert_eq!(fired["state"], "fired", "{fired}");
        assert!(fired["late_seconds"].as_i64().unwrap() < 5, "{fired}");
        let jobs = fired["job_ids"].as_array().unwrap();
        assert_eq!(jobs.len(), 1);
        let (_, job) = app.get_json(&format!("/api/reseller/status/{}", jobs[0].as_str().unwrap()), &session).await;
        assert_eq!((job["status"].as_str(), job["job_type"].as_str()), (Some("COMPLETED"), Some("pause")), "{job}");
        assert!(sim_paused(&app, &ids[0]).await);
        assert_eq!(pause_requests(&app).await, 1, "fired once");
    }
}

on_every_backend! {
    async fn a_pause_window_pauses_then_resumes_and_the_old_paths_list_and_cancel(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 80).await;
        let session = app.synced().await;
        let ids = running_cpc(&app, &session, 2).await;
        let (status, made) = send(&app, Method::POST, &format!("/api/program/{}/schedule-pause/v1", ids[0]), &session, Some(json!({
            "scheduled_datetime": iso_in(1_000), "resume_datetime": iso_in(3_000),
        }))).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        assert!(made["resume_datetime"].is_string(), "{made}");
        let (_, listed) = app.get_json("/api/reseller/scheduled-pauses", &session).await;
        assert_eq!(listed["count"], 1, "the window's resume is part of the pause: {listed}");
        let pause = settled(&app, &session, made["id"].as_str().unwrap()).await;
        assert_eq!(pause["state"], "fired", "{pause}");
        let resume = settled(&app, &session, pause["window_end"]["id"].as_str().unwrap()).await;
        assert_eq!(resume["state"], "fired", "{resume}");
        assert!(!sim_paused(&app, &ids[0]).await, "paused, then resumed");
        assert_eq!(pause_requests(&app).await, 1);

        // The other one is cancelled through the old path, with its window, and never fires.
        let (_, other) = send(&app, Method::POST, &format!("/api/program/{}/schedule-pause/v1", ids[1]), &session, Some(json!({
            "scheduled_datetime": iso_in(HOUR_MS), "resume_datetime": iso_in(2 * HOUR_MS),
        }))).await;
        let other_id = other["id"].as_str().unwrap();
        let (status, cancelled) = send(&app, Method::POST, &format!("/api/reseller/scheduled-pause/{other_id}/cancel"), &session, None).await;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
        assert_eq!((cancelled["state"].as_str(), cancelled["window_end"]["state"].as_str()), (Some("cancelled"), Some("cancelled")));
        let (status, again) = send(&app, Method::DELETE, &format!("/api/reseller/schedules/{other_id}"), &session, None).await;
        assert_eq!(status, StatusCode::CONFLICT, "{again}");
    }
}

on_every_backend! {
    async fn a_schedule_whose_program_ended_meanwhile_is_skipped_with_that_reason(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 80).await;
        let session = app.synced().await;
        let ids = running_cpc(&app, &session, 1).await;
        let made = schedule(&app, &session, json!({
            "program_ids": ids, "operation": {"kind": "pause"}, "at": iso_in(1_500),
        })).await;
        let yesterday = (Utc::now() - chrono::Duration::days(1)).date_naive();
        app.sim.patch_program(&ids[0], json!({"end_date": yesterday, "program_status": "INACTIVE"})).await;
        let skipped = settled(&app, &session, made["id"].as_str().unwrap()).await;
        assert_eq!(skipped["state"], "skipped", "{skipped}");
        let outcome = skipped["outcome"].as_str().unwrap();
        assert!(outcome.contains("not running"), "the reason is the rule's: {outcome}");
        assert_eq!(pause_requests(&app).await, 0, "nothing was forced");
    }
}

on_every_backend! {
    async fn schedules_are_refused_naming_what_is_wrong(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 40).await;
        let session = app.synced().await;
        let ids = running_cpc(&app, &session, 1).await;
        for (body, field) in [
            (json!({"program_ids": ids, "operation": {"kind": "pause"}, "at": iso_in(-60_000)}), "at"),
            (json!({"program_ids": ids, "operation": {"kind": "pause"}, "at": "next tuesday"}), "at"),
            (json!({"program_ids": ids, "operation": {"kind": "pause"}}), "at"),
            (json!({"program_ids": ids, "operation": {"kind": "resume"}, "at": iso_in(60_000)}), "program_ids"),
            (json!({"program_ids": ids, "operation": {"kind": "set_budget", "value": 100}, "at": iso_in(60_000), "until": iso_in(120_000)}), "until"),
            (json!({"program_ids": ids, "operation": {"kind": "pause"}, "at": iso_in(60_000), "until": iso_in(30_000)}), "until"),
        ] {
            let (status, answer) = send(&app, Method::POST, "/api/reseller/schedules", &session, Some(body.clone())).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
            assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
        }
        let (_, listed) = app.get_json("/api/reseller/schedules", &session).await;
        assert_eq!(listed["total"], 0);
        let (status, made) = send(&app, Method::POST, &format!("/api/program/{}/schedule-budget-update/v1", ids[0]), &session, Some(json!({
            "new_budget": "10312.25", "scheduled_datetime": iso_in(HOUR_MS), "is_autobid": true, "pacing_method": "paced",
        }))).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        let (_, updates) = app.get_json("/api/reseller/scheduled-budget-updates", &session).await;
        assert_eq!(updates["count"], 1, "{updates}");
        assert!(updates["scheduled_budget_updates"][0]["description"].as_str().unwrap().contains("$10,312.25"), "{updates}");
        let (status, moved) = send(&app, Method::PATCH, &format!("/api/reseller/schedules/{}", made["id"].as_str().unwrap()), &session,
            Some(json!({"at": iso_in(2 * HOUR_MS)}))).await;
        assert_eq!(status, StatusCode::OK, "{moved}");
    }
}

on_every_backend! {
    async fn a_schedule_due_while_stopped_fires_at_start_late_or_is_missed_past_the_grace(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 80).await;
        let session = app.synced().await;
        let ids = running_cpc(&app, &session, 2).await;
        // The server stops; two pauses come due one and three hours later, while it is down.
        let stopping = app.poster.lock().unwrap().take().unwrap();
        stopping.stop().await;
        let late = schedule(&app, &session, json!({"program_ids": [ids[0]], "operation": {"kind": "pause"}, "at": iso_in(HOUR_MS)})).await;
        let lost = schedule(&app, &session, json!({"program_ids": [ids[1]], "operation": {"kind": "pause"}, "at": iso_in(3 * HOUR_MS)})).await;
        let cancelled = schedule(&app, &session, json!({"program_ids": [ids[1]], "operation": {"kind": "pause"}, "at": iso_in(HOUR_MS)})).await;
        send(&app, Method::DELETE, &format!("/api/reseller/schedules/{}", cancelled["id"].as_str().unwrap()), &session, None).await;

        // Started again 10 minutes after the first was due: it fires at once, 10 minutes late.
        let poster = app.restarted_poster_at(None, HOUR_MS + 10 * 60_000).await;
        let fired = settled(&app, &session, late["id"].as_str().unwrap()).await;
        poster.stop().await;
        assert_eq!(fired["state"], "fired", "{fired}");
        let late_seconds = fired["late_seconds"].as_i64().unwrap();
        assert!((600..630).contains(&late_seconds), "the delay is recorded: {late_seconds} s");

        // The other one comes due, and the server comes back two days after: missed, nothing is sent.
        let poster = app.restarted_poster_at(None, 2 * 24 * HOUR_MS + 3 * HOUR_MS).await;
        let missed = settled(&app, &session, lost["id"].as_str().unwrap()).await;
        poster.stop().await;
        assert_eq!(missed["state"], "missed", "{missed}");
        assert!(missed["outcome"].as_str().unwrap().starts_with("Missed: it came due 48 h ago"), "{missed}");
        let (_, still) = app.get_json(&format!("/api/reseller/schedules/{}", cancelled["id"].as_str().unwrap()), &session).await;
        assert_eq!(still["state"], "cancelled", "a cancelled one never fires");
        assert_eq!(pause_requests(&app).await, 1, "only the late one was sent");
        assert!(!sim_paused(&app, &ids[1]).await);
    }
}

on_every_backend! {
    async fn fifty_schedules_due_at_once_on_two_instances_make_one_job_each(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 400).await;
        let session = app.synced().await;
        let ids = running_cpc(&app, &session, 50).await;
        let stopping = app.poster.lock().unwrap().take().unwrap();
        stopping.stop().await;
        let mut made = Vec::new();
        for id in &ids {
            let s = schedule(&app, &session, json!({"program_ids": [id], "operation": {"kind": "pause"}, "at": iso_in(HOUR_MS)})).await;
            made.push(s["id"].as_str().unwrap().to_owned());
        }
        let (first, second) = tokio::join!(
            app.restarted_poster_at(None, HOUR_MS + 1_000),
            app.restarted_poster_at(None, HOUR_MS + 1_000),
        );
        for id in &made {
            let fired = settled(&app, &session, id).await;
            assert_eq!(fired["state"], "fired", "{fired}");
            assert_eq!(fired["job_ids"].as_array().unwrap().len(), 1, "{fired}");
        }
        first.stop().await;
        second.stop().await;
        assert_eq!(pause_requests(&app).await, 50, "exactly one pause a schedule");
    }
}

on_every_backend! {
    async fn a_budget_scheduled_days_ahead_goes_to_yelp_as_a_future_budget_and_the_mirror_shows_it(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 80).await;
        let session = app.synced().await;
        let ids = running_cpc(&app, &session, 1).await;
        let before = app.store.program(&app.workspace_id, &ids[0]).await.unwrap().unwrap().budget_cents;
        let made = schedule(&app, &session, json!({
            "program_ids": ids, "operation": {"kind": "set_budget", "value": "654.30"}, "at": iso_in(2 * 24 * HOUR_MS),
        })).await;
        assert!(made["description"].as_str().unwrap().contains("future budget"), "{made}");
        let day = (Utc::now() + chrono::Duration::days(2)).date_naive().to_string();
        // Sent at once; its job completes and the mirror holds Yelp's pending change, the budget unchanged.
        let started = Instant::now();
        let job = loop {
            let (_, now) = app.get_json(&format!("/api/reseller/schedules/{}", made["id"].as_str().unwrap()), &session).await;
            if let Some(job) = now["job_ids"][0].as_str() {
                let (_, job) = app.get_json(&format!("/api/reseller/status/{job}"), &session).await;
                if job["status"] == "COMPLETED" {
                    break job;
                }
            }
            assert!(started.elapsed() < Duration::from_secs(30), "the future budget is sent: {now}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(job["job_type"], "edit", "{job}");
        let (_, info) = app.get_json(&format!("/api/reseller/program_info/{}", ids[0]), &session).await;
        let program = &info["programs"][0];
        assert_eq!(program["future_budget_changes"], json!([{"budget": 65_430, "date": day}]), "{program}");
        assert_eq!(program["program_metrics"]["budget"].as_i64(), before, "today's budget stays");
        let edit = app.sim.control(Method::GET, "/_sim/stats", None).await["requests"]["POST /v1/reseller/program/{program_id}/edit"].clone();
        assert_eq!(edit, 1);

        let (status, refused) = send(&app, Method::DELETE, &format!("/api/reseller/schedules/{}", made["id"].as_str().unwrap()), &session, None).await;
        assert_eq!(status, StatusCode::CONFLICT, "Yelp holds it already: {refused}");

        // When it comes due, the schedule reads the program back and says what Yelp did.
        let stopping = app.poster.lock().unwrap().take().unwrap();
        stopping.stop().await;
        let poster = app.restarted_poster_at(None, 2 * 24 * HOUR_MS + 1_000).await;
        let fired = settled(&app, &session, made["id"].as_str().unwrap()).await;
        poster.stop().await;
        assert_eq!(fired["state"], "fired", "{fired}");
        assert!(fired["outcome"].as_str().unwrap().contains("future budget changes"), "{fired}");
    }
}

/// Sets the workspace's time zone as its admin does through the settings API.
async fn set_time_zone(app: &TestApp, name: &str) -> (StatusCode, Value) {
    let alice = app.login(ALICE).await;
    send(
        app,
        Method::POST,
        "/api/settings/workspace",
        &alice,
        Some(json!({"time_zone": name})),
    )
    .await
}

on_every_backend! {
    async fn a_time_without_an_offset_is_read_in_the_workspaces_zone_and_one_with_an_offset_keeps_its_meaning(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 40).await;
        let session = app.synced().await;
        let ids = running_cpc(&app, &session, 3).await;
        let (_, before) = app.get_json("/api/settings/workspace", &session).await;
        assert_eq!(before["time_zone"], "UTC", "a new workspace is in UTC: {before}");

        let (status, refused) = set_time_zone(&app, "America/New_Yrok").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
        assert_eq!(refused["error"]["field"], "time_zone", "{refused}");
        let (status, set) = set_time_zone(&app, "America/New_York").await;
        assert_eq!(status, StatusCode::OK, "{set}");
        // Every member reads it (it says how their times are read); only admins set it.
        let (status, seen) = app.get_json("/api/settings/workspace", &app.login(VICTOR).await).await;
        assert_eq!((status, seen["time_zone"].as_str()), (StatusCode::OK, Some("America/New_York")), "{seen}");
        let (status, _) = send(&app, Method::POST, "/api/settings/workspace", &session, Some(json!({"time_zone": "UTC"}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        let day = next_christmas_eve();
        let local = format!("{day}T09:00");
        let made = schedule(&app, &session, json!({
            "program_ids": [ids[0]], "operation": {"kind": "pause"}, "at": local,
        })).await;
        assert_eq!(made["at"], format!("{day}T14:00:00+00:00"), "09:00 EST is 14:00 UTC: {made}");
        assert_eq!(made["time_zone"], "America/New_York");
        let stored = app.store.schedule(&app.workspace_id, made["id"].as_str().unwrap()).await.unwrap().unwrap();
        assert_eq!(stored.due_at, Utc.from_utc_datetime(&day.and_hms_opt(14, 0, 0).unwrap()).timestamp_millis());

        // With an offset or Z, a time means what it says, whatever the zone.
        let made = schedule(&app, &session, json!({
            "program_ids": [ids[1]], "operation": {"kind": "pause"}, "at": format!("{day}T09:00:00Z"),
            "until": format!("{day}T09:00:00-08:00"),
        })).await;
        assert_eq!((made["at"].as_str(), made["until"].as_str()),
            (Some(format!("{day}T09:00:00+00:00").as_str()), Some(format!("{day}T17:00:00+00:00").as_str())), "{made}");

        // The replaced system's paths read theirs in the zone too.
        let (status, old) = send(&app, Method::POST, &format!("/api/program/{}/schedule-pause/v1", ids[2]), &session, Some(json!({
            "scheduled_datetime": format!("{day} 09:00"), "resume_datetime": format!("{day}T17:30:00"),
        }))).await;
        assert_eq!(status, StatusCode::CREATED, "{old}");
        assert_eq!((old["scheduled_datetime"].as_str(), old["resume_datetime"].as_str()),
            (Some(format!("{day}T14:00:00+00:00").as_str()), Some(format!("{day}T22:30:00+00:00").as_str())), "{old}");

        // 02:30 on the day the clocks go forward does not exist in New York: refused, naming the field.
        let gap = format!("{}T02:30", next_spring_forward());
        for (path, body, field) in [
            ("/api/reseller/schedules".to_owned(), json!({"program_ids": [ids[0]], "operation": {"kind": "pause"}, "at": gap}), "at"),
            ("/api/reseller/schedules".to_owned(), json!({"program_ids": [ids[0]], "operation": {"kind": "pause"}, "at": local, "until": gap}), "until"),
            (format!("/api/program/{}/schedule-pause/v1", ids[0]), json!({"scheduled_datetime": gap}), "scheduled_datetime"),
            (format!("/api/program/{}/schedule-budget-update/v1", ids[0]), json!({"new_budget": "400.00", "scheduled_datetime": gap}), "scheduled_datetime"),
        ] {
            let (status, answer) = send(&app, Method::POST, &path, &session, Some(body.clone())).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
            assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(message.contains("does not exist in America/New_York") && message.contains("jump forward"), "{message}");
        }
        let (_, listed) = app.get_json("/api/reseller/schedules", &session).await;
        // Three schedules, two of them with the end of their window.
        assert_eq!(listed["total"], 5, "nothing was scheduled for a time that does not exist: {listed}");
        assert_eq!(listed["time_zone"], "America/New_York");
    }
}

on_every_backend! {
    async fn a_pause_windows_end_moves_with_the_same_checks_and_alone_once_the_pause_has_fired(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 40).await;
        let session = app.synced().await;
        let ids = running_cpc(&app, &session, 2).await;
        let stopping = app.poster.lock().unwrap().take().unwrap();
        stopping.stop().await;
        // Times from one now, so that those sent and those answered compare exactly.
        let base = dashboard::store::now_ms();
        let t = |ms: i64| Utc.timestamp_millis_opt(base + ms).unwrap().to_rfc3339();
        let made = schedule(&app, &session, json!({
            "program_ids": [ids[0]], "operation": {"kind": "pause"}, "at": t(HOUR_MS), "until": t(2 * HOUR_MS),
        })).await;
        let id = made["id"].as_str().unwrap();
        let path = format!("/api/reseller/schedules/{id}");
        let patch = |body: Value| send(&app, Method::PATCH, &path, &session, Some(body));

        // The end alone, the start alone (still before the end), then both at once.
        let (status, moved) = patch(json!({"until": t(3 * HOUR_MS)})).await;
        assert_eq!(status, StatusCode::OK, "{moved}");
        assert_eq!((&moved["at"], &moved["until"]), (&made["at"], &json!(t(3 * HOUR_MS))), "{moved}");
        let (status, moved) = patch(json!({"at": t(HOUR_MS / 2)})).await;
        assert_eq!(status, StatusCode::OK, "{moved}");
        assert_eq!(moved["until"], json!(t(3 * HOUR_MS)), "{moved}");
        let (status, moved) = patch(json!({"at": t(4 * HOUR_MS), "until": t(5 * HOUR_MS)})).await;
        assert_eq!(status, StatusCode::OK, "{moved}");
        assert_eq!((moved["at"].as_str(), moved["until"].as_str()),
            (Some(t(4 * HOUR_MS).as_str()), Some(t(5 * HOUR_MS).as_str())), "{moved}");

        // Refused, naming the field, and nothing moves.
        for (body, field, why) in [
            (json!({"until": t(3 * HOUR_MS)}), "until", "end after it starts"),
            (json!({"at": t(6 * HOUR_MS)}), "at", "end after it starts"),
            (json!({"at": t(6 * HOUR_MS), "until": t(5 * HOUR_MS + 1_000)}), "until", "end after it starts"),
            (json!({"until": t(-60_000)}), "until", "future"),
            (json!({"until": "later"}), "until", "ISO 8601"),
            (json!({}), "at", "required"),
        ] {
            let (status, answer) = patch(body.clone()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
            assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
            assert!(answer["error"]["message"].as_str().unwrap().contains(why), "{body}: {answer}");
        }
        let (_, still) = app.get_json(&path, &session).await;
        assert_eq!((still["at"].as_str(), still["until"].as_str()),
            (Some(t(4 * HOUR_MS).as_str()), Some(t(5 * HOUR_MS).as_str())), "{still}");
        // The end of a window moved by its own id stays after its pause.
        let end_path = format!("/api/reseller/schedules/{}", still["window_end"]["id"].as_str().unwrap());
        let (status, answer) = send(&app, Method::PATCH, &end_path, &session, Some(json!({"at": t(3 * HOUR_MS)}))).await;
        assert_eq!((status, answer["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("at")), "{answer}");
        // A pause without a window has no end to move.
        let single = schedule(&app, &session, json!({"program_ids": [ids[1]], "operation": {"kind": "pause"}, "at": t(HOUR_MS)})).await;
        let (status, answer) = send(&app, Method::PATCH, &format!("/api/reseller/schedules/{}", single["id"].as_str().unwrap()),
            &session, Some(json!({"until": t(2 * HOUR_MS)}))).await;
        assert_eq!((status, answer["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("until")), "{answer}");

        // The pause fires (the poster's clock 4 h ahead); the resume has not, and it alone still moves.
        let poster = app.restarted_poster_at(None, 4 * HOUR_MS + 1_000).await;
        let fired = settled(&app, &session, id).await;
        poster.stop().await;
        assert_eq!(fired["state"], "fired", "{fired}");
        assert_eq!(fired["window_end"]["state"], "scheduled", "{fired}");
        let (status, refused) = patch(json!({"at": t(7 * HOUR_MS), "until": t(8 * HOUR_MS)})).await;
        assert_eq!(status, StatusCode::CONFLICT, "the pause has fired: {refused}");
        let (status, moved) = patch(json!({"until": t(6 * HOUR_MS)})).await;
        assert_eq!(status, StatusCode::OK, "{moved}");
        assert_eq!(moved["until"], json!(t(6 * HOUR_MS)), "{moved}");
        assert_eq!(moved["at"], fired["at"], "the fired pause keeps its time");
    }
}
