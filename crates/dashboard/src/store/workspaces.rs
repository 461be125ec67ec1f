//! Workspaces: one per set of Yelp partner credentials, each with its time zone.

use std::fmt;

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
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
    /// Its time zone: schedule times typed without an offset are read in it, and pages show times in it.
    #[sqlx(try_from = "String")]
    pub time_zone: WorkspaceZone,
}

/// A workspace's time zone: an IANA name from the tz database (`America/Los_Angeles`), `UTC` unless an
/// admin chose another. It only reads and shows times; they are stored as unix ms (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkspaceZone(Tz);

impl WorkspaceZone {
    /// The zone of a new workspace.
    pub const UTC: Self = Self(Tz::UTC);

    /// The zone of an IANA name as typed (surrounding spaces ignored); refused naming `time_zone` when the
    /// tz database has no zone of that name.
    pub fn parse(name: &str) -> Result<Self> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::field(
                "time_zone",
                "Choose a time zone, such as America/Los_Angeles or UTC.",
            ));
        }
        name.parse::<Tz>().map(Self).map_err(|_| {
            Error::field(
                "time_zone",
                "The time zone must be an IANA name, such as America/Los_Angeles, Europe/Berlin or UTC.",
            )
        })
    }

    /// Its IANA name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The zones offered when choosing one: the tz database's `Area/Location` names and `UTC`, sorted.
    /// (Others it knows, such as `EST` or `US/Pacific`, are still accepted when typed.)
    pub fn choices() -> Vec<&'static str> {
        let mut names: Vec<&'static str> = chrono_tz::TZ_VARIANTS
            .iter()
            .map(|tz| tz.name())
            .filter(|name| name.contains('/') && !name.starts_with("Etc/"))
            .chain(["UTC"])
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// A wall-clock time of this zone as unix ms. A time the clocks skip when they go forward does not
    /// exist and is refused with the gap; one they show twice when they go back is ambiguous, and the
    /// earlier of its two instants is taken (the first time the clock shows it).
    pub fn resolve(self, local: NaiveDateTime) -> Result<i64, LocalTimeGap> {
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(t) => Ok(t.timestamp_millis()),
            LocalResult::Ambiguous(earlier, _) => Ok(earlier.timestamp_millis()),
            LocalResult::None => {
                // The offsets a day either side of the gap tell how far the clocks jumped.
                let offset_at =
                    |t: NaiveDateTime| self.0.offset_from_utc_datetime(&t).fix().local_minus_utc();
                let before = offset_at(local - Duration::days(1));
                let after = offset_at(local + Duration::days(1));
                Err(LocalTimeGap {
                    local,
                    zone: self.name(),
                    skipped_minutes: i64::from(after - before) / 60,
                })
            }
        }
    }

    /// Unix ms as this zone's wall clock; `None` past chrono's range.
    pub fn local(self, ms: i64) -> Option<DateTime<Tz>> {
        Utc.timestamp_millis_opt(ms)
            .single()
            .map(|t| t.with_timezone(&self.0))
    }

    /// The zone's abbreviation at `ms` (`PST`, `PDT`, `UTC`), or its name where the tz database has only
    /// a numeric one (`+03`), which says less than the name.
    pub fn abbreviation(self, ms: i64) -> String {
        match self.local(ms).map(|t| t.format("%Z").to_string()) {
            Some(abbr) if abbr.chars().any(|c| c.is_ascii_alphabetic()) => abbr,
            _ => self.name().to_owned(),
        }
    }

    /// Unix ms as `2026-12-24 09:00 PST`: this zone's wall clock and its abbreviation then.
    pub fn datetime(self, ms: i64) -> String {
        self.local(ms).map_or_else(String::new, |t| {
            format!("{} {}", t.format("%Y-%m-%d %H:%M"), self.abbreviation(ms))
        })
    }

    /// Unix ms as a `datetime-local` value of this zone (`2026-12-24T09:00`).
    pub fn datetime_local(self, ms: i64) -> String {
        self.local(ms)
            .map_or_else(String::new, |t| t.format("%Y-%m-%dT%H:%M").to_string())
    }

    /// The day `ms` falls on in this zone.
    pub fn date(self, ms: i64) -> Option<NaiveDate> {
        self.local(ms).map(|t| t.date_naive())
    }
}

impl Default for WorkspaceZone {
    fn default() -> Self {
        Self::UTC
    }
}

impl fmt::Display for WorkspaceZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl TryFrom<String> for WorkspaceZone {
    type Error = Error;

    /// As stored: only names [`WorkspaceZone::parse`] took are, so another is the database's fault.
    fn try_from(name: String) -> Result<Self> {
        name.parse::<Tz>()
            .map(Self)
            .map_err(|_| Error::Internal(format!("unknown stored time zone {name:?}")))
    }
}

/// A wall-clock time that does not exist in a zone: the clocks jump over it when they go forward.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalTimeGap {
    /// The time as typed.
    pub local: NaiveDateTime,
    /// The zone's name.
    pub zone: &'static str,
    /// How far the clocks jump there, in minutes.
    pub skipped_minutes: i64,
}

