//! The change-set pages as a browser without JavaScript uses them: staging from the programs page's
//! selection form, the preview (before → after in dollars), checking and posting, and what viewers and
//! bad values get. Markup is asserted with selectors (the contract the browser tests rely on).

use reqwest::StatusCode;
use scraper::Selector;
use yelp_partner_api::Cents;

use crate::helpers::html::{get, post_form, text};
use crate::helpers::on_every_backend;
use crate::web::{Session, TestApp, VICTOR};

/// The ids of the current CPC programs, in the list's order; there are some.
async fn current_cpc(app: &TestApp, session: &Session) -> Vec<String> {
    let ids = crate::helpers::api::current_cpc(app, session).await;
    assert!(!ids.is_empty(), "the simulator has current CPC programs");
    ids
}

/// How many change sets the workspace has.
async fn change_sets(app: &TestApp, session: &Session) -> u64 {
    let (status, body) = app.get_json("/api/reseller/change-sets", session).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["total"].as_u64().unwrap()
}

/// `$75.00`, as a change set's items say dollars.
async fn budget_text(app: &TestApp, program_id: &str) -> String {
    let program = app
        .store
        .program(&app.workspace_id, program_id)
        .await
        .unwrap()
        .unwrap();
    Cents::new(program.budget_cents.unwrap()).to_string()
}

