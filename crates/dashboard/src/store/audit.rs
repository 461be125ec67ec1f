//! The audit log: one row an event, never a secret.

use sqlx::FromRow;

use super::{Store, new_id};
use crate::error::Result;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditAction {
    /// A user signed in.
    SignIn,
    /// A sign-in was refused (wrong name or password, or throttled).
    SignInFailed,
    /// A user signed out.
    SignOut,
    /// A user was added.
    UserAdded,
    /// A user was removed.
    UserRemoved,
    /// A user's role changed.
    RoleChanged,
    /// A user's password changed.
    PasswordChanged,
    /// The workspace's Yelp credentials were replaced.
    CredentialsReplaced,
    /// The connection to Yelp was tested.
    ConnectionTested,
    /// The workspace's time zone changed.
    TimeZoneChanged,
    /// A change set was made (staged, imported, a retry or an undo).
    ChangeSetCreated,
    /// A change set was posted.
    ChangeSetPosted,
    /// A change was scheduled.
    ScheduleCreated,
    /// A scheduled change was cancelled.
    ScheduleCancelled,
    /// Programs were exported.
    ExportMade,
}

impl AuditAction {
    /// Every action, for filters.
    pub const ALL: [AuditAction; 15] = [
        Self::SignIn,
        Self::SignInFailed,
        Self::SignOut,
        Self::UserAdded,
        Self::UserRemoved,
        Self::RoleChanged,
        Self::PasswordChanged,
        Self::CredentialsReplaced,
        Self::ConnectionTested,
        Self::TimeZoneChanged,
        Self::ChangeSetCreated,
        Self::ChangeSetPosted,
        Self::ScheduleCreated,
        Self::ScheduleCancelled,
        Self::ExportMade,
    ];

    /// As stored and filtered on.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::SignInFailed => "sign_in_failed",
            Self::SignOut => "sign_out",
            Self::UserAdded => "user_added",
            Self::UserRemoved => "user_removed",
            Self::RoleChanged => "role_changed",
            Self::PasswordChanged => "password_changed",
            Self::CredentialsReplaced => "credentials_replaced",
            Self::ConnectionTested => "connection_tested",
            Self::TimeZoneChanged => "time_zone_changed",
            Self::ChangeSetCreated => "change_set_created",
            Self::ChangeSetPosted => "change_set_posted",
            Self::ScheduleCreated => "schedule_created",
            Self::ScheduleCancelled => "schedule_cancelled",
            Self::ExportMade => "export_made",
        }
    }

    /// The action of its stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// An event to record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditEvent {
    /// The workspace, when known.
    pub workspace_id: Option<String>,
    /// The user who did it.
    pub actor_id: Option<String>,
    /// Their name (or the name typed at a failed sign-in).
    pub actor: Option<String>,
    /// What they did to (a user's name, a change set's id, …).
    pub target: Option<String>,
    /// In words.
    pub detail: Option<String>,
    /// The client's address.
    pub address: Option<String>,
    /// The client's user agent.
    pub user_agent: Option<String>,
}

/// An entry as stored.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct AuditEntry {
    /// Its id.
    pub id: String,
    /// When (unix ms).
    pub at: i64,
    /// Who, when signed in.
    pub actor_id: Option<String>,
    /// Their name, or the name typed.
    pub actor: Option<String>,
    /// What happened.
    pub action: String,
    /// To what.
    pub target: Option<String>,
    /// In words.
    pub detail: Option<String>,
    /// From where.
    pub address: Option<String>,
    /// With what.
    pub user_agent: Option<String>,
}

/// Filters of the audit log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this action.
    pub action: Option<AuditAction>,
    /// Only entries whose actor is this name (any case).
    pub actor: Option<String>,
    /// At or after (unix ms).
    pub since: Option<i64>,
    /// Before (unix ms).
    pub until: Option<i64>,
    /// Entries skipped, newest first.
    pub offset: u32,
    /// At most this many.
    pub limit: u32,
}

/// Text kept of a field a client sent (a typed name, a user agent): bounded, without control characters.
fn bounded(text: Option<String>) -> Option<String> {
    text.map(|t| t.chars().filter(|c| !c.is_control()).take(200).collect())
}

impl Store {
    /// Records an event at `now`.
    pub async fn audit(&self, action: AuditAction, event: AuditEvent, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (id, workspace_id, at, actor_id, actor, action, target, detail, \
             address, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(new_id())
        .bind(event.workspace_id)
        .bind(now)
        .bind(event.actor_id)
        .bind(bounded(event.actor))
        .bind(action.as_str())
        .bind(bounded(event.target))
        .bind(event.detail)
        .bind(bounded(event.address))
        .bind(bounded(event.user_agent))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The workspace's entries matching `filter`, newest first, and how many match in all.
    pub async fn audit_entries(
        &self,
        workspace_id: &str,
        filter: &AuditFilter,
    ) -> Result<(Vec<AuditEntry>, i64)> {
        let conditions = "workspace_id = $1 AND ($2 IS NULL OR action = $2) \
             AND ($3 IS NULL OR LOWER(actor) = LOWER($3)) AND ($4 IS NULL OR at >= $4) \
             AND ($5 IS NULL OR at < $5)";
        let action = filter.action.map(AuditAction::as_str);
        let entries: Vec<AuditEntry> = sqlx::query_as(&format!(
            "SELECT id, at, actor_id, actor, action, target, detail, address, user_agent \
             FROM audit_log WHERE {conditions} ORDER BY at DESC, id DESC LIMIT $6 OFFSET $7"
        ))
        .bind(workspace_id)
        .bind(action)
        .bind(&filter.actor)
        .bind(filter.since)
        .bind(filter.until)
        .bind(i64::from(filter.limit))
        .bind(i64::from(filter.offset))
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE {conditions}"
        ))
        .bind(workspace_id)
        .bind(action)
        .bind(&filter.actor)
        .bind(filter.since)
        .bind(filter.until)
        .fetch_one(&self.pool)
        .await?;
        Ok((entries, total))
    }

    /// Deletes entries older than `before` (unix ms); answers how many.
    pub async fn prune_audit(&self, before: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM audit_log WHERE at < $1")
            .bind(before)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }
}
