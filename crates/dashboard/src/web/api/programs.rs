//! Programs from the mirror; never from Yelp.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use serde::Serialize;
use serde_json::{Value, json};
use yelp_partner_api::{BusinessId, ProgramStatus, ProgramType, StatusFilter};

use super::full_list;
use super::program_item::{ProgramItem, program_items};
use crate::store::{ProgramQuery, SortColumn};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{Params, PathParam, shorten};

/// Default and largest page of a program list.
const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 500;

/// The list's parameters: ours, the replaced system's `program_status`, and `all`.
const LIST_PARAMS: &[&str] = &[
    "status",
    "program_status",
    "program_type",
    "business_id",
    "search",
    "include_removed",
    "sort",
    "order",
    "offset",
    "limit",
    "all",
];

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/reseller/programs", get(list))
        .route("/api/reseller/program_info/{program_id}", get(program_info))
}

/// Whether `params`' `business_id` is outside Yelp's usual alphabet but held as given by the workspace's
/// mirror (such ids are accepted as they are).
async fn business_mirrored(
    state: &AppState,
    workspace_id: &str,
    params: &Params,
) -> ApiResult<bool> {
    Ok(match params.get("business_id") {
        Some(b) if BusinessId::parse(b).is_err() && crate::store::could_be_mirrored(b) => {
            state.store.business_known(workspace_id, b).await?
        }
        _ => false,
    })
}

/// Parses the list's query string of a workspace, as [`program_query`] does, accepting as `business_id`
/// also an id outside Yelp's usual alphabet that the workspace's mirror holds.
pub(crate) async fn program_query_of(
    state: &AppState,
    workspace_id: &str,
    params: &Params,
) -> ApiResult<ProgramQuery> {
    let mirrored = business_mirrored(state, workspace_id, params).await?;
    program_query(params, mirrored)
}

/// Parses the list's query string; every error names its parameter. The programs page reads the same
/// names. `business_id` must be of Yelp's usual alphabet unless `business_mirrored` says the mirror holds
/// it as given.
pub(crate) fn program_query(params: &Params, business_mirrored: bool) -> ApiResult<ProgramQuery> {
    program_query_up_to(params, business_mirrored, DEFAULT_LIMIT, MAX_LIMIT)
}

/// The status filter: `status`, or the replaced system's name for it, `program_status`. Both take the
/// contract's buckets and also ACTIVE or INACTIVE, which the replaced system read as Yelp's own
/// `program_status` of the program.
fn status_filter(params: &Params) -> ApiResult<(StatusFilter, Option<ProgramStatus>)> {
    let (name, value) = match (params.get("status"), params.get("program_status")) {
        (Some(ours), Some(old)) if !ours.eq_ignore_ascii_case(old) => {
            return Err(ApiError::field(
                "program_status",
                format!(
                    "status '{}' and program_status '{}' disagree; give one of them",
                    shorten(ours),
                    shorten(old)
                ),
            ));
        }
        (Some(ours), _) => ("status", ours),
        (None, Some(old)) => ("program_status", old),
        (None, None) => return Ok((StatusFilter::All, None)),
    };
    match ProgramStatus::from_wire(value) {
        ProgramStatus::Other(_) => value
            .parse::<StatusFilter>()
            .map(|status| (status, None))
            .map_err(|e| ApiError::field(name, format!("{name}: {e}, ACTIVE, INACTIVE"))),
        own => Ok((StatusFilter::All, Some(own))),
    }
}

