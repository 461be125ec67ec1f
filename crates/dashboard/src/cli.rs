//! The `yelp-ads` command line.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use secrecy::SecretString;
use yelp_partner_api::{Client, ClientConfig};

use crate::error::{Error, Result};
use crate::store::Store;
use crate::sync::{SyncEngine, SyncEvent, SyncOptions, Trigger};

/// Yelp Ads reseller dashboard.
#[derive(Debug, Parser)]
#[command(name = "yelp-ads", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sync the programs of the workspace of the given Yelp credentials (created if new) into the mirror.
    Sync(SyncArgs),
    /// Bring the database schema up to date.
    Migrate(DatabaseArgs),
}

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Directory for the SQLite file (and, later, the key file).
    #[arg(long, env = "YELP_ADS_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://FILE` or `postgres://…`; default a SQLite file in the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

impl DatabaseArgs {
    /// Connects and migrates; creates the data directory for the default SQLite file.
    pub async fn open(&self) -> Result<Store> {
        let url = match &self.database_url {
            Some(url) => url.clone(),
            None => {
                std::fs::create_dir_all(&self.data_dir).map_err(|e| {
                    Error::Invalid(format!(
                        "cannot create the data directory {}: {e}",
                        self.data_dir.display()
                    ))
                })?;
                format!("sqlite://{}", self.data_dir.join("yelp-ads.db").display())
            }
        };
        let store = Store::connect(&url).await?;
        store.migrate().await?;
        Ok(store)
    }
}

/// `yelp-ads sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Root of Yelp's partner API.
    #[arg(long, env = "YELP_API_BASE_URL")]
    pub yelp_base_url: String,
    /// Yelp partner username.
    #[arg(long, env = "YELP_API_USERNAME")]
    pub yelp_username: String,
    /// Yelp partner password (prefer the environment variable: arguments are visible to other users).
    #[arg(long, env = "YELP_API_PASSWORD", hide_env_values = true)]
    pub yelp_password: SecretString,
    /// Database location.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Pages requested from Yelp at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Programs per page (the API accepts up to 40).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub page_size: u32,
    /// Print each event as one JSON object per line instead of a progress bar.
    #[arg(long)]
    pub json: bool,
}

/// Runs `yelp-ads sync`; answers whether the run completed.
pub async fn sync(args: SyncArgs) -> Result<bool> {
    let store = args.database.open().await?;
    let workspace = store
        .workspace_for_credentials(&args.yelp_base_url, &args.yelp_username)
        .await?;
    let client = Client::new(ClientConfig::new(
        &args.yelp_base_url,
        args.yelp_username.clone(),
        args.yelp_password.clone(),
    )?)?;
    let engine = SyncEngine::new(
        store.clone(),
        SyncOptions {
            concurrency: usize::from(args.concurrency),
            page_size: args.page_size,
            ..SyncOptions::default()
        },
    );
    let mut events = engine.sync(&workspace.id, client, Trigger::Cli, None);
    let mut bar = (!args.json).then(new_bar);
    let mut completed = false;
    let mut stdout = std::io::stdout().lock();
    while let Some(sequenced) = events.next().await {
        let event = sequenced.event;
        completed = matches!(event, SyncEvent::Complete { .. });
        if args.json {
            let line = serde_json::to_string(&event).unwrap_or_default();
            writeln!(stdout, "{line}")
                .map_err(|e| Error::Invalid(format!("cannot write output: {e}")))?;
            continue;
        }
        if let Some(bar) = bar.as_mut() {
            show(bar, &event);
        }
    }
    store.close().await;
    Ok(completed)
}

fn new_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:40}] {pos}/{len} {percent}% {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

fn show(bar: &ProgressBar, event: &SyncEvent) {
    match event {
        SyncEvent::Start { message, .. } => bar.set_message(message.clone()),
        SyncEvent::Info { total_api, .. } => {
            bar.set_length(*total_api);
            bar.set_message(format!("Found {total_api} programs to sync"));
        }
        SyncEvent::Progress {
            synced,
            added,
            updated,
            ..
        } => {
            bar.set_position(*synced);
            bar.set_message(format!("{added} added, {updated} updated"));
        }
        SyncEvent::Complete {
            message, warning, ..
        } => {
            bar.finish_with_message(format!("✅ {message}"));
            if let Some(w) = warning {
                bar.println(format!("warning: {w}"));
            }
        }
        SyncEvent::Error { message } => bar.abandon_with_message(format!("❌ {message}")),
    }
}
