//! Yelp's rules for program features and portfolio projects (contract §4.9, §4.10 and §13), checked before
//! Yelp sees anything. Pure: no database, no HTTP. Every broken rule is reported at once, each naming the
//! feature type and the field and saying what to do.
//!
//! A few rules only Yelp can check, and they are left to it: at most 25 custom locations per business
//! counted across all of the business's programs, and an ad goal of CALLS or WEBSITE_CLICKS only with the
//! call or link tracking it needs (the simulator enforces both).

use std::fmt;

use chrono::{Datelike, NaiveDate};
use yelp_partner_api::{
    BusinessHighlights, BusinessId, CustomLocationTargeting, CustomRadiusTargeting, Feature,
    FeatureChanges, FeatureType, NewPhoto, PhotoSource, ProgramFeatures, ProjectDetails,
    YelpPortfolio,
};

/// Smallest custom radius, in miles.
pub const MIN_RADIUS_MILES: f64 = 1.0;
/// Largest custom radius, in miles.
pub const MAX_RADIUS_MILES: f64 = 60.0;
/// Custom locations one business may have.
pub const MAX_LOCATIONS: usize = 25;
/// Fewest characters of a custom ad text.
pub const AD_TEXT_MIN_CHARS: usize = 15;
/// Most characters of a custom ad text.
pub const AD_TEXT_MAX_CHARS: usize = 1500;
/// Longest run of capital letters an ad text may have.
pub const MAX_CAPITALS_IN_A_ROW: usize = 5;
/// Service offerings one portfolio project may show.
pub const MAX_SERVICE_OFFERINGS: usize = 4;
/// The earliest year a portfolio project can have been finished.
const FIRST_COMPLETION_YEAR: i32 = 1900;

/// Image types Yelp takes as a logo, as the URL's path ends.
const LOGO_EXTENSIONS: [&str; 5] = [".jpeg", ".jpg", ".png", ".gif", ".tiff"];
/// Endings that make a word of an ad text a web address.
const URL_ENDINGS: [&str; 14] = [
    ".com", ".net", ".org", ".biz", ".info", ".io", ".co", ".us", ".edu", ".gov", ".app", ".site",
    ".online", ".shop",
];

/// One broken rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleFailure {
    /// The feature type whose rule it is (YELP_PORTFOLIO for projects and photos).
    pub feature_type: FeatureType,
    /// The field, as Yelp names it; list items by index, e.g. `licenses[1].license_number`.
    pub field: String,
    /// What is wrong and what to do, for the user.
    pub message: String,
}

impl fmt::Display for RuleFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}: {}", self.feature_type, self.field, self.message)
    }
}

/// What the rules need besides the change.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// Today, for license expiry dates.
    pub today: NaiveDate,
    /// The program's business: custom locations are set for it alone.
    pub business_id: &'a BusinessId,
    /// The program's features as Yelp last answered them: the types it offers, the highlights it may show,
    /// its portfolio projects, and the radius or locations it holds.
    pub current: &'a ProgramFeatures,
}

/// Collects failures of one feature type.
struct Failures<'a> {
    feature_type: FeatureType,
    found: &'a mut Vec<RuleFailure>,
}

impl Failures<'_> {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.found.push(RuleFailure {
            feature_type: self.feature_type.clone(),
            field: field.into(),
            message: message.into(),
        });
    }
}

/// Checks a feature change against Yelp's rules; every broken rule at once.
pub fn check_changes(
    changes: &FeatureChanges,
    context: &Context<'_>,
) -> Result<(), Vec<RuleFailure>> {
    let mut found = Vec::new();
    for feature in changes.iter() {
        let mut failures = Failures {
            feature_type: feature.feature_type(),
            found: &mut found,
        };
        if context.current.entry(&feature.feature_type()).is_none() {
            failures.add(
                "feature_type",
                format!(
                    "{} is not available for this program",
                    feature.feature_type().label()
                ),
            );
            continue;
        }
        check_feature(feature, changes, context, &mut failures);
    }
    if found.is_empty() { Ok(()) } else { Err(found) }
}

