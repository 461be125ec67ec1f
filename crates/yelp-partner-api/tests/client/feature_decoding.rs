//! Property tests of the features reader and writer: typed features survive a round trip through Yelp's
//! JSON (by serde and through the client's GET), entries of unknown types and unreadable entries are kept
//! exactly as sent and never cost the others, and every change's body reads back as the same change.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use yelp_partner_api::{
    AdGoal, AdGoalSetting, AdScheduling, BusinessHighlights, BusinessId, BusinessLocations,
    BusinessLogo, CallTracking, CustomAdPhoto, CustomAdText, CustomLocationTargeting,
    CustomRadiusTargeting, Feature, FeatureChanges, FeatureEntry, FeatureType, License,
    LicenseStatus, LinkTracking, MeteredPhone, NegativeKeywordTargeting, ProgramFeatures,
    ProgramId, ProjectId, ProjectState, ServiceOfferingsTargeting, StrictCategoryTargeting,
    VerifiedLicense, YelpPortfolio,
};

use crate::fuzz::Stub;

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

fn text() -> impl Strategy<Value = String> {
    ".{0,12}"
}

fn texts() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(text(), 0..4)
}

fn maybe_text() -> impl Strategy<Value = Option<String>> {
    prop::option::of(text())
}

fn business() -> impl Strategy<Value = BusinessId> {
    "[A-Za-z0-9_-]{22}".prop_map(BusinessId::from_yelp)
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (0u64..40_000).prop_map(|d| NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + Days::new(d))
}

fn ad_goal() -> impl Strategy<Value = AdGoal> {
    prop_oneof![
        prop::sample::select(AdGoal::KNOWN.to_vec()),
        "[A-Z_]{1,10}".prop_map(|s| AdGoal::from_wire(&s)),
    ]
}

fn license() -> impl Strategy<Value = License> {
    let status = prop::option::of(prop_oneof![
        prop::sample::select(LicenseStatus::KNOWN.to_vec()),
        "[A-Z]{1,8}".prop_map(|s| LicenseStatus::from_wire(&s)),
    ]);
    (
        text(),
        status,
        prop::option::of(date()),
        maybe_text(),
        maybe_text(),
        maybe_text(),
    )
        .prop_map(|(number, status, expiry, trade, agency, reason)| License {
            license_number: number,
            license_verification_status: status,
            license_expiry_date: expiry,
            license_trade: trade,
            license_issuing_agency: agency,
            license_verification_failure_reason: reason,
        })
}

fn radius() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        Just(None),
        (1u32..=60).prop_map(|m| Some(f64::from(m))),
        (0.0f64..100.0).prop_map(Some),
    ]
}

/// Any feature of any of the fifteen types, with arbitrary settings.
fn feature() -> BoxedStrategy<Feature> {
    prop_oneof![
        (maybe_text(), maybe_text(), maybe_text()).prop_map(|(website, menu, call_to_action)| {
            LinkTracking {
                website,
                menu,
                call_to_action,
            }
            .into()
        }),
        (texts(), texts()).prop_map(|(blocked_keywords, suggested_keywords)| {
            NegativeKeywordTargeting {
                blocked_keywords,
                suggested_keywords,
            }
            .into()
        }),
        any::<bool>().prop_map(|enabled| StrictCategoryTargeting { enabled }.into()),
        any::<bool>().prop_map(|uses_opening_hours| AdScheduling { uses_opening_hours }.into()),
        prop::collection::vec((business(), texts()), 0..3).prop_map(|businesses| {
            CustomLocationTargeting {
                businesses: businesses
                    .into_iter()
                    .map(|(business_id, locations)| BusinessLocations {
                        business_id,
                        locations,
                    })
                    .collect(),
            }
            .into()
        }),
        ad_goal().prop_map(|ad_goal| AdGoalSetting { ad_goal }.into()),
        (
            any::<bool>(),
            prop::collection::vec((business(), maybe_text()), 0..3)
        )
            .prop_map(|(enabled, businesses)| {
                CallTracking {
                    enabled,
                    businesses: businesses
                        .into_iter()
                        .map(|(business_id, metered_phone_number)| MeteredPhone {
                            business_id,
                            metered_phone_number,
                        })
                        .collect(),
                }
                .into()
            }),
        (texts(), texts()).prop_map(|(disabled_service_offerings, enabled_service_offerings)| {
            ServiceOfferingsTargeting {
                disabled_service_offerings,
                enabled_service_offerings,
            }
            .into()
        }),
        (texts(), texts(), prop::collection::vec(texts(), 0..3)).prop_map(
            |(active, available, exclusive)| {
                BusinessHighlights {
                    active_business_highlights: active,
                    available_business_highlights: available,
                    mutually_exclusive_business_highlights: exclusive,
                }
                .into()
            }
        ),
        prop::collection::vec(license(), 0..3)
            .prop_map(|licenses| VerifiedLicense { licenses }.into()),
        radius().prop_map(|custom_radius| CustomRadiusTargeting { custom_radius }.into()),
        (maybe_text(), maybe_text()).prop_map(|(custom_review_id, custom_text)| {
            CustomAdText {
                custom_review_id,
                custom_text,
            }
            .into()
        }),
        maybe_text().prop_map(|custom_photo_id| CustomAdPhoto { custom_photo_id }.into()),
        maybe_text().prop_map(|business_logo_url| BusinessLogo { business_logo_url }.into()),
        prop::collection::vec(("[A-Za-z0-9]{1,22}", any::<bool>()), 0..3).prop_map(|projects| {
            YelpPortfolio {
                projects: projects
                    .into_iter()
                    .map(|(id, published)| ProjectState {
                        project_id: ProjectId::from_yelp(id),
                        published,
                    })
                    .collect(),
            }
            .into()
        }),
    ]
    .boxed()
}

