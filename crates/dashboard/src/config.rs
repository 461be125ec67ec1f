//! The dashboard's configuration: one typed [`Config`] read from the command line and the environment
//! (clap), secrets held as `secrecy` types, checked when [`crate::app::Application::build`] starts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args};
use secrecy::{ExposeSecret, SecretString};

use crate::error::Result;
use crate::jobs::JobOptions;
use crate::schedule;
use crate::secrets::SecretBox;
use crate::store::Store;
use crate::sync::SyncOptions;
use crate::web::ConnectionLimits;
use crate::yelp::{self, YelpSettings};

/// Where the database is, and the key that seals the stored Yelp passwords.
#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    /// Directory for the SQLite file and the key file that encrypts stored Yelp passwords.
    #[arg(long, env = "YELP_ADS_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://FILE` or `postgres://…`; default a SQLite file in the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<SecretString>,
    /// The key of stored Yelp passwords (base64 of 32 bytes), which instances sharing one database must
    /// all be given; unset, `<data dir>/secret.key` holds it (created on first use).
    #[arg(long, env = crate::secrets::SECRET_KEY_ENV, hide_env_values = true, hide = true)]
    pub secret_key: Option<SecretString>,
}

impl DatabaseConfig {
    /// The default SQLite file in `data_dir`, with the key file beside it.
    pub fn in_dir(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            database_url: None,
            secret_key: None,
        }
    }

    /// Connects and migrates. For the default SQLite file, creates the data directory (mode 700) and the
    /// file (600, which SQLite gives its `-wal` and `-shm` files too) when they are missing, and warns of
    /// existing ones that other users can read.
    pub async fn open(&self) -> Result<Store> {
        let url = match &self.database_url {
            Some(url) => url.expose_secret().to_owned(),
            None => {
                crate::secrets::create_owner_only_dir(&self.data_dir)?;
                let file = self.data_dir.join("yelp-ads.db");
                crate::secrets::create_owner_only_file(&file)?;
                for path in crate::secrets::readable_by_others(&self.data_dir) {
                    tracing::warn!(path = %path.display(), "readable by other users: it holds password hashes and sessions; chmod 700 the data directory and 600 its files");
                }
                format!("sqlite://{}", file.display())
            }
        };
        let store = Store::connect(&url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// The key of stored credentials: `secret_key` when given (refused unless it is the base64 of 32
    /// bytes), else the data directory's key file.
    pub fn secrets(&self) -> Result<SecretBox> {
        SecretBox::load(&self.data_dir, self.secret_key.as_ref())
    }
}

/// Defaults shared by the flags and [`Config::default`].
mod defaults {
    pub const BIND: &str = "127.0.0.1:8080";
    pub const SYNC_CONCURRENCY: u16 = 64;
    pub const SYNC_PAGE_SIZE: u32 = 40;
    pub const JOB_POLL_CAP_MS: u64 = 2_000;
    pub const SYNC_INTERVAL: &str = "15m";
    pub const LEASE_SECONDS: u64 = 30;
    pub const HEADER_READ_TIMEOUT: &str = "10s";
    pub const IDLE_TIMEOUT: &str = "75s";
    pub const REQUEST_TIMEOUT: &str = "5m";
    pub const LIST_CACHE_MIB: u64 = 32;
    pub const SNAPSHOT_RETENTION_DAYS: u32 = 400;
}

/// The server's configuration: `yelp-ads serve`'s flags and their environment variables.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on; port 0 picks a free one (printed on the first line).
    #[arg(long, env = "YELP_ADS_BIND", default_value = defaults::BIND)]
    pub bind: SocketAddr,
    /// Database location.
    #[command(flatten)]
    pub database: DatabaseConfig,
    /// Root of Yelp's partner API for real workspaces; given, the server never falls back to demo mode.
    #[arg(long, env = "YELP_API_BASE_URL")]
    pub yelp_base_url: Option<String>,
    /// Run against the bundled Yelp simulator with a `demo` / `demo` sign-in.
    #[arg(long)]
    pub demo: bool,
    /// Mark cookies `Secure` (set it when the dashboard is served over https).
    #[arg(long, env = "YELP_ADS_SECURE_COOKIES", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For` (set it behind a reverse proxy, which must set the
    /// header; otherwise every client shares the proxy's address for sign-in throttling).
    #[arg(long, env = "YELP_ADS_TRUST_FORWARDED_FOR", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub trust_forwarded_for: bool,
    /// Allow a workspace's Yelp base URL to be plain http beyond a loopback address (the partner password
    /// then travels in the clear); without it, https is required except to 127.0.0.1, ::1 or localhost.
    #[arg(long, env = "YELP_ADS_ALLOW_INSECURE_YELP_URL", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub allow_insecure_yelp_url: bool,
    /// Most pages a sync requests from Yelp at once: the ceiling of its window, which adapts to how many
    /// Yelp serves at once.
    #[arg(long, env = "YELP_ADS_SYNC_CONCURRENCY", default_value_t = defaults::SYNC_CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub sync_concurrency: u16,
    /// Programs per page a sync asks Yelp for (if Yelp refuses it, the sync falls back to 20).
    #[arg(long, env = "YELP_ADS_SYNC_PAGE_SIZE", default_value_t = defaults::SYNC_PAGE_SIZE, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub sync_page_size: u32,
    /// Longest wait between two status checks of a job at Yelp, in milliseconds: checks start 1 s after
    /// submission and the interval grows ×1.5 up to this, which bounds how late a finished job is seen.
    #[arg(long, env = "YELP_ADS_JOB_POLL_CAP_MS", default_value_t = defaults::JOB_POLL_CAP_MS, value_parser = clap::value_parser!(u64).range(100..=300_000))]
    pub job_poll_cap_ms: u64,
    /// How often each workspace is synced in the background, e.g. 15m, 90s or 1h30m (0 switches it off);
    /// workspaces are spread over the interval.
    #[arg(long, env = "YELP_ADS_SYNC_INTERVAL", default_value = defaults::SYNC_INTERVAL, value_parser = schedule::parse_interval)]
    pub sync_interval: Duration,
    /// Requests a second each workspace may send to Yelp, its syncs, job checks and changes together
    /// (0: no limit). Each instance applies its own limit.
    #[arg(long, env = "YELP_ADS_YELP_RPS", default_value_t = yelp::DEFAULT_REQUESTS_PER_SECOND)]
    pub yelp_rps: f64,
    /// Requests a workspace may send to Yelp at once after a quiet spell.
    #[arg(long, env = "YELP_ADS_YELP_BURST", default_value_t = yelp::DEFAULT_BURST, value_parser = clap::value_parser!(u32).range(1..))]
    pub yelp_burst: u32,
    /// How long, in seconds, a sync or a job check stays claimed by an instance that stopped answering
    /// (killed, or cut off from the database) before another instance takes it over. A sync renews its
    /// claim every third of it; a job check outlasting it may be repeated elsewhere, and only one ends the job.
    #[arg(long, env = "YELP_ADS_LEASE_SECONDS", default_value_t = defaults::LEASE_SECONDS, value_parser = clap::value_parser!(u64).range(2..=3600))]
    pub lease_seconds: u64,
    /// How long a client may take to send a request's headers, from its first byte (e.g. 10s); then the
    /// connection is closed.
    #[arg(long, env = "YELP_ADS_HEADER_READ_TIMEOUT", default_value = defaults::HEADER_READ_TIMEOUT, value_parser = positive_interval)]
    pub header_read_timeout: Duration,
    /// How long a connection may stay open with no request being handled and no byte sent either way
    /// (keep-alive between requests); requests being handled and event streams are never cut.
    #[arg(long, env = "YELP_ADS_IDLE_TIMEOUT", default_value = defaults::IDLE_TIMEOUT, value_parser = positive_interval)]
    pub idle_timeout: Duration,
    /// Longest time a request may take to be answered (then 408), e.g. 5m; a sync started with
    /// `POST …/programs/sync` goes on past it. Event streams, once open, are never cut.
    #[arg(long, env = "YELP_ADS_REQUEST_TIMEOUT", default_value = defaults::REQUEST_TIMEOUT, value_parser = positive_interval)]
    pub request_timeout: Duration,
    /// A bearer token that `GET /metrics` then asks for (`Authorization: Bearer …`); unset, the metrics,
    /// which are aggregate counts only, are public.
    #[arg(long, env = "YELP_ADS_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<SecretString>,
    /// Memory for cached program-list answers, in MiB (they are bounded by size, whatever the queries).
    #[arg(long, env = "YELP_ADS_LIST_CACHE_MIB", default_value_t = defaults::LIST_CACHE_MIB, value_parser = clap::value_parser!(u64).range(1..=16_384))]
    pub list_cache_mib: u64,
    /// How many days CPC programs' metric snapshots (the spend charts, and pacing's past) are kept: at
    /// least 35, as pacing reads back over a whole fee period and the days before it.
    #[arg(long, env = "YELP_ADS_SNAPSHOT_RETENTION_DAYS", default_value_t = defaults::SNAPSHOT_RETENTION_DAYS, value_parser = clap::value_parser!(u32).range(35..=36_600))]
    pub snapshot_retention_days: u32,
    /// What the flags do not reach: finer timings for tests and benches.
    #[arg(skip)]
    pub tuning: Tuning,
}

