//! Program features (contract §4.9 and §13): defaults, the checks of a write, and the GET view.
//!
//! A program stores only the fields that were written; the view merges them over the defaults. A write is
//! checked whole before anything changes: each field first (the same rules a careful client applies:
//! radius 1–60 miles, at most 25 locations a business, the three ad goals, the ad text rules, a public
//! logo URL, the offered highlights, license fields), then the program as the write would leave it, with
//! what only Yelp knows: a custom radius never together with custom locations, an ad goal of calls or
//! clicks only with the tracking it needs, at most 25 custom locations per business across all of its
//! programs, and portfolio projects that exist. The first problem found is answered as a 400
//! `{"error": {"id", "description"}}` naming the type and field.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use fastrand::Rng;
use serde_json::{Map, Value, json};

use crate::model::{FeatureType, Program};
use crate::state::World;

/// Highlights a BUSINESS_HIGHLIGHTS program can switch on.
const AVAILABLE_HIGHLIGHTS: &[&str] = &[
    "FAMILY_OWNED",
    "LOCALLY_OWNED",
    "WOMEN_OWNED",
    "VETERAN_OWNED",
    "FREE_ESTIMATES",
    "EMERGENCY_SERVICES",
    "SAME_DAY_SERVICE",
    "LICENSED_AND_INSURED",
];

/// Pairs of highlights that cannot both be active.
const EXCLUSIVE_HIGHLIGHTS: &[[&str; 2]] = &[["FAMILY_OWNED", "LOCALLY_OWNED"]];

const AD_GOALS: &[&str] = &["DEFAULT", "CALLS", "WEBSITE_CLICKS"];
const LOGO_EXTENSIONS: &[&str] = &[".jpeg", ".jpg", ".png", ".gif", ".tiff"];
/// Custom locations one business may have, across all its programs.
const MAX_LOCATIONS: usize = 25;
/// Characters of a custom ad text.
const AD_TEXT_MIN: usize = 15;
const AD_TEXT_MAX: usize = 1500;
/// Longest run of capital letters an ad text may hold.
const MAX_CAPITALS_IN_A_ROW: usize = 5;
/// Endings of a word that make it a web address in an ad text.
const URL_ENDINGS: &[&str] = &[
    ".com", ".net", ".org", ".biz", ".info", ".io", ".co", ".us", ".edu", ".gov", ".app", ".site",
    ".online", ".shop",
];

/// Checked fields to write, per feature type.
type Updates = Vec<(FeatureType, Map<String, Value>)>;

/// A rejected feature write: 400 `{"error":{"id","description"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FeatureError {
    /// `UNSUPPORTED_FEATURE_TYPE` or `INVALID_FEATURE_DATA`.
    pub id: &'static str,
    /// What is wrong, naming the type and field.
    pub description: String,
}

/// Why a feature write was not made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No program has that id (404).
    NoProgram,
    /// The write breaks a rule (400).
    Invalid(FeatureError),
}

impl From<FeatureError> for Refusal {
    fn from(error: FeatureError) -> Self {
        Refusal::Invalid(error)
    }
}

pub(crate) fn invalid(description: impl Into<String>) -> FeatureError {
    FeatureError {
        id: "INVALID_FEATURE_DATA",
        description: description.into(),
    }
}

pub(crate) fn unsupported(description: impl Into<String>) -> FeatureError {
    FeatureError {
        id: "UNSUPPORTED_FEATURE_TYPE",
        description: description.into(),
    }
}

/// How a field is checked on write.
#[derive(Clone, Copy)]
enum Kind {
    NullableString,
    Bool,
    StringArray,
    Keywords,
    Radius,
    AdGoal,
    AdText,
    LocationBusinesses,
    CallTrackingBusinesses,
    Highlights,
    Licenses,
    Projects,
    LogoUrl,
    /// Supplied by Yelp: accepted on write (clients echo GET back) and ignored.
    ReadOnly,
}

/// Fields of each feature type with their kind, as the GET view shows them.
fn fields(ft: FeatureType) -> &'static [(&'static str, Kind)] {
    use Kind::*;
    match ft {
        FeatureType::LinkTracking => &[
            ("website", NullableString),
            ("menu", NullableString),
            ("call_to_action", NullableString),
        ],
        FeatureType::NegativeKeywordTargeting => &[
            ("blocked_keywords", Keywords),
            ("suggested_keywords", ReadOnly),
        ],
        FeatureType::StrictCategoryTargeting => &[("enabled", Bool)],
        FeatureType::AdScheduling => &[("uses_opening_hours", Bool)],
        FeatureType::CustomLocationTargeting => &[("businesses", LocationBusinesses)],
        FeatureType::AdGoal => &[("ad_goal", AdGoal)],
        FeatureType::CallTracking => &[("enabled", Bool), ("businesses", CallTrackingBusinesses)],
        // Written through `business_highlights` (Yelp's page, §13); see `write_alias`.
        FeatureType::BusinessHighlights => &[
            ("active_business_highlights", ReadOnly),
            ("available_business_highlights", ReadOnly),
            ("mutually_exclusive_business_highlights", ReadOnly),
        ],
        FeatureType::VerifiedLicense => &[("licenses", Licenses)],
        FeatureType::CustomRadiusTargeting => &[("custom_radius", Radius)],
        FeatureType::CustomAdText => &[
            ("custom_review_id", NullableString),
            ("custom_text", AdText),
        ],
        FeatureType::CustomAdPhoto => &[("custom_photo_id", NullableString)],
        FeatureType::BusinessLogo => &[("business_logo_url", LogoUrl)],
        FeatureType::YelpPortfolio => &[("projects", Projects)],
        FeatureType::ServiceOfferingsTargeting => &[
            ("disabled_service_offerings", StringArray),
            ("enabled_service_offerings", StringArray),
        ],
    }
}