fn check_feature(
    feature: &Feature,
    changes: &FeatureChanges,
    context: &Context<'_>,
    failures: &mut Failures<'_>,
) {
    match feature {
        Feature::CustomRadiusTargeting(radius) => {
            if let Some(miles) = radius.custom_radius {
                if !(MIN_RADIUS_MILES..=MAX_RADIUS_MILES).contains(&miles) {
                    failures.add(
                        "custom_radius",
                        format!(
                            "Custom radius must be from {MIN_RADIUS_MILES} to {MAX_RADIUS_MILES} miles, or off"
                        ),
                    );
                } else if changes.get::<CustomLocationTargeting>().is_none()
                    && has_locations(context.current.get::<CustomLocationTargeting>())
                {
                    failures.add(
                        "custom_radius",
                        "A custom radius cannot be used with custom locations: remove the locations first",
                    );
                }
            }
        }
        Feature::CustomLocationTargeting(locations) => {
            check_locations(locations, context, failures);
            let radius_after = match changes.get::<CustomRadiusTargeting>() {
                Some(change) => change.custom_radius,
                None => context
                    .current
                    .get::<CustomRadiusTargeting>()
                    .and_then(|r| r.custom_radius),
            };
            if radius_after.is_some() && has_locations(Some(locations)) {
                failures.add(
                    "businesses",
                    "Custom locations cannot be used with a custom radius: turn the radius off in the same change",
                );
            }
        }
        Feature::AdGoal(goal) => {
            if !goal.ad_goal.is_known() {
                failures.add(
                    "ad_goal",
                    format!(
                        "'{}' is not an ad goal; choose DEFAULT, CALLS or WEBSITE_CLICKS",
                        goal.ad_goal
                    ),
                );
            }
        }
        Feature::CustomAdText(text) => {
            if text.custom_text.is_some() && text.custom_review_id.is_some() {
                failures.add(
                    "custom_text",
                    "Use either your own text or a review, not both",
                );
            }
            if let Some(text) = &text.custom_text {
                for problem in ad_text_problems(text) {
                    failures.add("custom_text", problem);
                }
            }
        }
        Feature::BusinessLogo(logo) => {
            if let Some(url) = &logo.business_logo_url {
                if !is_public_url(url, &LOGO_EXTENSIONS) {
                    failures.add(
                        "business_logo_url",
                        "The logo must be a public http(s) link to a .jpeg, .jpg, .png, .gif or .tiff image",
                    );
                }
            }
        }
        Feature::BusinessHighlights(highlights) => {
            check_highlights(&highlights.active_business_highlights, context, failures);
        }
        Feature::VerifiedLicense(licenses) => {
            for (index, license) in licenses.licenses.iter().enumerate() {
                let number = license.license_number.trim();
                if number.is_empty() {
                    failures.add(
                        format!("licenses[{index}].license_number"),
                        "Enter the license number",
                    );
                } else if licenses.licenses[..index]
                    .iter()
                    .any(|l| l.license_number.trim() == number)
                {
                    failures.add(
                        format!("licenses[{index}].license_number"),
                        format!("License {number} is listed twice"),
                    );
                }
                if let Some(expiry) = license.license_expiry_date.filter(|d| *d < context.today) {
                    failures.add(
                        format!("licenses[{index}].license_expiry_date"),
                        format!("This license expired on {expiry}; Yelp cannot verify an expired license"),
                    );
                }
            }
        }
        Feature::NegativeKeywordTargeting(keywords) => {
            for (index, keyword) in keywords.blocked_keywords.iter().enumerate() {
                if keyword.trim().is_empty() {
                    failures.add(
                        format!("blocked_keywords[{index}]"),
                        "A negative keyword cannot be empty",
                    );
                }
            }
        }
        Feature::CallTracking(calls) => {
            for (index, business) in calls.businesses.iter().enumerate() {
                if business.business_id.as_str().trim().is_empty() {
                    failures.add(
                        format!("businesses[{index}].business_id"),
                        "Choose the business of the metered number",
                    );
                }
            }
        }
        Feature::YelpPortfolio(portfolio) => check_projects(portfolio, context, failures),
        Feature::LinkTracking(_)
        | Feature::StrictCategoryTargeting(_)
        | Feature::AdScheduling(_)
        | Feature::ServiceOfferingsTargeting(_)
        | Feature::CustomAdPhoto(_) => {}
    }
}

fn has_locations(locations: Option<&CustomLocationTargeting>) -> bool {
    locations.is_some_and(|l| l.businesses.iter().any(|b| !b.locations.is_empty()))
}

fn check_locations(
    locations: &CustomLocationTargeting,
    context: &Context<'_>,
    failures: &mut Failures<'_>,
) {
    for (index, business) in locations.businesses.iter().enumerate() {
        if &business.business_id != context.business_id {
            failures.add(
                format!("businesses[{index}].business_id"),
                format!(
                    "Custom locations can only be set for this program's business, {}",
                    context.business_id
                ),
            );
        }
        // Counted as Yelp counts them: spaces collapsed, the same place once.
        let mut distinct: Vec<String> = Vec::new();
        for (at, location) in business.locations.iter().enumerate() {
            let location = location.split_whitespace().collect::<Vec<_>>().join(" ");
            if location.is_empty() {
                failures.add(
                    format!("businesses[{index}].locations[{at}]"),
                    "A custom location cannot be empty",
                );
            } else if !distinct.iter().any(|l| l.eq_ignore_ascii_case(&location)) {
                distinct.push(location);
            }
        }
        if distinct.len() > MAX_LOCATIONS {
            failures.add(
                format!("businesses[{index}].locations"),
                format!(
                    "At most {MAX_LOCATIONS} custom locations per business; remove {}",
                    distinct.len() - MAX_LOCATIONS
                ),
            );
        }
    }
}

