//! How the dashboard talks to Yelp: one place that builds its clients and chooses its retry policy.

use yelp_partner_api::{CallObserver, Client, ClientConfig, RetryPolicy, SecretString};

use crate::error::Result;

/// Attempts for idempotent reads (listing pages, status polls): a sync reads a hundred pages, and with three
/// attempts a patch of 15 % failing requests would end one sync in four in error.
pub const READ_ATTEMPTS: u32 = 5;

/// A client for a workspace's Yelp partner account. Mutations are never retried (the client's rule).
pub fn client(
    base_url: &str,
    username: &str,
    password: SecretString,
    observer: Option<CallObserver>,
) -> Result<Client> {
    let mut config = ClientConfig::new(base_url, username, password)?;
    config.retry = RetryPolicy {
        max_attempts: READ_ATTEMPTS,
        ..RetryPolicy::default()
    };
    config.observer = observer;
    Ok(Client::new(config)?)
}
