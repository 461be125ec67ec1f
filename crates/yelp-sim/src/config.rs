//! Start-up configuration: one typed struct read from the command line and `YELP_SIM_*` variables.

use std::fmt;
use std::net::SocketAddr;

use chrono::NaiveDate;
use clap::{ArgAction, Parser};

const DEFAULT_BIND: &str = "127.0.0.1:8787";
const DEFAULT_PROGRAMS: usize = 1900;
const DEFAULT_BUSINESSES: usize = 300;
const DEFAULT_SEED: u64 = 42;
const DEFAULT_PAGE_SIZE_MAX: u32 = 40;
const DEFAULT_JOB_SECONDS: f64 = 3.0;
const DEFAULT_USERNAME: &str = "demo";
const DEFAULT_PASSWORD: &str = "demo";
const DEFAULT_RETRY_AFTER_SECONDS: u64 = 1;
const DEFAULT_MAX_BID_MIN_CENTS: i64 = 50;
const DEFAULT_JOB_RETENTION_SECONDS: u64 = 3600;
const DEFAULT_SUCCESS_STATUS: u16 = 200;
const DEFAULT_FAULT_SEED: u64 = 7;
const DEFAULT_REPORTING_API_KEY: &str = "demo-reporting-key";
const DEFAULT_REPORT_SECONDS: f64 = 2.0;
const DEFAULT_REPORT_DAILY_QUOTA: u32 = 1000;

