//! The HTTP client: one method per endpoint, retries for idempotent requests only, errors classified once.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use chrono::NaiveDate;
use futures::FutureExt;
use futures::stream::{self, BoxStream, StreamExt};
use reqwest::header::{ACCEPT, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use tokio_util::task::AbortOnDropHandle;
use tracing::{debug, warn};
use url::Url;

use crate::concurrency::{AdaptiveWindow, Outcome as WindowOutcome};
use crate::enums::{ProgramType, StatusFilter};
use crate::error::{Error, Result, body_excerpt, is_daily_quota_spent, yelp_error_body};
use crate::ids::{BusinessId, JobId, ProgramId};
use crate::program::{ProgramEntry, ProgramPage, decode_entries};
use crate::rate_limit::{Limiter, RateLimit};
use crate::receipt::JobReceipt;
use crate::requests::{CreateProgram, EditProgram};
use crate::retry::{RetryPolicy, parse_retry_after};

/// Largest answer we read; Yelp's biggest pages are a few hundred kilobytes.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Yelp's plain-text answer to a route it does not serve (its contract, §6).
const NO_ROUTE: &str = "The requested route does not exist";

/// Window of a listing's first requests: the ten parallel slots per account that Yelp's own measurements
/// show (contract §13); it grows from there while Yelp keeps up, and shrinks when requests queue.
pub const INITIAL_WINDOW: usize = 10;

/// Page size a listing falls back to when Yelp refuses a larger one with a 400 (its default, §13).
pub const FALLBACK_PAGE_SIZE: u32 = 20;

/// Page size of `GET /v1/programs/list/{business_id}`, which caps it there.
pub const BUSINESS_PAGE_SIZE: u32 = 40;

/// One HTTP exchange with Yelp, as reported to a [`CallObserver`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallRecord {
    /// The endpoint, e.g. "GET /programs/v1".
    pub endpoint: &'static str,
    /// `ok` (2xx), `client_error` (other 4xx), `unauthorized`, `rate_limited`, `server_error`, `timeout` or
    /// `transport`.
    pub outcome: &'static str,
    /// How long the attempt took.
    pub elapsed: Duration,
}

/// Called after every attempt (retries included), e.g. to count calls for metrics. Must be quick.
pub type CallObserver = Arc<dyn Fn(&CallRecord) + Send + Sync>;

/// How to reach Yelp. Credentials are held in a secret type whose `Debug` prints nothing.
#[derive(Clone)]
pub struct ClientConfig {
    /// Root of the partner API, e.g. `https://partner-api.yelp.com`.
    pub base_url: Url,
    /// Partner username (Basic auth).
    pub username: String,
    /// Partner password (Basic auth).
    pub password: SecretString,
    /// Limit on one attempt, from connecting to the last byte of the answer.
    pub timeout: Duration,
    /// Limit on connecting.
    pub connect_timeout: Duration,
    /// Retries for idempotent requests.
    pub retry: RetryPolicy,
    /// Told of every attempt.
    pub observer: Option<CallObserver>,
    /// How fast this client (all its clones together) may ask, every attempt counted; `None` for no limit.
    pub rate_limit: Option<RateLimit>,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url.as_str())
            .field("username", &self.username)
            .field("password", &self.password)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("rate_limit", &self.rate_limit)
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    /// A configuration with the default timeouts (15 s per attempt, 5 s to connect) and retry policy.
    ///
    /// The base URL must be http or https and must not carry credentials, a query or a fragment.
    pub fn new(
        base_url: &str,
        username: impl Into<String>,
        password: SecretString,
    ) -> Result<Self> {
        let base_url = Url::parse(base_url)
            .map_err(|e| Error::Config(format!("Yelp base URL is not a valid URL: {e}")))?;
        if !matches!(base_url.scheme(), "http" | "https") || base_url.cannot_be_a_base() {
            return Err(Error::Config(
                "Yelp base URL must start with http:// or https://".into(),
            ));
        }
        if !base_url.username().is_empty() || base_url.password().is_some() {
            return Err(Error::Config(
                "Yelp base URL must not contain credentials; give them separately".into(),
            ));
        }
        if base_url.query().is_some() || base_url.fragment().is_some() {
            return Err(Error::Config(
                "Yelp base URL must not have a query or fragment".into(),
            ));
        }
        Ok(Self {
            base_url,
            username: username.into(),
            password,
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            observer: None,
            rate_limit: None,
        })
    }
}

