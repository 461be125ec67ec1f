//! Changes through the forms, each followed by the job tracker to its end.

use reqwest::Method;
use serde_json::Value;

use crate::harness::{Ui, in_days, today};

/// A business of the demo account that is active (or not) and whose categories can all be advertised.
async fn business(ui: &Ui, active: bool) -> String {
    let all = ui.server.sim(Method::GET, "/_sim/businesses", None).await;
    all["businesses"]
        .as_array()
        .expect("businesses")
        .iter()
        .find(|b| {
            b["active"] == active
                && b["categories"].as_array().is_some_and(|c| {
                    c.iter()
                        .all(|c| c != "landmarks" && c != "airportterminals")
                })
        })
        .and_then(|b| b["yelp_business_id"].as_str())
        .expect("such a business")
        .to_owned()
}

/// An active business of the demo account with programs in the mirror (so the picker knows it), whose
/// categories can all be advertised: its id and name.
async fn business_with_programs(ui: &Ui) -> (String, String) {
    let all = ui.server.sim(Method::GET, "/_sim/businesses", None).await;
    let programs = ui.server.sim(Method::GET, "/_sim/programs", None).await;
    let has_programs = |id: &str| {
        programs["programs"]
            .as_array()
            .expect("programs")
            .iter()
            .any(|p| p["yelp_business_id"] == id)
    };
    all["businesses"]
        .as_array()
        .expect("businesses")
        .iter()
        .find_map(|b| {
            let id = b["yelp_business_id"].as_str()?;
            let advertisable = b["categories"].as_array().is_some_and(|c| {
                c.iter()
                    .all(|c| c != "landmarks" && c != "airportterminals")
            });
            (b["active"] == true && advertisable && has_programs(id)).then(|| {
                (
                    id.to_owned(),
                    b["name"].as_str().unwrap_or_default().to_owned(),
                )
            })
        })
        .expect("such a business")
}

/// Fills the create form for a CPC program of `business` with `budget` dollars, autobid.
async fn fill_cpc(ui: &mut Ui, business: &str, budget: &str) {
    ui.open("/create-program").await;
    ui.choose("#program-form select[name=program_name]", "CPC")
        .await;
    ui.fill("#program-form input[name=business_id]", business)
        .await;
    ui.fill("#program-form input[name=start]", &date_keys(&today()))
        .await;
    ui.fill("#program-form input[name=end]", &date_keys(&in_days(30)))
        .await;
    ui.fill("#program-form input[name=budget]", budget).await;
    let autobid = ui.element("#program-form input[name=is_autobid]").await;
    if !autobid.is_selected().await.unwrap_or(false) {
        autobid.click().await.expect("autobid ticked");
    }
}

/// What to type into a date input for `YYYY-MM-DD`: Chromium's date inputs take the digits in the
/// locale's order, month, day, year for the `en-US` the browser is started with.
fn date_keys(date: &str) -> String {
    let mut parts = date.split('-');
    let (Some(year), Some(month), Some(day)) = (parts.next(), parts.next(), parts.next()) else {
        panic!("not a YYYY-MM-DD date: {date}")
    };
    format!("{month}{day}{year}")
}

