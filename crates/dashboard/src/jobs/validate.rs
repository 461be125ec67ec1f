//! Checks of program operations before Yelp sees anything. A request arrives as a typed draft
//! ([`super::draft`]) whose fields may hold values of the wrong kind; the checks read it field by field
//! and report every failing field at once, each with a sentence a user understands. Money arrives in
//! dollars (JSON numbers or text) and leaves in cents, converted on the decimal text, never through a
//! float.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::NaiveDate;
use serde_json::Value;
use yelp_partner_api::{
    BusinessId, Cents, CreateProgram, EditProgram, FeePeriod, PacingMethod, PauseStatus, Program,
    ProgramStatus, ProgramType,
};

use super::draft::{CreateDraft, Dollars, DuplicateDraft, EditDraft, Loose};
use crate::error::{Error, Result};
use crate::store::StoredProgram;

/// Smallest CPC monthly budget Yelp accepts.
pub const MIN_BUDGET: Cents = Cents::new(2500);
/// Smallest maximum bid Yelp accepts (its Ads API page; contract §13).
pub const MIN_MAX_BID: Cents = Cents::new(50);
/// Longest promotion code.
const MAX_PROMOTION_CODE: usize = 120;

/// The fields of a create, as the error of an unknown one lists them.
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

/// The fields of an edit.
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

/// The fields of a duplicate.
const DUPLICATE_FIELDS: [&str; 3] = ["start", "end", "budget"];

/// Every `(field, message)` found so far; the first message of a field is the one kept.
#[derive(Default)]
struct Problems(Vec<(String, String)>);

impl Problems {
    fn add(&mut self, field: &str, message: impl Into<String>) {
        if !self.has(field) {
            self.0.push((field.to_owned(), message.into()));
        }
    }