/// Options of [`Client::list_all_programs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListAllOptions {
    /// The `program_status` filter.
    pub status: StatusFilter,
    /// Programs per page.
    pub page_size: u32,
    /// Most pages in flight at once: the ceiling of the adaptive window.
    pub concurrency: usize,
}

impl Default for ListAllOptions {
    fn default() -> Self {
        Self {
            status: StatusFilter::All,
            page_size: 40,
            concurrency: 64,
        }
    }
}

/// A page of a full listing that could not be fetched.
#[derive(Debug, thiserror::Error)]
#[error("page at offset {offset}: {source}")]
pub struct ListError {
    /// The page's offset.
    pub offset: u64,
    /// Why it failed, after retries.
    #[source]
    pub source: Error,
}

/// The business a list-by-business page is about.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct BusinessListing {
    /// Yelp's id.
    pub yelp_business_id: BusinessId,
    /// `ADVERTISER` in every sample.
    #[serde(default)]
    pub advertiser_status: Option<String>,
    /// The partner's id.
    #[serde(default)]
    pub partner_business_id: Option<String>,
    /// Set when the listing moved.
    #[serde(default)]
    pub destination_yelp_business_id: Option<String>,
}

/// One page of `GET /v1/programs/list/{business_id}`.
#[derive(Clone, Debug, PartialEq)]
pub struct BusinessProgramsPage {
    /// The business, when Yelp knows it.
    pub business: Option<BusinessListing>,
    /// Its programs on this page.
    pub programs: Vec<ProgramEntry>,
    /// Entries that could not be read.
    pub malformed: Vec<crate::program::MalformedEntry>,
}

/// A typed client of Yelp's Partner Advertising API. Cheap to clone; clones share connections.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: Url,
    auth: Auth,
    retry: RetryPolicy,
    observer: Option<CallObserver>,
    /// Shared by every clone, so one limit covers every caller of this client.
    limiter: Option<Limiter>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url.as_str())
            .finish_non_exhaustive()
    }
}

/// One HTTP exchange to make.
pub(crate) struct Call<'a> {
    endpoint: &'static str,
    method: Method,
    url: Url,
    query: &'a [(&'static str, String)],
    body: Option<&'a Value>,
    /// Only idempotent requests may be sent again.
    idempotent: bool,
    /// The status endpoint answers 500 with an error object for an expired or unknown job: that is an
    /// answer, not a failure to retry.
    pub(crate) error_object_on_500_is_an_answer: bool,
    /// Told how each attempt went, for an adaptive window.
    signals: Option<&'a CallSignals>,
}

/// What the attempts of one call showed about Yelp's load.
#[derive(Debug, Default)]
struct CallSignals {
    /// When the last attempt answered other than 429 or 5xx went out, and how long Yelp took.
    answered: std::sync::Mutex<Option<(Instant, Duration)>>,
    /// Some attempt was answered 429 or 5xx.
    overloaded: std::sync::atomic::AtomicBool,
}

impl CallSignals {
    fn outcome(&self) -> WindowOutcome {
        if self.overloaded.load(std::sync::atomic::Ordering::Relaxed) {
            return WindowOutcome::Overloaded;
        }
        let answered = *self
            .answered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        answered.map_or(WindowOutcome::Ignored, |(sent, rtt)| {
            WindowOutcome::Answered { sent, rtt }
        })
    }
}

/// A final answer that was not turned into an error by the retry loop.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Vec<u8>,
}

/// How a client proves who it is: the partner pair (Basic) for partner-api, or a Fusion API key (Bearer)
/// for api.yelp.com. Neither is ever logged.
pub(crate) enum Auth {
    /// HTTP Basic with the partner username and password.
    Partner {
        username: String,
        password: SecretString,
    },
    /// `Authorization: Bearer <key>`.
    Bearer(SecretString),
}

