//! What the Partner Support API shows of a business (`GET /v1/business_info/{ids}`, contract §13), and the
//! control API's changes of the businesses it reports on.
//!
//! Yelp documents the fields (name, address, `is_closed`, `is_removed_from_search`, migration, `cta`,
//! `category_list`) but not their spellings. The simulator's choice, which the client reads among others:
//!
//! ```json
//! {"businesses": [{"id": "…", "name": "Golden Gate Legal Pros",
//!                  "location": {"address1": "1450 Mission St", "address2": null, "address3": null,
//!                               "city": "San Francisco", "state": "CA", "zip_code": "94103", "country": "US"},
//!                  "is_closed": false, "is_removed_from_search": false,
//!                  "migration": {"is_migrated": false, "destination_business_id": null},
//!                  "category_list": [{"alias": "lawyers", "title": "Lawyers"}], "cta": null}],
//!  "errors": [{"id": "INVALID_BUSINESS_ID", "business_id": "…", "description": "…"}]}
//! ```

use serde_json::{Value, json};

use crate::error::{ApiError, SimError};
use crate::model::{Business, is_alias_syntax};
use crate::state::BusinessPatch;

/// Most business ids one request may name (contract §13).
pub(crate) const MAX_IDS: usize = 200;

/// Longest business name the control API accepts, in characters.
const MAX_NAME_CHARS: usize = 200;

/// The ids of a `{ids}` path segment: comma-separated, none empty, at most [`MAX_IDS`].
pub(crate) fn parse_ids(segment: &str) -> Result<Vec<&str>, ApiError> {
    let ids: Vec<&str> = segment.split(',').collect();
    if ids.len() > MAX_IDS {
        return Err(ApiError::invalid(format!(
            "At most {MAX_IDS} business ids may be requested at once; got {}.",
            ids.len()
        )));
    }
    if let Some(position) = ids.iter().position(|id| id.is_empty()) {
        return Err(ApiError::invalid(format!(
            "The business id at position {} of the list is empty.",
            position + 1
        )));
    }
    Ok(ids)
}

/// The answer for `ids`: the known businesses in the order asked (each once), and an error per unknown id.
pub(crate) fn answer<'a>(ids: &[&str], lookup: impl Fn(&str) -> Option<&'a Business>) -> Value {
    let mut businesses = Vec::new();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for &id in ids {
        if !seen.insert(id) {
            continue;
        }
        match lookup(id) {
            Some(business) => businesses.push(entry(business)),
            None => errors.push(json!({
                "id": "INVALID_BUSINESS_ID",
                "business_id": id,
                "description": "Supplied business ID does not exist or is not managed by this partner.",
            })),
        }
    }
    json!({"businesses": businesses, "errors": errors})
}

/// One business as business info shows it.
fn entry(business: &Business) -> Value {
    let address = &business.address;
    let categories: Vec<Value> = business
        .categories
        .iter()
        .map(|alias| json!({"alias": alias, "title": category_title(alias)}))
        .collect();
    json!({
        "id": business.yelp_business_id,
        "name": business.name,
        "location": {
            "address1": address.address1,
            "address2": address.address2,
            "address3": null,
            "city": address.city,
            "state": address.state,
            "zip_code": address.zip_code,
            "country": address.country,
        },
        "is_closed": business.is_closed,
        "is_removed_from_search": business.is_removed_from_search,
        "migration": {
            "is_migrated": business.migrated_to.is_some(),
            "destination_business_id": business.migrated_to,
        },
        "category_list": categories,
        "cta": null,
    })
}

