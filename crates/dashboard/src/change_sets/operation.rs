//! What a change set does to each program: the operation as asked, the change it makes to one program,
//! and the fields of a program it reads and writes. Pure: no database, no Yelp.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use yelp_partner_api::{
    Cents, FeatureEntry, FeatureType, PauseStatus, Program, ProgramFeatures, ProgramType,
};

use crate::error::{Error, Result};
use crate::features::{parse_changes, words};
use crate::jobs::draft::{Dollars, EditDraft, Loose};
use crate::jobs::validate::MIN_BUDGET;
use crate::store::StoredProgram;

/// The operation kinds, as the API names them.
pub const KINDS: [&str; 10] = [
    "set_budget",
    "budget_percent",
    "budget_dollars",
    "set_max_bid",
    "set_autobid",
    "pause",
    "resume",
    "end",
    "set_end_date",
    "set_feature",
];

/// A percentage change is kept in hundredths of a percent: +10 % is 1000, −2.5 % is −250.
const HUNDREDTHS_PER_WHOLE: i64 = 100 * 100;

/// One operation applied to every program of a change set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Operation {
    /// The monthly budget becomes this.
    SetBudget {
        /// Cents.
        cents: i64,
    },
    /// The monthly budget changes by this share of itself.
    BudgetPercent {
        /// Hundredths of a percent, signed.
        hundredths: i64,
    },
    /// The monthly budget changes by this amount.
    BudgetDollars {
        /// Cents, signed.
        cents: i64,
    },
    /// Manual bidding at this maximum bid.
    SetMaxBid {
        /// Cents.
        cents: i64,
    },
    /// Autobid on, or off at the program's current maximum bid.
    SetAutobid {
        /// Whether Yelp bids.
        on: bool,
    },
    /// Pause.
    Pause,
    /// Resume.
    Resume,
    /// End now.
    End,
    /// The last day becomes this.
    SetEndDate {
        /// The new last day.
        date: NaiveDate,
    },
    /// These fields are edited at once (a scheduled budget update: budget, bidding, pacing). Not one of
    /// the change sets' [`KINDS`]: the replaced system's schedule endpoint makes it.
    Edit {
        /// The fields.
        fields: EditChange,
    },
    /// These features are set, as Yelp's body names them: `{TYPE: {settings}}`.
    SetFeature {
        /// The features, checked to read as Yelp's types when staged.
        features: Value,
    },
}

/// An operation as a client sent it (`{"kind": K, "value": V}`), read leniently so that the check names
/// what is wrong.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(expecting = "a JSON object with the operation's kind and value")]
pub struct OperationDraft {
    /// One of [`KINDS`].
    pub kind: Option<Loose<String>>,
    /// Dollars, a percentage, a date or a boolean, as the kind takes.
    pub value: Option<Value>,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::field("operation", message)
}

/// Text of a number or a string value, for the parsers of amounts.
fn value_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Signed dollars (`-12.50`, `+5`, `$3`) into cents, exactly.
fn signed_cents(text: &str) -> Option<i64> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let cents = Cents::parse_dollars(rest).ok()?.get();
    (cents >= 0).then_some(if negative { -cents } else { cents })
}

