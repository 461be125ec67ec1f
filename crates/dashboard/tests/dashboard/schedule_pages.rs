//! The scheduled-change pages as a browser without JavaScript uses them: scheduling from a program's edit
//! page and from the programs page's toolbar, `/schedules` with its upcoming list, month calendar and past
//! list, cancel and move (a pause window's end too), what a bad time gets, and what a viewer sees. Times
//! are typed in the workspace's time zone: UTC, unless a test sets another on the settings page.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use reqwest::StatusCode;
use scraper::Selector;

use crate::helpers::api::running_cpc;
use crate::helpers::html::{Page, get, post_form, text};
use crate::helpers::new_york::{next_christmas_eve, next_spring_forward};
use crate::helpers::on_every_backend;
use crate::web::{ALICE, Session, TestApp, VICTOR};

const HOUR_MS: i64 = 3_600_000;

/// A time `ms_from_now` ahead as a `datetime-local` field holds it (UTC, to the minute), and as the
/// pages write it.
fn local_in(ms_from_now: i64) -> (String, String) {
    let t = Utc
        .timestamp_millis_opt(dashboard::store::now_ms() + ms_from_now)
        .unwrap();
    (
        t.format("%Y-%m-%dT%H:%M").to_string(),
        t.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

/// The month of a `datetime-local` value, as `?month=` takes it.
fn month_of(local: &str) -> &str {
    &local[..7]
}

/// How many scheduled changes the workspace has.
async fn schedules(app: &TestApp, session: &Session) -> u64 {
    let (status, body) = app.get_json("/api/reseller/schedules", session).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["total"].as_u64().unwrap()
}

/// Schedules a pause of `program_id` from its edit page `ms_from_now` ahead; answers the schedule's id.
async fn pause_from_the_edit_page(
    app: &TestApp,
    session: &Session,
    program_id: &str,
    ms_from_now: i64,
) -> String {
    let (at, _) = local_in(ms_from_now);
    let done = post_form(
        app,
        &format!("/edit/{program_id}/schedule"),
        session,
        &[("schedule_kind", "pause"), ("schedule_at", &at)],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location.as_deref(), Some("/schedules"));
    let page = get(app, &format!("/schedules?month={}", month_of(&at)), session).await;
    let row = page.one("#upcoming-table tbody tr[data-schedule-id]");
    row.value().attr("data-schedule-id").unwrap().to_owned()
}

on_every_backend! {
    async fn a_pause_window_scheduled_from_the_edit_page_shows_as_upcoming_and_in_the_months_calendar(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.synced().await;
        let id = running_cpc(&app, &session, 1).await.remove(0);

        let edit = get(&app, &format!("/edit/{id}"), &session).await;
        assert_eq!(edit.status, StatusCode::OK);
        edit.one(&format!(
            r#"form#schedule-form[method=post][action="/edit/{id}/schedule"] input[name=csrf_token][type=hidden]"#
        ));
        for field in ["schedule-kind", "schedule-value", "schedule-at", "schedule-until"] {
            edit.one(&format!("label[for={field}]"));
        }
        edit.one("input#schedule-at[type=datetime-local][name=schedule_at]");
        assert!(edit.text("#schedule-at-hint").starts_with("Times are in UTC"), "{}", edit.text("#schedule-at-hint"));
        assert_eq!(edit.text("label[for=schedule-at]"), "At (UTC)");
        assert_eq!(edit.all("select#schedule-kind option").len(), 5);
        edit.one("form#schedule-form button#schedule-submit");

        let (at, at_text) = local_in(2 * HOUR_MS);
        let (until, until_text) = local_in(3 * HOUR_MS);
        let done = post_form(&app, &format!("/edit/{id}/schedule"), &session, &[
            ("schedule_kind", "pause_window"), ("schedule_value", ""),
            ("schedule_at", &at), ("schedule_until", &until),
        ])
        .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html.html());
        assert_eq!(done.location.as_deref(), Some("/schedules"));

        let page = get(&app, &format!("/schedules?month={}", month_of(&at)), &session).await;
        assert_eq!(page.status, StatusCode::OK);
        page.one(r#"nav a[href="/schedules"][aria-current=page]"#);
        let row = page.one("#upcoming-table tbody tr[data-schedule-id]");
        let schedule_id = row.value().attr("data-schedule-id").unwrap().to_owned();
        assert_eq!(page.text("#upcoming-table .when"), at_text);
        assert_eq!(page.text("#upcoming-table .what"), format!("Pause, then resume at {until_text}"));
        assert_eq!(
            page.one("#upcoming-table a.first-program").value().attr("href"),
            Some(format!("/program-status/{id}").as_str())
        );
        assert!(page.text("#upcoming-table .program-count").starts_with("1 program"));
        assert!(text(row).contains("olga"), "the author: {}", text(row));
        page.one(&format!(
            r#"form[method=post][action="/schedules/{schedule_id}/cancel"] input[name=csrf_token]"#
        ));
        page.one(&format!(
            r#"form[method=post][action="/schedules/{schedule_id}/move"] input[type=datetime-local][name=at][value="{at}"]"#
        ));

        // The calendar: a table with a caption, the pause on its day (and the resume on its own).
        page.one("table#schedule-calendar caption");
        let day = page.one(&format!(r#"#schedule-calendar td[data-date="{}"]"#, &at[..10]));
        let entry = text(
            day.select(&Selector::parse(&format!(r#"li[data-schedule-id="{schedule_id}"]"#)).unwrap())
                .next()
                .expect("the pause in its day's cell"),
        );
        assert_eq!(entry, format!("{} UTC Pause", &at[11..16]));
        if month_of(&until) == month_of(&at) {
            assert!(page.all("#schedule-calendar li").iter().any(|li| text(*li).contains("Resume")));
        }
        let next = page.one("#calendar-next").value().attr("href").unwrap().to_owned();
        let later = get(&app, &next, &session).await;
        assert_eq!(later.status, StatusCode::OK);
        assert!(later.all(&format!(r#"#schedule-calendar li[data-schedule-id="{schedule_id}"]"#)).is_empty());
        assert!(page.all("#past-table").is_empty());
        assert_eq!(get(&app, "/schedules?month=soon", &session).await.status, StatusCode::BAD_REQUEST);
    }
}

on_every_backend! {
    async fn a_cancelled_schedule_moves_to_past_as_cancelled_and_a_moved_one_shows_its_new_time(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.synced().await;
        let id = running_cpc(&app, &session, 1).await.remove(0);
        let schedule_id = pause_from_the_edit_page(&app, &session, &id, 2 * HOUR_MS).await;

        let (later, later_text) = local_in(5 * HOUR_MS);
        let moved = post_form(&app, &format!("/schedules/{schedule_id}/move"), &session, &[("at", &later)]).await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER);
        let page = get(&app, &format!("/schedules?month={}", month_of(&later)), &session).await;
        assert_eq!(page.text("#upcoming-table .when"), later_text);

        let (past, _) = local_in(-HOUR_MS);
        let refused = post_form(&app, &format!("/schedules/{schedule_id}/move"), &session, &[("at", &past)]).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert!(refused.text(&format!("#move-error-{schedule_id}")).contains("future"));

        let cancelled = post_form(&app, &format!("/schedules/{schedule_id}/cancel"), &session, &[]).await;
        assert_eq!(cancelled.status, StatusCode::SEE_OTHER);
        assert_eq!(cancelled.location.as_deref(), Some("/schedules"));
        let page = get(&app, "/schedules", &session).await;
        page.one("#upcoming-empty");
        let row = page.one(&format!(r#"#past-table tbody tr[data-schedule-id="{schedule_id}"][data-state=cancelled]"#));
        assert!(text(row).contains("Cancelled"), "{}", text(row));
        assert!(text(row).contains("Pause"), "{}", text(row));

        let again = post_form(&app, &format!("/schedules/{schedule_id}/cancel"), &session, &[]).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert!(again.text(&format!("#move-error-{schedule_id}, #schedule-error")).contains("cancelled already"));
        let (_, body) = app.get_json(&format!("/api/reseller/schedules/{schedule_id}"), &session).await;
        assert_eq!(body["state"], "cancelled");
    }
}

on_every_backend! {
    async fn a_bad_time_or_value_shows_the_edit_page_again_with_the_error_beside_the_field_and_schedules_nothing(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.synced().await;
        let id = running_cpc(&app, &session, 1).await.remove(0);
        let path = format!("/edit/{id}/schedule");
        let (soon, _) = local_in(2 * HOUR_MS);
        let (past, _) = local_in(-HOUR_MS);

        let page = post_form(&app, &path, &session, &[("schedule_kind", "pause"), ("schedule_at", "")]).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert!(page.text("#schedule-at-error").contains("Choose a date and time"));
        page.one("input#schedule-at[aria-invalid=true]");
        page.one("#program-form");

        let page = post_form(&app, &path, &session, &[("schedule_kind", "pause"), ("schedule_at", "next tuesday")]).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert!(page.text("#schedule-at-error").contains("such as"));
        page.one(r#"input#schedule-at[value="next tuesday"]"#);

        let page = post_form(&app, &path, &session, &[("schedule_kind", "pause"), ("schedule_at", &past)]).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert!(page.text("#schedule-at-error").contains("in the future"), "{}", page.text("#schedule-at-error"));

        let page = post_form(&app, &path, &session, &[
            ("schedule_kind", "set_budget"), ("schedule_value", "lots"), ("schedule_at", &soon),
        ])
        .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert!(page.text("#schedule-value-error").contains("in dollars"));
        page.one("select#schedule-kind option[value=set_budget][selected]");

        let page = post_form(&app, &path, &session, &[
            ("schedule_kind", "pause_window"), ("schedule_at", &soon), ("schedule_until", &past),
        ])
        .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert!(page.text("#schedule-until-error").contains("end after it starts"));

        let page = post_form(&app, &path, &session, &[("schedule_kind", "pause_window"), ("schedule_at", &soon)]).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert!(page.text("#schedule-until-error").contains("when to resume"));

        let page = post_form(&app, &path, &session, &[
            ("schedule_kind", "end"), ("schedule_at", &soon), ("schedule_until", &soon),
        ])
        .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert!(page.text("#schedule-until-error").contains("pause only"));

        // A resume of a program that is not paused changes nothing: refused, said above the form.
        let page = post_form(&app, &path, &session, &[("schedule_kind", "resume"), ("schedule_at", &soon)]).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert!(page.text("#schedule-error").contains("Nothing of the change would apply"));

        assert_eq!(schedules(&app, &session).await, 0);
        let (_, sets) = app.get_json("/api/reseller/change-sets", &session).await;
        assert_eq!(sets["total"], 0, "no change set left behind: {sets}");
        get(&app, "/schedules", &session).await.one("#upcoming-empty");
    }
}

on_every_backend! {
    async fn the_programs_toolbar_schedules_the_selection_when_given_a_time_and_stages_it_without(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.synced().await;
        let ids = running_cpc(&app, &session, 2).await;
        let list = get(&app, "/programs", &session).await;
        list.one("form#stage-form input#stage-at[type=datetime-local][name=at]");
        list.one("label[for=stage-at]");

        let refused = post_form(&app, "/change-sets", &session, &[
            ("program_id", ids[0].as_str()), ("kind", "pause"), ("at", "soon"),
        ])
        .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert!(refused.text("#stage-error").contains("such as"));
        refused.one(r#"input#stage-at[value=soon]"#);
        assert_eq!(schedules(&app, &session).await, 0);

        let (at, at_text) = local_in(2 * HOUR_MS);
        let done = post_form(&app, "/change-sets", &session, &[
            ("program_id", ids[0].as_str()), ("program_id", ids[1].as_str()),
            ("kind", "set_budget"), ("value", "98765.43"), ("at", &at),
        ])
        .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html.html());
        assert_eq!(done.location.as_deref(), Some("/schedules"));
        let page = get(&app, &format!("/schedules?month={}", month_of(&at)), &session).await;
        page.one("#upcoming-table tbody tr[data-schedule-id]");
        assert_eq!(page.text("#upcoming-table .when"), at_text);
        assert_eq!(page.text("#upcoming-table .what"), "Set budget to $98,765.43");
        assert!(page.text("#upcoming-table .program-count").starts_with("2 programs"));
        let more = page.one("#upcoming-table a.change-set-link");
        assert_eq!(text(more), "and 1 more");
        assert!(more.value().attr("href").unwrap().starts_with("/change-sets/"));

        let staged = post_form(&app, "/change-sets", &session, &[
            ("program_id", ids[0].as_str()), ("kind", "pause"), ("at", ""),
        ])
        .await;
        assert_eq!(staged.status, StatusCode::SEE_OTHER);
        assert!(staged.location.unwrap().starts_with("/change-sets/"));
        assert_eq!(schedules(&app, &session).await, 1);
    }
}

on_every_backend! {
    async fn a_viewer_sees_the_schedules_without_any_form_and_cannot_cancel_one(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let operator = app.synced().await;
        let id = running_cpc(&app, &operator, 1).await.remove(0);
        let schedule_id = pause_from_the_edit_page(&app, &operator, &id, 2 * HOUR_MS).await;
        let viewer = app.login(VICTOR).await;

        let (at, _) = local_in(2 * HOUR_MS);
        let page = get(&app, &format!("/schedules?month={}", month_of(&at)), &viewer).await;
        assert_eq!(page.status, StatusCode::OK);
        page.one(&format!(r#"#upcoming-table tbody tr[data-schedule-id="{schedule_id}"]"#));
        page.one(&format!(r#"#schedule-calendar li[data-schedule-id="{schedule_id}"]"#));
        assert!(page.all("form[method=post]:not(#logout-form), input[type=datetime-local]").is_empty());

        let (later, _) = local_in(3 * HOUR_MS);
        for (path, fields) in [
            (format!("/schedules/{schedule_id}/cancel"), vec![]),
            (format!("/schedules/{schedule_id}/move"), vec![("at", later.as_str())]),
            (format!("/edit/{id}/schedule"), vec![("schedule_kind", "pause"), ("schedule_at", later.as_str())]),
        ] {
            let refused = post_form(&app, &path, &viewer, &fields).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        }
        assert_eq!(schedules(&app, &operator).await, 1);
        let (_, body) = app.get_json(&format!("/api/reseller/schedules/{schedule_id}"), &operator).await;
        assert_eq!(body["state"], "scheduled");
    }
}

/// Schedules a pause of `program_id` through the API `ms_from_now` ahead (to the millisecond); answers
/// the schedule's id.
async fn pause_through_the_api(
    app: &TestApp,
    session: &Session,
    program_id: &str,
    ms_from_now: i64,
) -> String {
    let at = Utc
        .timestamp_millis_opt(dashboard::store::now_ms() + ms_from_now)
        .unwrap()
        .to_rfc3339();
    let response = app
        .request(reqwest::Method::POST, "/api/reseller/schedules", Some(session))
        .json(&serde_json::json!({"program_ids": [program_id], "operation": {"kind": "pause"}, "at": at}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let made: serde_json::Value = response.json().await.unwrap();
    made["id"].as_str().unwrap().to_owned()
}

/// Waits until `/schedules` lists `id` in Past; answers the page.
async fn in_past(app: &TestApp, session: &Session, id: &str) -> Page {
    let started = std::time::Instant::now();
    loop {
        let page = get(app, "/schedules", session).await;
        if !page
            .all(&format!(r#"#past-table tr[data-schedule-id="{id}"]"#))
            .is_empty()
        {
            return page;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{id} comes to Past"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

on_every_backend! {
    async fn past_schedules_say_how_late_they_fired_link_to_their_change_set_and_say_why_one_was_missed(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 80).await;
        let session = app.synced().await;
        let ids = running_cpc(&app, &session, 2).await;
        // The server stops; two pauses come due one and three hours later, while it is down.
        let stopping = app.poster.lock().unwrap().take().unwrap();
        stopping.stop().await;
        let late = pause_through_the_api(&app, &session, &ids[0], HOUR_MS).await;
        let lost = pause_through_the_api(&app, &session, &ids[1], 3 * HOUR_MS).await;
        let upcoming = get(&app, "/schedules", &session).await;
        assert_eq!(upcoming.all("#upcoming-table tbody tr").len(), 2);
        assert!(upcoming.all("#missed-schedules").is_empty(), "nothing missed yet");

        let poster = app.restarted_poster_at(None, HOUR_MS + 10 * 60_000).await;
        let page = in_past(&app, &session, &late).await;
        poster.stop().await;
        let row = page.one(&format!(r#"#past-table tr[data-schedule-id="{late}"][data-state=fired]"#));
        let cell = text(row.select(&Selector::parse(".outcome-cell").unwrap()).next().unwrap());
        assert_eq!(cell, "Fired 10 min late");
        let (_, body) = app.get_json(&format!("/api/reseller/schedules/{late}"), &session).await;
        let change_set = body["change_set_id"].as_str().unwrap();
        let link = row.select(&Selector::parse("td.what a").unwrap()).next().expect("a link to the change set");
        assert_eq!(link.value().attr("href"), Some(format!("/change-sets/{change_set}").as_str()));
        assert_eq!(text(link), "Pause");

        let poster = app.restarted_poster_at(None, 2 * 24 * HOUR_MS + 3 * HOUR_MS).await;
        let page = in_past(&app, &session, &lost).await;
        poster.stop().await;
        let row = page.one(&format!(r#"#past-table tr[data-schedule-id="{lost}"][data-state=missed]"#));
        let cell = text(row.select(&Selector::parse(".outcome-cell").unwrap()).next().unwrap());
        assert!(cell.starts_with("Missed: it came due 48 h ago"), "{cell}");
        assert!(row.select(&Selector::parse("td.what a").unwrap()).next().is_none(), "nothing was posted");
        // Newest first: the missed one was due last.
        let order: Vec<&str> = page
            .all("#past-table tbody tr")
            .iter()
            .map(|r| r.value().attr("data-schedule-id").unwrap())
            .collect();
        assert_eq!(order, [lost.as_str(), late.as_str()]);
        page.one("#upcoming-empty");
        // Every page says so for a week, with when it was due (in the workspace's time zone).
        let programs = get(&app, "/programs", &session).await;
        assert!(
            programs.text("#missed-schedules").starts_with("1 scheduled change was missed this week"),
            "{}",
            programs.text("#missed-schedules")
        );
        let (_, lost_body) = app.get_json(&format!("/api/reseller/schedules/{lost}"), &session).await;
        let due = chrono::DateTime::parse_from_rfc3339(lost_body["at"].as_str().unwrap()).unwrap();
        let due_text = due.format("at %Y-%m-%d %H:%M UTC").to_string();
        assert!(programs.text("#missed-schedules").contains(&due_text), "{due_text}: {}", programs.text("#missed-schedules"));
        assert_eq!(
            programs.one("#missed-schedules a").value().attr("href"),
            Some("/schedules#past-title")
        );
    }
}

on_every_backend! {
    async fn a_budget_scheduled_days_ahead_from_the_edit_page_is_sent_at_once_and_offers_no_cancel(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 80).await;
        let session = app.synced().await;
        let id = running_cpc(&app, &session, 1).await.remove(0);
        let (at, _) = local_in(3 * 24 * HOUR_MS);
        let done = post_form(&app, &format!("/edit/{id}/schedule"), &session, &[
            ("schedule_kind", "set_budget"), ("schedule_value", "654.30"), ("schedule_at", &at),
        ])
        .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html.html());
        let page = get(&app, &format!("/schedules?month={}", month_of(&at)), &session).await;
        let row = page.one("#upcoming-table tbody tr[data-schedule-id]");
        assert_eq!(
            page.text("#upcoming-table .what"),
            "Set budget to $654.30 (sent to Yelp as a future budget)"
        );
        assert!(text(row).contains("Already sent to Yelp"), "{}", text(row));
        assert!(page.all("#upcoming-table form").is_empty(), "nothing to cancel or move here");
    }
}

on_every_backend! {
    async fn an_admin_sets_the_time_zone_on_the_settings_page_and_a_bad_name_is_refused_beside_the_field(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 5).await;
        let alice = app.login(ALICE).await;
        let page = get(&app, "/settings", &alice).await;
        page.one(r#"form#time-zone-form[method=post][action="/settings/time-zone"] input[name=csrf_token]"#);
        page.one(r#"input#time_zone[name=time_zone][list=time-zone-choices][value=UTC]"#);
        page.one(r#"label[for=time_zone]"#);
        page.one(r#"datalist#time-zone-choices option[value="America/Los_Angeles"]"#);

        let refused = post_form(&app, "/settings/time-zone", &alice, &[("time_zone", "Europe/Atlantis")]).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert!(refused.text("#time-zone-error").contains("IANA name"), "{}", refused.text("#time-zone-error"));
        refused.one(r#"input#time_zone[aria-invalid=true][value="Europe/Atlantis"]"#);
        let (_, workspace) = app.get_json("/api/settings/workspace", &alice).await;
        assert_eq!(workspace["time_zone"], "UTC", "nothing was saved");

        let saved = post_form(&app, "/settings/time-zone", &alice, &[("time_zone", "America/Los_Angeles")]).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER);
        assert_eq!(saved.location.as_deref(), Some("/settings?saved=time_zone"));
        let page = get(&app, "/settings?saved=time_zone", &alice).await;
        page.one(r#"input#time_zone[value="America/Los_Angeles"]"#);
        assert!(page.text("#settings-notice").contains("time zone was saved"));
        assert!(page.text("#time-zone-now").contains("Now in America/Los_Angeles"), "{}", page.text("#time-zone-now"));

        // Only admins.
        let olga = app.login(crate::web::OLGA).await;
        let refused = post_form(&app, "/settings/time-zone", &olga, &[("time_zone", "UTC")]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let (_, workspace) = app.get_json("/api/settings/workspace", &alice).await;
        assert_eq!(workspace["time_zone"], "America/Los_Angeles");
    }
}

on_every_backend! {
    async fn a_workspace_in_new_york_reads_a_typed_time_in_its_zone_and_shows_it_there_with_the_zone(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.synced().await;
        let ids = running_cpc(&app, &session, 2).await;
        let alice = app.login(ALICE).await;
        let saved = post_form(&app, "/settings/time-zone", &alice, &[("time_zone", "America/New_York")]).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER);

        let edit = get(&app, &format!("/edit/{}", ids[0]), &session).await;
        assert_eq!(edit.text("label[for=schedule-at]"), "At (America/New_York)");
        assert!(edit.text("#schedule-at-hint").starts_with("Times are in America/New_York"));
        let list = get(&app, "/programs", &session).await;
        assert_eq!(list.text("label[for=stage-at]"), "Schedule for (America/New_York) (optional)");

        // 09:00 typed on the edit page is 09:00 in New York: 14:00 UTC in winter.
        let day = next_christmas_eve();
        let at = format!("{day}T09:00");
        let done = post_form(&app, &format!("/edit/{}/schedule", ids[0]), &session, &[
            ("schedule_kind", "pause"), ("schedule_at", &at),
        ])
        .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html.html());
        let (_, listed) = app.get_json("/api/reseller/schedules", &session).await;
        assert_eq!(listed["schedules"][0]["at"], format!("{day}T14:00:00+00:00"), "{listed}");
        let id = listed["schedules"][0]["id"].as_str().unwrap().to_owned();

        // 21:00 in New York is 02:00 UTC the next day; the toolbar's time is read in the zone too.
        let evening = format!("{day}T21:00");
        let done = post_form(&app, "/change-sets", &session, &[
            ("program_id", ids[1].as_str()), ("kind", "pause"), ("at", &evening),
        ])
        .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html.html());

        let month = &at[..7];
        let page = get(&app, &format!("/schedules?month={month}"), &session).await;
        assert!(page.text("#schedule-zone").contains("America/New_York"));
        let row = page.one(&format!(r#"#upcoming-table tr[data-schedule-id="{id}"]"#));
        let when = text(row.select(&Selector::parse(".when").unwrap()).next().unwrap());
        assert_eq!(when, format!("{day} 09:00 EST"));
        page.one(&format!(
            r#"form[action="/schedules/{id}/move"] input[type=datetime-local][name=at][value="{at}"]"#
        ));
        assert_eq!(page.text(&format!("label[for=move-{id}]")), "Move to (America/New_York)");
        assert!(page.text("#schedule-calendar caption").ends_with("(America/New_York)"));
        // The calendar's days are New York's: both on the 24th, the evening one too.
        let cell = page.one(&format!(r#"#schedule-calendar td[data-date="{day}"]"#));
        let entries: Vec<String> = cell.select(&Selector::parse("li").unwrap()).map(text).collect();
        assert_eq!(entries, ["09:00 EST Pause", "21:00 EST Pause"]);
        let next_day = day.succ_opt().unwrap();
        assert!(page.all(&format!(r#"#schedule-calendar td[data-date="{next_day}"] li"#)).is_empty());

        // A time the clocks skip is refused beside its field, and nothing is scheduled.
        let gap = format!("{}T02:30", next_spring_forward());
        let refused = post_form(&app, &format!("/edit/{}/schedule", ids[0]), &session, &[
            ("schedule_kind", "pause"), ("schedule_at", &gap),
        ])
        .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        let why = refused.text("#schedule-at-error");
        assert!(why.contains("does not exist in America/New_York") && why.contains("clocks jump forward an hour"), "{why}");
        let refused = post_form(&app, &format!("/schedules/{id}/move"), &session, &[("at", &gap)]).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert!(refused.text(&format!("#move-error-{id}")).contains("does not exist"));
        assert_eq!(schedules(&app, &session).await, 2);
    }
}

on_every_backend! {
    async fn the_move_form_moves_a_pause_windows_end_with_the_same_checks(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.synced().await;
        let id = running_cpc(&app, &session, 1).await.remove(0);
        let (at, at_text) = local_in(2 * HOUR_MS);
        let (until, _) = local_in(3 * HOUR_MS);
        let done = post_form(&app, &format!("/edit/{id}/schedule"), &session, &[
            ("schedule_kind", "pause_window"), ("schedule_at", &at), ("schedule_until", &until),
        ])
        .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html.html());
        let page = get(&app, &format!("/schedules?month={}", month_of(&at)), &session).await;
        let row = page.one("#upcoming-table tbody tr[data-schedule-id]");
        let schedule_id = row.value().attr("data-schedule-id").unwrap().to_owned();
        let form = format!(r#"form[action="/schedules/{schedule_id}/move"]"#);
        page.one(&format!(r#"{form} input[type=datetime-local][name=until][value="{until}"]"#));
        assert_eq!(page.text(&format!("label[for=move-until-{schedule_id}]")), "Resume at (UTC)");
        let (_, before) = app.get_json(&format!("/api/reseller/schedules/{schedule_id}"), &session).await;

        // The end moves; the start, left as shown, stays where it was to the second.
        let (later, later_text) = local_in(5 * HOUR_MS);
        let moved = post_form(&app, &format!("/schedules/{schedule_id}/move"), &session, &[("at", &at), ("until", &later)]).await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.html.html());
        let page = get(&app, &format!("/schedules?month={}", month_of(&at)), &session).await;
        assert_eq!(page.text("#upcoming-table .when"), at_text);
        assert_eq!(page.text("#upcoming-table .resume-at"), later_text);
        let (_, after) = app.get_json(&format!("/api/reseller/schedules/{schedule_id}"), &session).await;
        assert_eq!(after["at"], before["at"]);

        // Both move together; an end before the start, or in the past, is refused beside the row.
        let (start, start_text) = local_in(6 * HOUR_MS);
        let (end, end_text) = local_in(7 * HOUR_MS);
        let moved = post_form(&app, &format!("/schedules/{schedule_id}/move"), &session, &[("at", &start), ("until", &end)]).await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.html.html());
        for (until, why) in [(local_in(HOUR_MS).0, "end after it starts"), (local_in(-HOUR_MS).0, "future")] {
            let refused = post_form(&app, &format!("/schedules/{schedule_id}/move"), &session, &[("at", &start), ("until", &until)]).await;
            assert_eq!(refused.status, StatusCode::BAD_REQUEST);
            let said = refused.text(&format!("#move-error-{schedule_id}"));
            assert!(said.contains(why), "{said}");
        }
        let page = get(&app, &format!("/schedules?month={}", month_of(&start)), &session).await;
        assert_eq!(page.text("#upcoming-table .when"), start_text);
        assert_eq!(page.text("#upcoming-table .resume-at"), end_text);
    }
}
