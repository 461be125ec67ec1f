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
    /// Input or configuration that cannot be right; the message names what is wrong.
    #[error("{0}")]
    Invalid(String),
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
}

/// `Result` with the dashboard's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
