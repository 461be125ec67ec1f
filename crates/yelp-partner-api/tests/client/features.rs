//! Program features and portfolio projects against the simulator: every feature type written and read
//! back typed, Yelp's refusals readable, writes sent once and read back when unanswered.

use chrono::NaiveDate;
use serde_json::{Value, json};
use yelp_partner_api::{
    AdGoal, AdGoalSetting, AdScheduling, BusinessHighlights, BusinessId, BusinessLocations,
    BusinessLogo, CallTracking, CustomAdPhoto, CustomAdText, CustomLocationTargeting,
    CustomRadiusTargeting, Error, Feature, FeatureChanges, FeatureType, FeatureWrite, License,
    LicenseStatus, LinkTracking, MeteredPhone, NegativeKeywordTargeting, NewPhoto, PhotoSource,
    ProgramFeatures, ProgramId, ProjectCost, ProjectDetails, ProjectId, ProjectState,
    ServiceOfferingsTargeting, StrictCategoryTargeting, VerifiedLicense, YelpPortfolio,
};

use crate::helpers::TestSim;

const POST: &str = "POST /program/{program_id}/features/v1";
const DELETE: &str = "DELETE /program/{program_id}/features/v1";
const GET: &str = "GET /program/{program_id}/features/v1";

/// The id and business of the first program of `program_type`, with every feature it has reset.
async fn program_of(sim: &TestSim, program_type: &str) -> (ProgramId, BusinessId) {
    let program = sim
        .find_program(|p| p["program_type"] == program_type)
        .await;
    let id = ProgramId::parse(program["program_id"].as_str().unwrap()).unwrap();
    let business = BusinessId::parse(program["yelp_business_id"].as_str().unwrap()).unwrap();
    let available: Vec<FeatureType> =
        serde_json::from_value(program["available_features"].clone()).unwrap();
    let reset = sim
        .client()
        .delete_program_features(&id, &available)
        .await
        .unwrap();
    assert!(reset.was_answered());
    (id, business)
}

fn answered(write: FeatureWrite) -> ProgramFeatures {
    match write {
        FeatureWrite::Answered(features) => features,
        other => panic!("the write was not answered: {other:?}"),
    }
}

async fn write(sim: &TestSim, id: &ProgramId, feature: impl Into<Feature>) -> ProgramFeatures {
    let changes = FeatureChanges::new().with(feature);
    let held = answered(
        sim.client()
            .update_program_features(id, &changes)
            .await
            .unwrap(),
    );
    assert_eq!(changes.not_held_by(&held), [], "{held:?}");
    held
}