/// Everything the simulator needs at start-up. Every flag can also come from `YELP_SIM_<NAME>`.
///
/// `Default` gives the same values as the command line without flags (and without reading the
/// environment), except that tests usually set `bind` to `127.0.0.1:0`.
#[derive(Clone, PartialEq, Parser)]
#[command(
    name = "yelp-sim",
    version,
    about = "A stateful simulator of Yelp's Partner Advertising API"
)]
pub struct SimConfig {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "YELP_SIM_BIND", default_value = DEFAULT_BIND)]
    pub bind: SocketAddr,

    /// Number of programs in the seeded account.
    #[arg(long, env = "YELP_SIM_PROGRAMS", default_value_t = DEFAULT_PROGRAMS)]
    pub programs: usize,

    /// Number of businesses the seeded programs are spread over.
    #[arg(long, env = "YELP_SIM_BUSINESSES", default_value_t = DEFAULT_BUSINESSES)]
    pub businesses: usize,

    /// Seed of the generated world: the same seed and sizes give the same world.
    #[arg(long, env = "YELP_SIM_SEED", default_value_t = DEFAULT_SEED)]
    pub seed: u64,

    /// Seed of the ids made at run time (jobs, new programs); derived from `seed` when absent. A
    /// simulator restarted over a world that clients remember needs a new one, or it repeats job ids.
    #[arg(long, env = "YELP_SIM_RUNTIME_SEED")]
    pub runtime_seed: Option<u64>,

    /// Delay added to every partner request, in milliseconds.
    #[arg(long, env = "YELP_SIM_LATENCY_MS", default_value_t = 0)]
    pub latency_ms: u64,

    /// Partner requests of the account served at once (Yelp's parallel slots, §13); the others wait in
    /// arrival order. 0: no limit.
    #[arg(long, env = "YELP_SIM_CAPACITY", default_value_t = 0)]
    pub capacity: usize,

    /// Requests that may wait for a slot when `--capacity` is set; one more is answered 429 with
    /// `Retry-After: 1`. Absent: the queue is unbounded.
    #[arg(long, env = "YELP_SIM_QUEUE_MAX")]
    pub queue_max: Option<usize>,

    /// Largest `limit` that `GET /programs/v1` accepts; larger values get 400.
    #[arg(long, env = "YELP_SIM_PAGE_SIZE_MAX", default_value_t = DEFAULT_PAGE_SIZE_MAX,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub page_size_max: u32,

    /// Seconds from submission until a create/edit/end job completes (fractions allowed).
    #[arg(long, env = "YELP_SIM_JOB_SECONDS", default_value_t = DEFAULT_JOB_SECONDS,
          value_parser = parse_seconds)]
    pub job_seconds: f64,

    /// Basic-auth user name of the partner account.
    #[arg(long, env = "YELP_SIM_USERNAME", default_value = DEFAULT_USERNAME)]
    pub username: String,

    /// Basic-auth password of the partner account.
    #[arg(long, env = "YELP_SIM_PASSWORD", default_value = DEFAULT_PASSWORD, hide_env_values = true,
          hide_default_value = true)]
    pub password: String,

    /// Fraction (0..=1) of partner requests answered with a plain-text 500/502/503.
    #[arg(long, env = "YELP_SIM_ERROR_RATE", default_value_t = 0.0, value_parser = parse_rate)]
    pub error_rate: f64,

    /// Fraction (0..=1) of partner requests answered with 429 and `Retry-After`.
    #[arg(long, env = "YELP_SIM_RATE_LIMIT_RATE", default_value_t = 0.0, value_parser = parse_rate)]
    pub rate_limit_rate: f64,

    /// Fraction (0..=1) of partner requests whose connection is dropped mid-response.
    #[arg(long, env = "YELP_SIM_DROP_RATE", default_value_t = 0.0, value_parser = parse_rate)]
    pub drop_rate: f64,

    /// Fraction (0..=1) of partner requests answered 200 with a truncated JSON body.
    #[arg(long, env = "YELP_SIM_MALFORMED_RATE", default_value_t = 0.0, value_parser = parse_rate)]
    pub malformed_rate: f64,

    /// Fraction (0..=1) of partner requests held `--stall-ms` before they are handled.
    #[arg(long, env = "YELP_SIM_STALL_RATE", default_value_t = 0.0, value_parser = parse_rate)]
    pub stall_rate: f64,

    /// How long a stalled request is held, in milliseconds.
    #[arg(long, env = "YELP_SIM_STALL_MS", default_value_t = 0)]
    pub stall_ms: u64,

    /// Seconds sent in the `Retry-After` header of a 429.
    #[arg(long, env = "YELP_SIM_RETRY_AFTER_SECONDS", default_value_t = DEFAULT_RETRY_AFTER_SECONDS)]
    pub retry_after_seconds: u64,

    /// Smallest `max_bid` in cents that create and edit accept (Yelp's Ads API page: 50, contract §13).
    #[arg(long, env = "YELP_SIM_MAX_BID_MIN_CENTS", default_value_t = DEFAULT_MAX_BID_MIN_CENTS,
          value_parser = clap::value_parser!(i64).range(0..))]
    pub max_bid_min_cents: i64,

    /// Whether the account has pause/resume; when off those routes answer 404.
    #[arg(long, env = "YELP_SIM_PAUSE_RESUME", default_value_t = true, action = ArgAction::Set)]
    pub pause_resume: bool,

    /// Seconds a job receipt stays readable; older job ids give 500 `JOB_NOT_FOUND`.
    #[arg(long, env = "YELP_SIM_JOB_RETENTION_SECONDS", default_value_t = DEFAULT_JOB_RETENTION_SECONDS)]
    pub job_retention_seconds: u64,

    /// HTTP status of a successful create/edit/end submission: 200 or 202.
    #[arg(long, env = "YELP_SIM_SUCCESS_STATUS", default_value_t = DEFAULT_SUCCESS_STATUS,
          value_parser = parse_success_status)]
    pub success_status: u16,

    /// Fraction (0..=1) of `/programs/v1` entries whose `program_metrics` lacks `budget`.
    #[arg(long, env = "YELP_SIM_MISSING_BUDGET_RATE", default_value_t = 0.0, value_parser = parse_rate)]
    pub missing_budget_rate: f64,

    /// Fraction (0..=1) of completed create receipts that carry no `program_id`.
    #[arg(long, env = "YELP_SIM_OMIT_PROGRAM_ID_RATE", default_value_t = 0.0, value_parser = parse_rate)]
    pub omit_program_id_rate: f64,

    /// Pins the simulator's "today" (YYYY-MM-DD); by default the real UTC date.
    #[arg(long, env = "YELP_SIM_TODAY")]
    pub today: Option<NaiveDate>,

    /// Seed of the fault dice, so runs with faults are reproducible.
    #[arg(long, env = "YELP_SIM_FAULT_SEED", default_value_t = DEFAULT_FAULT_SEED)]
    pub fault_seed: u64,

    /// Bearer key of the Reporting API v3 (a Fusion API key at Yelp).
    #[arg(long, env = "YELP_SIM_REPORTING_API_KEY", default_value = DEFAULT_REPORTING_API_KEY,
          hide_env_values = true, hide_default_value = true)]
    pub reporting_api_key: String,

    /// Seconds from a report request until the report is ready (fractions allowed).
    #[arg(long, env = "YELP_SIM_REPORT_SECONDS", default_value_t = DEFAULT_REPORT_SECONDS,
          value_parser = parse_seconds)]
    pub report_seconds: f64,

    /// Report requests accepted per simulated day; more get 429 `ACCESS_LIMIT_REACHED`.
    #[arg(long, env = "YELP_SIM_REPORT_DAILY_QUOTA", default_value_t = DEFAULT_REPORT_DAILY_QUOTA)]
    pub report_daily_quota: u32,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8787)),
            programs: DEFAULT_PROGRAMS,
            businesses: DEFAULT_BUSINESSES,
            seed: DEFAULT_SEED,
            runtime_seed: None,
            latency_ms: 0,
            capacity: 0,
            queue_max: None,
            page_size_max: DEFAULT_PAGE_SIZE_MAX,
            job_seconds: DEFAULT_JOB_SECONDS,
            username: DEFAULT_USERNAME.to_owned(),
            password: DEFAULT_PASSWORD.to_owned(),
            error_rate: 0.0,
            rate_limit_rate: 0.0,
            drop_rate: 0.0,
            malformed_rate: 0.0,
            stall_rate: 0.0,
            stall_ms: 0,
            retry_after_seconds: DEFAULT_RETRY_AFTER_SECONDS,
            max_bid_min_cents: DEFAULT_MAX_BID_MIN_CENTS,
            pause_resume: true,
            job_retention_seconds: DEFAULT_JOB_RETENTION_SECONDS,
            success_status: DEFAULT_SUCCESS_STATUS,
            missing_budget_rate: 0.0,
            omit_program_id_rate: 0.0,
            today: None,
            fault_seed: DEFAULT_FAULT_SEED,
            reporting_api_key: DEFAULT_REPORTING_API_KEY.to_owned(),
            report_seconds: DEFAULT_REPORT_SECONDS,
            report_daily_quota: DEFAULT_REPORT_DAILY_QUOTA,
        }
    }
}

