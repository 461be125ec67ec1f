//! Businesses from the mirror, and the choices a program list's filters offer; never from Yelp.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{Value, json};
use yelp_partner_api::{BusinessId, StatusFilter};

use super::full_list::MAX_ROWS;
use super::program_item::program_items;
use crate::store::{BusinessOverview, BusinessQuery, ProgramQuery};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{Params, PathParam, shorten};
use crate::web::params::{business_query, program_query};

/// The filters these endpoints take: the program list's, by our names and the replaced system's.
const FILTER_PARAMS: &[&str] = &["status", "program_status", "program_type", "business_id"];

/// The buckets a status filter offers when some program is in them.
const BUCKETS: [StatusFilter; 4] = [
    StatusFilter::Current,
    StatusFilter::Past,
    StatusFilter::Future,
    StatusFilter::Paused,
];

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/reseller/business-ids", get(businesses))
        .route("/api/reseller/businesses", get(business_list))
        .route("/api/reseller/businesses/{business_id}", get(one_business))
        .route(
            "/api/reseller/business_programs/{business_id}",
            get(business_programs),
        )
        .route("/api/reseller/available-filters", get(available_filters))
}

fn today() -> chrono::NaiveDate {
    Utc::now().date_naive()
}

/// The filters of `params` (any other parameter is refused) as a query of every matching program.
fn filters(params: &Params, allowed: &[&str]) -> ApiResult<ProgramQuery> {
    params.only(allowed)?;
    program_query(params, false)
}

