//! What a client asks of a program, as it sent it: typed drafts of a create, an edit and a duplicate,
//! deserialised from the API's JSON bodies and built from the pages' forms alike. A draft's fields are
//! read leniently: a value of the wrong kind is kept (to be named by the check) instead of failing the
//! whole body, and fields the request does not know are kept too, so that [`super::validate`] reports
//! every failing field at once.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_json::Value;

/// A field's value: of the kind the field takes, or anything else (kept to be named in the error).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Loose<T> {
    /// A value of the field's kind.
    Given(T),
    /// A value of another kind, as sent.
    Other(Value),
}

impl<T> From<T> for Loose<T> {
    fn from(value: T) -> Self {
        Self::Given(value)
    }
}

/// Text typed into a form: `None` when empty, so that an empty field is "not given".
pub fn typed(text: &str) -> Option<Loose<String>> {
    let text = text.trim();
    (!text.is_empty()).then(|| Loose::Given(text.to_owned()))
}

/// An amount in dollars as sent: a JSON number's own decimal text, or text (`"300.00"`, `"$1,200"`).
/// It becomes cents in the check, on the decimal text, never through a float's arithmetic.
#[derive(Clone, Debug, PartialEq)]
pub struct Dollars(pub String);

impl Dollars {
    /// An amount typed into a form: `None` when empty.
    pub fn typed(text: &str) -> Option<Loose<Dollars>> {
        let text = text.trim();
        (!text.is_empty()).then(|| Loose::Given(Self(text.to_owned())))
    }
}

impl<'de> Deserialize<'de> for Dollars {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Amount;

        impl Visitor<'_> for Amount {
            type Value = Dollars;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount in dollars, as a number or as text")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Dollars, E> {
                Ok(Dollars(text.to_owned()))
            }

            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Dollars, E> {
                Ok(Dollars(n.to_string()))
            }

            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Dollars, E> {
                Ok(Dollars(n.to_string()))
            }

            // The shortest text that reads back as the same float: what the client wrote for any amount
            // with cents (300.29 stays "300.29", where 300.29 × 100 would be 30028.999…).
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Dollars, E> {
                Ok(Dollars(n.to_string()))
            }
        }

        deserializer.deserialize_any(Amount)
    }
}

/// A new program (`POST /api/reseller/program/create`), as sent.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(expecting = "a JSON object of the new program's fields")]
pub struct CreateDraft {
    /// Yelp's id of the business.
    pub business_id: Option<Loose<String>>,
    /// The program type (CPC, EP, …), under the replaced system's name.
    pub program_name: Option<Loose<String>>,
    /// First day, `YYYY-MM-DD`.
    pub start: Option<Loose<String>>,
    /// Last day, `YYYY-MM-DD`.
    pub end: Option<Loose<String>>,
    /// A promotion code.
    pub promotion_code: Option<Loose<String>>,
    /// `USD`, the only currency.
    pub currency: Option<Loose<String>>,
    /// Monthly budget (CPC).
    pub budget: Option<Loose<Dollars>>,
    /// Whether Yelp sets the bid (CPC).
    pub is_autobid: Option<Loose<bool>>,
    /// Maximum bid (CPC, manual bidding).
    pub max_bid: Option<Loose<Dollars>>,
    /// `paced` or `unpaced` (CPC).
    pub pacing_method: Option<Loose<String>>,
    /// `CALENDAR_MONTH` or `ROLLING_MONTH` (CPC).
    pub fee_period: Option<Loose<String>>,
    /// Category aliases (CPC).
    pub ad_categories: Option<Loose<Vec<String>>>,
    /// `true` to create it although an identical one was asked for minutes ago.
    pub confirm_duplicate: Option<Loose<bool>>,
    /// Fields a create does not have, named in the error.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, Value>,
}

/// A change to a program (`POST /api/reseller/program/{id}/edit`), as sent: only what changes.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(expecting = "a JSON object of the fields to change")]
pub struct EditDraft {
    /// New first day (only before the program starts).
    pub start: Option<Loose<String>>,
    /// New last day.
    pub end: Option<Loose<String>>,
    /// New monthly budget (CPC).
    pub budget: Option<Loose<Dollars>>,
    /// The day the new budget starts, instead of now.
    pub future_budget_date: Option<Loose<String>>,
    /// Autobid on or off (CPC).
    pub is_autobid: Option<Loose<bool>>,
    /// New maximum bid (CPC).
    pub max_bid: Option<Loose<Dollars>>,
    /// New pacing (CPC).
    pub pacing_method: Option<Loose<String>>,
    /// New category aliases (CPC); an empty list targets the whole listing.
    pub ad_categories: Option<Loose<Vec<String>>>,
    /// Fields an edit does not have, named in the error.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, Value>,
}

/// A new program like an existing one (`POST /api/reseller/program/{id}/duplicate`), as sent: the
/// dates and the budget that differ from it.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(expecting = "a JSON object with the new program's start, end and budget")]
pub struct DuplicateDraft {
    /// First day, `YYYY-MM-DD`.
    pub start: Option<Loose<String>>,
    /// Last day, `YYYY-MM-DD`.
    pub end: Option<Loose<String>>,
    /// Monthly budget; the source's when absent.
    pub budget: Option<Loose<Dollars>>,
    /// `true` to create it although an identical one was asked for minutes ago.
    pub confirm_duplicate: Option<Loose<bool>>,
    /// Fields a duplicate does not have, named in the error.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, Value>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_field_of_the_wrong_kind_is_kept_and_an_unknown_field_named() {
        let draft: CreateDraft = serde_json::from_value(json!({
            "business_id": 7, "budget": 300.29, "max_bid": "0.57", "is_autobid": "yes",
            "ad_categories": ["plumbing", 3], "start": null, "colour": "red"
        }))
        .unwrap();
        assert_eq!(draft.business_id, Some(Loose::Other(json!(7))));
        assert_eq!(draft.budget, Some(Loose::Given(Dollars("300.29".into()))));
        assert_eq!(draft.max_bid, Some(Loose::Given(Dollars("0.57".into()))));
        assert_eq!(draft.is_autobid, Some(Loose::Other(json!("yes"))));
        assert_eq!(
            draft.ad_categories,
            Some(Loose::Other(json!(["plumbing", 3])))
        );
        assert_eq!(draft.start, None);
        assert_eq!(draft.unknown.keys().collect::<Vec<_>>(), ["colour"]);
    }

    #[test]
    fn a_body_that_is_not_an_object_says_what_was_expected() {
        let e = serde_json::from_value::<EditDraft>(json!([1])).unwrap_err();
        assert!(
            e.to_string()
                .contains("a JSON object of the fields to change"),
            "{e}"
        );
    }
}
