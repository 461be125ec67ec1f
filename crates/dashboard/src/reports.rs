//! Reports of Yelp's Reporting API v3 (contract §13): per business, daily or monthly figures that Yelp makes
//! asynchronously and that never change once made. A request is checked against Yelp's documented limits
//! before anything is sent, stored before Yelp is asked (so that of two identical requests one asks), and
//! answered from storage ever after once ready; a report being made is asked about again when someone
//! looks at it, at most every [`POLL_INTERVAL_MS`].

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use yelp_partner_api::{
    BusinessId, Granularity, REPORTING_BASE_URL, ReportId, ReportRange, ReportRefusal,
    ReportRequest, ReportStatus, ReportingClient, ReportingConfig,
};

use crate::error::{Error, Result};
use crate::secrets::SecretBox;
use crate::store::{
    NewReport, ReportState, ReportingSettings, Store, StoredReport, User, new_id, now_ms,
};

/// How often looking at a report being made asks Yelp how it stands.
pub const POLL_INTERVAL_MS: i64 = 2_000;

/// How long a request may stay on its way to Yelp before an identical one asks again: the instance that
/// stored it may have stopped before Yelp answered.
const REQUESTING_EXPIRES_MS: i64 = 2 * 60 * 1000;

/// What a report asks for as a user or client gives it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportAsk {
    /// Yelp business ids of the workspace's businesses (`ids`, as Yelp and the old client call them, too).
    #[serde(alias = "ids", default)]
    pub business_ids: Vec<String>,
    /// First day (`YYYY-MM-DD`), or month (`YYYY-MM`) for a monthly report.
    #[serde(alias = "start", default)]
    pub start_date: String,
    /// Last day or month, counted.
    #[serde(alias = "end", default)]
    pub end_date: String,
    /// Metrics; all that Yelp documents when left out.
    #[serde(default)]
    pub metrics: Option<Vec<String>>,
}

/// One row of a made report: a business on a day (or in a month, dated its first day).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportLine {
    /// The business.
    pub business_id: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Every figure of the row, by metric; `ad_cost` in cents.
    pub metrics: BTreeMap<String, i64>,
}

/// The metrics a report has when none are named: every one Yelp documents.
pub const DEFAULT_METRICS: [&str; 6] = [
    "ad_cost",
    "billed_clicks",
    "billed_impressions",
    "ad_driven_total_leads",
    "num_calls",
    "total_leads",
];

/// The field of our request a problem of Yelp's limits is about.
fn our_field(yelp_field: &str) -> &'static str {
    match yelp_field {
        "start" => "start_date",
        "end" => "end_date",
        "ids" => "business_ids",
        _ => "metrics",
    }
}

/// The rows of a stored report.
pub fn lines_of(report: &StoredReport) -> Result<Vec<ReportLine>> {
    match &report.rows_json {
        Some(json) => serde_json::from_str(json)
            .map_err(|e| Error::Internal(format!("report {} rows unreadable: {e}", report.id))),
        None => Ok(Vec::new()),
    }
}

/// Reports of one workspace's users.
pub struct ReportService<'a> {
    store: &'a Store,
    secrets: &'a SecretBox,
    allow_insecure_url: bool,
}

impl<'a> ReportService<'a> {
    /// A service over the store; `allow_insecure_url` lets the API be reached over plain http (tests, the
    /// demo's simulator on loopback are always allowed).
    pub fn new(store: &'a Store, secrets: &'a SecretBox, allow_insecure_url: bool) -> Self {
        Self {
            store,
            secrets,
            allow_insecure_url,
        }
    }

    /// Asks for a report, or answers the stored one of an identical request. Every problem with the
    /// request is named by field before Yelp is asked.
    pub async fn request(
        &self,
        user: &User,
        granularity: Granularity,
        ask: ReportAsk,
        today: NaiveDate,
    ) -> Result<StoredReport> {
        let ws = user.workspace_id.as_str();
        let request = self.check(ws, granularity, ask, today).await?;
        let client = self.client(ws).await?;
        let mut ids: Vec<&str> = request.business_ids().iter().map(|b| b.as_str()).collect();
        ids.sort_unstable();
        let mut metrics: Vec<&str> = request.metrics().iter().map(|m| m.as_str()).collect();
        metrics.sort_unstable();
        let (start, end) = wire_range(request.range());
        let (ids, metrics) = (ids.join(","), metrics.join(","));
        let key = request_key(granularity, &start, &end, &ids, &metrics);
        let now = now_ms();
        let id = match self.store.report_by_request(ws, &key).await? {
            Some(stored) => {
                let stale = stored.state == ReportState::Requesting
                    && now - stored.requested_at > REQUESTING_EXPIRES_MS;
                if !(stored.state == ReportState::Failed || stale) {
                    return self.refresh(&client, ws, stored).await;
                }
                if !self
                    .store
                    .retry_report(ws, &stored.id, stored.state, &user.username, now)
                    .await?
                {
                    return self.store.report(ws, &stored.id).await;
                }
                stored.id
            }
            None => {
                let id = new_id();
                let new = NewReport {
                    request_key: &key,
                    granularity: granularity.as_str(),
                    start_date: &start,
                    end_date: &end,
                    business_ids: &ids,
                    metrics: &metrics,
                    requested_by: &user.username,
                };
                if !self.store.insert_report(ws, &id, &new, now).await? {
                    // An identical request was stored first: its answer is ours.
                    return match self.store.report_by_request(ws, &key).await? {
                        Some(stored) => Ok(stored),
                        None => Err(Error::Internal("a report vanished as it was asked".into())),
                    };
                }
                id
            }
        };
        match client.request_report(&request).await {
            Ok(yelp_id) => {
                self.store
                    .report_requested(ws, &id, yelp_id.as_str(), now_ms())
                    .await?;
                tracing::info!(report = %id, yelp_report = %yelp_id, %granularity, "asked Yelp for a report");
                self.store.report(ws, &id).await
            }
            Err(e) => {
                let (words, error) = refusal(&e);
                self.store.report_failed(ws, &id, &words, now_ms()).await?;
                Err(error)
            }
        }
    }