/// Settings finer than the flags, for tests and benches; the defaults are what the flags give.
#[derive(Debug, Clone, Default)]
pub struct Tuning {
    /// The job watcher's whole timing, instead of the one `--job-poll-cap-ms` and `--lease-seconds` make.
    pub jobs: Option<JobOptions>,
    /// The change-set poster's timing and width, instead of the defaults.
    pub posting: Option<crate::change_sets::PostOptions>,
    /// The sync engine's options, instead of the ones the `--sync-*` flags make.
    pub sync: Option<SyncOptions>,
    /// The program-list cache's bound in bytes, instead of `--list-cache-mib`.
    pub list_cache_bytes: Option<u64>,
    /// How often expired sessions and sign-in failure counts are deleted, instead of every 10 minutes.
    pub prune_interval: Option<Duration>,
    /// Never fall back to demo mode on a database without a real workspace (tests of an empty database).
    pub no_demo_fallback: bool,
}

impl Default for Config {
    /// What `yelp-ads serve` with no flag and no environment gives.
    fn default() -> Self {
        let interval = |text| schedule::parse_interval(text).unwrap_or_default();
        Self {
            bind: defaults::BIND
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080))),
            database: DatabaseConfig::in_dir("./data"),
            yelp_base_url: None,
            demo: false,
            secure_cookies: false,
            trust_forwarded_for: false,
            allow_insecure_yelp_url: false,
            sync_concurrency: defaults::SYNC_CONCURRENCY,
            sync_page_size: defaults::SYNC_PAGE_SIZE,
            job_poll_cap_ms: defaults::JOB_POLL_CAP_MS,
            sync_interval: interval(defaults::SYNC_INTERVAL),
            yelp_rps: yelp::DEFAULT_REQUESTS_PER_SECOND,
            yelp_burst: yelp::DEFAULT_BURST,
            lease_seconds: defaults::LEASE_SECONDS,
            header_read_timeout: interval(defaults::HEADER_READ_TIMEOUT),
            idle_timeout: interval(defaults::IDLE_TIMEOUT),
            request_timeout: interval(defaults::REQUEST_TIMEOUT),
            metrics_token: None,
            list_cache_mib: defaults::LIST_CACHE_MIB,
            snapshot_retention_days: defaults::SNAPSHOT_RETENTION_DAYS,
            tuning: Tuning::default(),
        }
    }
}

