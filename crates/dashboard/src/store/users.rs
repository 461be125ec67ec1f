//! Users: people who sign in to one workspace, with a role. Password hashes stay in here and in `auth`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sqlx::FromRow;

use super::{Store, is_foreign_key_violation, is_unique_violation, new_id, now_ms};
use crate::error::{Error, Result};

/// What a user may do in their workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including managing users and credentials.
    Admin,
    /// Sync and change programs.
    Operator,
    /// Read only.
    Viewer,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 3] = [Role::Admin, Role::Operator, Role::Viewer];

    /// The role as stored and shown: `admin`, `operator` or `viewer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Viewer => "viewer",
        }
    }

    /// Whether the role may sync and change programs (admin, operator).
    pub fn can_operate(self) -> bool {
        matches!(self, Role::Admin | Role::Operator)
    }

    /// Whether the role may manage users and credentials (admin).
    pub fn can_admin(self) -> bool {
        matches!(self, Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| Error::Invalid("role must be one of admin, operator, viewer".into()))
    }
}

/// A user, without their password hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    /// Its id.
    pub id: String,
    /// The one workspace the user belongs to.
    pub workspace_id: String,
    /// The name they sign in with (unique, compared without case).
    pub username: String,
    /// What they may do.
    pub role: Role,
    /// When the user was created (unix ms).
    pub created_at: i64,
}

/// A `users` row as read, before its role is parsed.
#[derive(FromRow)]
pub(super) struct UserRow {
    id: String,
    workspace_id: String,
    username: String,
    role: String,
    created_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = Error;

    fn try_from(row: UserRow) -> Result<Self> {
        Ok(User {
            role: row.role.parse()?,
            id: row.id,
            workspace_id: row.workspace_id,
            username: row.username,
            created_at: row.created_at,
        })
    }
}

const USER_COLUMNS: &str = "id, workspace_id, username, role, created_at";

/// The longest username accepted.
pub const MAX_USERNAME_LEN: usize = 64;

/// Checks a new username: 1 to 64 of `A-Z a-z 0-9 _ . @ -`.
pub fn validate_username(username: &str) -> Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@' | '-');
    if username.is_empty() || username.len() > MAX_USERNAME_LEN || !username.chars().all(allowed) {
        return Err(Error::Invalid(format!(
            "a username must be 1 to {MAX_USERNAME_LEN} characters of A-Z, a-z, 0-9, '_', '.', '@' and '-'"
        )));
    }
    Ok(())
}

impl Store {
    /// Creates a user of the workspace. `Conflict` when the username is taken (in any case), `NotFound` when
    /// the workspace does not exist; the database's keys decide, so concurrent calls cannot both succeed.
    pub async fn create_user(
        &self,
        workspace_id: &str,
        username: &str,
        password_hash: &str,
        role: Role,
    ) -> Result<User> {
        validate_username(username)?;
        let user = User {
            id: new_id(),
            workspace_id: workspace_id.to_owned(),
            username: username.to_owned(),
            role,
            created_at: now_ms(),
        };
        let inserted = sqlx::query(
            "INSERT INTO users (id, workspace_id, username, password_hash, role, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&user.id)
        .bind(&user.workspace_id)
        .bind(&user.username)
        .bind(password_hash)
        .bind(role.as_str())
        .bind(user.created_at)
        .execute(&self.writer)
        .await;
        match inserted {
            Ok(_) => Ok(user),
            Err(e) if is_unique_violation(&e) => {
                Err(Error::Conflict(format!("user '{username}' already exists")))
            }
            Err(e) if is_foreign_key_violation(&e) => {
                Err(Error::NotFound(format!("workspace {workspace_id}")))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The user who signs in with this name (compared without case), with their password hash.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<(User, String)>> {
        #[derive(FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: UserRow,
            password_hash: String,
        }
        let sql = format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE lower(username) = lower($1)"
        );
        let Some(row) = sqlx::query_as::<_, Row>(&sql)
            .bind(username)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some((User::try_from(row.user)?, row.password_hash)))
    }

    /// A user by id.
    pub async fn user(&self, id: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        sqlx::query_as::<_, UserRow>(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(User::try_from)
            .transpose()
    }

    /// Every user of every workspace, by username (for the command line).
    pub async fn users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username, id");
        sqlx::query_as::<_, UserRow>(&sql)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(User::try_from)
            .collect()
    }

    /// The users of one workspace, by username.
    pub async fn workspace_users(&self, workspace_id: &str) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE workspace_id = $1 ORDER BY username, id"
        );
        sqlx::query_as::<_, UserRow>(&sql)
            .bind(workspace_id)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(User::try_from)
            .collect()
    }

    /// Replaces a user's password hash and ends all of their sessions, in one transaction.
    pub async fn set_user_password_hash(&self, user_id: &str, password_hash: &str) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let updated =
            sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(password_hash)
                .bind(now_ms())
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if updated == 0 {
            return Err(Error::NotFound(format!("user {user_id}")));
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes the role of a user of the workspace. Their sessions read the role afresh on every request.
    pub async fn set_user_role(&self, workspace_id: &str, user_id: &str, role: Role) -> Result<()> {
        let updated = sqlx::query(
            "UPDATE users SET role = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4",
        )
        .bind(role.as_str())
        .bind(now_ms())
        .bind(workspace_id)
        .bind(user_id)
        .execute(&self.writer)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(Error::NotFound(format!("user {user_id}")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_rank() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        let err = "root".parse::<Role>().unwrap_err().to_string();
        assert!(err.contains("admin, operator, viewer"), "{err}");
        assert!(Role::Admin.can_admin() && Role::Admin.can_operate());
        assert!(!Role::Operator.can_admin() && Role::Operator.can_operate());
        assert!(!Role::Viewer.can_admin() && !Role::Viewer.can_operate());
    }

    #[test]
    fn usernames_are_short_and_plain() {
        for good in ["alice", "a", "ops.team-1@acme_co", &"x".repeat(64)] {
            assert!(validate_username(good).is_ok(), "{good}");
        }
        for bad in ["", "with space", "semi;colon", "ünïcode", &"x".repeat(65)] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }
}