/// A write-only field: the field it sets in the view and how it is checked.
fn write_alias(ft: FeatureType, key: &str) -> Option<(&'static str, Kind)> {
    match (ft, key) {
        (FeatureType::BusinessHighlights, "business_highlights") => {
            Some(("active_business_highlights", Kind::Highlights))
        }
        _ => None,
    }
}

/// The fields of a feature that is off or was reset.
pub(crate) fn defaults(ft: FeatureType) -> Map<String, Value> {
    let mut map = Map::new();
    for (name, kind) in fields(ft) {
        let value = match kind {
            Kind::NullableString | Kind::Radius | Kind::LogoUrl | Kind::AdText => Value::Null,
            Kind::Bool => Value::Bool(false),
            Kind::AdGoal => json!("DEFAULT"),
            Kind::StringArray
            | Kind::Keywords
            | Kind::LocationBusinesses
            | Kind::CallTrackingBusinesses
            | Kind::Highlights
            | Kind::Licenses
            | Kind::Projects => json!([]),
            Kind::ReadOnly => match *name {
                "available_business_highlights" => json!(AVAILABLE_HIGHLIGHTS),
                "mutually_exclusive_business_highlights" => json!(EXCLUSIVE_HIGHLIGHTS),
                _ => json!([]),
            },
        };
        map.insert((*name).to_owned(), value);
    }
    map
}

/// Settings of a feature that is active in seed data, when they differ from the defaults.
pub(crate) fn seeded_settings(rng: &mut Rng, ft: FeatureType) -> Option<Map<String, Value>> {
    let value = match ft {
        FeatureType::StrictCategoryTargeting => json!({"enabled": true}),
        FeatureType::AdScheduling => json!({"uses_opening_hours": true}),
        FeatureType::CallTracking => json!({"enabled": true}),
        FeatureType::AdGoal => {
            json!({"ad_goal": if rng.bool() { "CALLS" } else { "WEBSITE_CLICKS" }})
        }
        FeatureType::CustomRadiusTargeting => json!({"custom_radius": rng.u32(5..=40)}),
        FeatureType::LinkTracking => json!({"website": "utm_source=yelp&utm_medium=cpc"}),
        _ => return None,
    };
    match value {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// `{"features": {TYPE: {"feature_type": TYPE, ...fields}}}` for every available type of the program.
pub(crate) fn view(world: &World, program: &Program) -> Value {
    let mut features = Map::new();
    for &ft in &program.available_features {
        let mut fields = Map::new();
        fields.insert("feature_type".to_owned(), json!(ft.as_str()));
        fields.extend(defaults(ft));
        if let Some(stored) = program.feature_settings.get(&ft) {
            fields.extend(stored.clone());
        }
        if ft == FeatureType::YelpPortfolio {
            fields.insert(
                "projects".to_owned(),
                world.portfolios.states(&program.program_id),
            );
        }
        features.insert(ft.as_str().to_owned(), Value::Object(fields));
    }
    json!({ "features": features })
}

fn parse_type(program: &Program, name: &str) -> Result<FeatureType, FeatureError> {
    let ft: FeatureType = name
        .parse()
        .map_err(|_| unsupported(format!("`{name}` is not a feature type")))?;
    if program.available_features.contains(&ft) {
        Ok(ft)
    } else {
        Err(unsupported(format!(
            "{name} is not available for this {} program",
            program.program_type
        )))
    }
}

/// What the field checks need to know.
struct Context<'a> {
    today: NaiveDate,
    business_id: &'a str,
}

/// Checks a POST body `{"features": {TYPE: {...}}}` against the program, its business and Yelp's other
/// state, then writes it and switches those types on. Nothing changes when it is refused.
pub(crate) fn update(world: &mut World, program_id: &str, body: &Value) -> Result<(), Refusal> {
    let program = world.programs.get(program_id).ok_or(Refusal::NoProgram)?;
    let features = body
        .get("features")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("the body must be {\"features\": {TYPE: {...}}}"))?;
    let context = Context {
        today: world.today(),
        business_id: &program.yelp_business_id,
    };
    let mut updates: Updates = Vec::with_capacity(features.len());
    for (name, data) in features {
        let ft = parse_type(program, name)?;
        let data = data
            .as_object()
            .ok_or_else(|| invalid(format!("{name} must be an object of fields")))?;
        updates.push((ft, check_fields(ft, data, &context)?));
    }
    let mut after = program.feature_settings.clone();
    for (ft, fields) in &updates {
        merge(after.entry(*ft).or_default(), *ft, fields);
    }
    // A type whose entry sets no field changes nothing, so no rule across types applies to it.
    let touched = |ft: FeatureType| updates.iter().any(|(t, f)| *t == ft && !f.is_empty());
    check_exclusive_targeting(&after, &touched)?;
    if touched(FeatureType::AdGoal) {
        check_ad_goal_needs(program, &after)?;
    }
    if let Some((_, fields)) = updates
        .iter()
        .find(|(t, _)| *t == FeatureType::CustomLocationTargeting)
    {
        check_business_location_cap(world, program, fields)?;
    }
    let publish = match updates
        .iter()
        .find(|(t, _)| *t == FeatureType::YelpPortfolio)
    {
        Some((_, fields)) => match fields.get("projects") {
            Some(projects) => world.portfolios.check_states(program_id, projects)?,
            None => Vec::new(),
        },
        None => Vec::new(),
    };

    world.portfolios.publish(program_id, &publish);
    if let Some(program) = world.programs.get_mut(program_id) {
        for (ft, _) in &updates {
            activate(program, *ft);
        }
        // Projects live in the portfolio, not in the stored settings.
        after.remove(&FeatureType::YelpPortfolio);
        program.feature_settings = after;
    }
    Ok(())
}

