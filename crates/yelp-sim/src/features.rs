//! Program features (contract §4.9): defaults, validation of writes, and the GET view.
//!
//! A program stores only the fields that were written; the view merges them over the defaults.

use fastrand::Rng;
use serde_json::{Map, Value, json};

use crate::model::{FeatureType, Program};

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
const LICENSE_STATUSES: &[&str] = &["PENDING", "VERIFIED", "REJECTED"];
const LOGO_EXTENSIONS: &[&str] = &[".jpeg", ".jpg", ".png", ".gif", ".tiff"];
const MAX_LOCATIONS: usize = 25;

/// Checked fields to write, per feature type.
pub(crate) type Updates = Vec<(FeatureType, Map<String, Value>)>;

/// A rejected feature write: 400 `{"error":{"id","description"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FeatureError {
    /// `UNSUPPORTED_FEATURE_TYPE` or `INVALID_FEATURE_DATA`.
    pub id: &'static str,
    /// What is wrong, naming the type and field.
    pub description: String,
}

fn invalid(description: impl Into<String>) -> FeatureError {
    FeatureError {
        id: "INVALID_FEATURE_DATA",
        description: description.into(),
    }
}

fn unsupported(description: impl Into<String>) -> FeatureError {
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
    Radius,
    AdGoal,
    LocationBusinesses,
    CallTrackingBusinesses,
    Highlights,
    Licenses,
    Projects,
    LogoUrl,
    /// Supplied by Yelp: accepted on write (clients echo GET back) and ignored.
    ReadOnly,
}

/// Fields of each feature type with their kind.
fn fields(ft: FeatureType) -> &'static [(&'static str, Kind)] {
    use Kind::*;
    match ft {
        FeatureType::LinkTracking => &[
            ("website", NullableString),
            ("menu", NullableString),
            ("call_to_action", NullableString),
        ],
        FeatureType::NegativeKeywordTargeting => &[
            ("blocked_keywords", StringArray),
            ("suggested_keywords", ReadOnly),
        ],
        FeatureType::StrictCategoryTargeting => &[("enabled", Bool)],
        FeatureType::AdScheduling => &[("uses_opening_hours", Bool)],
        FeatureType::CustomLocationTargeting => &[("businesses", LocationBusinesses)],
        FeatureType::AdGoal => &[("ad_goal", AdGoal)],
        FeatureType::CallTracking => &[("enabled", Bool), ("businesses", CallTrackingBusinesses)],
        FeatureType::BusinessHighlights => &[
            ("active_business_highlights", Highlights),
            ("available_business_highlights", ReadOnly),
            ("mutually_exclusive_business_highlights", ReadOnly),
        ],
        FeatureType::VerifiedLicense => &[("licenses", Licenses)],
        FeatureType::CustomRadiusTargeting => &[("custom_radius", Radius)],
        FeatureType::CustomAdText => &[
            ("custom_review_id", NullableString),
            ("custom_text", NullableString),
        ],
        FeatureType::CustomAdPhoto => &[("custom_photo_id", NullableString)],
        FeatureType::BusinessLogo => &[("business_logo_url", LogoUrl)],
        FeatureType::YelpPortfolio => &[("projects", Projects)],
    }
}