    /// One of the workspace's reports, asking Yelp how it stands if it is being made and was not asked
    /// about in the last [`POLL_INTERVAL_MS`].
    pub async fn report(
        &self,
        user: &User,
        granularity: Granularity,
        id: &str,
    ) -> Result<StoredReport> {
        let ws = user.workspace_id.as_str();
        let stored = self.store.report(ws, id).await?;
        if stored.granularity != granularity.as_str() {
            return Err(Error::NotFound(format!("{granularity} report {id}")));
        }
        if stored.state != ReportState::Requested {
            return Ok(stored);
        }
        let client = self.client(ws).await?;
        self.refresh(&client, ws, stored).await
    }

    /// The workspace's reports of a granularity, newest first.
    pub async fn reports(
        &self,
        user: &User,
        granularity: Granularity,
    ) -> Result<Vec<StoredReport>> {
        self.store
            .reports(&user.workspace_id, granularity.as_str(), 200)
            .await
    }

    async fn refresh(
        &self,
        client: &ReportingClient,
        ws: &str,
        stored: StoredReport,
    ) -> Result<StoredReport> {
        let due = stored
            .checked_at
            .is_none_or(|at| now_ms() - at >= POLL_INTERVAL_MS);
        let (ReportState::Requested, Some(yelp_id), true) =
            (stored.state, stored.yelp_report_id.as_deref(), due)
        else {
            return Ok(stored);
        };
        let granularity = if stored.granularity == Granularity::Monthly.as_str() {
            Granularity::Monthly
        } else {
            Granularity::Daily
        };
        let now = now_ms();
        match client
            .report(granularity, &ReportId::from_yelp(yelp_id))
            .await
        {
            Ok(ReportStatus::Pending) => self.store.report_checked(ws, &stored.id, now).await?,
            Ok(ReportStatus::Ready(report)) => {
                let lines: Vec<ReportLine> = report
                    .rows
                    .iter()
                    .map(|row| ReportLine {
                        business_id: row.business_id.as_str().to_owned(),
                        date: row.date.to_string(),
                        metrics: row
                            .metrics
                            .iter()
                            .map(|(m, v)| (m.as_str().to_owned(), *v))
                            .collect(),
                    })
                    .collect();
                let json = serde_json::to_string(&lines)
                    .map_err(|e| Error::Internal(format!("report rows: {e}")))?;
                self.store.report_ready(ws, &stored.id, &json, now).await?;
                if !report.malformed.is_empty() {
                    tracing::warn!(report = %stored.id, malformed = report.malformed.len(), "rows of a report could not be read");
                }
            }
            Ok(ReportStatus::Failed { description }) => {
                let words = if description.is_empty() {
                    "Yelp could not make this report; ask for it again.".to_owned()
                } else {
                    format!("Yelp could not make this report: {description}")
                };
                self.store
                    .report_failed(ws, &stored.id, &words, now)
                    .await?;
            }
            // A fault asking how it stands leaves it as it was: the next look asks again.
            Err(e) => {
                tracing::warn!(report = %stored.id, error = %e, "could not ask Yelp how a report stands");
                self.store.report_checked(ws, &stored.id, now).await?;
            }
        }
        self.store.report(ws, &stored.id).await
    }

