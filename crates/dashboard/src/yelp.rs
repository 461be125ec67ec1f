//! How the dashboard talks to Yelp: one place that builds its clients and chooses their retry policy, rate
//! limit and timeout.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use yelp_partner_api::{CallObserver, Client, ClientConfig, RateLimit, RetryPolicy, SecretString};

use crate::error::{Error, Result};
use crate::jobs::ClientSource;
use crate::secrets::SecretBox;
use crate::store::Store;

/// Attempts for idempotent reads (listing pages, status polls): a sync reads a hundred pages, and with three
/// attempts a patch of 15 % failing requests would end one sync in four in error.
pub const READ_ATTEMPTS: u32 = 5;

/// Default requests per second to Yelp per workspace. Yelp publishes no limit for the partner API; one
/// agency's 48 page requests at once were not throttled, and a sync at concurrency 8 over Yelp's ~250 ms
/// answers asks about 32 a second, so 20 a second with a burst of 40 leaves a 1,900-program sync as fast
/// as it was while a long burst is held to a steady pace.
pub const DEFAULT_REQUESTS_PER_SECOND: f64 = 20.0;

/// Default burst: requests a workspace may send at once after a quiet spell.
pub const DEFAULT_BURST: u32 = 40;

/// How the dashboard's Yelp clients behave beyond their credentials.
#[derive(Clone, Debug, PartialEq)]
pub struct YelpSettings {
    /// Requests per second for each workspace's client (every sync, job check and change of the workspace
    /// goes through that one client, retries included); `None` for no limit. Each process applies its own.
    pub rate_limit: Option<RateLimit>,
    /// Longest wait for one attempt, from connecting to the last byte.
    pub timeout: Duration,
    /// Whether a base URL may be plain http beyond a loopback address (`--allow-insecure-yelp-url`).
    pub allow_insecure_url: bool,
}

impl Default for YelpSettings {
    /// No rate limit (the server sets one from `--yelp-rps`) and a 15 s timeout.
    fn default() -> Self {
        Self {
            rate_limit: None,
            timeout: Duration::from_secs(15),
            allow_insecure_url: false,
        }
    }
}

impl YelpSettings {
    /// Settings with `requests_per_second` (0 for no limit) and `burst`, as the command line gives them.
    pub fn with_rate(requests_per_second: f64, burst: u32) -> Result<Self> {
        let rate_limit = if requests_per_second == 0.0 {
            None
        } else {
            Some(
                RateLimit::new(requests_per_second, burst)
                    .map_err(|e| Error::Invalid(e.to_string()))?,
            )
        };
        Ok(Self {
            rate_limit,
            ..Self::default()
        })
    }

    /// A client for a workspace's Yelp partner account. Mutations are never retried (the client's rule).
    pub fn client(
        &self,
        base_url: &str,
        username: &str,
        password: SecretString,
        observer: Option<CallObserver>,
    ) -> Result<Client> {
        check_base_url(base_url, self.allow_insecure_url)?;
        let mut config = ClientConfig::new(base_url, username, password)?;
        config.retry = RetryPolicy {
            max_attempts: READ_ATTEMPTS,
            ..RetryPolicy::default()
        };
        config.observer = observer;
        config.rate_limit = self.rate_limit;
        config.timeout = self.timeout;
        Ok(Client::new(config)?)
    }
}