fn check_highlights(chosen: &[String], context: &Context<'_>, failures: &mut Failures<'_>) {
    let Some(offer) = context.current.get::<BusinessHighlights>() else {
        failures.add(
            "business_highlights",
            "Yelp has not said which highlights this program may show; reload its features",
        );
        return;
    };
    for (index, highlight) in chosen.iter().enumerate() {
        if !offer.available_business_highlights.contains(highlight) {
            failures.add(
                format!("business_highlights[{index}]"),
                format!("{highlight} is not one of the highlights this business may show"),
            );
        }
    }
    for group in &offer.mutually_exclusive_business_highlights {
        let both: Vec<&str> = group
            .iter()
            .filter(|h| chosen.contains(h))
            .map(String::as_str)
            .collect();
        if both.len() > 1 {
            failures.add(
                "business_highlights",
                format!("Only one of {} can be shown", both.join(", ")),
            );
        }
    }
}

fn check_projects(portfolio: &YelpPortfolio, context: &Context<'_>, failures: &mut Failures<'_>) {
    let held = context.current.get::<YelpPortfolio>();
    for (index, project) in portfolio.projects.iter().enumerate() {
        let known = held.is_some_and(|h| {
            h.projects
                .iter()
                .any(|p| p.project_id == project.project_id)
        });
        if !known {
            failures.add(
                format!("projects[{index}].project_id"),
                format!(
                    "This program's portfolio has no project {}",
                    project.project_id
                ),
            );
        }
    }
}

/// What is wrong with a custom ad text, every problem (empty when it is fine): 15 to 1,500 characters, no
/// web address, some words, at most half of the letters capitals, at most five capitals in a row.
pub fn ad_text_problems(text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let chars = text.chars().count();
    if !(AD_TEXT_MIN_CHARS..=AD_TEXT_MAX_CHARS).contains(&chars) {
        problems.push(format!(
            "Ad text must be {AD_TEXT_MIN_CHARS} to {AD_TEXT_MAX_CHARS} characters; it has {chars}"
        ));
    }
    if let Some(address) = text.split_whitespace().find(|w| looks_like_url(w)) {
        problems.push(format!(
            "Ad text cannot contain a web address ({address}); use link tracking for the website"
        ));
    }
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let capitals = text.chars().filter(|c| c.is_uppercase()).count();
    if letters == 0 {
        problems.push("Ad text must contain words, not only digits or symbols".to_owned());
    } else if capitals * 2 > letters {
        problems.push("At most half of the ad text's letters may be capitals".to_owned());
    }
    let mut run = 0;
    let longest = text.chars().fold(0, |longest, c| {
        run = if c.is_uppercase() { run + 1 } else { 0 };
        longest.max(run)
    });
    if longest > MAX_CAPITALS_IN_A_ROW {
        problems.push(format!(
            "Ad text may have at most {MAX_CAPITALS_IN_A_ROW} capital letters in a row"
        ));
    }
    problems
}

fn looks_like_url(word: &str) -> bool {
    let word = word
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    word.contains("://")
        || word.starts_with("www.")
        || URL_ENDINGS.iter().any(|end| {
            word.len() > end.len() && (word.ends_with(end) || word.contains(&format!("{end}/")))
        })
}

/// Whether `text` is an http(s) URL to a public host (not this machine or a private network) whose path
/// ends in one of `extensions` (any path when there are none).
fn is_public_url(text: &str, extensions: &[&str]) -> bool {
    let Ok(url) = url::Url::parse(text) else {
        return false;
    };
    let public_host = match url.host() {
        Some(url::Host::Domain(domain)) => {
            let domain = domain.to_ascii_lowercase();
            domain.contains('.') && domain != "localhost" && !domain.ends_with(".local")
        }
        Some(url::Host::Ipv4(ip)) => {
            !(ip.is_private() || ip.is_loopback() || ip.is_link_local() || ip.is_unspecified())
        }
        Some(url::Host::Ipv6(ip)) => !(ip.is_loopback() || ip.is_unspecified()),
        None => false,
    };
    let path = url.path().to_ascii_lowercase();
    matches!(url.scheme(), "http" | "https")
        && public_host
        && (extensions.is_empty() || extensions.iter().any(|ext| path.ends_with(ext)))
}