/// The fields of a feature that is off or was reset.
pub(crate) fn defaults(ft: FeatureType) -> Map<String, Value> {
    let mut map = Map::new();
    for (name, kind) in fields(ft) {
        let value = match kind {
            Kind::NullableString | Kind::Radius | Kind::LogoUrl => Value::Null,
            Kind::Bool => Value::Bool(false),
            Kind::AdGoal => json!("DEFAULT"),
            Kind::StringArray
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

/// `{"features": {TYPE: {"feature_type": TYPE, ...fields}}}` for every available type.
pub(crate) fn view(program: &Program) -> Value {
    let mut features = Map::new();
    for &ft in &program.available_features {
        let mut fields = Map::new();
        fields.insert("feature_type".to_owned(), json!(ft.as_str()));
        fields.extend(defaults(ft));
        if let Some(stored) = program.feature_settings.get(&ft) {
            fields.extend(stored.clone());
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

/// Checks a POST body and returns the fields to write per type. Nothing is changed here.
pub(crate) fn parse_update(program: &Program, body: &Value) -> Result<Updates, FeatureError> {
    let features = body
        .get("features")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("the body must be {\"features\": {TYPE: {...}}}"))?;
    let mut updates = Vec::with_capacity(features.len());
    for (name, data) in features {
        let ft = parse_type(program, name)?;
        let data = data
            .as_object()
            .ok_or_else(|| invalid(format!("{name} must be an object of fields")))?;
        updates.push((ft, check_fields(ft, data)?));
    }
    Ok(updates)
}

fn check_fields(
    ft: FeatureType,
    data: &Map<String, Value>,
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
        let Some((_, kind)) = spec.iter().find(|(name, _)| name == key) else {
            return Err(invalid(format!("{ft} has no field `{key}`")));
        };
        if matches!(kind, Kind::ReadOnly) {
            continue;
        }
        check_value(*kind, value).map_err(|why| invalid(format!("{ft}.{key} {why}")))?;
        out.insert(key.clone(), value.clone());
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

fn is_string_array(value: &Value) -> bool {
    value
        .as_array()
        .is_some_and(|items| items.iter().all(Value::is_string))
}

fn check_objects(
    value: &Value,
    check: impl Fn(&Map<String, Value>) -> Result<(), String>,
) -> Result<(), String> {
    let items = value.as_array().ok_or("must be an array")?;
    for (index, item) in items.iter().enumerate() {
        let object = item
            .as_object()
            .ok_or_else(|| format!("[{index}] must be an object"))?;
        check(object).map_err(|why| format!("[{index}].{why}"))?;
    }
    Ok(())
}

fn require_string(object: &Map<String, Value>, key: &str) -> Result<(), String> {
    match object.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(()),
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

fn check_value(kind: Kind, value: &Value) -> Result<(), String> {
    match kind {
        Kind::NullableString => match value {
            Value::Null | Value::String(_) => Ok(()),
            _ => Err("must be a string or null".into()),
        },
        Kind::Bool => value
            .is_boolean()
            .then_some(())
            .ok_or_else(|| "must be true or false".into()),
        Kind::StringArray => is_string_array(value)
            .then_some(())
            .ok_or_else(|| "must be an array of strings".into()),
        Kind::Radius => match value {
            Value::Null => Ok(()),
            Value::Number(n) if n.as_f64().is_some_and(|r| (1.0..=60.0).contains(&r)) => Ok(()),
            _ => Err("must be a number of miles from 1 to 60, or null".into()),
        },
        Kind::AdGoal => match value.as_str() {
            Some(goal) if AD_GOALS.contains(&goal) => Ok(()),
            _ => Err("must be DEFAULT, CALLS or WEBSITE_CLICKS".into()),
        },
        Kind::Highlights => {
            let items = value
                .as_array()
                .filter(|_| is_string_array(value))
                .ok_or("must be an array of strings")?;
            let names: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
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
            Ok(())
        }
        Kind::LocationBusinesses => check_objects(value, |object| {
            only_keys(object, &["business_id", "locations"])?;
            require_string(object, "business_id")?;
            let locations = object
                .get("locations")
                .filter(|v| is_string_array(v))
                .and_then(Value::as_array)
                .ok_or("locations must be an array of strings")?;
            if locations.len() > MAX_LOCATIONS {
                return Err(format!("locations holds more than {MAX_LOCATIONS} entries"));
            }
            Ok(())
        }),
        Kind::CallTrackingBusinesses => check_objects(value, |object| {
            only_keys(object, &["business_id", "metered_phone_number"])?;
            require_string(object, "business_id")?;
            optional_string(object, "metered_phone_number")
        }),
        Kind::Licenses => check_objects(value, |object| {
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
            match object.get("license_verification_status") {
                None => {}
                Some(Value::String(s)) if LICENSE_STATUSES.contains(&s.as_str()) => {}
                Some(_) => {
                    return Err(
                        "license_verification_status must be PENDING, VERIFIED or REJECTED".into(),
                    );
                }
            }
            match object.get("license_expiry_date") {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) if crate::params::parse_date(s).is_some() => {}
                Some(_) => return Err("license_expiry_date must be a YYYY-MM-DD date".into()),
            }
            optional_string(object, "license_trade")?;
            optional_string(object, "license_issuing_agency")?;
            optional_string(object, "license_verification_failure_reason")
        }),
        Kind::Projects => check_objects(value, |object| {
            only_keys(object, &["project_id", "published"])?;
            require_string(object, "project_id")?;
            match object.get("published") {
                Some(Value::Bool(_)) => Ok(()),
                _ => Err("published must be true or false".into()),
            }
        }),
        Kind::LogoUrl => match value {
            Value::Null => Ok(()),
            Value::String(url)
                if (url.starts_with("https://") || url.starts_with("http://"))
                    && LOGO_EXTENSIONS
                        .iter()
                        .any(|ext| url.to_ascii_lowercase().ends_with(ext)) =>
            {
                Ok(())
            }
            _ => Err(
                "must be a public http(s) URL of a .jpeg/.jpg/.png/.gif/.tiff image, or null"
                    .into(),
            ),
        },
        Kind::ReadOnly => Ok(()),
    }
}

/// Writes checked updates and switches their types on.
pub(crate) fn apply_update(program: &mut Program, updates: Updates) {
    for (ft, fields) in updates {
        program
            .feature_settings
            .entry(ft)
            .or_default()
            .extend(fields);
        activate(program, ft);
    }
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

/// Checks a DELETE body `{"features": [TYPE, ...]}` and returns the types to reset.
pub(crate) fn parse_delete(
    program: &Program,
    body: &Value,
) -> Result<Vec<FeatureType>, FeatureError> {
    let names = body
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("the body must be {\"features\": [TYPE, ...]}"))?;
    names
        .iter()
        .map(|name| {
            let name = name
                .as_str()
                .ok_or_else(|| invalid("features must hold feature type names"))?;
            parse_type(program, name)
        })
        .collect()
}

/// Resets the types to their defaults and switches them off.
pub(crate) fn apply_delete(program: &mut Program, types: &[FeatureType]) {
    for ft in types {
        program.feature_settings.remove(ft);
        program.active_features.retain(|f| f != ft);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NO_END, PauseStatus, ProgramStatus, ProgramType, available_features};
    use std::collections::BTreeMap;

    fn cpc() -> Program {
        Program {
            program_id: "p".into(),
            program_type: ProgramType::Cpc,
            program_status: ProgramStatus::Active,
            program_pause_status: PauseStatus::NotPaused,
            start_date: NO_END,
            end_date: NO_END,
            active_features: vec![],
            available_features: available_features(ProgramType::Cpc).to_vec(),
            ad_categories: vec![],
            ad_campaign_id: None,
            program_metrics: None,
            future_budget_changes: vec![],
            page_upgrade_info: None,
            yelp_business_id: "b".into(),
            partner_business_id: None,
            pacing_method: None,
            feature_settings: BTreeMap::new(),
        }
    }

    #[test]
    fn the_view_lists_every_available_type_with_defaults() {
        let view = view(&cpc());
        let features = view["features"].as_object().expect("object");
        assert_eq!(features.len(), available_features(ProgramType::Cpc).len());
        assert_eq!(view["features"]["AD_GOAL"]["ad_goal"], "DEFAULT");
        assert_eq!(
            view["features"]["CUSTOM_RADIUS_TARGETING"]["custom_radius"],
            Value::Null
        );
        assert_eq!(view["features"]["AD_GOAL"]["feature_type"], "AD_GOAL");
    }

    #[test]
    fn an_update_merges_fields_and_activates_the_type() {
        let mut program = cpc();
        let updates = parse_update(
            &program,
            &json!({"features": {"CUSTOM_RADIUS_TARGETING": {"custom_radius": 25}}}),
        )
        .expect("valid");
        apply_update(&mut program, updates);
        assert_eq!(
            program.active_features,
            vec![FeatureType::CustomRadiusTargeting]
        );
        assert_eq!(
            view(&program)["features"]["CUSTOM_RADIUS_TARGETING"]["custom_radius"],
            25
        );
        apply_delete(&mut program, &[FeatureType::CustomRadiusTargeting]);
        assert!(program.active_features.is_empty());
        assert_eq!(
            view(&program)["features"]["CUSTOM_RADIUS_TARGETING"]["custom_radius"],
            Value::Null
        );
    }

    #[test]
    fn invalid_data_is_refused_with_the_right_id() {
        let program = cpc();
        let refuse = |body: Value| parse_update(&program, &body).expect_err("refused").id;
        assert_eq!(
            refuse(json!({"features": {"CUSTOM_RADIUS_TARGETING": {"custom_radius": 61}}})),
            "INVALID_FEATURE_DATA"
        );
        assert_eq!(
            refuse(json!({"features": {"AD_GOAL": {"ad_goal": "SALES"}}})),
            "INVALID_FEATURE_DATA"
        );
        assert_eq!(
            refuse(json!({"features": {"NEGATIVE_KEYWORD_TARGETING": {"blocked_keywords": [1]}}})),
            "INVALID_FEATURE_DATA"
        );
        assert_eq!(
            refuse(
                json!({"features": {"CUSTOM_AD_TEXT": {"custom_review_id": "r", "custom_text": "t"}}})
            ),
            "INVALID_FEATURE_DATA"
        );
        assert_eq!(
            refuse(json!({"features": {"BUSINESS_LOGO": {"business_logo_url": null}}})),
            "UNSUPPORTED_FEATURE_TYPE"
        );
        assert_eq!(
            refuse(json!({"features": {"NOPE": {}}})),
            "UNSUPPORTED_FEATURE_TYPE"
        );
        assert_eq!(refuse(json!([1, 2])), "INVALID_FEATURE_DATA");
    }

    #[test]
    fn choosing_a_custom_text_clears_the_review() {
        let mut program = cpc();
        let first = parse_update(
            &program,
            &json!({"features": {"CUSTOM_AD_TEXT": {"custom_review_id": "r1"}}}),
        )
        .expect("valid");
        apply_update(&mut program, first);
        let second = parse_update(
            &program,
            &json!({"features": {"CUSTOM_AD_TEXT": {"custom_text": "Family owned since 1982."}}}),
        )
        .expect("valid");
        apply_update(&mut program, second);
        let text = &view(&program)["features"]["CUSTOM_AD_TEXT"];
        assert_eq!(text["custom_review_id"], Value::Null);
        assert_eq!(text["custom_text"], "Family owned since 1982.");
    }
}