impl fmt::Display for LocalTimeGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let jump = match self.skipped_minutes {
            60 => "an hour".to_owned(),
            m if m > 0 && m % 60 == 0 => format!("{} hours", m / 60),
            m if m > 0 => format!("{m} minutes"),
            _ => "over it".to_owned(),
        };
        write!(
            f,
            "{} does not exist in {}: the clocks jump forward {jump} then (a daylight saving change). \
             Choose a time before or after it.",
            self.local.format("%Y-%m-%d %H:%M"),
            self.zone
        )
    }
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
        let sql = format!(
            "SELECT {WORKSPACE_COLUMNS} FROM workspaces WHERE yelp_base_url = $1 AND yelp_username = $2"
        );
        sqlx::query_as::<_, Workspace>(&sql)
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

const WORKSPACE_COLUMNS: &str = "id, name, yelp_base_url, yelp_username, created_at, time_zone";

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
            // The column's default.
            time_zone: WorkspaceZone::UTC,
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

    /// Sets the workspace's time zone.
    pub async fn set_workspace_time_zone(
        &self,
        workspace_id: &str,
        zone: WorkspaceZone,
    ) -> Result<()> {
        let done = sqlx::query("UPDATE workspaces SET time_zone = $1 WHERE id = $2")
            .bind(zone.name())
            .bind(workspace_id)
            .execute(&self.writer)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound(format!("workspace {workspace_id}")));
        }
        Ok(())
    }

    /// The workspace's time zone.
    pub async fn workspace_zone(&self, workspace_id: &str) -> Result<WorkspaceZone> {
        Ok(self.workspace(workspace_id).await?.time_zone)
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

    use super::WorkspaceZone;
    use chrono::NaiveDate;

    fn local(text: &str) -> chrono::NaiveDateTime {
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").unwrap()
    }

    #[test]
    fn a_wall_clock_time_is_read_in_the_zone_and_shown_with_its_abbreviation() {
        let new_york = WorkspaceZone::parse(" America/New_York ").unwrap();
        let at = new_york.resolve(local("2026-12-24T09:00")).unwrap();
        assert_eq!(WorkspaceZone::UTC.datetime(at), "2026-12-24 14:00 UTC");
        assert_eq!(new_york.datetime(at), "2026-12-24 09:00 EST");
        assert_eq!(new_york.datetime_local(at), "2026-12-24T09:00");
        let summer = new_york.resolve(local("2026-07-04T09:00")).unwrap();
        assert_eq!(WorkspaceZone::UTC.datetime(summer), "2026-07-04 13:00 UTC");
        assert_eq!(new_york.datetime(summer), "2026-07-04 09:00 EDT");
        // The day is the zone's: 21:00 in Los Angeles is the next day in UTC.
        let la = WorkspaceZone::parse("America/Los_Angeles").unwrap();
        let evening = la.resolve(local("2026-12-24T21:00")).unwrap();
        assert_eq!(la.date(evening), NaiveDate::from_ymd_opt(2026, 12, 24));
        assert_eq!(
            WorkspaceZone::UTC.date(evening),
            NaiveDate::from_ymd_opt(2026, 12, 25)
        );
        // Only a numeric abbreviation: the name says more.
        let istanbul = WorkspaceZone::parse("Europe/Istanbul").unwrap();
        assert!(
            istanbul.datetime(at).ends_with("Europe/Istanbul"),
            "{}",
            istanbul.datetime(at)
        );
    }

    #[test]
    fn a_skipped_time_is_refused_and_a_repeated_one_takes_the_earlier_instant() {
        let new_york = WorkspaceZone::parse("America/New_York").unwrap();
        let gap = new_york.resolve(local("2027-03-14T02:30")).unwrap_err();
        assert_eq!(gap.skipped_minutes, 60);
        let said = gap.to_string();
        assert!(
            said.starts_with("2027-03-14 02:30 does not exist in America/New_York"),
            "{said}"
        );
        assert!(said.contains("jump forward an hour"), "{said}");
        // 01:30 on 7 November 2027 happens twice: first in EDT (05:30 UTC), then in EST (06:30 UTC).
        let twice = new_york.resolve(local("2027-11-07T01:30")).unwrap();
        assert_eq!(WorkspaceZone::UTC.datetime(twice), "2027-11-07 05:30 UTC");
        assert_eq!(new_york.datetime(twice), "2027-11-07 01:30 EDT");
    }

    #[test]
    fn only_names_of_the_tz_database_are_zones() {
        for bad in ["", "Mars/Olympus_Mons", "america/new_york", "UTC+3"] {
            let e = WorkspaceZone::parse(bad).unwrap_err();
            assert!(
                matches!(e, crate::error::Error::InvalidField { ref field, .. } if field == "time_zone"),
                "{bad}: {e:?}"
            );
        }
        let choices = WorkspaceZone::choices();
        assert!(choices.contains(&"America/Los_Angeles") && choices.contains(&"UTC"));
        assert!(choices.iter().all(|c| WorkspaceZone::parse(c).is_ok()));
        assert_eq!(
            WorkspaceZone::try_from("Asia/Tokyo".to_owned())
                .unwrap()
                .name(),
            "Asia/Tokyo"
        );
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
