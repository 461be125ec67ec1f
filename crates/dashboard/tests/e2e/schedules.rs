//! A scheduled pause from a program's edit page: a couple of minutes ahead (UTC), shown on `/schedules`
//! as upcoming and in the month's calendar, cancelled there, and then in Past as cancelled; and the
//! programs toolbar's button saying it schedules once a time is given.

use chrono::{Duration, Timelike, Utc};
use reqwest::Method;
use serde_json::json;

use crate::harness::{Ui, today};

#[tokio::test]
async fn a_pause_scheduled_from_the_edit_page_shows_on_the_schedules_page_and_in_its_calendar_and_is_cancelled()
 {
    let Some(mut ui) = Ui::start("schedules").await else {
        return;
    };
    ui.signed_in_and_synced().await;
    let programs = ui.server.sim(Method::GET, "/_sim/programs", None).await;
    let today = today();
    let running = programs["programs"]
        .as_array()
        .expect("programs")
        .iter()
        .find(|p| {
            p["program_type"] == "CPC"
                && p["program_status"] == "ACTIVE"
                && p["program_pause_status"] == "NOT_PAUSED"
                && p["start_date"]
                    .as_str()
                    .is_some_and(|d| d <= today.as_str())
                && p["end_date"].as_str().is_some_and(|d| d > today.as_str())
        })
        .and_then(|p| p["program_id"].as_str())
        .expect("a running CPC program")
        .to_owned();

    // Two minutes ahead to the minute: at least one minute from now, as a datetime-local holds it.
    let at = (Utc::now() + Duration::minutes(2))
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .expect("a whole minute");
    let at_value = at.format("%Y-%m-%dT%H:%M").to_string();
    let at_text = at.format("%Y-%m-%d %H:%M UTC").to_string();

    ui.open(&format!("/edit/{running}")).await;
    ui.element("#schedule-form").await;
    ui.choose("#schedule-kind", "pause").await;
    assert!(
        !ui.visible("#schedule-value").await && !ui.visible("#schedule-until").await,
        "a pause takes neither a budget nor a resume time"
    );
    ui.choose("#schedule-kind", "pause_window").await;
    assert!(
        ui.visible("#schedule-until").await,
        "a pause window asks when to resume"
    );
    ui.choose("#schedule-kind", "pause").await;
    // A datetime-local takes keys in the browser's locale; its value is set as the form sends it.
    ui.client
        .execute(
            "document.getElementById('schedule-at').value = arguments[0];",
            vec![json!(at_value)],
        )
        .await
        .expect("the script runs");
    ui.scroll_to("#schedule").await;
    ui.shot("edit-form-filled").await;
    ui.click("#schedule-submit").await;

    ui.until("the schedules page", async |ui: &Ui| {
        ui.path().await.starts_with("/schedules").then_some(())
    })
    .await;
    let month = at.format("%Y-%m").to_string();
    if !ui
        .text("#schedule-calendar caption")
        .await
        .starts_with(&at.format("%B %Y").to_string())
    {
        ui.open(&format!("/schedules?month={month}")).await;
    }
    let row = ui
        .element("#upcoming-table tbody tr[data-schedule-id]")
        .await;
    let id = row
        .attr("data-schedule-id")
        .await
        .expect("the row's attribute")
        .expect("a schedule id");
    assert_eq!(ui.text("#upcoming-table .when").await.trim(), at_text);
    assert_eq!(ui.text("#upcoming-table .what").await.trim(), "Pause");
    assert_eq!(
        ui.text("#upcoming-table a.first-program").await.trim(),
        running
    );
    ui.shot("upcoming").await;

    let entry = format!(r#"#schedule-calendar li[data-schedule-id="{id}"]"#);
    assert_eq!(
        ui.text(&entry).await.trim(),
        format!("{} Pause", at.format("%H:%M UTC"))
    );
    let day = format!(r#"#schedule-calendar td[data-date="{}"]"#, at.date_naive());
    assert!(
        ui.find(&format!("{day} li")).await.is_some(),
        "in its day's cell"
    );
    ui.scroll_to("#calendar-title").await;
    ui.shot("calendar").await;

    ui.scroll_to("#upcoming-title").await;
    ui.click(&format!(
        r#"#upcoming-table tr[data-schedule-id="{id}"] .cancel-button"#
    ))
    .await;
    ui.until("the schedule in Past", async |ui: &Ui| {
        ui.find(&format!(
            r#"#past-table tr[data-schedule-id="{id}"][data-state="cancelled"]"#
        ))
        .await
    })
    .await;
    ui.element("#upcoming-empty").await;
    let past = ui
        .text(&format!(r#"#past-table tr[data-schedule-id="{id}"]"#))
        .await;
    assert!(
        past.contains("Cancelled") && past.contains("Pause"),
        "{past}"
    );
    assert!(
        ui.find(&entry).await.is_none(),
        "the calendar shows only what is to come"
    );
    ui.scroll_to("#past-title").await;
    ui.shot("past-cancelled").await;

    // The programs page's toolbar: a time makes its button schedule instead of stage.
    ui.open("/programs").await;
    ui.click("#programs-table tbody input[name=program_id]")
        .await;
    assert!(ui.visible("#stage-at").await, "the toolbar offers a time");
    assert_eq!(ui.text("#stage-submit").await.trim(), "Stage change");
    ui.client
        .execute(
            "const at = document.getElementById('stage-at'); at.value = arguments[0]; \
             at.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![json!(at_value)],
        )
        .await
        .expect("the script runs");
    assert_eq!(ui.text("#stage-submit").await.trim(), "Schedule change");
    ui.shot("toolbar-with-a-time").await;
}