    /// The request, checked against Yelp's limits and the workspace's businesses; every problem named.
    async fn check(
        &self,
        ws: &str,
        granularity: Granularity,
        ask: ReportAsk,
        today: NaiveDate,
    ) -> Result<ReportRequest> {
        let mut problems: Vec<(String, String)> = Vec::new();
        let mut ids = Vec::new();
        for typed in &ask.business_ids {
            match BusinessId::parse(typed.trim()) {
                Ok(id) => ids.push(id),
                Err(e) => problems.push(("business_ids".into(), e.to_string())),
            }
        }
        if !ids.is_empty() && ids.len() <= yelp_partner_api::REPORT_MAX_BUSINESSES {
            let asked: Vec<&str> = ids.iter().map(|b| b.as_str()).collect();
            let known = self.store.business_profiles_of(ws, &asked).await?;
            let unknown: Vec<&str> = asked
                .iter()
                .copied()
                .filter(|b| !known.contains_key(*b))
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            if !unknown.is_empty() {
                let mut unknown = unknown;
                unknown.sort_unstable();
                problems.push((
                    "business_ids".into(),
                    format!("not a business of this workspace: {}", unknown.join(", ")),
                ));
            }
        }
        let metrics: Vec<String> = match ask.metrics {
            Some(metrics) => metrics,
            None => DEFAULT_METRICS.iter().map(|m| (*m).to_owned()).collect(),
        };
        let range = ReportRange::parse(granularity, ask.start_date.trim(), ask.end_date.trim());
        let request = range.and_then(|range| {
            ReportRequest::new(range, ids, metrics.iter().map(|m| m.trim().into()), today)
        });
        match request {
            Ok(request) if problems.is_empty() => Ok(request),
            Ok(_) => Err(Error::InvalidFields(problems)),
            Err(refused) => {
                problems.extend(
                    refused
                        .0
                        .iter()
                        .map(|p| (our_field(p.field()).to_owned(), p.to_string())),
                );
                Err(Error::InvalidFields(problems))
            }
        }
    }

    /// A client of the workspace's Reporting API; refused when it has no key.
    async fn client(&self, ws: &str) -> Result<ReportingClient> {
        let ReportingSettings { base_url, key_enc } = self.store.reporting_settings(ws).await?;
        let Some(key_enc) = key_enc else {
            return Err(Error::Conflict(
                "This workspace has no Reporting API key yet: an admin sets it in Settings (Yelp enables \
                 reporting for a Fusion API key on request)."
                    .into(),
            ));
        };
        let key: SecretString = self.secrets.decrypt(&key_enc)?;
        let base_url = base_url.unwrap_or_else(|| REPORTING_BASE_URL.to_owned());
        crate::yelp::check_base_url(&base_url, self.allow_insecure_url)?;
        Ok(ReportingClient::new(ReportingConfig::new(&base_url, key)?)?)
    }
}

/// The range as stored and sent: days, or months.
fn wire_range(range: &ReportRange) -> (String, String) {
    match range {
        ReportRange::Daily { start, end } => (start.to_string(), end.to_string()),
        ReportRange::Monthly { start, end } => (start.to_string(), end.to_string()),
    }
}

/// The key of a request: identical requests, whatever the order of their ids and metrics, share it.
fn request_key(
    granularity: Granularity,
    start: &str,
    end: &str,
    ids: &str,
    metrics: &str,
) -> String {
    let digest = Sha256::digest(format!("{granularity}|{start}|{end}|{ids}|{metrics}"));
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// What to store of a request Yelp did not take, and the error to answer.
fn refusal(e: &yelp_partner_api::Error) -> (String, Error) {
    match e.report_refusal() {
        Some(ReportRefusal::Granularity) => {
            let words = format!("Yelp refused the dates for this kind of report: {e}");
            (words.clone(), Error::field("end_date", words))
        }
        Some(ReportRefusal::TooManyBusinesses) => {
            let words = format!("Yelp refused the number of businesses: {e}");
            (words.clone(), Error::field("business_ids", words))
        }
        Some(ReportRefusal::DailyQuota) => {
            let words = "Yelp's daily quota of reports is spent: ask again tomorrow.".to_owned();
            (words.clone(), Error::Conflict(words))
        }
        Some(ReportRefusal::PerSecondLimit) | None => {
            let words = format!("Yelp did not take the report request: {e}");
            (words.clone(), Error::YelpUnavailable(words))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_requests_share_a_key_and_any_difference_makes_another() {
        let key = request_key;
        let a = key(
            Granularity::Daily,
            "2026-11-01",
            "2026-11-30",
            "a,b",
            "ad_cost",
        );
        assert_eq!(
            a,
            key(
                Granularity::Daily,
                "2026-11-01",
                "2026-11-30",
                "a,b",
                "ad_cost"
            )
        );
        assert_eq!(a.len(), 64);
        let others = [
            key(
                Granularity::Monthly,
                "2026-11-01",
                "2026-11-30",
                "a,b",
                "ad_cost",
            ),
            key(
                Granularity::Daily,
                "2026-11-02",
                "2026-11-30",
                "a,b",
                "ad_cost",
            ),
            key(
                Granularity::Daily,
                "2026-11-01",
                "2026-11-29",
                "a,b",
                "ad_cost",
            ),
            key(
                Granularity::Daily,
                "2026-11-01",
                "2026-11-30",
                "a",
                "ad_cost",
            ),
            key(
                Granularity::Daily,
                "2026-11-01",
                "2026-11-30",
                "a,b",
                "num_calls",
            ),
        ];
        for other in others {
            assert_ne!(a, other);
        }
    }

    #[test]
    fn yelp_fields_become_ours() {
        assert_eq!(our_field("start"), "start_date");
        assert_eq!(our_field("end"), "end_date");
        assert_eq!(our_field("ids"), "business_ids");
        assert_eq!(our_field("metrics"), "metrics");
    }
}
