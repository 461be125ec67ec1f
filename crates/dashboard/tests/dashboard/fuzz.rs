//! Property tests of the API's request parsers: the create, edit and duplicate bodies never panic and every
//! problem they report names a field; dollars typed by a user become exactly the cents that integer
//! arithmetic on the decimal text gives. Case counts are bounded so the set takes seconds in `cargo test`.

use chrono::NaiveDate;
use dashboard::Error;
use dashboard::change_sets::import;
use dashboard::change_sets::operation::OperationDraft;
use dashboard::jobs::draft::{CreateDraft, DuplicateDraft, EditDraft};
use dashboard::jobs::validate::{self, MIN_BUDGET};
use dashboard::store::StoredProgram;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use yelp_partner_api::{Cents, MoneyError};

fn config(cases: u32) -> Config {
    Config {
        cases,
        // Regressions are reproduced from the printed seed, not files written into the tree.
        failure_persistence: None,
        ..Config::default()
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2030, 1, 10).unwrap()
}

/// Every field any of the three bodies knows.
const FIELDS: &[&str] = &[
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
    "future_budget_date",
    "confirm_duplicate",
];

/// Values near what the parsers expect, and anything else.
fn field_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "[-$0-9.,]{0,14}".prop_map(Value::from),
        "20[0-9]{2}-[01][0-9]-[0-3][0-9]".prop_map(Value::from),
        prop::sample::select(
            &[
                "CPC",
                "EP",
                "LOGO",
                "XX",
                "paced",
                "unpaced",
                "CALENDAR_MONTH",
                "ROLLING_MONTH",
                "USD",
                "plumbing",
                "Restaurants",
                "2030-01-10",
                "2030-02-30",
                "9999-12-31",
                "Zr5TgH2nKp8QwXy1LmN0bA",
                "",
                " ",
            ][..]
        )
        .prop_map(Value::from),
        ".{0,30}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((".{0,8}", inner), 0..4)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Bodies: mostly objects of known fields, sometimes with unknown ones, sometimes not objects at all.
fn body() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        4 => prop::sample::select(FIELDS).prop_map(str::to_owned),
        1 => ".{0,12}",
    ];
    prop_oneof![
        6 => prop::collection::vec((key, field_value()), 0..10)
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        1 => field_value(),
    ]
}

fn stored(program_type: &str, start: &str, end: Option<&str>, paused: bool) -> StoredProgram {
    let cpc = program_type == "CPC";
    StoredProgram {
        program_id: "Qx7Lm2VbT0aZpR9sYc4kWg".into(),
        business_id: Some("Zr5TgH2nKp8QwXy1LmN0bA".into()),
        partner_business_id: None,
        program_type: program_type.into(),
        program_status: "ACTIVE".into(),
        pause_status: if paused { "PAUSED" } else { "NOT_PAUSED" }.into(),
        start_date: Some(start.into()),
        end_date: end.map(str::to_owned),
        budget_cents: cpc.then_some(300_000),
        max_bid_cents: cpc.then_some(250),
        is_autobid: None,
        currency: None,
        fee_period: None,
        billed_impressions: None,
        billed_clicks: None,
        ad_cost_cents: cpc.then_some(7_890),
        raw: "{}".into(),
        first_seen_at: 1,
        updated_at: 1,
        removed_at: None,
    }
}

/// Every reported problem names `body`, a field the body has, or a field the request knows.
fn check_problems(result: Result<(), Error>, body: &Value) -> Result<(), TestCaseError> {
    match result {
        Ok(()) => Ok(()),
        Err(Error::InvalidFields(fields)) => {
            prop_assert!(!fields.is_empty());
            for (field, message) in &fields {
                let known = field == "body"
                    || FIELDS.contains(&field.as_str())
                    || body.get(field).is_some();
                prop_assert!(known, "problem names no field: {field} ({message})");
                prop_assert!(!message.is_empty());
            }
            Ok(())
        }
        Err(other) => Err(TestCaseError::fail(format!(
            "a check failed with an error that names no field: {other}"
        ))),
    }
}

/// A body read as a draft: every JSON object is one (a value of the wrong kind is kept for the check to
/// name); anything else is refused with what was expected.
fn read<T: DeserializeOwned>(body: &Value) -> Result<Option<T>, TestCaseError> {
    match serde_json::from_value::<T>(body.clone()) {
        Ok(draft) => {
            prop_assert!(body.is_object(), "{body} was read as a draft");
            Ok(Some(draft))
        }
        Err(e) => {
            prop_assert!(!body.is_object(), "the object {body} was refused: {e}");
            prop_assert!(e.to_string().contains("a JSON object"), "{e}");
            Ok(None)
        }
    }
}