#[tokio::test]
async fn every_feature_type_of_a_cpc_program_is_written_and_read_back_typed() {
    let sim = TestSim::start(100).await;
    let client = sim.client();
    let (id, business) = program_of(&sim, "CPC").await;

    write(
        &sim,
        &id,
        LinkTracking {
            website: Some("utm_source=yelp&utm_campaign=spring".into()),
            menu: Some("https://example.com/menu?utm_source=yelp".into()),
            call_to_action: None,
        },
    )
    .await;
    write(
        &sim,
        &id,
        NegativeKeywordTargeting {
            blocked_keywords: vec!["free".into(), "diy".into()],
            suggested_keywords: vec![],
        },
    )
    .await;
    write(&sim, &id, StrictCategoryTargeting { enabled: true }).await;
    write(
        &sim,
        &id,
        AdScheduling {
            uses_opening_hours: true,
        },
    )
    .await;
    write(
        &sim,
        &id,
        CallTracking {
            enabled: true,
            businesses: vec![MeteredPhone {
                business_id: business.clone(),
                metered_phone_number: Some("+14155550100".into()),
            }],
        },
    )
    .await;
    write(
        &sim,
        &id,
        AdGoalSetting {
            ad_goal: AdGoal::Calls,
        },
    )
    .await;
    write(
        &sim,
        &id,
        CustomRadiusTargeting {
            custom_radius: Some(25.0),
        },
    )
    .await;
    write(
        &sim,
        &id,
        CustomAdText {
            custom_review_id: None,
            custom_text: Some("Family owned plumbers since 1982.".into()),
        },
    )
    .await;
    write(
        &sim,
        &id,
        CustomAdPhoto {
            custom_photo_id: Some("ph0t0".into()),
        },
    )
    .await;
    write(
        &sim,
        &id,
        ServiceOfferingsTargeting {
            disabled_service_offerings: vec!["pools".into()],
            enabled_service_offerings: vec!["drains".into()],
        },
    )
    .await;
    // Locations exclude a radius: switch it off in the same write. Yelp normalises what it is sent.
    let changes = FeatureChanges::new()
        .with(CustomRadiusTargeting {
            custom_radius: None,
        })
        .with(CustomLocationTargeting {
            businesses: vec![BusinessLocations {
                business_id: business.clone(),
                locations: vec!["  Oakland,   CA ".into(), "94110".into()],
            }],
        });
    let held = answered(client.update_program_features(&id, &changes).await.unwrap());
    assert_eq!(
        held.get::<CustomLocationTargeting>().unwrap().businesses[0].locations,
        ["Oakland, CA", "94110"]
    );
    assert_eq!(
        changes.not_held_by(&held),
        [FeatureType::CustomLocationTargeting],
        "what Yelp holds, not what was sent"
    );

    let read = client.program_features(&id).await.unwrap();
    assert_eq!(read, held, "a GET shows what the last write answered");
    assert_eq!(read.get::<AdGoalSetting>().unwrap().ad_goal, AdGoal::Calls);
    assert_eq!(
        read.get::<NegativeKeywordTargeting>()
            .unwrap()
            .blocked_keywords,
        ["free", "diy"]
    );
    assert_eq!(
        read.get::<CustomAdText>().unwrap().custom_text.as_deref(),
        Some("Family owned plumbers since 1982.")
    );
    assert!(
        read.entries()
            .all(|(_, e)| matches!(e, yelp_partner_api::FeatureEntry::Known(_)))
    );
    let info = client.program_info(&id).await.unwrap().program;
    for ft in [
        FeatureType::LinkTracking,
        FeatureType::AdGoal,
        FeatureType::CustomLocationTargeting,
        FeatureType::ServiceOfferingsTargeting,
    ] {
        assert!(info.active_features.contains(&ft), "{ft} is active");
    }

    let removed = answered(
        client
            .delete_program_features(&id, &[FeatureType::CustomLocationTargeting])
            .await
            .unwrap(),
    );
    assert_eq!(
        removed.get::<CustomLocationTargeting>(),
        Some(&CustomLocationTargeting::default())
    );
    let info = client.program_info(&id).await.unwrap().program;
    assert!(
        !info
            .active_features
            .contains(&FeatureType::CustomLocationTargeting)
    );
}

#[tokio::test]
async fn the_single_feature_types_are_written_and_read_back_typed() {
    let sim = TestSim::start(200).await;
    let client = sim.client();

    let (bh, _) = program_of(&sim, "BH").await;
    let held = write(
        &sim,
        &bh,
        BusinessHighlights {
            active_business_highlights: vec!["WOMEN_OWNED".into()],
            ..BusinessHighlights::default()
        },
    )
    .await;
    let highlights = held.get::<BusinessHighlights>().unwrap();
    assert!(
        highlights
            .available_business_highlights
            .contains(&"FAMILY_OWNED".to_owned())
    );
    assert!(!highlights.mutually_exclusive_business_highlights.is_empty());

    let (vl, _) = program_of(&sim, "VL").await;
    let license = |number: &str| License {
        license_number: number.into(),
        license_expiry_date: NaiveDate::from_ymd_opt(2099, 1, 31),
        license_trade: Some("Plumbing".into()),
        ..License::default()
    };
    write(
        &sim,
        &vl,
        VerifiedLicense {
            licenses: vec![license("C-36 100200")],
        },
    )
    .await;
    let held = write(
        &sim,
        &vl,
        VerifiedLicense {
            licenses: vec![license("C-10 300400")],
        },
    )
    .await;
    let licenses = &held.get::<VerifiedLicense>().unwrap().licenses;
    assert_eq!(
        licenses.len(),
        2,
        "a POST adds by number and keeps the others"
    );
    assert!(
        licenses
            .iter()
            .all(|l| l.license_verification_status == Some(LicenseStatus::Pending))
    );

    let (logo, _) = program_of(&sim, "LOGO").await;
    write(
        &sim,
        &logo,
        BusinessLogo {
            business_logo_url: Some("https://cdn.example.com/acme/logo.png".into()),
        },
    )
    .await;

    let (portfolio, _) = program_of(&sim, "PORTFOLIO").await;
    let project = client.create_portfolio_project(&portfolio).await.unwrap();
    let held = write(
        &sim,
        &portfolio,
        YelpPortfolio {
            projects: vec![ProjectState {
                project_id: project.clone(),
                published: true,
            }],
        },
    )
    .await;
    assert_eq!(held.get::<YelpPortfolio>().unwrap().projects.len(), 1);
    let read = client
        .portfolio_project(&portfolio, &project)
        .await
        .unwrap();
    assert_eq!(read.details.published, Some(true));
}

