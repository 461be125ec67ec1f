//! Sign-in sessions. Only a hash of each session token is stored; `auth` makes the tokens.

use std::fmt;

use sqlx::FromRow;

use super::users::UserRow;
use super::{Store, User};
use crate::error::Result;

/// A live session and its user, as read for a request.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Who is signed in (their role as it is now).
    pub user: User,
    /// The token that state-changing requests of this session must carry.
    pub csrf_token: String,
    /// When the session ends unless used again (unix ms).
    pub expires_at: i64,
}

impl fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRecord")
            .field("user", &self.user)
            .field("csrf_token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// How often, at most, a session's `last_seen_at` (and with it its expiry) is written (ms).
const TOUCH_INTERVAL_MS: i64 = 60_000;

impl Store {
    /// Records a session of the user, identified by the hash of its token, living `ttl_ms` from `now`.
    pub async fn create_session(
        &self,
        user_id: &str,
        token_hash: &str,
        csrf_token: &str,
        now: i64,
        ttl_ms: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf_token)
        .bind(now)
        .bind(now.saturating_add(ttl_ms))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The unexpired session with this token hash. Using a session slides its expiry: at most once a
    /// minute, `last_seen_at` becomes `now` and `expires_at` moves by as much, keeping the idle time it
    /// allows.
    pub async fn session(&self, token_hash: &str, now: i64) -> Result<Option<SessionRecord>> {
        #[derive(FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: UserRow,
            csrf_token: String,
            expires_at: i64,
            last_seen_at: i64,
        }
        let Some(row) = sqlx::query_as::<_, Row>(
            "SELECT u.id, u.workspace_id, u.username, u.role, u.created_at, \
             s.csrf_token, s.expires_at, s.last_seen_at \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let mut expires_at = row.expires_at;
        if now - row.last_seen_at >= TOUCH_INTERVAL_MS {
            // Conditional on the value read, so that concurrent requests slide it once.
            let touched = sqlx::query(
                "UPDATE sessions SET expires_at = expires_at + ($1 - last_seen_at), last_seen_at = $1 \
                 WHERE token_hash = $2 AND last_seen_at = $3",
            )
            .bind(now)
            .bind(token_hash)
            .bind(row.last_seen_at)
            .execute(&self.writer)
            .await?
            .rows_affected();
            if touched == 1 {
                expires_at += now - row.last_seen_at;
            }
        }
        Ok(Some(SessionRecord {
            user: User::try_from(row.user)?,
            csrf_token: row.csrf_token,
            expires_at,
        }))
    }

    /// Ends a session (signing out). Ending one that does not exist is not an error.
    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The sessions stored, expired ones that are not yet pruned included.
    pub async fn session_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Removes the sessions expired by `now`; answers how many.
    pub async fn delete_expired_sessions(&self, now: i64) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.writer)
            .await?
            .rows_affected())
    }
}
