//! Spawning a simulator per test and typed request helpers.

use std::time::Duration;

use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use yelp_sim::{Program, ProgramType, SimConfig, SimHandle, SimState};

/// The pinned "today" of every test world.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 19).expect("valid date")
}

/// 1900 programs over 300 businesses, a pinned today and jobs that take 50 ms.
///
/// Tests that look at a job while it is PROCESSING set a longer `job_seconds` themselves.
pub fn config() -> SimConfig {
    SimConfig {
        today: Some(today()),
        job_seconds: 0.05,
        ..SimConfig::for_tests()
    }
}

/// A running simulator and a client for it.
pub struct TestSim {
    pub handle: SimHandle,
    pub client: reqwest::Client,
}

/// A response read to the end.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    /// The body as JSON; panics with the body when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text))
    }
}

impl TestSim {
    pub async fn start(config: SimConfig) -> Self {
        // reqwest is built without a default TLS provider; plain HTTP still needs one installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let handle = yelp_sim::spawn(config).await.expect("simulator starts");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client builds");
        Self { handle, client }
    }

    pub async fn with_defaults() -> Self {
        Self::start(config()).await
    }

    pub fn state(&self) -> &SimState {
        self.handle.state()
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.handle.base_url(), path_and_query)
    }

    /// Sends a request with the demo credentials and reads the whole answer.
    pub async fn send(&self, method: Method, path_and_query: &str, body: Option<&str>) -> Answer {
        self.try_send(method, path_and_query, body)
            .await
            .expect("request succeeds at the transport level")
    }

    pub async fn try_send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&str>,
    ) -> reqwest::Result<Answer> {
        let mut request = self
            .client
            .request(method, self.url(path_and_query))
            .basic_auth("demo", Some("demo"));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        let response = request.send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await?;
        Ok(Answer {
            status,
            headers,
            text,
        })
    }

    pub async fn get(&self, path_and_query: &str) -> Answer {
        self.send(Method::GET, path_and_query, None).await
    }

    pub async fn post(&self, path_and_query: &str) -> Answer {
        self.send(Method::POST, path_and_query, None).await
    }

    /// A control-API request (no credentials needed, but they do no harm).
    pub async fn control(&self, method: Method, path: &str, body: Option<&str>) -> Answer {
        self.send(method, path, body).await
    }

    /// Submits a create and returns the job id; panics unless it is accepted.
    pub async fn submit(&self, path_and_query: &str) -> String {
        let answer = self.post(path_and_query).await;
        assert!(answer.status.is_success(), "{answer:?}");
        answer.json()["job_id"]
            .as_str()
            .expect("job_id is a string")
            .to_owned()
    }

    /// Polls the job until it is no longer PROCESSING and returns the receipt.
    pub async fn wait_for_job(&self, job_id: &str) -> Value {
        for _ in 0..250 {
            let receipt = self
                .get(&format!("/v1/reseller/status/{job_id}"))
                .await
                .json();
            if receipt["status"] != "PROCESSING" {
                return receipt;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("job {job_id} never completed");
    }

    /// The first program that satisfies `f`.
    pub fn find_program(&self, f: impl Fn(&Program) -> bool) -> Program {
        self.state()
            .programs()
            .into_iter()
            .find(|p| f(p))
            .expect("the seed world has such a program")
    }

    /// A running CPC program whose spend is low enough for budget edits.
    pub fn running_cpc(&self) -> Program {
        self.find_program(|p| {
            p.program_type == ProgramType::Cpc
                && p.is_running(today())
                && p.program_metrics.as_ref().is_some_and(|m| m.ad_cost < 5000)
        })
    }

    /// An active business without unsupported categories.
    pub fn plain_business(&self) -> String {
        self.state()
            .businesses()
            .into_iter()
            .find(|b| b.is_active() && !b.has_unsupported_category())
            .expect("an active plain business")
            .yelp_business_id
    }
}

/// `business_results[0].update_results.<group>` of a receipt.
pub fn group<'a>(receipt: &'a Value, name: &str) -> &'a Value {
    &receipt["business_results"][0]["update_results"][name]
}
