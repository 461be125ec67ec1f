//! The program form of the create and edit pages: what was typed (or is stored), turned into the draft the
//! API reads from its JSON body, so that the page and the API go through the same validation
//! (`jobs::validate`). Nothing here decides what is valid; it only reshapes form fields.

use chrono::NaiveDate;
use yelp_partner_api::{Cents, FeePeriod, PacingMethod, Program, ProgramType};

use super::FormFields;
use crate::error::Error;
use crate::jobs::SubmissionToken;
use crate::jobs::asked::CreateAsked;
use crate::jobs::draft::{self, CreateDraft, Dollars, EditDraft, typed};
use crate::store::StoredProgram;
use crate::web::error::{ApiError, PageError};

/// The fields the form shows, by their API names.
const FORM_FIELDS: [&str; 12] = [
    "business_id",
    "program_name",
    "start",
    "end",
    "promotion_code",
    "budget",
    "is_autobid",
    "max_bid",
    "pacing_method",
    "fee_period",
    "ad_categories",
    "future_budget_date",
];

/// The program form's values as typed or as stored, and what is wrong with them.
#[derive(Clone, Debug, Default)]
pub struct ProgramForm {
    /// Yelp's business id.
    pub business_id: String,
    /// The program type (CPC, EP, …).
    pub program_name: String,
    /// `YYYY-MM-DD`.
    pub start: String,
    /// `YYYY-MM-DD`.
    pub end: String,
    /// A promotion code.
    pub promotion_code: String,
    /// Monthly budget in dollars, as typed.
    pub budget: String,
    /// Whether Yelp sets the bid.
    pub is_autobid: bool,
    /// Maximum bid in dollars, as typed.
    pub max_bid: String,
    /// `paced` or `unpaced`; empty for Yelp's default (or, on edit, unchanged).
    pub pacing_method: String,
    /// `CALENDAR_MONTH` or `ROLLING_MONTH`; empty for Yelp's default.
    pub fee_period: String,
    /// Category aliases, comma-separated.
    pub ad_categories: String,
    /// The day a new budget starts (edit only).
    pub future_budget_date: String,
    /// Every `(field, message)` the validation found.
    pub errors: Vec<(String, String)>,
    /// What went wrong that belongs to no field.
    pub form_error: Option<String>,
    /// The earlier job of an identical create, when this one was refused for it: the form then offers to
    /// confirm.
    pub duplicate_of: Option<String>,
}

fn cents_text(cents: Option<i64>) -> String {
    cents.map_or_else(String::new, |c| Cents::new(c).to_dollars_string())
}

