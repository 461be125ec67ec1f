//! `yelp-ads`: the dashboard's one binary.

use std::process::ExitCode;

use clap::Parser;
use dashboard::cli::{Cli, Command};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve(cli.serve));
    // Logs go to stderr; in a terminal the sync's progress bar is the output, so only warnings by default.
    let default_level = match &command {
        Command::Sync(_) | Command::Workspace { .. } | Command::User { .. } => "warn",
        Command::Serve(_) | Command::Migrate(_) => "info",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    let result = match command {
        Command::Serve(args) => dashboard::serve::serve(args).await,
        Command::Sync(args) => dashboard::cli::sync(args).await,
        Command::Migrate(args) => args.open().await.map(|store| {
            tracing::info!(backend = ?store.backend(), "database schema is up to date");
            true
        }),
        Command::Workspace { command } => dashboard::cli::workspace(command).await.map(|()| true),
        Command::User { command } => dashboard::cli::user(command).await.map(|()| true),
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
