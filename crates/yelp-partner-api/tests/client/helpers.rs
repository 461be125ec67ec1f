//! Spawning the simulator and building clients for it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use yelp_partner_api::{Client, ClientConfig, RetryPolicy, SecretString};
use yelp_sim::{SimConfig, SimHandle};

pub const USERNAME: &str = "partner-user";
pub const PASSWORD: &str = "s3cret-partner-pw";

/// A running simulator and an HTTP client for its control API.
pub struct TestSim {
    pub sim: SimHandle,
    http: reqwest::Client,
}

impl TestSim {
    /// A simulator with `programs` programs over 30 businesses, no latency, jobs of 0.3 s.
    pub async fn start(programs: usize) -> Self {
        Self::start_with(programs, |_| {}).await
    }

    pub async fn start_with(programs: usize, configure: impl FnOnce(&mut SimConfig)) -> Self {
        let mut config = SimConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            programs,
            businesses: 30,
            username: USERNAME.into(),
            password: PASSWORD.into(),
            job_seconds: 0.3,
            latency_ms: 0,
            ..SimConfig::default()
        };
        configure(&mut config);
        let sim = yelp_sim::spawn(config).await.expect("simulator starts");
        Self {
            sim,
            http: test_http_client(),
        }
    }

    /// A client with the right credentials and quick retries.
    pub fn client(&self) -> Client {
        self.client_with(USERNAME, PASSWORD, |_| {})
    }

    pub fn client_with(
        &self,
        username: &str,
        password: &str,
        configure: impl FnOnce(&mut ClientConfig),
    ) -> Client {
        let mut config = ClientConfig::new(
            &self.sim.base_url(),
            username,
            SecretString::from(password.to_owned()),
        )
        .unwrap();
        config.retry = RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            ..RetryPolicy::default()
        };
        configure(&mut config);
        Client::new(config).unwrap()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    pub async fn get(&self, path: &str) -> Value {
        let response = self.http.get(self.url(path)).send().await.unwrap();
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .http
            .request(method, self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub async fn set_faults(&self, faults: Value) {
        self.send(reqwest::Method::PUT, "/_sim/faults", faults)
            .await;
    }

    /// How many requests the simulator saw for `endpoint`, e.g. "GET /programs/v1".
    pub async fn requests(&self, endpoint: &str) -> u64 {
        self.get("/_sim/stats").await["requests"][endpoint]
            .as_u64()
            .unwrap_or(0)
    }

    pub async fn max_in_flight(&self) -> u64 {
        self.get("/_sim/stats").await["max_in_flight"]
            .as_u64()
            .unwrap()
    }

    /// Every program at the simulator, in listing order.
    pub async fn programs(&self) -> Vec<Value> {
        self.get("/_sim/programs").await["programs"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// The first program of `program_type` for which `pick` holds.
    pub async fn find_program(&self, pick: impl Fn(&Value) -> bool) -> Value {
        self.programs()
            .await
            .into_iter()
            .find(|p| pick(p))
            .expect("a matching program")
    }

    /// An active business with no unsupported category.
    pub async fn active_business(&self) -> String {
        let businesses = self.get("/_sim/businesses").await;
        businesses["businesses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| {
                b["active"] == true
                    && !b["categories"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|c| c == "landmarks" || c == "airportterminals")
            })
            .map(|b| b["yelp_business_id"].as_str().unwrap().to_owned())
            .expect("an active business")
    }
}

/// Today at the simulator (the tests let it use the real date).
pub fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// A plain HTTP client for the simulator's control API.
fn test_http_client() -> reqwest::Client {
    yelp_partner_api::install_crypto_provider();
    reqwest::Client::new()
}

/// Captures every log line of this thread, at TRACE level, while the guard lives.
pub fn capture_logs() -> (Captured, LogGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // tracing decides once, when a callsite is first hit, whether any subscriber wants it. While only one
    // dispatcher is registered it asks just the thread that hits it, so a callsite first hit by a test on
    // another thread (with no subscriber) would stay silent here for good. A second registered dispatcher
    // makes every such decision ask all of them.
    let second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let default = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();
    (
        captured,
        LogGuard {
            _default: default,
            _second: second,
        },
    )
}

/// Keeps [`capture_logs`] capturing until dropped.
pub struct LogGuard {
    _default: tracing::subscriber::DefaultGuard,
    _second: tracing::Dispatch,
}

impl Captured {
    /// Everything captured so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Collects every log line written while it is the default subscriber.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
