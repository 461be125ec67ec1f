//! Template filters. Money is integer cents everywhere else; it becomes dollars here, and only here.

use askama::Values;
use chrono::{TimeZone, Utc};
use yelp_partner_api::Cents;

/// A number of cents, or none.
pub trait MaybeCents {
    /// The cents, if known.
    fn cents(&self) -> Option<i64>;
}

impl MaybeCents for i64 {
    fn cents(&self) -> Option<i64> {
        Some(*self)
    }
}

impl MaybeCents for Option<i64> {
    fn cents(&self) -> Option<i64> {
        *self
    }
}

impl<T: MaybeCents + ?Sized> MaybeCents for &T {
    fn cents(&self) -> Option<i64> {
        (**self).cents()
    }
}

/// Cents as dollars for a screen: `12345` → `$123.45`, `123456789` → `$1,234,567.89`; "—" when unknown.
pub fn dollars<T: MaybeCents>(cents: T, _: &dyn Values) -> askama::Result<String> {
    Ok(cents
        .cents()
        .map_or_else(|| "—".to_owned(), |c| Cents::new(c).to_string()))
}

/// `1900` → `1,900`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The word for `n` things: `plural(1, "program", "programs")` is "program".
pub fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// A code of Yelp's in plain words, for the codes that have no name of their own yet: `NOT_PAUSED` →
/// "Not paused", `ACTIVE` → "Active".
pub fn code_words(code: &str) -> String {
    let lower = code.replace('_', " ").to_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Unix milliseconds as `2026-05-01 13:45 UTC`.
pub fn datetime(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
}

/// Unix milliseconds as RFC 3339, for `<time datetime>`.
pub fn iso(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map_or_else(String::new, |t| t.to_rfc3339())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1900), "1,900");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn codes_become_words_and_counts_take_their_plural() {
        assert_eq!(code_words("NOT_PAUSED"), "Not paused");
        assert_eq!(code_words("ACTIVE"), "Active");
        assert_eq!(code_words(""), "");
        assert_eq!(plural(1, "program", "programs"), "program");
        assert_eq!(plural(0, "program", "programs"), "programs");
        assert_eq!(plural(2, "program", "programs"), "programs");
    }

    #[test]
    fn cents_become_dollars_only_on_screen() {
        assert_eq!(Cents::new(12345).to_string(), "$123.45");
        assert_eq!(Some(30000_i64).cents(), Some(30000));
        assert_eq!(datetime(0), "1970-01-01 00:00 UTC");
    }
}