/// Refuses a Yelp base URL that would send the partner password in the clear: it must be https, or plain
/// http to a loopback address (tests, the demo's simulator, a local TLS proxy), unless `allow_insecure`.
pub fn check_base_url(base_url: &str, allow_insecure: bool) -> Result<()> {
    let url = url::Url::parse(base_url)
        .map_err(|e| Error::Invalid(format!("the Yelp base URL is not a valid URL: {e}")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback || allow_insecure => Ok(()),
        "http" => Err(Error::Invalid(
            "the Yelp base URL must be https (plain http only to a loopback address, or with \
             --allow-insecure-yelp-url): the partner password travels with every request"
                .into(),
        )),
        _ => Err(Error::Invalid(
            "the Yelp base URL must start with https://".into(),
        )),
    }
}

/// The Yelp clients of the workspaces, built from their stored (encrypted) credentials and kept while those
/// do not change: requests, syncs, the job watcher and the schedule share one client, and so one rate
/// limit, per workspace. Cheap to clone.
#[derive(Clone)]
pub struct YelpClients {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    secrets: Arc<SecretBox>,
    observer: Option<CallObserver>,
    settings: YelpSettings,
    /// By workspace: the credentials' fingerprint and the client built from them.
    clients: Mutex<HashMap<String, (String, Client)>>,
}

impl YelpClients {
    /// Clients of `store`'s workspaces, their passwords opened with `secrets`, built as `settings` says,
    /// each call of theirs reported to `observer`.
    pub fn new(
        store: Store,
        secrets: Arc<SecretBox>,
        settings: YelpSettings,
        observer: Option<CallObserver>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                secrets,
                observer,
                settings,
                clients: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// How the clients are built.
    pub fn settings(&self) -> &YelpSettings {
        &self.inner.settings
    }

    /// The workspace's client, built from its stored credentials (again when they changed).
    pub async fn client(&self, workspace_id: &str) -> Result<Client> {
        let inner = &self.inner;
        let workspace = inner.store.workspace(workspace_id).await?;
        let encrypted = inner.store.workspace_password_enc(workspace_id).await?.ok_or_else(|| {
            Error::Conflict("This workspace has no Yelp partner password yet; an admin sets it in Settings.".into())
        })?;
        let fingerprint = format!(
            "{}\n{}\n{encrypted}",
            workspace.yelp_base_url, workspace.yelp_username
        );
        if let Some((known, client)) = inner
            .clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(workspace_id)
        {
            if *known == fingerprint {
                return Ok(client.clone());
            }
        }
        let password = inner.secrets.decrypt(&encrypted)?;
        let client = inner
            .settings
            .client(
                &workspace.yelp_base_url,
                &workspace.yelp_username,
                password,
                inner.observer.clone(),
            )
            .map_err(|e| {
                Error::Conflict(format!("The workspace's Yelp settings are wrong: {e}"))
            })?;
        inner
            .clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(workspace_id.to_owned(), (fingerprint, client.clone()));
        Ok(client)
    }

    /// The same clients as a source for background work (the job watcher, the schedule).
    pub fn source(&self) -> ClientSource {
        let clients = self.clone();
        Arc::new(move |workspace_id: String| {
            let clients = clients.clone();
            Box::pin(async move { clients.client(&workspace_id).await })
        })
    }
}

/// A client for a workspace's Yelp partner account with the default settings (no rate limit).
pub fn client(
    base_url: &str,
    username: &str,
    password: SecretString,
    observer: Option<CallObserver>,
) -> Result<Client> {
    YelpSettings::default().client(base_url, username, password, observer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_must_be_https_but_on_loopback_or_when_allowed() {
        for ok in [
            "https://partner-api.yelp.com",
            "http://127.0.0.1:8787",
            "http://localhost:1/x",
            "http://[::1]:80",
        ] {
            assert!(check_base_url(ok, false).is_ok(), "{ok}");
        }
        for bad in [
            "http://partner-api.yelp.com",
            "http://10.0.0.5",
            "ftp://x",
            "nonsense",
        ] {
            assert!(check_base_url(bad, false).is_err(), "{bad}");
        }
        assert!(check_base_url("http://10.0.0.5", true).is_ok());
    }

    #[test]
    fn a_rate_of_zero_means_no_limit_and_nonsense_is_refused() {
        assert_eq!(YelpSettings::with_rate(0.0, 40).unwrap().rate_limit, None);
        let limited = YelpSettings::with_rate(DEFAULT_REQUESTS_PER_SECOND, DEFAULT_BURST).unwrap();
        let limit = limited.rate_limit.unwrap();
        assert_eq!((limit.per_second(), limit.burst()), (20.0, 40));
        assert!(YelpSettings::with_rate(-1.0, 40).is_err());
        assert!(YelpSettings::with_rate(10.0, 0).is_err());
        assert!(YelpSettings::with_rate(f64::NAN, 1).is_err());
    }
}
