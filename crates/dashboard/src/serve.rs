//! `yelp-ads serve` (and `yelp-ads` alone): the web server, in demo mode when there is nothing to serve.

use std::io::Write as _;
use std::time::Duration;

use crate::app::Application;
use crate::config::Config;
use crate::demo::{DEMO_PASSWORD, DEMO_USER};
use crate::error::Result;

/// How long a stop waits for syncs to finish their page and streams to close.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves until SIGINT or SIGTERM.
pub async fn serve(config: Config) -> Result<bool> {
    let app = Application::build(config).await?;
    let store = app.state().store.clone();
    let addr = app.local_addr();
    {
        // The first line is for scripts (with --bind 127.0.0.1:0 it is how they learn the port).
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "yelp-ads listening on http://{addr}");
        if let Some(demo) = app.demo() {
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
    let demo = app.demo().is_some();
    if demo && !addr.ip().is_loopback() {
        tracing::warn!(%addr, "DEMO MODE IS LISTENING BEYOND LOOPBACK: anyone who can reach it can sign in as demo / demo");
        eprintln!(
            "WARNING: demo mode on {addr} is reachable from other machines, with the sign-in demo / demo."
        );
    }
    tracing::info!(%addr, demo, backend = ?store.backend(), "serving");
    let served = app.run_until(shutdown_signal(), SHUTDOWN_GRACE).await;
    served?;
    store.close().await;
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