/// Writes checked fields over the stored ones. Licenses are added or edited by number (Yelp's page: a POST
/// never removes one).
fn merge(stored: &mut Map<String, Value>, ft: FeatureType, fields: &Map<String, Value>) {
    for (key, value) in fields {
        if ft == FeatureType::VerifiedLicense && key == "licenses" {
            let mut licenses = stored
                .get("licenses")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for given in value.as_array().into_iter().flatten() {
                let number = &given["license_number"];
                match licenses.iter_mut().find(|l| &l["license_number"] == number) {
                    Some(Value::Object(held)) => {
                        if let Value::Object(given) = given {
                            held.extend(given.clone());
                        }
                    }
                    _ => licenses.push(given.clone()),
                }
            }
            stored.insert(key.clone(), Value::Array(licenses));
        } else {
            stored.insert(key.clone(), value.clone());
        }
    }
}

fn check_fields(
    ft: FeatureType,
    data: &Map<String, Value>,
    context: &Context<'_>,
) -> Result<Map<String, Value>, FeatureError> {
    let spec = fields(ft);
    let mut out = Map::new();
    for (key, value) in data {
        if key == "feature_type" {
            if value.as_str() != Some(ft.as_str()) {
                return Err(invalid(format!("{ft}.feature_type must be \"{ft}\"")));
            }
            continue;
        }
        let (stored_as, kind) = match write_alias(ft, key) {
            Some(alias) => alias,
            None => match spec.iter().find(|(name, _)| name == key) {
                Some((name, kind)) => (*name, *kind),
                None => return Err(invalid(format!("{ft} has no field `{key}`"))),
            },
        };
        if matches!(kind, Kind::ReadOnly) {
            continue;
        }
        let value = check_value(kind, value, context)
            .map_err(|why| invalid(format!("{ft}.{key} {why}")))?;
        out.insert(stored_as.to_owned(), value);
    }
    match ft {
        FeatureType::NegativeKeywordTargeting if !out.contains_key("blocked_keywords") => {
            return Err(invalid(format!("{ft}.blocked_keywords is required")));
        }
        FeatureType::CustomAdText => {
            let set = |k: &str| out.get(k).is_some_and(|v| !v.is_null());
            match (set("custom_review_id"), set("custom_text")) {
                (true, true) => {
                    return Err(invalid(format!(
                        "{ft}: set only one of custom_review_id and custom_text"
                    )));
                }
                // Choosing one source switches the other off.
                (true, false) => {
                    out.insert("custom_text".to_owned(), Value::Null);
                }
                (false, true) => {
                    out.insert("custom_review_id".to_owned(), Value::Null);
                }
                (false, false) => {}
            }
        }
        _ => {}
    }
    Ok(out)
}

/// A custom radius and custom locations exclude each other; checked when a write touches either.
fn check_exclusive_targeting(
    after: &BTreeMap<FeatureType, Map<String, Value>>,
    touched: &impl Fn(FeatureType) -> bool,
) -> Result<(), FeatureError> {
    if !touched(FeatureType::CustomRadiusTargeting)
        && !touched(FeatureType::CustomLocationTargeting)
    {
        return Ok(());
    }
    let radius = after
        .get(&FeatureType::CustomRadiusTargeting)
        .and_then(|f| f.get("custom_radius"))
        .is_some_and(|r| !r.is_null());
    let locations = after
        .get(&FeatureType::CustomLocationTargeting)
        .and_then(|f| f.get("businesses"))
        .and_then(Value::as_array)
        .is_some_and(|businesses| {
            businesses
                .iter()
                .any(|b| b["locations"].as_array().is_some_and(|l| !l.is_empty()))
        });
    if radius && locations {
        return Err(invalid(
            "CUSTOM_LOCATION_TARGETING.businesses cannot be set while CUSTOM_RADIUS_TARGETING.custom_radius \
             is on (or the other way round): turn one off first",
        ));
    }
    Ok(())
}