/// Checks a portfolio project's fields: at most four service offerings, the documented bands and calls to
/// action, a completion month and year that exist.
pub fn check_project(details: &ProjectDetails, today: NaiveDate) -> Result<(), Vec<RuleFailure>> {
    let mut found = Vec::new();
    let mut failures = Failures {
        feature_type: FeatureType::YelpPortfolio,
        found: &mut found,
    };
    if let Some(offerings) = &details.service_offerings {
        if offerings.len() > MAX_SERVICE_OFFERINGS {
            failures.add(
                "service_offerings",
                format!(
                    "A project can show at most {MAX_SERVICE_OFFERINGS} services; remove {}",
                    offerings.len() - MAX_SERVICE_OFFERINGS
                ),
            );
        }
        for (index, offering) in offerings.iter().enumerate() {
            if offering.trim().is_empty() {
                failures.add(
                    format!("service_offerings[{index}]"),
                    "A service cannot be empty",
                );
            }
        }
    }
    let choices = [
        (
            "call_to_action",
            details
                .call_to_action
                .as_ref()
                .filter(|v| !v.is_known())
                .map(|v| v.to_string()),
            "WEBSITE, CALL, BOOK_APPOINTMENT, GET_QUOTE or LEARN_MORE",
        ),
        (
            "cost",
            details
                .cost
                .as_ref()
                .filter(|v| !v.is_known())
                .map(|v| v.to_string()),
            "UNDER_100, 100_500, 500_1000, 1000_5000 or 5000_PLUS",
        ),
        (
            "duration",
            details
                .duration
                .as_ref()
                .filter(|v| !v.is_known())
                .map(|v| v.to_string()),
            "UNDER_1_WEEK, 1_2_WEEKS, 2_4_WEEKS, 1_3_MONTHS or 3_PLUS_MONTHS",
        ),
    ];
    for (field, unknown, allowed) in choices {
        if let Some(value) = unknown {
            failures.add(field, format!("'{value}' is not allowed; choose {allowed}"));
        }
    }
    if let Some(month) = details.completion_month.filter(|m| !(1..=12).contains(m)) {
        failures.add(
            "completion_month",
            format!("{month} is not a month; choose 1 to 12"),
        );
    }
    let this_year = today.year();
    if let Some(year) = details
        .completion_year
        .filter(|y| !(FIRST_COMPLETION_YEAR..=this_year).contains(y))
    {
        failures.add(
            "completion_year",
            format!("{year} is not a finished project's year; choose {FIRST_COMPLETION_YEAR} to {this_year}"),
        );
    }
    if found.is_empty() { Ok(()) } else { Err(found) }
}

