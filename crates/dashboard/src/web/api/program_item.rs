//! A mirrored program as clients read it: Yelp's object as Yelp sent it, plus where it is in the mirror
//! and what it and its business are called (`null` until known). Yelp's values are copied as stored, not
//! decoded and encoded again, so that a list of 10,000 programs costs little more than its bytes.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;

use crate::store::{ProgramLabels, StoredProgram};
use crate::web::AppState;
use crate::web::error::ApiResult;

/// The fields the mirror adds to Yelp's object; Yelp's own values of these names are left out.
const OURS: [&str; 9] = [
    "program_id",
    "yelp_business_id",
    "business_id",
    "business_name",
    "custom_name",
    "removed",
    "removed_at",
    "first_seen_at",
    "updated_at",
];

/// One program and its names, serialised as clients read it.
pub(super) struct ProgramItem {
    program: StoredProgram,
    labels: ProgramLabels,
}

impl ProgramItem {
    /// A program with its names.
    pub(super) fn new(program: StoredProgram, labels: ProgramLabels) -> Self {
        Self { program, labels }
    }
}

fn iso(ms: i64) -> Option<String> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339())
}

impl Serialize for ProgramItem {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let p = &self.program;
        // An entry the mirror could not read back would have been refused by the sync: an empty object
        // is only a guard.
        let raw: BTreeMap<String, &RawValue> = serde_json::from_str(&p.raw).unwrap_or_default();
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in raw.iter().filter(|(k, _)| !OURS.contains(&k.as_str())) {
            map.serialize_entry(key, value)?;
        }
        map.serialize_entry("program_id", &p.program_id)?;
        map.serialize_entry("yelp_business_id", &p.business_id)?;
        // The replaced system's name for the same id.
        map.serialize_entry("business_id", &p.business_id)?;
        map.serialize_entry("business_name", &self.labels.business_name)?;
        map.serialize_entry("custom_name", &self.labels.custom_name)?;
        map.serialize_entry("removed", &p.removed_at.is_some())?;
        map.serialize_entry("removed_at", &p.removed_at.and_then(iso))?;
        map.serialize_entry("first_seen_at", &iso(p.first_seen_at))?;
        map.serialize_entry("updated_at", &iso(p.updated_at))?;
        map.end()
    }
}

/// Programs of the workspace as clients read them, with their names, in the order given.
pub(super) async fn program_items(
    state: &AppState,
    workspace_id: &str,
    programs: Vec<StoredProgram>,
) -> ApiResult<Vec<ProgramItem>> {
    let ids: Vec<String> = programs.iter().map(|p| p.program_id.clone()).collect();
    let mut labels = state.store.program_labels(workspace_id, &ids).await?;
    Ok(programs
        .into_iter()
        .map(|program| {
            let names = labels.remove(&program.program_id).unwrap_or_default();
            ProgramItem::new(program, names)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn stored(raw: Value) -> StoredProgram {
        StoredProgram {
            program_id: "P1".into(),
            business_id: Some("B1".into()),
            partner_business_id: None,
            program_type: "CPC".into(),
            program_status: yelp_partner_api::ProgramStatus::Active,
            pause_status: yelp_partner_api::PauseStatus::NotPaused,
            start_date: None,
            end_date: None,
            budget_cents: None,
            max_bid_cents: None,
            is_autobid: None,
            currency: None,
            fee_period: None,
            billed_impressions: None,
            billed_clicks: None,
            ad_cost_cents: None,
            raw: raw.to_string(),
            first_seen_at: 0,
            updated_at: 1_000,
            removed_at: None,
        }
    }

    #[test]
    fn yelps_values_are_kept_as_sent_and_the_mirrors_fields_win() {
        let raw = json!({"program_id": "P1", "program_metrics": {"budget": 30029, "max_bid": null},
                         "page_upgrade_info": {"cost": 8.24}, "business_name": "from Yelp?"});
        let item = ProgramItem {
            program: stored(raw),
            labels: ProgramLabels {
                business_name: Some("Joe's".into()),
                custom_name: None,
            },
        };
        let text = serde_json::to_string(&item).unwrap();
        assert_eq!(text.matches("\"business_name\"").count(), 1, "{text}");
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value["program_metrics"],
            json!({"budget": 30029, "max_bid": null})
        );
        assert_eq!(value["page_upgrade_info"]["cost"], json!(8.24));
        assert_eq!(value["business_name"], "Joe's");
        assert_eq!(value["custom_name"], Value::Null);
        assert_eq!(
            (
                value["yelp_business_id"].as_str(),
                value["business_id"].as_str()
            ),
            (Some("B1"), Some("B1"))
        );
        assert_eq!(value["updated_at"], "1970-01-01T00:00:01+00:00");
        assert_eq!(value["removed"], false);
    }
}