impl Config {
    /// The sync engine's options.
    pub fn sync_options(&self) -> SyncOptions {
        self.tuning.sync.clone().unwrap_or_else(|| SyncOptions {
            concurrency: usize::from(self.sync_concurrency),
            page_size: self.sync_page_size,
            lease_ttl: Duration::from_secs(self.lease_seconds),
            ..SyncOptions::default()
        })
    }

    /// The job watcher's timing.
    pub fn job_options(&self) -> JobOptions {
        self.tuning.jobs.clone().unwrap_or_else(|| JobOptions {
            max_interval: Duration::from_millis(self.job_poll_cap_ms),
            lease_ttl: Duration::from_secs(self.lease_seconds),
            ..JobOptions::default()
        })
    }

    /// How the Yelp clients behave: rate limit, timeout, and whether plain http is allowed.
    pub fn yelp_settings(&self) -> Result<YelpSettings> {
        Ok(YelpSettings {
            allow_insecure_url: self.allow_insecure_yelp_url,
            ..YelpSettings::with_rate(self.yelp_rps, self.yelp_burst)?
        })
    }

    /// How long connections may wait.
    pub fn connection_limits(&self) -> ConnectionLimits {
        ConnectionLimits {
            header_read: self.header_read_timeout,
            idle: self.idle_timeout,
        }
    }