/// Checks a new portfolio photo: a public http(s) link, or a photo of the business.
pub fn check_photo(photo: &NewPhoto) -> Result<(), Vec<RuleFailure>> {
    let failure = |field: &str, message: &str| {
        Err(vec![RuleFailure {
            feature_type: FeatureType::YelpPortfolio,
            field: field.to_owned(),
            message: message.to_owned(),
        }])
    };
    match &photo.source {
        PhotoSource::Url(url) if !is_public_url(url, &[]) => {
            failure("photo_url", "The photo must be a public http(s) link")
        }
        PhotoSource::BusinessPhoto(id) if id.trim().is_empty() => {
            failure("biz_photo_id", "Choose one of the business's photos")
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use yelp_partner_api::{
        AdGoal, AdGoalSetting, BusinessLocations, BusinessLogo, CustomAdText, License,
        NegativeKeywordTargeting, ProjectCost, ProjectDuration, ProjectId, ProjectState,
        VerifiedLicense,
    };

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 19).unwrap()
    }

    fn business() -> BusinessId {
        BusinessId::from_yelp("Zr5TgH2nKp8QwXy1LmN0bA")
    }

    /// A CPC program's features as Yelp shows them, nothing set.
    fn cpc_features() -> ProgramFeatures {
        ProgramFeatures::from_json(json!({"features": {
            "LINK_TRACKING": {}, "NEGATIVE_KEYWORD_TARGETING": {}, "CUSTOM_LOCATION_TARGETING": {},
            "AD_GOAL": {}, "CALL_TRACKING": {}, "CUSTOM_RADIUS_TARGETING": {}, "CUSTOM_AD_TEXT": {},
        }}))
        .unwrap()
    }

    fn check(changes: FeatureChanges, current: &ProgramFeatures) -> Vec<(String, String)> {
        let business = business();
        let context = Context {
            today: today(),
            business_id: &business,
            current,
        };
        match check_changes(&changes, &context) {
            Ok(()) => Vec::new(),
            Err(failures) => failures
                .into_iter()
                .map(|f| (f.feature_type.to_string(), f.field))
                .collect(),
        }
    }

    fn named(t: &str, field: &str) -> (String, String) {
        (t.to_owned(), field.to_owned())
    }

    fn locations(count: usize) -> CustomLocationTargeting {
        CustomLocationTargeting {
            businesses: vec![BusinessLocations {
                business_id: business(),
                locations: (0..count).map(|i| format!("9{i:04}")).collect(),
            }],
        }
    }

    fn radius(miles: Option<f64>) -> CustomRadiusTargeting {
        CustomRadiusTargeting {
            custom_radius: miles,
        }
    }

    #[test]
    fn a_radius_is_1_to_60_miles_or_off() {
        let current = cpc_features();
        for ok in [None, Some(1.0), Some(25.0), Some(60.0)] {
            assert_eq!(check(FeatureChanges::new().with(radius(ok)), &current), []);
        }
        for bad in [Some(0.5), Some(60.5), Some(-3.0), Some(f64::NAN)] {
            assert_eq!(
                check(FeatureChanges::new().with(radius(bad)), &current),
                [named("CUSTOM_RADIUS_TARGETING", "custom_radius")],
                "{bad:?}"
            );
        }
    }

    #[test]
    fn locations_are_at_most_25_for_this_business_and_never_with_a_radius() {
        let current = cpc_features();
        assert_eq!(
            check(FeatureChanges::new().with(locations(25)), &current),
            []
        );
        assert_eq!(
            check(FeatureChanges::new().with(locations(26)), &current),
            [named(
                "CUSTOM_LOCATION_TARGETING",
                "businesses[0].locations"
            )]
        );
        let mut repeated = locations(25);
        repeated.businesses[0].locations.push(" 90001 ".into());
        assert_eq!(
            check(FeatureChanges::new().with(repeated), &current),
            [],
            "the same place twice counts once"
        );
        let elsewhere = CustomLocationTargeting {
            businesses: vec![BusinessLocations {
                business_id: BusinessId::from_yelp("another"),
                locations: vec!["Oakland, CA".into(), "  ".into()],
            }],
        };
        assert_eq!(
            check(FeatureChanges::new().with(elsewhere), &current),
            [
                named("CUSTOM_LOCATION_TARGETING", "businesses[0].business_id"),
                named("CUSTOM_LOCATION_TARGETING", "businesses[0].locations[1]"),
            ]
        );

        let both = FeatureChanges::new()
            .with(locations(3))
            .with(radius(Some(10.0)));
        assert_eq!(
            check(both, &current),
            [named("CUSTOM_LOCATION_TARGETING", "businesses")]
        );
        let switched = FeatureChanges::new().with(locations(3)).with(radius(None));
        assert_eq!(check(switched, &current), []);
        let mut with_radius = cpc_features();
        with_radius.insert(radius(Some(10.0)));
        assert_eq!(
            check(FeatureChanges::new().with(locations(3)), &with_radius),
            [named("CUSTOM_LOCATION_TARGETING", "businesses")]
        );
        let mut with_locations = cpc_features();
        with_locations.insert(locations(3));
        assert_eq!(
            check(
                FeatureChanges::new().with(radius(Some(10.0))),
                &with_locations
            ),
            [named("CUSTOM_RADIUS_TARGETING", "custom_radius")]
        );
    }

    #[test]
    fn the_ad_goal_is_one_of_three() {
        let current = cpc_features();
        for goal in AdGoal::KNOWN {
            let change = FeatureChanges::new().with(AdGoalSetting {
                ad_goal: goal.clone(),
            });
            assert_eq!(check(change, &current), []);
        }
        let sales = FeatureChanges::new().with(AdGoalSetting {
            ad_goal: AdGoal::from_wire("SALES"),
        });
        assert_eq!(check(sales, &current), [named("AD_GOAL", "ad_goal")]);
    }

    #[test]
    fn ad_text_rules_each_say_what_is_wrong() {
        assert!(ad_text_problems("Family owned plumbers since 1982.").is_empty());
        assert!(ad_text_problems("We serve the USA and the EU, e.g. Reno.").is_empty());
        let cases = [
            ("Ten chars!", "15 to 1500 characters; it has 10"),
            (
                "Visit www.acme-plumbing.com today",
                "web address (www.acme-plumbing.com)",
            ),
            ("See https://acme.example for more", "web address"),
            ("Quotes at acmeplumbing.com/quote now", "web address"),
            ("1234567890 1234567890", "not only digits"),
            ("CALL US TODAY FOR A fix", "half of the ad text's letters"),
            ("Call us NOWWWW for a quote", "5 capital letters in a row"),
        ];
        for (text, says) in cases {
            let problems = ad_text_problems(text);
            assert!(
                problems.iter().any(|p| p.contains(says)),
                "{text}: {problems:?}"
            );
        }
        assert_eq!(
            ad_text_problems("SHOUTED").len(),
            3,
            "every problem at once"
        );
        assert!(
            ad_text_problems(&"é".repeat(1500)).is_empty(),
            "characters, not bytes"
        );
        assert!(!ad_text_problems(&"a".repeat(1501)).is_empty());

        let current = cpc_features();
        let both = FeatureChanges::new().with(CustomAdText {
            custom_review_id: Some("r1".into()),
            custom_text: Some("Family owned plumbers since 1982.".into()),
        });
        assert_eq!(
            check(both, &current),
            [named("CUSTOM_AD_TEXT", "custom_text")]
        );
    }

    #[test]
    fn a_logo_is_a_public_image_link() {
        let current =
            ProgramFeatures::from_json(json!({"features": {"BUSINESS_LOGO": {}}})).unwrap();
        let logo = |url: &str| {
            FeatureChanges::new().with(BusinessLogo {
                business_logo_url: Some(url.into()),
            })
        };
        for ok in [
            "https://cdn.example.com/logo.png",
            "http://cdn.example.com/a/b/LOGO.JPEG?v=3",
            "https://cdn.example.com/logo.tiff",
        ] {
            assert_eq!(check(logo(ok), &current), [], "{ok}");
        }
        for bad in [
            "https://cdn.example.com/logo.svg",
            "ftp://cdn.example.com/logo.png",
            "https://localhost/logo.png",
            "http://10.0.0.7/logo.png",
            "https://intranet/logo.png",
            "logo.png",
        ] {
            assert_eq!(
                check(logo(bad), &current),
                [named("BUSINESS_LOGO", "business_logo_url")],
                "{bad}"
            );
        }
        let off = FeatureChanges::new().with(BusinessLogo::default());
        assert_eq!(check(off, &current), []);
    }

    #[test]
    fn highlights_come_from_the_offer_and_exclusive_ones_never_together() {
        let current = ProgramFeatures::from_json(json!({"features": {"BUSINESS_HIGHLIGHTS": {
            "available_business_highlights": ["FAMILY_OWNED", "LOCALLY_OWNED", "FREE_ESTIMATES"],
            "mutually_exclusive_business_highlights": [["FAMILY_OWNED", "LOCALLY_OWNED"]],
        }}}))
        .unwrap();
        let choose = |chosen: &[&str]| {
            FeatureChanges::new().with(BusinessHighlights {
                active_business_highlights: chosen.iter().map(|s| s.to_string()).collect(),
                ..BusinessHighlights::default()
            })
        };
        assert_eq!(
            check(choose(&["FAMILY_OWNED", "FREE_ESTIMATES"]), &current),
            []
        );
        assert_eq!(
            check(
                choose(&["FAMILY_OWNED", "LOCALLY_OWNED", "BEST_IN_TOWN"]),
                &current
            ),
            [
                named("BUSINESS_HIGHLIGHTS", "business_highlights[2]"),
                named("BUSINESS_HIGHLIGHTS", "business_highlights"),
            ]
        );
        let unreadable =
            ProgramFeatures::from_json(json!({"features": {"BUSINESS_HIGHLIGHTS": 3}})).unwrap();
        assert_eq!(
            check(choose(&["FAMILY_OWNED"]), &unreadable),
            [named("BUSINESS_HIGHLIGHTS", "business_highlights")],
            "without Yelp's offer nothing is sent"
        );
    }

    #[test]
    fn licenses_need_a_number_once_and_a_date_not_past() {
        let current =
            ProgramFeatures::from_json(json!({"features": {"VERIFIED_LICENSE": {}}})).unwrap();
        let license = |number: &str, expiry: Option<NaiveDate>| License {
            license_number: number.into(),
            license_expiry_date: expiry,
            ..License::default()
        };
        let ok = FeatureChanges::new().with(VerifiedLicense {
            licenses: vec![
                license("C-10 123", NaiveDate::from_ymd_opt(2027, 1, 1)),
                license("B-2", None),
            ],
        });
        assert_eq!(check(ok, &current), []);
        let bad = FeatureChanges::new().with(VerifiedLicense {
            licenses: vec![
                license(" ", None),
                license("C-10 123", NaiveDate::from_ymd_opt(2026, 3, 18)),
                license("C-10 123", None),
            ],
        });
        assert_eq!(
            check(bad, &current),
            [
                named("VERIFIED_LICENSE", "licenses[0].license_number"),
                named("VERIFIED_LICENSE", "licenses[1].license_expiry_date"),
                named("VERIFIED_LICENSE", "licenses[2].license_number"),
            ]
        );
    }

    #[test]
    fn a_type_the_program_does_not_offer_and_every_failure_are_reported_together() {
        let current = cpc_features();
        let changes = FeatureChanges::new()
            .with(BusinessLogo::default())
            .with(radius(Some(99.0)))
            .with(NegativeKeywordTargeting {
                blocked_keywords: vec!["diy".into(), "".into()],
                suggested_keywords: vec![],
            });
        let business = business();
        let failures = check_changes(
            &changes,
            &Context {
                today: today(),
                business_id: &business,
                current: &current,
            },
        )
        .unwrap_err();
        let named: Vec<String> = failures.iter().map(ToString::to_string).collect();
        assert_eq!(
            named,
            [
                "NEGATIVE_KEYWORD_TARGETING.blocked_keywords[1]: A negative keyword cannot be empty",
                "CUSTOM_RADIUS_TARGETING.custom_radius: Custom radius must be from 1 to 60 miles, or off",
                "BUSINESS_LOGO.feature_type: Business logo is not available for this program",
            ]
        );
    }

    #[test]
    fn portfolio_projects_follow_the_documented_choices() {
        let current = ProgramFeatures::from_json(json!({"features": {"YELP_PORTFOLIO": {
            "projects": [{"project_id": "pr1", "published": false}]}}}))
        .unwrap();
        let publish = |id: &str| {
            FeatureChanges::new().with(YelpPortfolio {
                projects: vec![ProjectState {
                    project_id: ProjectId::from_yelp(id),
                    published: true,
                }],
            })
        };
        assert_eq!(check(publish("pr1"), &current), []);
        assert_eq!(
            check(publish("pr9"), &current),
            [named("YELP_PORTFOLIO", "projects[0].project_id")]
        );

        let good = ProjectDetails {
            service_offerings: Some(vec!["a".into(), "b".into(), "c".into(), "d".into()]),
            cost: Some(ProjectCost::From100To500),
            duration: Some(ProjectDuration::OneToThreeMonths),
            completion_year: Some(2026),
            completion_month: Some(3),
            ..ProjectDetails::default()
        };
        assert_eq!(check_project(&good, today()), Ok(()));
        let bad = ProjectDetails {
            service_offerings: Some((0..5).map(|i| format!("s{i}")).collect()),
            cost: Some(ProjectCost::from_wire("CHEAP")),
            duration: Some(ProjectDuration::from_wire("FOREVER")),
            completion_year: Some(2027),
            completion_month: Some(13),
            ..ProjectDetails::default()
        };
        let fields: Vec<String> = check_project(&bad, today())
            .unwrap_err()
            .into_iter()
            .map(|f| f.field)
            .collect();
        assert_eq!(
            fields,
            [
                "service_offerings",
                "cost",
                "duration",
                "completion_month",
                "completion_year"
            ]
        );
        let photo = |source| NewPhoto {
            source,
            caption: None,
            is_before_photo: false,
        };
        assert_eq!(
            check_photo(&photo(PhotoSource::Url(
                "https://img.example.com/a.jpg".into()
            ))),
            Ok(())
        );
        assert!(check_photo(&photo(PhotoSource::Url("http://127.0.0.1/a.jpg".into()))).is_err());
        assert!(check_photo(&photo(PhotoSource::BusinessPhoto(" ".into()))).is_err());
    }
}