/// [`program_query`] with its own default and largest `limit`.
pub(super) fn program_query_up_to(
    params: &Params,
    business_mirrored: bool,
    default_limit: u64,
    max_limit: u64,
) -> ApiResult<ProgramQuery> {
    let (status, program_status) = status_filter(params)?;
    // The replaced system read `program_type=ALL` and `business_id=all` as no filter.
    let program_type = match params
        .get("program_type")
        .filter(|t| !t.eq_ignore_ascii_case("ALL"))
    {
        None => None,
        Some(t) => {
            let parsed = ProgramType::from_wire(t);
            if !parsed.is_known() {
                let known: Vec<&str> = ProgramType::KNOWN.iter().map(ProgramType::as_str).collect();
                return Err(ApiError::field(
                    "program_type",
                    format!(
                        "program_type '{}' is not one of {}",
                        shorten(t),
                        known.join(", ")
                    ),
                ));
            }
            Some(parsed.as_str().to_owned())
        }
    };
    let business_id = params
        .get("business_id")
        .filter(|b| !b.eq_ignore_ascii_case("all"))
        .map(|b| match BusinessId::parse(b) {
            Ok(id) => Ok(id.into_string()),
            Err(_) if business_mirrored => Ok(b.to_owned()),
            Err(e) => Err(ApiError::field("business_id", e.to_string())),
        })
        .transpose()?;
    let search = params.get("search").map(str::trim).map(str::to_owned);
    if search.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(ApiError::field(
            "search",
            "search must be at most 100 characters",
        ));
    }
    // `sort=start_date&order=desc`, or `sort=-start_date`.
    let (sort, mut descending) = match params.get("sort") {
        None => (SortColumn::StartDate, true),
        Some(s) => match s.strip_prefix('-') {
            Some(column) => (
                column
                    .parse()
                    .map_err(|e: crate::Error| ApiError::field("sort", e.to_string()))?,
                true,
            ),
            None => (
                s.parse()
                    .map_err(|e: crate::Error| ApiError::field("sort", e.to_string()))?,
                false,
            ),
        },
    };
    match params.get("order").map(str::to_ascii_lowercase).as_deref() {
        None => {}
        Some("asc") => descending = false,
        Some("desc") => descending = true,
        Some(other) => {
            return Err(ApiError::field(
                "order",
                format!("order must be asc or desc, not '{}'", shorten(other)),
            ));
        }
    }
    Ok(ProgramQuery {
        status,
        program_status,
        program_type,
        business_id,
        search: search.filter(|s| !s.is_empty()),
        include_removed: params.flag("include_removed")?,
        sort,
        descending,
        offset: params
            .number("offset", 0..=u64::from(u32::MAX))?
            .unwrap_or(0),
        limit: u32::try_from(
            params
                .number("limit", 1..=max_limit)?
                .unwrap_or(default_limit),
        )
        .unwrap_or(50),
        today: Utc::now().date_naive(),
    })
}

/// A page of a program list.
#[derive(Serialize)]
struct ListBody {
    /// Whether the page holds every matching program.
    loaded_all: bool,
    programs: Vec<ProgramItem>,
    total_count: u64,
    offset: u64,
    limit: u32,
}