    fn has(&self, field: &str) -> bool {
        self.0.iter().any(|(f, _)| f == field)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The error of the problems found.
    fn into_error(self) -> Error {
        Error::InvalidFields(self.0)
    }

    fn finish<T>(self, value: T) -> Result<T> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self.into_error())
        }
    }

    /// Names each field the request does not have.
    fn unknown(&mut self, unknown: &BTreeMap<String, Value>, allowed: &[&str]) {
        for name in unknown.keys() {
            self.add(
                name,
                format!(
                    "'{}' is not a field of this request; expected one of: {}",
                    short(name),
                    allowed.join(", ")
                ),
            );
        }
    }

    /// Text, trimmed; empty text is not given.
    fn text(&mut self, name: &str, value: Option<Loose<String>>) -> Option<String> {
        match value? {
            Loose::Given(text) => Some(text.trim().to_owned()).filter(|t| !t.is_empty()),
            Loose::Other(_) => {
                self.add(name, format!("{name} must be text"));
                None
            }
        }
    }

    fn date(&mut self, name: &str, value: Option<Loose<String>>) -> Option<NaiveDate> {
        let text = self.text(name, value)?;
        let parsed = (text.len() == 10)
            .then(|| NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok())
            .flatten();
        if parsed.is_none() {
            self.add(
                name,
                format!(
                    "{name} must be a date written YYYY-MM-DD, not '{}'",
                    short(&text)
                ),
            );
        }
        parsed
    }

    fn boolean(&mut self, name: &str, value: Option<Loose<bool>>) -> Option<bool> {
        match value? {
            Loose::Given(flag) => Some(flag),
            Loose::Other(_) => {
                self.add(name, format!("{name} must be true or false"));
                None
            }
        }
    }

    /// Dollars, parsed on their decimal text.
    fn dollars(&mut self, name: &str, label: &str, value: Option<Loose<Dollars>>) -> Option<Cents> {
        let cents = match value? {
            Loose::Given(Dollars(text)) => Cents::parse_dollars(&text).ok(),
            Loose::Other(_) => None,
        };
        match cents {
            Some(cents) if cents.get() >= 0 => Some(cents),
            _ => {
                self.add(
                    name,
                    format!("{label} must be an amount in dollars, such as 300.00"),
                );
                None
            }
        }
    }

    fn categories(&mut self, name: &str, value: Option<Loose<Vec<String>>>) -> Option<Vec<String>> {
        let aliases = match value? {
            Loose::Given(aliases) => aliases,
            Loose::Other(Value::Array(_)) => {
                self.add(name, format!("{name} must be a list of category aliases"));
                return None;
            }
            Loose::Other(_) => {
                self.add(
                    name,
                    format!(
                        "{name} must be a list of Yelp category aliases, such as [\"plumbing\"]"
                    ),
                );
                return None;
            }
        };
        if let Some(bad) = aliases.iter().find(|a| !is_alias(a)) {
            self.add(
                name,
                format!(
                    "Category '{}' is not a Yelp category alias: use lowercase aliases without \
                     spaces, such as 'plumbing'",
                    short(bad)
                ),
            );
            return None;
        }
        Some(aliases)
    }

    /// Text that names one of a type's values (`paced`, `CALENDAR_MONTH`, …).
    fn parsed<T: FromStr>(
        &mut self,
        name: &str,
        what: &str,
        value: Option<Loose<String>>,
    ) -> Option<T> {
        let text = self.text(name, value)?;
        let parsed = text.parse().ok();
        if parsed.is_none() {
            self.add(
                name,
                format!("{name} must be {what}, not '{}'", short(&text)),
            );
        }
        parsed
    }

    /// `is_autobid` and `max_bid` together: a bid without `is_autobid` means manual bidding; manual
    /// bidding needs a bid (here or, for an edit, already on the program).
    fn bidding(
        &mut self,
        is_autobid: Option<Loose<bool>>,
        max_bid: Option<Loose<Dollars>>,
        current_max_bid: Option<i64>,
    ) -> (Option<bool>, Option<Cents>) {
        let is_autobid = self.boolean("is_autobid", is_autobid);
        let max_bid = self.dollars("max_bid", "Maximum bid", max_bid);
        if max_bid.is_some_and(|b| b < MIN_MAX_BID) {
            self.add(
                "max_bid",
                format!("Maximum bid must be at least {MIN_MAX_BID}"),
            );
        }
        match (is_autobid, max_bid) {
            (Some(true), Some(_)) => {
                self.add("max_bid", "max_bid applies only when is_autobid is false");
            }
            (Some(false), None) if current_max_bid.is_none() && !self.has("max_bid") => {
                self.add("max_bid", "max_bid is required when is_autobid is false");
            }
            _ => {}
        }
        let is_autobid = match (is_autobid, max_bid) {
            (None, Some(_)) => Some(false),
            (flag, _) => flag,
        };
        (is_autobid, max_bid)
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

/// Whether a create or a duplicate was confirmed although an identical one was asked for minutes ago.
pub fn confirmation(value: Option<&Loose<bool>>) -> Result<bool> {
    match value {
        None => Ok(false),
        Some(Loose::Given(flag)) => Ok(*flag),
        Some(Loose::Other(_)) => Err(Error::InvalidFields(vec![(
            "confirm_duplicate".into(),
            "confirm_duplicate must be true or false".into(),
        )])),
    }
}

/// The CPC-only fields a create gives.
fn cpc_fields_of_create(d: &CreateDraft) -> Vec<&'static str> {
    [
        ("budget", d.budget.is_some()),
        ("is_autobid", d.is_autobid.is_some()),
        ("max_bid", d.max_bid.is_some()),
        ("pacing_method", d.pacing_method.is_some()),
        ("fee_period", d.fee_period.is_some()),
        ("ad_categories", d.ad_categories.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, given)| given.then_some(name))
    .collect()
}

