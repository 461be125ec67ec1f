//! Reading job receipts (`GET /v1/reseller/status/{job_id}`): the outcome, the new program's id and every
//! failure reason, whatever nesting Yelp chose (flat groups, wrapped rejected groups, per-item arrays).

use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Value};

use crate::enums::JobStatus;
use crate::ids::ProgramId;

/// A job receipt. The whole receipt is kept as JSON in `raw`; the typed fields are what clients act on.
#[derive(Clone, Debug, PartialEq)]
pub struct JobReceipt {
    /// Top-level status.
    pub status: JobStatus,
    /// When Yelp accepted the job, if it said so in a readable form.
    pub created_at: Option<DateTime<FixedOffset>>,
    /// When Yelp finished it.
    pub completed_at: Option<DateTime<FixedOffset>>,
    /// One entry per business the job touched.
    pub business_results: Vec<BusinessResult>,
    /// The receipt exactly as Yelp sent it.
    pub raw: Value,
}

/// A receipt's result for one business.
#[derive(Clone, Debug, PartialEq)]
pub struct BusinessResult {
    /// Status for this business.
    pub status: JobStatus,
    /// Usually the business id.
    pub identifier: Option<String>,
    /// `BUSINESS` in every live sample.
    pub identifier_type: Option<String>,
    /// Set when the business itself was refused (e.g. `BUSINESS_NOT_ACTIVE`).
    pub error: Option<YelpIssue>,
    /// Per-group, per-field results as Yelp sent them (`program_added`, ...).
    pub update_results: Value,
}

/// An error object inside a receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YelpIssue {
    /// Yelp's code, e.g. `UNSUPPORTED_CATEGORIES`.
    pub code: String,
    /// Yelp's message, without its `ValidationError: ` prefix.
    pub message: String,
}

/// How a job ended, or that it has not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobOutcome {
    /// Yelp is still working on it.
    InProgress,
    /// Done, and nothing in it was refused.
    Completed,
    /// Refused, or ended with a status that is not success.
    Rejected,
    /// Some of it was done and some refused.
    Partial,
}

/// One reason a job (or part of it) failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureReason {
    /// The request field it concerns (`budget`, `ad_categories`), or `None` for the business or the job.
    pub field: Option<String>,
    /// Where in the receipt it was found, e.g. `program_added.ad_categories[1]`.
    pub path: String,
    /// Yelp's code.
    pub code: String,
    /// Yelp's message, without its `ValidationError: ` prefix.
    pub message: String,
    /// The value Yelp was asked to set, when the receipt echoes it.
    pub requested_value: Option<String>,
}

impl FailureReason {
    /// A sentence a person can act on.
    pub fn describe(&self) -> String {
        let field = self.field.as_deref().unwrap_or("request");
        let value = self.requested_value.as_deref().unwrap_or("");
        match self.code.as_str() {
            "CATEGORY_ALIAS_NOT_RECOGNIZED" => {
                format!("Category '{value}' is not a Yelp category alias")
            }
            "UNSUPPORTED_CATEGORIES" => {
                "The business is in a category that cannot be advertised with these categories"
                    .into()
            }
            "BUSINESS_NOT_ACTIVE" => {
                "The business is not active on Yelp (closed or removed from search)".into()
            }
            "PROGRAM_NOT_ACTIVE_CLOSED_BUSINESS" => "The business is closed on Yelp".into(),
            "PROGRAM_NOT_ACTIVE_BUSINESS_REMOVED_FROM_SEARCH" => {
                "The business has been removed from Yelp's search".into()
            }
            "BUSINESS_AUTHORIZATION_FAILED" => {
                "These partner credentials may not change this business".into()
            }
            "CANNOT_ADD_PROGRAM_IN_PAST" => "The start date cannot be in the past".into(),
            "BID_TOO_HIGH_FOR_BUDGET" => "The maximum bid is too high for the budget".into(),
            "CANNOT_DECREASE_BUDGET_BELOW_AMOUNT_ALREADY_SPENT" => {
                "The budget cannot be lower than what was already spent this period".into()
            }
            "PROGRAM_HAS_EXPIRED" => "The program has already ended".into(),
            "INVALID_PROGRAM_ID" => "The program does not exist at Yelp".into(),
            "PARENT_WAS_REJECTED" => {
                format!("{field}: not applied because the request was rejected")
            }
            "INVALID_LIST_INDEXES" if self.message.is_empty() => {
                format!("{field}: some items were not accepted")
            }
            _ if self.message.is_empty() => format!("{field}: {}", self.code),
            _ => format!("{field}: {}", self.message),
        }
    }

