//! `yelp-ads serve` (and `yelp-ads` alone): the web server, in demo mode when there is nothing to serve.

use std::io::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args};

use crate::cache::BodyCache;
use crate::cli::DatabaseArgs;
use crate::demo::{self, DEMO_PASSWORD, DEMO_USER, DEMO_WORKSPACE, DemoOptions};
use crate::error::Result;
use crate::jobs::JobOptions;
use crate::schedule::{self, Schedule};
use crate::secrets::SecretBox;
use crate::sync::{SyncEngine, SyncOptions};
use crate::web::{AppState, Application, ConnectionLimits};
use crate::yelp::{self, YelpSettings};

/// How long a stop waits for syncs to finish their page and streams to close.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// `yelp-ads serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free one (printed on the first line).
    #[arg(long, env = "YELP_ADS_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Database location.
    #[command(flatten)]
    pub database: DatabaseArgs,
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
    #[arg(long, env = "YELP_ADS_SYNC_CONCURRENCY", default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub sync_concurrency: u16,
    /// Programs per page a sync asks Yelp for (if Yelp refuses it, the sync falls back to 20).
    #[arg(long, env = "YELP_ADS_SYNC_PAGE_SIZE", default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub sync_page_size: u32,
    /// Longest wait between two status checks of a job at Yelp, in milliseconds: checks start 1 s after
    /// submission and the interval grows ×1.5 up to this, which bounds how late a finished job is seen.
    #[arg(long, env = "YELP_ADS_JOB_POLL_CAP_MS", default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(100..=300_000))]
    pub job_poll_cap_ms: u64,
    /// How often each workspace is synced in the background, e.g. 15m, 90s or 1h30m (0 switches it off);
    /// workspaces are spread over the interval.
    #[arg(long, env = "YELP_ADS_SYNC_INTERVAL", default_value = "15m", value_parser = schedule::parse_interval)]
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
    #[arg(long, env = "YELP_ADS_LEASE_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(2..=3600))]
    pub lease_seconds: u64,
    /// How long a client may take to send a request's headers, from its first byte (e.g. 10s); then the
    /// connection is closed.
    #[arg(long, env = "YELP_ADS_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = positive_interval)]
    pub header_read_timeout: Duration,
    /// How long a connection may stay open with no request being handled and no byte sent either way
    /// (keep-alive between requests); requests being handled and event streams are never cut.
    #[arg(long, env = "YELP_ADS_IDLE_TIMEOUT", default_value = "75s", value_parser = positive_interval)]
    pub idle_timeout: Duration,
    /// A bearer token that `GET /metrics` then asks for (`Authorization: Bearer …`); unset, the metrics,
    /// which are aggregate counts only, are public.
    #[arg(long, env = "YELP_ADS_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<secrecy::SecretString>,
    /// Memory for cached program-list answers, in MiB (they are bounded by size, whatever the queries).
    #[arg(long, env = "YELP_ADS_LIST_CACHE_MIB", default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=16_384))]
    pub list_cache_mib: u64,
}

/// An interval such as 10s or 1m, not 0.
fn positive_interval(text: &str) -> std::result::Result<Duration, String> {
    match schedule::parse_interval(text)? {
        Duration::ZERO => Err("must be more than 0 (e.g. 10s)".into()),
        interval => Ok(interval),
    }
}

/// Serves until SIGINT or SIGTERM.
pub async fn serve(args: ServeArgs) -> Result<bool> {
    let store = args.database.open().await?;
    let secrets = SecretBox::load(&args.database.data_dir)?;
    let workspaces = store.workspaces().await?;
    let demo_mode = args.demo
        || (args.yelp_base_url.is_none() && workspaces.iter().all(|w| w.name == DEMO_WORKSPACE));
    let demo = if demo_mode {
        Some(demo::start(&store, &secrets, &DemoOptions::default()).await?)
    } else {
        None
    };
    let engine = SyncEngine::new(
        store.clone(),
        SyncOptions {
            concurrency: usize::from(args.sync_concurrency),
            page_size: args.sync_page_size,
            lease_ttl: Duration::from_secs(args.lease_seconds),
            ..SyncOptions::default()
        },
    );
    let job_options = JobOptions {
        max_interval: Duration::from_millis(args.job_poll_cap_ms),
        lease_ttl: Duration::from_secs(args.lease_seconds),
        ..JobOptions::default()
    };
    let mut state = AppState::with_options(
        store.clone(),
        engine,
        secrets,
        args.secure_cookies,
        job_options,
        YelpSettings {
            allow_insecure_url: args.allow_insecure_yelp_url,
            ..YelpSettings::with_rate(args.yelp_rps, args.yelp_burst)?
        },
    );
    state.trust_forwarded_for = args.trust_forwarded_for;
    state.metrics_token = args.metrics_token.clone().filter(|t| {
        use secrecy::ExposeSecret as _;
        !t.expose_secret().is_empty()
    });
    state.list_bodies =
        std::sync::Arc::new(BodyCache::of_bodies(args.list_cache_mib * 1024 * 1024));
    // Picks up every unfinished job, those of a previous run included.
    let watcher = state.jobs.spawn_watcher();
    let mut schedule = Schedule::new(
        state.engine.clone(),
        state.yelp_clients(),
        args.sync_interval,
    );
    if demo.is_none() {
        for stale_demo in workspaces.iter().filter(|w| w.name == DEMO_WORKSPACE) {
            schedule = schedule.skipping(stale_demo.id.clone());
        }
    }
    let schedule = schedule.spawn();
    let app = Application::bind(args.bind, state)
        .await?
        .with_limits(ConnectionLimits {
            header_read: args.header_read_timeout,
            idle: args.idle_timeout,
        });
    let addr = app.local_addr();
    {
        // The first line is for scripts (with --bind 127.0.0.1:0 it is how they learn the port).
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "yelp-ads listening on http://{addr}");
        if let Some(demo) = &demo {
            let _ = writeln!(
                out,
                "Demo mode: Yelp is simulated in this process. Sign in at http://{addr}/ as {DEMO_USER} / {DEMO_PASSWORD}"
            );
            let _ = writeln!(
                out,
                "Demo Yelp simulator: {} (its control API, to inject faults, is under /_sim)",
                demo.sim.base_url()
            );
        }
        let _ = out.flush();
    }
    if demo.is_some() && !addr.ip().is_loopback() {
        tracing::warn!(%addr, "DEMO MODE IS LISTENING BEYOND LOOPBACK: anyone who can reach it can sign in as demo / demo");
        eprintln!(
            "WARNING: demo mode on {addr} is reachable from other machines, with the sign-in demo / demo."
        );
    }
    tracing::info!(%addr, demo = demo.is_some(), backend = ?store.backend(), "serving");
    // The schedule stops first, so that it starts no run while the engine stops the running ones.
    let shutdown = async move {
        shutdown_signal().await;
        if let Some(schedule) = schedule {
            schedule.stop().await;
        }
    };
    let served = app.run_until(shutdown, SHUTDOWN_GRACE).await;
    // Unfinished jobs stay in the database; the next start (or another instance) carries on with them.
    watcher.stop().await;
    served?;
    store.close().await;
    drop(demo);
    Ok(true)
}

/// SIGINT (ctrl-c) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
