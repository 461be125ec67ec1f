//! A CSV file of changes: `program_id` and the columns to change (`budget`, `is_autobid`, `max_bid`,
//! `end_date`, `paused`), as the programs export writes them, so that an exported file edited in a
//! spreadsheet comes back as a change set. The export's other columns are read-only and ignored; an
//! empty cell changes nothing. Every bad cell is reported with its line and column, and the file is
//! refused whole.

use std::collections::HashMap;

use chrono::NaiveDate;
use yelp_partner_api::Cents;

use super::operation::{Change, EditChange, Snapshot};
use crate::error::{Error, Result};

/// The columns a file may change.
pub const CHANGEABLE: [&str; 5] = ["budget", "is_autobid", "max_bid", "end_date", "paused"];

/// The export's columns that an import reads past.
pub const READ_ONLY: [&str; 11] = [
    "custom_name",
    "program_type",
    "business_id",
    "business_name",
    "partner_business_id",
    "program_status",
    "start_date",
    "spend",
    "clicks",
    "impressions",
    "removed_at",
];

/// Errors reported at most; a file with more says so.
pub const MAX_ERRORS: usize = 50;

/// One row's changes to its program.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportRow {
    /// Its line in the file (the header is line 1).
    pub line: u64,
    /// The program.
    pub program_id: String,
    /// New monthly budget, cents.
    pub budget_cents: Option<i64>,
    /// Autobid on or off.
    pub is_autobid: Option<bool>,
    /// New maximum bid, cents.
    pub max_bid_cents: Option<i64>,
    /// New last day.
    pub end_date: Option<NaiveDate>,
    /// Paused or not.
    pub paused: Option<bool>,
}

impl ImportRow {
    /// The changes the row makes to a program holding `before`: an edit (a no-op when it holds every
    /// value already), then a pause or resume when `paused` differs.
    pub fn changes(&self, before: &Snapshot) -> Vec<Change> {
        let edit = EditChange {
            budget_cents: self.budget_cents,
            is_autobid: self.is_autobid,
            // With autobid on, Yelp sets the bid: the exported max bid is what Yelp bid.
            max_bid_cents: self.max_bid_cents.filter(|_| self.is_autobid != Some(true)),
            end_date: self.end_date,
            pacing_method: None,
            future_budget_date: None,
        };
        let pause = match self.paused {
            Some(true) if !before.paused => Some(Change::Pause),
            Some(false) if before.paused => Some(Change::Resume),
            _ => None,
        };
        let edit = Change::Edit(edit);
        match pause {
            Some(pause) if edit.is_no_op(before) => vec![pause],
            Some(pause) => vec![edit, pause],
            None => vec![edit],
        }
    }
}

/// Collects the problems of a file, each with where it is.
#[derive(Default)]
struct Problems(Vec<(String, String)>);

impl Problems {
    fn add(&mut self, line: u64, column: &str, message: impl std::fmt::Display) {
        if self.0.len() < MAX_ERRORS {
            self.0.push((
                format!("line {line}"),
                format!("Line {line}, column {column}: {message}"),
            ));
        }
    }
}