/// Installs ring as the process's TLS crypto provider. reqwest is built here without a provider of its own
/// (the default one compiles a large C library), so every `reqwest::Client` in the process, ours or a test's,
/// needs this first. Idempotent.
pub fn install_crypto_provider() {
    // An error only means a provider is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Client {
    /// Builds a client. Fails only on a TLS set-up problem.
    pub fn new(config: ClientConfig) -> Result<Self> {
        let auth = Auth::Partner {
            username: config.username.clone(),
            password: config.password.clone(),
        };
        Self::with_auth(config, auth)
    }

    /// A client that signs its requests with `auth` instead of the configuration's partner pair.
    pub(crate) fn with_auth(config: ClientConfig, auth: Auth) -> Result<Self> {
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("yelp-ads-dashboard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {}", Error::from_reqwest(e))))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base_url: config.base_url,
                auth,
                retry: config.retry,
                observer: config.observer,
                limiter: config.rate_limit.map(Limiter::new),
            }),
        })
    }

    /// The API root this client talks to.
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// One page of every program of the partner account (`GET /programs/v1`).
    pub async fn list_programs(
        &self,
        status: StatusFilter,
        offset: u64,
        limit: u32,
    ) -> Result<ProgramPage> {
        self.list_programs_noting(status, offset, limit, None).await
    }

    async fn list_programs_noting(
        &self,
        status: StatusFilter,
        offset: u64,
        limit: u32,
        signals: Option<&CallSignals>,
    ) -> Result<ProgramPage> {
        const ENDPOINT: &str = "GET /programs/v1";
        let query = [
            ("offset", offset.to_string()),
            ("limit", limit.to_string()),
            ("program_status", status.to_string()),
        ];
        let mut call = self.get(ENDPOINT, &["programs", "v1"], &query)?;
        call.signals = signals;
        let reply = self.send(call).await?;
        let value: Value = ok_json(ENDPOINT, reply, || "program listing".into())?;
        #[derive(Deserialize)]
        struct Page {
            payment_programs: Vec<Value>,
            total: u64,
        }
        let page: Page = decode(ENDPOINT, value)?;
        let (programs, malformed) = decode_entries(page.payment_programs);
        Ok(ProgramPage {
            offset,
            limit,
            total: page.total,
            programs,
            malformed,
        })
    }

    /// One page fetched inside `window`, which learns from how long Yelp took and whether it was overloaded.
    async fn list_page_in(
        &self,
        window: &AdaptiveWindow,
        status: StatusFilter,
        offset: u64,
        limit: u32,
    ) -> Result<ProgramPage> {
        let ticket = window.acquire().await;
        let signals = CallSignals::default();
        let page = self
            .list_programs_noting(status, offset, limit, Some(&signals))
            .await;
        window.complete(ticket, signals.outcome());
        page
    }

    /// Every page of `GET /programs/v1`, as they arrive, within a fresh [`AdaptiveWindow`] whose ceiling is
    /// `options.concurrency`; see [`Client::list_all_programs_in`].
    pub fn list_all_programs(
        &self,
        options: ListAllOptions,
    ) -> BoxStream<'static, Result<ProgramPage, ListError>> {
        let window = Arc::new(AdaptiveWindow::new(
            INITIAL_WINDOW,
            options.concurrency.max(1),
        ));
        self.list_all_programs_in(options, window)
    }

    /// Every page of `GET /programs/v1`, as they arrive. The first page is fetched alone to learn the total;
    /// the rest go out with at most `window.limit()` in flight (the window adapts to how fast Yelp answers;
    /// `options.concurrency` only bounds the pages fetched ahead of the caller). If Yelp refuses the first
    /// page's size with a 400, the listing goes on at [`FALLBACK_PAGE_SIZE`]: each page's `limit` says the
    /// size used. A page that fails after retries is yielded as an error and the others still come, so the
    /// caller decides whether the listing was complete.
    pub fn list_all_programs_in(
        &self,
        options: ListAllOptions,
        window: Arc<AdaptiveWindow>,
    ) -> BoxStream<'static, Result<ProgramPage, ListError>> {
        let client = self.clone();
        let ListAllOptions {
            status,
            page_size,
            concurrency,
        } = options;
        let page_size = page_size.max(1);
        let first = {
            let (client, window) = (client.clone(), window.clone());
            async move {
                match client.list_page_in(&window, status, 0, page_size).await {
                    Err(Error::Rejected { status: 400, .. }) if page_size > FALLBACK_PAGE_SIZE => {
                        warn!(
                            page_size,
                            fallback = FALLBACK_PAGE_SIZE,
                            "Yelp refused the page size; listing at the smaller one"
                        );
                        client
                            .list_page_in(&window, status, 0, FALLBACK_PAGE_SIZE)
                            .await
                    }
                    other => other,
                }
            }
        };
        stream::once(first)
            .flat_map(move |first| match first {
                Err(source) => stream::iter([Err(ListError { offset: 0, source })]).boxed(),
                Ok(page) => {
                    let client = client.clone();
                    let window = window.clone();
                    let size = page.limit.max(1);
                    let rest = (u64::from(size)..page.total).step_by(size as usize);
                    let rest = stream::iter(rest)
                        .map(move |offset| {
                            let (client, window) = (client.clone(), window.clone());
                            // Spawned, so pages keep downloading and decoding while the caller is busy with
                            // the previous one; aborted if the caller drops the stream.
                            AbortOnDropHandle::new(tokio::spawn(async move {
                                client
                                    .list_page_in(&window, status, offset, size)
                                    .await
                                    .map_err(|source| ListError { offset, source })
                            }))
                            .map(move |joined| match joined {
                                Ok(page) => page,
                                Err(e) => Err(ListError {
                                    offset,
                                    source: Error::Transport(format!("page task failed: {e}")),
                                }),
                            })
                        })
                        .buffer_unordered(concurrency.max(1));
                    stream::once(async move { Ok(page) }).chain(rest).boxed()
                }
            })
            .boxed()
    }

    /// One program (`GET /v1/programs/info/{program_id}`). An unknown id is [`Error::NotFound`], although
    /// Yelp answers it with HTTP 200 and an `INVALID_PROGRAM_ID` entry in `errors`.
    pub async fn program_info(&self, program_id: &ProgramId) -> Result<ProgramEntry> {
        const ENDPOINT: &str = "GET /v1/programs/info/{program_id}";
        let path = ["v1", "programs", "info", program_id.as_str()];
        let reply = self.send(self.get(ENDPOINT, &path, &[])?).await?;
        let not_found = || format!("program {program_id}");
        let value = ok_json(ENDPOINT, reply, not_found)?;
        #[derive(Deserialize)]
        struct Info {
            #[serde(default)]
            programs: Vec<Value>,
            #[serde(default)]
            errors: Vec<Value>,
        }
        let info: Info = decode(ENDPOINT, value)?;
        let (mut programs, malformed) = decode_entries(info.programs);
        if let Some(bad) = malformed.first() {
            return Err(Error::Decode {
                endpoint: ENDPOINT,
                detail: bad.error.clone(),
            });
        }
        match programs.pop() {
            Some(entry) => Ok(entry),
            None => Err(Error::NotFound {
                what: not_found(),
                detail: info
                    .errors
                    .first()
                    .and_then(|e| e.get("description").or_else(|| e.get("id")))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            }),
        }
    }

    /// One page of a business's programs (`GET /v1/programs/list/{business_id}`).
    pub async fn business_programs(
        &self,
        business_id: &BusinessId,
        start: u64,
        limit: u32,
    ) -> Result<BusinessProgramsPage> {
        const ENDPOINT: &str = "GET /v1/programs/list/{business_id}";
        let path = ["v1", "programs", "list", business_id.as_str()];
        let query = [("start", start.to_string()), ("limit", limit.to_string())];
        let reply = self.send(self.get(ENDPOINT, &path, &query)?).await?;
        let value = ok_json(ENDPOINT, reply, || format!("business {business_id}"))?;
        #[derive(Deserialize)]
        struct Listing {
            #[serde(default)]
            businesses: Vec<Value>,
        }
        let listing: Listing = decode(ENDPOINT, value)?;
        let Some(first) = listing.businesses.into_iter().next() else {
            return Ok(BusinessProgramsPage {
                business: None,
                programs: vec![],
                malformed: vec![],
            });
        };
        let programs = first
            .get("programs")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let business = BusinessListing::deserialize(&first).ok();
        let (programs, malformed) = decode_entries(programs);
        Ok(BusinessProgramsPage {
            business,
            programs,
            malformed,
        })
    }

    /// Every program of one business, paging by 40 until a short page (at most 25 pages, as Yelp's own
    /// dashboards do).
    pub async fn all_business_programs(
        &self,
        business_id: &BusinessId,
    ) -> Result<Vec<ProgramEntry>> {
        const MAX_PAGES: u64 = 25;
        let mut all = Vec::new();
        for page in 0..MAX_PAGES {
            let start = page * u64::from(BUSINESS_PAGE_SIZE);
            let got = self
                .business_programs(business_id, start, BUSINESS_PAGE_SIZE)
                .await?;
            let short = got.programs.len() + got.malformed.len() < BUSINESS_PAGE_SIZE as usize;
            all.extend(got.programs);
            if short {
                break;
            }
        }
        Ok(all)
    }

    /// The fallback for a completed create whose receipt names no program: the business's program of that
    /// type and start date that is not in `known`. `None` when there is none, or more than one candidate.
    pub async fn find_created_program(
        &self,
        business_id: &BusinessId,
        program_type: &ProgramType,
        start: Option<NaiveDate>,
        known: &HashSet<ProgramId>,
    ) -> Result<Option<ProgramId>> {
        let programs = self.all_business_programs(business_id).await?;
        let mut candidates = programs.into_iter().map(|e| e.program).filter(|p| {
            &p.program_type == program_type
                && start.is_none_or(|s| p.start_date == Some(s))
                && !known.contains(&p.program_id)
        });
        let first = candidates.next();
        Ok(if candidates.next().is_some() {
            None
        } else {
            first.map(|p| p.program_id)
        })
    }

    /// Asks Yelp to create a program (`POST /v1/reseller/program/create`). Never retried: Yelp has no
    /// idempotency key, so a second attempt could create a second program.
    pub async fn create_program(&self, request: &CreateProgram) -> Result<JobId> {
        const ENDPOINT: &str = "POST /v1/reseller/program/create";
        let path = ["v1", "reseller", "program", "create"];
        self.submit(ENDPOINT, &path, &request.query(), || "create route".into())
            .await
    }

    /// Asks Yelp to change a program (`POST /v1/reseller/program/{id}/edit`). Never retried.
    pub async fn edit_program(&self, program_id: &ProgramId, edit: &EditProgram) -> Result<JobId> {
        const ENDPOINT: &str = "POST /v1/reseller/program/{program_id}/edit";
        if edit.is_empty() {
            return Err(Error::InvalidRequest(
                "an edit must change at least one field".into(),
            ));
        }
        let path = ["v1", "reseller", "program", program_id.as_str(), "edit"];
        self.submit(ENDPOINT, &path, &edit.query(), || {
            format!("program {program_id}")
        })
        .await
    }

    /// Asks Yelp to end a program (`POST /v1/reseller/program/{id}/end`). Never retried.
    pub async fn end_program(&self, program_id: &ProgramId) -> Result<JobId> {
        const ENDPOINT: &str = "POST /v1/reseller/program/{program_id}/end";
        let path = ["v1", "reseller", "program", program_id.as_str(), "end"];
        self.submit(ENDPOINT, &path, &[], || format!("program {program_id}"))
            .await
    }

    /// Pauses a running CPC program (`POST /program/{id}/pause/v1`); Yelp applies it at once. A 404 means
    /// the program is unknown or pause/resume is not enabled for the partner account.
    pub async fn pause_program(&self, program_id: &ProgramId) -> Result<()> {
        self.pause_or_resume("POST /program/{program_id}/pause/v1", program_id, "pause")
            .await
    }

    /// Resumes a paused CPC program (`POST /program/{id}/resume/v1`).
    pub async fn resume_program(&self, program_id: &ProgramId) -> Result<()> {
        self.pause_or_resume("POST /program/{program_id}/resume/v1", program_id, "resume")
            .await
    }

    async fn pause_or_resume(
        &self,
        endpoint: &'static str,
        program_id: &ProgramId,
        verb: &str,
    ) -> Result<()> {
        let path = ["program", program_id.as_str(), verb, "v1"];
        let call = self.call(endpoint, Method::POST, &path, &[], None, false)?;
        let reply = self.send(call).await?;
        ok_json(endpoint, reply, || {
            format!("program {program_id}, or {verb} access for this partner account")
        })
        .map(drop)
    }

    /// A job's receipt (`GET /v1/reseller/status/{job_id}`). An expired or unknown job is
    /// [`Error::NotFound`] (Yelp answers it with HTTP 500 and an error object).
    pub async fn job_status(&self, job_id: &JobId) -> Result<JobReceipt> {
        const ENDPOINT: &str = "GET /v1/reseller/status/{job_id}";
        let path = ["v1", "reseller", "status", job_id.as_str()];
        let mut call = self.get(ENDPOINT, &path, &[])?;
        call.error_object_on_500_is_an_answer = true;
        let reply = self.send(call).await?;
        let what = || format!("job {job_id} (expired or unknown)");
        if reply.status == StatusCode::INTERNAL_SERVER_ERROR {
            let detail = yelp_error_body(&reply.body)
                .map(|(_, d)| d)
                .filter(|d| !d.is_empty());
            return Err(Error::NotFound {
                what: what(),
                detail,
            });
        }
        let value = ok_json(ENDPOINT, reply, what)?;
        JobReceipt::from_json(value).map_err(|e| Error::Decode {
            endpoint: ENDPOINT,
            detail: e.to_string(),
        })
    }

    async fn submit(
        &self,
        endpoint: &'static str,
        path: &[&str],
        query: &[(&'static str, String)],
        not_found: impl FnOnce() -> String,
    ) -> Result<JobId> {
        let call = self.call(endpoint, Method::POST, path, query, None, false)?;
        let reply = self.send(call).await?;
        #[derive(Deserialize)]
        struct Submitted {
            job_id: String,
        }
        let submitted: Submitted = decode(endpoint, ok_json(endpoint, reply, not_found)?)?;
        if submitted.job_id.is_empty() {
            return Err(Error::Decode {
                endpoint,
                detail: "empty job_id".into(),
            });
        }
        Ok(JobId::from_yelp(submitted.job_id))
    }

    pub(crate) fn get<'a>(
        &self,
        endpoint: &'static str,
        path: &[&str],
        query: &'a [(&'static str, String)],
    ) -> Result<Call<'a>> {
        self.call(endpoint, Method::GET, path, query, None, true)
    }

    /// A read (retried as one) whose 2xx answer is JSON; any other answer becomes the error it means. For
    /// endpoints kept in modules of their own.
    pub(crate) async fn get_json(
        &self,
        endpoint: &'static str,
        path: &[&str],
        query: &[(&'static str, String)],
        not_found: impl FnOnce() -> String,
    ) -> Result<Value> {
        let reply = self.send(self.get(endpoint, path, query)?).await?;
        ok_json(endpoint, reply, not_found)
    }

    pub(crate) fn call<'a>(
        &self,
        endpoint: &'static str,
        method: Method,
        path: &[&str],
        query: &'a [(&'static str, String)],
        body: Option<&'a Value>,
        idempotent: bool,
    ) -> Result<Call<'a>> {
        let mut url = self.inner.base_url.clone();
        url.path_segments_mut()
            .map_err(|()| Error::Config("Yelp base URL cannot take a path".into()))?
            .pop_if_empty()
            // Each id is one percent-encoded segment, so no id can change the path.
            .extend(path);
        Ok(Call {
            endpoint,
            method,
            url,
            query,
            body,
            idempotent,
            error_object_on_500_is_an_answer: false,
            signals: None,
        })
    }

    /// Sends a call, retrying idempotent ones on 408, 429, 5xx and transport errors; 401 and 429/5xx that
    /// outlast the retries become errors, every other answer is returned for the endpoint to read. Every
    /// attempt waits for its turn under the client's rate limit.
    pub(crate) async fn send(&self, call: Call<'_>) -> Result<Reply> {
        let policy = &self.inner.retry;
        let max_attempts = if call.idempotent {
            policy.max_attempts.max(1)
        } else {
            1
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            // Before the clock starts, so that the attempt's reported time is Yelp's alone.
            if let Some(limiter) = &self.inner.limiter {
                limiter.acquire().await;
            }
            let started = Instant::now();
            let result = self.attempt(&call).await;
            let elapsed = started.elapsed();
            let elapsed_ms = elapsed.as_millis() as u64;
            if let Some(observe) = &self.inner.observer {
                observe(&CallRecord {
                    endpoint: call.endpoint,
                    outcome: outcome_of(&result),
                    elapsed,
                });
            }
            if let (Some(signals), Ok((reply, _))) = (call.signals, &result) {
                let status = reply.status;
                if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                    signals
                        .overloaded
                        .store(true, std::sync::atomic::Ordering::Relaxed);
                } else {
                    *signals
                        .answered
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) =
                        Some((started, elapsed));
                }
            }
            let (error, retry_after) = match result {
                Ok((reply, retry_after)) => {
                    let status = reply.status;
                    debug!(
                        endpoint = call.endpoint,
                        status = status.as_u16(),
                        attempt,
                        elapsed_ms,
                        "yelp call"
                    );
                    match status {
                        StatusCode::UNAUTHORIZED => return Err(Error::Unauthorized),
                        // A spent daily quota does not come back in seconds: an answer to read, not retried.
                        StatusCode::TOO_MANY_REQUESTS if is_daily_quota_spent(&reply.body) => {
                            return Ok(reply);
                        }
                        StatusCode::TOO_MANY_REQUESTS => {
                            (Error::RateLimited { retry_after }, retry_after)
                        }
                        StatusCode::REQUEST_TIMEOUT => (Error::Timeout, None),
                        StatusCode::INTERNAL_SERVER_ERROR
                            if call.error_object_on_500_is_an_answer
                                && yelp_error_body(&reply.body).is_some() =>
                        {
                            return Ok(reply);
                        }
                        s if s.is_server_error() => (Error::Server { status: s.as_u16() }, None),
                        _ => return Ok(reply),
                    }
                }
                Err(error) => {
                    debug!(endpoint = call.endpoint, attempt, elapsed_ms, %error, "yelp call failed");
                    (error, None)
                }
            };
            let too_long = retry_after.is_some_and(|after| after > policy.max_retry_after);
            if !error.is_transient() || attempt >= max_attempts || too_long {
                if attempt > 1 || !call.idempotent {
                    warn!(endpoint = call.endpoint, attempt, %error, "yelp call gave up");
                }
                return Err(error);
            }
            let wait = policy.delay(attempt, retry_after);
            warn!(
                endpoint = call.endpoint,
                attempt,
                wait_ms = wait.as_millis() as u64,
                %error,
                "yelp call failed; retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(&self, call: &Call<'_>) -> Result<(Reply, Option<Duration>)> {
        let inner = &self.inner;
        let request = inner.http.request(call.method.clone(), call.url.clone());
        let mut request = match &inner.auth {
            Auth::Partner { username, password } => {
                request.basic_auth(username, Some(password.expose_secret()))
            }
            Auth::Bearer(key) => request.bearer_auth(key.expose_secret()),
        }
        .header(ACCEPT, "application/json")
        .header("X-Correlation-Id", format!("{:032x}", fastrand::u128(..)));
        if !call.query.is_empty() {
            request = request.query(call.query);
        }
        if let Some(body) = call.body {
            request = request.json(body);
        }
        let mut response = request.send().await.map_err(Error::from_reqwest)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(Error::from_reqwest)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(Error::Decode {
                    endpoint: call.endpoint,
                    detail: format!("answer larger than {MAX_BODY_BYTES} bytes"),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok((Reply { status, body }, retry_after))
    }
}

fn outcome_of(result: &Result<(Reply, Option<Duration>)>) -> &'static str {
    match result {
        Ok((reply, _)) => match reply.status {
            s if s.is_success() => "ok",
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::TOO_MANY_REQUESTS => "rate_limited",
            s if s.is_server_error() => "server_error",
            _ => "client_error",
        },
        Err(Error::Timeout) => "timeout",
        Err(_) => "transport",
    }
}

