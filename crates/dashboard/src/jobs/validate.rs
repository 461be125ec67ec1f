//! Checks of program operations before Yelp sees anything. Every failing field is reported, each with a
//! sentence a user understands; money arrives in dollars (JSON numbers or strings) and leaves in cents,
//! converted on the decimal text, never through a float.

use chrono::NaiveDate;
use serde_json::{Map, Value, json};
use yelp_partner_api::{
    BusinessId, Cents, CreateProgram, EditProgram, FeePeriod, PacingMethod, PauseStatus, Program,
    ProgramStatus, ProgramType,
};

use crate::error::{Error, Result};
use crate::store::StoredProgram;

/// Smallest CPC monthly budget Yelp accepts.
pub const MIN_BUDGET: Cents = Cents::new(2500);
/// Smallest maximum bid Yelp accepts (its Ads API page; contract §13).
pub const MIN_MAX_BID: Cents = Cents::new(50);
/// Longest promotion code.
const MAX_PROMOTION_CODE: usize = 120;

const CPC_ONLY: [&str; 7] = [
    "budget",
    "future_budget_date",
    "is_autobid",
    "max_bid",
    "pacing_method",
    "fee_period",
    "ad_categories",
];

/// Every `(field, message)` found so far.
#[derive(Default)]
struct Problems(Vec<(String, String)>);

impl Problems {
    fn add(&mut self, field: &str, message: impl Into<String>) {
        if !self.0.iter().any(|(f, _)| f == field) {
            self.0.push((field.to_owned(), message.into()));
        }
    }

    fn has(&self, field: &str) -> bool {
        self.0.iter().any(|(f, _)| f == field)
    }

    /// The error of problems known to be there.
    fn into_error(self) -> Error {
        Error::InvalidFields(self.0)
    }

    fn finish<T>(self, value: T) -> Result<T> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(Error::InvalidFields(self.0))
        }
    }
}

/// A JSON body's fields, read one by one into typed values; problems are collected, not returned early.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    problems: Problems,
}

impl<'a> Fields<'a> {
    fn new(body: &'a Value, allowed: &[&str]) -> Result<Self> {
        let Some(map) = body.as_object() else {
            return Err(Error::InvalidFields(vec![(
                "body".into(),
                "The request body must be a JSON object".into(),
            )]));
        };
        let mut problems = Problems::default();
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                problems.add(
                    key,
                    format!(
                        "'{}' is not a field of this request; expected one of: {}",
                        short(key),
                        allowed.join(", ")
                    ),
                );
            }
        }
        Ok(Self { map, problems })
    }

    /// The value of `name`, `None` when absent or null.
    fn value(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    fn present(&self, name: &str) -> bool {
        self.value(name).is_some()
    }

    fn text(&mut self, name: &str) -> Option<String> {
        match self.value(name)? {
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) => Some(s.trim().to_owned()),
            _ => {
                self.problems.add(name, format!("{name} must be text"));
                None
            }
        }
    }

    fn date(&mut self, name: &str) -> Option<NaiveDate> {
        let text = self.text(name)?;
        let parsed = (text.len() == 10)
            .then(|| NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok())
            .flatten();
        if parsed.is_none() {
            self.problems.add(
                name,
                format!(
                    "{name} must be a date written YYYY-MM-DD, not '{}'",
                    short(&text)
                ),
            );
        }
        parsed
    }

    fn boolean(&mut self, name: &str) -> Option<bool> {
        match self.value(name)? {
            Value::Bool(b) => Some(*b),
            _ => {
                self.problems
                    .add(name, format!("{name} must be true or false"));
                None
            }
        }
    }

    /// Dollars as a JSON number or string; the number's own decimal text is parsed.
    fn dollars(&mut self, name: &str, label: &str) -> Option<Cents> {
        let text = match self.value(name)? {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => String::new(),
        };
        match Cents::parse_dollars(&text) {
            Ok(cents) if cents.get() >= 0 => Some(cents),
            _ => {
                self.problems.add(
                    name,
                    format!("{label} must be an amount in dollars, such as 300.00"),
                );
                None
            }
        }
    }

    fn categories(&mut self, name: &str) -> Option<Vec<String>> {
        let Value::Array(items) = self.value(name)? else {
            self.problems.add(
                name,
                format!("{name} must be a list of Yelp category aliases, such as [\"plumbing\"]"),
            );
            return None;
        };
        let mut aliases = Vec::with_capacity(items.len());
        for item in items {
            match item.as_str() {
                Some(alias) if is_alias(alias) => aliases.push(alias.to_owned()),
                Some(alias) => {
                    self.problems.add(
                        name,
                        format!(
                            "Category '{}' is not a Yelp category alias: use lowercase aliases without spaces, such as 'plumbing'",
                            short(alias)
                        ),
                    );
                    return None;
                }
                None => {
                    self.problems
                        .add(name, format!("{name} must be a list of category aliases"));
                    return None;
                }
            }
        }
        Some(aliases)
    }

    fn parsed<T>(&mut self, name: &str, what: &str) -> Option<T>
    where
        T: std::str::FromStr,
    {
        let text = self.text(name)?;
        match text.parse() {
            Ok(v) => Some(v),
            Err(_) => {
                self.problems.add(
                    name,
                    format!("{name} must be {what}, not '{}'", short(&text)),
                );
                None
            }
        }
    }
}