/// A percentage with at most two decimals (`10`, `-95`, `+2.5`) into hundredths of a percent.
fn hundredths(text: &str) -> Option<i64> {
    let text = text.strip_suffix('%').unwrap_or(text).trim();
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = rest.split_once('.').unwrap_or((rest, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 6
        || fraction.len() > 2
        || !digits(whole)
        || !digits(fraction)
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = format!("{fraction:0<2}").parse().ok()?;
    let n = whole * 100 + fraction;
    Some(if negative { -n } else { n })
}

impl OperationDraft {
    /// The operation, checked: a kind it knows and a value of the kind's type and range.
    pub fn parse(self) -> Result<Operation> {
        let kind = match self.kind {
            Some(Loose::Given(kind)) => kind,
            Some(Loose::Other(_)) | None => {
                return Err(invalid(format!(
                    "operation.kind is required: one of {}",
                    KINDS.join(", ")
                )));
            }
        };
        let value = self.value.as_ref().filter(|v| !v.is_null());
        let text = value_text(value);
        let amount = |what: &str| {
            text.as_deref()
                .and_then(|t| Cents::parse_dollars(t).ok())
                .filter(|c| c.get() > 0)
                .map(Cents::get)
                .ok_or_else(|| {
                    invalid(format!(
                        "{what} must be an amount in dollars, such as 300.00"
                    ))
                })
        };
        let operation = match kind.as_str() {
            "set_budget" => Operation::SetBudget {
                cents: amount("The new budget")?,
            },
            "set_max_bid" => Operation::SetMaxBid {
                cents: amount("The new maximum bid")?,
            },
            "budget_percent" => {
                let hundredths = text.as_deref().and_then(hundredths).ok_or_else(|| {
                    invalid(
                        "The change must be a percentage with at most two decimals, such as 10 or \
                         -2.5",
                    )
                })?;
                if !(-10_000 < hundredths && hundredths <= 100_000) || hundredths == 0 {
                    return Err(invalid(
                        "The change must be above -100 % and at most +1000 %, and not 0",
                    ));
                }
                Operation::BudgetPercent { hundredths }
            }
            "budget_dollars" => {
                let cents = text
                    .as_deref()
                    .and_then(signed_cents)
                    .filter(|c| *c != 0)
                    .ok_or_else(|| {
                        invalid(
                            "The change must be an amount in dollars to add, or with a minus to \
                             take off, such as 50 or -12.50",
                        )
                    })?;
                Operation::BudgetDollars { cents }
            }
            "set_autobid" => match value {
                Some(Value::Bool(on)) => Operation::SetAutobid { on: *on },
                _ => {
                    return Err(invalid("Autobid must be true or false: switched on or off"));
                }
            },
            "set_end_date" => {
                let date = text
                    .as_deref()
                    .and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
                    .ok_or_else(|| invalid("The end date must be a date, YYYY-MM-DD"))?;
                Operation::SetEndDate { date }
            }
            "set_feature" => {
                let features = match value {
                    Some(features @ Value::Object(_)) => features.clone(),
                    _ => {
                        return Err(invalid(
                            "The features to set must be given as Yelp names them, such as \
                             {\"CUSTOM_RADIUS_TARGETING\": {\"custom_radius\": 25}}",
                        ));
                    }
                };
                // Read as Yelp's types now, so that a bad setting is named before anything is staged.
                parse_changes(json!({"features": features})).map_err(|e| match e {
                    // The body as a whole is the operation's value; a feature type's rules keep its name.
                    Error::InvalidField { message, .. } => invalid(message),
                    other => other,
                })?;
                Operation::SetFeature { features }
            }
            "pause" | "resume" | "end" => {
                if value.is_some() {
                    return Err(invalid(format!("{kind} takes no value")));
                }
                match kind.as_str() {
                    "pause" => Operation::Pause,
                    "resume" => Operation::Resume,
                    _ => Operation::End,
                }
            }
            other => {
                return Err(invalid(format!(
                    "operation.kind {other:?} is not one of {}",
                    KINDS.join(", ")
                )));
            }
        };
        Ok(operation)
    }
}

/// `12.5` from hundredths of a percent, without its sign.
fn percent_number(hundredths: i64) -> String {
    let abs = hundredths.unsigned_abs();
    if abs % 100 == 0 {
        format!("{}", abs / 100)
    } else {
        let fraction = format!("{:02}", abs % 100);
        format!("{}.{}", abs / 100, fraction.trim_end_matches('0'))
    }
}

/// `+12.5 %` from hundredths of a percent.
fn percent_words(hundredths: i64) -> String {
    let sign = if hundredths < 0 { "−" } else { "+" };
    format!("{sign}{} %", percent_number(hundredths))
}

/// Dollars as a screen shows them (`$1,250.00`; a minus sign before a cut).
fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "−" } else { "" };
    format!("{sign}{}", Cents::new(cents.abs()))
}

