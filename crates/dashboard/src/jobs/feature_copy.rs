//! A duplicate's last steps: once Yelp has made the new program, the source's features are copied to it,
//! one feature type a step, link and call tracking first and the ad goal (which needs them) last. Each step
//! is recorded before it is sent and never sent twice: a step an earlier run left unfinished is read back
//! from Yelp instead. A step that fails leaves the new program in place and says why.

use yelp_partner_api::{
    Client, Feature, FeatureChanges, FeatureType, FeatureWrite, Program, ProgramFeatures, ProgramId,
};

use crate::error::Result;
use crate::store::{JobRecord, JobStep, StepState, Store, StoredProgram, now_ms};

/// Features that belong to the program they are on and are not copied: portfolio projects, licenses
/// (verified for the program), and the deprecated service offerings.
const NOT_COPIED: [FeatureType; 3] = [
    FeatureType::YelpPortfolio,
    FeatureType::VerifiedLicense,
    FeatureType::ServiceOfferingsTargeting,
];

/// The copies to make, in order: the source's switched-on features that the new program offers, link
/// and call tracking first, the ad goal last.
pub(super) fn plan(
    source: &ProgramFeatures,
    source_active: &[FeatureType],
    offered: &ProgramFeatures,
) -> Vec<Feature> {
    let rank = |t: &FeatureType| match t {
        FeatureType::LinkTracking => 0,
        FeatureType::CallTracking => 1,
        FeatureType::AdGoal => 3,
        _ => 2,
    };
    let mut copies: Vec<Feature> = source_active
        .iter()
        .filter(|t| !NOT_COPIED.contains(t) && offered.entry(t).is_some())
        .filter_map(|t| source.feature(t).cloned())
        .collect();
    // Stable: within a rank, the order Yelp lists them in.
    copies.sort_by_key(|f| rank(&f.feature_type()));
    copies
}

/// Copies `source`'s features to `new_program`, recording each step on `job`. An error is a read that
/// failed (the source's or the new program's features), which the watcher tries again later; the steps
/// already taken are not taken again.
pub(super) async fn copy_features(
    store: &Store,
    client: &Client,
    job: &JobRecord,
    source: &StoredProgram,
    new_program: &ProgramId,
) -> Result<()> {
    let source_id = ProgramId::from_yelp(source.program_id.clone());
    let source_active = serde_json::from_str::<Program>(&source.raw)
        .map(|p| p.active_features)
        .unwrap_or_default();
    if source_active.iter().all(|t| NOT_COPIED.contains(t)) {
        return Ok(());
    }
    let source_features = client.program_features(&source_id).await?;
    let offered = client.program_features(new_program).await?;
    let taken = store.job_steps(&job.id).await?;
    for (position, feature) in plan(&source_features, &source_active, &offered)
        .into_iter()
        .enumerate()
    {
        let feature_type = feature.feature_type();
        let change = FeatureChanges::new().with(feature);
        match taken
            .iter()
            .find(|s| s.feature_type == feature_type.as_str())
        {
            Some(JobStep {
                state: StepState::Sending,
                ..
            }) => {
                // An earlier run stopped while sending it: what Yelp holds tells, nothing is sent again.
                let held = client.program_features(new_program).await?;
                let (state, message) = if change.not_held_by(&held).is_empty() {
                    (StepState::Copied, None)
                } else {
                    (
                        StepState::Failed,
                        Some(
                            "It may not have reached Yelp, and Yelp does not show it: set it on the features page",
                        ),
                    )
                };
                store
                    .end_job_step(&job.id, feature_type.as_str(), state, message, now_ms())
                    .await?;
                continue;
            }
            Some(_) => continue,
            None => {}
        }
        let position = i64::try_from(position).unwrap_or(i64::MAX);
        if !store
            .begin_job_step(&job.id, feature_type.as_str(), position, now_ms())
            .await?
        {
            // Another watcher took this step.
            continue;
        }
        let (state, message) = match client.update_program_features(new_program, &change).await {
            Ok(FeatureWrite::Answered(_)) => (StepState::Copied, None),
            Ok(FeatureWrite::ReadBack { features, .. })
                if change.not_held_by(&features).is_empty() =>
            {
                (StepState::Copied, None)
            }
            Ok(FeatureWrite::ReadBack { .. }) => (
                StepState::Failed,
                Some("Yelp did not answer and does not show it; it was not sent again".to_owned()),
            ),
            Err(yelp_partner_api::Error::Rejected { description, .. }) => (
                StepState::Failed,
                Some(format!("Yelp refused it: {description}")),
            ),
            Err(e) => (StepState::Failed, Some(format!("Not copied: {e}"))),
        };
        tracing::info!(
            feature_type = feature_type.as_str(),
            state = state.as_str(),
            "feature copied"
        );
        store
            .end_job_step(
                &job.id,
                feature_type.as_str(),
                state,
                message.as_deref(),
                now_ms(),
            )
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn features(body: serde_json::Value) -> ProgramFeatures {
        ProgramFeatures::from_json(body).unwrap()
    }

    #[test]
    fn tracking_is_copied_first_the_ad_goal_last_and_program_bound_features_not_at_all() {
        let source = features(json!({"features": {
            "AD_GOAL": {"ad_goal": "CALLS"},
            "CUSTOM_RADIUS_TARGETING": {"custom_radius": 20},
            "CALL_TRACKING": {"enabled": true},
            "LINK_TRACKING": {"website": "utm_source=yelp"},
            "VERIFIED_LICENSE": {"licenses": []},
            "STRICT_CATEGORY_TARGETING": {"enabled": true}
        }}));
        let active = [
            FeatureType::AdGoal,
            FeatureType::CustomRadiusTargeting,
            FeatureType::CallTracking,
            FeatureType::LinkTracking,
            FeatureType::VerifiedLicense,
            FeatureType::StrictCategoryTargeting,
        ];
        // The new program does not offer strict category targeting.
        let offered = features(json!({"features": {
            "AD_GOAL": {}, "CUSTOM_RADIUS_TARGETING": {}, "CALL_TRACKING": {}, "LINK_TRACKING": {},
            "VERIFIED_LICENSE": {}
        }}));
        let order: Vec<FeatureType> = plan(&source, &active, &offered)
            .iter()
            .map(Feature::feature_type)
            .collect();
        assert_eq!(
            order,
            [
                FeatureType::LinkTracking,
                FeatureType::CallTracking,
                FeatureType::CustomRadiusTargeting,
                FeatureType::AdGoal
            ]
        );
    }
}