/// Yelp's category aliases: lowercase letters, digits, `_` and `-`, no spaces.
fn is_alias(alias: &str) -> bool {
    !alias.is_empty()
        && alias.len() <= 64
        && alias
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// User input echoed in a message, cut to a readable length.
fn short(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

const CREATE_FIELDS: [&str; 12] = [
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
    "currency",
];

/// A create request (`POST /api/reseller/program/create`), checked whole.
pub fn create(body: &Value, today: NaiveDate) -> Result<CreateProgram> {
    let mut f = Fields::new(body, &CREATE_FIELDS)?;
    let business_id = match f.text("business_id") {
        None => {
            f.problems.add("business_id", "business_id is required");
            None
        }
        Some(b) => match BusinessId::parse(&b) {
            Ok(id) => Some(id),
            Err(e) => {
                f.problems.add("business_id", format!("business_id: {e}"));
                None
            }
        },
    };
    let program_type = match f.text("program_name") {
        None => {
            f.problems.add(
                "program_name",
                "program_name (the program type, e.g. CPC) is required",
            );
            None
        }
        Some(t) => {
            let parsed = ProgramType::from_wire(&t.to_ascii_uppercase());
            if parsed.is_known() {
                Some(parsed)
            } else {
                let known: Vec<&str> = ProgramType::KNOWN.iter().map(ProgramType::as_str).collect();
                f.problems.add(
                    "program_name",
                    format!(
                        "'{}' is not a program type; expected one of: {}",
                        short(&t),
                        known.join(", ")
                    ),
                );
                None
            }
        }
    };
    let start = f.date("start");
    if start.is_some_and(|s| s < today) {
        f.problems
            .add("start", "The start date cannot be in the past");
    }
    let end = f.date("end");
    if let Some(end) = end {
        if end <= start.unwrap_or(today) {
            f.problems
                .add("end", "The end date must be after the start date");
        }
    }
    let promotion_code = f.text("promotion_code");
    if promotion_code
        .as_ref()
        .is_some_and(|p| p.chars().count() > MAX_PROMOTION_CODE)
    {
        f.problems.add(
            "promotion_code",
            format!("promotion_code must be at most {MAX_PROMOTION_CODE} characters"),
        );
    }
    let currency = f.text("currency");
    if currency.as_ref().is_some_and(|c| c != "USD") {
        f.problems.add("currency", "currency must be USD");
    }
    let is_cpc = program_type.as_ref() == Some(&ProgramType::Cpc);
    let mut request = program_type
        .clone()
        .zip(business_id.clone())
        .map(|(t, b)| CreateProgram::new(b, t));
    if program_type.is_some() && !is_cpc {
        for name in CPC_ONLY {
            if f.present(name) {
                f.problems
                    .add(name, format!("{name} applies only to CPC programs"));
            }
        }
        return f.problems.finish(()).and_then(|()| {
            let mut r = request.ok_or_else(|| Error::Invalid("incomplete request".into()))?;
            r.start = start;
            r.end = end;
            r.promotion_code = promotion_code;
            Ok(r)
        });
    }
    let budget = f.dollars("budget", "Budget");
    if is_cpc && budget.is_none() && !f.problems.has("budget") {
        f.problems
            .add("budget", "Budget is required for CPC programs");
    }
    if budget.is_some_and(|b| b < MIN_BUDGET) {
        f.problems.add("budget", "Budget must be at least $25.00");
    }
    let bidding = bidding(&mut f, None);
    let pacing_method = f.parsed::<PacingMethod>("pacing_method", "paced or unpaced");
    let fee_period = f.parsed::<FeePeriod>("fee_period", "CALENDAR_MONTH or ROLLING_MONTH");
    let categories = f.categories("ad_categories");
    if f.present("future_budget_date") {
        f.problems.add(
            "future_budget_date",
            "future_budget_date can only be given when editing a program",
        );
    }
    let problems = std::mem::take(&mut f.problems);
    problems.finish(())?;
    let mut r = request
        .take()
        .ok_or_else(|| Error::Invalid("incomplete request".into()))?;
    r.start = start;
    r.end = end;
    r.promotion_code = promotion_code;
    r.budget = budget;
    (r.is_autobid, r.max_bid) = bidding;
    r.pacing_method = pacing_method;
    r.fee_period = fee_period;
    r.ad_categories = categories.unwrap_or_default();
    Ok(r)
}

/// `is_autobid` and `max_bid` together: a bid without `is_autobid` means manual bidding; manual bidding
/// needs a bid (here or, for an edit, already on the program).
fn bidding(f: &mut Fields<'_>, current_max_bid: Option<i64>) -> (Option<bool>, Option<Cents>) {
    let is_autobid = f.boolean("is_autobid");
    let max_bid = f.dollars("max_bid", "Maximum bid");
    if max_bid.is_some_and(|b| b < MIN_MAX_BID) {
        f.problems.add(
            "max_bid",
            format!("Maximum bid must be at least {MIN_MAX_BID}"),
        );
    }
    match (is_autobid, max_bid) {
        (Some(true), Some(_)) => f
            .problems
            .add("max_bid", "max_bid applies only when is_autobid is false"),
        (Some(false), None) if current_max_bid.is_none() && !f.problems.has("max_bid") => f
            .problems
            .add("max_bid", "max_bid is required when is_autobid is false"),
        _ => {}
    }
    let is_autobid = match (is_autobid, max_bid) {
        (None, Some(_)) => Some(false),
        (flag, _) => flag,
    };
    (is_autobid, max_bid)
}

const EDIT_FIELDS: [&str; 8] = [
    "start",
    "end",
    "budget",
    "future_budget_date",
    "is_autobid",
    "max_bid",
    "pacing_method",
    "ad_categories",
];

/// An edit of `program` (`POST /api/reseller/program/{id}/edit`), checked against the mirror's copy.
pub fn edit(body: &Value, program: &StoredProgram, today: NaiveDate) -> Result<EditProgram> {
    let mut f = Fields::new(body, &EDIT_FIELDS)?;
    let is_cpc = program.program_type == ProgramType::Cpc.as_str();
    if !is_cpc {
        for name in CPC_ONLY {
            if f.present(name) {
                f.problems.add(
                    name,
                    format!(
                        "{name} applies only to CPC programs; this one is {}",
                        program.program_type
                    ),
                );
            }
        }
    }
    let current_start = program.start_date.as_deref().and_then(|s| s.parse().ok());
    let start = f.date("start");
    if start.is_some() && current_start.is_some_and(|s: NaiveDate| s <= today) {
        f.problems.add(
            "start",
            "The start date can only change before the program starts",
        );
    } else if start.is_some_and(|s| s < today) {
        f.problems
            .add("start", "The start date cannot be in the past");
    }
    let end = f.date("end");
    if let (Some(end), Some(first)) = (end, start.or(current_start)) {
        if end <= first {
            f.problems
                .add("end", "The end date must be after the start date");
        }
    }
    let budget = f.dollars("budget", "Budget");
    if budget.is_some_and(|b| b < MIN_BUDGET) {
        f.problems.add("budget", "Budget must be at least $25.00");
    }
    let future_budget_date = f.date("future_budget_date");
    if future_budget_date.is_some() && budget.is_none() && !f.problems.has("budget") {
        f.problems.add(
            "future_budget_date",
            "future_budget_date needs the budget that starts on that day",
        );
    } else if future_budget_date.is_some_and(|d| d < today) {
        f.problems.add(
            "future_budget_date",
            "future_budget_date cannot be in the past",
        );
    }
    let (is_autobid, max_bid) = if is_cpc {
        bidding(&mut f, program.max_bid_cents)
    } else {
        (None, None)
    };
    let pacing_method = f.parsed::<PacingMethod>("pacing_method", "paced or unpaced");
    let ad_categories = f.categories("ad_categories");
    let edit = EditProgram {
        start,
        end,
        budget,
        future_budget_date,
        is_autobid,
        max_bid,
        pacing_method,
        ad_categories,
    };
    if f.problems.0.is_empty() && edit.is_empty() {
        f.problems.add(
            "body",
            format!(
                "Nothing to change: give at least one of {}",
                EDIT_FIELDS.join(", ")
            ),
        );
    }
    f.problems.finish(edit)
}

/// A new program like `source` (type, business, categories, bidding) with the body's `start`, `end` and
/// `budget`; the fee period is not copied (Yelp refuses it on some accounts).
pub fn duplicate(body: &Value, source: &StoredProgram, today: NaiveDate) -> Result<CreateProgram> {
    let f = Fields::new(body, &["start", "end", "budget"])?;
    let mut problems = f.problems;
    let Some(business_id) = source.business_id.clone() else {
        problems.add(
            "program_id",
            "The program has no business on record; sync the programs first",
        );
        return Err(problems.into_error());
    };
    let program: Option<Program> = serde_json::from_str(&source.raw).ok();
    let mut like = Map::new();
    like.insert("business_id".into(), json!(business_id));
    like.insert("program_name".into(), json!(source.program_type));
    for key in ["start", "end", "budget"] {
        if let Some(v) = body.get(key) {
            like.insert(key.into(), v.clone());
        }
    }
    if source.program_type == ProgramType::Cpc.as_str() {
        if !like.contains_key("budget") {
            if let Some(b) = source.budget_cents {
                like.insert("budget".into(), json!(Cents::new(b).to_dollars_string()));
            }
        }
        let metrics = program.as_ref().and_then(|p| p.program_metrics.clone());
        let autobid = metrics.as_ref().and_then(|m| m.is_autobid);
        match (autobid, source.max_bid_cents) {
            (Some(false), Some(bid)) => {
                like.insert("is_autobid".into(), json!(false));
                like.insert("max_bid".into(), json!(Cents::new(bid).to_dollars_string()));
            }
            (Some(true), _) => {
                like.insert("is_autobid".into(), json!(true));
            }
            _ => {}
        }
        if let Some(p) = &program {
            if !p.ad_categories.is_empty() {
                like.insert("ad_categories".into(), json!(p.ad_categories));
            }
        }
    }
    match create(&Value::Object(like), today) {
        Ok(request) => problems.finish(request),
        Err(Error::InvalidFields(more)) => {
            for (field, message) in more {
                problems.add(&field, message);
            }
            Err(problems.into_error())
        }
        Err(e) => Err(e),
    }
}

fn date_of(text: Option<&str>) -> Option<NaiveDate> {
    text.and_then(|s| s.parse().ok())
}

/// Whether the mirror's copy says the program has ended.
fn has_ended(program: &StoredProgram, today: NaiveDate) -> bool {
    let end = date_of(program.end_date.as_deref());
    let start = date_of(program.start_date.as_deref());
    end.is_some_and(|e| e < today)
        || (program.program_status == ProgramStatus::Inactive
            && start.is_some_and(|s| s <= today)
            && end.is_some_and(|e| e <= today))
}

fn refuse(message: &str) -> Result<()> {
    Err(Error::InvalidFields(vec![(
        "program_id".into(),
        message.to_owned(),
    )]))
}

/// Ending is for programs that have not ended.
pub fn end(program: &StoredProgram, today: NaiveDate) -> Result<()> {
    if has_ended(program, today) {
        return refuse("The program has already ended");
    }
    Ok(())
}

/// Pausing is for a running CPC program (active, started, not ended, not paused).
pub fn pause(program: &StoredProgram, today: NaiveDate) -> Result<()> {
    if program.program_type != ProgramType::Cpc.as_str() {
        return refuse(&format!(
            "Only CPC programs can be paused; this one is {}",
            program.program_type
        ));
    }
    if program.pause_status == PauseStatus::Paused {
        return refuse("The program is already paused");
    }
    let started = date_of(program.start_date.as_deref()).is_none_or(|s| s <= today);
    if program.program_status != ProgramStatus::Active || !started || has_ended(program, today) {
        return refuse("Only a running program can be paused; this one is not running");
    }
    Ok(())
}

/// Resuming is for a paused CPC program.
pub fn resume(program: &StoredProgram) -> Result<()> {
    if program.program_type != ProgramType::Cpc.as_str() {
        return refuse(&format!(
            "Only CPC programs can be resumed; this one is {}",
            program.program_type
        ));
    }
    if program.pause_status != PauseStatus::Paused {
        return refuse("Only a paused program can be resumed; this one is not paused");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2030, 1, 10).unwrap()
    }

    fn fields(e: Error) -> Vec<String> {
        match e {
            Error::InvalidFields(f) => f.into_iter().map(|(f, _)| f).collect(),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn dollars_become_exact_cents_without_a_float() {
        let body = json!({"business_id": "b1", "program_name": "CPC", "budget": 300.29,
                          "max_bid": "0.57", "start": "2030-01-10"});
        let r = create(&body, today()).unwrap();
        assert_eq!(r.budget, Some(Cents::new(30029)));
        // 0.57 × 100 is 56.999… in floating point.
        assert_eq!(r.max_bid, Some(Cents::new(57)));
        assert_eq!(r.is_autobid, Some(false));
    }

    fn running_cpc() -> StoredProgram {
        StoredProgram {
            program_id: "p1".into(),
            business_id: Some("b1".into()),
            partner_business_id: None,
            program_type: "CPC".into(),
            program_status: ProgramStatus::Active,
            pause_status: PauseStatus::NotPaused,
            start_date: Some("2030-01-01".into()),
            end_date: None,
            budget_cents: Some(30000),
            max_bid_cents: None,
            is_autobid: None,
            currency: None,
            fee_period: None,
            billed_impressions: None,
            billed_clicks: None,
            ad_cost_cents: Some(0),
            raw: "{}".into(),
            first_seen_at: 0,
            updated_at: 0,
            removed_at: None,
        }
    }

    #[test]
    fn a_max_bid_of_49_cents_is_refused_and_50_cents_accepted_on_create_and_edit() {
        let create_with = |bid: &str| {
            create(
                &json!({"business_id": "b1", "program_name": "CPC", "budget": 300,
                        "is_autobid": false, "max_bid": bid, "start": "2030-01-10"}),
                today(),
            )
        };
        match create_with("0.49").unwrap_err() {
            Error::InvalidFields(found) => assert_eq!(
                found,
                [(
                    "max_bid".to_owned(),
                    "Maximum bid must be at least $0.50".to_owned()
                )]
            ),
            other => panic!("{other}"),
        }
        assert_eq!(create_with("0.50").unwrap().max_bid, Some(Cents::new(50)));

        let edit_with = |bid: &str| {
            edit(
                &json!({"is_autobid": false, "max_bid": bid}),
                &running_cpc(),
                today(),
            )
        };
        assert_eq!(fields(edit_with("0.49").unwrap_err()), ["max_bid"]);
        assert_eq!(edit_with("0.50").unwrap().max_bid, Some(Cents::new(50)));
    }

    #[test]
    fn every_failing_field_is_reported_at_once() {
        let body = json!({"business_id": "b1", "program_name": "CPC", "budget": 10, "max_bid": 0.1,
                          "start": "2030-01-09", "end": "2030-01-01", "ad_categories": ["Restaurants"],
                          "pacing_method": "fast"});
        let mut got = fields(create(&body, today()).unwrap_err());
        got.sort();
        assert_eq!(
            got,
            [
                "ad_categories",
                "budget",
                "end",
                "max_bid",
                "pacing_method",
                "start"
            ]
        );
        let body = json!({"business_id": "b1", "program_name": "EP", "budget": 100});
        assert_eq!(fields(create(&body, today()).unwrap_err()), ["budget"]);
        let body = json!({"program_name": "XX"});
        assert_eq!(
            fields(create(&body, today()).unwrap_err()),
            ["business_id", "program_name"]
        );
    }
}