    /// Sort key: the most specific reasons first, `PARENT_WAS_REJECTED` last (as the field-tested client does).
    fn rank(&self) -> u8 {
        match self.code.as_str() {
            "CATEGORY_ALIAS_NOT_RECOGNIZED" => 0,
            "INVALID_LIST_INDEXES" => 1,
            "INVALID_OR_MISSING_REQUIRED_KEY" => 2,
            _ if self.field.is_none() => 3,
            "PARENT_WAS_REJECTED" => 5,
            _ => 4,
        }
    }
}

/// A receipt that is not JSON of the expected form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReceiptError(String);

impl JobReceipt {
    /// Reads a receipt. Only a readable top-level `status` is required; everything else is tolerated.
    pub fn from_json(raw: Value) -> Result<Self, ReceiptError> {
        let obj = raw
            .as_object()
            .ok_or_else(|| ReceiptError("a job receipt must be a JSON object".into()))?;
        let status = match obj.get("status") {
            Some(Value::String(s)) => JobStatus::from_wire(s),
            Some(other) => {
                return Err(ReceiptError(format!("job status is not a string: {other}")));
            }
            None => return Err(ReceiptError("job receipt has no status".into())),
        };
        let business_results = obj
            .get("business_results")
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(BusinessResult::from_json).collect())
            .unwrap_or_default();
        Ok(Self {
            status,
            created_at: timestamp(obj.get("created_at")),
            completed_at: timestamp(obj.get("completed_at")),
            business_results,
            raw,
        })
    }

    /// How the job ended: success only when Yelp said COMPLETED and nothing inside was refused.
    pub fn outcome(&self) -> JobOutcome {
        if self.status.is_running() {
            return JobOutcome::InProgress;
        }
        let has_failures = !self.failure_reasons().is_empty()
            || self.business_results.iter().any(|b| b.status.is_failure());
        let any_completed = self
            .business_results
            .iter()
            .any(|b| b.status == JobStatus::Completed);
        match (&self.status, has_failures) {
            (JobStatus::Completed, false) => JobOutcome::Completed,
            (JobStatus::Completed, true) => JobOutcome::Partial,
            (_, _) if any_completed && self.business_results.len() > 1 => JobOutcome::Partial,
            _ => JobOutcome::Rejected,
        }
    }

    /// The id of the program a create job made, from
    /// `update_results.program_added.program_id.requested_value` (the live path), a plain string there, or
    /// the result's `identifier` when its type is PROGRAM. `None` means the caller must fall back to listing
    /// the business's programs (a completed receipt may lack the id).
    pub fn new_program_id(&self) -> Option<ProgramId> {
        for result in &self.business_results {
            let field = result
                .update_results
                .get("program_added")
                .and_then(|g| g.get("program_id"));
            let id = match field {
                Some(Value::String(s)) => Some(s.as_str()),
                Some(Value::Object(o)) => {
                    let refused = o
                        .get("status")
                        .and_then(Value::as_str)
                        .is_some_and(|s| JobStatus::from_wire(s).is_failure());
                    o.get("requested_value")
                        .and_then(Value::as_str)
                        .filter(|_| !refused)
                }
                _ => None,
            };
            if let Some(id) = id.filter(|s| !s.is_empty()) {
                return Some(ProgramId::from_yelp(id));
            }
        }
        self.business_results
            .iter()
            .filter(|r| r.identifier_type.as_deref() == Some("PROGRAM"))
            .find_map(|r| r.identifier.as_deref().map(ProgramId::from_yelp))
    }

    /// Every error in the receipt, most specific first.
    pub fn failure_reasons(&self) -> Vec<FailureReason> {
        let mut reasons = Vec::new();
        for result in &self.business_results {
            if let Some(issue) = &result.error {
                reasons.push(FailureReason {
                    field: None,
                    path: result
                        .identifier
                        .as_deref()
                        .map_or_else(|| "business".to_owned(), |id| format!("business {id}")),
                    code: issue.code.clone(),
                    message: issue.message.clone(),
                    requested_value: None,
                });
            }
            if let Value::Object(groups) = &result.update_results {
                for (group, value) in groups {
                    walk_group(group, value, &mut reasons);
                }
            }
        }
        if reasons.is_empty() && !self.status.is_running() && self.status != JobStatus::Completed {
            reasons.push(FailureReason {
                field: None,
                path: "job".into(),
                code: self.status.as_str().to_owned(),
                message: format!("Yelp ended the job as {} without saying why", self.status),
                requested_value: None,
            });
        }
        reasons.sort_by_key(FailureReason::rank);
        reasons
    }
}

