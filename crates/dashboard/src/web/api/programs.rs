//! Programs from the mirror; never from Yelp.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{Value, json};

use super::full_list;
use super::program_item::{ProgramItem, program_items};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{Params, PathParam};
use crate::web::params::{
    LIST_FILTERS, LIST_PAGE, LIST_SORT, business_mirrored, program_query, program_query_up_to,
};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/reseller/programs", get(list))
        .route("/api/reseller/program_info/{program_id}", get(program_info))
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
    params.only_of(&[LIST_FILTERS, LIST_SORT, LIST_PAGE, &["all"]])?;
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
    use crate::web::params::MAX_LIMIT;

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
