//! Asynchronous jobs (contract §5): business rules evaluated on completion, and live-shaped receipts.

use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::model::{
    CpcMetrics, FeePeriod, FutureBudgetChange, MIN_BUDGET_CENTS, NO_END, PacingMethod, PauseStatus,
    Program, ProgramStatus, ProgramType, available_features, is_known_category, logo_upgrade_info,
};
use crate::params::{CreateRequest, EditRequest, Requested, RequestedFields};
use crate::seed::new_id;
use crate::state::World;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// `POST /v1/reseller/program/create`.
    Create,
    /// `POST /v1/reseller/program/{program_id}/edit`.
    Edit,
    /// `POST /v1/reseller/program/{program_id}/end`.
    End,
}

impl JobKind {
    /// The `update_results` group of the receipt.
    fn group(self) -> &'static str {
        match self {
            JobKind::Create => "program_added",
            JobKind::Edit => "program_updated",
            JobKind::End => "program_deleted",
        }
    }
}

/// Status of a job, its business result and its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    /// Not completed yet.
    Processing,
    /// Applied.
    Completed,
    /// Refused by a business rule; nothing changed.
    Rejected,
}

/// What a job was asked to do.
#[derive(Debug, Clone)]
pub(crate) enum Payload {
    Create(CreateRequest),
    Edit {
        program_id: String,
        request: EditRequest,
    },
    End {
        program_id: String,
    },
}

impl Payload {
    pub(crate) fn kind(&self) -> JobKind {
        match self {
            Payload::Create(_) => JobKind::Create,
            Payload::Edit { .. } => JobKind::Edit,
            Payload::End { .. } => JobKind::End,
        }
    }
}

/// A submitted job.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub id: String,
    pub payload: Payload,
    /// Business the receipt reports on.
    pub identifier: String,
    pub requested: RequestedFields,
    pub created_at: DateTime<Utc>,
    pub created: Instant,
    /// Wall-clock completion time shown in the receipt.
    pub due_at: DateTime<Utc>,
    /// The program created, edited or ended.
    pub program_id: Option<String>,
    pub outcome: Option<Outcome>,
}

/// How a job ended.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub status: JobStatus,
    pub business_result: Value,
}

/// ISO-8601 at second precision with an explicit `+00:00` offset.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

fn error(code: &str, message: impl Into<String>) -> Value {
    json!({"code": code, "message": message.into()})
}

fn parent_rejected() -> Value {
    error(
        "PARENT_WAS_REJECTED",
        "ValidationError: the parent of this value was rejected",
    )
}

impl Job {
    /// The receipt of `GET /v1/reseller/status/{job_id}`.
    pub(crate) fn receipt(&self) -> Value {
        match &self.outcome {
            None => {
                let mut group = Map::new();
                flat_fields(&mut group, "PROCESSING", &self.requested);
                json!({
                    "status": JobStatus::Processing,
                    "created_at": timestamp(self.created_at),
                    "completed_at": null,
                    "business_results": [{
                        "status": JobStatus::Processing,
                        "identifier": self.identifier,
                        "identifier_type": "BUSINESS",
                        "update_results": { self.payload.kind().group(): group },
                    }],
                })
            }
            Some(outcome) => json!({
                "status": outcome.status,
                "created_at": timestamp(self.created_at),
                "completed_at": timestamp(self.due_at),
                "business_results": [outcome.business_result],
            }),
        }
    }
}

/// The flat form: every requested field with `status`, lists as arrays of item results.
fn flat_fields(group: &mut Map<String, Value>, status: &str, requested: &RequestedFields) {
    for (key, value) in requested {
        let result = match value {
            Requested::Value(v) => json!({"status": status, "requested_value": v}),
            Requested::List(items) => Value::Array(
                items
                    .iter()
                    .map(|item| json!({"status": status, "requested_value": item}))
                    .collect(),
            ),
        };
        group.insert((*key).to_owned(), result);
    }
}