impl SimConfig {
    /// The default configuration listening on `127.0.0.1:0` (a free port), as tests want it.
    pub fn for_tests() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..Self::default()
        }
    }
}

// Written by hand so that the password never reaches a log line.
impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("bind", &self.bind)
            .field("programs", &self.programs)
            .field("businesses", &self.businesses)
            .field("seed", &self.seed)
            .field("runtime_seed", &self.runtime_seed)
            .field("latency_ms", &self.latency_ms)
            .field("capacity", &self.capacity)
            .field("queue_max", &self.queue_max)
            .field("page_size_max", &self.page_size_max)
            .field("job_seconds", &self.job_seconds)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("error_rate", &self.error_rate)
            .field("rate_limit_rate", &self.rate_limit_rate)
            .field("drop_rate", &self.drop_rate)
            .field("malformed_rate", &self.malformed_rate)
            .field("stall_rate", &self.stall_rate)
            .field("stall_ms", &self.stall_ms)
            .field("retry_after_seconds", &self.retry_after_seconds)
            .field("max_bid_min_cents", &self.max_bid_min_cents)
            .field("pause_resume", &self.pause_resume)
            .field("job_retention_seconds", &self.job_retention_seconds)
            .field("success_status", &self.success_status)
            .field("missing_budget_rate", &self.missing_budget_rate)
            .field("omit_program_id_rate", &self.omit_program_id_rate)
            .field("today", &self.today)
            .field("fault_seed", &self.fault_seed)
            .field("reporting_api_key", &"<redacted>")
            .field("report_seconds", &self.report_seconds)
            .field("report_daily_quota", &self.report_daily_quota)
            .finish()
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let rate: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if (0.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(format!("{rate} is not between 0 and 1"))
    }
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    let seconds: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if seconds.is_finite() && seconds >= 0.0 {
        Ok(seconds)
    } else {
        Err(format!("{s} is not a number of seconds >= 0"))
    }
}

