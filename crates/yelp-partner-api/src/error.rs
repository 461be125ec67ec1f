//! The client's one error type. Messages name what went wrong and never contain a credential: requests
//! carry credentials only in the Authorization header, which no message or log line includes.

use std::time::Duration;

use serde_json::Value;

/// Everything that can go wrong talking to Yelp.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Yelp refused the credentials (HTTP 401): the partner pair, or the reporting client's API key.
    #[error(
        "Yelp rejected the credentials (HTTP 401); check the partner username and password, or the reporting API key"
    )]
    Unauthorized,

    /// Yelp refused the request as invalid or not allowed (HTTP 400, 403, 422 and other 4xx).
    #[error("Yelp refused the request (HTTP {status}{}){}", id.as_deref().map(|i| format!(", {i}")).unwrap_or_default(), if description.is_empty() { String::new() } else { format!(": {description}") })]
    Rejected {
        /// HTTP status.
        status: u16,
        /// Yelp's error id or code, when it sent one.
        id: Option<String>,
        /// Yelp's description from its error object; empty when the answer was not one (its body is
        /// logged, never put in an error, as it may come from anything the base URL reaches).
        description: String,
    },

    /// The program, business or route does not exist, or the job expired.
    #[error("{what} not found at Yelp{}", detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    NotFound {
        /// What was looked for, e.g. "program Qx7…" or "job -8XY… (expired or unknown)".
        what: String,
        /// Yelp's words, when it gave any.
        detail: Option<String>,
    },

    /// Yelp is throttling us (HTTP 429) and retries did not get through.
    #[error("Yelp is rate limiting requests (HTTP 429){}", retry_after.map(|d| format!("; retry after {}s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// What Yelp's `Retry-After` asked for.
        retry_after: Option<Duration>,
    },

    /// Yelp failed (HTTP 5xx) and retries did not help.
    #[error("Yelp is unavailable (HTTP {status})")]
    Server {
        /// HTTP status.
        status: u16,
    },

    /// The request did not get a complete answer: connection refused or dropped, DNS, TLS.
    #[error("could not reach Yelp: {0}")]
    Transport(String),

    /// No answer within the configured timeout.
    #[error("Yelp did not answer in time")]
    Timeout,

    /// Yelp answered with something this client cannot read.
    #[error("unreadable answer from Yelp to {endpoint}: {detail}")]
    Decode {
        /// The endpoint, e.g. "GET /programs/v1".
        endpoint: &'static str,
        /// What was wrong with it.
        detail: String,
    },

    /// The request was refused before sending because it cannot be right.
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// The client was configured wrongly.
    #[error("invalid Yelp client configuration: {0}")]
    Config(String),
}

/// `Result` with this crate's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether trying the same idempotent request again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Server { .. } | Self::Transport(_) | Self::Timeout
        )
    }

    /// Whether a change sent to Yelp may have been made although this error came back: no answer in time,
    /// a connection lost, a 5xx (a gateway may fail after Yelp acted) or an unreadable answer. Such a change
    /// must not be sent again; read Yelp's state instead.
    pub fn leaves_outcome_unknown(&self) -> bool {
        matches!(
            self,
            Self::Timeout | Self::Transport(_) | Self::Server { .. } | Self::Decode { .. }
        )
    }

    /// Yelp's error id or code, when the error carries one.
    pub fn yelp_error_id(&self) -> Option<&str> {
        match self {
            Self::Rejected { id, .. } => id.as_deref(),
            _ => None,
        }
    }

    /// Builds a transport error from reqwest's, with its causes but without the URL (which, though it holds
    /// no credential, need not be repeated in every message).
    pub(crate) fn from_reqwest(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            return Self::Timeout;
        }
        let err = err.without_url();
        let mut message = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::Transport(message)
    }
}

/// Yelp's error body, `{"error": {"id"|"code": ..., "description": ...}}`, read leniently.
pub(crate) fn yelp_error_body(body: &[u8]) -> Option<(Option<String>, String)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let err = value.get("error")?;
    let text = |k: &str| err.get(k).and_then(Value::as_str).map(str::to_owned);
    let id = text("id").or_else(|| text("code"));
    let description = text("description")
        .or_else(|| text("message"))
        .unwrap_or_default();
    Some((id, description))
}

/// Whether a 429's body is Fusion's `ACCESS_LIMIT_REACHED`: the daily quota is spent (contract §13), unlike
/// `TOO_MANY_REQUESTS_PER_SECOND`, which a short wait cures.
pub(crate) fn is_daily_quota_spent(body: &[u8]) -> bool {
    yelp_error_body(body).is_some_and(|(id, _)| id.as_deref() == Some(DAILY_QUOTA_SPENT))
}

/// Fusion's error code of a spent daily quota.
pub(crate) const DAILY_QUOTA_SPENT: &str = "ACCESS_LIMIT_REACHED";

/// The start of a body that is not a Yelp error object, for the log.
pub(crate) fn body_excerpt(body: &[u8]) -> String {
    const MAX: usize = 200;
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