/// Why a job was rejected.
#[derive(Debug, Default)]
struct Rejection {
    /// Business-level error: no `update_results`.
    business: Option<Value>,
    /// Group-level error; every field is then `PARENT_WAS_REJECTED` unless it has its own.
    group: Option<Value>,
    /// Field errors by key (a key that was not requested is shown with a null value).
    fields: Vec<(&'static str, Value)>,
    /// Item errors of `ad_categories` by index.
    items: Vec<(usize, Value)>,
}

impl Rejection {
    fn business(code: &str, message: impl Into<String>) -> Self {
        Self {
            business: Some(error(code, message)),
            ..Self::default()
        }
    }

    fn group(code: &str, message: impl Into<String>) -> Self {
        Self {
            group: Some(error(code, message)),
            ..Self::default()
        }
    }

    fn field(&mut self, key: &'static str, code: &str, message: impl Into<String>) {
        if !self.fields.iter().any(|(k, _)| *k == key) {
            self.fields.push((key, error(code, message)));
        }
    }

    fn is_empty(&self) -> bool {
        self.business.is_none() && self.group.is_none() && self.fields.is_empty()
    }

    /// Adds item errors for unknown aliases, and the field error that lists their indexes.
    fn check_categories(&mut self, categories: Option<&Vec<String>>) {
        let Some(categories) = categories else { return };
        for (index, alias) in categories.iter().enumerate() {
            if !is_known_category(alias) {
                self.items.push((
                    index,
                    error(
                        "CATEGORY_ALIAS_NOT_RECOGNIZED",
                        format!("ValidationError: `{alias}` is not a recognized category alias"),
                    ),
                ));
            }
        }
        if !self.items.is_empty() {
            let indexes: Vec<String> = self.items.iter().map(|(i, _)| i.to_string()).collect();
            self.field(
                "ad_categories",
                "INVALID_LIST_INDEXES",
                format!(
                    "ValidationError: invalid values at list indexes [{}]",
                    indexes.join(", ")
                ),
            );
        }
    }

    /// The rejected business result.
    fn business_result(
        self,
        kind: JobKind,
        identifier: &str,
        requested: &RequestedFields,
    ) -> Value {
        if let Some(business_error) = self.business {
            return json!({
                "status": JobStatus::Rejected,
                "identifier": identifier,
                "identifier_type": "BUSINESS",
                "error": business_error,
            });
        }
        let group_error = self.group.unwrap_or_else(|| {
            let keys: Vec<&str> = self.fields.iter().map(|(k, _)| *k).collect();
            error(
                "INVALID_OR_MISSING_REQUIRED_KEY",
                format!(
                    "ValidationError: invalid or missing value for key(s): {}",
                    keys.join(", ")
                ),
            )
        });
        let own = |key: &str| {
            self.fields
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, e)| e.clone())
        };
        let mut children = Map::new();
        for (key, value) in requested {
            let field_error = own(key).unwrap_or_else(parent_rejected);
            let requested_value = match value {
                Requested::Value(v) => json!(v),
                Requested::List(items) => Value::Array(
                    items
                        .iter()
                        .enumerate()
                        .map(|(index, item)| {
                            let item_error = self
                                .items
                                .iter()
                                .find(|(i, _)| *i == index)
                                .map(|(_, e)| e.clone())
                                .unwrap_or_else(parent_rejected);
                            json!({"status": JobStatus::Rejected, "requested_value": item, "error": item_error})
                        })
                        .collect(),
                ),
            };
            children.insert(
                (*key).to_owned(),
                json!({"status": JobStatus::Rejected, "requested_value": requested_value, "error": field_error}),
            );
        }
        // Required keys that were not sent are reported with a null value.
        for (key, field_error) in &self.fields {
            if !children.contains_key(*key) {
                children.insert(
                    (*key).to_owned(),
                    json!({"status": JobStatus::Rejected, "requested_value": null, "error": field_error}),
                );
            }
        }
        json!({
            "status": JobStatus::Rejected,
            "identifier": identifier,
            "identifier_type": "BUSINESS",
            "update_results": { kind.group(): {
                "status": JobStatus::Rejected,
                "error": group_error,
                "requested_value": children,
            }},
        })
    }
}