#[test]
fn create_edit_and_duplicate_bodies_never_panic_and_name_the_fields_they_refuse() {
    let programs = [
        stored("CPC", "2029-06-01", None, false),
        stored("CPC", "2030-03-01", Some("2030-12-31"), true),
        stored("EP", "2029-06-01", Some("2029-12-31"), false),
    ];
    TestRunner::new(config(512))
        .run(&body(), |body| {
            let (Some(create), Some(edit), Some(duplicate)) = (
                read::<CreateDraft>(&body)?,
                read::<EditDraft>(&body)?,
                read::<DuplicateDraft>(&body)?,
            ) else {
                return Ok(());
            };
            let confirmed = validate::confirmation(create.confirm_duplicate.as_ref());
            check_problems(confirmed.map(drop), &body)?;
            let created = validate::create(create, today());
            if let Ok(request) = &created {
                prop_assert!(request.budget.is_none_or(|b| b >= MIN_BUDGET));
                prop_assert!(request.start.is_none_or(|s| s >= today()));
            }
            check_problems(created.map(drop), &body)?;
            for program in &programs {
                check_problems(
                    validate::edit(edit.clone(), program, today()).map(drop),
                    &body,
                )?;
                check_problems(
                    validate::duplicate(duplicate.clone(), program, today()).map(drop),
                    &body,
                )?;
            }
            Ok(())
        })
        .unwrap();
}

/// A decimal amount as a person might type it, and its cents by integer arithmetic on the digits:
/// whole × 100 + the first two decimals, plus one when the third is 5 or more (half away from zero).
#[derive(Clone, Debug)]
struct Typed {
    text: String,
    cents: Option<i128>,
}

fn typed_dollars(
    max_whole_digits: usize,
    max_fraction_digits: usize,
) -> impl Strategy<Value = Typed> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(0u8..10, 0..=max_whole_digits),
        prop::option::of(prop::collection::vec(0u8..10, 0..=max_fraction_digits)),
        prop::sample::select(&["", " ", "  "][..]),
    )
        .prop_map(|(negative, dollar_sign, grouped, whole, fraction, pad)| {
            let digits = |d: &[u8]| d.iter().map(|d| char::from(b'0' + d)).collect::<String>();
            let mut whole_text = digits(&whole);
            if grouped && whole_text.len() > 3 {
                let mut out = String::new();
                for (i, c) in whole_text.chars().enumerate() {
                    if i > 0 && (whole_text.len() - i) % 3 == 0 {
                        out.push(',');
                    }
                    out.push(c);
                }
                whole_text = out;
            }
            let mut text = String::from(pad);
            if negative {
                text.push('-');
            }
            if dollar_sign {
                text.push('$');
            }
            text.push_str(&whole_text);
            if let Some(fraction) = &fraction {
                text.push('.');
                text.push_str(&digits(fraction));
            }
            text.push_str(pad);
            let fraction = fraction.unwrap_or_default();
            let cents = if whole.is_empty() && fraction.is_empty() {
                None
            } else {
                let whole_value = whole.iter().fold(0i128, |n, d| n * 10 + i128::from(*d));
                let at = |i: usize| i128::from(fraction.get(i).copied().unwrap_or(0));
                let mut cents = whole_value * 100 + at(0) * 10 + at(1);
                if at(2) >= 5 {
                    cents += 1;
                }
                Some(if negative { -cents } else { cents })
            };
            Typed { text, cents }
        })
}