/// The display title of a category alias; an alias the simulator does not know is its own title.
fn category_title(alias: &str) -> String {
    let title = match alias {
        "airportterminals" => "Airport Terminals",
        "autorepair" => "Auto Repair",
        "bodyshops" => "Body Shops",
        "carpet_cleaning" => "Carpet Cleaning",
        "cosmetic_dentists" => "Cosmetic Dentists",
        "criminaldefense" => "Criminal Defense Law",
        "divorce" => "Divorce & Family Law",
        "garage_door_services" => "Garage Door Services",
        "generaldentistry" => "General Dentistry",
        "gutterservices" => "Gutter Services",
        "hair" => "Hair Salons",
        "homecleaning" => "Home Cleaning",
        "hvac" => "Heating & Air Conditioning/HVAC",
        "nailsalons" => "Nail Salons",
        "oilchange" => "Oil Change Stations",
        "personal_injury" => "Personal Injury Law",
        "pest_control" => "Pest Control",
        "physicaltherapy" => "Physical Therapy",
        "propertymgmt" => "Property Management",
        "realestateagents" => "Real Estate Agents",
        "realestatesvcs" => "Real Estate Services",
        "selfstorage" => "Self Storage",
        "solarinstallation" => "Solar Installation",
        "treeservices" => "Tree Services",
        "waterheaterinstallrepair" => "Water Heater Installation/Repair",
        "windowsinstallation" => "Windows Installation",
        // One word: the alias capitalised ("plumbing" → "Plumbing").
        other => {
            let mut chars = other.chars();
            return match chars.next() {
                Some(first) if other.bytes().all(|b| b.is_ascii_lowercase()) => {
                    first.to_ascii_uppercase().to_string() + chars.as_str()
                }
                _ => other.to_owned(),
            };
        }
    };
    title.to_owned()
}

impl BusinessPatch {
    /// Refuses a patch with any value that cannot be right, before anything changes.
    pub(crate) fn check(&self, business_id: &str) -> Result<(), SimError> {
        if let Some(bad) = self
            .categories
            .iter()
            .flatten()
            .find(|alias| !is_alias_syntax(alias))
        {
            return Err(SimError::Invalid(format!(
                "`{bad}` is not a category alias"
            )));
        }
        if let Some(name) = &self.name {
            if name.trim().is_empty() || name.chars().count() > MAX_NAME_CHARS {
                return Err(SimError::Invalid(format!(
                    "name must be 1 to {MAX_NAME_CHARS} characters and not blank"
                )));
            }
        }
        if let Some(Some(destination)) = &self.migrated_to {
            // Business ids have the alphabet and length limit of category aliases.
            if !is_alias_syntax(destination) {
                return Err(SimError::Invalid(format!(
                    "migrated_to must be a business id (1 to 64 of A-Z, a-z, 0-9, '-', '_'), got `{destination}`"
                )));
            }
            if destination == business_id {
                return Err(SimError::Invalid(
                    "a business cannot migrate to itself".into(),
                ));
            }
        }
        Ok(())
    }
}

impl Business {
    /// Applies a patch that [`BusinessPatch::check`] accepted.
    pub(crate) fn apply(&mut self, patch: &BusinessPatch) {
        match patch.active {
            Some(true) => {
                self.held_back = false;
                self.is_closed = false;
                self.is_removed_from_search = false;
            }
            Some(false) => self.held_back = true,
            None => {}
        }
        if let Some(categories) = &patch.categories {
            self.categories = categories.clone();
        }
        if let Some(name) = &patch.name {
            self.name = name.trim().to_owned();
        }
        if let Some(closed) = patch.is_closed {
            self.is_closed = closed;
        }
        if let Some(removed) = patch.is_removed_from_search {
            self.is_removed_from_search = removed;
        }
        if let Some(migrated_to) = &patch.migrated_to {
            self.migrated_to = migrated_to.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_lists_are_refused_when_too_long_or_with_an_empty_item() {
        let two_hundred = vec!["a"; MAX_IDS].join(",");
        assert_eq!(parse_ids(&two_hundred).map(|ids| ids.len()), Ok(MAX_IDS));
        assert!(parse_ids(&format!("{two_hundred},a")).is_err());
        for bad in ["", "a,,b", "a,", ",a"] {
            assert!(parse_ids(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn category_titles_are_yelps_words_or_the_capitalised_alias() {
        assert_eq!(category_title("hvac"), "Heating & Air Conditioning/HVAC");
        assert_eq!(category_title("plumbing"), "Plumbing");
        assert_eq!(category_title("Some-Label"), "Some-Label");
    }
}
