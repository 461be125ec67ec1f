//! The program object as Yelp returns it from list-all, info and list-by-business, and the pages that carry it.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::enums::{FeatureType, PauseStatus, ProgramStatus, ProgramType};
use crate::ids::{BusinessId, ProgramId};
use crate::money::Cents;

/// Yelp's "no end date" sentinel.
pub const NO_END_DATE: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(d) => d,
    None => panic!("9999-12-31 is a valid date"),
};

/// One ad program. Fields Yelp sometimes leaves out are `Option`s or empty; unknown fields are ignored here
/// and kept in [`ProgramEntry::raw`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Program {
    /// The program's id.
    pub program_id: ProgramId,
    /// Its type.
    pub program_type: ProgramType,
    /// ACTIVE or INACTIVE.
    pub program_status: ProgramStatus,
    /// PAUSED or NOT_PAUSED; NOT_PAUSED when Yelp leaves it out.
    #[serde(default = "not_paused", deserialize_with = "null_or")]
    pub program_pause_status: PauseStatus,
    /// First day the program runs.
    #[serde(default)]
    pub start_date: Option<NaiveDate>,
    /// Last day the program runs; `None` when it has no end (`9999-12-31` on the wire).
    #[serde(
        default,
        deserialize_with = "end_date::deserialize",
        serialize_with = "end_date::serialize"
    )]
    pub end_date: Option<NaiveDate>,
    /// Features switched on.
    #[serde(default, deserialize_with = "null_as_default")]
    pub active_features: Vec<FeatureType>,
    /// Features this program supports.
    #[serde(default, deserialize_with = "null_as_default")]
    pub available_features: Vec<FeatureType>,
    /// CPC category aliases; empty targets the whole listing.
    #[serde(default, deserialize_with = "null_as_default")]
    pub ad_categories: Vec<String>,
    /// CPC only.
    #[serde(default)]
    pub ad_campaign_id: Option<String>,
    /// CPC budget, bid and spend; absent for other types and sometimes in list-all.
    #[serde(default)]
    pub program_metrics: Option<ProgramMetrics>,
    /// Scheduled budget changes; Yelp's item shape is not known, so items are kept as JSON.
    #[serde(default, deserialize_with = "null_as_default")]
    pub future_budget_changes: Vec<Value>,
    /// Price of non-CPC upgrades such as LOGO, in float dollars (the one place Yelp does not use cents).
    #[serde(default)]
    pub page_upgrade_info: Option<PageUpgradeInfo>,
    /// The business, top-level in the info response.
    #[serde(default)]
    pub yelp_business_id: Option<BusinessId>,
    /// The partner's own id for the business.
    #[serde(default)]
    pub partner_business_id: Option<String>,
    /// The business, as list-all gives it instead of `yelp_business_id`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub businesses: Vec<BusinessRef>,
}

impl Program {
    /// The program's business, wherever this response put it.
    pub fn business_id(&self) -> Option<&BusinessId> {
        self.yelp_business_id
            .as_ref()
            .or_else(|| self.businesses.first().map(|b| &b.yelp_business_id))
    }

    /// The partner's id for the business, wherever this response put it.
    pub fn partner_business_id(&self) -> Option<&str> {
        self.partner_business_id.as_deref().or_else(|| {
            self.businesses
                .first()
                .and_then(|b| b.partner_business_id.as_deref())
        })
    }
}

/// A business reference inside a list-all program entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessRef {
    /// Yelp's encrypted business id.
    pub yelp_business_id: BusinessId,
    /// The partner's own id, if set.
    #[serde(default)]
    pub partner_business_id: Option<String>,
}

/// `program_metrics`: money in cents, counts as counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramMetrics {
    /// Monthly budget.
    #[serde(default, deserialize_with = "lenient_cents")]
    pub budget: Option<Cents>,
    /// Currency code, `USD` in every sample.
    #[serde(default)]
    pub currency: Option<String>,
    /// Whether Yelp sets the bid.
    #[serde(default)]
    pub is_autobid: Option<bool>,
    /// Maximum bid; null when autobid is on.
    #[serde(default, deserialize_with = "lenient_cents")]
    pub max_bid: Option<Cents>,
    /// Human-readable, e.g. "Calendar Month" (requests use `CALENDAR_MONTH`).
    #[serde(default)]
    pub fee_period: Option<String>,
    /// Impressions billed this period.
    #[serde(default, deserialize_with = "lenient_count")]
    pub billed_impressions: Option<i64>,
    /// Clicks billed this period.
    #[serde(default, deserialize_with = "lenient_count")]
    pub billed_clicks: Option<i64>,
    /// Spend this period.
    #[serde(default, deserialize_with = "lenient_cents")]
    pub ad_cost: Option<Cents>,
}

