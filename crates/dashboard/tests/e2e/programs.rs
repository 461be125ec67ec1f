//! Signing in, the programs page's automatic sync with its progress bar, filters and pagination, and
//! what a viewer sees.

use crate::harness::Ui;

#[tokio::test]
async fn the_programs_page_syncs_on_opening_with_a_live_progress_bar_that_hides_itself_when_done() {
    let Some(mut ui) = Ui::start("programs-sync").await else {
        return;
    };
    ui.open("/programs").await;
    assert!(
        ui.path().await.starts_with("/login?next="),
        "sent to sign in first"
    );
    ui.sign_in("demo", "demo").await;
    assert_eq!(ui.path().await, "/programs", "back to the page wanted");
    let opened = std::time::Instant::now();

    // While it runs: blue bar, moving, with the count and the percentage.
    let mut seen: Vec<u32> = Vec::new();
    let mut shot_running = false;
    let final_message = loop {
        let state = ui.attr("#sync-panel", "data-state").await;
        let now: Option<u32> = ui
            .attr("#sync-progress", "aria-valuenow")
            .await
            .and_then(|v| v.parse().ok());
        if let Some(now) = now {
            if seen.last() != Some(&now) {
                seen.push(now);
            }
        }
        match state.as_deref() {
            Some("running") if !shot_running && now.is_some_and(|n| n > 0 && n < 100) => {
                let message = ui.text("#sync-message").await;
                assert!(
                    message.contains("/1900"),
                    "synced/total while running: {message}"
                );
                ui.shot("sync-running").await;
                shot_running = true;
            }
            Some("success") => {
                // Printed, not asserted (no timed assertions): the demo's target is 1.8 s, its floor 1.5 s
                // (48 pages at 250 ms, 10 served at once).
                eprintln!(
                    "from the page opening on an empty mirror to \"Synced 1900 new programs\": {} ms",
                    opened.elapsed().as_millis()
                );
                break ui.text("#sync-message").await;
            }
            Some("error") => panic!("the sync failed: {}", ui.text("#sync-message").await),
            _ => {}
        }
        assert!(seen.len() < 10_000, "the sync never ended");
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    };
    ui.shot("sync-done").await;
    assert!(
        final_message.contains("Synced 1900 new programs"),
        "{final_message}"
    );
    assert_eq!(seen.last(), Some(&100), "the bar reaches 100%: {seen:?}");
    assert!(
        seen.iter().any(|v| *v > 0 && *v < 100),
        "the bar moved through intermediate values: {seen:?}"
    );
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "the bar only moves forward: {seen:?}"
    );
    assert!(shot_running, "the running state was visible");
    assert_eq!(
        ui.attr("#sync-progress", "role").await.as_deref(),
        Some("progressbar")
    );
    // The table filled itself in without a reload.
    ui.until("rows in the table", async |ui: &Ui| {
        (!ui.find_all("#programs-table tbody tr[data-program-id]")
            .await
            .is_empty())
        .then_some(())
    })
    .await;

    // It hides itself 5 seconds after the end.
    let ended = std::time::Instant::now();
    ui.until("the progress bar to hide", async |ui: &Ui| {
        (!ui.visible("#sync-panel").await).then_some(())
    })
    .await;
    assert!(
        ended.elapsed() >= std::time::Duration::from_secs(3),
        "not hidden at once: {:?}",
        ended.elapsed()
    );
    ui.shot("sync-hidden").await;

    // Opened again: a sync runs again and finds nothing new.
    ui.client.refresh().await.expect("reload");
    let message = ui
        .until("the second sync to end", async |ui: &Ui| {
            match ui.attr("#sync-panel", "data-state").await.as_deref() {
                Some("success") => Some(ui.text("#sync-message").await),
                _ => None,
            }
        })
        .await;
    ui.shot("already-up-to-date").await;
    assert!(message.contains("Already up to date"), "{message}");
}