/// Turns a 2xx answer into JSON (an empty body is `null`), and any other into the error it means.
pub(crate) fn ok_json(
    endpoint: &'static str,
    reply: Reply,
    not_found: impl FnOnce() -> String,
) -> Result<Value> {
    let status = reply.status;
    if status.is_success() {
        if reply.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        return serde_json::from_slice(&reply.body).map_err(|e| Error::Decode {
            endpoint,
            detail: format!("not JSON: {e}"),
        });
    }
    let parsed = yelp_error_body(&reply.body);
    if parsed.is_none() {
        // Not Yelp's error object: whatever answered (a proxy, or a server the base URL should not name)
        // is never quoted in a message a user may see; its start goes to the log, bounded.
        warn!(endpoint, status = status.as_u16(), body = %body_excerpt(&reply.body), "answer is not a Yelp error object");
    }
    if status == StatusCode::NOT_FOUND {
        let detail = match parsed {
            Some((_, d)) => Some(d).filter(|d| !d.is_empty()),
            // Yelp's plain-text answer to a route it does not serve (as for pause without access): our
            // own copy of its words, not the body.
            None if String::from_utf8_lossy(&reply.body).trim() == NO_ROUTE => {
                Some(NO_ROUTE.to_owned())
            }
            None => None,
        };
        return Err(Error::NotFound {
            what: not_found(),
            detail,
        });
    }
    let (id, description) = parsed.unwrap_or_default();
    Err(Error::Rejected {
        status: status.as_u16(),
        id,
        description,
    })
}

pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    endpoint: &'static str,
    value: Value,
) -> Result<T> {
    serde_json::from_value(value).map_err(|e| Error::Decode {
        endpoint,
        detail: e.to_string(),
    })
}
