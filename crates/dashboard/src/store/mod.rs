//! Storage: one set of SQL for SQLite (the default, a file) and PostgreSQL (several instances), through
//! sqlx's `Any` driver. Every query on customer data takes the workspace id. Times are unix milliseconds.

mod audit;
mod businesses;
mod change_sets;
mod features;
mod history;
mod job_steps;
mod jobs;
mod labels;
mod listing;
mod login_throttle;
mod programs;
mod reports;
mod schedule;
mod scheduled_changes;
mod sessions;
mod snapshots;
mod sync_runs;
mod users;
mod workspaces;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

use crate::error::{Error, Result};

pub use audit::{AuditAction, AuditEntry, AuditEvent, AuditFilter};
pub use businesses::{
    BusinessOverview, BusinessPage, BusinessProfile, BusinessQuery, BusinessSort, OptionalFlag,
    search_form,
};
pub use change_sets::{ChangeSetRecord, ChangeSetState, ItemRecord, ItemState, ItemWrite};
pub use features::StoredFeatures;
pub use history::{
    HistoryEntry, HistoryField, HistoryFilter, HistoryKind, HistorySource, JOB_CREDIT_WINDOW_MS,
    MirrorWriter,
};
pub use job_steps::{JobStep, StepState};
pub use jobs::{JobCount, JobFilter, JobRecord, JobStatus, JobType, UNKNOWN_OUTCOME, UnknownValue};
pub use labels::{ExportRow, MAX_CUSTOM_NAME_CHARS, ProgramLabels, custom_name};
pub use listing::{BusinessSummary, ProgramListing, ProgramQuery, SortColumn};
pub use login_throttle::{LoginTurn, ThrottleState};
pub use programs::{KnownBusinesses, PageWrite, StoredProgram, could_be_mirrored};
pub use reports::{NewReport, ReportState, ReportingSettings, StoredReport};
pub use schedule::SyncActivity;
pub use scheduled_changes::{MissedSchedules, ScheduleRecord, ScheduleState};
pub use sessions::SessionRecord;
pub use snapshots::{MetricSnapshot, MetricTotals};
pub use sync_runs::{RunCounts, RunStats, RunStatus, SyncLease, SyncRun};
pub use users::{MAX_USERNAME_LEN, Role, User, validate_username};
pub use workspaces::{LocalTimeGap, Workspace, WorkspaceZone};

/// Which database the store talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file: zero set-up, one instance.
    Sqlite,
    /// PostgreSQL: several instances.
    Postgres,
}

/// The database. Cheap to clone; clones share the pools.
#[derive(Clone, Debug)]
pub struct Store {
    /// For reads (and, on PostgreSQL, writes).
    pool: AnyPool,
    /// For writes. On SQLite, one connection: SQLite runs one writer at a time anyway, and a connection
    /// that no other connection writes behind keeps its page cache (SQLite drops a connection's cache
    /// whenever another one has written), which makes a sync's page writes several times faster.
    writer: AnyPool,
    backend: Backend,
    /// Program-list results by workspace, query and mirror version.
    list_cache: std::sync::Arc<listing::ListCache>,
    /// Sign-in attempts under way, by throttle key.
    login_turns: std::sync::Arc<login_throttle::LoginTurns>,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Store {
    /// Connects to `url`: `sqlite://path/to/file.db` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self> {
        install_default_drivers();
        let (backend, url) = normalize_url(url)?;
        let readers = match backend {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        };
        let pool = pool_options(backend, readers).connect(&url).await?;
        let writer = match backend {
            Backend::Sqlite => pool_options(backend, 1).connect(&url).await?,
            Backend::Postgres => pool.clone(),
        };
        Ok(Self {
            pool,
            writer,
            backend,
            list_cache: std::sync::Arc::default(),
            login_turns: std::sync::Arc::default(),
        })
    }