    /// The program-list cache's bound in bytes.
    pub fn list_cache_bytes(&self) -> u64 {
        self.tuning
            .list_cache_bytes
            .unwrap_or(self.list_cache_mib * 1024 * 1024)
    }

    /// How long metric snapshots are kept, in milliseconds.
    pub fn snapshot_retention_ms(&self) -> i64 {
        i64::from(self.snapshot_retention_days) * 24 * 60 * 60 * 1000
    }

    /// The metrics token, if one was given and is not empty.
    pub fn metrics_token(&self) -> Option<SecretString> {
        self.metrics_token
            .clone()
            .filter(|t| !t.expose_secret().is_empty())
    }
}

/// An interval such as 10s or 1m, not 0.
fn positive_interval(text: &str) -> std::result::Result<Duration, String> {
    match schedule::parse_interval(text)? {
        Duration::ZERO => Err("must be more than 0 (e.g. 10s)".into()),
        interval => Ok(interval),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        config: Config,
    }

    #[test]
    fn the_default_is_what_no_flag_gives() {
        // The environment of a test run could set the variables; compare only when it sets none.
        if std::env::vars().any(|(k, _)| k.starts_with("YELP_ADS_") || k == "DATABASE_URL") {
            return;
        }
        let parsed = Wrapper::try_parse_from(["yelp-ads"]).unwrap().config;
        assert_eq!(format!("{parsed:?}"), format!("{:?}", Config::default()));
    }

    #[test]
    fn snapshots_are_kept_400_days_unless_told_and_never_under_a_pacing_window() {
        assert_eq!(Config::default().snapshot_retention_days, 400);
        assert_eq!(Config::default().snapshot_retention_ms(), 400 * 86_400_000);
        let parsed =
            Wrapper::try_parse_from(["yelp-ads", "--snapshot-retention-days", "90"]).unwrap();
        assert_eq!(parsed.config.snapshot_retention_days, 90);
        assert!(Wrapper::try_parse_from(["yelp-ads", "--snapshot-retention-days", "10"]).is_err());
    }

    #[test]
    fn secrets_are_not_shown_by_debug() {
        let mut config = Config::default();
        config.database.database_url = Some("postgres://u:hunter2@db/x".to_owned().into());
        config.database.secret_key = Some("c2VjcmV0LWtleQ==".to_owned().into());
        config.metrics_token = Some("metrics-token-1".to_owned().into());
        let shown = format!("{config:?}");
        for secret in ["hunter2", "c2VjcmV0LWtleQ", "metrics-token-1"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
