//! Every page at a desktop's width and a phone's (390 × 844): nothing wider than the phone, and a
//! screenshot of each page at both widths; the programs page's pagination ("1–50 of N", first, last, a page
//! jump); error pages that keep the navigation and say what to do.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{PATIENCE, Ui, in_days, today};

/// A phone's viewport, in CSS pixels (an iPhone 12 to 15).
const PHONE: (u32, u32) = (390, 844);
const DESKTOP: (u32, u32) = (1280, 900);

/// Current CPC programs of the demo account, by the API's own default order.
async fn current_cpc(ui: &Ui, n: usize) -> Vec<String> {
    let (status, body) = ui
        .server
        .api(
            Method::GET,
            &format!("/api/reseller/programs?status=CURRENT&program_type=CPC&limit={n}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    ids(&body)
}

fn ids(body: &Value) -> Vec<String> {
    body["programs"]
        .as_array()
        .expect("programs")
        .iter()
        .filter_map(|p| p["program_id"].as_str().map(str::to_owned))
        .collect()
}

/// Waits for job `job_id` to end; answers its status.
async fn ended(ui: &Ui, job_id: &str) -> String {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let (_, body) = ui
            .server
            .api(Method::GET, &format!("/api/reseller/status/{job_id}"), None)
            .await;
        let status = body["status"].as_str().unwrap_or_default().to_owned();
        if status == "COMPLETED" || status == "FAILED" {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job {job_id} did not end: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Fills the demo workspace with something to show on every page: a finished edit, a create Yelp refused
/// (with its reasons), a change set and a scheduled change. Answers a program, the two jobs and the
/// change set.
async fn something_on_every_page(ui: &Ui) -> (String, String, String, String) {
    let programs = current_cpc(ui, 3).await;
    let program = programs[0].clone();
    let (status, edit) = ui
        .server
        .api(
            Method::POST,
            &format!("/api/reseller/program/{program}/edit"),
            Some(json!({"end": in_days(400)})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{edit}");
    let edit_job = edit["job_id"].as_str().expect("a job").to_owned();

    // A business Yelp closed after the sync: the mirror does not know, so Yelp refuses the create.
    let businesses = ui.server.sim(Method::GET, "/_sim/businesses", None).await;
    let closed = businesses["businesses"]
        .as_array()
        .expect("businesses")
        .iter()
        .find(|b| {
            b["active"] == true
                && b["categories"].as_array().is_some_and(|c| {
                    c.iter()
                        .all(|c| c != "landmarks" && c != "airportterminals")
                })
        })
        .and_then(|b| b["yelp_business_id"].as_str())
        .expect("an active business")
        .to_owned();
    ui.server
        .sim(
            Method::PATCH,
            &format!("/_sim/businesses/{closed}"),
            Some(json!({"is_closed": true})),
        )
        .await;
    let (status, create) = ui
        .server
        .api(
            Method::POST,
            "/api/reseller/program/create",
            Some(
                json!({"business_id": closed, "program_name": "CPC", "start": today(),
                        "end": in_days(30), "budget": 300, "is_autobid": true}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{create}");
    let failed_job = create["job_id"].as_str().expect("a job").to_owned();

    let (status, set) = ui
        .server
        .api(
            Method::POST,
            "/api/reseller/change-sets",
            Some(json!({"program_ids": &programs[1..],
                        "operation": {"kind": "budget_percent", "value": 10}})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{set}");
    let change_set = set["id"].as_str().expect("a change set").to_owned();

    let at = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    let (status, schedule) = ui
        .server
        .api(
            Method::POST,
            "/api/reseller/schedules",
            Some(json!({"program_ids": [&program], "operation": {"kind": "pause"}, "at": at})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{schedule}");

    assert_eq!(ended(ui, &edit_job).await, "COMPLETED");
    assert_eq!(ended(ui, &failed_job).await, "FAILED");
    (program, edit_job, failed_job, change_set)
}

/// Opens `path` and waits for what it shows to settle: the programs page's rows after its sync.
async fn open_settled(ui: &mut Ui, path: &str) {
    ui.open(path).await;
    ui.element("main").await;
    if path == "/programs" || path.starts_with("/programs?") {
        ui.until("the programs' rows", async |ui: &Ui| {
            let ended = ui.attr("#sync-panel", "data-ended").await;
            let rows = ui
                .find_all("#programs-table tbody tr[data-program-id]")
                .await;
            (ended.as_deref() == Some("true") && !rows.is_empty()).then_some(())
        })
        .await;
    }
}

#[tokio::test]
async fn every_page_fits_a_phone_without_scrolling_sideways_and_is_shot_at_both_widths() {
    let Some(mut ui) = Ui::start("layout").await else {
        return;
    };
    ui.signed_in_and_synced().await;
    let (program, edit_job, failed_job, change_set) = something_on_every_page(&ui).await;
    // Every page of the menu (the demo user is an admin, so it has every entry), and those they lead to.
    let pages = [
        ("programs", "/programs".to_owned()),
        ("businesses", "/businesses".to_owned()),
        ("create", "/create-program".to_owned()),
        ("change-sets", "/change-sets".to_owned()),
        ("change-set", format!("/change-sets/{change_set}")),
        ("schedules", "/schedules".to_owned()),
        ("jobs", "/jobs".to_owned()),
        ("job-completed", format!("/jobs/{edit_job}")),
        ("job-failed", format!("/jobs/{failed_job}")),
        ("history", "/history".to_owned()),
        ("reports", "/reports".to_owned()),
        ("audit", "/audit".to_owned()),
        ("settings", "/settings".to_owned()),
        ("status", format!("/program-status/{program}")),
        ("edit", format!("/edit/{program}")),
        ("features", format!("/program-features/{program}")),
        ("not-found", "/programs/does-not-exist".to_owned()),
    ];
    let menu = ui.find_all("nav[aria-label=Main] a").await.len();
    assert_eq!(menu, 10, "an admin's menu has ten entries");

    assert_eq!(
        ui.viewport(DESKTOP.0, DESKTOP.1).await,
        u64::from(DESKTOP.0)
    );
    for (name, path) in &pages {
        open_settled(&mut ui, path).await;
        if *name != "not-found" {
            assert!(
                ui.find("#error-title").await.is_none(),
                "{path}: {}",
                ui.text("#error-message").await
            );
        }
        ui.shot_page(&format!("desktop-{name}")).await;
    }

    assert_eq!(
        ui.viewport(PHONE.0, PHONE.1).await,
        u64::from(PHONE.0),
        "a phone-wide page"
    );
    let mut too_wide = Vec::new();
    for (name, path) in &pages {
        open_settled(&mut ui, path).await;
        let offenders = ui.too_wide().await;
        if !offenders.is_empty() {
            too_wide.push(format!("{path}:\n    {}", offenders.join("\n    ")));
        }
        ui.shot_page(&format!("phone-{name}")).await;
    }

    // Programs are cards at this width, with what matters on them, and their filters fold.
    open_settled(&mut ui, "/programs").await;
    let card = ui
        .find("#programs-table tbody tr[data-program-id]")
        .await
        .expect("a card");
    let width = card.rectangle().await.expect("its box").2;
    assert!(width <= f64::from(PHONE.0), "a card fits: {width}");
    let first = "#programs-table tbody tr[data-program-id]";
    for (cell, what) in [
        (".c-program a", "its name or id"),
        (".c-business a.business", "its business"),
        (".c-status .badge", "its status in words"),
        (".c-spend[data-label=Spend]", "its spend"),
        (".c-budget[data-label=Budget]", "its budget"),
        (".c-action a[href^='/edit/']", "Edit"),
    ] {
        assert!(
            ui.visible(&format!("{first} {cell}")).await,
            "the card shows {what}"
        );
    }
    assert_eq!(
        ui.text(&format!("{first} .c-status .badge")).await,
        "Active"
    );
    assert!(
        !ui.visible(&format!("{first} .c-start")).await,
        "the dates stay on the program's page"
    );
    assert!(
        !ui.visible("#program-filters select[name=status]").await,
        "the filters fold on a phone"
    );
    ui.click("#filter-summary").await;
    ui.until("the filters unfolded", async |ui: &Ui| {
        ui.visible("#program-filters select[name=status]")
            .await
            .then_some(())
    })
    .await;
    let offenders = ui.too_wide().await;
    if !offenders.is_empty() {
        too_wide.push(format!(
            "/programs, filters open:\n    {}",
            offenders.join("\n    ")
        ));
    }
    ui.shot_page("phone-programs-filters-open").await;

    // The menu folds behind one button; opened, it has every entry and sign-out.
    assert!(
        !ui.visible("nav[aria-label=Main] a[href='/jobs']").await,
        "the menu folds on a phone"
    );
    ui.click("#menu summary").await;
    ui.until("the menu unfolded", async |ui: &Ui| {
        ui.visible("nav[aria-label=Main] a[href='/jobs']")
            .await
            .then_some(())
    })
    .await;
    let offenders = ui.too_wide().await;
    if !offenders.is_empty() {
        too_wide.push(format!("the open menu:\n    {}", offenders.join("\n    ")));
    }
    ui.shot("phone-menu-open").await;
    ui.click("#logout-form button").await;
    ui.until("the sign-in page", async |ui: &Ui| {
        ui.path().await.starts_with("/login").then_some(())
    })
    .await;
    ui.element("#login-form").await;
    let offenders = ui.too_wide().await;
    if !offenders.is_empty() {
        too_wide.push(format!("/login:\n    {}", offenders.join("\n    ")));
    }
    ui.shot_page("phone-login").await;
    ui.viewport(DESKTOP.0, DESKTOP.1).await;
    ui.shot_page("desktop-login").await;

    assert!(
        too_wide.is_empty(),
        "wider than a {}-px phone:\n{}",
        PHONE.0,
        too_wide.join("\n")
    );
}

/// `1900` → `1,900`, as the pages write counts.
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

/// The program ids of the table's rows (none while the table is being swapped).
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

/// Waits until the pagination says `range` and the rows are `rows`.
async fn on_page(ui: &mut Ui, range: &str, rows: &[String]) {
    let what = format!("\"{range}\" and its rows");
    ui.until(&what, async |ui: &Ui| {
        (ui.text("#page-range").await == range && row_ids(ui).await == rows).then_some(())
    })
    .await;
}

#[tokio::test]
async fn the_programs_open_on_current_ones_by_spend_with_pages_of_n_first_last_and_a_jump() {
    let Some(mut ui) = Ui::start("pagination").await else {
        return;
    };
    ui.signed_in_and_synced().await;
    let view = "status=CURRENT&sort=ad_cost&order=desc";
    let (_, first_page) = ui
        .server
        .api(
            Method::GET,
            &format!("/api/reseller/programs?{view}&limit=50"),
            None,
        )
        .await;
    let total = first_page["total_count"].as_u64().expect("a total");
    assert!(
        total > 150,
        "enough current programs for four pages: {total}"
    );
    let pages = total.div_ceil(50);
    let page_of = async |ui: &Ui, page: u64| -> Vec<String> {
        let (_, body) = ui
            .server
            .api(
                Method::GET,
                &format!(
                    "/api/reseller/programs?{view}&limit=50&offset={}",
                    (page - 1) * 50
                ),
                None,
            )
            .await;
        ids(&body)
    };

    // Opened bare: the current programs, those spending most first, "1–50 of N".
    ui.open("/programs").await;
    let n = thousands(total);
    on_page(&mut ui, &format!("1–50 of {n}"), &ids(&first_page)).await;
    assert_eq!(
        ui.attr(
            "#program-filters select[name=status] option[selected]",
            "value"
        )
        .await
        .as_deref(),
        Some("CURRENT")
    );
    assert_eq!(
        ui.attr("#programs-table th[aria-sort=descending] a", "href")
            .await
            .map(|h| h.contains("sort=ad_cost&order=asc")),
        Some(true),
        "sorted by spend, largest first"
    );
    assert!(
        ui.find("#page-first").await.is_none(),
        "no first page before the first"
    );
    ui.scroll_to(".pagination").await;
    ui.shot("first-page").await;

    // Last, first, and a jump typed in.
    ui.click("#page-last").await;
    let last_rows = page_of(&ui, pages).await;
    on_page(
        &mut ui,
        &format!("{}–{n} of {n}", thousands((pages - 1) * 50 + 1)),
        &last_rows,
    )
    .await;
    assert!(
        ui.path().await.ends_with(&format!("page={pages}")),
        "{}",
        ui.path().await
    );
    assert!(ui.find("a[rel=next]").await.is_none());
    ui.scroll_to(".pagination").await;
    ui.shot("last-page").await;

    ui.click("#page-first").await;
    on_page(&mut ui, &format!("1–50 of {n}"), &ids(&first_page)).await;

    ui.fill("#page-jump-number", "3").await;
    ui.click("#page-jump-go").await;
    let third = page_of(&ui, 3).await;
    on_page(&mut ui, &format!("101–150 of {n}"), &third).await;
    assert_eq!(ui.path().await, "/programs?page=3");
    ui.scroll_to(".pagination").await;
    ui.shot("jumped-to-page-3").await;

    // The jump is a plain form: the URL it makes shows the same page without a script.
    ui.open("/programs?page=3").await;
    on_page(&mut ui, &format!("101–150 of {n}"), &third).await;

    // An explicit sort is kept; every status is one choice away.
    ui.open("/programs?status=ALL&sort=budget&order=desc").await;
    let (_, all) = ui
        .server
        .api(
            Method::GET,
            "/api/reseller/programs?sort=budget&order=desc&limit=50",
            None,
        )
        .await;
    let every = thousands(all["total_count"].as_u64().expect("a total"));
    on_page(&mut ui, &format!("1–50 of {every}"), &ids(&all)).await;
}

#[tokio::test]
async fn error_pages_keep_the_navigation_and_say_what_to_do_next() {
    let Some(mut ui) = Ui::start("error-pages").await else {
        return;
    };
    ui.server.add_user("vera", "vera-password-1", "viewer");
    ui.signed_in_and_synced().await;

    for (name, path, title) in [
        ("no-such-page", "/programs/does-not-exist", "Page not found"),
        (
            "no-such-program",
            "/program-status/does-not-exist",
            "Page not found",
        ),
    ] {
        ui.open(path).await;
        ui.element("#error-title").await;
        assert_eq!(ui.text("#error-title").await, title, "{path}");
        assert!(
            ui.find("nav[aria-label=Main] a[href='/programs']")
                .await
                .is_some(),
            "{path}: the menu"
        );
        assert!(
            ui.find("#logout-form button").await.is_some(),
            "{path}: sign-out"
        );
        assert!(
            ui.text(".who").await.contains("demo"),
            "{path}: who is signed in"
        );
        assert!(
            !ui.text("#error-next").await.is_empty(),
            "{path}: what to do"
        );
        assert!(
            !ui.text("#error-message")
                .await
                .contains("no such page or endpoint"),
            "{path}: words, not the API's"
        );
        ui.shot(&format!("desktop-{name}")).await;
    }
    ui.click("#error-home").await;
    ui.until("the programs page", async |ui: &Ui| {
        (ui.path().await == "/programs").then_some(())
    })
    .await;

    // A viewer asking for a form: 403, inside their own menu, saying why and what to do.
    // The sign-out's own redirect must land first, or it could replace the sign-in page asked for below.
    ui.click("#logout-form button").await;
    ui.until("the sign-out to finish", async |ui: &Ui| {
        ui.path().await.starts_with("/login").then_some(())
    })
    .await;
    ui.open("/create-program").await;
    ui.until("the sign-in page for the form", async |ui: &Ui| {
        (ui.path().await == "/login?next=%2Fcreate-program").then_some(())
    })
    .await;
    ui.sign_in("vera", "vera-password-1").await;
    ui.element("#error-title").await;
    assert_eq!(ui.text("#error-title").await, "Not allowed for your role");
    assert!(ui.text("#error-next").await.contains("admin"));
    assert!(ui.text(".who").await.contains("vera"));
    assert!(
        ui.find("nav[aria-label=Main] a[href='/create-program']")
            .await
            .is_none(),
        "a viewer's menu"
    );
    ui.shot("desktop-forbidden").await;
    assert_eq!(ui.viewport(PHONE.0, PHONE.1).await, u64::from(PHONE.0));
    ui.client.refresh().await.expect("reload");
    ui.element("#error-title").await;
    let offenders = ui.too_wide().await;
    assert!(offenders.is_empty(), "{}", offenders.join("\n"));
    ui.shot("phone-forbidden").await;
}
