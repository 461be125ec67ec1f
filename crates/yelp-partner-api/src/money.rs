//! Money: integer cents everywhere inside the system.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount of money in integer cents (USD unless a field says otherwise). Yelp's API speaks cents for
/// budgets, bids and spend, so no float ever holds money on its way through.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Cents(i64);

/// A dollar amount typed by a user that is not a valid amount of money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not a decimal number such as `300`, `300.5` or `1,250.00`.
    #[error("'{0}' is not an amount in dollars, such as 25.00")]
    NotANumber(String),
    /// Too large to be held in cents.
    #[error("'{0}' is too large an amount")]
    TooLarge(String),
}

impl Cents {
    /// Zero cents.
    pub const ZERO: Cents = Cents(0);

    /// An amount of `cents` cents.
    pub const fn new(cents: i64) -> Self {
        Self(cents)
    }

    /// The amount in cents.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// Parses dollars as a person types them (`300`, `300.5`, `$1,250.00`, `0.295`) into cents, rounding
    /// half away from zero on the decimal digits themselves, so `0.29` is 29 cents and `0.295` is 30, where
    /// float arithmetic would give 28 and 29.
    pub fn parse_dollars(input: &str) -> Result<Self, MoneyError> {
        let not_a_number = || MoneyError::NotANumber(input.to_owned());
        let trimmed = input.trim();
        let (negative, unsigned) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let unsigned = unsigned.strip_prefix('$').unwrap_or(unsigned);
        let (whole, fraction) = match unsigned.split_once('.') {
            Some((w, f)) => (w, f),
            None => (unsigned, ""),
        };
        if whole.is_empty() && fraction.is_empty() {
            return Err(not_a_number());
        }
        if !valid_whole_part(whole) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return Err(not_a_number());
        }
        let too_large = || MoneyError::TooLarge(input.to_owned());
        let mut cents: i64 = 0;
        for b in whole.bytes().filter(u8::is_ascii_digit) {
            cents = cents
                .checked_mul(10)
                .and_then(|c| c.checked_add(i64::from(b - b'0')))
                .ok_or_else(too_large)?;
        }
        let digit = |i: usize| {
            fraction
                .as_bytes()
                .get(i)
                .map_or(0, |b| i64::from(b - b'0'))
        };
        cents = cents
            .checked_mul(100)
            .and_then(|c| c.checked_add(digit(0) * 10 + digit(1)))
            .ok_or_else(too_large)?;
        if digit(2) >= 5 {
            cents = cents.checked_add(1).ok_or_else(too_large)?;
        }
        Ok(Self(if negative { -cents } else { cents }))
    }

    /// The amount as a plain dollar string with two decimals, e.g. `1250.00`, as forms show it.
    pub fn to_dollars_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// Digits, optionally grouped by commas in threes (`1,250`); an empty whole part is fine (`.50`).
fn valid_whole_part(whole: &str) -> bool {
    if !whole.contains(',') {
        return whole.bytes().all(|b| b.is_ascii_digit());
    }
    let mut groups = whole.split(',');
    let first_ok = groups
        .next()
        .is_some_and(|g| (1..=3).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit()));
    first_ok && groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

impl fmt::Display for Cents {
    /// Dollars with a sign and thousands separators, e.g. `$1,250.00`, as a screen shows them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let dollars = (abs / 100).to_string();
        let mut grouped = String::with_capacity(dollars.len() + dollars.len() / 3);
        for (i, ch) in dollars.chars().enumerate() {
            if i > 0 && (dollars.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        write!(f, "{sign}${grouped}.{:02}", abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_parse_to_exact_cents_without_float_truncation() {
        let cases = [
            ("0.29", 29),
            ("0.295", 30),
            ("0.294", 29),
            ("25", 2500),
            ("25.5", 2550),
            ("300.00", 30000),
            ("$1,250.00", 125_000),
            (".5", 50),
            ("-1.25", -125),
            (" 10000 ", 1_000_000),
            ("1.005", 101),
        ];
        for (input, cents) in cases {
            assert_eq!(
                Cents::parse_dollars(input),
                Ok(Cents::new(cents)),
                "{input}"
            );
        }
    }

    #[test]
    fn text_that_is_not_money_is_refused_with_what_was_typed() {
        for bad in [
            "", ".", "abc", "1.2.3", "1,25", "12,3456", "1e3", "--1", "$", "1 000",
        ] {
            assert!(
                matches!(Cents::parse_dollars(bad), Err(MoneyError::NotANumber(s)) if s == bad),
                "{bad:?}"
            );
        }
        assert!(matches!(
            Cents::parse_dollars("99999999999999999999"),
            Err(MoneyError::TooLarge(_))
        ));
    }

    #[test]
    fn cents_show_as_dollars() {
        assert_eq!(Cents::new(125_000).to_string(), "$1,250.00");
        assert_eq!(Cents::new(5).to_string(), "$0.05");
        assert_eq!(Cents::new(-2550).to_string(), "-$25.50");
        assert_eq!(Cents::new(100_000_000).to_string(), "$1,000,000.00");
        assert_eq!(Cents::new(2550).to_dollars_string(), "25.50");
    }
}
