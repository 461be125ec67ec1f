//! Program history in words: what the store records canonically (cents, Yelp's codes, ISO dates) as an agency
//! reads it — "Budget $75.00 → $123.45 by demo", "Paused outside this dashboard".

use yelp_partner_api::Cents;

use crate::store::{HistoryEntry, HistoryField, HistoryKind, HistorySource};

/// The name of a field, as a sentence starts with it.
pub fn field_label(field: HistoryField) -> &'static str {
    match field {
        HistoryField::Budget => "Budget",
        HistoryField::MaxBid => "Maximum bid",
        HistoryField::Bidding => "Bidding",
        HistoryField::Status => "Status",
        HistoryField::Pause => "Delivery",
        HistoryField::StartDate => "Start date",
        HistoryField::EndDate => "End date",
        HistoryField::Features => "Features",
    }
}

/// A stored value in words: money as dollars, codes as words, no value as "none".
pub fn value_words(field: HistoryField, value: Option<&str>) -> String {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return match field {
            HistoryField::Budget | HistoryField::MaxBid => "not set".into(),
            HistoryField::EndDate => "no end".into(),
            HistoryField::Features => "none".into(),
            _ => "not known".into(),
        };
    };
    match field {
        HistoryField::Budget | HistoryField::MaxBid => value
            .parse::<i64>()
            .map(|c| format!("${}", Cents::new(c).to_dollars_string()))
            .unwrap_or_else(|_| value.to_owned()),
        HistoryField::Bidding => match value {
            "automatic" => "automatic".into(),
            "manual" => "manual (maximum bid)".into(),
            other => other.to_owned(),
        },
        HistoryField::Status => match value {
            "ACTIVE" => "active".into(),
            "INACTIVE" => "inactive".into(),
            other => code_words(other),
        },
        HistoryField::Pause => match value {
            "PAUSED" => "paused".into(),
            "NOT_PAUSED" => "running".into(),
            other => code_words(other),
        },
        HistoryField::StartDate | HistoryField::EndDate => value.to_owned(),
        HistoryField::Features => value
            .split(',')
            .map(code_words)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// `LINK_TRACKING` → "Link tracking".
fn code_words(code: &str) -> String {
    let lower = code.replace('_', " ").to_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What happened, in words: "Budget $75.00 → $123.45", "Features: Link tracking added", "Removed at Yelp".
pub fn change_words(entry: &HistoryEntry) -> String {
    match HistoryKind::parse(&entry.kind) {
        Some(HistoryKind::Added) => "Program added".into(),
        Some(HistoryKind::Removed) => "Program no longer listed by Yelp (removed)".into(),
        Some(HistoryKind::Restored) => "Program listed by Yelp again (restored)".into(),
        Some(HistoryKind::Changed) | None => {
            let Some(field) = entry.field.as_deref().and_then(HistoryField::parse) else {
                return format!("{} changed", entry.field.as_deref().unwrap_or("A field"));
            };
            if field == HistoryField::Features {
                return features_words(entry.old_value.as_deref(), entry.new_value.as_deref());
            }
            format!(
                "{} {} → {}",
                field_label(field),
                value_words(field, entry.old_value.as_deref()),
                value_words(field, entry.new_value.as_deref())
            )
        }
    }
}

/// A change of active features, by type: what was added and what was removed.
fn features_words(old: Option<&str>, new: Option<&str>) -> String {
    let set = |v: Option<&str>| -> Vec<String> {
        v.unwrap_or_default()
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let (old, new) = (set(old), set(new));
    let added: Vec<String> = new
        .iter()
        .filter(|c| !old.contains(c))
        .map(|c| code_words(c))
        .collect();
    let removed: Vec<String> = old
        .iter()
        .filter(|c| !new.contains(c))
        .map(|c| code_words(c))
        .collect();
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("{} turned on", added.join(", ")));
    }
    if !removed.is_empty() {
        parts.push(format!("{} turned off", removed.join(", ")));
    }
    if parts.is_empty() {
        "Features changed".into()
    } else {
        format!("Features: {}", parts.join("; "))
    }
}

/// Who or what made it, in words: "by demo", "by demo, in a change set", "outside this dashboard".
pub fn source_words(entry: &HistoryEntry) -> String {
    let who = entry.actor.as_deref().unwrap_or("someone");
    match HistorySource::parse(&entry.source) {
        Some(HistorySource::Job) | Some(HistorySource::User) => format!("by {who}"),
        Some(HistorySource::ChangeSet) => format!("by {who}, in a bulk change"),
        Some(HistorySource::Schedule) => format!("by {who}, as scheduled"),
        Some(HistorySource::Outside) | None => "outside this dashboard".into(),
    }
}

/// The source's name in words, for filters.
pub fn source_label(source: HistorySource) -> &'static str {
    match source {
        HistorySource::Job => "A job of this dashboard",
        HistorySource::ChangeSet => "A bulk change",
        HistorySource::Schedule => "A scheduled change",
        HistorySource::User => "A user's direct change",
        HistorySource::Outside => "Outside this dashboard",
    }
}

/// The whole line: change and source.
pub fn line(entry: &HistoryEntry) -> String {
    format!("{} {}", change_words(entry), source_words(entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(field: &str, old: Option<&str>, new: Option<&str>, source: &str) -> HistoryEntry {
        HistoryEntry {
            id: "1".into(),
            program_id: "p".into(),
            business_id: None,
            at: 0,
            kind: "changed".into(),
            field: Some(field.into()),
            old_value: old.map(str::to_owned),
            new_value: new.map(str::to_owned),
            source: source.into(),
            actor_id: None,
            actor: Some("demo".into()),
            job_id: None,
            change_set_id: None,
            schedule_id: None,
            run_id: None,
        }
    }

    #[test]
    fn money_reads_as_dollars_and_codes_as_words() {
        assert_eq!(
            line(&entry("budget", Some("7500"), Some("12345"), "job")),
            "Budget $75.00 → $123.45 by demo"
        );
        assert_eq!(
            line(&entry(
                "pause",
                Some("NOT_PAUSED"),
                Some("PAUSED"),
                "outside"
            )),
            "Delivery running → paused outside this dashboard"
        );
        assert_eq!(
            line(&entry("end_date", None, Some("2027-01-31"), "schedule")),
            "End date no end → 2027-01-31 by demo, as scheduled"
        );
        assert_eq!(
            change_words(&entry(
                "features",
                Some("CALL_TRACKING"),
                Some("LINK_TRACKING"),
                "user"
            )),
            "Features: Link tracking turned on; Call tracking turned off"
        );
    }
}
