//! Workspaces: one per set of Yelp partner credentials.

use sqlx::FromRow;

use super::{Store, is_unique_violation, new_id, now_ms};
use crate::error::{Error, Result};

/// A workspace: an agency's Yelp partner account and everything mirrored from it.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct Workspace {
    /// Its id.
    pub id: String,
    /// A name people recognise.
    pub name: String,
    /// Where its Yelp partner API is.
    pub yelp_base_url: String,
    /// Its Yelp partner username.
    pub yelp_username: String,
    /// When it was created (unix ms).
    pub created_at: i64,
}

impl Store {
    /// The workspace of these Yelp credentials, created (named `username @ host`) if new. Safe under
    /// concurrent calls: the unique key decides, not a check-then-insert.
    pub async fn workspace_for_credentials(
        &self,
        yelp_base_url: &str,
        yelp_username: &str,
    ) -> Result<Workspace> {
        let host = url_host(yelp_base_url);
        let name = format!("{yelp_username} @ {host}");
        sqlx::query(
            "INSERT INTO workspaces (id, name, yelp_base_url, yelp_username, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(new_id())
        .bind(&name)
        .bind(yelp_base_url)
        .bind(yelp_username)
        .bind(now_ms())
        .execute(&self.writer)
        .await?;
        sqlx::query_as::<_, Workspace>(
            "SELECT id, name, yelp_base_url, yelp_username, created_at FROM workspaces \
             WHERE yelp_base_url = $1 AND yelp_username = $2",
        )
        .bind(yelp_base_url)
        .bind(yelp_username)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| {
            Error::Conflict(format!(
                "a workspace named '{name}' exists for other credentials"
            ))
        })
    }

    /// A workspace by id.
    pub async fn workspace(&self, id: &str) -> Result<Workspace> {
        let sql = format!("SELECT {WORKSPACE_COLUMNS} FROM workspaces WHERE id = $1");
        sqlx::query_as::<_, Workspace>(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::NotFound(format!("workspace {id}")))
    }
}

const WORKSPACE_COLUMNS: &str = "id, name, yelp_base_url, yelp_username, created_at";