/// The CPC-only fields an edit gives.
fn cpc_fields_of_edit(d: &EditDraft) -> Vec<&'static str> {
    [
        ("budget", d.budget.is_some()),
        ("future_budget_date", d.future_budget_date.is_some()),
        ("is_autobid", d.is_autobid.is_some()),
        ("max_bid", d.max_bid.is_some()),
        ("pacing_method", d.pacing_method.is_some()),
        ("ad_categories", d.ad_categories.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, given)| given.then_some(name))
    .collect()
}

/// A create request (`POST /api/reseller/program/create`), checked whole. Its `confirm_duplicate` is
/// read by [`confirmation`].
pub fn create(draft: CreateDraft, today: NaiveDate) -> Result<CreateProgram> {
    let mut p = Problems::default();
    let mut unknown = draft.unknown.clone();
    if unknown.remove("future_budget_date").is_some() {
        p.add(
            "future_budget_date",
            "future_budget_date can only be given when editing a program",
        );
    }
    p.unknown(&unknown, &CREATE_FIELDS);
    let cpc_fields = cpc_fields_of_create(&draft);
    let business_id = match p.text("business_id", draft.business_id) {
        None => {
            p.add("business_id", "business_id is required");
            None
        }
        Some(b) => match BusinessId::parse(&b) {
            Ok(id) => Some(id),
            Err(e) => {
                p.add("business_id", format!("business_id: {e}"));
                None
            }
        },
    };
    let program_type = match p.text("program_name", draft.program_name) {
        None => {
            p.add(
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
                p.add(
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
    let start = p.date("start", draft.start);
    if start.is_some_and(|s| s < today) {
        p.add("start", "The start date cannot be in the past");
    }
    let end = p.date("end", draft.end);
    if end.is_some_and(|end| end <= start.unwrap_or(today)) {
        p.add("end", "The end date must be after the start date");
    }
    let promotion_code = p.text("promotion_code", draft.promotion_code);
    if promotion_code
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_PROMOTION_CODE)
    {
        p.add(
            "promotion_code",
            format!("promotion_code must be at most {MAX_PROMOTION_CODE} characters"),
        );
    }
    if p.text("currency", draft.currency)
        .is_some_and(|c| c != "USD")
    {
        p.add("currency", "currency must be USD");
    }
    // A type that is not CPC takes none of CPC's fields; an unknown type is checked as CPC would be.
    let is_cpc = program_type.as_ref().is_none_or(|t| *t == ProgramType::Cpc);
    let mut cpc = CpcFields::default();
    if is_cpc {
        cpc.budget = p.dollars("budget", "Budget", draft.budget);
        if program_type.is_some() && cpc.budget.is_none() && !p.has("budget") {
            p.add("budget", "Budget is required for CPC programs");
        }
        if cpc.budget.is_some_and(|b| b < MIN_BUDGET) {
            p.add("budget", "Budget must be at least $25.00");
        }
        (cpc.is_autobid, cpc.max_bid) = p.bidding(draft.is_autobid, draft.max_bid, None);
        cpc.pacing_method = p.parsed("pacing_method", "paced or unpaced", draft.pacing_method);
        cpc.fee_period = p.parsed(
            "fee_period",
            "CALENDAR_MONTH or ROLLING_MONTH",
            draft.fee_period,
        );
        cpc.ad_categories = p
            .categories("ad_categories", draft.ad_categories)
            .unwrap_or_default();
    } else {
        for name in cpc_fields {
            p.add(name, format!("{name} applies only to CPC programs"));
        }
    }
    let mut request = match (business_id, program_type) {
        (Some(b), Some(t)) if p.is_empty() => CreateProgram::new(b, t),
        // A missing or unreadable business or type has its problem.
        _ => return Err(p.into_error()),
    };
    request.start = start;
    request.end = end;
    request.promotion_code = promotion_code;
    request.budget = cpc.budget;
    request.is_autobid = cpc.is_autobid;
    request.max_bid = cpc.max_bid;
    request.pacing_method = cpc.pacing_method;
    request.fee_period = cpc.fee_period;
    request.ad_categories = cpc.ad_categories;
    Ok(request)
}

/// The CPC fields of a create, once checked.
#[derive(Default)]
struct CpcFields {
    budget: Option<Cents>,
    is_autobid: Option<bool>,
    max_bid: Option<Cents>,
    pacing_method: Option<PacingMethod>,
    fee_period: Option<FeePeriod>,
    ad_categories: Vec<String>,
}

/// An edit of `program` (`POST /api/reseller/program/{id}/edit`), checked against the mirror's copy.
pub fn edit(draft: EditDraft, program: &StoredProgram, today: NaiveDate) -> Result<EditProgram> {
    let mut p = Problems::default();
    p.unknown(&draft.unknown, &EDIT_FIELDS);
    let is_cpc = program.program_type == ProgramType::Cpc.as_str();
    if !is_cpc {
        for name in cpc_fields_of_edit(&draft) {
            p.add(
                name,
                format!(
                    "{name} applies only to CPC programs; this one is {}",
                    program.program_type
                ),
            );
        }
    }
    let current_start = date_of(program.start_date.as_deref());
    let start = p.date("start", draft.start);
    if start.is_some() && current_start.is_some_and(|s| s <= today) {
        p.add(
            "start",
            "The start date can only change before the program starts",
        );
    } else if start.is_some_and(|s| s < today) {
        p.add("start", "The start date cannot be in the past");
    }
    let end = p.date("end", draft.end);
    if let (Some(end), Some(first)) = (end, start.or(current_start)) {
        if end <= first {
            p.add("end", "The end date must be after the start date");
        }
    }
    let budget = p.dollars("budget", "Budget", draft.budget);
    if budget.is_some_and(|b| b < MIN_BUDGET) {
        p.add("budget", "Budget must be at least $25.00");
    } else if let (Some(b), Some(spent)) = (budget, program.ad_cost_cents) {
        // Yelp refuses it (its receipt says so): known from the mirror, it need not be sent to learn it.
        if b.get() < spent && draft.future_budget_date.is_none() {
            p.add(
                "budget",
                format!(
                    "The budget cannot be lower than the {} already spent this period",
                    Cents::new(spent)
                ),
            );
        }
    }
    let future_budget_date = p.date("future_budget_date", draft.future_budget_date);
    if future_budget_date.is_some() && budget.is_none() && !p.has("budget") {
        p.add(
            "future_budget_date",
            "future_budget_date needs the budget that starts on that day",
        );
    } else if future_budget_date.is_some_and(|d| d < today) {
        p.add(
            "future_budget_date",
            "future_budget_date cannot be in the past",
        );
    }
    let (is_autobid, max_bid) = if is_cpc {
        p.bidding(draft.is_autobid, draft.max_bid, program.max_bid_cents)
    } else {
        (None, None)
    };
    let pacing_method = p.parsed("pacing_method", "paced or unpaced", draft.pacing_method);
    let ad_categories = p.categories("ad_categories", draft.ad_categories);
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
    if p.is_empty() && edit.is_empty() {
        p.add(
            "body",
            format!(
                "Nothing to change: give at least one of {}",
                EDIT_FIELDS.join(", ")
            ),
        );
    }
    p.finish(edit)
}

/// A new program like `source` (type, business, categories, bidding) with the draft's `start`, `end` and
/// `budget` (the source's budget when it gives none); the fee period is not copied (Yelp refuses it on
/// some accounts). Its `confirm_duplicate` is read by [`confirmation`].
pub fn duplicate(
    draft: DuplicateDraft,
    source: &StoredProgram,
    today: NaiveDate,
) -> Result<CreateProgram> {
    let mut p = Problems::default();
    p.unknown(&draft.unknown, &DUPLICATE_FIELDS);
    let Some(business_id) = source.business_id.clone() else {
        p.add(
            "program_id",
            "The program has no business on record; sync the programs first",
        );
        return Err(p.into_error());
    };
    let mut like = CreateDraft {
        business_id: Some(business_id.into()),
        program_name: Some(source.program_type.clone().into()),
        start: draft.start,
        end: draft.end,
        ..CreateDraft::default()
    };
    if source.program_type == ProgramType::Cpc.as_str() {
        like.budget = draft.budget.or_else(|| {
            source
                .budget_cents
                .map(|b| Dollars(Cents::new(b).to_dollars_string()).into())
        });
        let program: Option<Program> = serde_json::from_str(&source.raw).ok();
        let autobid = program
            .as_ref()
            .and_then(|p| p.program_metrics.as_ref())
            .and_then(|m| m.is_autobid);
        match (autobid, source.max_bid_cents) {
            (Some(false), Some(bid)) => {
                like.is_autobid = Some(false.into());
                like.max_bid = Some(Dollars(Cents::new(bid).to_dollars_string()).into());
            }
            (Some(true), _) => like.is_autobid = Some(true.into()),
            _ => {}
        }
        like.ad_categories = program
            .map(|p| p.ad_categories)
            .filter(|c| !c.is_empty())
            .map(Loose::from);
    } else {
        like.budget = draft.budget;
    }
    match create(like, today) {
        Ok(request) => p.finish(request),
        Err(Error::InvalidFields(more)) => {
            for (field, message) in more {
                p.add(&field, message);
            }
            Err(p.into_error())
        }
        Err(e) => Err(e),
    }
}

fn date_of(text: Option<&str>) -> Option<NaiveDate> {
    text.and_then(|s| s.parse().ok())
}

/// Whether the mirror's copy says the program has ended.
pub fn has_ended(program: &StoredProgram, today: NaiveDate) -> bool {
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
    use serde::de::DeserializeOwned;
    use serde_json::json;

    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2030, 1, 10).unwrap()
    }

    fn draft<T: DeserializeOwned>(body: Value) -> T {
        serde_json::from_value(body).unwrap()
    }

    fn fields(e: Error) -> Vec<String> {
        match e {
            Error::InvalidFields(f) => f.into_iter().map(|(f, _)| f).collect(),
            other => panic!("{other}"),
        }
    }

    fn messages(e: Error) -> Vec<(String, String)> {
        match e {
            Error::InvalidFields(f) => f,
            other => panic!("{other}"),
        }
    }

    /// The names each error lists are the drafts' own fields, so a field added to one is not refused as
    /// unknown and a list does not name a field that is not read.
    #[test]
    fn the_listed_fields_are_the_fields_of_the_drafts() {
        fn all_known<T: DeserializeOwned>(names: &[&str], unknown: impl Fn(&T) -> usize) {
            let body: serde_json::Map<String, Value> = names
                .iter()
                .map(|n| ((*n).to_owned(), Value::Null))
                .collect();
            let read: T = serde_json::from_value(Value::Object(body)).unwrap();
            assert_eq!(unknown(&read), 0, "{names:?}");
        }
        all_known::<CreateDraft>(&CREATE_FIELDS, |d| d.unknown.len());
        all_known::<EditDraft>(&EDIT_FIELDS, |d| d.unknown.len());
        all_known::<DuplicateDraft>(&DUPLICATE_FIELDS, |d| d.unknown.len());
    }

    #[test]
    fn dollars_become_exact_cents_without_a_float() {
        let body = json!({"business_id": "b1", "program_name": "CPC", "budget": 300.29,
                          "max_bid": "0.57", "start": "2030-01-10"});
        let r = create(draft(body), today()).unwrap();
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
                draft(
                    json!({"business_id": "b1", "program_name": "CPC", "budget": 300,
                             "is_autobid": false, "max_bid": bid, "start": "2030-01-10"}),
                ),
                today(),
            )
        };
        assert_eq!(
            messages(create_with("0.49").unwrap_err()),
            [(
                "max_bid".to_owned(),
                "Maximum bid must be at least $0.50".to_owned()
            )]
        );
        assert_eq!(create_with("0.50").unwrap().max_bid, Some(Cents::new(50)));

        let edit_with = |bid: &str| {
            edit(
                draft(json!({"is_autobid": false, "max_bid": bid})),
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
        let mut got = fields(create(draft(body), today()).unwrap_err());
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
        assert_eq!(
            fields(create(draft(body), today()).unwrap_err()),
            ["budget"]
        );
        let body = json!({"program_name": "XX"});
        assert_eq!(
            fields(create(draft(body), today()).unwrap_err()),
            ["business_id", "program_name"]
        );
    }

    #[test]
    fn values_of_the_wrong_kind_and_unknown_fields_are_named() {
        let body = json!({"business_id": 7, "program_name": "CPC", "budget": true, "is_autobid": "yes",
                          "ad_categories": ["plumbing", 3], "colour": "red",
                          "future_budget_date": "2030-02-01"});
        let got = messages(create(draft(body), today()).unwrap_err());
        let said = |field: &str| {
            got.iter()
                .find(|(f, _)| f == field)
                .map(|(_, m)| m.as_str())
                .unwrap_or_else(|| panic!("no {field} in {got:?}"))
        };
        assert_eq!(said("business_id"), "business_id must be text");
        assert_eq!(
            said("budget"),
            "Budget must be an amount in dollars, such as 300.00"
        );
        assert_eq!(said("is_autobid"), "is_autobid must be true or false");
        assert_eq!(
            said("ad_categories"),
            "ad_categories must be a list of category aliases"
        );
        assert!(
            said("colour").starts_with("'colour' is not a field of this request; expected one of: business_id, program_name"),
            "{got:?}"
        );
        assert_eq!(
            said("future_budget_date"),
            "future_budget_date can only be given when editing a program"
        );
        assert_eq!(got.len(), 6, "{got:?}");
    }

    #[test]
    fn a_duplicate_copies_the_source_and_takes_the_new_dates_and_budget() {
        let mut source = running_cpc();
        source.max_bid_cents = Some(125);
        source.raw = json!({"program_id": "p1", "program_type": "CPC", "program_status": "ACTIVE",
                            "program_pause_status": "NOT_PAUSED", "ad_categories": ["plumbing"],
                            "program_metrics": {"is_autobid": false}})
        .to_string();
        let r = duplicate(
            draft(json!({"start": "2030-02-01", "end": "2030-03-01"})),
            &source,
            today(),
        )
        .unwrap();
        assert_eq!(r.business_id.as_str(), "b1");
        assert_eq!(r.budget, Some(Cents::new(30000)));
        assert_eq!(
            (r.is_autobid, r.max_bid),
            (Some(false), Some(Cents::new(125)))
        );
        assert_eq!(r.ad_categories, ["plumbing"]);
        assert_eq!(r.start, NaiveDate::from_ymd_opt(2030, 2, 1));
        let r = duplicate(draft(json!({"budget": "410.10"})), &source, today()).unwrap();
        assert_eq!(r.budget, Some(Cents::new(41010)));
        let e = duplicate(
            draft(json!({"budget": "1", "program_name": "EP"})),
            &source,
            today(),
        )
        .unwrap_err();
        let mut got = fields(e);
        got.sort();
        assert_eq!(got, ["budget", "program_name"]);
    }

    #[test]
    fn a_confirmation_is_true_false_or_absent() {
        assert!(!confirmation(None).unwrap());
        assert!(confirmation(Some(&Loose::Given(true))).unwrap());
        assert_eq!(
            fields(confirmation(Some(&Loose::Other(json!("yes")))).unwrap_err()),
            ["confirm_duplicate"]
        );
    }
}