fn boolean(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// Reads a file of changes; every problem is named by line and column.
pub fn parse(file: &[u8]) -> Result<Vec<ImportRow>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(file);
    let header = reader
        .headers()
        .map_err(|e| Error::field("file", format!("The file is not CSV: {e}")))?
        .clone();
    let mut columns: HashMap<&str, usize> = HashMap::new();
    let mut problems = Problems::default();
    for (index, name) in header.iter().enumerate() {
        let name = name.trim_start_matches('\u{feff}');
        if name == "program_id" || CHANGEABLE.contains(&name) {
            if columns.insert(name, index).is_some() {
                problems.add(1, name, "the column is in the header twice");
            }
        } else if !READ_ONLY.contains(&name) {
            problems.add(
                1,
                name,
                format!(
                    "not a column the import knows; it takes program_id and {}, and reads past the \
                     export's other columns",
                    CHANGEABLE.join(", ")
                ),
            );
        }
    }
    if !columns.contains_key("program_id") {
        problems.add(1, "program_id", "the header must have a program_id column");
    }
    if !problems.0.is_empty() {
        return Err(Error::InvalidFields(problems.0));
    }
    let mut rows = Vec::new();
    let mut lines_of: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                problems.add(line, "-", format!("the row cannot be read: {e}"));
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        let cell = |name: &str| {
            columns
                .get(name)
                .and_then(|i| record.get(*i))
                .filter(|t| !t.is_empty())
        };
        let mut row = ImportRow {
            line,
            ..ImportRow::default()
        };
        match cell("program_id") {
            Some(id) => {
                if let Some(first) = lines_of.insert(id.to_owned(), line) {
                    problems.add(
                        line,
                        "program_id",
                        format!("program {id} is on line {first} too; give each program once"),
                    );
                }
                row.program_id = id.to_owned();
            }
            None => problems.add(line, "program_id", "a program id is required"),
        }
        let mut dollars = |name: &str| {
            let text = cell(name)?;
            match Cents::parse_dollars(text) {
                Ok(c) if c.get() >= 0 => Some(c.get()),
                _ => {
                    problems.add(
                        line,
                        name,
                        format!("{text:?} is not an amount in dollars, such as 300.00"),
                    );
                    None
                }
            }
        };
        row.budget_cents = dollars("budget");
        row.max_bid_cents = dollars("max_bid");
        for (name, slot) in [
            ("is_autobid", &mut row.is_autobid),
            ("paused", &mut row.paused),
        ] {
            if let Some(text) = cell(name) {
                *slot = boolean(text);
                if slot.is_none() {
                    problems.add(line, name, format!("{text:?} is not true or false"));
                }
            }
        }
        if let Some(text) = cell("end_date") {
            row.end_date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
            if row.end_date.is_none() {
                problems.add(
                    line,
                    "end_date",
                    format!("{text:?} is not a date, YYYY-MM-DD"),
                );
            }
        }
        rows.push(row);
    }
    if !problems.0.is_empty() {
        return Err(Error::InvalidFields(problems.0));
    }
    if rows.is_empty() {
        return Err(Error::field(
            "file",
            "The file has a header but no rows of changes",
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(e: Error) -> Vec<String> {
        match e {
            Error::InvalidFields(list) => list.into_iter().map(|(_, m)| m).collect(),
            other => vec![other.to_string()],
        }
    }

    #[test]
    fn a_file_of_changes_is_read_with_the_exports_columns() {
        let file = "program_id,custom_name,budget,is_autobid,max_bid,end_date,paused\n\
                    p1,Spring,300.29,false,1.25,2031-01-31,false\n\
                    p2,,,,,,true\n";
        let rows = parse(file.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0],
            ImportRow {
                line: 2,
                program_id: "p1".into(),
                budget_cents: Some(30029),
                is_autobid: Some(false),
                max_bid_cents: Some(125),
                end_date: "2031-01-31".parse().ok(),
                paused: Some(false),
            }
        );
        assert_eq!((rows[1].line, rows[1].paused), (3, Some(true)));
    }

    #[test]
    fn every_bad_cell_is_named_by_line_and_column() {
        let file = "program_id,budget\np1,100\np2,100\np3,100\np4,100\np5,100\np6,lots\np7,-3\n";
        let e = messages(parse(file.as_bytes()).unwrap_err());
        assert_eq!(
            e,
            [
                "Line 7, column budget: \"lots\" is not an amount in dollars, such as 300.00",
                "Line 8, column budget: \"-3\" is not an amount in dollars, such as 300.00"
            ]
        );
        let e = messages(parse(b"program_id,budjet\np1,3\n").unwrap_err());
        assert!(
            e[0].starts_with("Line 1, column budjet: not a column"),
            "{e:?}"
        );
        let e = messages(parse(b"budget\n3\n").unwrap_err());
        assert!(e[0].contains("program_id column"), "{e:?}");
        let e = messages(parse(b"program_id,paused\np1,maybe\np1,true\n").unwrap_err());
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[1].contains("is on line 2 too"), "{e:?}");
        let e = messages(parse(b"program_id,budget\np1,3,4\n").unwrap_err());
        assert!(e[0].starts_with("Line 2"), "{e:?}");
    }

    #[test]
    fn a_row_that_holds_what_the_program_has_is_one_no_op_and_a_pause_is_its_own_change() {
        let before = Snapshot {
            budget_cents: Some(7500),
            is_autobid: Some(true),
            max_bid_cents: Some(300),
            ..Snapshot::default()
        };
        let same = ImportRow {
            budget_cents: Some(7500),
            is_autobid: Some(true),
            max_bid_cents: Some(412),
            paused: Some(false),
            ..ImportRow::default()
        };
        let changes = same.changes(&before);
        assert_eq!(changes.len(), 1);
        assert!(changes[0].is_no_op(&before));
        let paused = ImportRow {
            paused: Some(true),
            ..same.clone()
        };
        assert_eq!(paused.changes(&before), [Change::Pause]);
        let both = ImportRow {
            budget_cents: Some(9000),
            ..paused
        };
        assert_eq!(both.changes(&before).len(), 2);
    }
}
