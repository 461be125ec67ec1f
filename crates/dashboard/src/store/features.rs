//! What Yelp last answered of each program's features, kept so that pages show their settings without
//! asking Yelp. The sync does not touch it: the listing tells only which types are on (`active_features`).

use super::Store;
use crate::error::Result;

/// A program's features as Yelp last answered them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFeatures {
    /// Yelp's body, `{"features": {TYPE: {...}}}`.
    pub features: String,
    /// When it was read (unix ms).
    pub read_at: i64,
}

impl Store {
    /// Keeps Yelp's latest answer of a program's features.
    pub async fn save_program_features(
        &self,
        workspace_id: &str,
        program_id: &str,
        features: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO program_features (workspace_id, program_id, features, read_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (workspace_id, program_id) DO UPDATE \
             SET features = excluded.features, read_at = excluded.read_at",
        )
        .bind(workspace_id)
        .bind(program_id)
        .bind(features)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Yelp's latest answer of a program's features, if one was read.
    pub async fn program_features(
        &self,
        workspace_id: &str,
        program_id: &str,
    ) -> Result<Option<StoredFeatures>> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT features, read_at FROM program_features WHERE workspace_id = $1 AND program_id = $2",
        )
        .bind(workspace_id)
        .bind(program_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(features, read_at)| StoredFeatures { features, read_at }))
    }
}
