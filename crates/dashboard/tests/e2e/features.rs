//! The features page: a change set through its forms shows on the program's status page, and the ad
//! text's rules are checked as it is typed, before anything is sent.

use reqwest::Method;

use crate::harness::Ui;

/// A running CPC program of the demo account.
async fn cpc_program(ui: &Ui) -> String {
    let programs = ui.server.sim(Method::GET, "/_sim/programs", None).await;
    programs["programs"]
        .as_array()
        .expect("programs")
        .iter()
        .find(|p| p["program_type"] == "CPC" && p["program_status"] == "ACTIVE")
        .and_then(|p| p["program_id"].as_str())
        .expect("a running CPC program")
        .to_owned()
}

/// How many feature writes the simulator has seen.
async fn feature_writes(ui: &Ui) -> usize {
    let log = ui
        .server
        .sim(Method::GET, "/_sim/feature-writes", None)
        .await;
    log["writes"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn a_radius_and_negative_keywords_set_on_the_features_page_show_on_the_status_page() {
    let Some(mut ui) = Ui::start("features").await else {
        return;
    };
    ui.signed_in_and_synced().await;
    let program = cpc_program(&ui).await;
    ui.open(&format!("/program-status/{program}")).await;
    ui.click("a[href^='/program-features/']").await;
    ui.element("#feature-CUSTOM_RADIUS_TARGETING").await;
    ui.shot("features-page").await;

    ui.fill(
        "#feature-CUSTOM_RADIUS_TARGETING input[name=custom_radius]",
        "25",
    )
    .await;
    ui.click("#feature-CUSTOM_RADIUS_TARGETING button[value=save]")
        .await;
    ui.element("#features-saved").await;
    ui.fill(
        "#feature-NEGATIVE_KEYWORD_TARGETING textarea[name=blocked_keywords]",
        "free\ncheap",
    )
    .await;
    ui.click("#feature-NEGATIVE_KEYWORD_TARGETING button[value=save]")
        .await;
    ui.element("#features-saved").await;
    assert_eq!(
        ui.text("#feature-CUSTOM_RADIUS_TARGETING [data-now]").await,
        "25 miles"
    );
    ui.shot("features-saved").await;

    ui.open(&format!("/program-status/{program}")).await;
    let radius = ui
        .text("#program-features li[data-feature=CUSTOM_RADIUS_TARGETING]")
        .await;
    assert!(
        radius.contains("Custom radius") && radius.contains("25 miles"),
        "{radius}"
    );
    let keywords = ui
        .text("#program-features li[data-feature=NEGATIVE_KEYWORD_TARGETING]")
        .await;
    assert!(keywords.contains("Blocked: free, cheap"), "{keywords}");
    ui.shot("status-with-features").await;
}

#[tokio::test]
async fn a_short_ad_text_shows_its_count_and_is_refused_without_a_request() {
    let Some(mut ui) = Ui::start("ad-text").await else {
        return;
    };
    ui.signed_in_and_synced().await;
    let program = cpc_program(&ui).await;
    let path = format!("/program-features/{program}");
    ui.open(&path).await;
    let before = feature_writes(&ui).await;
    ui.fill("#custom-text", "Best plumb").await;
    assert_eq!(
        ui.text("#custom-text-counter").await,
        "10 / 1500 characters"
    );
    assert!(
        ui.visible("#custom-text-error").await,
        "the rule shows as it is typed"
    );
    ui.click("#feature-CUSTOM_AD_TEXT button[value=save]").await;
    let error = ui.text("#custom-text-error").await;
    assert!(error.contains("at least 15 characters"), "{error}");
    assert_eq!(ui.path().await, path, "the form was not sent");
    assert_eq!(feature_writes(&ui).await, before, "nothing reached Yelp");
    ui.shot("ad-text-refused").await;
}
