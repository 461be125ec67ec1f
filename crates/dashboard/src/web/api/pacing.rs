//! Spend and pacing of CPC programs: `GET /api/reseller/programs/{id}/metrics?from=&to=` (one program's
//! metric snapshots in a range and its pacing now) and `GET /api/reseller/pacing?<list query>` (the
//! pacing of the CPC programs a program list's query matches, a page of them, and sums over all of them).
//! Money is integer cents in fields named `_cents`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use serde_json::{Value, json};

use super::iso;
use crate::insights::service::{self, MetricsRange, ProgramPacing};
use crate::store::{MetricSnapshot, MetricTotals, now_ms};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{Params, PathParam};
use crate::web::params::{LIST_FILTERS, LIST_PAGE, LIST_SORT, day_or_time, program_query_of};

const DAY_MS: i64 = 86_400_000;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/reseller/programs/{id}/metrics", get(program_metrics))
        .route("/api/reseller/pacing", get(list))
}

/// `from` and `to`: days (`YYYY-MM-DD`, UTC, `to` counting its whole day) or RFC 3339 times; both ends
/// included. Without them, the last 90 days.
fn range(params: &Params) -> ApiResult<MetricsRange> {
    params.only(&["from", "to"])?;
    let from = day_or_time(params, "from")?;
    let whole_day = params
        .get("to")
        .is_some_and(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").is_ok());
    let to = day_or_time(params, "to")?.map(|t| {
        if whole_day {
            t.saturating_add(DAY_MS - 1)
        } else {
            t
        }
    });
    Ok(MetricsRange::new(from, to, now_ms())?)
}

fn snapshot_json(s: &MetricSnapshot) -> Value {
    json!({
        "at": iso(Some(s.at)), "budget_cents": s.budget_cents, "spend_cents": s.spend_cents,
        "billed_clicks": s.billed_clicks, "billed_impressions": s.billed_impressions,
    })
}

/// The pacing of one program, or `null` and why not.
fn pacing_json(p: &ProgramPacing) -> (Value, Value) {
    let pacing = p.state.pacing().map_or(Value::Null, |x| {
        json!({
            "as_of": iso(Some(p.as_of)),
            "period": x.period, "active": x.active, "day_of_period": x.day_of_period,
            "elapsed_fraction": x.elapsed_fraction,
            "period_budget_cents": x.budget.get(), "spend_cents": x.spend.get(),
            "spend_fraction": x.spend_fraction,
            "projected_spend_cents": x.projected_spend.map(|c| c.get()),
            "billed_clicks": x.clicks, "billed_impressions": x.impressions,
            "ctr": x.ctr, "cost_per_click_cents": x.cost_per_click.map(|c| c.get()),
            "flags": x.flags,
        })
    });
    (pacing, json!(p.state.why_not()))
}

fn totals_json(t: &MetricTotals) -> Value {
    json!({
        "programs": t.programs, "monthly_budget_cents": t.budget_cents, "spend_cents": t.spend_cents,
        "billed_clicks": t.billed_clicks, "billed_impressions": t.billed_impressions,
    })
}

/// `GET /api/reseller/programs/{id}/metrics`: the program's snapshots from `from` to `to` (oldest first,
/// the newest 5,000 of them), and its pacing as of its last reading; 404 unless it is the workspace's.
async fn program_metrics(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(program_id): PathParam,
    params: Params,
) -> ApiResult<Json<Value>> {
    let range = range(&params)?;
    let metrics = service::program_metrics(&state.store, user.workspace_id(), &program_id, range)
        .await?
        .ok_or_else(|| ApiError::NotFound("This workspace has no such program".into()))?;
    let program = &metrics.pacing.program;
    let (pacing, why_not) = pacing_json(&metrics.pacing);
    Ok(Json(json!({
        "program_id": program.program_id, "program_type": program.program_type,
        "from": iso(Some(range.from())), "to": iso(Some(range.to())),
        "snapshots": metrics.snapshots.iter().map(snapshot_json).collect::<Vec<_>>(),
        "has_more": metrics.more_before,
        "pacing": pacing, "pacing_unavailable": why_not,
    })))
}

/// `GET /api/reseller/pacing`: the program list's filters, sort and page (`offset`, `limit` ≤ 500) over
/// its CPC programs; each with the mirror's figures and its pacing, and `totals` (programs, monthly
/// budget, spend, clicks, impressions) over every CPC program the filters match.
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> ApiResult<Json<Value>> {
    params.only_of(&[LIST_FILTERS, LIST_SORT, LIST_PAGE])?;
    let query = program_query_of(&state, user.workspace_id(), &params).await?;
    let list = service::list_pacing(&state.store, user.workspace_id(), &query).await?;
    let programs: Vec<Value> = list
        .programs
        .iter()
        .map(|p| {
            let program = &p.program;
            let (pacing, why_not) = pacing_json(p);
            json!({
                "program_id": program.program_id, "business_id": program.business_id,
                "program_status": program.program_status.to_string(),
                "pause_status": program.pause_status.to_string(),
                "monthly_budget_cents": program.budget_cents, "spend_cents": program.ad_cost_cents,
                "billed_clicks": program.billed_clicks,
                "billed_impressions": program.billed_impressions,
                "as_of": iso(Some(p.as_of)), "pacing": pacing, "pacing_unavailable": why_not,
            })
        })
        .collect();
    Ok(Json(json!({
        "programs": programs, "totals": totals_json(&list.totals),
        "total_count": list.totals.programs, "offset": list.offset, "limit": list.limit,
    })))
}