impl Store {
    /// Creates a workspace, with its Yelp password sealed by [`crate::secrets::SecretBox`] when one is
    /// given. `Conflict` when the name, or the base URL and username, belong to another workspace; the
    /// database's unique keys decide.
    pub async fn create_workspace(
        &self,
        name: &str,
        yelp_base_url: &str,
        yelp_username: &str,
        yelp_password_enc: Option<&str>,
    ) -> Result<Workspace> {
        if name.is_empty()
            || name.chars().count() > 200
            || name.trim() != name
            || name.chars().any(char::is_control)
        {
            return Err(Error::Invalid(
                "a workspace name must be 1 to 200 characters, without control characters or \
                 leading or trailing spaces"
                    .into(),
            ));
        }
        check_credentials(yelp_base_url, yelp_username)?;
        let workspace = Workspace {
            id: new_id(),
            name: name.to_owned(),
            yelp_base_url: yelp_base_url.to_owned(),
            yelp_username: yelp_username.to_owned(),
            created_at: now_ms(),
        };
        let inserted = sqlx::query(
            "INSERT INTO workspaces (id, name, yelp_base_url, yelp_username, yelp_password_enc, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&workspace.id)
        .bind(&workspace.name)
        .bind(yelp_base_url)
        .bind(yelp_username)
        .bind(yelp_password_enc)
        .bind(workspace.created_at)
        .execute(&self.writer)
        .await;
        match inserted {
            Ok(_) => Ok(workspace),
            Err(e) if is_unique_violation(&e) => Err(self
                .credentials_conflict(Some(name), yelp_base_url, yelp_username)
                .await),
            Err(e) => Err(e.into()),
        }
    }

    /// Says which unique key a refused workspace write ran into. Read after the write failed, so it only
    /// explains the database's decision.
    async fn credentials_conflict(
        &self,
        name: Option<&str>,
        yelp_base_url: &str,
        yelp_username: &str,
    ) -> Error {
        if let Some(name) = name {
            if let Ok(Some(_)) = self.workspace_by_name(name).await {
                return Error::Conflict(format!("workspace '{name}' already exists"));
            }
        }
        let owner: Option<String> = sqlx::query_scalar(
            "SELECT name FROM workspaces WHERE yelp_base_url = $1 AND yelp_username = $2",
        )
        .bind(yelp_base_url)
        .bind(yelp_username)
        .fetch_optional(&self.pool)
        .await
        .ok()
        .flatten();
        match owner {
            Some(owner) => Error::Conflict(format!(
                "workspace '{owner}' already uses Yelp user '{yelp_username}' at {yelp_base_url}"
            )),
            None => Error::Conflict("the workspace conflicts with another one".into()),
        }
    }

    /// The workspace with this name.
    pub async fn workspace_by_name(&self, name: &str) -> Result<Option<Workspace>> {
        let sql = format!("SELECT {WORKSPACE_COLUMNS} FROM workspaces WHERE name = $1");
        Ok(sqlx::query_as::<_, Workspace>(&sql)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Every workspace, by name.
    pub async fn workspaces(&self) -> Result<Vec<Workspace>> {
        let sql = format!("SELECT {WORKSPACE_COLUMNS} FROM workspaces ORDER BY name, id");
        Ok(sqlx::query_as::<_, Workspace>(&sql)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Replaces the workspace's Yelp credentials; the password sealed by
    /// [`crate::secrets::SecretBox`]. `Conflict` when another workspace has that base URL and username.
    pub async fn set_workspace_credentials(
        &self,
        workspace_id: &str,
        yelp_base_url: &str,
        yelp_username: &str,
        yelp_password_enc: &str,
    ) -> Result<()> {
        check_credentials(yelp_base_url, yelp_username)?;
        let updated = sqlx::query(
            "UPDATE workspaces SET yelp_base_url = $1, yelp_username = $2, yelp_password_enc = $3 \
             WHERE id = $4",
        )
        .bind(yelp_base_url)
        .bind(yelp_username)
        .bind(yelp_password_enc)
        .bind(workspace_id)
        .execute(&self.writer)
        .await;
        match updated {
            Ok(done) if done.rows_affected() == 0 => {
                Err(Error::NotFound(format!("workspace {workspace_id}")))
            }
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(self
                .credentials_conflict(None, yelp_base_url, yelp_username)
                .await),
            Err(e) => Err(e.into()),
        }
    }

    /// The workspace's sealed Yelp password; `None` when none is stored. Open it with
    /// [`crate::secrets::SecretBox::decrypt`].
    pub async fn workspace_password_enc(&self, workspace_id: &str) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT yelp_password_enc FROM workspaces WHERE id = $1")
                .bind(workspace_id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(enc,)| enc)
            .ok_or_else(|| Error::NotFound(format!("workspace {workspace_id}")))
    }
}

/// Checks Yelp credentials before they are stored: an http(s) URL that holds no credentials of its own
/// (it is shown in lists), and a username.
fn check_credentials(yelp_base_url: &str, yelp_username: &str) -> Result<()> {
    let rest = yelp_base_url
        .strip_prefix("https://")
        .or_else(|| yelp_base_url.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Err(Error::field(
            "yelp_base_url",
            "the Yelp base URL must start with http:// or https://",
        ));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    if authority.is_empty() || authority.contains('@') {
        return Err(Error::field(
            "yelp_base_url",
            "the Yelp base URL must name a host and hold no username or password",
        ));
    }
    if yelp_username.trim().is_empty() {
        return Err(Error::field(
            "yelp_username",
            "the Yelp username must not be empty",
        ));
    }
    if yelp_base_url
        .chars()
        .chain(yelp_username.chars())
        .any(char::is_control)
    {
        return Err(Error::field(
            "yelp_base_url",
            "the Yelp base URL and username must not contain control characters",
        ));
    }
    Ok(())
}

/// `host:port` of a URL for a workspace name, without anything else it holds.
fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    rest.rsplit_once('@').map_or(rest, |(_, host)| host)
}

#[cfg(test)]
mod tests {
    #[test]
    fn stored_credentials_need_a_plain_http_url_and_a_username() {
        assert!(super::check_credentials("https://partner-api.yelp.com/v1", "u").is_ok());
        assert!(super::check_credentials("http://127.0.0.1:8787", "u").is_ok());
        for (url, user) in [
            ("ftp://x", "u"),
            ("http://", "u"),
            ("http://u:hunter2@host/", "u"),
            ("http://host", " "),
        ] {
            let err = super::check_credentials(url, user).unwrap_err().to_string();
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn workspace_names_show_only_the_host() {
        assert_eq!(
            super::url_host("https://partner-api.yelp.com/v1"),
            "partner-api.yelp.com"
        );
        assert_eq!(
            super::url_host("http://u:pw@127.0.0.1:8080/"),
            "127.0.0.1:8080"
        );
    }
}