fn parse_success_status(s: &str) -> Result<u16, String> {
    match s {
        "200" => Ok(200),
        "202" => Ok(202),
        _ => Err(format!("`{s}` is not 200 or 202")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_matches_the_command_line_without_flags() {
        let parsed = SimConfig::try_parse_from(["yelp-sim"]).expect("no flags parse");
        // The environment of a test run could set YELP_SIM_*; only compare when it does not.
        if std::env::vars().all(|(k, _)| !k.starts_with("YELP_SIM_")) {
            assert_eq!(parsed, SimConfig::default());
        }
    }

    #[test]
    fn every_flag_parses() {
        let parsed = SimConfig::try_parse_from([
            "yelp-sim",
            "--bind",
            "127.0.0.1:0",
            "--programs",
            "10",
            "--businesses",
            "3",
            "--seed",
            "1",
            "--latency-ms",
            "5",
            "--capacity",
            "10",
            "--queue-max",
            "50",
            "--page-size-max",
            "100",
            "--job-seconds",
            "0.2",
            "--username",
            "u",
            "--password",
            "p",
            "--error-rate",
            "0.1",
            "--rate-limit-rate",
            "0.2",
            "--drop-rate",
            "0.3",
            "--malformed-rate",
            "0.05",
            "--stall-rate",
            "0.1",
            "--stall-ms",
            "2000",
            "--retry-after-seconds",
            "4",
            "--max-bid-min-cents",
            "50",
            "--pause-resume",
            "false",
            "--job-retention-seconds",
            "60",
            "--success-status",
            "202",
            "--missing-budget-rate",
            "0.5",
            "--omit-program-id-rate",
            "1",
            "--today",
            "2026-03-19",
            "--fault-seed",
            "9",
            "--reporting-api-key",
            "k",
            "--report-seconds",
            "0.5",
            "--report-daily-quota",
            "3",
        ])
        .expect("all flags parse");
        assert_eq!(parsed.job_seconds, 0.2);
        assert!(!parsed.pause_resume);
        assert_eq!(parsed.success_status, 202);
        assert_eq!(parsed.today, NaiveDate::from_ymd_opt(2026, 3, 19));
        assert_eq!(parsed.page_size_max, 100);
        assert_eq!((parsed.capacity, parsed.queue_max), (10, Some(50)));
        assert_eq!(
            (
                parsed.reporting_api_key.as_str(),
                parsed.report_seconds,
                parsed.report_daily_quota
            ),
            ("k", 0.5, 3)
        );
        assert_eq!(
            (parsed.malformed_rate, parsed.stall_rate, parsed.stall_ms),
            (0.05, 0.1, 2000)
        );
    }

    #[test]
    fn rates_outside_zero_to_one_are_refused() {
        assert!(SimConfig::try_parse_from(["yelp-sim", "--error-rate", "1.5"]).is_err());
        assert!(SimConfig::try_parse_from(["yelp-sim", "--success-status", "201"]).is_err());
        assert!(SimConfig::try_parse_from(["yelp-sim", "--job-seconds", "-1"]).is_err());
    }

    #[test]
    fn debug_output_hides_the_password() {
        let config = SimConfig {
            password: "hunter2".into(),
            reporting_api_key: "fusion-key-9".into(),
            ..SimConfig::default()
        };
        assert!(!format!("{config:?}").contains("hunter2"));
        assert!(!format!("{config:?}").contains("fusion-key-9"));
    }
}
