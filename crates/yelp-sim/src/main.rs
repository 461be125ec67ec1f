//! `yelp-sim`: serves the simulator until ctrl-c or SIGTERM.

use std::io::{IsTerminal as _, Write as _};

use clap::Parser as _;
use tracing_subscriber::EnvFilter;
use yelp_sim::SimConfig;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let config = SimConfig::parse();
    let (programs, businesses, seed) = (config.programs, config.businesses, config.seed);
    let handle = match yelp_sim::spawn(config).await {
        Ok(handle) => handle,
        Err(error) => {
            tracing::error!(%error, "cannot start yelp-sim");
            return std::process::ExitCode::FAILURE;
        }
    };

    // The first stdout line is what scripts and tests wait for.
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "yelp-sim listening on {}", handle.base_url());
    let _ = stdout.flush();
    drop(stdout);
    tracing::info!(
        url = %handle.base_url(),
        programs,
        businesses,
        seed,
        "yelp-sim ready"
    );

    shutdown_signal().await;
    tracing::info!("shutting down");
    handle.shutdown().await;
    std::process::ExitCode::SUCCESS
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