/// A JSON value without objects' deep nesting, for raw entries.
fn raw_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Entries of known types that cannot be read: not an object, or a field of the wrong type.
fn unreadable() -> impl Strategy<Value = (String, Value)> {
    let known = prop::sample::select(
        FeatureType::KNOWN
            .iter()
            .map(|t| t.as_str().to_owned())
            .collect::<Vec<_>>(),
    );
    let not_an_object = prop_oneof![
        any::<i64>().prop_map(Value::from),
        text().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        prop::collection::vec(any::<i64>().prop_map(Value::from), 0..3).prop_map(Value::Array),
    ];
    let bad_fields = prop::sample::select(vec![
        ("STRICT_CATEGORY_TARGETING", json!({"enabled": "yes"})),
        ("CUSTOM_RADIUS_TARGETING", json!({"custom_radius": "far"})),
        (
            "VERIFIED_LICENSE",
            json!({"licenses": [{"license_trade": "Plumbing"}]}),
        ),
        ("CALL_TRACKING", json!({"businesses": [{}]})),
        ("AD_GOAL", json!({"ad_goal": 3})),
        ("LINK_TRACKING", json!({"website": 1})),
        ("YELP_PORTFOLIO", json!({"projects": {"p": true}})),
    ])
    .prop_map(|(t, v)| (t.to_owned(), v));
    prop_oneof![(known, not_an_object), bad_fields]
}

/// What a decoded body must hold under one key.
#[derive(Debug)]
enum Expect {
    Known(Feature),
    Unknown(Value),
    Malformed(Value),
}

/// A Yelp body built from typed features, unknown types and unreadable entries (later ones win a key).
fn body() -> impl Strategy<Value = (Value, BTreeMap<String, Expect>)> {
    let unknown = ("X_[A-Z_]{1,10}", raw_value());
    (
        prop::collection::vec(feature(), 0..8),
        prop::collection::vec(unknown, 0..3),
        prop::collection::vec(unreadable(), 0..3),
    )
        .prop_map(|(features, unknown, unreadable)| {
            let mut expected = BTreeMap::new();
            let mut typed = ProgramFeatures::new();
            for feature in features {
                expected.insert(
                    feature.feature_type().as_str().to_owned(),
                    Expect::Known(feature.clone()),
                );
                typed.insert(feature);
            }
            let mut body = typed.to_json();
            let map = body["features"].as_object_mut().unwrap();
            for (key, value) in unknown {
                map.insert(key.clone(), value.clone());
                expected.insert(key, Expect::Unknown(value));
            }
            for (key, value) in unreadable {
                map.insert(key.clone(), value.clone());
                expected.insert(key, Expect::Malformed(value));
            }
            (body, expected)
        })
}

fn check_decoded(
    decoded: &ProgramFeatures,
    body: &Value,
    expected: &BTreeMap<String, Expect>,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(decoded.len(), expected.len(), "no entry dropped");
    for (key, want) in expected {
        let entry = decoded.entry(&FeatureType::from_wire(key));
        match (want, entry) {
            (Expect::Known(f), Some(FeatureEntry::Known(got))) => prop_assert_eq!(got, f),
            (Expect::Unknown(v), Some(FeatureEntry::Unknown(got))) => prop_assert_eq!(got, v),
            (Expect::Malformed(v), Some(FeatureEntry::Malformed { value, reason })) => {
                prop_assert_eq!(value, v);
                prop_assert!(!reason.is_empty());
            }
            (want, got) => prop_assert!(false, "{key}: wanted {want:?}, got {got:?}"),
        }
    }
    prop_assert_eq!(&decoded.to_json(), body, "written back exactly as read");
    let by_serde: ProgramFeatures =
        serde_json::from_value(serde_json::to_value(decoded).unwrap()).unwrap();
    prop_assert_eq!(&by_serde, decoded);
    Ok(())
}

#[test]
fn features_round_trip_and_unknown_or_unreadable_entries_are_kept_as_sent() {
    TestRunner::new(config(256))
        .run(&body(), |(body, expected)| {
            let decoded = ProgramFeatures::from_json(body.clone()).unwrap();
            check_decoded(&decoded, &body, &expected)
        })
        .unwrap();
}

#[test]
fn the_clients_get_decodes_what_yelp_sent_the_same_way() {
    let stub = Stub::start();
    let program = ProgramId::from_yelp("Qx7Lm2VbT0aZpR9sYc4kWg");
    TestRunner::new(config(64))
        .run(&body(), |(body, expected)| {
            stub.answer(200, body.to_string().into_bytes());
            let got = stub
                .runtime
                .block_on(stub.client.program_features(&program))
                .unwrap();
            check_decoded(&got, &body, &expected)
        })
        .unwrap();
}

#[test]
fn a_changes_body_reads_back_as_the_same_change() {
    TestRunner::new(config(256))
        .run(&prop::collection::vec(feature(), 1..8), |features| {
            let changes: FeatureChanges = features.into_iter().collect();
            let body = changes.body();
            for entry in body["features"].as_object().unwrap().values() {
                prop_assert!(entry.get("feature_type").is_none());
            }
            let read = ProgramFeatures::from_json(body).unwrap();
            prop_assert_eq!(read.len(), changes.len());
            for change in changes.iter() {
                let held = read.feature(&change.feature_type());
                prop_assert_eq!(held.map(Feature::write_fields), Some(change.write_fields()));
            }
            prop_assert_eq!(changes.not_held_by(&read), Vec::<FeatureType>::new());
            Ok(())
        })
        .unwrap();
}
