//! A change set from the programs page to Yelp and back: every current CPC program selected through the
//! filter, their budgets raised 10 %, checked, posted and followed by the live bar to done, then undone.

use std::time::{Duration, Instant};

use crate::harness::Ui;

/// How long a posted change set of a few hundred programs may take against the demo's simulator.
const POSTING_PATIENCE: Duration = Duration::from_secs(240);

/// Checks and posts the change set on screen, follows its bar to done; answers (completed, failed).
async fn checked_posted_and_done(ui: &mut Ui, moment: &str) -> (u64, u64) {
    ui.click("#check-button").await;
    ui.element(r#"#change-set-state[data-state="checked"]"#)
        .await;
    ui.shot(&format!("{moment}-checked")).await;
    let changes: u64 = ui
        .text("#post-button")
        .await
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("the post button says how many changes");
    ui.click("#post-button").await;
    ui.element("#change-set-progress").await;
    let started = Instant::now();
    let mut seen: Vec<u32> = Vec::new();
    let mut shot_running = false;
    loop {
        let state = ui.attr("#change-set-state", "data-state").await;
        if state.as_deref() == Some("done") {
            break;
        }
        let now: Option<u32> = ui
            .attr("#change-set-bar", "aria-valuenow")
            .await
            .and_then(|v| v.parse().ok());
        if let Some(now) = now {
            if seen.last() != Some(&now) {
                seen.push(now);
            }
            if !shot_running && now > 0 && now < 100 {
                ui.shot(&format!("{moment}-posting")).await;
                shot_running = true;
            }
        }
        assert!(
            started.elapsed() < POSTING_PATIENCE,
            "{moment}: the change set did not end: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "{moment}: {changes} changes posted and ended in {} ms; the bar showed {seen:?}",
        started.elapsed().as_millis()
    );
    ui.element("#change-set-bar").await;
    ui.shot(&format!("{moment}-done")).await;
    assert_eq!(
        ui.attr("#change-set-bar", "aria-valuenow").await.as_deref(),
        Some("100")
    );
    let count =
        async |ui: &Ui, css: &str| -> u64 { ui.text(css).await.trim().parse().unwrap_or(0) };
    let (completed, failed) = (
        count(ui, "#count-completed").await,
        count(ui, "#count-failed").await,
    );
    assert_eq!(completed + failed, changes, "{moment}: every change ended");
    (completed, failed)
}

#[tokio::test]
async fn every_current_cpc_program_gets_ten_percent_more_budget_through_a_change_set_and_it_is_undone()
 {
    let Some(mut ui) = Ui::start("change-sets").await else {
        return;
    };
    ui.signed_in_and_synced().await;

    // The view: current CPC programs.
    ui.choose("#filter-status", "CURRENT").await;
    ui.choose("#filter-type", "CPC").await;
    ui.click("#apply-filters").await;
    ui.until("the filtered list", async |ui: &Ui| {
        let key = ui.attr("#stage-form", "data-selection-key").await?;
        (key.contains("status=CURRENT") && key.contains("program_type=CPC")).then_some(())
    })
    .await;
    assert!(
        !ui.visible("#stage-form").await,
        "no toolbar before a selection"
    );
    ui.shot("filtered").await;

    // One row ticked shows the toolbar; then every matching program.
    ui.click("#programs-table tbody input[name=program_id]")
        .await;
    assert!(
        ui.visible("#stage-form").await,
        "the toolbar shows with a selection"
    );
    assert_eq!(ui.text("#selection-count").await, "1 selected");
    let total: u64 = ui
        .attr("#select-all-matching", "data-total")
        .await
        .and_then(|n| n.parse().ok())
        .expect("the view's total");
    ui.click("#select-all-matching").await;
    let count = ui.text("#selection-count").await;
    assert!(
        count.starts_with(&format!("{} selected", thousands(total))),
        "{count}"
    );
    ui.choose("#stage-kind", "budget_percent").await;
    ui.fill("#stage-value", "10").await;
    ui.shot("selected").await;
    ui.click("#stage-submit").await;

    // The preview: every program, before → after.
    ui.until("the change set's page", async |ui: &Ui| {
        ui.path().await.starts_with("/change-sets/").then_some(())
    })
    .await;
    let first = ui.path().await;
    assert_eq!(ui.text("#change-set-title").await, "Budget +10 %");
    let rows = ui
        .find_all("#change-set-items tbody tr[data-program-id]")
        .await;
    assert_eq!(rows.len() as u64, total, "a row per selected program");
    let change = ui.text("#change-set-items tbody tr td.change").await;
    assert!(
        change.starts_with("Budget $") && change.contains(" → $"),
        "{change}"
    );
    ui.shot("preview").await;

    let (completed, failed) = checked_posted_and_done(&mut ui, "post").await;
    assert_eq!(failed, 0, "nothing failed");
    assert!(completed > 0);

    // Undo: a new draft taking every completed program back.
    ui.click("#undo-button").await;
    ui.until("the undo's draft", async |ui: &Ui| {
        let path = ui.path().await;
        (path.starts_with("/change-sets/") && path != first).then_some(())
    })
    .await;
    ui.element(r#"#change-set-state[data-state="draft"]"#).await;
    assert!(ui.text("#change-set-title").await.starts_with("Undo of"));
    ui.shot("undo-draft").await;
    let (undone, failed) = checked_posted_and_done(&mut ui, "undo").await;
    assert_eq!((undone, failed), (completed, 0), "every change undone");
}

/// `1900` → `1,900`, as the page writes counts.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
