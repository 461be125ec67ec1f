//! Workspaces: one per set of Yelp partner credentials.

use sqlx::FromRow;

use super::{Store, new_id, now_ms};
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
        sqlx::query_as::<_, Workspace>(
            "SELECT id, name, yelp_base_url, yelp_username, created_at FROM workspaces WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| Error::NotFound(format!("workspace {id}")))
    }
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