/// Category aliases typed as `plumbing, contractors` (commas or spaces).
fn categories(text: &str) -> Vec<String> {
    text.split([',', ' ', '\n', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether two amounts typed in dollars are the same (`300` and `300.00` are).
fn same_amount(a: &str, b: &str) -> bool {
    match (
        Cents::parse_dollars(a.trim()),
        Cents::parse_dollars(b.trim()),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.trim() == b.trim(),
    }
}

impl ProgramForm {
    /// An empty form for a new program: CPC with autobid, the common case.
    pub fn new_program() -> Self {
        Self {
            program_name: ProgramType::Cpc.as_str().to_owned(),
            is_autobid: true,
            ..Self::default()
        }
    }

    /// What a posted form holds.
    pub fn from_fields(fields: &FormFields) -> Self {
        let text = |name: &str| fields.text(name).trim().to_owned();
        Self {
            business_id: text("business_id"),
            program_name: text("program_name"),
            start: text("start"),
            end: text("end"),
            promotion_code: text("promotion_code"),
            budget: text("budget"),
            is_autobid: fields.has("is_autobid"),
            max_bid: text("max_bid"),
            pacing_method: text("pacing_method"),
            fee_period: text("fee_period"),
            ad_categories: text("ad_categories"),
            future_budget_date: text("future_budget_date"),
            errors: Vec::new(),
            form_error: None,
            duplicate_of: None,
        }
    }

    /// A program's current values, for its edit form.
    pub fn from_program(program: &StoredProgram) -> Self {
        let parsed: Option<Program> = serde_json::from_str(&program.raw).ok();
        let metrics = parsed.as_ref().and_then(|p| p.program_metrics.clone());
        let categories = parsed
            .as_ref()
            .map(|p| p.ad_categories.join(", "))
            .unwrap_or_default();
        let is_cpc = program.program_type == ProgramType::Cpc.as_str();
        Self {
            business_id: program.business_id.clone().unwrap_or_default(),
            program_name: program.program_type.clone(),
            start: program.start_date.clone().unwrap_or_default(),
            end: program.end_date.clone().unwrap_or_default(),
            budget: cents_text(program.budget_cents),
            is_autobid: is_cpc
                && metrics
                    .and_then(|m| m.is_autobid)
                    .unwrap_or(program.max_bid_cents.is_none()),
            max_bid: cents_text(program.max_bid_cents),
            ad_categories: categories,
            ..Self::default()
        }
    }

    /// What a create job asked for (its stored request), so that a form can be corrected and sent again.
    pub fn from_asked(asked: &CreateAsked) -> Self {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let date = |value: Option<NaiveDate>| value.map(|d| d.to_string()).unwrap_or_default();
        Self {
            business_id: asked.business_id.clone(),
            program_name: asked.program_name.clone(),
            start: date(asked.start),
            end: date(asked.end),
            promotion_code: text(&asked.promotion_code),
            budget: cents_text(asked.budget_cents),
            is_autobid: asked.is_autobid.unwrap_or(asked.max_bid_cents.is_none()),
            max_bid: cents_text(asked.max_bid_cents),
            pacing_method: text(&asked.pacing_method),
            fee_period: text(&asked.fee_period),
            ad_categories: asked.ad_categories.join(", "),
            ..Self::default()
        }
    }

    /// Whether the form is for a CPC program.
    pub fn is_cpc(&self) -> bool {
        self.program_name
            .eq_ignore_ascii_case(ProgramType::Cpc.as_str())
    }

    /// What is wrong with `field`, if anything.
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// Problems with fields the form does not show (the body as a whole, the program), to show on top.
    pub fn other_errors(&self) -> Vec<&str> {
        self.errors
            .iter()
            .filter(|(f, _)| !FORM_FIELDS.contains(&f.as_str()))
            .map(|(_, m)| m.as_str())
            .collect()
    }

    /// The draft of `POST /api/reseller/program/create` for this form. Empty fields are left out. A
    /// checkbox cannot say "not given", so `is_autobid` is given for CPC only; every other CPC field that
    /// was filled in is given whatever the type, and the validation says if it does not belong.
    pub fn create_draft(&self) -> CreateDraft {
        let categories = categories(&self.ad_categories);
        CreateDraft {
            business_id: typed(&self.business_id),
            program_name: typed(&self.program_name),
            start: typed(&self.start),
            end: typed(&self.end),
            promotion_code: typed(&self.promotion_code),
            budget: Dollars::typed(&self.budget),
            max_bid: Dollars::typed(&self.max_bid),
            pacing_method: typed(&self.pacing_method),
            fee_period: typed(&self.fee_period),
            is_autobid: self.is_cpc().then(|| self.is_autobid.into()),
            ad_categories: (!categories.is_empty()).then(|| categories.into()),
            ..CreateDraft::default()
        }
    }

    /// The draft of `POST /api/reseller/program/{id}/edit`: only what differs from `current`, so that a
    /// field shown but not changed (a running program's start date) is not asked to change.
    pub fn edit_draft(&self, current: &ProgramForm) -> EditDraft {
        let changed = |typed: &str, was: &str| {
            if typed == was {
                None
            } else {
                draft::typed(typed)
            }
        };
        let changed_amount = |typed: &str, was: &str| {
            if same_amount(typed, was) {
                None
            } else {
                Dollars::typed(typed)
            }
        };
        let categories = categories(&self.ad_categories);
        EditDraft {
            start: changed(&self.start, &current.start),
            end: changed(&self.end, &current.end),
            budget: changed_amount(&self.budget, &current.budget),
            max_bid: changed_amount(&self.max_bid, &current.max_bid),
            pacing_method: typed(&self.pacing_method),
            future_budget_date: typed(&self.future_budget_date),
            is_autobid: (current.is_cpc() && self.is_autobid != current.is_autobid)
                .then(|| self.is_autobid.into()),
            ad_categories: (categories != self::categories(&current.ad_categories))
                .then(|| categories.into()),
            ..EditDraft::default()
        }
    }

    /// The form again with why it was refused, and the status to show it with. Errors that are not the
    /// user's (the server's own) are not shown on the form.
    pub fn refused(mut self, e: Error) -> Result<(axum::http::StatusCode, Self), PageError> {
        let e = ApiError::from(e);
        let status = e.status();
        match e {
            ApiError::Fields(fields) => self.errors = fields,
            ApiError::Internal(_) => return Err(e.into()),
            ApiError::Duplicate { job_id, message } => {
                self.form_error = Some(message);
                self.duplicate_of = Some(job_id);
            }
            ApiError::BadRequest {
                field: Some(field),
                message,
            } => self.errors = vec![(field, message)],
            other => self.form_error = Some(other.message()),
        }
        Ok((status, self))
    }
}

/// The one-time token a posted form carries in `submission_token`, if any.
pub fn submission_token(fields: &FormFields) -> Result<Option<SubmissionToken>, PageError> {
    fields
        .get("submission_token")
        .filter(|t| !t.is_empty())
        .map(SubmissionToken::parse)
        .transpose()
        .map_err(|e| PageError::from(ApiError::from(e)))
}

/// The program types a form offers: `(code, label)`.
pub fn program_types() -> Vec<(&'static str, &'static str)> {
    ProgramType::KNOWN
        .iter()
        .map(|t| (t.as_str(), t.label()))
        .collect()
}

/// Pacing methods: `(value, label)`.
pub fn pacing_methods() -> Vec<(&'static str, &'static str)> {
    PacingMethod::ALL
        .iter()
        .map(|p| {
            let label = match p {
                PacingMethod::Paced => "Paced (spread over the period)",
                PacingMethod::Unpaced => "Unpaced (as fast as clicks come)",
            };
            (p.as_str(), label)
        })
        .collect()
}

/// Fee periods: `(value, label)`.
pub fn fee_periods() -> Vec<(&'static str, &'static str)> {
    FeePeriod::ALL
        .iter()
        .map(|p| {
            let label = match p {
                FeePeriod::CalendarMonth => "Calendar month",
                FeePeriod::RollingMonth => "Rolling month",
            };
            (p.as_str(), label)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn form(pairs: &[(&str, &str)]) -> ProgramForm {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        ProgramForm::from_fields(&FormFields::parse(body.as_bytes()).unwrap())
    }

    fn create(body: serde_json::Value) -> CreateDraft {
        serde_json::from_value(body).unwrap()
    }

    fn edit(body: serde_json::Value) -> EditDraft {
        serde_json::from_value(body).unwrap()
    }

    /// The page's draft is the one the API reads from the same fields as JSON.
    #[test]
    fn a_create_form_becomes_the_apis_draft_without_empty_fields() {
        let f = form(&[
            ("business_id", "b1"),
            ("program_name", "CPC"),
            ("budget", "300.29"),
            ("ad_categories", "plumbing, contractors"),
            ("max_bid", ""),
        ]);
        assert_eq!(
            f.create_draft(),
            create(
                json!({"business_id": "b1", "program_name": "CPC", "budget": "300.29",
                          "is_autobid": false, "ad_categories": ["plumbing", "contractors"]})
            )
        );
        let ep = form(&[
            ("business_id", "b1"),
            ("program_name", "EP"),
            ("is_autobid", "on"),
        ]);
        assert_eq!(
            ep.create_draft(),
            create(json!({"business_id": "b1", "program_name": "EP"}))
        );
    }

    #[test]
    fn an_edit_sends_only_what_changed() {
        let current = ProgramForm {
            program_name: "CPC".into(),
            start: "2020-01-01".into(),
            budget: "300.00".into(),
            is_autobid: true,
            ad_categories: "plumbing".into(),
            ..ProgramForm::default()
        };
        let mut typed = current.clone();
        assert_eq!(typed.edit_draft(&current), edit(json!({})));
        typed.budget = "300".into();
        assert_eq!(typed.edit_draft(&current), edit(json!({})));
        typed.budget = "450".into();
        typed.is_autobid = false;
        typed.max_bid = "1.50".into();
        assert_eq!(
            typed.edit_draft(&current),
            edit(json!({"budget": "450", "is_autobid": false, "max_bid": "1.50"}))
        );
    }

    #[test]
    fn a_create_asked_before_fills_the_form_again() {
        let asked = CreateAsked {
            business_id: "b1".into(),
            program_name: "CPC".into(),
            start: NaiveDate::from_ymd_opt(2030, 1, 10),
            budget_cents: Some(30029),
            max_bid_cents: Some(150),
            ad_categories: vec!["plumbing".into(), "movers".into()],
            ..CreateAsked::default()
        };
        let f = ProgramForm::from_asked(&asked);
        assert_eq!(
            (f.start.as_str(), f.budget.as_str(), f.max_bid.as_str()),
            ("2030-01-10", "300.29", "1.50")
        );
        assert!(!f.is_autobid);
        assert_eq!(f.ad_categories, "plumbing, movers");
    }
}