/// `GET /api/reseller/business-ids[?status=&program_type=]`: the businesses with live programs (those
/// the filters match), with how many each has and how many of those Yelp says are ACTIVE.
async fn businesses(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> ApiResult<Json<Value>> {
    let query = filters(&params, &FILTER_PARAMS[..3])?;
    let businesses = state
        .store
        .business_summaries(user.workspace_id(), &query)
        .await?;
    let items: Vec<Value> = businesses
        .into_iter()
        .map(|b| {
            json!({"business_id": b.business_id, "partner_business_id": b.partner_business_id,
                   "name": b.name, "business_name": b.name, "program_count": b.program_count,
                   "active_count": b.active_count})
        })
        .collect();
    Ok(Json(json!({"total": items.len(), "businesses": items})))
}

/// One business as the businesses list and page show it; money in cents.
fn business_item(b: &BusinessOverview) -> Value {
    let p = &b.profile;
    json!({
        "business_id": p.business_id, "yelp_business_id": p.business_id,
        "partner_business_id": p.partner_business_id,
        "name": p.name, "business_name": p.name,
        "address": p.address, "city": p.city, "state": p.state, "zip": p.zip,
        "is_closed": p.is_closed.0, "is_removed_from_search": p.is_removed_from_search.0,
        "migrated_to": p.migrated_to, "migrated_to_name": b.migrated_to_name,
        "inactive_reason": p.inactive_reason(),
        "live_programs": b.live_programs, "current_programs": b.current_programs,
        "current_cpc_budget_cents": b.current_cpc_budget_cents, "spend_cents": b.spend_cents,
        "info_at": p.info_at,
    })
}

/// `GET /api/reseller/businesses?search=&sort=&order=&offset=&limit=`: a page of the workspace's
/// businesses with their programs, budget and spend.
async fn business_list(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> ApiResult<Response> {
    let query = business_query(&params)?;
    let ws = user.workspace_id();
    // As for program lists: the body depends only on the mirror's version and the query, so a page the
    // pickers and many people ask for is built once per change of the mirror.
    let version = state.store.mirror_version(ws).await?;
    let key = format!("businesses\n{ws}\n{query:?}");
    let body = match state.list_bodies.get(&key, version) {
        Some(body) => body,
        None => {
            let page = state.store.businesses_page(ws, &query).await?;
            let items: Vec<Value> = page.businesses.iter().map(business_item).collect();
            let body = json!({
                "total": page.total_count,
                "offset": query.offset,
                "limit": query.limit,
                "businesses": items,
            });
            let bytes = Bytes::from(serde_json::to_vec(&body).map_err(ApiError::internal)?);
            state.list_bodies.put(key, version, bytes.clone());
            bytes
        }
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `GET /api/reseller/businesses/{business_id}`: one business of the workspace with its live programs
/// (at most 10,000); 404 for one it does not have.
async fn one_business(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(business_id): PathParam,
) -> ApiResult<Json<Value>> {
    let ws = user.workspace_id();
    let query = BusinessQuery {
        business_id: Some(business_id.clone()),
        limit: 1,
        ..business_query(&Params::default())?
    };
    let business = state
        .store
        .businesses_page(ws, &query)
        .await?
        .businesses
        .into_iter()
        .next()
        .ok_or_else(|| {
            ApiError::NotFound(format!("business {} not found", shorten(&business_id)))
        })?;
    let programs = ProgramQuery {
        business_id: Some(business.profile.business_id.clone()),
        ..ProgramQuery::every_program(today(), u32::try_from(MAX_ROWS).unwrap_or(u32::MAX))
    };
    let listing = state.store.list_programs(ws, &programs).await?;
    let mut item = business_item(&business);
    item["total_count"] = json!(listing.total_count);
    item["programs"] = json!(program_items(&state, ws, listing.programs).await?);
    Ok(Json(item))
}

/// `GET /api/reseller/business_programs/{business_id}`: the business's live programs (at most 10,000) in
/// the shape of Yelp's programs-for-a-business answer; 404 unless the workspace has programs of it.
async fn business_programs(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(business_id): PathParam,
) -> ApiResult<Json<Value>> {
    let id = match BusinessId::parse(&business_id) {
        Ok(id) => id.into_string(),
        // An id outside Yelp's usual alphabet is taken as given when the mirror holds it.
        Err(_)
            if crate::store::could_be_mirrored(&business_id)
                && state
                    .store
                    .business_known(user.workspace_id(), &business_id)
                    .await? =>
        {
            business_id
        }
        Err(e) => return Err(ApiError::field("business_id", e.to_string())),
    };
    let query = ProgramQuery {
        business_id: Some(id.clone()),
        ..ProgramQuery::every_program(today(), u32::try_from(MAX_ROWS).unwrap_or(u32::MAX))
    };
    let ws = user.workspace_id();
    // The business's own programs and those of businesses Yelp moved to it: the filter takes both.
    let known = state
        .store
        .business_summaries(
            ws,
            &ProgramQuery {
                include_removed: true,
                ..query.clone()
            },
        )
        .await?;
    if known.is_empty() {
        return Err(ApiError::NotFound(format!("business {id} not found")));
    }
    let profile = state.store.business_profile(ws, &id).await?;
    let listing = state.store.list_programs(ws, &query).await?;
    let programs = program_items(&state, ws, listing.programs).await?;
    Ok(Json(json!({
        "businesses": [{
            "yelp_business_id": id,
            "business_id": id,
            "partner_business_id": profile.as_ref().and_then(|p| p.partner_business_id.clone()),
            "business_name": profile.as_ref().and_then(|p| p.name.clone()),
            // Not kept in the mirror: Yelp's listing of all programs does not carry it.
            "advertiser_status": null,
            "destination_yelp_business_id": profile.as_ref().and_then(|p| p.migrated_to.clone()),
            "total_count": listing.total_count,
            "programs": programs,
        }],
        "errors": [],
    })))
}

/// `GET /api/reseller/available-filters?program_status=&program_type=&business_id=`: the statuses that
/// have programs, and the program types and businesses among the programs the filters match.
async fn available_filters(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> ApiResult<Json<Value>> {
    let query = filters(&params, FILTER_PARAMS)?;
    let ws = user.workspace_id();
    let everything = ProgramQuery::every_program(query.today, 0);
    let mut statuses = vec![StatusFilter::All.as_str()];
    for bucket in BUCKETS {
        let in_bucket = ProgramQuery {
            status: bucket,
            ..everything.clone()
        };
        if state.store.count_programs(ws, &in_bucket).await? > 0 {
            statuses.push(bucket.as_str());
        }
    }
    let types = state.store.program_type_counts(ws, &query).await?;
    let total: u64 = types.iter().map(|(_, n)| n).sum();
    let mut program_types = vec!["ALL".to_owned()];
    program_types.extend(types.into_iter().map(|(t, _)| t));
    let mut businesses = state.store.business_summaries(ws, &query).await?;
    businesses.sort_by_key(|b| std::cmp::Reverse(b.program_count));
    let businesses: Vec<Value> = businesses
        .into_iter()
        .map(|b| {
            json!({"business_id": b.business_id, "business_name": b.name,
                   "program_count": b.program_count})
        })
        .collect();
    let status = match (query.program_status.as_ref(), query.status) {
        (Some(own), _) => own.as_str().to_owned(),
        (None, bucket) => bucket.as_str().to_owned(),
    };
    Ok(Json(json!({
        "statuses": statuses,
        "program_types": program_types,
        "businesses": businesses,
        "total_programs": total,
        "applied_filters": {
            "program_status": status,
            "program_type": query.program_type.as_deref().unwrap_or("ALL"),
            "business_id": query.business_id.as_deref().unwrap_or("all"),
        },
    })))
}
