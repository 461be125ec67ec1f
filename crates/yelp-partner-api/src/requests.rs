//! Mutations, encoded as Yelp takes them: query parameters on a POST with no body, money in cents,
//! booleans as `true`/`false`, arrays as a repeated key.

use chrono::NaiveDate;

use crate::enums::{FeePeriod, PacingMethod, ProgramType};
use crate::ids::BusinessId;
use crate::money::Cents;

/// `POST /v1/reseller/program/create`. Yelp checks business rules only later, in the job; the dashboard
/// validates before building one of these.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateProgram {
    /// The business to advertise.
    pub business_id: BusinessId,
    /// The program type (`program_name` on the wire).
    pub program_type: ProgramType,
    /// First day; Yelp takes today when absent.
    pub start: Option<NaiveDate>,
    /// Last day; none means open-ended.
    pub end: Option<NaiveDate>,
    /// A promotion code.
    pub promotion_code: Option<String>,
    /// Currency code; `USD` in every sample.
    pub currency: Option<String>,
    /// Monthly budget (CPC).
    pub budget: Option<Cents>,
    /// Whether Yelp sets the bid (CPC).
    pub is_autobid: Option<bool>,
    /// Maximum bid when not autobid (CPC).
    pub max_bid: Option<Cents>,
    /// Pacing (CPC).
    pub pacing_method: Option<PacingMethod>,
    /// Fee period (CPC); some accounts refuse it.
    pub fee_period: Option<FeePeriod>,
    /// Category aliases (CPC); empty targets the whole listing.
    pub ad_categories: Vec<String>,
}

impl CreateProgram {
    /// A create of `program_type` for `business_id` with every optional field unset.
    pub fn new(business_id: BusinessId, program_type: ProgramType) -> Self {
        Self {
            business_id,
            program_type,
            start: None,
            end: None,
            promotion_code: None,
            currency: None,
            budget: None,
            is_autobid: None,
            max_bid: None,
            pacing_method: None,
            fee_period: None,
            ad_categories: Vec::new(),
        }
    }

    pub(crate) fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = vec![
            ("business_id", self.business_id.to_string()),
            ("program_name", self.program_type.to_string()),
        ];
        push_opt(&mut q, "start", self.start);
        push_opt(&mut q, "end", self.end);
        push_opt(&mut q, "promotion_code", self.promotion_code.as_ref());
        push_opt(&mut q, "currency", self.currency.as_ref());
        push_opt(&mut q, "budget", self.budget.map(Cents::get));
        push_opt(&mut q, "is_autobid", self.is_autobid);
        push_opt(&mut q, "max_bid", self.max_bid.map(Cents::get));
        push_opt(&mut q, "pacing_method", self.pacing_method);
        push_opt(&mut q, "fee_period", self.fee_period);
        q.extend(
            self.ad_categories
                .iter()
                .map(|c| ("ad_categories", c.clone())),
        );
        q
    }
}

/// `POST /v1/reseller/program/{id}/edit`: a partial update, only the fields being changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EditProgram {
    /// New first day (only before the program starts).
    pub start: Option<NaiveDate>,
    /// New last day.
    pub end: Option<NaiveDate>,
    /// New monthly budget, or the scheduled one with `future_budget_date`.
    pub budget: Option<Cents>,
    /// When set with `budget`, the budget changes on that day instead of now.
    pub future_budget_date: Option<NaiveDate>,
    /// Autobid on or off.
    pub is_autobid: Option<bool>,
    /// New maximum bid.
    pub max_bid: Option<Cents>,
    /// New pacing.
    pub pacing_method: Option<PacingMethod>,
    /// New category aliases; `Some(vec![])` clears them (whole listing).
    pub ad_categories: Option<Vec<String>>,
}

impl EditProgram {
    /// Whether the edit changes nothing (Yelp would be asked for a job that does nothing).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    pub(crate) fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        push_opt(&mut q, "start", self.start);
        push_opt(&mut q, "end", self.end);
        push_opt(&mut q, "budget", self.budget.map(Cents::get));
        push_opt(&mut q, "future_budget_date", self.future_budget_date);
        push_opt(&mut q, "is_autobid", self.is_autobid);
        push_opt(&mut q, "max_bid", self.max_bid.map(Cents::get));
        push_opt(&mut q, "pacing_method", self.pacing_method);
        match &self.ad_categories {
            Some(list) if list.is_empty() => q.push(("ad_categories", String::new())),
            Some(list) => q.extend(list.iter().map(|c| ("ad_categories", c.clone()))),
            None => {}
        }
        q
    }
}

fn push_opt<T: ToString>(q: &mut Vec<(&'static str, String)>, key: &'static str, value: Option<T>) {
    if let Some(v) = value {
        q.push((key, v.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cpc_create_encodes_cents_booleans_and_repeated_categories() {
        let mut create = CreateProgram::new(BusinessId::from_yelp("biz"), ProgramType::Cpc);
        create.start = NaiveDate::from_ymd_opt(2026, 3, 19);
        create.budget = Some(Cents::new(300_000));
        create.is_autobid = Some(true);
        create.pacing_method = Some(PacingMethod::Paced);
        create.fee_period = Some(FeePeriod::CalendarMonth);
        create.ad_categories = vec!["plumbing".into(), "hvac".into()];
        let q = create.query();
        let expect: Vec<(&str, String)> = vec![
            ("business_id", "biz".into()),
            ("program_name", "CPC".into()),
            ("start", "2026-03-19".into()),
            ("budget", "300000".into()),
            ("is_autobid", "true".into()),
            ("pacing_method", "paced".into()),
            ("fee_period", "CALENDAR_MONTH".into()),
            ("ad_categories", "plumbing".into()),
            ("ad_categories", "hvac".into()),
        ];
        assert_eq!(q, expect);
    }

    #[test]
    fn an_edit_sends_only_what_changes_and_can_clear_categories() {
        let edit = EditProgram {
            budget: Some(Cents::new(45_000)),
            ad_categories: Some(vec![]),
            ..Default::default()
        };
        assert_eq!(
            edit.query(),
            vec![
                ("budget", "45000".to_string()),
                ("ad_categories", String::new())
            ]
        );
        assert!(EditProgram::default().is_empty());
        assert!(!edit.is_empty());
    }
}