impl Operation {
    /// The kind, as the API names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SetBudget { .. } => "set_budget",
            Self::BudgetPercent { .. } => "budget_percent",
            Self::BudgetDollars { .. } => "budget_dollars",
            Self::SetMaxBid { .. } => "set_max_bid",
            Self::SetAutobid { .. } => "set_autobid",
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::End => "end",
            Self::SetEndDate { .. } => "set_end_date",
            Self::SetFeature { .. } => "set_feature",
            Self::Edit { .. } => "edit",
        }
    }

    /// As the API shows it: `{"kind", "value"}` with dollars as dollars, the shape it is asked in.
    pub fn to_api(&self) -> Value {
        let value = match self {
            Self::SetBudget { cents }
            | Self::SetMaxBid { cents }
            | Self::BudgetDollars { cents } => {
                json!(Cents::new(*cents).to_dollars_string())
            }
            Self::BudgetPercent { hundredths } => {
                let sign = if *hundredths < 0 { "-" } else { "" };
                json!(format!("{sign}{}", percent_number(*hundredths)))
            }
            Self::SetAutobid { on } => json!(on),
            Self::SetEndDate { date } => json!(date.to_string()),
            Self::SetFeature { features } => features.clone(),
            Self::Edit { fields } => serde_json::to_value(fields).unwrap_or(Value::Null),
            Self::Pause | Self::Resume | Self::End => Value::Null,
        };
        json!({"kind": self.kind(), "value": value})
    }

    /// What it does, in words: "Budget +10 %", "Pause".
    pub fn describe(&self) -> String {
        match self {
            Self::SetBudget { cents } => format!("Set budget to {}", dollars(*cents)),
            Self::BudgetPercent { hundredths } => format!("Budget {}", percent_words(*hundredths)),
            Self::BudgetDollars { cents } => format!(
                "Budget {}{}",
                if *cents < 0 { "" } else { "+" },
                dollars(*cents)
            ),
            Self::SetMaxBid { cents } => format!("Set max bid to {}", dollars(*cents)),
            Self::SetAutobid { on: true } => "Switch autobid on".into(),
            Self::SetAutobid { on: false } => "Switch autobid off".into(),
            Self::Pause => "Pause".into(),
            Self::Resume => "Resume".into(),
            Self::End => "End".into(),
            Self::SetEndDate { date } => format!("Set end date to {date}"),
            Self::SetFeature { features } => format!("Set {}", feature_words(features)),
            Self::Edit { fields } => Change::Edit(fields.clone()).describe(&Snapshot::default()),
        }
    }

    /// The change it makes to `program`, or why it cannot apply to it.
    pub fn change_for(&self, program: &StoredProgram) -> std::result::Result<Change, String> {
        let cpc_only = |what: &str| {
            if program.program_type == ProgramType::Cpc.as_str() {
                Ok(())
            } else {
                Err(format!(
                    "{what} applies only to CPC programs; this one is {}",
                    program.program_type
                ))
            }
        };
        let budget = |what: &str| {
            cpc_only(what)?;
            program.budget_cents.ok_or_else(|| {
                "The program's budget is not known; sync the programs first".to_owned()
            })
        };
        let new_budget = |cents: i64| {
            if cents < MIN_BUDGET.get() {
                Err(format!(
                    "The budget would fall to {}, below Yelp's minimum of {}",
                    dollars(cents),
                    dollars(MIN_BUDGET.get())
                ))
            } else {
                Ok(Change::edit(EditChange {
                    budget_cents: Some(cents),
                    ..EditChange::default()
                }))
            }
        };
        match self {
            Self::SetBudget { cents } => {
                cpc_only("A budget")?;
                new_budget(*cents)
            }
            Self::BudgetPercent { hundredths } => {
                let old = budget("A budget change")?;
                new_budget(scale_half_even(old, *hundredths))
            }
            Self::BudgetDollars { cents } => {
                let old = budget("A budget change")?;
                new_budget(old.saturating_add(*cents))
            }
            Self::SetMaxBid { cents } => {
                cpc_only("A max bid")?;
                Ok(Change::edit(EditChange {
                    is_autobid: Some(false),
                    max_bid_cents: Some(*cents),
                    ..EditChange::default()
                }))
            }
            Self::SetAutobid { on: true } => {
                cpc_only("Autobid")?;
                Ok(Change::edit(EditChange {
                    is_autobid: Some(true),
                    ..EditChange::default()
                }))
            }
            Self::SetAutobid { on: false } => {
                cpc_only("Autobid")?;
                let bid = program.max_bid_cents.ok_or_else(|| {
                    "Switching autobid off needs a max bid, and the program has none; set a max bid \
                     instead"
                        .to_owned()
                })?;
                Ok(Change::edit(EditChange {
                    is_autobid: Some(false),
                    max_bid_cents: Some(bid),
                    ..EditChange::default()
                }))
            }
            Self::Pause => Ok(Change::Pause),
            Self::Resume => Ok(Change::Resume),
            Self::End => Ok(Change::End),
            Self::SetEndDate { date } => Ok(Change::edit(EditChange {
                end_date: Some(*date),
                ..EditChange::default()
            })),
            Self::Edit { fields } => {
                cpc_only("A budget update")?;
                if let Some(cents) = fields.budget_cents {
                    new_budget(cents)?;
                }
                Ok(Change::edit(fields.clone()))
            }
            Self::SetFeature { features } => {
                let offered = serde_json::from_str::<Program>(&program.raw)
                    .map(|p| p.available_features)
                    .unwrap_or_default();
                let types = features.as_object().into_iter().flat_map(|o| o.keys());
                for name in types {
                    let feature_type = FeatureType::from_wire(name);
                    // Yelp lists what a program offers; a program listed with none is left to Yelp.
                    if !offered.is_empty() && !offered.contains(&feature_type) {
                        return Err(format!(
                            "The program does not offer {}",
                            feature_type.label().to_lowercase()
                        ));
                    }
                }
                Ok(Change::Feature {
                    features: features.clone(),
                })
            }
        }
    }
}

