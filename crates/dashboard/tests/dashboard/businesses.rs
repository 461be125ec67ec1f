//! The businesses list and one business, from the mirror: names, flags and what their programs add up to.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::on_every_backend;
use crate::web::TestApp;

fn items(body: &Value) -> &Vec<Value> {
    body["businesses"].as_array().unwrap()
}

on_every_backend! {
    async fn the_businesses_list_names_each_business_with_its_programs_flags_search_sort_and_paging(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 200).await;
        let programs = app.sim.programs().await;
        let mut ids: Vec<&str> = programs.iter().filter_map(|p| p["yelp_business_id"].as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let closed = ids[0].to_owned();
        app.sim.control(Method::PATCH, &format!("/_sim/businesses/{closed}"), Some(json!({"is_closed": true}))).await;
        let session = app.synced().await;

        let (status, all) = app.get_json("/api/reseller/businesses?limit=200", &session).await;
        assert_eq!(status, StatusCode::OK, "{all}");
        assert_eq!(all["total"], ids.len(), "{all}");
        assert_eq!(items(&all).len(), ids.len());
        assert!(items(&all).iter().all(|b| b["name"].is_string() && b["business_name"] == b["name"]), "{all}");
        let live: u64 = items(&all).iter().map(|b| b["live_programs"].as_u64().unwrap()).sum();
        assert_eq!(live, programs.len() as u64, "every program counted under its business");
        let flagged = items(&all).iter().find(|b| b["business_id"] == closed.as_str()).unwrap();
        assert_eq!(flagged["is_closed"], true, "{flagged}");
        assert!(flagged["inactive_reason"].as_str().unwrap().contains("closed"), "{flagged}");
        // Every flag as Yelp (the simulator) has it.
        let at_yelp = app.sim.control(Method::GET, "/_sim/businesses", None).await;
        for b in items(&all) {
            let sim = at_yelp["businesses"].as_array().unwrap().iter().find(|s| s["business_id"] == b["business_id"] || s["yelp_business_id"] == b["business_id"]).unwrap_or_else(|| panic!("{b} at the simulator"));
            assert_eq!(b["is_closed"], sim["is_closed"], "{b} vs {sim}");
            assert_eq!(b["is_removed_from_search"], sim["is_removed_from_search"], "{b} vs {sim}");
        }
        // By name, A first: the default.
        let names: Vec<String> = items(&all).iter().map(|b| dashboard::store::search_form(b["name"].as_str().unwrap())).collect();
        assert!(names.windows(2).all(|w| w[0] <= w[1]), "{names:?}");

        // Part of a name, in another case, finds that business.
        let one = &items(&all)[3];
        let name = one["name"].as_str().unwrap();
        let fragment: String = name.chars().skip(1).take(6).collect::<String>().to_uppercase();
        let (_, found) = app.get_json(&format!("/api/reseller/businesses?search={}", urlencoding(&fragment)), &session).await;
        assert!(items(&found).iter().any(|b| b["business_id"] == one["business_id"]), "{fragment}: {found}");
        let wanted = dashboard::store::search_form(&fragment);
        assert!(items(&found).iter().all(|b| dashboard::store::search_form(b["name"].as_str().unwrap()).contains(&wanted)
            || b["business_id"].as_str().unwrap().to_lowercase().contains(&wanted)), "{found}");

        // Most programs first; pages of 2 that add up to the whole.
        let (_, by_programs) = app.get_json("/api/reseller/businesses?sort=programs&limit=200", &session).await;
        let counts: Vec<u64> = items(&by_programs).iter().map(|b| b["live_programs"].as_u64().unwrap()).collect();
        assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
        let (_, second) = app.get_json("/api/reseller/businesses?limit=2&offset=2", &session).await;
        assert_eq!(items(&second).len(), 2);
        assert_eq!(items(&second)[0]["business_id"], items(&all)[2]["business_id"]);
        assert_eq!(second["total"], ids.len());

        // One business with its programs.
        let (status, detail) = app.get_json(&format!("/api/reseller/businesses/{closed}"), &session).await;
        assert_eq!(status, StatusCode::OK, "{detail}");
        assert_eq!(detail["programs"].as_array().unwrap().len() as u64, flagged["live_programs"].as_u64().unwrap());
        assert!(detail["programs"].as_array().unwrap().iter().all(|p| p["business_id"] == closed.as_str()));

        // Bad parameters are named; another workspace's business is not found.
        for (query, field) in [("sort=colour", "sort"), ("order=up", "order"), ("limit=201", "limit"), ("limit=0", "limit"), ("offset=-1", "offset"), ("colour=red", "colour")] {
            let (status, answer) = app.get_json(&format!("/api/reseller/businesses?{query}"), &session).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {answer}");
            assert_eq!(answer["error"]["field"], field, "{query}: {answer}");
        }
        // The page: every business by name, the closed one flagged, searchable and sortable without JS.
        let page = |path: String| {
            let request = app.request(Method::GET, &path, Some(&session));
            async move {
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), StatusCode::OK, "{path}");
                response.text().await.unwrap()
            }
        };
        let html = page("/businesses?limit=200".into()).await;
        assert!(html.contains(r#"href="/businesses" aria-current="page""#), "the navigation names the page");
        assert_eq!(html.matches("<tr data-business-id=").count(), ids.len());
        let row_of = |html: &str, id: &str| {
            let start = html.find(&format!(r#"<tr data-business-id="{id}">"#)).unwrap_or_else(|| panic!("{id} listed"));
            html[start..start + html[start..].find("</tr>").unwrap()].to_owned()
        };
        let closed_row = row_of(&html, &closed);
        assert!(closed_row.contains(r#"data-flag="closed""#), "{closed_row}");
        assert!(!closed_row.contains("New program"), "no new program where Yelp would refuse it: {closed_row}");
        // Its programs say so too, wherever they are listed.
        let programs_html = page(format!("/programs?business_id={closed}")).await;
        let flags = programs_html.matches(r#"<span class="badge badge-flag" title="Yelp refuses new programs for it">Closed</span>"#).count();
        assert_eq!(flags as u64, flagged["live_programs"].as_u64().unwrap(), "each of its programs flagged");
        let city = flagged["city"].as_str().unwrap();
        assert!(programs_html.contains(&format!(" of {}, {}</", askama_escaped(flagged["name"].as_str().unwrap()), askama_escaped(city))),
            "the count names the business filtered on");
        assert!(closed_row.contains(&askama_escaped(flagged["name"].as_str().unwrap())), "{closed_row}");
        let open_row = row_of(&html, one["business_id"].as_str().unwrap());
        if one["inactive_reason"].is_null() {
            assert!(open_row.contains(&format!(r#"href="/create-program?business_id={}""#, one["business_id"].as_str().unwrap())), "{open_row}");
        }
        assert_eq!(open_row.contains(r#"data-flag="closed""#), one["is_closed"] == true, "{open_row}");
        let searched = page(format!("/businesses?search={}", urlencoding(&fragment))).await;
        assert_eq!(searched.matches("<tr data-business-id=").count(), items(&found).len(), "{fragment}");
        let sorted = page("/businesses?sort=spend".into()).await;
        assert!(sorted.contains(r#"aria-sort="descending""#), "figures sort largest first");

        for path in ["/api/reseller/businesses/biz-1", "/api/reseller/business_programs/biz-1", "/api/reseller/businesses/no-such-business"] {
            let (status, answer) = app.get_json(path, &session).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {answer}");
        }
    }
}

on_every_backend! {
    async fn a_migrated_business_says_where_it_went_and_its_programs_are_found_under_the_destination(db: TestDb) {
        let app = TestApp::spawn(db.store.clone(), 120).await;
        let programs = app.sim.programs().await;
        let business_of = |p: &Value| p["yelp_business_id"].as_str().unwrap().to_owned();
        // Two businesses with programs: Yelp moves the first to the second.
        let from = business_of(&programs[0]);
        let to = programs.iter().map(business_of).find(|b| *b != from).unwrap();
        app.sim.control(Method::PATCH, &format!("/_sim/businesses/{from}"), Some(json!({"migrated_to": to}))).await;
        let session = app.synced().await;
        let own = |business: &str| -> Vec<String> {
            let mut ids: Vec<String> = programs.iter().filter(|p| business_of(p) == business)
                .map(|p| p["program_id"].as_str().unwrap().to_owned()).collect();
            ids.sort();
            ids
        };
        let ids_of = |list: &Value, key: &str| -> Vec<String> {
            let mut ids: Vec<String> = list[key].as_array().unwrap().iter().map(|p| p["program_id"].as_str().unwrap().to_owned()).collect();
            ids.sort();
            ids
        };
        let mut both = [own(&from), own(&to)].concat();
        both.sort();

        let (_, moved) = app.get_json(&format!("/api/reseller/businesses/{from}"), &session).await;
        assert_eq!(moved["migrated_to"], to.as_str(), "{moved}");
        assert!(moved["migrated_to_name"].is_string(), "the destination named: {moved}");
        // The destination's filter takes the programs Yelp still lists under the old id.
        let (_, under_to) = app.get_json(&format!("/api/reseller/programs?business_id={to}&status=ALL&limit=200"), &session).await;
        assert_eq!(ids_of(&under_to, "programs"), both, "{under_to}");
        let (_, under_from) = app.get_json(&format!("/api/reseller/programs?business_id={from}&status=ALL&limit=200"), &session).await;
        assert_eq!(ids_of(&under_from, "programs"), own(&from));
        let (status, listed) = app.get_json(&format!("/api/reseller/business_programs/{to}"), &session).await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        assert_eq!(ids_of(&listed["businesses"][0], "programs"), both, "{listed}");
        let (_, old) = app.get_json(&format!("/api/reseller/business_programs/{from}"), &session).await;
        assert_eq!(old["businesses"][0]["destination_yelp_business_id"], to.as_str(), "{old}");
        // The programs page says where it went.
        let html = app.request(Method::GET, &format!("/programs?business_id={from}"), Some(&session)).send().await.unwrap().text().await.unwrap();
        assert!(html.contains(&format!(r#"moved to <a class="mono" href="/programs?business_id={to}">{to}</a>"#)), "the move shown");
    }
}

/// `text` as a query-string value.
fn urlencoding(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// `text` as the page's HTML writes it (askama escapes &, <, >, " and ').
fn askama_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}