/// `page_upgrade_info` of non-CPC upgrades, in float dollars as Yelp sends it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PageUpgradeInfo {
    /// Cost so far, dollars.
    #[serde(default)]
    pub cost: Option<f64>,
    /// Monthly rate, dollars.
    #[serde(default)]
    pub monthly_rate: Option<f64>,
}

impl PageUpgradeInfo {
    /// The monthly rate in cents, rounded to the nearest cent (Yelp's floats are already whole cents).
    pub fn monthly_rate_cents(&self) -> Option<Cents> {
        self.monthly_rate.and_then(dollars_f64_to_cents)
    }

    /// The cost in cents, rounded to the nearest cent.
    pub fn cost_cents(&self) -> Option<Cents> {
        self.cost.and_then(dollars_f64_to_cents)
    }
}

fn dollars_f64_to_cents(dollars: f64) -> Option<Cents> {
    let cents = (dollars * 100.0).round();
    // The bound keeps the cast exact; anything beyond it is not a price.
    (cents.is_finite() && cents.abs() < 9.0e15).then(|| Cents::new(cents as i64))
}

/// A program together with the JSON Yelp sent for it, unknown fields included.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgramEntry {
    /// The decoded program.
    pub program: Program,
    /// The entry exactly as Yelp sent it.
    pub raw: Value,
}

/// An entry of a list that could not be read as a program. A page that has one is not a complete listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MalformedEntry {
    /// Its position in the page.
    pub index: usize,
    /// Its `program_id`, if it had a readable one.
    pub program_id: Option<String>,
    /// Why it could not be read.
    pub error: String,
}

/// One page of `GET /programs/v1`.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgramPage {
    /// The offset asked for.
    pub offset: u64,
    /// The page size asked for.
    pub limit: u32,
    /// How many programs match the filter in the whole account, as of this page.
    pub total: u64,
    /// The programs that could be read.
    pub programs: Vec<ProgramEntry>,
    /// The entries that could not.
    pub malformed: Vec<MalformedEntry>,
}

/// Reads a list of program entries one by one, so that one bad entry does not cost the others.
pub(crate) fn decode_entries(values: Vec<Value>) -> (Vec<ProgramEntry>, Vec<MalformedEntry>) {
    let mut programs = Vec::with_capacity(values.len());
    let mut malformed = Vec::new();
    for (index, raw) in values.into_iter().enumerate() {
        match Program::deserialize(&raw) {
            Ok(program) => programs.push(ProgramEntry { program, raw }),
            Err(e) => malformed.push(MalformedEntry {
                index,
                program_id: raw
                    .get("program_id")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                error: e.to_string(),
            }),
        }
    }
    (programs, malformed)
}

fn not_paused() -> PauseStatus {
    PauseStatus::NotPaused
}

fn null_or<'de, D: Deserializer<'de>>(d: D) -> Result<PauseStatus, D::Error> {
    Ok(Option::<PauseStatus>::deserialize(d)?.unwrap_or(PauseStatus::NotPaused))
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Money may come as an integer, an integral float (`300000.0`) or a string of digits; anything else, or a
/// fraction of a cent, is an error rather than a silently wrong amount.
fn lenient_cents<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cents>, D::Error> {
    Ok(lenient_integer(d, "an amount in cents")?.map(Cents::new))
}

fn lenient_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    lenient_integer(d, "a count")
}

fn lenient_integer<'de, D: Deserializer<'de>>(
    d: D,
    what: &'static str,
) -> Result<Option<i64>, D::Error> {
    use serde::de::Error;
    let value = Option::<Value>::deserialize(d)?;
    let invalid = |v: &Value| D::Error::custom(format!("expected {what}, found {v}"));
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                Ok(Some(i))
            } else {
                match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
                    _ => Err(invalid(&Value::Number(n))),
                }
            }
        }
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| invalid(&Value::String(s))),
        Some(other) => Err(invalid(&other)),
    }
}

mod end_date {
    use super::*;

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<NaiveDate>, D::Error> {
        let date = Option::<NaiveDate>::deserialize(d)?;
        Ok(date.filter(|d| *d != NO_END_DATE))
    }