/// Yelp optimises for calls only with call tracking on, and for website clicks only with a tracked website
/// link (which is why clients copy AD_GOAL after LINK_TRACKING and CALL_TRACKING).
fn check_ad_goal_needs(
    program: &Program,
    after: &BTreeMap<FeatureType, Map<String, Value>>,
) -> Result<(), FeatureError> {
    let goal = after
        .get(&FeatureType::AdGoal)
        .and_then(|f| f.get("ad_goal"))
        .and_then(Value::as_str);
    let field = |ft: FeatureType, key: &str| {
        program
            .available_features
            .contains(&ft)
            .then(|| after.get(&ft).and_then(|f| f.get(key)).cloned())
            .flatten()
    };
    match goal {
        Some("CALLS") if field(FeatureType::CallTracking, "enabled") != Some(json!(true)) => Err(
            invalid("AD_GOAL.ad_goal CALLS needs CALL_TRACKING enabled on this program first"),
        ),
        Some("WEBSITE_CLICKS")
            if field(FeatureType::LinkTracking, "website").is_none_or(|w| w.is_null()) =>
        {
            Err(invalid(
                "AD_GOAL.ad_goal WEBSITE_CLICKS needs LINK_TRACKING.website set on this program first",
            ))
        }
        _ => Ok(()),
    }
}

/// At most 25 custom locations per business, counting every program of that business.
fn check_business_location_cap(
    world: &World,
    program: &Program,
    fields: &Map<String, Value>,
) -> Result<(), FeatureError> {
    let Some(businesses) = fields.get("businesses").and_then(Value::as_array) else {
        return Ok(());
    };
    for (index, entry) in businesses.iter().enumerate() {
        let business = entry["business_id"].as_str().unwrap_or_default();
        let here = entry["locations"].as_array().map_or(0, Vec::len);
        let elsewhere: usize = world
            .programs
            .values()
            .filter(|p| p.program_id != program.program_id && p.yelp_business_id == business)
            .filter_map(|p| {
                p.feature_settings
                    .get(&FeatureType::CustomLocationTargeting)
            })
            .filter_map(|f| f.get("businesses").and_then(Value::as_array))
            .flatten()
            .filter(|b| b["business_id"] == business)
            .map(|b| b["locations"].as_array().map_or(0, Vec::len))
            .sum();
        if here + elsewhere > MAX_LOCATIONS {
            return Err(invalid(format!(
                "CUSTOM_LOCATION_TARGETING.businesses[{index}].locations: business {business} would have \
                 {} custom locations across its programs ({elsewhere} in other programs); Yelp allows \
                 {MAX_LOCATIONS} per business",
                here + elsewhere
            )));
        }
    }
    Ok(())
}

fn is_string_array(value: &Value) -> bool {
    value
        .as_array()
        .is_some_and(|items| items.iter().all(Value::is_string))
}

fn check_objects(
    value: &Value,
    check: impl Fn(&Map<String, Value>) -> Result<Map<String, Value>, String>,
) -> Result<Value, String> {
    let items = value.as_array().ok_or("must be an array")?;
    let mut out = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let object = item
            .as_object()
            .ok_or_else(|| format!("[{index}] must be an object"))?;
        out.push(Value::Object(
            check(object).map_err(|why| format!("[{index}].{why}"))?,
        ));
    }
    Ok(Value::Array(out))
}

fn require_string(object: &Map<String, Value>, key: &str) -> Result<(), String> {
    match object.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(()),
        _ => Err(format!("{key} must be a non-empty string")),
    }
}

fn optional_string(object: &Map<String, Value>, key: &str) -> Result<(), String> {
    match object.get(key) {
        None | Some(Value::Null) | Some(Value::String(_)) => Ok(()),
        _ => Err(format!("{key} must be a string or null")),
    }
}

fn only_keys(object: &Map<String, Value>, allowed: &[&str]) -> Result<(), String> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(format!("{key} is not a known field")),
        None => Ok(()),
    }
}

