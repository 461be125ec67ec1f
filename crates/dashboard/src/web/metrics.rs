//! Prometheus metrics: HTTP requests by route and status, Yelp API calls by endpoint and outcome (counted
//! here), sync runs and their durations and jobs by type and status (read from the database at scrape
//! time, so that every instance reports the same totals).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};

use yelp_partner_api::CallRecord;

use crate::store::{JobCount, RunStats};

/// Counters kept in memory since start.
#[derive(Debug, Default)]
pub struct Metrics {
    http: Mutex<BTreeMap<(String, u16), u64>>,
    yelp: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
}

impl Metrics {
    /// Counts a finished HTTP request.
    pub fn http_request(&self, route: &str, status: u16) {
        let mut http = self.http.lock().unwrap_or_else(PoisonError::into_inner);
        *http.entry((route.to_owned(), status)).or_default() += 1;
    }

    /// Counts an attempt at a Yelp call.
    pub fn yelp_call(&self, call: &CallRecord) {
        let mut yelp = self.yelp.lock().unwrap_or_else(PoisonError::into_inner);
        *yelp.entry((call.endpoint, call.outcome)).or_default() += 1;
    }

    /// The Prometheus text exposition.
    pub fn render(&self, runs: &[RunStats], jobs: &[JobCount]) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP yelp_ads_http_requests_total HTTP requests served, by route and status.\n",
        );
        out.push_str("# TYPE yelp_ads_http_requests_total counter\n");
        for ((route, status), n) in self
            .http
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(
                out,
                "yelp_ads_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                label(route)
            );
        }
        out.push_str("# HELP yelp_ads_yelp_api_calls_total Calls to Yelp's API (each attempt), by endpoint and outcome.\n");
        out.push_str("# TYPE yelp_ads_yelp_api_calls_total counter\n");
        for ((endpoint, outcome), n) in self
            .yelp
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(
                out,
                "yelp_ads_yelp_api_calls_total{{endpoint=\"{}\",outcome=\"{outcome}\"}} {n}",
                label(endpoint)
            );
        }
        out.push_str("# HELP yelp_ads_sync_runs_total Sync runs recorded, by status.\n");
        out.push_str("# TYPE yelp_ads_sync_runs_total counter\n");
        for run in runs {
            let _ = writeln!(
                out,
                "yelp_ads_sync_runs_total{{status=\"{}\"}} {}",
                label(&run.status),
                run.count
            );
        }
        out.push_str("# HELP yelp_ads_sync_run_duration_seconds_total Summed duration of finished sync runs, by status.\n");
        out.push_str("# TYPE yelp_ads_sync_run_duration_seconds_total counter\n");
        for run in runs {
            let _ = writeln!(
                out,
                "yelp_ads_sync_run_duration_seconds_total{{status=\"{}\"}} {:.3}",
                label(&run.status),
                run.total_duration_ms as f64 / 1000.0
            );
        }
        out.push_str("# HELP yelp_ads_jobs Jobs recorded, by type and status (PENDING and IN_PROGRESS are open).\n");
        out.push_str("# TYPE yelp_ads_jobs gauge\n");
        for job in jobs {
            let _ = writeln!(
                out,
                "yelp_ads_jobs{{job_type=\"{}\",status=\"{}\"}} {}",
                label(&job.job_type),
                label(&job.status),
                job.count
            );
        }
        out
    }
}

/// A label value with `\`, `"` and newlines escaped, as the text format requires.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_in_the_text_format_with_escaped_labels() {
        let m = Metrics::default();
        m.http_request("/api/reseller/programs", 200);
        m.http_request("/api/reseller/programs", 200);
        m.http_request("a\"b", 404);
        let text = m.render(
            &[RunStats {
                status: "synced".into(),
                count: 2,
                total_duration_ms: 1500,
            }],
            &[JobCount {
                job_type: "create".into(),
                status: "COMPLETED".into(),
                count: 3,
            }],
        );
        assert!(text.contains(
            "yelp_ads_http_requests_total{route=\"/api/reseller/programs\",status=\"200\"} 2\n"
        ));
        assert!(text.contains("route=\"a\\\"b\""));
        assert!(text.contains("yelp_ads_sync_runs_total{status=\"synced\"} 2\n"));
        assert!(
            text.contains("yelp_ads_sync_run_duration_seconds_total{status=\"synced\"} 1.500\n")
        );
        assert!(text.contains("yelp_ads_jobs{job_type=\"create\",status=\"COMPLETED\"} 3\n"));
    }
}