/// Features to set, in words: "custom radius (25 miles)".
pub fn feature_words(features: &Value) -> String {
    let Ok(read) = ProgramFeatures::from_json(json!({"features": features})) else {
        return "features".into();
    };
    let words: Vec<String> = read
        .entries()
        .map(|(feature_type, entry)| {
            let label = feature_type.label().to_lowercase();
            match entry {
                FeatureEntry::Known(feature) => match words::setting(feature) {
                    Some(setting) => format!("{label} ({setting})"),
                    None => format!("{label} off"),
                },
                _ => label,
            }
        })
        .collect();
    words.join(", ")
}

/// `cents × (1 + hundredths / 10 000)`, rounded half to even on the exact product.
pub fn scale_half_even(cents: i64, hundredths: i64) -> i64 {
    let numerator = i128::from(cents) * i128::from(HUNDREDTHS_PER_WHOLE + hundredths);
    let denominator = i128::from(HUNDREDTHS_PER_WHOLE);
    let quotient = numerator.div_euclid(denominator);
    let remainder = numerator.rem_euclid(denominator);
    let rounded = match (2 * remainder).cmp(&denominator) {
        std::cmp::Ordering::Less => quotient,
        std::cmp::Ordering::Greater => quotient + 1,
        std::cmp::Ordering::Equal if quotient % 2 == 0 => quotient,
        std::cmp::Ordering::Equal => quotient + 1,
    };
    i64::try_from(rounded).unwrap_or(i64::MAX)
}

/// The fields of an edit that a change set changes; `None` is "left as it is".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditChange {
    /// Monthly budget, cents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_cents: Option<i64>,
    /// Autobid on or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_autobid: Option<bool>,
    /// Maximum bid, cents (with autobid off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bid_cents: Option<i64>,
    /// Last day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<NaiveDate>,
    /// `paced` or `unpaced`. The mirror does not hold it, so it always counts as a change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pacing_method: Option<String>,
    /// The day Yelp is to apply the budget (Yelp's `future_budget_date`), instead of now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub future_budget_date: Option<NaiveDate>,
}

