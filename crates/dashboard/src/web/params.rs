//! The query parameters both faces read (the programs list and the job history), parsed into the store's
//! queries; every error names its parameter. `web/api` and `web/pages` both use this module.

use chrono::Utc;
use yelp_partner_api::{
    BusinessId, FeatureType, ProgramId, ProgramStatus, ProgramType, StatusFilter,
};

use crate::store::{
    AuditAction, AuditFilter, BusinessQuery, BusinessSort, HistoryEntry, HistoryField,
    HistoryFilter, HistorySource, JobFilter, JobStatus, JobType, ProgramQuery, SortColumn, now_ms,
};
use crate::web::AppState;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{Params, shorten};

/// The program list's filters, as every endpoint over a selection of programs takes them (`program_status`
/// is the replaced system's name for `status`).
pub(crate) const LIST_FILTERS: &[&str] = &[
    "status",
    "program_status",
    "program_type",
    "business_id",
    "search",
    "active_feature",
    "include_removed",
];

/// The program list's sort.
pub(crate) const LIST_SORT: &[&str] = &["sort", "order"];

/// The program list's page.
pub(crate) const LIST_PAGE: &[&str] = &["offset", "limit"];

/// Default and largest page of a program list.
pub(crate) const DEFAULT_LIMIT: u64 = 50;
pub(crate) const MAX_LIMIT: u64 = 500;