/// Waits for the tracker to show a final status; answers it.
async fn tracked_to_the_end(ui: &mut Ui) -> String {
    ui.element("#job-tracker").await;
    let mut shot_running = false;
    loop {
        let status = ui
            .attr("#job-tracker", "data-status")
            .await
            .unwrap_or_default();
        match status.as_str() {
            "COMPLETED" | "FAILED" => return status,
            "PENDING" | "IN_PROGRESS" if !shot_running => {
                ui.shot("job-running").await;
                shot_running = true;
            }
            _ => {}
        }
        let still_here = ui.find("#job-tracker").await.is_some();
        if !still_here {
            // Taken to the program's page already.
            return "COMPLETED".into();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_cpc_program_created_in_the_form_is_tracked_to_completed_and_shown_on_its_status_page() {
    let Some(mut ui) = Ui::start("create-cpc").await else {
        return;
    };
    ui.signed_in_and_synced().await;
    let (business, name) = business_with_programs(&ui).await;
    fill_cpc(&mut ui, "", "300").await;
    // The business is picked by part of its name, typed in lower case: the picker suggests it, and once
    // chosen the field holds its id and the card under it names it with its live programs.
    let fragment: String = name
        .chars()
        .take(name.chars().count() - 1)
        .collect::<String>()
        .to_lowercase();
    ui.fill("#program-form input[name=business_id]", &fragment)
        .await;
    let suggestion = format!("#business_id-suggestions button[data-business-id='{business}']");
    ui.element(&suggestion).await;
    ui.shot("business-suggested").await;
    ui.click(&suggestion).await;
    let card = ui
        .until("the business's card", async |ui: &Ui| {
            let text = ui.text("#business-card").await;
            text.contains("live program").then_some(text)
        })
        .await;
    assert!(card.starts_with(&name), "{card}");
    assert!(
        ui.find("#business-card ul.business-card-programs li a")
            .await
            .is_some(),
        "{card}"
    );
    assert_eq!(
        ui.element("#program-form input[name=business_id]")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some(business.as_str())
    );
    ui.shot("form-filled").await;
    ui.click("#program-submit").await;

    let status = tracked_to_the_end(&mut ui).await;
    assert_eq!(
        status,
        "COMPLETED",
        "reasons: {}",
        ui.text("#job-reasons").await
    );
    if ui.find("#job-tracker").await.is_some() {
        ui.shot("job-completed").await;
        assert!(
            ui.find("a#job-program-link").await.is_some(),
            "a link to the program"
        );
    }
    let program_id = ui
        .until("the program's status page", async |ui: &Ui| {
            ui.path()
                .await
                .strip_prefix("/program-status/")
                .map(str::to_owned)
        })
        .await;
    ui.element("#program-id").await;
    ui.shot("status-page").await;
    assert_eq!(ui.text("#program-id").await.trim(), program_id);
    assert!(ui.text("#program-type").await.contains("CPC"));
    assert_eq!(ui.text("#program-budget").await.trim(), "$300.00");
    let at_yelp = ui
        .server
        .sim(Method::GET, &format!("/_sim/programs/{program_id}"), None)
        .await;
    assert_eq!(
        at_yelp["yelp_business_id"].as_str(),
        Some(business.as_str())
    );
}

#[tokio::test]
async fn a_create_that_yelp_rejects_shows_every_reason_in_the_tracker() {
    let Some(mut ui) = Ui::start("create-rejected").await else {
        return;
    };
    ui.signed_in_and_synced().await;
    // A business the last sync saw closed or removed from search is refused on the form, before Yelp.
    let known_inactive = business(&ui, false).await;
    ui.server.sim(Method::DELETE, "/_sim/stats", None).await;
    fill_cpc(&mut ui, &known_inactive, "300").await;
    // The form flags it as soon as the business is chosen, before anything is sent.
    let warning = ui
        .until("the business's flag", async |ui: &Ui| {
            let text = ui.text("#business-card [data-inactive=true]").await;
            (!text.is_empty()).then_some(text)
        })
        .await;
    assert!(
        warning.starts_with("Yelp refuses new programs here"),
        "{warning}"
    );
    ui.shot("business-flagged").await;
    ui.click("#program-submit").await;
    ui.until("the business error", async |ui: &Ui| {
        let text = ui.text(".field-error[data-field=business_id]").await;
        text.contains("BUSINESS_NOT_ACTIVE").then_some(())
    })
    .await;
    ui.shot("business-not-active").await;
    let requests = ui.server.sim(Method::GET, "/_sim/stats", None).await["requests"].clone();
    assert_eq!(requests, serde_json::json!({}), "nothing reached Yelp");
    // One Yelp closed since the sync: only Yelp knows, and its rejection reaches the tracker.
    let closed_since = business(&ui, true).await;
    ui.server
        .sim(
            Method::PATCH,
            &format!("/_sim/businesses/{closed_since}"),
            Some(serde_json::json!({"is_closed": true})),
        )
        .await;
    fill_cpc(&mut ui, &closed_since, "300").await;
    ui.click("#program-submit").await;
    let status = tracked_to_the_end(&mut ui).await;
    assert_eq!(status, "FAILED");
    let reasons = ui.find_all("#job-reasons li").await;
    assert!(!reasons.is_empty(), "reasons are listed");
    let first = reasons[0].text().await.unwrap();
    assert!(!first.trim().is_empty());
    ui.shot("job-failed").await;
    assert_eq!(
        ui.path().await.split('?').next(),
        Some("/create-program"),
        "stays on the form to correct it"
    );
    assert!(ui.find("#program-form").await.is_some());
}

#[tokio::test]
async fn an_invalid_budget_shows_the_error_next_to_the_field_and_starts_no_job() {
    let Some(mut ui) = Ui::start("create-invalid").await else {
        return;
    };
    ui.signed_in_and_synced().await;
    let business = business(&ui, true).await;
    ui.server.sim(Method::DELETE, "/_sim/stats", None).await;
    fill_cpc(&mut ui, &business, "10").await;
    ui.click("#program-submit").await;
    let error = ui.element(".field-error[data-field=budget]").await;
    ui.until("the budget error's text", async |ui: &Ui| {
        let text = ui.text(".field-error[data-field=budget]").await;
        text.contains("25").then_some(())
    })
    .await;
    assert!(error.is_displayed().await.unwrap());
    ui.shot("field-error").await;
    let kept = ui.attr("#program-form input[name=budget]", "value").await;
    let typed = ui
        .find("#program-form input[name=budget]")
        .await
        .expect("the budget input")
        .prop("value")
        .await
        .unwrap();
    assert_eq!(
        typed.or(kept).as_deref(),
        Some("10"),
        "what the user typed is kept"
    );
    assert!(
        ui.attr("#job-tracker", "data-status").await.is_none(),
        "no job was started"
    );
    let stats: Value = ui.server.sim(Method::GET, "/_sim/stats", None).await;
    assert!(
        stats["requests"]
            .get("POST /v1/reseller/program/create")
            .is_none(),
        "nothing reached Yelp: {stats}"
    );
}

#[tokio::test]
async fn a_budget_edited_in_the_form_shows_on_the_program_status_page() {
    let Some(mut ui) = Ui::start("edit-budget").await else {
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
        .expect("a running CPC program");
    let before = running["program_metrics"]["budget"]
        .as_i64()
        .expect("a budget");
    let running = running["program_id"].as_str().expect("an id").to_owned();
    ui.open(&format!("/edit/{running}")).await;
    ui.element("#program-form").await;
    ui.shot("edit-form").await;
    ui.fill("#program-form input[name=budget]", "123.45").await;
    ui.click("#program-submit").await;
    let status = tracked_to_the_end(&mut ui).await;
    assert_eq!(
        status,
        "COMPLETED",
        "reasons: {}",
        ui.text("#job-reasons").await
    );
    ui.until("the program's status page", async |ui: &Ui| {
        (ui.path().await == format!("/program-status/{running}")).then_some(())
    })
    .await;
    ui.element("#program-budget").await;
    ui.shot("status-page").await;
    assert_eq!(ui.text("#program-budget").await.trim(), "$123.45");
    // The timeline says what changed, from what, and who did it.
    let line = format!(
        "Budget ${}.{:02} → $123.45 by demo",
        before / 100,
        before % 100
    );
    let timeline = ui.text("#program-history").await;
    assert!(timeline.contains(&line), "timeline: {timeline}");
    ui.scroll_to("#program-history").await;
    ui.shot("status-page-history").await;
}

/// How many programs the simulated Yelp has for `business`.
async fn programs_of(ui: &Ui, business: &str) -> usize {
    let all = ui.server.sim(Method::GET, "/_sim/programs", None).await;
    all["programs"]
        .as_array()
        .expect("programs")
        .iter()
        .filter(|p| p["yelp_business_id"] == business)
        .count()
}

#[tokio::test]
async fn a_double_click_on_create_makes_one_program_at_yelp() {
    let Some(mut ui) = Ui::start("create-double-click").await else {
        return;
    };
    ui.signed_in_and_synced().await;
    let business = business(&ui, true).await;
    let before = programs_of(&ui, &business).await;
    ui.server.sim(Method::DELETE, "/_sim/stats", None).await;
    fill_cpc(&mut ui, &business, "300").await;
    ui.click("#program-submit").await;
    // The second click of a double click, as the battery made it: 0.8 s after the first, while the job
    // is still pending at Yelp (the demo's jobs take 4 s).
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let button = ui.element("#program-submit").await;
    let _ = button.click().await;
    ui.element("#job-tracker").await;
    let status = ui
        .attr("#job-tracker", "data-status")
        .await
        .unwrap_or_default();
    if status == "PENDING" || status == "IN_PROGRESS" {
        ui.shot("button-disabled-while-pending").await;
        assert_eq!(
            button.prop("disabled").await.unwrap().as_deref(),
            Some("true"),
            "the button stays disabled while the job runs"
        );
    }
    // A submission sent twice at once from the page's own script is one job too.
    ui.client
        .execute(
            "const f = document.getElementById('program-form'); f.requestSubmit(); f.requestSubmit();",
            vec![],
        )
        .await
        .expect("the script runs");
    let status = tracked_to_the_end(&mut ui).await;
    assert_eq!(
        status,
        "COMPLETED",
        "reasons: {}",
        ui.text("#job-reasons").await
    );
    let stats: Value = ui.server.sim(Method::GET, "/_sim/stats", None).await;
    assert_eq!(
        stats["requests"]["POST /v1/reseller/program/create"], 1,
        "one create reached Yelp: {stats}"
    );
    assert_eq!(programs_of(&ui, &business).await, before + 1);
}