#[tokio::test]
async fn yelps_refusals_come_back_readable_and_are_not_read_back() {
    let sim = TestSim::start(100).await;
    let client = sim.client();
    let (id, business) = program_of(&sim, "CPC").await;

    // A rule the client side checks too, and one only Yelp can: the ad goal's tracking.
    let cases = [
        (
            Feature::from(CustomRadiusTargeting {
                custom_radius: Some(61.0),
            }),
            "CUSTOM_RADIUS_TARGETING.custom_radius",
        ),
        (
            AdGoalSetting {
                ad_goal: AdGoal::Calls,
            }
            .into(),
            "needs CALL_TRACKING enabled",
        ),
    ];
    for (feature, named) in cases {
        let err = client
            .update_program_features(&id, &FeatureChanges::new().with(feature))
            .await
            .unwrap_err();
        match &err {
            Error::Rejected {
                status: 400,
                id: Some(code),
                description,
            } => {
                assert_eq!(code, "INVALID_FEATURE_DATA");
                assert!(description.contains(named), "{description}");
            }
            other => panic!("{other:?}"),
        }
    }

    // 25 custom locations per business, counted across its programs: only Yelp sees the other program.
    let other = sim
        .send(
            reqwest::Method::POST,
            "/_sim/programs",
            json!({"count": 1, "business_id": business, "program_type": "CPC"}),
        )
        .await["program_ids"][0]
        .as_str()
        .map(ProgramId::from_yelp)
        .unwrap();
    client
        .delete_program_features(&other, &[FeatureType::CustomRadiusTargeting])
        .await
        .unwrap();
    let locations = |range: std::ops::Range<u32>| CustomLocationTargeting {
        businesses: vec![BusinessLocations {
            business_id: business.clone(),
            locations: range.map(|i| format!("9{i:04}")).collect(),
        }],
    };
    write(&sim, &id, locations(0..20)).await;
    let err = client
        .update_program_features(&other, &FeatureChanges::new().with(locations(20..26)))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("across its programs"),
        "a readable Yelp error: {err}"
    );
    assert_eq!(
        sim.requests(GET).await,
        0,
        "a refusal is an answer: nothing read back"
    );
}