/// Checks one field and answers the value to store (custom locations normalised, as Yelp does).
fn check_value(kind: Kind, value: &Value, context: &Context<'_>) -> Result<Value, String> {
    let ok = || Ok(value.clone());
    match kind {
        Kind::NullableString => match value {
            Value::Null | Value::String(_) => ok(),
            _ => Err("must be a string or null".into()),
        },
        Kind::Bool if value.is_boolean() => ok(),
        Kind::Bool => Err("must be true or false".into()),
        Kind::StringArray if is_string_array(value) => ok(),
        Kind::StringArray => Err("must be an array of strings".into()),
        Kind::Keywords => {
            if !is_string_array(value) {
                return Err("must be an array of strings".into());
            }
            let items = value.as_array().into_iter().flatten();
            match items
                .enumerate()
                .find(|(_, k)| k.as_str().is_some_and(|k| k.trim().is_empty()))
            {
                Some((index, _)) => Err(format!("[{index}] must not be empty")),
                None => ok(),
            }
        }
        Kind::Radius => match value {
            Value::Null => ok(),
            Value::Number(n) if n.as_f64().is_some_and(|r| (1.0..=60.0).contains(&r)) => ok(),
            _ => Err("must be a number of miles from 1 to 60, or null".into()),
        },
        Kind::AdGoal => match value.as_str() {
            Some(goal) if AD_GOALS.contains(&goal) => ok(),
            _ => Err("must be DEFAULT, CALLS or WEBSITE_CLICKS".into()),
        },
        Kind::AdText => match value {
            Value::Null => ok(),
            Value::String(text) => ad_text_problem(text).map_or_else(ok, Err),
            _ => Err("must be a string or null".into()),
        },
        Kind::Highlights => {
            let names: Vec<&str> = value
                .as_array()
                .filter(|_| is_string_array(value))
                .ok_or("must be an array of strings")?
                .iter()
                .filter_map(Value::as_str)
                .collect();
            if let Some(bad) = names.iter().find(|n| !AVAILABLE_HIGHLIGHTS.contains(n)) {
                return Err(format!(
                    "contains `{bad}`, which is not an available highlight"
                ));
            }
            if let Some([a, b]) = EXCLUSIVE_HIGHLIGHTS
                .iter()
                .find(|[a, b]| names.contains(a) && names.contains(b))
            {
                return Err(format!("cannot hold both {a} and {b}"));
            }
            ok()
        }
        Kind::LocationBusinesses => check_objects(value, |object| {
            only_keys(object, &["business_id", "locations"])?;
            require_string(object, "business_id")?;
            if object.get("business_id").and_then(Value::as_str) != Some(context.business_id) {
                return Err(format!(
                    "business_id must be this program's business, {}",
                    context.business_id
                ));
            }
            let locations = object
                .get("locations")
                .filter(|v| is_string_array(v))
                .and_then(Value::as_array)
                .ok_or("locations must be an array of strings")?;
            let mut normalised: Vec<String> = Vec::with_capacity(locations.len());
            for (index, location) in locations.iter().filter_map(Value::as_str).enumerate() {
                let location = location.split_whitespace().collect::<Vec<_>>().join(" ");
                if location.is_empty() {
                    return Err(format!("locations[{index}] must not be empty"));
                }
                if !normalised.iter().any(|l| l.eq_ignore_ascii_case(&location)) {
                    normalised.push(location);
                }
            }
            if normalised.len() > MAX_LOCATIONS {
                return Err(format!(
                    "locations holds {} entries; at most {MAX_LOCATIONS}",
                    normalised.len()
                ));
            }
            let mut out = object.clone();
            out.insert("locations".into(), json!(normalised));
            Ok(out)
        }),
        Kind::CallTrackingBusinesses => check_objects(value, |object| {
            only_keys(object, &["business_id", "metered_phone_number"])?;
            require_string(object, "business_id")?;
            optional_string(object, "metered_phone_number")?;
            Ok(object.clone())
        }),
        Kind::Licenses => {
            let checked = check_objects(value, |object| check_license(object, context.today))?;
            let numbers: Vec<&Value> = checked
                .as_array()
                .into_iter()
                .flatten()
                .map(|l| &l["license_number"])
                .collect();
            if let Some(twice) = numbers
                .iter()
                .enumerate()
                .find(|(i, n)| numbers[..*i].contains(n))
            {
                return Err(format!("names license {} more than once", twice.1));
            }
            Ok(checked)
        }
        Kind::Projects => check_objects(value, |object| {
            only_keys(object, &["project_id", "published"])?;
            require_string(object, "project_id")?;
            match object.get("published") {
                Some(Value::Bool(_)) => Ok(object.clone()),
                _ => Err("published must be true or false".into()),
            }
        }),
        Kind::LogoUrl => match value {
            Value::Null => ok(),
            Value::String(url) if is_public_url(url, LOGO_EXTENSIONS) => ok(),
            _ => Err(
                "must be a public http(s) URL of a .jpeg/.jpg/.png/.gif/.tiff image, or null"
                    .into(),
            ),
        },
        Kind::ReadOnly => ok(),
    }
}

/// One license as a partner writes it: the verification fields are Yelp's and are dropped; a new license
/// starts PENDING.
fn check_license(
    object: &Map<String, Value>,
    today: NaiveDate,
) -> Result<Map<String, Value>, String> {
    only_keys(
        object,
        &[
            "license_number",
            "license_verification_status",
            "license_expiry_date",
            "license_trade",
            "license_issuing_agency",
            "license_verification_failure_reason",
        ],
    )?;
    require_string(object, "license_number")?;
    match object.get("license_expiry_date") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => match crate::params::parse_date(s) {
            Some(date) if date < today => {
                return Err(format!(
                    "license_expiry_date {date} has passed; an expired license cannot be verified"
                ));
            }
            Some(_) => {}
            None => return Err("license_expiry_date must be a YYYY-MM-DD date".into()),
        },
        Some(_) => return Err("license_expiry_date must be a YYYY-MM-DD date".into()),
    }
    optional_string(object, "license_trade")?;
    optional_string(object, "license_issuing_agency")?;
    let mut out = object.clone();
    out.remove("license_verification_failure_reason");
    out.insert("license_verification_status".into(), json!("PENDING"));
    Ok(out)
}