/// Completes `job` against the world as it is now, applying its change when the rules allow.
pub(crate) fn complete(world: &mut World, job: &mut Job) {
    let today = world.today_at(job.due_at);
    let kind = job.payload.kind();
    let result = match &job.payload {
        Payload::Create(request) => create(world, request, today).map(|program_id| {
            let omit = world.roll(world.settings.omit_program_id_rate);
            job.program_id = Some(program_id.clone());
            (!omit).then_some(program_id)
        }),
        Payload::Edit {
            program_id,
            request,
        } => edit(world, program_id, request, today).map(|()| None),
        Payload::End { program_id } => end(world, program_id, today).map(|()| None),
    };
    job.outcome = Some(match result {
        Ok(new_program_id) => {
            let mut group = Map::new();
            flat_fields(&mut group, "COMPLETED", &job.requested);
            if let Some(program_id) = new_program_id {
                group.insert(
                    "program_id".to_owned(),
                    json!({"status": JobStatus::Completed, "requested_value": program_id}),
                );
            }
            Outcome {
                status: JobStatus::Completed,
                business_result: json!({
                    "status": JobStatus::Completed,
                    "identifier": job.identifier,
                    "identifier_type": "BUSINESS",
                    "update_results": { kind.group(): group },
                }),
            }
        }
        Err(rejection) => Outcome {
            status: JobStatus::Rejected,
            business_result: rejection.business_result(kind, &job.identifier, &job.requested),
        },
    });
}

/// Rules that both create and edit apply to a manual bid.
fn check_max_bid(rejection: &mut Rejection, max_bid: i64, budget: Option<i64>, min: i64) {
    if max_bid < min {
        rejection.field(
            "max_bid",
            "INVALID_OR_MISSING_REQUIRED_KEY",
            format!("ValidationError: max_bid must be at least {min} cents"),
        );
    } else if budget.is_some_and(|budget| max_bid > budget) {
        rejection.field(
            "max_bid",
            "BID_TOO_HIGH_FOR_BUDGET",
            "ValidationError: max_bid cannot be higher than the budget",
        );
    }
}

fn create(
    world: &mut World,
    request: &CreateRequest,
    today: NaiveDate,
) -> Result<String, Rejection> {
    let Some(business) = world.business(&request.business_id) else {
        return Err(Rejection::business(
            "BUSINESS_AUTHORIZATION_FAILED",
            "These partner credentials are not authorized to manage this business.",
        ));
    };
    if let Some((code, message)) = business.refusal() {
        return Err(Rejection::business(code, message));
    }
    let explicit_categories = request.cpc.ad_categories.as_ref().filter(|c| !c.is_empty());
    if explicit_categories.is_some() && business.has_unsupported_category() {
        return Err(Rejection::group(
            "UNSUPPORTED_CATEGORIES",
            "ValidationError: the business is in a category that cannot be advertised with ad_categories",
        ));
    }
    let partner_business_id = business.partner_business_id.clone();

    let mut rejection = Rejection::default();
    let start = request.start.unwrap_or(today);
    if start < today {
        rejection.field(
            "start",
            "CANNOT_ADD_PROGRAM_IN_PAST",
            "ValidationError: start cannot be in the past",
        );
    }
    let end = request.end.unwrap_or(NO_END);
    if end <= start {
        rejection.field(
            "end",
            "INVALID_OR_MISSING_REQUIRED_KEY",
            "ValidationError: end must be after start",
        );
    }

    let is_cpc = request.program_type == ProgramType::Cpc;
    let cpc = &request.cpc;
    let is_autobid = cpc.is_autobid.unwrap_or(cpc.max_bid.is_none());
    let max_bid = if is_autobid { None } else { cpc.max_bid };
    if is_cpc {
        match cpc.budget {
            None => rejection.field(
                "budget",
                "INVALID_OR_MISSING_REQUIRED_KEY",
                "ValidationError: budget is required for CPC programs",
            ),
            Some(budget) if budget < MIN_BUDGET_CENTS => rejection.field(
                "budget",
                "INVALID_OR_MISSING_REQUIRED_KEY",
                format!("ValidationError: budget must be at least {MIN_BUDGET_CENTS} cents"),
            ),
            Some(_) => {}
        }
        match max_bid {
            None if !is_autobid => rejection.field(
                "max_bid",
                "INVALID_OR_MISSING_REQUIRED_KEY",
                "ValidationError: max_bid is required when is_autobid is false",
            ),
            Some(bid) => check_max_bid(
                &mut rejection,
                bid,
                cpc.budget,
                world.settings.max_bid_min_cents,
            ),
            None => {}
        }
        if request.currency.as_deref().is_some_and(|c| c != "USD") {
            rejection.field(
                "currency",
                "CURRENCY_MISMATCH",
                "ValidationError: currency does not match the account currency USD",
            );
        }
        rejection.check_categories(explicit_categories);
    }
    if !rejection.is_empty() {
        return Err(rejection);
    }

    let program_type = request.program_type;
    let program_metrics = is_cpc.then(|| CpcMetrics {
        budget: cpc.budget.unwrap_or(MIN_BUDGET_CENTS),
        currency: request.currency.clone().unwrap_or_else(|| "USD".to_owned()),
        is_autobid,
        max_bid,
        fee_period: request.fee_period.unwrap_or(FeePeriod::CalendarMonth),
        billed_impressions: 0,
        billed_clicks: 0,
        ad_cost: 0,
    });
    let program = Program {
        program_id: new_id(&mut world.rng),
        program_type,
        program_status: if start > today {
            ProgramStatus::Inactive
        } else {
            ProgramStatus::Active
        },
        program_pause_status: PauseStatus::NotPaused,
        start_date: start,
        end_date: end,
        active_features: Vec::new(),
        available_features: available_features(program_type).to_vec(),
        ad_categories: explicit_categories.cloned().unwrap_or_default(),
        ad_campaign_id: is_cpc.then(|| new_id(&mut world.rng)),
        program_metrics,
        future_budget_changes: Vec::new(),
        page_upgrade_info: (program_type == ProgramType::Logo).then(logo_upgrade_info),
        yelp_business_id: request.business_id.clone(),
        partner_business_id,
        pacing_method: is_cpc.then(|| cpc.pacing_method.unwrap_or(PacingMethod::Paced)),
        feature_settings: Default::default(),
    };
    let program_id = program.program_id.clone();
    world.insert_program(program);
    Ok(program_id)
}