/// `GET /api/reseller/programs`: filters `status` (or `program_status`), `program_type`, `business_id`,
/// `search`, `include_removed`; `sort` (+ `order`); `offset`/`limit` (≤ 500); `all=true` for up to
/// 10,000 programs in one streamed answer.
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> ApiResult<Response> {
    params.only(LIST_PARAMS)?;
    let mirrored = business_mirrored(&state, user.workspace_id(), &params).await?;
    if params.flag("all")? {
        let query =
            program_query_up_to(&params, mirrored, full_list::MAX_ROWS, full_list::MAX_ROWS)?;
        return full_list::answer(&state, user.workspace_id(), query).await;
    }
    let query = program_query(&params, mirrored)?;
    // The body depends only on the mirror's version and the query: a view many people page through is
    // built once per change of the mirror.
    let version = state.store.mirror_version(user.workspace_id()).await?;
    let key = format!("{}\n{query:?}", user.workspace_id());
    let body = match state.list_bodies.get(&key, version) {
        Some(body) => body,
        None => {
            let listing = state
                .store
                .list_programs(user.workspace_id(), &query)
                .await?;
            let programs = program_items(&state, user.workspace_id(), listing.programs).await?;
            let body = ListBody {
                loaded_all: query.offset == 0 && programs.len() as u64 == listing.total_count,
                programs,
                total_count: listing.total_count,
                offset: query.offset,
                limit: query.limit,
            };
            let bytes = Bytes::from(serde_json::to_vec(&body).map_err(ApiError::internal)?);
            state.list_bodies.put(key, version, bytes.clone());
            bytes
        }
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `GET /api/reseller/program_info/{program_id}`: one mirrored program in Yelp's shape for program info,
/// `{"programs": [program], "errors": []}`; 404 unless it is the workspace's.
async fn program_info(
    State(state): State<AppState>,
    user: CurrentUser,
    PathParam(program_id): PathParam,
) -> ApiResult<Json<Value>> {
    let program = state
        .store
        .program_by_given_id(user.workspace_id(), &program_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("program {program_id} not found")))?;
    let programs = program_items(&state, user.workspace_id(), vec![program]).await?;
    Ok(Json(json!({"programs": programs, "errors": []})))
}

#[cfg(test)]
mod fuzz {
    //! Property tests of the list's query parser: any query string is parsed or refused naming a
    //! parameter, and what is accepted stays within the list's bounds.

    use std::collections::HashMap;

    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    use super::*;

    const NAMES: &[&str] = &[
        "status",
        "program_status",
        "program_type",
        "business_id",
        "search",
        "include_removed",
        "sort",
        "order",
        "offset",
        "limit",
    ];

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(
                &[
                    "ALL",
                    "CURRENT",
                    "PAST",
                    "FUTURE",
                    "PAUSED",
                    "ACTIVE",
                    "inactive",
                    "all",
                    "CPC",
                    "EP",
                    "budget",
                    "-budget",
                    "start_date",
                    "-",
                    "asc",
                    "DESC",
                    "true",
                    "no",
                    "0",
                    "1",
                    "500",
                    "501",
                    "4294967295",
                    "4294967296",
                    "-1",
                    "Zr5TgH2nKp8QwXy1LmN0bA",
                    "",
                ][..]
            )
            .prop_map(str::to_owned),
            "[0-9]{1,25}",
            ".{0,120}",
        ]
    }

    fn check(params: &Params) -> Result<(), TestCaseError> {
        match program_query(params, false) {
            Ok(query) => {
                prop_assert!((1..=MAX_LIMIT).contains(&u64::from(query.limit)));
                prop_assert!(query.offset <= u64::from(u32::MAX));
                prop_assert!(
                    query
                        .search
                        .as_ref()
                        .is_none_or(|s| s.chars().count() <= 100)
                );
            }
            Err(ApiError::BadRequest { field, message }) => {
                prop_assert!(field.is_some_and(|f| NAMES.contains(&f.as_str())));
                prop_assert!(!message.is_empty());
            }
            Err(other) => prop_assert!(false, "unexpected error: {other:?}"),
        }
        Ok(())
    }

    #[test]
    fn any_query_is_parsed_within_bounds_or_refused_naming_its_parameter() {
        let name = prop_oneof![
            4 => prop::sample::select(NAMES).prop_map(str::to_owned),
            1 => ".{0,10}",
        ];
        let params = prop::collection::vec((name, value()), 0..10);
        TestRunner::new(Config {
            cases: 1024,
            failure_persistence: None,
            ..Config::default()
        })
        .run(&params, |pairs| {
            check(&Params(pairs.into_iter().collect::<HashMap<_, _>>()))
        })
        .unwrap();
    }

    #[test]
    fn any_raw_query_string_is_parsed_or_refused_without_a_panic() {
        let raw = prop_oneof![".{0,200}", "([a-z_]{1,16}=[-%0-9A-Za-z+&=.]{0,20}&?){0,8}"];
        TestRunner::new(Config {
            cases: 1024,
            failure_persistence: None,
            ..Config::default()
        })
        .run(&raw, |raw| {
            let pairs = url::form_urlencoded::parse(raw.as_bytes()).into_owned();
            check(&Params(pairs.collect()))
        })
        .unwrap();
    }
}