/// What is wrong with a custom ad text, if anything: 15 to 1,500 characters, no web address, some letters,
/// at most half of the letters capitals and at most five capitals in a row.
pub(crate) fn ad_text_problem(text: &str) -> Option<String> {
    let chars = text.chars().count();
    if !(AD_TEXT_MIN..=AD_TEXT_MAX).contains(&chars) {
        return Some(format!(
            "must be {AD_TEXT_MIN} to {AD_TEXT_MAX} characters long, not {chars}"
        ));
    }
    if text.split_whitespace().any(looks_like_url) {
        return Some("must not contain a web address".into());
    }
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    if letters == 0 {
        return Some("must contain words, not only digits or symbols".into());
    }
    let capitals = text.chars().filter(|c| c.is_uppercase()).count();
    if capitals * 2 > letters {
        return Some("must not be more than half capital letters".into());
    }
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_uppercase() { run + 1 } else { 0 };
        if run > MAX_CAPITALS_IN_A_ROW {
            return Some(format!(
                "must not have more than {MAX_CAPITALS_IN_A_ROW} capital letters in a row"
            ));
        }
    }
    None
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

/// Whether `text` is an http(s) URL to a public host whose path ends in one of `extensions` (any path when
/// there are none).
pub(crate) fn is_public_url(text: &str, extensions: &[&str]) -> bool {
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

fn activate(program: &mut Program, ft: FeatureType) {
    if !program.active_features.contains(&ft) {
        program.active_features.push(ft);
        // Keep the order of available_features.
        let order = program.available_features.clone();
        program
            .active_features
            .sort_by_key(|f| order.iter().position(|a| a == f));
    }
}

/// Checks a DELETE body `{"features": [TYPE, ...]}`, then resets those types to their defaults and switches
/// them off; YELP_PORTFOLIO loses every project.
pub(crate) fn delete(world: &mut World, program_id: &str, body: &Value) -> Result<(), Refusal> {
    let program = world.programs.get(program_id).ok_or(Refusal::NoProgram)?;
    let names = body
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("the body must be {\"features\": [TYPE, ...]}"))?;
    let types = names
        .iter()
        .map(|name| {
            let name = name
                .as_str()
                .ok_or_else(|| invalid("features must hold feature type names"))?;
            parse_type(program, name)
        })
        .collect::<Result<Vec<_>, _>>()?;
    if types.contains(&FeatureType::YelpPortfolio) {
        world.portfolios.remove_all(program_id);
    }
    if let Some(program) = world.programs.get_mut(program_id) {
        for ft in &types {
            program.feature_settings.remove(ft);
            program.active_features.retain(|f| f != ft);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;
    use crate::model::ProgramType;
    use crate::state::SimState;

    fn state() -> SimState {
        SimState::new(SimConfig {
            programs: 200,
            businesses: 20,
            today: NaiveDate::from_ymd_opt(2026, 3, 19),
            ..SimConfig::for_tests()
        })
    }

    /// A CPC program whose seeded features are all reset, so none gets in the way.
    fn plain_cpc(state: &SimState) -> Program {
        let program = state
            .programs()
            .into_iter()
            .find(|p| p.program_type == ProgramType::Cpc)
            .expect("a CPC program");
        let active: Vec<&str> = program.active_features.iter().map(|f| f.as_str()).collect();
        state
            .with_world(|w| delete(w, &program.program_id, &json!({ "features": active })))
            .expect("reset");
        state.program(&program.program_id).expect("exists")
    }

    fn post(state: &SimState, program: &Program, body: Value) -> Result<(), Refusal> {
        state.with_world(|w| update(w, &program.program_id, &body))
    }

    fn refusal(state: &SimState, program: &Program, features: Value) -> String {
        match post(state, program, json!({ "features": features })) {
            Err(Refusal::Invalid(e)) => e.description,
            other => panic!("{features} was not refused: {other:?}"),
        }
    }

    fn shown(state: &SimState, program: &Program) -> Value {
        state.with_world(|w| {
            let p = w.programs.get(&program.program_id).expect("exists");
            view(w, p)
        })
    }

    #[test]
    fn the_view_lists_every_available_type_with_defaults() {
        let state = state();
        let program = plain_cpc(&state);
        let view = shown(&state, &program);
        let features = view["features"].as_object().expect("object");
        assert_eq!(features.len(), program.available_features.len());
        assert_eq!(view["features"]["AD_GOAL"]["ad_goal"], "DEFAULT");
        assert_eq!(
            view["features"]["CUSTOM_RADIUS_TARGETING"]["custom_radius"],
            Value::Null
        );
        assert_eq!(
            view["features"]["SERVICE_OFFERINGS_TARGETING"]["enabled_service_offerings"],
            json!([])
        );
    }

    #[test]
    fn an_update_merges_fields_activates_the_type_and_a_delete_resets_it() {
        let state = state();
        let program = plain_cpc(&state);
        post(
            &state,
            &program,
            json!({"features": {"CUSTOM_RADIUS_TARGETING": {"custom_radius": 25}}}),
        )
        .expect("valid");
        let now = state.program(&program.program_id).expect("exists");
        assert_eq!(
            now.active_features,
            vec![FeatureType::CustomRadiusTargeting]
        );
        assert_eq!(
            shown(&state, &program)["features"]["CUSTOM_RADIUS_TARGETING"]["custom_radius"],
            25
        );
        state
            .with_world(|w| {
                delete(
                    w,
                    &program.program_id,
                    &json!({"features": ["CUSTOM_RADIUS_TARGETING"]}),
                )
            })
            .expect("valid");
        assert!(
            state
                .program(&program.program_id)
                .expect("exists")
                .active_features
                .is_empty()
        );
    }

    #[test]
    fn each_field_rule_names_the_type_and_field() {
        let state = state();
        let program = plain_cpc(&state);
        let business = program.yelp_business_id.clone();
        let cases = [
            (
                json!({"CUSTOM_RADIUS_TARGETING": {"custom_radius": 61}}),
                "CUSTOM_RADIUS_TARGETING.custom_radius",
            ),
            (
                json!({"CUSTOM_RADIUS_TARGETING": {"custom_radius": 0.5}}),
                "CUSTOM_RADIUS_TARGETING.custom_radius",
            ),
            (json!({"AD_GOAL": {"ad_goal": "SALES"}}), "AD_GOAL.ad_goal"),
            (
                json!({"NEGATIVE_KEYWORD_TARGETING": {"blocked_keywords": [1]}}),
                "NEGATIVE_KEYWORD_TARGETING.blocked_keywords",
            ),
            (
                json!({"NEGATIVE_KEYWORD_TARGETING": {"blocked_keywords": [" "]}}),
                "NEGATIVE_KEYWORD_TARGETING.blocked_keywords",
            ),
            (
                json!({"CUSTOM_AD_TEXT": {"custom_text": "Too short"}}),
                "CUSTOM_AD_TEXT.custom_text",
            ),
            (
                json!({"CUSTOM_AD_TEXT": {"custom_review_id": "r", "custom_text": "Family owned since 1982."}}),
                "custom_review_id and custom_text",
            ),
            (
                json!({"CUSTOM_LOCATION_TARGETING": {"businesses": [{"business_id": business, "locations": (0..26).map(|i| format!("9{i:04}")).collect::<Vec<_>>()}]}}),
                "CUSTOM_LOCATION_TARGETING.businesses",
            ),
            (
                json!({"CUSTOM_LOCATION_TARGETING": {"businesses": [{"business_id": "someone-else", "locations": ["Oakland, CA"]}]}}),
                "business_id must be this program's business",
            ),
        ];
        for (features, named) in cases {
            let description = refusal(&state, &program, features.clone());
            assert!(description.contains(named), "{features}: {description}");
        }
        assert_eq!(
            state.program(&program.program_id),
            Some(program),
            "nothing changed"
        );
    }

    #[test]
    fn ad_text_rules_count_characters_capitals_and_addresses() {
        assert_eq!(ad_text_problem("Family owned plumbers since 1982."), None);
        assert_eq!(ad_text_problem("We serve the USA and the EU."), None);
        for bad in [
            "Too short",
            "Visit us at www.example.test today!",
            "See https://plumb.example for more",
            "Call plumbers.com for a quote now",
            "1234567890 1234567890",
            "SHOUTING IS NOT nice",
            "Call NOWWWW for a quote today",
        ] {
            assert!(ad_text_problem(bad).is_some(), "{bad}");
        }
        assert!(ad_text_problem(&"a".repeat(1501)).is_some());
        assert_eq!(
            ad_text_problem(&"é".repeat(1500)),
            None,
            "characters, not bytes"
        );
    }

    #[test]
    fn logo_urls_must_be_public_images() {
        assert!(is_public_url(
            "https://cdn.example.com/logo.PNG?v=2",
            LOGO_EXTENSIONS
        ));
        for bad in [
            "ftp://cdn.example.com/logo.png",
            "https://localhost/logo.png",
            "http://192.168.1.4/logo.png",
            "https://cdn.example.com/logo.svg",
            "logo.png",
        ] {
            assert!(!is_public_url(bad, LOGO_EXTENSIONS), "{bad}");
        }
    }

    #[test]
    fn a_radius_and_locations_exclude_each_other() {
        let state = state();
        let program = plain_cpc(&state);
        let locations = json!({"businesses": [{"business_id": program.yelp_business_id, "locations": ["94110"]}]});
        post(
            &state,
            &program,
            json!({"features": {"CUSTOM_RADIUS_TARGETING": {"custom_radius": 10}}}),
        )
        .expect("radius alone");
        let refused = refusal(
            &state,
            &program,
            json!({"CUSTOM_LOCATION_TARGETING": locations}),
        );
        assert!(refused.contains("CUSTOM_RADIUS_TARGETING"), "{refused}");
        post(
            &state,
            &program,
            json!({"features": {"CUSTOM_RADIUS_TARGETING": {"custom_radius": null}, "CUSTOM_LOCATION_TARGETING": locations}}),
        )
        .expect("the radius switched off in the same write");
    }

    #[test]
    fn an_ad_goal_needs_the_tracking_it_optimises_for() {
        let state = state();
        let program = plain_cpc(&state);
        let refused = refusal(&state, &program, json!({"AD_GOAL": {"ad_goal": "CALLS"}}));
        assert!(refused.contains("CALL_TRACKING"), "{refused}");
        let refused = refusal(
            &state,
            &program,
            json!({"AD_GOAL": {"ad_goal": "WEBSITE_CLICKS"}}),
        );
        assert!(refused.contains("LINK_TRACKING.website"), "{refused}");
        post(&state, &program, json!({"features": {"CALL_TRACKING": {"enabled": true}, "AD_GOAL": {"ad_goal": "CALLS"}}}))
            .expect("both in one write");
        post(
            &state,
            &program,
            json!({"features": {"AD_GOAL": {"ad_goal": "DEFAULT"}}}),
        )
        .expect("default needs nothing");
    }

    #[test]
    fn a_business_has_at_most_25_custom_locations_across_its_programs() {
        let state = state();
        let first = plain_cpc(&state);
        let ids = state
            .add_programs(&crate::state::AddPrograms {
                count: 1,
                business_id: Some(first.yelp_business_id.clone()),
                program_type: Some(ProgramType::Cpc),
            })
            .expect("added");
        let second = state.program(&ids[0]).expect("added");
        let locations = |from: usize, count: usize| {
            json!({"CUSTOM_LOCATION_TARGETING": {"businesses": [{"business_id": first.yelp_business_id,
                "locations": (from..from + count).map(|i| format!("9{i:04}")).collect::<Vec<_>>()}]}})
        };
        // The second program may have seeded a radius; switch it off so only the cap can refuse.
        state
            .with_world(|w| {
                delete(
                    w,
                    &second.program_id,
                    &json!({"features": ["CUSTOM_RADIUS_TARGETING"]}),
                )
            })
            .expect("reset");
        post(&state, &first, json!({"features": locations(0, 20)})).expect("20 on the first");
        let refused = refusal(&state, &second, locations(20, 6));
        assert!(
            refused.contains("26 custom locations across its programs"),
            "{refused}"
        );
        post(&state, &second, json!({"features": locations(20, 5)})).expect("25 in all");
    }

    #[test]
    fn licenses_are_added_or_edited_by_number_and_start_pending() {
        let state = state();
        let vl = state
            .programs()
            .into_iter()
            .find(|p| p.program_type == ProgramType::Vl)
            .expect("a VL program");
        let write = |licenses: Value| {
            post(
                &state,
                &vl,
                json!({"features": {"VERIFIED_LICENSE": {"licenses": licenses}}}),
            )
        };
        write(json!([{"license_number": "A1", "license_trade": "Plumbing", "license_verification_status": "VERIFIED"}]))
            .expect("valid");
        write(json!([{"license_number": "B2"}, {"license_number": "A1", "license_issuing_agency": "CSLB"}]))
            .expect("valid");
        let licenses = shown(&state, &vl)["features"]["VERIFIED_LICENSE"]["licenses"].clone();
        assert_eq!(licenses.as_array().map(Vec::len), Some(2));
        assert_eq!(licenses[0]["license_trade"], "Plumbing");
        assert_eq!(licenses[0]["license_issuing_agency"], "CSLB");
        assert_eq!(
            licenses[0]["license_verification_status"], "PENDING",
            "Yelp verifies, not the partner"
        );
        assert!(
            write(json!([{"license_number": "C3", "license_expiry_date": "2026-03-18"}])).is_err()
        );
        assert!(write(json!([{"license_number": "C3"}, {"license_number": "C3"}])).is_err());
    }

    #[test]
    fn a_write_that_leaves_fields_out_keeps_them() {
        let state = state();
        for program_type in [ProgramType::Portfolio, ProgramType::Vl, ProgramType::Cpc] {
            let program = state
                .programs()
                .into_iter()
                .find(|p| p.program_type == program_type)
                .expect("a program");
            // Every type but NEGATIVE_KEYWORD_TARGETING, whose blocked_keywords are required.
            let empty: Map<String, Value> = program
                .available_features
                .iter()
                .filter(|f| **f != FeatureType::NegativeKeywordTargeting)
                .map(|f| (f.as_str().to_owned(), json!({})))
                .collect();
            let before = shown(&state, &program);
            post(&state, &program, json!({ "features": empty })).expect("nothing to refuse");
            assert_eq!(shown(&state, &program), before, "{program_type}");
        }
    }

    #[test]
    fn highlights_are_written_with_business_highlights() {
        let state = state();
        let bh = state
            .programs()
            .into_iter()
            .find(|p| p.program_type == ProgramType::Bh)
            .expect("a BH program");
        post(
            &state,
            &bh,
            json!({"features": {"BUSINESS_HIGHLIGHTS": {"business_highlights": ["FAMILY_OWNED"]}}}),
        )
        .expect("valid");
        let shown_now = shown(&state, &bh);
        assert_eq!(
            shown_now["features"]["BUSINESS_HIGHLIGHTS"]["active_business_highlights"],
            json!(["FAMILY_OWNED"])
        );
        let refused = refusal(
            &state,
            &bh,
            json!({"BUSINESS_HIGHLIGHTS": {"business_highlights": ["FAMILY_OWNED", "LOCALLY_OWNED"]}}),
        );
        assert!(refused.contains("cannot hold both"), "{refused}");
        let refused = refusal(
            &state,
            &bh,
            json!({"BUSINESS_HIGHLIGHTS": {"business_highlights": ["BEST_IN_TOWN"]}}),
        );
        assert!(refused.contains("not an available highlight"), "{refused}");
    }
}