#[test]
fn dollars_typed_any_way_convert_to_exactly_the_cents_of_integer_arithmetic() {
    TestRunner::new(config(1024))
        .run(&typed_dollars(20, 6), |typed| {
            let parsed = Cents::parse_dollars(&typed.text);
            match typed.cents {
                None => prop_assert!(
                    matches!(parsed, Err(MoneyError::NotANumber(_))),
                    "{parsed:?}"
                ),
                Some(cents) if cents.abs() > i128::from(i64::MAX) => {
                    prop_assert!(matches!(parsed, Err(MoneyError::TooLarge(_))), "{parsed:?}");
                }
                Some(cents) => prop_assert_eq!(parsed.map(|c| i128::from(c.get())), Ok(cents)),
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn any_text_parses_as_dollars_or_is_refused_and_what_is_accepted_reads_back_the_same() {
    let text = prop_oneof![".{0,24}", "[-$0-9., ]{0,24}"];
    TestRunner::new(config(1024))
        .run(&text, |text| {
            if let Ok(cents) = Cents::parse_dollars(&text) {
                prop_assert_eq!(Cents::parse_dollars(&cents.to_dollars_string()), Ok(cents));
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_budget_typed_as_a_string_or_a_json_number_becomes_exactly_its_cents() {
    // At most 15 significant digits, so that a JSON number's own text is the digits typed.
    let amount = (25u64..10_000_000_000_000, 0u8..100).prop_map(|(dollars, cents)| {
        let text = if cents % 10 == 0 {
            format!("{dollars}.{}", cents / 10)
        } else {
            format!("{dollars}.{cents:02}")
        };
        (
            text,
            i64::try_from(dollars).unwrap() * 100 + i64::from(cents),
        )
    });
    TestRunner::new(config(512))
        .run(&amount, |(text, cents)| {
            let number: Value = serde_json::from_str(&text).unwrap();
            for budget in [Value::from(text.clone()), number] {
                let body = json!({"business_id": "Zr5TgH2nKp8QwXy1LmN0bA", "program_name": "CPC",
                                  "budget": budget, "is_autobid": true, "start": "2030-01-10"});
                let draft: CreateDraft = serde_json::from_value(body)
                    .map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
                let request = validate::create(draft, today())
                    .map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
                prop_assert_eq!(request.budget, Some(Cents::new(cents)), "{}", text);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn any_operation_is_read_or_refused_naming_the_operation_and_what_is_read_reads_back_the_same() {
    let kinds = prop_oneof![
        prop::sample::select(&dashboard::change_sets::operation::KINDS[..]).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        Just(Value::Null),
        any::<i64>().prop_map(Value::from),
    ];
    TestRunner::new(config(512))
        .run(&(kinds, field_value()), |(kind, value)| {
            let body = json!({"kind": kind, "value": value});
            let Some(draft) = read::<OperationDraft>(&body)? else {
                return Ok(());
            };
            match draft.parse() {
                Ok(operation) => {
                    // What the API shows of an operation is a body that asks for it again.
                    let again: OperationDraft = serde_json::from_value(operation.to_api()).unwrap();
                    prop_assert_eq!(again.parse().ok(), Some(operation), "{}", body);
                }
                Err(Error::InvalidField { field, message }) => {
                    prop_assert_eq!(field, "operation", "{}: {}", body, message);
                }
                // A feature body's own rules name the feature type.
                Err(Error::InvalidFields(list)) => prop_assert!(!list.is_empty(), "{}", body),
                Err(other) => prop_assert!(false, "{}: {:?}", body, other),
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn any_file_is_imported_or_refused_line_by_line() {
    let cell = prop_oneof![
        Just(String::new()),
        "[-$0-9.,]{0,10}",
        "20[0-9]{2}-[01][0-9]-[0-3][0-9]",
        prop::sample::select(&["true", "false", "yes", "maybe"][..]).prop_map(str::to_owned),
        "[A-Za-z0-9_\"\n,-]{0,24}",
    ];
    let columns = prop::collection::vec(
        prop::sample::select(
            &[
                "program_id",
                "budget",
                "is_autobid",
                "max_bid",
                "end_date",
                "paused",
                "spend",
                "budjet",
            ][..],
        ),
        0..5,
    );
    let rows = prop::collection::vec(prop::collection::vec(cell, 0..6), 0..6);
    TestRunner::new(config(512))
        .run(&(columns, rows), |(columns, rows)| {
            let mut file = columns.join(",");
            for row in &rows {
                file.push('\n');
                file.push_str(&row.join(","));
            }
            match import::parse(file.as_bytes()) {
                Ok(read) => prop_assert!(
                    read.iter().all(|r| !r.program_id.is_empty() && r.line >= 2),
                    "{}",
                    file
                ),
                Err(Error::InvalidFields(list)) => {
                    prop_assert!(!list.is_empty() && list.len() <= import::MAX_ERRORS);
                    for (field, message) in &list {
                        prop_assert!(
                            field.starts_with("line ") && message.starts_with("Line "),
                            "{}: {}",
                            field,
                            message
                        );
                    }
                }
                Err(Error::InvalidField { field, .. }) => prop_assert_eq!(field, "file"),
                Err(other) => prop_assert!(false, "{}: {:?}", file, other),
            }
            Ok(())
        })
        .unwrap();
}
