//! A feature's settings in words, for screens: "25 miles", "Blocked: free, cheap". Pure.

use yelp_partner_api::{AdGoal, Feature};

/// What `feature` is set to, in a line; `None` when it is off or holds nothing.
pub fn setting(feature: &Feature) -> Option<String> {
    let list = |items: &[String]| (!items.is_empty()).then(|| items.join(", "));
    match feature {
        Feature::LinkTracking(f) => {
            let links: Vec<String> = [
                ("website", &f.website),
                ("menu", &f.menu),
                ("call to action", &f.call_to_action),
            ]
            .into_iter()
            .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name} {v}")))
            .collect();
            (!links.is_empty()).then(|| format!("Tracking on {}", links.join("; ")))
        }
        Feature::NegativeKeywordTargeting(f) => {
            list(&f.blocked_keywords).map(|k| format!("Blocked: {k}"))
        }
        Feature::StrictCategoryTargeting(f) => f.enabled.then(|| "On".to_owned()),
        Feature::AdScheduling(f) => f
            .uses_opening_hours
            .then(|| "Only while the business is open".to_owned()),
        Feature::CustomLocationTargeting(f) => {
            let locations: Vec<String> = f
                .businesses
                .iter()
                .flat_map(|b| b.locations.iter().cloned())
                .collect();
            list(&locations)
        }
        Feature::AdGoal(f) => Some(
            match &f.ad_goal {
                AdGoal::Default => "Yelp's choice",
                AdGoal::Calls => "Calls",
                AdGoal::WebsiteClicks => "Website clicks",
                AdGoal::Other(other) => other,
            }
            .to_owned(),
        ),
        Feature::CallTracking(f) => f.enabled.then(|| {
            let numbers: Vec<&str> = f
                .businesses
                .iter()
                .filter_map(|b| b.metered_phone_number.as_deref())
                .collect();
            if numbers.is_empty() {
                "On".to_owned()
            } else {
                format!("On, calls to {}", numbers.join(", "))
            }
        }),
        Feature::ServiceOfferingsTargeting(f) => {
            let parts: Vec<String> = [
                ("enabled", &f.enabled_service_offerings),
                ("disabled", &f.disabled_service_offerings),
            ]
            .into_iter()
            .filter_map(|(name, items)| list(items).map(|l| format!("{name}: {l}")))
            .collect();
            (!parts.is_empty()).then(|| parts.join("; "))
        }
        Feature::BusinessHighlights(f) => list(&f.active_business_highlights),
        Feature::VerifiedLicense(f) => {
            let licenses: Vec<String> = f
                .licenses
                .iter()
                .map(|l| match &l.license_verification_status {
                    Some(status) => format!("{} ({status})", l.license_number),
                    None => l.license_number.clone(),
                })
                .collect();
            list(&licenses)
        }
        Feature::CustomRadiusTargeting(f) => f.custom_radius.map(|miles| {
            if miles == 1.0 {
                "1 mile".to_owned()
            } else {
                format!("{miles} miles")
            }
        }),
        Feature::CustomAdText(f) => match (&f.custom_text, &f.custom_review_id) {
            (Some(text), _) => Some(format!("“{text}”")),
            (None, Some(review)) => Some(format!("The text of review {review}")),
            (None, None) => None,
        },
        Feature::CustomAdPhoto(f) => f.custom_photo_id.as_ref().map(|id| format!("Photo {id}")),
        Feature::BusinessLogo(f) => f.business_logo_url.clone(),
        Feature::YelpPortfolio(f) => (!f.projects.is_empty()).then(|| {
            let published = f.projects.iter().filter(|p| p.published).count();
            let projects = f.projects.len();
            format!(
                "{projects} project{}, {published} published",
                if projects == 1 { "" } else { "s" }
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use yelp_partner_api::{
        CustomRadiusTargeting, NegativeKeywordTargeting, StrictCategoryTargeting,
    };

    use super::*;

    #[test]
    fn settings_read_as_words_and_off_reads_as_nothing() {
        let radius = |miles| {
            setting(&Feature::CustomRadiusTargeting(CustomRadiusTargeting {
                custom_radius: miles,
            }))
        };
        assert_eq!(radius(Some(25.0)).as_deref(), Some("25 miles"));
        assert_eq!(radius(Some(1.0)).as_deref(), Some("1 mile"));
        assert_eq!(radius(Some(12.5)).as_deref(), Some("12.5 miles"));
        assert_eq!(radius(None), None);
        let keywords = Feature::NegativeKeywordTargeting(NegativeKeywordTargeting {
            blocked_keywords: vec!["free".into(), "cheap".into()],
            suggested_keywords: vec!["diy".into()],
        });
        assert_eq!(setting(&keywords).as_deref(), Some("Blocked: free, cheap"));
        let off = Feature::StrictCategoryTargeting(StrictCategoryTargeting::default());
        assert_eq!(setting(&off), None);
    }
}
