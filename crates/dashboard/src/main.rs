//! `yelp-ads`: the dashboard's one binary.

use std::process::ExitCode;

use clap::Parser;
use dashboard::cli::{Cli, Command};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // Logs go to stderr; in a terminal the sync's progress bar is the output, so only warnings by default.
    let default_level = match &cli.command {
        Command::Sync(_) => "warn",
        Command::Migrate(_) => "info",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .init();

    let result = match cli.command {
        Command::Sync(args) => dashboard::cli::sync(args).await,
        Command::Migrate(args) => args.open().await.map(|store| {
            tracing::info!(backend = ?store.backend(), "database schema is up to date");
            true
        }),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("yelp-ads: {e}");
            ExitCode::FAILURE
        }
    }
}