#[tokio::test]
async fn an_unanswered_write_is_not_resent_but_read_back() {
    let sim = TestSim::start(100).await;
    let client = sim.client();
    let (id, _) = program_of(&sim, "CPC").await;
    sim.send(reqwest::Method::DELETE, "/_sim/stats", json!({}))
        .await;

    sim.set_faults(json!({"lose_answer_rate": 1.0})).await;
    let changes = FeatureChanges::new().with(CustomRadiusTargeting {
        custom_radius: Some(40.0),
    });
    match client.update_program_features(&id, &changes).await.unwrap() {
        FeatureWrite::ReadBack {
            features,
            unanswered,
        } => {
            assert!(
                matches!(unanswered, Error::Server { status: 504 }),
                "{unanswered:?}"
            );
            assert_eq!(changes.not_held_by(&features), [], "Yelp made the change");
        }
        other => panic!("{other:?}"),
    }
    let deleted = client
        .delete_program_features(&id, &[FeatureType::CustomRadiusTargeting])
        .await
        .unwrap();
    assert!(!deleted.was_answered());
    assert_eq!(
        deleted.features().get::<CustomRadiusTargeting>(),
        Some(&CustomRadiusTargeting::default())
    );
    assert_eq!(
        (sim.requests(POST).await, sim.requests(DELETE).await),
        (1, 1)
    );
    assert_eq!(sim.requests(GET).await, 2, "one read back each");

    // Yelp failing outright: the write once, the read back retried, and the write's own error.
    sim.set_faults(json!({"lose_answer_rate": 0.0, "error_rate": 1.0}))
        .await;
    let err = client
        .update_program_features(&id, &changes)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Server { .. }), "{err:?}");
    assert_eq!(sim.requests(POST).await, 2, "never retried");
    assert_eq!(
        sim.requests(GET).await,
        2 + 6,
        "reads retried (6 attempts here)"
    );
}

#[tokio::test]
async fn portfolio_projects_are_made_filled_photographed_and_removed() {
    let sim = TestSim::start(200).await;
    let client = sim.client();
    let (program, _) = program_of(&sim, "PORTFOLIO").await;
    let project = client.create_portfolio_project(&program).await.unwrap();
    let details = ProjectDetails {
        name: Some("Kitchen remodel".into()),
        cost: Some(ProjectCost::From1000To5000),
        service_offerings: Some(vec!["cabinets".into(), "tiling".into()]),
        completion_year: Some(2024),
        completion_month: Some(6),
        ..ProjectDetails::default()
    };
    let updated = client
        .update_portfolio_project(&program, &project, &details)
        .await
        .unwrap();
    assert_eq!(updated.project_id, project);
    assert_eq!(updated.details.name.as_deref(), Some("Kitchen remodel"));
    assert_eq!(updated.details.published, Some(false));
    let read = client.portfolio_project(&program, &project).await.unwrap();
    assert_eq!(read, updated);

    let too_many = ProjectDetails {
        service_offerings: Some((0..5).map(|i| format!("s{i}")).collect()),
        ..ProjectDetails::default()
    };
    let err = client
        .update_portfolio_project(&program, &project, &too_many)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("service_offerings"), "{err}");

    let photo = client
        .add_portfolio_photo(
            &program,
            &project,
            &NewPhoto {
                source: PhotoSource::Url("https://img.example.com/after.jpg".into()),
                caption: Some("After".into()),
                is_before_photo: false,
            },
        )
        .await
        .unwrap();
    let photos = client.portfolio_photos(&program, &project).await.unwrap();
    assert_eq!(photos.len(), 1);
    assert_eq!(photos[0].photo_id, photo);
    assert!(photos[0].is_cover_photo);
    client
        .delete_portfolio_photo(&program, &project, &photo)
        .await
        .unwrap();
    assert!(
        client
            .portfolio_photos(&program, &project)
            .await
            .unwrap()
            .is_empty()
    );

    client
        .delete_portfolio_project(&program, &project)
        .await
        .unwrap();
    let err = client
        .portfolio_project(&program, &project)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let err = client
        .delete_portfolio_project(&program, &ProjectId::from_yelp("nope"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn an_empty_change_is_refused_before_sending() {
    let sim = TestSim::start(5).await;
    let id = ProgramId::from_yelp("Qx7Lm2VbT0aZpR9sYc4kWg");
    let client = sim.client();
    let empty = client
        .update_program_features(&id, &FeatureChanges::new())
        .await
        .unwrap_err();
    assert!(matches!(empty, Error::InvalidRequest(_)), "{empty:?}");
    let none = client.delete_program_features(&id, &[]).await.unwrap_err();
    assert!(matches!(none, Error::InvalidRequest(_)), "{none:?}");
    let stats: Value = sim.get("/_sim/stats").await;
    assert_eq!(stats["requests"], json!({}));
}
