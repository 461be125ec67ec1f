//! Demo mode: the Yelp simulator in-process, a workspace wired to it and a `demo` user, so that a newcomer
//! gets a working dashboard with one command and no set-up.

use yelp_sim::{SimConfig, SimHandle};

use crate::auth;
use crate::error::{Error, Result};
use crate::secrets::SecretBox;
use crate::store::{Role, Store};

/// Name of the demo workspace.
pub const DEMO_WORKSPACE: &str = "Demo agency";
/// The demo sign-in (printed at start-up; demo mode only).
pub const DEMO_USER: &str = "demo";
/// The demo sign-in's password.
pub const DEMO_PASSWORD: &str = "demo";
/// The simulated partner account's username.
const PARTNER_USERNAME: &str = "demo-partner";

/// A running demo: the simulator stops when this is dropped.
pub struct Demo {
    /// The simulator.
    pub sim: SimHandle,
}

/// Partner requests the demo's simulator serves at once, as Yelp does for one account.
pub const DEMO_CAPACITY: usize = 10;

/// Shape of the demo: what the simulator holds and how slow it is.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Programs in the simulated account.
    pub programs: usize,
    /// Businesses they belong to.
    pub businesses: usize,
    /// Latency of every simulated Yelp request.
    pub latency_ms: u64,
    /// How long simulated jobs take.
    pub job_seconds: f64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            programs: 1900,
            businesses: 300,
            latency_ms: 250,
            job_seconds: 4.0,
        }
    }
}

/// Starts the simulator on a free loopback port and points the demo workspace at it (creating the
/// workspace and the demo user the first time; the port changes at every start).
pub async fn start(store: &Store, secrets: &SecretBox, options: &DemoOptions) -> Result<Demo> {
    // A random partner password: it only ever travels between this process and its own simulator.
    let partner_password = format!("{:032x}", fastrand::u128(..));
    let config = SimConfig {
        bind: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        programs: options.programs,
        businesses: options.businesses,
        latency_ms: options.latency_ms,
        // The live API's shape (§13): about ten requests of an account served at once.
        capacity: DEMO_CAPACITY,
        job_seconds: options.job_seconds,
        username: PARTNER_USERNAME.into(),
        password: partner_password.clone(),
        // The same world at every start, but new job ids: the database remembers the last run's.
        runtime_seed: Some(fastrand::u64(..)),
        ..SimConfig::default()
    };
    let sim = yelp_sim::spawn(config)
        .await
        .map_err(|e| Error::Internal(format!("cannot start the demo's Yelp simulator: {e}")))?;
    let encrypted = secrets.encrypt(&partner_password);
    let workspace = match store.workspace_by_name(DEMO_WORKSPACE).await? {
        Some(workspace) => {
            store
                .set_workspace_credentials(
                    &workspace.id,
                    &sim.base_url(),
                    PARTNER_USERNAME,
                    &encrypted,
                )
                .await?;
            workspace
        }
        None => {
            store
                .create_workspace(
                    DEMO_WORKSPACE,
                    &sim.base_url(),
                    PARTNER_USERNAME,
                    Some(&encrypted),
                )
                .await?
        }
    };
    if store.user_by_username(DEMO_USER).await?.is_none() {
        let hash = auth::hash_password_unchecked(DEMO_PASSWORD)?;
        store
            .create_user(&workspace.id, DEMO_USER, &hash, Role::Admin)
            .await?;
    }
    Ok(Demo { sim })
}