impl BusinessResult {
    fn from_json(value: &Value) -> Option<Self> {
        let obj = value.as_object()?;
        let text = |key: &str| obj.get(key).and_then(Value::as_str).map(str::to_owned);
        Some(Self {
            status: text("status").map_or(JobStatus::Other(String::new()), |s| {
                JobStatus::from_wire(&s)
            }),
            identifier: text("identifier"),
            identifier_type: text("identifier_type"),
            error: obj.get("error").and_then(issue),
            update_results: obj.get("update_results").cloned().unwrap_or(Value::Null),
        })
    }
}

/// A group is either flat (`{field: result, ...}`, maybe with its own `status`) or wrapped when rejected
/// (`{status, error, requested_value: {field: result}}`).
fn walk_group(group: &str, value: &Value, out: &mut Vec<FailureReason>) {
    let Value::Object(obj) = value else { return };
    if let Some(issue) = obj.get("error").and_then(issue) {
        out.push(reason(None, group.to_owned(), issue, None));
    }
    let fields: &Map<String, Value> = match obj.get("requested_value") {
        Some(Value::Object(inner)) => inner,
        _ => obj,
    };
    for (field, result) in fields {
        if matches!(field.as_str(), "status" | "error" | "requested_value") {
            continue;
        }
        walk_field(field, &format!("{group}.{field}"), result, out);
    }
}

fn walk_field(field: &str, path: &str, value: &Value, out: &mut Vec<FailureReason>) {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk_field(field, &format!("{path}[{i}]"), item, out);
            }
        }
        Value::Object(obj) => {
            let requested = obj.get("requested_value");
            if let Some(issue) = obj.get("error").and_then(issue) {
                let shown = requested.and_then(scalar_text);
                out.push(reason(
                    Some(field.to_owned()),
                    path.to_owned(),
                    issue,
                    shown,
                ));
            }
            // Nested results: a rejected list keeps its per-item results under `requested_value`.
            if let Some(nested @ (Value::Array(_) | Value::Object(_))) = requested {
                walk_field(field, path, nested, out);
            }
        }
        _ => {}
    }
}

