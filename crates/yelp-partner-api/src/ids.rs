//! Opaque Yelp identifiers: business, program, job, campaign, portfolio and report ids.
//!
//! Yelp's ids are 22 URL-safe base64 characters, and a job id can start with `-`. Ids that arrive from Yelp
//! are kept as sent (a decoder must never fail on an id it did not expect); ids that arrive from a user go
//! through [`ProgramId::parse`] and friends, which allow only the URL-safe alphabet so that an id can never
//! smuggle a path or a query into a request.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Longest id accepted from outside; Yelp's are 22 characters, the margin is for future formats.
const MAX_ID_LEN: usize = 64;

/// An id given by a user (URL, form, command line) that is not of Yelp's form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} must be 1 to {MAX_ID_LEN} characters of A-Z, a-z, 0-9, '-' or '_'")]
pub struct InvalidId {
    /// Which kind of id was expected, e.g. "program id".
    pub kind: &'static str,
}

fn is_valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses an id that comes from a user, accepting only Yelp's URL-safe alphabet.
            pub fn parse(s: &str) -> Result<Self, InvalidId> {
                if is_valid_id(s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(InvalidId { kind: $kind })
                }
            }

            /// Wraps an id exactly as Yelp (or our own database, which got it from Yelp) sent it.
            pub fn from_yelp(s: impl Into<String>) -> Self {
                Self(s.into())
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

id_type!(
    /// Yelp's encrypted business id.
    BusinessId,
    "business id"
);
id_type!(
    /// An ad program's id.
    ProgramId,
    "program id"
);
id_type!(
    /// The id of an asynchronous Yelp job (create, edit, end). May start with `-`.
    JobId,
    "job id"
);
id_type!(
    /// A portfolio project of a YELP_PORTFOLIO program.
    ProjectId,
    "project id"
);
id_type!(
    /// A photo of a portfolio project.
    PhotoId,
    "photo id"
);
id_type!(
    /// A report asked of the Reporting API v3.
    ReportId,
    "report id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_yelps_form_parse_including_a_leading_dash() {
        assert!(ProgramId::parse("Qx7Lm2VbT0aZpR9sYc4kWg").is_ok());
        assert!(JobId::parse("-8XYgJN8YpYWZ6vCrUjKJw").is_ok());
    }

    #[test]
    fn ids_that_could_escape_a_url_path_are_refused() {
        for bad in ["", "a/b", "a?b=c", "../x", "a b", "é", &"x".repeat(65)] {
            let err = ProgramId::parse(bad).unwrap_err();
            assert_eq!(err.kind, "program id", "{bad:?}");
        }
    }
}