/// The simulator enforces these rules with its own code; these tests hold the two to the same verdicts, so
/// that a dashboard test can show Yelp refusing what the dashboard refuses and nothing else (the rules only
/// Yelp checks aside).
#[cfg(test)]
mod parity {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    use secrecy::SecretString;
    use yelp_partner_api::{
        AdGoal, AdGoalSetting, BusinessLocations, BusinessLogo, CallTracking, Client, ClientConfig,
        CustomAdText, License, LinkTracking, ProgramId, RetryPolicy, VerifiedLicense,
    };
    use yelp_sim::{ProgramType, SimConfig, SimHandle};

    /// The simulator, a client of it, and one program of each type used, all features reset.
    struct Yelp {
        runtime: tokio::runtime::Runtime,
        sim: SimHandle,
        client: Client,
    }

    impl Yelp {
        fn start() -> Self {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            let sim = runtime
                .block_on(yelp_sim::spawn(SimConfig {
                    programs: 300,
                    businesses: 50,
                    ..SimConfig::for_tests()
                }))
                .unwrap();
            let mut config = ClientConfig::new(
                &sim.base_url(),
                sim.state().config().username.clone(),
                SecretString::from(sim.state().config().password.clone()),
            )
            .unwrap();
            config.retry = RetryPolicy::never();
            let client = Client::new(config).unwrap();
            Self {
                runtime,
                sim,
                client,
            }
        }