impl EditChange {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The fields of it that `before` does not hold already; empty when it is a no-op there.
    pub fn beyond(&self, before: &Snapshot) -> Self {
        let bid_differs = self
            .is_autobid
            .is_some_and(|a| before.is_autobid != Some(a))
            || self
                .max_bid_cents
                .is_some_and(|b| before.max_bid_cents != Some(b));
        Self {
            // A budget for a later day is a change even when it is today's budget.
            budget_cents: self
                .budget_cents
                .filter(|b| self.future_budget_date.is_some() || before.budget_cents != Some(*b)),
            // Bidding is one setting at Yelp: autobid and a max bid go together.
            is_autobid: self.is_autobid.filter(|_| bid_differs),
            max_bid_cents: self.max_bid_cents.filter(|_| bid_differs),
            end_date: self
                .end_date
                .filter(|d| before.end_date.as_deref() != Some(d.to_string().as_str())),
            pacing_method: self.pacing_method.clone(),
            future_budget_date: self.future_budget_date,
        }
    }

    /// As the edit a single program's form would send.
    pub fn draft(&self) -> EditDraft {
        let dollars = |cents: i64| Loose::Given(Dollars(Cents::new(cents).to_dollars_string()));
        EditDraft {
            budget: self.budget_cents.map(dollars),
            is_autobid: self.is_autobid.map(Loose::Given),
            max_bid: self.max_bid_cents.map(dollars),
            end: self.end_date.map(|d| Loose::Given(d.to_string())),
            pacing_method: self.pacing_method.clone().map(Loose::Given),
            future_budget_date: self.future_budget_date.map(|d| Loose::Given(d.to_string())),
            ..EditDraft::default()
        }
    }
}

/// The change an item makes to its program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Change {
    /// Edit these fields.
    Edit(EditChange),
    /// Pause it.
    Pause,
    /// Resume it.
    Resume,
    /// End it.
    End,
    /// Set these features (`{TYPE: {settings}}`).
    Feature {
        /// As Yelp's body names them.
        features: Value,
    },
}

impl Change {
    fn edit(fields: EditChange) -> Self {
        Self::Edit(fields)
    }

    /// The change that takes a program changed by `self` from `before` back to it; `Err` says why there
    /// is none.
    pub fn inverse(&self, before: &Snapshot) -> std::result::Result<Change, String> {
        match self {
            Self::Pause => Ok(Self::Resume),
            Self::Resume => Ok(Self::Pause),
            Self::End => Err("An ended program cannot be started again".into()),
            Self::Feature { .. } => Err(
                "The features before the change are Yelp's alone; set them again on the features page"
                    .into(),
            ),
            Self::Edit(fields) => {
                if fields.pacing_method.is_some() {
                    return Err("The pacing before the change is not known, so it cannot be put back".into());
                }
                if fields.future_budget_date.is_some() {
                    return Err("A budget for a later day is Yelp's to apply; set another one instead".into());
                }
                let mut back = EditChange::default();
                if fields.budget_cents.is_some() {
                    back.budget_cents = Some(before.budget_cents.ok_or(
                        "The budget before the change is not known, so it cannot be put back",
                    )?);
                }
                if fields.is_autobid.is_some() || fields.max_bid_cents.is_some() {
                    match (before.is_autobid, before.max_bid_cents) {
                        (Some(true), _) => back.is_autobid = Some(true),
                        (_, Some(bid)) => {
                            back.is_autobid = Some(false);
                            back.max_bid_cents = Some(bid);
                        }
                        _ => {
                            return Err("The bidding before the change is not known, so it \
                                        cannot be put back"
                                .into());
                        }
                    }
                }
                if fields.end_date.is_some() {
                    back.end_date = Some(
                        before
                            .end_date
                            .as_deref()
                            .and_then(|d| d.parse().ok())
                            .ok_or("The program had no end date, and Yelp cannot remove one")?,
                    );
                }
                Ok(Self::Edit(back))
            }
        }
    }

    /// The same change, without what `before` holds already (an edit); pause, resume and end as they are.
    pub fn beyond(&self, before: &Snapshot) -> Self {
        match self {
            Self::Edit(fields) => Self::Edit(fields.beyond(before)),
            other => other.clone(),
        }
    }

    /// Whether it changes nothing of `before`.
    pub fn is_no_op(&self, before: &Snapshot) -> bool {
        matches!(self.beyond(before), Self::Edit(fields) if fields.is_empty())
    }