on_every_backend! {
    async fn ticked_programs_staged_from_the_programs_page_become_a_draft_whose_page_shows_before_and_after_in_dollars(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.synced().await;
        let list = get(&app, "/programs?status=CURRENT&program_type=CPC", &session).await;
        assert_eq!(list.status, StatusCode::OK);
        list.one(r#"form#stage-form[method=post][action="/change-sets"] input[name=csrf_token][type=hidden]"#);
        list.one(r#"form#stage-form input[type=hidden][name=status][value=CURRENT]"#);
        list.one(r#"form#stage-form input[type=hidden][name=program_type][value=CPC]"#);
        list.one(r#"label[for=stage-kind]"#);
        list.one(r#"label[for=stage-value]"#);
        assert_eq!(list.all("select#stage-kind[name=kind] option").len(), 10);
        list.one(r#"input#select-all-matching[name=all_matching][form=stage-form]"#);
        list.one(r#"#programs-table thead input#select-page[type=checkbox][aria-label]"#);
        let boxes = list.all(r#"#programs-table tbody input[type=checkbox][name=program_id][form=stage-form]"#);
        let ids = current_cpc(&app, &session).await;
        assert_eq!(boxes.len(), ids.len(), "a checkbox a row");
        let picked: Vec<&str> = ids.iter().take(3).map(String::as_str).collect();

        let mut fields: Vec<(&str, &str)> = picked.iter().map(|id| ("program_id", *id)).collect();
        fields.extend([("kind", "set_budget"), ("value", "9876.50"), ("status", "CURRENT")]);
        let staged = post_form(&app, "/change-sets", &session, &fields).await;
        assert_eq!(staged.status, StatusCode::SEE_OTHER);
        let location = staged.location.clone().unwrap();
        assert!(location.starts_with("/change-sets/"), "{location}");

        let page = get(&app, &location, &session).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.text("#change-set-title"), "Set budget to $9,876.50");
        assert_eq!(page.text("#change-set-state"), "Draft, not checked");
        assert_eq!(page.text("#change-set-author"), "olga");
        let messages: Vec<String> = page.all(".item-message").into_iter().map(text).collect();
        assert_eq!(
            page.text("#change-set-summary"),
            "3 changes · 0 no-ops · 0 conflicts · 0 refused",
            "{messages:?}"
        );
        let rows = page.all("#change-set-items tbody tr[data-program-id]");
        assert_eq!(rows.len(), 3);
        for (row, id) in rows.iter().zip(&picked) {
            assert_eq!(row.value().attr("data-program-id"), Some(*id));
            let link = Selector::parse(r#"a[href^="/program-status/"]"#).unwrap();
            assert_eq!(text(row.select(&link).next().unwrap()), *id);
            let change = text(row.select(&Selector::parse("td.change").unwrap()).next().unwrap());
            assert_eq!(change, format!("Budget {} → $9,876.50", budget_text(&app, id).await));
        }
        page.one(&format!(r#"form[method=post][action="{location}/check"] input[name=csrf_token]"#));
        page.one(&format!(r#"form[method=post][action="{location}/delete"] button#delete-button"#));
        assert!(page.all("#post-button").is_empty(), "posted only once checked");

        let checked = post_form(&app, &format!("{location}/check"), &session, &[]).await;
        assert_eq!(checked.status, StatusCode::SEE_OTHER);
        assert_eq!(checked.location.as_deref(), Some(location.as_str()));
        let page = get(&app, &location, &session).await;
        assert_eq!(page.text("#change-set-state"), "Checked");
        assert_eq!(page.text("#post-button"), "Post 3 changes");
        assert_eq!(page.all(r#"#change-set-items [data-status="ready"]"#).len(), 3);
        page.one("button#check-button");

        let list = get(&app, "/change-sets", &session).await;
        let listed = list.one("#change-sets-table tbody tr[data-change-set-id]");
        assert_eq!(
            text(listed.select(&Selector::parse("a").unwrap()).next().unwrap()),
            "Set budget to $9,876.50"
        );
        assert!(text(listed).contains("Checked"));
    }
}

on_every_backend! {
    async fn every_program_matching_the_filter_is_staged_when_all_matching_is_chosen(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.synced().await;
        let ids = current_cpc(&app, &session).await;
        let staged = post_form(&app, "/change-sets", &session, &[
            ("all_matching", "1"), ("status", "CURRENT"), ("program_type", "CPC"), ("page", "1"),
            ("kind", "budget_percent"), ("value", "10"),
        ])
        .await;
        assert_eq!(staged.status, StatusCode::SEE_OTHER);
        let page = get(&app, &staged.location.unwrap(), &session).await;
        assert_eq!(page.text("#change-set-title"), "Budget +10 %");
        let rows: Vec<String> = page
            .all("#change-set-items tbody tr[data-program-id]")
            .iter()
            .map(|r| r.value().attr("data-program-id").unwrap().to_owned())
            .collect();
        assert_eq!(rows, ids);
    }
}

on_every_backend! {
    async fn a_bad_value_shows_the_programs_page_again_with_the_error_and_the_selection_and_stages_nothing(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let session = app.synced().await;
        let ids = current_cpc(&app, &session).await;
        let page = post_form(&app, "/change-sets", &session, &[
            ("program_id", ids[0].as_str()), ("status", "CURRENT"), ("program_type", "CPC"),
            ("kind", "set_budget"), ("value", "lots"),
        ])
        .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert!(page.text("#stage-error").contains("in dollars"), "{}", page.text("#stage-error"));
        page.one(r#"input#stage-value[aria-invalid=true][value=lots]"#);
        page.one(r#"select#stage-kind option[value=set_budget][selected]"#);
        page.one(&format!(r#"#programs-table input[name=program_id][value="{}"][checked]"#, ids[0]));
        assert_eq!(
            page.all("#programs-table tbody input[name=program_id][checked]").len(),
            1
        );
        let nothing = post_form(&app, "/change-sets", &session, &[("kind", "pause")]).await;
        assert_eq!(nothing.status, StatusCode::BAD_REQUEST);
        assert!(nothing.text("#stage-error").contains("Select at least one program"));
        assert_eq!(change_sets(&app, &session).await, 0);
    }
}

on_every_backend! {
    async fn a_viewer_sees_the_change_sets_but_no_form_and_cannot_post_one(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 20).await;
        let operator = app.synced().await;
        let ids = current_cpc(&app, &operator).await;
        let staged = post_form(&app, "/change-sets", &operator, &[
            ("program_id", ids[0].as_str()), ("kind", "pause"),
        ])
        .await;
        let location = staged.location.unwrap();
        let viewer = app.login(VICTOR).await;

        let list = get(&app, "/programs", &viewer).await;
        assert!(list.all("#stage-form, input[name=program_id], #select-all-matching").is_empty());
        let sets = get(&app, "/change-sets", &viewer).await;
        assert_eq!(sets.all("#change-sets-table tbody tr").len(), 1);
        assert!(sets.all("form[method=post]:not(#logout-form)").is_empty());
        let page = get(&app, &location, &viewer).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.all("#change-set-items tbody tr").len(), 1);
        assert!(page.all("form[method=post]:not(#logout-form), #change-set-actions").is_empty());

        for (path, fields) in [
            ("/change-sets".to_owned(), vec![("program_id", ids[0].as_str()), ("kind", "pause")]),
            (format!("{location}/check"), vec![]),
            (format!("{location}/delete"), vec![]),
            ("/change-sets/import".to_owned(), vec![("csv", "program_id,budget\n")]),
        ] {
            let refused = post_form(&app, &path, &viewer, &fields).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        }
        assert_eq!(change_sets(&app, &operator).await, 1);
        let (_, body) = app
            .get_json(&format!("/api/reseller{location}"), &operator)
            .await;
        assert_eq!(body["state"], "draft");
    }
}
