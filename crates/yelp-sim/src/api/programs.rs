//! Reading programs: list-all (§4.1), info (§4.2) and list-by-business (§4.3).

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::model::{Program, StatusFilter};
use crate::params::QueryParams;
use crate::state::{SimState, World};

/// Page size of `/programs/v1` when `limit` is absent.
const DEFAULT_LIMIT: u64 = 20;
/// Page size and maximum of `/v1/programs/list/{business_id}`.
const BUSINESS_PAGE_MAX: u64 = 40;

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Whether the `/programs/v1` entry of `program_id` lacks `program_metrics.budget` (§11).
///
/// Decided by a hash of the id, so a program looks the same on every listing.
fn hides_budget(program_id: &str, rate: f64) -> bool {
    if rate <= 0.0 {
        return false;
    }
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    let hash = program_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    (hash as f64 / u64::MAX as f64) < rate
}

/// A program as `/programs/v1` shows it: `businesses[]` instead of a top-level business id.
fn listing_entry(program: &Program, missing_budget_rate: f64) -> Value {
    let mut value = serde_json::to_value(program).unwrap_or_default();
    if let Value::Object(map) = &mut value {
        let yelp_business_id = map.remove("yelp_business_id").unwrap_or_default();
        let partner_business_id = map.remove("partner_business_id").unwrap_or_default();
        map.insert(
            "businesses".to_owned(),
            json!([{"yelp_business_id": yelp_business_id, "partner_business_id": partner_business_id}]),
        );
        if hides_budget(&program.program_id, missing_budget_rate) {
            if let Some(Value::Object(metrics)) = map.get_mut("program_metrics") {
                metrics.remove("budget");
            }
        }
    }
    value
}

fn page(world: &World, filter: StatusFilter, offset: u64, limit: u64) -> Value {
    let rate = world.settings.missing_budget_rate;
    let (start, limit) = (to_usize(offset), to_usize(limit));
    let (entries, total): (Vec<Value>, usize) = if filter == StatusFilter::All {
        // Slice by index: O(limit), whatever the size of the account.
        let total = world.order.len();
        let from = start.min(total);
        let to = from.saturating_add(limit).min(total);
        let entries = world.order[from..to]
            .iter()
            .filter_map(|id| world.programs.get(id))
            .map(|p| listing_entry(p, rate))
            .collect();
        (entries, total)
    } else {
        let today = world.today();
        let mut total = 0;
        let mut entries = Vec::new();
        for program in world.listing().filter(|p| p.matches(filter, today)) {
            if total >= start && entries.len() < limit {
                entries.push(listing_entry(program, rate));
            }
            total += 1;
        }
        (entries, total)
    };
    json!({"payment_programs": entries, "total": total, "offset": offset, "limit": limit})
}

/// `GET /programs/v1?offset=&limit=&program_status=`.
pub(crate) async fn list_all(
    State(state): State<SimState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = QueryParams::parse(query.as_deref());
    let max = u64::from(state.config().page_size_max);
    let offset = query.natural("offset")?.unwrap_or(0);
    let limit = query.natural("limit")?.unwrap_or(DEFAULT_LIMIT.min(max));
    if !(1..=max).contains(&limit) {
        return Err(ApiError::invalid(format!(
            "The parameter `limit` must be between 1 and {max}; got {limit}."
        )));
    }
    let filter = match query.single("program_status")? {
        None => StatusFilter::All,
        Some(value) => value.parse().map_err(|_| {
            ApiError::invalid(format!(
                "The parameter `program_status` must be one of ALL, CURRENT, PAST, FUTURE, PAUSED; got `{value}`."
            ))
        })?,
    };
    Ok(Json(state.with_world(|w| page(w, filter, offset, limit))))
}

/// `GET /v1/programs/info/{program_id}`: 200 even for unknown ids, with `INVALID_PROGRAM_ID`.
pub(crate) async fn info(
    State(state): State<SimState>,
    Path(program_id): Path<String>,
) -> Json<Value> {
    let body = match state.with_world(|w| w.programs.get(&program_id).cloned()) {
        Some(program) => json!({"programs": [program], "errors": []}),
        None => json!({"programs": [], "errors": [{
            "id": "INVALID_PROGRAM_ID",
            "description": "Supplied program ID does not exist.",
        }]}),
    };
    Json(body)
}

/// `GET /v1/programs/list/{business_id}?start=&limit=`.
pub(crate) async fn list_for_business(
    State(state): State<SimState>,
    Path(business_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = QueryParams::parse(query.as_deref());
    let start = query.natural("start")?.unwrap_or(0);
    let limit = query.natural("limit")?.unwrap_or(BUSINESS_PAGE_MAX);
    if !(1..=BUSINESS_PAGE_MAX).contains(&limit) {
        return Err(ApiError::invalid(format!(
            "The parameter `limit` must be between 1 and {BUSINESS_PAGE_MAX}; got {limit}."
        )));
    }
    let body = state.with_world(|w| {
        let Some(business) = w.business(&business_id) else {
            return json!({"businesses": [], "errors": [{
                "id": "INVALID_BUSINESS_ID",
                "description": "Supplied business ID does not exist or is not managed by this partner.",
            }]});
        };
        let programs: Vec<&Program> = w
            .listing()
            .filter(|p| p.yelp_business_id == business_id)
            .skip(to_usize(start))
            .take(to_usize(limit))
            .collect();
        json!({"businesses": [{
            "yelp_business_id": business.yelp_business_id,
            "advertiser_status": "ADVERTISER",
            "partner_business_id": business.partner_business_id,
            "destination_yelp_business_id": business.migrated_to,
            "programs": programs,
        }], "errors": []})
    });
    Ok(Json(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_missing_budget_quirk_follows_the_rate_and_is_stable() {
        assert!(!hides_budget("abc", 0.0));
        assert!(hides_budget("abc", 1.0));
        let mut rng = fastrand::Rng::with_seed(3);
        let ids: Vec<String> = (0..10_000).map(|_| crate::seed::new_id(&mut rng)).collect();
        let hidden = ids.iter().filter(|id| hides_budget(id, 0.25)).count();
        assert!((2000..3000).contains(&hidden), "{hidden} of 10000 hidden");
        assert!(
            ids.iter()
                .all(|id| hides_budget(id, 0.25) == hides_budget(id, 0.25))
        );
    }
}