    /// What it does to `before`, in words: "Budget $75.00 → $82.50".
    pub fn describe(&self, before: &Snapshot) -> String {
        let money = |c: Option<i64>| c.map_or_else(|| "not known".to_owned(), dollars);
        match self {
            Self::Pause => "Pause".into(),
            Self::Resume => "Resume".into(),
            Self::End => "End".into(),
            Self::Feature { features } => format!("Set {}", feature_words(features)),
            Self::Edit(fields) => {
                let mut parts = Vec::new();
                match (fields.budget_cents, fields.future_budget_date) {
                    (Some(b), Some(day)) => parts.push(format!(
                        "Budget {} → {} from {day}",
                        money(before.budget_cents),
                        dollars(b)
                    )),
                    (Some(b), None) => parts.push(format!(
                        "Budget {} → {}",
                        money(before.budget_cents),
                        dollars(b)
                    )),
                    _ => {}
                }
                let bidding = |autobid: Option<bool>, bid: Option<i64>| match (autobid, bid) {
                    (Some(true), _) => "autobid".to_owned(),
                    (_, Some(bid)) => format!("max bid {}", dollars(bid)),
                    _ => "not known".to_owned(),
                };
                if fields.is_autobid.is_some() || fields.max_bid_cents.is_some() {
                    parts.push(format!(
                        "Bidding {} → {}",
                        bidding(before.is_autobid, before.max_bid_cents),
                        bidding(fields.is_autobid, fields.max_bid_cents)
                    ));
                }
                if let Some(d) = fields.end_date {
                    parts.push(format!(
                        "End date {} → {d}",
                        before.end_date.as_deref().unwrap_or("none")
                    ));
                }
                if let Some(pacing) = &fields.pacing_method {
                    parts.push(format!("Pacing → {pacing}"));
                }
                if parts.is_empty() {
                    "No change".into()
                } else {
                    parts.join("; ")
                }
            }
        }
    }
}

/// The fields of a program that change sets read and change, as the mirror held them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Monthly budget, cents.
    pub budget_cents: Option<i64>,
    /// Whether Yelp bids.
    pub is_autobid: Option<bool>,
    /// Maximum bid, cents.
    pub max_bid_cents: Option<i64>,
    /// Last day, `YYYY-MM-DD`.
    pub end_date: Option<String>,
    /// Whether it is paused.
    pub paused: bool,
    /// ACTIVE or INACTIVE.
    pub program_status: String,
}

impl Snapshot {
    /// The fields of `program`.
    pub fn of(program: &StoredProgram) -> Self {
        Self {
            budget_cents: program.budget_cents,
            is_autobid: program.is_autobid.map(|a| a != 0),
            max_bid_cents: program.max_bid_cents,
            end_date: program.end_date.clone(),
            paused: program.pause_status == PauseStatus::Paused,
            program_status: program.program_status.as_str().to_owned(),
        }
    }