fn missing_program(program_id: &str) -> Rejection {
    Rejection::group(
        "INVALID_PROGRAM_ID",
        format!("Supplied program ID {program_id} does not exist."),
    )
}

fn expired() -> Rejection {
    Rejection::group(
        "PROGRAM_HAS_EXPIRED",
        "ValidationError: the program has already ended",
    )
}

fn edit(
    world: &mut World,
    program_id: &str,
    request: &EditRequest,
    today: NaiveDate,
) -> Result<(), Rejection> {
    let min_bid = world.settings.max_bid_min_cents;
    let unsupported_business = {
        let Some(program) = world.programs.get(program_id) else {
            return Err(missing_program(program_id));
        };
        world
            .business(&program.yelp_business_id)
            .is_some_and(|b| b.has_unsupported_category())
    };
    let Some(program) = world.programs.get_mut(program_id) else {
        return Err(missing_program(program_id));
    };
    if program.is_ended(today) {
        return Err(expired());
    }
    let cpc = &request.cpc;
    let explicit_categories = cpc.ad_categories.as_ref().filter(|c| !c.is_empty());
    if program.program_type == ProgramType::Cpc
        && explicit_categories.is_some()
        && unsupported_business
    {
        return Err(Rejection::group(
            "UNSUPPORTED_CATEGORIES",
            "ValidationError: the business is in a category that cannot be advertised with ad_categories",
        ));
    }

    let mut rejection = Rejection::default();
    let mut start = program.start_date;
    if let Some(new_start) = request.start {
        if program.start_date <= today {
            rejection.field(
                "start",
                "COULD_NOT_MODIFY_PROGRAM",
                "ValidationError: start can only change before the program starts",
            );
        } else if new_start < today {
            rejection.field(
                "start",
                "CANNOT_ADD_PROGRAM_IN_PAST",
                "ValidationError: start cannot be in the past",
            );
        } else {
            start = new_start;
        }
    }
    if let Some(end) = request.end {
        if end < today || end <= start {
            rejection.field(
                "end",
                "INVALID_OR_MISSING_REQUIRED_KEY",
                "ValidationError: end must be after start and not in the past",
            );
        }
    }

    // The bidding the edit leads to (CPC only): (is_autobid, max_bid).
    let mut bidding = None;
    match program.program_metrics.as_ref() {
        None => {
            let given = [
                ("budget", cpc.budget.is_some()),
                ("is_autobid", cpc.is_autobid.is_some()),
                ("max_bid", cpc.max_bid.is_some()),
                ("pacing_method", cpc.pacing_method.is_some()),
                ("future_budget_date", request.future_budget_date.is_some()),
                ("ad_categories", cpc.ad_categories.is_some()),
            ];
            for (key, given) in given {
                if !given {
                    continue;
                }
                rejection.field(
                    key,
                    "COULD_NOT_MODIFY_PROGRAM",
                    format!(
                        "ValidationError: {key} can only be changed on CPC programs, not {}",
                        program.program_type
                    ),
                );
            }
        }
        Some(metrics) => {
            let scheduled = request.future_budget_date.is_some();
            if let Some(budget) = cpc.budget {
                if budget < MIN_BUDGET_CENTS {
                    rejection.field(
                        "budget",
                        "INVALID_OR_MISSING_REQUIRED_KEY",
                        format!(
                            "ValidationError: budget must be at least {MIN_BUDGET_CENTS} cents"
                        ),
                    );
                } else if !scheduled && budget < metrics.ad_cost {
                    rejection.field(
                        "budget",
                        "CANNOT_DECREASE_BUDGET_BELOW_AMOUNT_ALREADY_SPENT",
                        format!(
                            "ValidationError: budget cannot be below the {} cents already spent",
                            metrics.ad_cost
                        ),
                    );
                }
            }
            if request.future_budget_date.is_some_and(|date| date < today) {
                rejection.field(
                    "future_budget_date",
                    "INVALID_OR_MISSING_REQUIRED_KEY",
                    "ValidationError: future_budget_date cannot be in the past",
                );
            }
            // A max_bid without is_autobid means manual bidding; autobid clears the bid.
            let is_autobid = cpc
                .is_autobid
                .unwrap_or(cpc.max_bid.is_none() && metrics.is_autobid);
            let max_bid = if is_autobid {
                None
            } else {
                cpc.max_bid.or(metrics.max_bid)
            };
            if !is_autobid {
                let budget_now = cpc.budget.filter(|_| !scheduled).unwrap_or(metrics.budget);
                match max_bid {
                    None => rejection.field(
                        "max_bid",
                        "INVALID_OR_MISSING_REQUIRED_KEY",
                        "ValidationError: max_bid is required when is_autobid is false",
                    ),
                    Some(bid) => check_max_bid(&mut rejection, bid, Some(budget_now), min_bid),
                }
            }
            bidding = Some((is_autobid, max_bid));
            rejection.check_categories(explicit_categories);
        }
    }
    if !rejection.is_empty() {
        return Err(rejection);
    }

    program.start_date = start;
    if let Some(end) = request.end {
        program.end_date = end;
    }
    if let Some(metrics) = program.program_metrics.as_mut() {
        match (cpc.budget, request.future_budget_date) {
            (Some(budget), Some(date)) => program
                .future_budget_changes
                .push(FutureBudgetChange { budget, date }),
            (Some(budget), None) => metrics.budget = budget,
            _ => {}
        }
        if let Some((is_autobid, max_bid)) = bidding {
            metrics.is_autobid = is_autobid;
            metrics.max_bid = max_bid;
        }
        if let Some(pacing) = cpc.pacing_method {
            program.pacing_method = Some(pacing);
        }
        if let Some(categories) = &cpc.ad_categories {
            program.ad_categories = categories.clone();
        }
    }
    Ok(())
}

fn end(world: &mut World, program_id: &str, today: NaiveDate) -> Result<(), Rejection> {
    let Some(program) = world.programs.get_mut(program_id) else {
        return Err(missing_program(program_id));
    };
    if program.is_ended(today) {
        return Err(expired());
    }
    // A program that had not started yet is cancelled: it starts and ends today.
    if program.start_date > today {
        program.start_date = today;
    }
    program.end_date = today;
    program.program_status = ProgramStatus::Inactive;
    program.program_pause_status = PauseStatus::NotPaused;
    Ok(())
}