        /// A program of `program_type` with every feature reset.
        fn program(&self, program_type: ProgramType) -> (ProgramId, BusinessId) {
            let program = self
                .sim
                .state()
                .programs()
                .into_iter()
                .find(|p| p.program_type == program_type)
                .unwrap();
            let id = ProgramId::from_yelp(program.program_id);
            let types: Vec<FeatureType> = program
                .available_features
                .iter()
                .map(|f| FeatureType::from_wire(f.as_str()))
                .collect();
            self.runtime
                .block_on(self.client.delete_program_features(&id, &types))
                .unwrap();
            (id, BusinessId::from_yelp(program.yelp_business_id))
        }

        /// Whether these rules and the simulator agree on `changes`: each accepts it or each refuses it.
        /// Accepted changes are undone, so that every case starts from the same program.
        fn verdicts(
            &self,
            id: &ProgramId,
            business: &BusinessId,
            changes: &FeatureChanges,
        ) -> (bool, bool) {
            let current = self
                .runtime
                .block_on(self.client.program_features(id))
                .unwrap();
            let rules = check_changes(
                changes,
                &Context {
                    today: self.sim.state().today(),
                    business_id: business,
                    current: &current,
                },
            )
            .is_ok();
            let answer = self
                .runtime
                .block_on(self.client.update_program_features(id, changes));
            let yelp = match answer {
                Ok(_) => true,
                Err(yelp_partner_api::Error::Rejected { status: 400, .. }) => false,
                Err(other) => panic!("{other}"),
            };
            if yelp {
                let types: Vec<FeatureType> = changes.iter().map(Feature::feature_type).collect();
                self.runtime
                    .block_on(self.client.delete_program_features(id, &types))
                    .unwrap();
            }
            (rules, yelp)
        }
    }

