//! What a job asked Yelp for, as its record keeps it (`jobs.request`, JSON): written when the job is
//! submitted, read back by the watcher (to find a created program, to see an edit carried out), by the
//! replaced system's job fields and by the create form that is corrected and sent again. Money is in
//! cents. Records of earlier versions have the same fields; a field missing or unreadable in an old
//! record reads as absent.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use yelp_partner_api::{CreateProgram, EditProgram};

use crate::store::{JobRecord, JobType};

/// A create's (or a duplicate's) request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateAsked {
    /// Yelp's id of the business.
    pub business_id: String,
    /// The program type.
    pub program_name: String,
    /// First day.
    pub start: Option<NaiveDate>,
    /// Last day.
    pub end: Option<NaiveDate>,
    /// A promotion code.
    pub promotion_code: Option<String>,
    /// Monthly budget.
    pub budget_cents: Option<i64>,
    /// Whether Yelp sets the bid.
    pub is_autobid: Option<bool>,
    /// Maximum bid.
    pub max_bid_cents: Option<i64>,
    /// `paced` or `unpaced`.
    pub pacing_method: Option<String>,
    /// `CALENDAR_MONTH` or `ROLLING_MONTH`.
    pub fee_period: Option<String>,
    /// Category aliases.
    pub ad_categories: Vec<String>,
    /// The program a duplicate copies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_program_id: Option<String>,
}

impl CreateAsked {
    /// The record of `request`, a duplicate of `source` when given.
    pub fn new(request: &CreateProgram, source: Option<String>) -> Self {
        Self {
            business_id: request.business_id.to_string(),
            program_name: request.program_type.as_str().to_owned(),
            start: request.start,
            end: request.end,
            promotion_code: request.promotion_code.clone(),
            budget_cents: request.budget.map(|c| c.get()),
            is_autobid: request.is_autobid,
            max_bid_cents: request.max_bid.map(|c| c.get()),
            pacing_method: request.pacing_method.map(|p| p.as_str().to_owned()),
            fee_period: request.fee_period.map(|p| p.as_str().to_owned()),
            ad_categories: request.ad_categories.clone(),
            source_program_id: source,
        }
    }
}

/// An edit's request: only what it changes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EditAsked {
    /// New first day.
    pub start: Option<NaiveDate>,
    /// New last day.
    pub end: Option<NaiveDate>,
    /// New monthly budget.
    pub budget_cents: Option<i64>,
    /// The day the new budget starts.
    pub future_budget_date: Option<NaiveDate>,
    /// Autobid on or off.
    pub is_autobid: Option<bool>,
    /// New maximum bid.
    pub max_bid_cents: Option<i64>,
    /// New pacing.
    pub pacing_method: Option<String>,
    /// New category aliases.
    pub ad_categories: Option<Vec<String>>,
}

impl From<&EditProgram> for EditAsked {
    fn from(e: &EditProgram) -> Self {
        Self {
            start: e.start,
            end: e.end,
            budget_cents: e.budget.map(|c| c.get()),
            future_budget_date: e.future_budget_date,
            is_autobid: e.is_autobid,
            max_bid_cents: e.max_bid.map(|c| c.get()),
            pacing_method: e.pacing_method.map(|p| p.as_str().to_owned()),
            ad_categories: e.ad_categories.clone(),
        }
    }
}

/// What a job asked, by its type: end, pause and resume ask for nothing but the program.
#[derive(Clone, Debug, PartialEq)]
pub enum Asked {
    /// A create or a duplicate.
    Create(CreateAsked),
    /// An edit.
    Edit(EditAsked),
    /// End, pause or resume.
    Program,
}

impl Asked {
    /// The request `job` recorded.
    pub fn of(job: &JobRecord) -> Self {
        match job.job_type {
            JobType::Create | JobType::Duplicate => {
                Self::Create(serde_json::from_str(&job.request).unwrap_or_default())
            }
            JobType::Edit => Self::Edit(serde_json::from_str(&job.request).unwrap_or_default()),
            JobType::Terminate | JobType::Pause | JobType::Resume => Self::Program,
        }
    }

    /// The JSON the record stores.
    pub fn to_json(&self) -> String {
        let json = match self {
            Self::Create(c) => serde_json::to_string(c),
            Self::Edit(e) => serde_json::to_string(e),
            Self::Program => Ok("{}".to_owned()),
        };
        // Plain structs of strings, numbers and dates: serialising them cannot fail.
        json.unwrap_or_else(|_| "{}".to_owned())
    }

    /// The program type a create asked for.
    pub fn program_name(&self) -> Option<&str> {
        match self {
            Self::Create(c) => Some(c.program_name.as_str()).filter(|n| !n.is_empty()),
            _ => None,
        }
    }

    /// The first day asked for.
    pub fn start(&self) -> Option<NaiveDate> {
        match self {
            Self::Create(c) => c.start,
            Self::Edit(e) => e.start,
            Self::Program => None,
        }
    }

    /// The last day asked for.
    pub fn end(&self) -> Option<NaiveDate> {
        match self {
            Self::Create(c) => c.end,
            Self::Edit(e) => e.end,
            Self::Program => None,
        }
    }

    /// The budget asked for, in cents.
    pub fn budget_cents(&self) -> Option<i64> {
        match self {
            Self::Create(c) => c.budget_cents,
            Self::Edit(e) => e.budget_cents,
            Self::Program => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_record_of_an_earlier_version_reads_field_by_field() {
        // As `create_json` wrote them before the records were typed.
        let old = json!({"business_id": "b1", "program_name": "CPC", "start": "2030-01-10",
                         "end": null, "promotion_code": null, "budget_cents": 30000,
                         "is_autobid": true, "max_bid_cents": null, "pacing_method": null,
                         "fee_period": null, "ad_categories": [], "source_program_id": "p0"});
        let read: CreateAsked = serde_json::from_value(old.clone()).unwrap();
        assert_eq!(read.start, NaiveDate::from_ymd_opt(2030, 1, 10));
        assert_eq!(read.budget_cents, Some(30000));
        assert_eq!(read.source_program_id.as_deref(), Some("p0"));
        assert_eq!(serde_json::to_value(&read).unwrap(), old);
        let partial: EditAsked = serde_json::from_value(json!({"budget_cents": 5000})).unwrap();
        assert_eq!(partial.budget_cents, Some(5000));
        assert_eq!(partial.ad_categories, None);
    }
}