    /// What differs between `self` (as staged) and `now`, in words; empty when nothing does.
    pub fn differences(&self, now: &Self) -> Vec<String> {
        let money = |c: Option<i64>| c.map_or_else(|| "none".to_owned(), dollars);
        let mut out = Vec::new();
        if self.budget_cents != now.budget_cents {
            out.push(format!(
                "budget {} → {}",
                money(self.budget_cents),
                money(now.budget_cents)
            ));
        }
        if self.is_autobid != now.is_autobid || self.max_bid_cents != now.max_bid_cents {
            out.push("bidding".into());
        }
        if self.end_date != now.end_date {
            out.push(format!(
                "end date {} → {}",
                self.end_date.as_deref().unwrap_or("none"),
                now.end_date.as_deref().unwrap_or("none")
            ));
        }
        if self.paused != now.paused {
            out.push(if now.paused { "paused" } else { "resumed" }.into());
        }
        if self.program_status != now.program_status {
            out.push(format!(
                "status {} → {}",
                self.program_status, now.program_status
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: Value) -> Result<Operation> {
        serde_json::from_value::<OperationDraft>(value)
            .unwrap()
            .parse()
    }

    #[test]
    fn percentages_round_half_to_even_on_the_exact_cents() {
        assert_eq!(scale_half_even(7500, 1000), 8250);
        // 25.05 × 1.1 = 27.555 → 27.56 (the 5 rounds to the even 6); 25.15 × 1.1 = 27.665 → 27.66.
        assert_eq!(scale_half_even(2505, 1000), 2756);
        assert_eq!(scale_half_even(2515, 1000), 2766);
        // 0.5 cents exactly: 1 cent × 1.5 = 1.5 → 2; 3 cents × 1.5 = 4.5 → 4.
        assert_eq!(scale_half_even(1, 5000), 2);
        assert_eq!(scale_half_even(3, 5000), 4);
        assert_eq!(scale_half_even(10_000, -9500), 500);
    }

    #[test]
    fn operations_are_read_with_their_value_and_refused_naming_what_is_wrong() {
        assert_eq!(
            parse(json!({"kind": "budget_percent", "value": 10})).unwrap(),
            Operation::BudgetPercent { hundredths: 1000 }
        );
        assert_eq!(
            parse(json!({"kind": "budget_percent", "value": "-2.5"})).unwrap(),
            Operation::BudgetPercent { hundredths: -250 }
        );
        assert_eq!(
            parse(json!({"kind": "set_budget", "value": 300.29})).unwrap(),
            Operation::SetBudget { cents: 30029 }
        );
        assert_eq!(
            parse(json!({"kind": "budget_dollars", "value": "-12.50"})).unwrap(),
            Operation::BudgetDollars { cents: -1250 }
        );
        assert_eq!(parse(json!({"kind": "pause"})).unwrap(), Operation::Pause);
        for (bad, says) in [
            (
                json!({"kind": "budget_percent", "value": "ten"}),
                "percentage",
            ),
            (
                json!({"kind": "budget_percent", "value": -100}),
                "above -100 %",
            ),
            (
                json!({"kind": "set_budget", "value": "-3"}),
                "The new budget",
            ),
            (
                json!({"kind": "set_autobid", "value": "yes"}),
                "true or false",
            ),
            (json!({"kind": "pause", "value": 3}), "takes no value"),
            (json!({"kind": "explode"}), "is not one of"),
            (
                json!({"kind": "set_feature", "value": {}}),
                "Name at least one feature",
            ),
            (json!({"value": 3}), "operation.kind is required"),
            (
                json!({"kind": "set_end_date", "value": "31/12/2030"}),
                "YYYY-MM-DD",
            ),
        ] {
            let e = parse(bad.clone()).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn an_operation_says_what_it_does_and_shows_as_asked() {
        let op = Operation::BudgetPercent { hundredths: 1050 };
        assert_eq!(op.describe(), "Budget +10.5 %");
        assert_eq!(
            op.to_api(),
            json!({"kind": "budget_percent", "value": "10.5"})
        );
        let down = Operation::BudgetPercent { hundredths: -9500 };
        assert_eq!(
            down.to_api(),
            json!({"kind": "budget_percent", "value": "-95"})
        );
        assert_eq!(
            Operation::BudgetDollars { cents: -1250 }.describe(),
            "Budget −$12.50"
        );
    }

    #[test]
    fn an_edit_beyond_what_the_program_holds_drops_the_fields_it_has_already() {
        let before = Snapshot {
            budget_cents: Some(7500),
            is_autobid: Some(true),
            end_date: Some("2030-12-31".into()),
            ..Snapshot::default()
        };
        let same = Change::Edit(EditChange {
            budget_cents: Some(7500),
            is_autobid: Some(true),
            end_date: "2030-12-31".parse().ok(),
            ..EditChange::default()
        });
        assert!(same.is_no_op(&before));
        let raise = Change::Edit(EditChange {
            budget_cents: Some(8250),
            ..EditChange::default()
        });
        assert!(!raise.is_no_op(&before));
        assert_eq!(raise.describe(&before), "Budget $75.00 → $82.50");
        assert_eq!(
            raise.inverse(&before).unwrap(),
            Change::Edit(EditChange {
                budget_cents: Some(7500),
                ..EditChange::default()
            })
        );
        assert!(Change::End.inverse(&before).is_err());
        assert_eq!(Change::Pause.inverse(&before).unwrap(), Change::Resume);
    }
}