    fn config(cases: u32) -> Config {
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        }
    }

    #[test]
    fn the_simulator_refuses_exactly_the_ad_texts_these_rules_refuse() {
        let yelp = Yelp::start();
        let (id, business) = yelp.program(ProgramType::Cpc);
        // Boundaries first: 14/15 and 1,500/1,501 characters, 5 and 6 capitals in a row, exactly half.
        let boundaries = [
            "Fourteen chars".to_owned(),
            "Fifteen chars!!".to_owned(),
            "a".repeat(1500),
            "a".repeat(1501),
            "Call us NOWWW for a free quote".to_owned(),
            "Call us NOWWWW for a free quote".to_owned(),
            "ABCDE abcde ABCDE abcde".to_owned(),
            "ABCDE abcd ABCDE abcde".to_owned(),
        ];
        for text in boundaries {
            let changes = FeatureChanges::new().with(CustomAdText {
                custom_review_id: None,
                custom_text: Some(text.clone()),
            });
            let (rules, yelp) = yelp.verdicts(&id, &business, &changes);
            assert_eq!(rules, yelp, "{text:?}: rules {:?}", ad_text_problems(&text));
        }
        let piece = prop_oneof![
            3 => "[a-z]{1,8}".boxed(),
            1 => "[A-Z]{1,4}".boxed(),
            1 => "[A-Z]{5,7}".boxed(),
            1 => "[0-9]{1,3}".boxed(),
            2 => Just(" ".to_owned()).boxed(),
            1 => Just(". ".to_owned()).boxed(),
            1 => Just("www.".to_owned()).boxed(),
            1 => Just(".com".to_owned()).boxed(),
            1 => Just("/".to_owned()).boxed(),
            1 => Just("https://".to_owned()).boxed(),
            1 => Just("é".to_owned()).boxed(),
        ];
        let text = prop::collection::vec(piece, 0..16).prop_map(|pieces| pieces.concat());
        TestRunner::new(config(256))
            .run(&text, |text| {
                let changes = FeatureChanges::new().with(CustomAdText {
                    custom_review_id: None,
                    custom_text: Some(text.clone()),
                });
                let (rules, yelp) = yelp.verdicts(&id, &business, &changes);
                prop_assert_eq!(
                    rules,
                    yelp,
                    "{:?}: rules {:?}",
                    text,
                    ad_text_problems(&text)
                );
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn the_simulator_refuses_exactly_the_feature_changes_these_rules_refuse() {
        let yelp = Yelp::start();
        let (cpc, cpc_business) = yelp.program(ProgramType::Cpc);
        let locations = |count: usize| CustomLocationTargeting {
            businesses: vec![BusinessLocations {
                business_id: cpc_business.clone(),
                locations: (0..count).map(|i| format!("9{i:04}")).collect(),
            }],
        };
        // The ad goal's tracking is Yelp's own rule; give it here so that only the goal's value counts.
        let goal = |ad_goal: AdGoal| {
            FeatureChanges::new()
                .with(CallTracking {
                    enabled: true,
                    businesses: vec![],
                })
                .with(LinkTracking {
                    website: Some("utm_source=yelp".into()),
                    ..LinkTracking::default()
                })
                .with(AdGoalSetting { ad_goal })
        };
        let radius = |miles| {
            FeatureChanges::new().with(CustomRadiusTargeting {
                custom_radius: Some(miles),
            })
        };
        let cpc_cases = [
            radius(1.0),
            radius(60.0),
            radius(0.9),
            radius(60.1),
            FeatureChanges::new().with(locations(25)),
            FeatureChanges::new().with(locations(26)),
            FeatureChanges::new()
                .with(locations(2))
                .with(CustomRadiusTargeting {
                    custom_radius: Some(5.0),
                }),
            FeatureChanges::new()
                .with(locations(2))
                .with(CustomRadiusTargeting {
                    custom_radius: None,
                }),
            goal(AdGoal::Calls),
            goal(AdGoal::WebsiteClicks),
            goal(AdGoal::from_wire("SALES")),
            FeatureChanges::new().with(CustomAdText {
                custom_review_id: Some("r1".into()),
                custom_text: Some("Family owned plumbers since 1982.".into()),
            }),
            FeatureChanges::new().with(BusinessLogo::default()),
        ];
        for changes in &cpc_cases {
            let (rules, yelp) = yelp.verdicts(&cpc, &cpc_business, changes);
            assert_eq!(rules, yelp, "{}", changes.body());
        }

        let (logo, logo_business) = yelp.program(ProgramType::Logo);
        for url in [
            "https://cdn.example.com/logo.png",
            "https://cdn.example.com/logo.svg",
            "http://192.168.0.2/logo.png",
            "https://localhost/logo.gif",
        ] {
            let changes = FeatureChanges::new().with(BusinessLogo {
                business_logo_url: Some(url.into()),
            });
            let (rules, yelp) = yelp.verdicts(&logo, &logo_business, &changes);
            assert_eq!(rules, yelp, "{url}");
        }

        let (bh, bh_business) = yelp.program(ProgramType::Bh);
        for chosen in [
            &["FAMILY_OWNED"][..],
            &["FAMILY_OWNED", "LOCALLY_OWNED"],
            &["BEST_IN_TOWN"],
        ] {
            let changes = FeatureChanges::new().with(BusinessHighlights {
                active_business_highlights: chosen.iter().map(|s| s.to_string()).collect(),
                ..BusinessHighlights::default()
            });
            let (rules, yelp) = yelp.verdicts(&bh, &bh_business, &changes);
            assert_eq!(rules, yelp, "{chosen:?}");
        }

        let (vl, vl_business) = yelp.program(ProgramType::Vl);
        let today = yelp.sim.state().today();
        for (number, expiry) in [
            ("C-10 123", Some(today)),
            ("C-10 123", today.pred_opt()),
            (" ", None),
        ] {
            let changes = FeatureChanges::new().with(VerifiedLicense {
                licenses: vec![License {
                    license_number: number.into(),
                    license_expiry_date: expiry,
                    ..License::default()
                }],
            });
            let (rules, yelp) = yelp.verdicts(&vl, &vl_business, &changes);
            assert_eq!(rules, yelp, "{number:?} {expiry:?}");
        }
    }
}