fn reason(
    field: Option<String>,
    path: String,
    issue: YelpIssue,
    value: Option<String>,
) -> FailureReason {
    FailureReason {
        field,
        path,
        code: issue.code,
        message: issue.message,
        requested_value: value,
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Reads `{code|id, message|description}`; Yelp uses either pair.
fn issue(value: &Value) -> Option<YelpIssue> {
    let obj = value.as_object()?;
    let text = |keys: [&str; 2]| {
        keys.iter()
            .find_map(|k| obj.get(*k).and_then(scalar_text))
            .unwrap_or_default()
    };
    let code = text(["code", "id"]);
    let message = text(["message", "description"]);
    if code.is_empty() && message.is_empty() {
        return None;
    }
    let message = message
        .strip_prefix("ValidationError: ")
        .map(str::to_owned)
        .unwrap_or(message);
    Some(YelpIssue {
        code: if code.is_empty() {
            "UNKNOWN".into()
        } else {
            code
        },
        message,
    })
}

fn timestamp(value: Option<&Value>) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(value?.as_str()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn receipt(v: Value) -> JobReceipt {
        JobReceipt::from_json(v).unwrap()
    }

    #[test]
    fn a_completed_create_yields_the_new_program_id_from_requested_value() {
        let r = receipt(json!({
            "status": "COMPLETED",
            "created_at": "2026-03-19T14:20:18+00:00",
            "completed_at": "2026-03-19T14:20:56+00:00",
            "business_results": [{
                "status": "COMPLETED", "identifier": "Zr5TgH2nKp8QwXy1LmN0bA", "identifier_type": "BUSINESS",
                "update_results": {"program_added": {
                    "program_id": {"status": "COMPLETED", "requested_value": "Qx7Lm2VbT0aZpR9sYc4kWg"},
                    "yelp_business_id": {"status": "COMPLETED", "requested_value": "Zr5TgH2nKp8QwXy1LmN0bA"},
                    "ad_categories": [{"status": "COMPLETED", "requested_value": "plumbing"}],
                    "pacing_method": {"status": "COMPLETED", "requested_value": "PACED"}
                }}
            }]
        }));
        assert_eq!(r.outcome(), JobOutcome::Completed);
        assert_eq!(
            r.new_program_id().unwrap().as_str(),
            "Qx7Lm2VbT0aZpR9sYc4kWg"
        );
        assert!(r.failure_reasons().is_empty());
        assert_eq!(
            r.created_at.unwrap().to_rfc3339(),
            "2026-03-19T14:20:18+00:00"
        );
    }

    #[test]
    fn a_processing_receipt_is_in_progress() {
        let r = receipt(
            json!({"status": "PROCESSING", "completed_at": null, "business_results": [
            {"status": "PROCESSING", "identifier": "b", "update_results": {"program_added": {
                "start": {"status": "PROCESSING", "requested_value": "2026-03-23"}}}}]}),
        );
        assert_eq!(r.outcome(), JobOutcome::InProgress);
        assert_eq!(r.completed_at, None);
    }

    #[test]
    fn a_wrapped_rejection_gives_every_nested_reason_most_specific_first() {
        let r = receipt(json!({
            "status": "REJECTED",
            "business_results": [{
                "status": "REJECTED", "identifier": "biz", "identifier_type": "BUSINESS",
                "update_results": {"program_added": {
                    "status": "REJECTED",
                    "error": {"code": "INVALID_OR_MISSING_REQUIRED_KEY", "message": "ValidationError: ad_categories"},
                    "requested_value": {
                        "start": {"status": "REJECTED", "requested_value": "2026-03-23",
                                  "error": {"code": "PARENT_WAS_REJECTED", "message": "Parent was rejected"}},
                        "ad_categories": {"status": "REJECTED",
                            "error": {"code": "INVALID_LIST_INDEXES", "message": "Invalid items: 1"},
                            "requested_value": [
                                {"status": "COMPLETED", "requested_value": "plumbing"},
                                {"status": "REJECTED", "requested_value": "Restaurants",
                                 "error": {"code": "CATEGORY_ALIAS_NOT_RECOGNIZED", "message": "Unknown alias"}}
                            ]}
                    }
                }}
            }]
        }));
        assert_eq!(r.outcome(), JobOutcome::Rejected);
        assert_eq!(r.new_program_id(), None);
        let reasons = r.failure_reasons();
        let codes: Vec<_> = reasons.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "CATEGORY_ALIAS_NOT_RECOGNIZED",
                "INVALID_LIST_INDEXES",
                "INVALID_OR_MISSING_REQUIRED_KEY",
                "PARENT_WAS_REJECTED"
            ]
        );
        assert_eq!(
            reasons[0].describe(),
            "Category 'Restaurants' is not a Yelp category alias"
        );
        assert_eq!(reasons[0].path, "program_added.ad_categories[1]");
        assert_eq!(
            reasons[2].message, "ad_categories",
            "the ValidationError prefix is dropped"
        );
        assert_eq!(reasons[3].field.as_deref(), Some("start"));
    }

    #[test]
    fn a_business_level_rejection_is_a_reason_without_a_field() {
        let r = receipt(json!({"status": "REJECTED", "business_results": [{
            "status": "REJECTED", "identifier": "biz", "identifier_type": "BUSINESS",
            "error": {"code": "BUSINESS_NOT_ACTIVE", "message": "Business is not active"}}]}));
        let reasons = r.failure_reasons();
        assert_eq!(reasons.len(), 1);
        assert_eq!(reasons[0].field, None);
        assert_eq!(
            reasons[0].describe(),
            "The business is not active on Yelp (closed or removed from search)"
        );
    }

    #[test]
    fn a_closed_business_and_one_out_of_search_are_described_as_such() {
        for (code, said) in [
            (
                "PROGRAM_NOT_ACTIVE_CLOSED_BUSINESS",
                "The business is closed on Yelp",
            ),
            (
                "PROGRAM_NOT_ACTIVE_BUSINESS_REMOVED_FROM_SEARCH",
                "The business has been removed from Yelp's search",
            ),
        ] {
            let r = receipt(json!({"status": "REJECTED", "business_results": [{
                "status": "REJECTED", "error": {"code": code, "message": "whatever Yelp said"}}]}));
            assert_eq!(r.failure_reasons()[0].describe(), said);
        }
    }

    #[test]
    fn completed_with_a_refused_field_is_partial() {
        let r = receipt(json!({"status": "COMPLETED", "business_results": [{
            "status": "COMPLETED", "identifier": "b",
            "update_results": {"program_updated": {
                "budget": {"status": "COMPLETED", "requested_value": "30000"},
                "max_bid": {"status": "REJECTED", "requested_value": "10",
                            "error": {"id": "INVALID_PRICE", "description": "max_bid too low"}}}}}]}));
        assert_eq!(r.outcome(), JobOutcome::Partial);
        assert_eq!(
            r.failure_reasons()[0].describe(),
            "max_bid: max_bid too low"
        );
    }

    #[test]
    fn the_program_id_falls_back_to_a_plain_string_or_a_program_identifier() {
        let plain = receipt(
            json!({"status": "COMPLETED", "business_results": [{"status": "COMPLETED",
            "update_results": {"program_added": {"program_id": "P1"}}}]}),
        );
        assert_eq!(plain.new_program_id().unwrap().as_str(), "P1");
        let ident = receipt(
            json!({"status": "COMPLETED", "business_results": [{"status": "COMPLETED",
            "identifier": "P2", "identifier_type": "PROGRAM"}]}),
        );
        assert_eq!(ident.new_program_id().unwrap().as_str(), "P2");
        let none = receipt(
            json!({"status": "COMPLETED", "business_results": [{"status": "COMPLETED",
            "identifier": "biz", "identifier_type": "BUSINESS",
            "update_results": {"program_added": {"yelp_business_id": {"status": "COMPLETED", "requested_value": "biz"}}}}]}),
        );
        assert_eq!(none.new_program_id(), None);
    }

    #[test]
    fn an_unknown_terminal_status_is_a_failure_with_a_reason() {
        let r = receipt(json!({"status": "EXPLODED"}));
        assert_eq!(r.outcome(), JobOutcome::Rejected);
        assert_eq!(r.failure_reasons()[0].code, "EXPLODED");
    }

    #[test]
    fn receipts_of_the_wrong_form_are_errors_and_odd_members_are_tolerated() {
        assert!(JobReceipt::from_json(json!([])).is_err());
        assert!(JobReceipt::from_json(json!({})).is_err());
        assert!(JobReceipt::from_json(json!({"status": 3})).is_err());
        let r = receipt(
            json!({"status": "COMPLETED", "created_at": "yesterday", "business_results": [1, "x", null,
            {"status": 5, "error": "boom", "update_results": {"g": [1, {"error": {}}]}}]}),
        );
        assert_eq!(r.created_at, None);
        assert_eq!(r.business_results.len(), 1);
    }
}
