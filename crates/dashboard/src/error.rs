//! The dashboard's one error type.

/// Everything that can go wrong inside the dashboard. Messages are safe to show an operator: none contains
/// a credential or a database URL.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed or refused a statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Yelp's API failed or refused a request.
    #[error(transparent)]
    Yelp(#[from] yelp_partner_api::Error),
    /// A user's input that cannot be right; the message, shown to them, names what is wrong.
    #[error("{0}")]
    Invalid(String),
    /// A user's input with one field wrong: the field and what is wrong with it.
    #[error("{message}")]
    InvalidField {
        /// The parameter or field at fault.
        field: String,
        /// What is wrong with it, for the user.
        message: String,
    },
    /// Input with one or more fields wrong: every `(field, message)` found.
    #[error("{}", .0.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>().join("; "))]
    InvalidFields(Vec<(String, String)>),
    /// Something looked up does not exist (in this workspace).
    #[error("{0} not found")]
    NotFound(String),
    /// The request conflicts with work already under way.
    #[error("{0}")]
    Conflict(String),
    /// A create identical to one asked for minutes ago (job `job_id`), sent without the confirmation
    /// that another one is wanted.
    #[error(
        "An identical program (same business, type, start date and budget) was asked for minutes ago, as job {job_id}; send it again with confirm_duplicate to create another one"
    )]
    Duplicate {
        /// The earlier job.
        job_id: String,
    },
    /// Yelp could not take a request now (no answer, throttled, credentials refused); the message says
    /// what to do and holds nothing secret.
    #[error("{0}")]
    YelpUnavailable(String),
    /// The dashboard is set up wrong (a key, a file, an address): an operator's fault, not the user's.
    /// The message is for the operator's log, never for a browser.
    #[error("configuration error: {0}")]
    Config(String),
    /// A fault of ours (a task that stopped, a hash that could not be made). For the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// A user's mistake in one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::InvalidField {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// `Result` with the dashboard's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