    /// Brings the schema up to date. Safe when several instances start at once: on PostgreSQL sqlx holds
    /// an advisory lock while it migrates, so each migration is applied once; SQLite has no such lock, so
    /// two processes migrating a new file at once may both try a migration, and the loser, whose
    /// transaction rolls back whole, tries again and finds it applied.
    pub async fn migrate(&self) -> Result<()> {
        let mut attempt = 1;
        loop {
            match MIGRATOR.run(&self.writer).await {
                Ok(()) => return Ok(()),
                Err(e) if self.backend == Backend::Sqlite && attempt < 10 => {
                    tracing::debug!(error = %e, attempt, "migration raced another process; trying again");
                    tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
                    attempt += 1;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection, waiting for those in use.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

fn pool_options(backend: Backend, max_connections: u32) -> AnyPoolOptions {
    // While PostgreSQL is unreachable, sqlx retries a refused connection until the acquire timeout, so
    // the timeout is how long a request waits before it fails: short enough that requests and health
    // checks fail fast, long enough for a busy pool's queue. SQLite cannot be unreachable; its single
    // writer can be held by a long statement, which its waiters must outlast. Each connection is checked
    // before use, so those broken by a database restart are replaced rather than handed out.
    let acquire_timeout = match backend {
        Backend::Sqlite => Duration::from_secs(30),
        Backend::Postgres => Duration::from_secs(5),
    };
    let options = AnyPoolOptions::new()
        .acquire_timeout(acquire_timeout)
        .test_before_acquire(true)
        .max_connections(max_connections);
    match backend {
        Backend::Sqlite => options.after_connect(|conn, _meta| {
            Box::pin(async move {
                // WAL lets readers work during a sync's writes; NORMAL is durable at each checkpoint
                // and is SQLite's advice for WAL; the busy timeout makes writers queue, not fail.
                // Statement journals in memory and a 16 MiB page cache (the default is 2 MiB) keep a
                // page write from touching a temporary file and re-reading index pages it just wrote.
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA busy_timeout = 15000; PRAGMA foreign_keys = ON; \
                         PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16384;",
                )
                .await?;
                Ok(())
            })
        }),
        Backend::Postgres => options,
    }
}

fn normalize_url(url: &str) -> Result<(Backend, String)> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_owned()));
    }
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let url = if rest.contains("mode=") || rest.contains(":memory:") {
            url.to_owned()
        } else if rest.contains('?') {
            format!("{url}&mode=rwc")
        } else {
            format!("{url}?mode=rwc")
        };
        return Ok((Backend::Sqlite, url));
    }
    // Never echo the URL: a PostgreSQL URL can hold a password.
    Err(Error::Config(
        "the database URL must start with sqlite:// or postgres://".into(),
    ))
}

/// Now, in unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A new id: 12 hex digits of milliseconds then 20 random ones, so ids sort by creation time.
pub fn new_id() -> String {
    format!("{:012x}{:020x}", now_ms(), fastrand::u128(..) >> 48)
}

/// Whether the database refused a statement for a duplicate key (either database).
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Whether the database refused a statement for a reference to a row that does not exist.
pub(crate) fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}

/// Bind markers for the values `start..start + count` of a generated statement: `$N` on PostgreSQL; plain
/// `?` on SQLite, which binds those in order without a lookup by name (sqlx looks every marker up, and
/// SQLite's lookup is linear, so a page's 460 `$N` markers cost a quadratic scan). A statement must use
/// these for all of its markers or none, because `?` numbering ignores `$N` markers.
pub(crate) fn markers(backend: Backend, start: usize, count: usize) -> String {
    match backend {
        Backend::Postgres => (start..start + count)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", "),
        Backend::Sqlite => vec!["?"; count].join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_create_the_file_and_other_schemes_are_refused_without_echoing_them() {
        assert_eq!(
            normalize_url("sqlite://data/x.db").unwrap(),
            (Backend::Sqlite, "sqlite://data/x.db?mode=rwc".into())
        );
        assert_eq!(
            normalize_url("sqlite://x.db?cache=shared").unwrap().1,
            "sqlite://x.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            normalize_url("postgres://u:p@h/db").unwrap().0,
            Backend::Postgres
        );
        let err = normalize_url("mysql://user:hunter2@h/db")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn ids_sort_by_creation_time_and_markers_count_from_start() {
        let a = new_id();
        std::thread::sleep(Duration::from_millis(2));
        assert!(new_id() > a);
        assert_eq!(a.len(), 32);
        assert_eq!(markers(Backend::Postgres, 2, 3), "$2, $3, $4");
        assert_eq!(markers(Backend::Sqlite, 2, 3), "?, ?, ?");
    }
}

#[cfg(test)]
mod sqlite_settings {
    use super::*;

    #[tokio::test]
    async fn every_sqlite_connection_uses_wal_with_normal_sync_and_a_busy_timeout() {
        let dir = std::env::temp_dir().join(format!("yelp-ads-pragma-{}", new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::connect(&format!("sqlite://{}", dir.join("p.db").display()))
            .await
            .unwrap();
        // Several connections at once, so that more than the first one is checked.
        let mut conns = Vec::new();
        for _ in 0..3 {
            conns.push(store.pool.acquire().await.unwrap());
        }
        for conn in &mut conns {
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&mut **conn)
                .await
                .unwrap();
            let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(&mut **conn)
                .await
                .unwrap();
            let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
                .fetch_one(&mut **conn)
                .await
                .unwrap();
            assert_eq!((mode.as_str(), sync, busy), ("wal", 1, 15_000));
        }
        drop(conns);
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
