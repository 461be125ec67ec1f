//! Prometheus metrics: HTTP requests by route and status, Yelp API calls by endpoint and outcome (counted
//! here), sync runs and their durations and jobs by type and status (read from the database at scrape
//! time, so that every instance reports the same totals).
//!
//! Counting and the text exposition are the `metrics` crate's and its Prometheus exporter's. Each server
//! has its own recorder rather than the process's global one: tests run many servers in one process, and
//! each must report only its own requests.

use std::fmt::Write as _;

use metrics::{Recorder, counter, describe_counter, describe_gauge, gauge, with_local_recorder};
use metrics_exporter_prometheus::formatting::{
    sanitize_label_value, write_help_line, write_type_line,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};
use yelp_partner_api::CallRecord;

use crate::store::{JobCount, RunStats};

const HTTP_REQUESTS: &str = "yelp_ads_http_requests_total";
const YELP_CALLS: &str = "yelp_ads_yelp_api_calls_total";
const SYNC_RUNS: &str = "yelp_ads_sync_runs_total";
const SYNC_RUN_SECONDS: &str = "yelp_ads_sync_run_duration_seconds_total";
const JOBS: &str = "yelp_ads_jobs";

/// Counters kept in memory since start.
pub struct Metrics {
    recorder: PrometheusRecorder,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let recorder = PrometheusBuilder::new().build_recorder();
        with_local_recorder(&recorder, || {
            describe_counter!(HTTP_REQUESTS, "HTTP requests served, by route and status.");
            describe_counter!(
                YELP_CALLS,
                "Calls to Yelp's API (each attempt), by endpoint and outcome."
            );
        });
        Self { recorder }
    }
}

impl Metrics {
    /// Counts a finished HTTP request.
    pub fn http_request(&self, route: &str, status: u16) {
        with_local_recorder(&self.recorder, || {
            counter!(HTTP_REQUESTS, "route" => route.to_owned(), "status" => status.to_string())
                .increment(1);
        });
    }

    /// Counts an attempt at a Yelp call.
    pub fn yelp_call(&self, call: &CallRecord) {
        with_local_recorder(&self.recorder, || {
            counter!(YELP_CALLS, "endpoint" => call.endpoint, "outcome" => call.outcome)
                .increment(1);
        });
    }

    /// The Prometheus text exposition: this server's counters, then the totals read from the database.
    pub fn render(&self, runs: &[RunStats], jobs: &[JobCount]) -> String {
        let mut out = self.recorder.handle().render();
        out.push_str(&scraped(runs, jobs));
        out
    }
}

/// The families read from the database at scrape time, through a recorder of this scrape alone, so that a
/// status that no longer has rows is not reported with its last value.
fn scraped(runs: &[RunStats], jobs: &[JobCount]) -> String {
    let recorder = PrometheusBuilder::new().build_recorder();
    with_local_recorder(&recorder as &dyn Recorder, || {
        describe_counter!(SYNC_RUNS, "Sync runs recorded, by status.");
        describe_gauge!(
            JOBS,
            "Jobs recorded, by type and status (PENDING and IN_PROGRESS are open)."
        );
        for run in runs {
            counter!(SYNC_RUNS, "status" => run.status.clone()).absolute(run.count);
        }
        for job in jobs {
            gauge!(JOBS, "job_type" => job.job_type.clone(), "status" => job.status.clone())
                .set(job.count as f64);
        }
    });
    let mut out = recorder.handle().render();
    // The crate's counters are whole numbers; a sum of seconds is not, so this counter is written with the
    // crate's formatting helpers instead.
    write_help_line(
        &mut out,
        SYNC_RUN_SECONDS,
        None,
        None,
        "Summed duration of finished sync runs, by status.",
    );
    write_type_line(&mut out, SYNC_RUN_SECONDS, None, None, "counter");
    for run in runs {
        let _ = writeln!(
            out,
            "{SYNC_RUN_SECONDS}{{status=\"{}\"}} {:.3}",
            sanitize_label_value(&run.status),
            run.total_duration_ms as f64 / 1000.0
        );
    }
    out
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
        m.yelp_call(&CallRecord {
            endpoint: "GET /programs/v1",
            outcome: "ok",
            elapsed: std::time::Duration::from_millis(5),
        });
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
        assert!(text.contains("# TYPE yelp_ads_http_requests_total counter\n"));
        assert!(text.contains(
            "yelp_ads_yelp_api_calls_total{endpoint=\"GET /programs/v1\",outcome=\"ok\"} 1\n"
        ));
        assert!(text.contains("yelp_ads_sync_runs_total{status=\"synced\"} 2\n"));
        assert!(text.contains("# TYPE yelp_ads_sync_run_duration_seconds_total counter\n"));
        assert!(
            text.contains("yelp_ads_sync_run_duration_seconds_total{status=\"synced\"} 1.500\n")
        );
        assert!(text.contains("# TYPE yelp_ads_jobs gauge\n"));
        assert!(text.contains("yelp_ads_jobs{job_type=\"create\",status=\"COMPLETED\"} 3\n"));
    }

    #[test]
    fn each_server_counts_only_its_own_requests() {
        let (one, two) = (Metrics::default(), Metrics::default());
        one.http_request("/healthz", 200);
        assert!(
            !two.render(&[], &[])
                .contains("yelp_ads_http_requests_total{")
        );
    }
}
