//! Businesses by name: in the programs table, and on the businesses page with its search.

use std::collections::HashMap;

use crate::harness::Ui;

/// The demo simulator's business names, by id.
async fn names_at_yelp(ui: &Ui) -> HashMap<String, String> {
    let all = ui
        .server
        .sim(reqwest::Method::GET, "/_sim/businesses", None)
        .await;
    all["businesses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let id = b["business_id"]
                .as_str()
                .or(b["yelp_business_id"].as_str())
                .unwrap();
            (id.to_owned(), b["name"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn the_programs_table_and_the_businesses_page_speak_of_businesses_by_name() {
    let Some(mut ui) = Ui::start("businesses").await else {
        return;
    };
    ui.signed_in_and_synced().await;
    let names = names_at_yelp(&ui).await;
    // Every row of the programs table names its business (the table was shown again with the names).
    let links = ui
        .until("business names in the table", async |ui: &Ui| {
            let links = ui.find_all("#programs-table tbody tr a.business").await;
            let mut shown = Vec::new();
            // The table is shown again once the names are known; a row replaced while it is
            // read is read again on the next try.
            for link in links {
                let href = link.attr("href").await.ok()?.unwrap_or_default();
                let text = link.text().await.ok()?;
                shown.push((href, text));
            }
            let named = !shown.is_empty()
                && shown.iter().all(|(href, text)| {
                    names.iter().any(|(id, name)| {
                        href.ends_with(id.as_str()) && text.starts_with(name.as_str())
                    })
                });
            named.then_some(shown)
        })
        .await;
    assert!(!links.is_empty());
    ui.shot("programs-with-names").await;

    // The business filter: part of a name, typed, suggests the businesses that have it; choosing one lists
    // its programs alone, by its id in the URL.
    let (id, name) = names
        .iter()
        .find(|(_, n)| n.chars().count() > 6)
        .expect("a named business");
    let fragment: String = name
        .chars()
        .take(name.chars().count() - 1)
        .collect::<String>()
        .to_lowercase();
    ui.fill("#filter-business", &fragment).await;
    let suggestion = format!("#filter-business-suggestions button[data-business-id='{id}']");
    ui.element(&suggestion).await;
    ui.shot("business-filter-suggests").await;
    ui.click(&suggestion).await;
    ui.until("the filter in the URL", async |ui: &Ui| {
        ui.path()
            .await
            .contains(&format!("business_id={id}"))
            .then_some(())
    })
    .await;
    let rows = ui
        .until("only that business's programs", async |ui: &Ui| {
            let mut hrefs = Vec::new();
            for link in ui.find_all("#programs-table tbody tr a.business").await {
                hrefs.push(link.attr("href").await.ok()??);
            }
            (!hrefs.is_empty() && hrefs.iter().all(|h| h.ends_with(id.as_str())))
                .then_some(hrefs.len())
        })
        .await;
    assert!(rows > 0);
    let count = ui.text("#program-count").await;
    assert!(
        count.contains(&format!(" of {name}")),
        "the list says whose programs it shows: {count}"
    );
    ui.shot("business-filter-chosen").await;

    ui.open("/businesses").await;
    let rows = ui.find_all("#businesses-table tbody tr").await;
    assert!(!rows.is_empty(), "businesses listed");
    let first = rows[0]
        .find(fantoccini::Locator::Css("td a"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        names.values().any(|n| *n == first),
        "{first} is a name at Yelp"
    );
    ui.shot("businesses").await;

    // Part of a name, typed in lower case, narrows the list to the businesses whose names hold it.
    let fragment: String = first.chars().take(5).collect::<String>().to_lowercase();
    ui.fill("#business-search-text", &fragment).await;
    ui.click("#business-search button[type=submit]").await;
    ui.until("the search in the URL", async |ui: &Ui| {
        ui.path().await.contains("search=").then_some(())
    })
    .await;
    let mut shown = Vec::new();
    for link in ui
        .find_all("#businesses-table tbody tr td:first-child a")
        .await
    {
        shown.push(link.text().await.unwrap());
    }
    assert!(
        shown.contains(&first),
        "{first} found by {fragment}: {shown:?}"
    );
    assert!(
        shown.iter().all(|t| t.to_lowercase().contains(&fragment)),
        "{fragment}: {shown:?}"
    );
    let others = names
        .values()
        .filter(|n| !n.to_lowercase().contains(&fragment))
        .count();
    assert!(
        others > 0,
        "the demo has names without {fragment}, so the list was narrowed"
    );
    ui.shot("businesses-search").await;
}