/// Whether `params`' `business_id` is outside Yelp's usual alphabet but held as given by the workspace's
/// mirror (such ids are accepted as they are).
pub(crate) async fn business_mirrored(
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

/// The programs page's business filter typed as text (without the script's picker, or a name typed in
/// full): a `business_id` that is not a business of the workspace's mirror is taken from `params` and
/// answered as part of a business name.
pub(crate) async fn business_text(
    state: &AppState,
    workspace_id: &str,
    params: &mut Params,
) -> ApiResult<Option<String>> {
    let Some(given) = params.get("business_id").map(str::to_owned) else {
        return Ok(None);
    };
    // An id is what the mirror knows as one; a word such as "Plumbing" is of the ids' alphabet too.
    if given.eq_ignore_ascii_case("all")
        || (crate::store::could_be_mirrored(&given)
            && state.store.business_known(workspace_id, &given).await?)
    {
        return Ok(None);
    }
    if given.chars().count() > 100 {
        return Err(ApiError::field(
            "business_id",
            "a business name to look for must be at most 100 characters",
        ));
    }
    params.0.remove("business_id");
    Ok(Some(given.trim().to_owned()))
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
pub(crate) fn program_query_up_to(
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
    let active_feature = params
        .get("active_feature")
        .map(|f| {
            let parsed = FeatureType::from_wire(&f.trim().to_ascii_uppercase());
            if parsed.is_known() {
                Ok(parsed.as_str().to_owned())
            } else {
                let known: Vec<&str> = FeatureType::KNOWN.iter().map(FeatureType::as_str).collect();
                Err(ApiError::field(
                    "active_feature",
                    format!(
                        "active_feature '{}' is not one of {}",
                        shorten(f),
                        known.join(", ")
                    ),
                ))
            }
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
    if let Some(order) = order(params)? {
        descending = order;
    }
    Ok(ProgramQuery {
        status,
        program_status,
        program_type,
        business_id,
        business_name: None,
        search: search.filter(|s| !s.is_empty()),
        active_feature,
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

/// Parses a job history's query string (`days`, `status`, `job_type`, `program_id`, `limit`); every error
/// names its parameter. The jobs page reads the same names.
pub(crate) fn job_filter(params: &Params) -> ApiResult<JobFilter> {
    let days = params.number("days", 1..=365)?.unwrap_or(7);
    let (status, yelp_status) = match params.get("status").map(str::to_ascii_uppercase) {
        // ALL is the replaced system's "no filter".
        None => (None, None),
        Some(s) if s == "ALL" => (None, None),
        Some(s) if JobStatus::parse(&s).is_some() => (JobStatus::parse(&s), None),
        // The replaced system's job statuses were Yelp's: PROCESSING is our IN_PROGRESS, and REJECTED
        // the failed jobs that Yelp refused.
        Some(s) if s == "PROCESSING" => (Some(JobStatus::InProgress), None),
        Some(s) if s == "REJECTED" => (Some(JobStatus::Failed), Some(s)),
        Some(s) => {
            return Err(ApiError::field(
                "status",
                format!(
                    "status must be ALL, PENDING, IN_PROGRESS, COMPLETED or FAILED (or PROCESSING, REJECTED), \
                     not '{}'",
                    shorten(&s)
                ),
            ));
        }
    };
    let job_type = match params.get("job_type") {
        None => None,
        Some(t) => match JobType::parse(t) {
            Some(k) => Some(k),
            None => {
                let known: Vec<&str> = JobType::ALL.iter().map(|k| k.as_str()).collect();
                return Err(ApiError::field(
                    "job_type",
                    format!(
                        "job_type must be one of {}, not '{}'",
                        known.join(", "),
                        shorten(t)
                    ),
                ));
            }
        },
    };
    let program_id = params
        .get("program_id")
        .map(|p| {
            ProgramId::parse(p)
                .map(ProgramId::into_string)
                .map_err(|e| ApiError::field("program_id", e.to_string()))
        })
        .transpose()?;
    let limit = params.number("limit", 1..=500)?.unwrap_or(100);
    Ok(JobFilter {
        since: now_ms() - i64::try_from(days).unwrap_or(7) * 86_400_000,
        status,
        yelp_status,
        job_type,
        program_id,
        limit: u32::try_from(limit).unwrap_or(100),
    })
}

/// `order=asc|desc` as "descending", when given.
fn order(params: &Params) -> ApiResult<Option<bool>> {
    match params.get("order").map(str::to_ascii_lowercase).as_deref() {
        None => Ok(None),
        Some("asc") => Ok(Some(false)),
        Some("desc") => Ok(Some(true)),
        Some(other) => Err(ApiError::field(
            "order",
            format!("order must be asc or desc, not '{}'", shorten(other)),
        )),
    }
}

/// Largest page of a businesses list.
pub(crate) const MAX_BUSINESS_LIMIT: u64 = 200;

/// The parameters of a businesses list: `search`, `sort` (name, city, programs, budget, spend), `order`,
/// `offset`, `limit` (at most 200); any other is refused.
pub(crate) fn business_query(params: &Params) -> ApiResult<BusinessQuery> {
    params.only(&["search", "sort", "order", "offset", "limit"])?;
    let search = params.get("search").map(str::to_owned);
    if search.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(ApiError::field(
            "search",
            "search must be at most 100 characters",
        ));
    }
    let sort = match params.get("sort") {
        None => BusinessSort::Name,
        Some(name) => BusinessSort::parse(name).ok_or_else(|| {
            let names: Vec<&str> = BusinessSort::NAMES.iter().map(|(n, _)| *n).collect();
            ApiError::field(
                "sort",
                format!(
                    "sort must be one of {}, not '{}'",
                    names.join(", "),
                    shorten(name)
                ),
            )
        })?,
    };
    Ok(BusinessQuery {
        search,
        business_id: None,
        sort,
        // Figures read largest first, names and cities from A.
        descending: order(params)?.unwrap_or(matches!(
            sort,
            BusinessSort::Programs | BusinessSort::Budget | BusinessSort::Spend
        )),
        offset: params
            .number("offset", 0..=u64::from(u32::MAX))?
            .unwrap_or(0),
        limit: params
            .number("limit", 1..=MAX_BUSINESS_LIMIT)?
            .unwrap_or(DEFAULT_LIMIT),
        today: Utc::now().date_naive(),
    })
}

/// The filters of a history list (`program_id`, `business_id`, `field`, `source`, `user`, `job_id`, `since`,
/// `until`, `before`, `limit` up to `largest`).
pub(crate) fn history_filter(params: &Params, largest: u32) -> ApiResult<HistoryFilter> {
    params.only(&[
        "program_id",
        "business_id",
        "field",
        "source",
        "user",
        "job_id",
        "since",
        "until",
        "before",
        "limit",
    ])?;
    let field = match params.get("field") {
        None => None,
        Some(name) => Some(HistoryField::parse(name).ok_or_else(|| {
            let known: Vec<&str> = HistoryField::ALL.iter().map(|f| f.as_str()).collect();
            ApiError::field(
                "field",
                format!("field must be one of {}", known.join(", ")),
            )
        })?),
    };
    let source = match params.get("source") {
        None => None,
        Some(name) => Some(HistorySource::parse(name).ok_or_else(|| {
            let known: Vec<&str> = HistorySource::ALL.iter().map(|s| s.as_str()).collect();
            ApiError::field(
                "source",
                format!("source must be one of {}", known.join(", ")),
            )
        })?),
    };
    let text = |name: &str| {
        params
            .get(name)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    Ok(HistoryFilter {
        program_id: text("program_id"),
        business_id: text("business_id"),
        field,
        source,
        actor: text("user"),
        job_id: text("job_id"),
        since: day_or_time(params, "since")?,
        until: day_or_time(params, "until")?,
        before: match text("before") {
            None => None,
            Some(cursor) => Some(HistoryEntry::parse_cursor(&cursor).ok_or_else(|| {
                ApiError::field("before", "before must be the next_before of a page")
            })?),
        },
        limit: u32::try_from(
            params
                .number("limit", 1..=u64::from(largest))?
                .unwrap_or(100),
        )
        .unwrap_or(100),
    })
}

/// A day (`YYYY-MM-DD`, its start in UTC) or a time (RFC 3339), as unix ms.
pub(crate) fn day_or_time(params: &Params, name: &str) -> ApiResult<Option<i64>> {
    let Some(text) = params.get(name).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if let Ok(day) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis()));
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| Some(t.timestamp_millis()))
        .map_err(|_| {
            ApiError::field(
                name,
                format!("{name} must be a day (YYYY-MM-DD) or a time in ISO 8601"),
            )
        })
}

/// The filters of the audit log (`action`, `actor`, `since`, `until`, `offset`, `limit` up to `largest`).
pub(crate) fn audit_filter(params: &Params, largest: u32) -> ApiResult<AuditFilter> {
    params.only(&["action", "actor", "since", "until", "offset", "limit"])?;
    let action = match params.get("action") {
        None => None,
        Some(name) => Some(AuditAction::parse(name).ok_or_else(|| {
            let known: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
            ApiError::field(
                "action",
                format!("action must be one of {}", known.join(", ")),
            )
        })?),
    };
    Ok(AuditFilter {
        action,
        actor: params.get("actor").map(str::to_owned),
        since: day_or_time(params, "since")?,
        until: day_or_time(params, "until")?,
        offset: u32::try_from(
            params
                .number("offset", 0..=u64::from(u32::MAX))?
                .unwrap_or(0),
        )
        .unwrap_or(0),
        limit: u32::try_from(
            params
                .number("limit", 1..=u64::from(largest))?
                .unwrap_or(100),
        )
        .unwrap_or(100),
    })
}