#[tokio::test]
async fn filters_search_and_pagination_change_the_rows_and_live_in_the_url() {
    let Some(mut ui) = Ui::start("programs-filters").await else {
        return;
    };
    ui.signed_in_and_synced().await;
    ui.open("/programs").await;
    let first_page = ui
        .until("the first page", async |ui: &Ui| {
            let rows = row_ids(ui).await;
            (!rows.is_empty()).then_some(rows)
        })
        .await;
    ui.shot("first-page").await;

    ui.click("a[rel=next]").await;
    let second_page = ui
        .until("the second page", async |ui: &Ui| {
            let rows = row_ids(ui).await;
            (!rows.is_empty() && rows != first_page).then_some(rows)
        })
        .await;
    assert!(
        second_page.iter().all(|id| !first_page.contains(id)),
        "a different page"
    );
    assert!(ui.path().await.contains("page=") || ui.path().await.contains("offset="));
    ui.shot("second-page").await;

    ui.open("/programs").await;
    ui.choose("#program-filters select[name=program_type]", "CPC")
        .await;
    ui.click("#apply-filters").await;
    ui.until("the CPC filter in the URL", async |ui: &Ui| {
        ui.path().await.contains("program_type=CPC").then_some(())
    })
    .await;
    let rows = ui
        .find_all("#programs-table tbody tr[data-program-id]")
        .await;
    assert!(!rows.is_empty());
    for row in &rows {
        let text = row.text().await.unwrap();
        assert!(text.contains("CPC"), "only CPC rows: {text}");
    }
    let cpc_count = ui.text("#program-count").await;
    ui.shot("cpc-only").await;

    // Free-text search for one program's id narrows the list to it; the URL can be shared.
    let wanted = second_page[0].clone();
    ui.open("/programs").await;
    ui.fill("#program-filters input[name=search]", &wanted)
        .await;
    ui.click("#apply-filters").await;
    let found = ui
        .until("the search result", async |ui: &Ui| {
            let rows = row_ids(ui).await;
            (ui.path().await.contains("search=") && rows.len() == 1).then_some(rows)
        })
        .await;
    assert_eq!(found, std::slice::from_ref(&wanted));
    let shared = ui.path().await;
    ui.open(&shared).await;
    ui.until("the shared search's one row", async |ui: &Ui| {
        (row_ids(ui).await == std::slice::from_ref(&wanted)).then_some(())
    })
    .await;
    ui.shot("search").await;
    assert_ne!(ui.text("#program-count").await, cpc_count);

    // Page size choice.
    ui.open("/programs").await;
    ui.choose("#program-filters select[name=page_size]", "100")
        .await;
    ui.click("#apply-filters").await;
    ui.until("100 rows", async |ui: &Ui| {
        (row_ids(ui).await.len() == 100).then_some(())
    })
    .await;
}

/// The program ids of the table's rows, or none when the table was swapped while its rows were read one by
/// one (they went stale): a part of the old table must not pass for the new one, so a caller waiting on the
/// rows looks again.
async fn row_ids(ui: &Ui) -> Vec<String> {
    let mut ids = Vec::new();
    for row in ui
        .find_all("#programs-table tbody tr[data-program-id]")
        .await
    {
        match row.attr("data-program-id").await {
            Ok(Some(id)) => ids.push(id),
            _ => return Vec::new(),
        }
    }
    ids
}

#[tokio::test]
async fn a_viewer_sees_the_programs_but_no_control_that_changes_anything() {
    let Some(mut ui) = Ui::start("viewer").await else {
        return;
    };
    ui.server.add_user("vera", "vera-password-1", "viewer");
    // The demo user fills the mirror first.
    ui.signed_in_and_synced().await;
    let program = ui
        .until("a row", async |ui: &Ui| {
            row_ids(ui).await.into_iter().next()
        })
        .await;
    ui.click("#logout-form button").await;
    ui.open("/programs").await;
    ui.sign_in("vera", "vera-password-1").await;
    ui.until("rows for the viewer", async |ui: &Ui| {
        (!row_ids(ui).await.is_empty()).then_some(())
    })
    .await;
    ui.shot("viewer-programs").await;
    for path in ["/programs", &format!("/program-status/{program}"), "/jobs"] {
        ui.open(path).await;
        ui.element("main").await;
        let changes = ui.find_all("[data-change]").await;
        assert!(
            changes.is_empty(),
            "{path}: {} controls that change things",
            changes.len()
        );
        assert!(
            ui.find("#sync-button").await.is_none(),
            "{path}: no sync button"
        );
    }
    ui.shot("viewer-status").await;
    ui.open("/create-program").await;
    assert!(
        ui.find("form#program-form").await.is_none(),
        "no create form for a viewer"
    );
}