    pub(super) fn serialize<S: Serializer>(
        date: &Option<NaiveDate>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        date.unwrap_or(NO_END_DATE).serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "program_id": "Qx7Lm2VbT0aZpR9sYc4kWg",
            "program_type": "CPC",
            "program_status": "ACTIVE",
            "program_pause_status": "NOT_PAUSED",
            "start_date": "2026-03-23",
            "end_date": "9999-12-31",
            "active_features": ["AD_GOAL", "CALL_TRACKING"],
            "available_features": ["AD_GOAL", "CALL_TRACKING", "STRICT_CATEGORY_TARGETING"],
            "ad_campaign_id": "Hn3pWq8ZrL1mXc0vBt6yUa",
            "ad_categories": ["plumbing"],
            "program_metrics": {"budget": 300000, "currency": "USD", "is_autobid": true, "max_bid": null,
                                "fee_period": "Calendar Month", "billed_impressions": 1234,
                                "billed_clicks": 56, "ad_cost": 7890},
            "future_budget_changes": [],
            "businesses": [{"yelp_business_id": "Zr5TgH2nKp8QwXy1LmN0bA", "partner_business_id": null}]
        })
    }

    #[test]
    fn a_live_shaped_program_decodes_with_money_in_cents_and_no_end_date() {
        let p = Program::deserialize(&sample()).unwrap();
        assert_eq!(p.program_type, ProgramType::Cpc);
        assert_eq!(p.end_date, None);
        assert_eq!(
            p.business_id().map(BusinessId::as_str),
            Some("Zr5TgH2nKp8QwXy1LmN0bA")
        );
        let m = p.program_metrics.as_ref().unwrap();
        assert_eq!(m.budget, Some(Cents::new(300_000)));
        assert_eq!(m.max_bid, None);
        assert_eq!(m.ad_cost, Some(Cents::new(7890)));
        let back = serde_json::to_value(&p).unwrap();
        assert_eq!(back["end_date"], "9999-12-31");
    }

    #[test]
    fn one_bad_entry_does_not_cost_the_rest_of_the_page() {
        let mut bad = sample();
        bad["program_metrics"]["budget"] = json!("a lot");
        let mut no_id = sample();
        no_id.as_object_mut().unwrap().remove("program_id");
        let (ok, malformed) = decode_entries(vec![sample(), bad, no_id, json!(42)]);
        assert_eq!(ok.len(), 1);
        assert_eq!(malformed.len(), 3);
        assert_eq!(malformed[0].index, 1);
        assert_eq!(
            malformed[0].program_id.as_deref(),
            Some("Qx7Lm2VbT0aZpR9sYc4kWg")
        );
        assert!(
            malformed[0].error.contains("amount in cents"),
            "{}",
            malformed[0].error
        );
        assert_eq!(malformed[1].program_id, None);
    }

    #[test]
    fn nulls_floats_and_strings_are_read_tolerantly_where_they_are_unambiguous() {
        let mut p = sample();
        p["active_features"] = Value::Null;
        p["program_pause_status"] = Value::Null;
        p["program_metrics"]["budget"] = json!(300000.0);
        p["program_metrics"]["billed_clicks"] = json!("56");
        p["unknown_future_field"] = json!({"x": 1});
        let p = Program::deserialize(&p).unwrap();
        assert!(p.active_features.is_empty());
        assert_eq!(p.program_pause_status, PauseStatus::NotPaused);
        let m = p.program_metrics.unwrap();
        assert_eq!(m.budget, Some(Cents::new(300_000)));
        assert_eq!(m.billed_clicks, Some(56));
    }

    #[test]
    fn fractions_of_a_cent_and_huge_numbers_are_errors_not_wrong_amounts() {
        for budget in [json!(10.5), json!(1e300), json!(u64::MAX), json!(true)] {
            let mut p = sample();
            p["program_metrics"]["budget"] = budget.clone();
            assert!(Program::deserialize(&p).is_err(), "{budget}");
        }
    }

    #[test]
    fn upgrade_prices_in_float_dollars_round_to_cents() {
        let info = PageUpgradeInfo {
            cost: Some(8.24),
            monthly_rate: Some(30.0),
        };
        assert_eq!(info.cost_cents(), Some(Cents::new(824)));
        assert_eq!(info.monthly_rate_cents(), Some(Cents::new(3000)));
        let bad = PageUpgradeInfo {
            cost: Some(f64::NAN),
            monthly_rate: Some(f64::INFINITY),
        };
        assert_eq!(bad.cost_cents(), None);
        assert_eq!(bad.monthly_rate_cents(), None);
    }
}
