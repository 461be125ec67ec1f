//! `/businesses`: the workspace's businesses by name, with city, programs, budget, spend and Yelp's flags;
//! searchable, sortable and paged through the query string (the API's names), so it works without JS.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::filters;
use super::{Layout, Page, PageUser};
use crate::store::{BusinessOverview, BusinessQuery, BusinessSort};
use crate::web::AppState;
use crate::web::error::PageResult;
use crate::web::extract::Params;
use crate::web::params::business_query;
use crate::web::view::url_part;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/businesses", get(list))
}

/// A column heading that sorts by it.
struct Heading {
    label: &'static str,
    url: String,
    aria_sort: &'static str,
    numeric: bool,
}

#[derive(Template)]
#[template(path = "businesses.html")]
struct BusinessesPage {
    layout: Layout,
    search: String,
    total: u64,
    headings: Vec<Heading>,
    rows: Vec<BusinessOverview>,
    page: u64,
    prev_url: Option<String>,
    next_url: Option<String>,
}

/// The page's URL for a query, changed by `sort`/`order`/`offset`.
fn url(q: &BusinessQuery, sort: BusinessSort, descending: bool, offset: u64) -> String {
    let name = BusinessSort::NAMES
        .iter()
        .find(|(_, s)| *s == sort)
        .map_or("name", |(n, _)| *n);
    let mut url = format!(
        "/businesses?sort={name}&order={}",
        if descending { "desc" } else { "asc" }
    );
    if let Some(search) = q.search.as_deref().filter(|s| !s.is_empty()) {
        url.push_str(&format!("&search={}", url_part(search)));
    }
    if offset > 0 {
        url.push_str(&format!("&offset={offset}"));
    }
    if q.limit != crate::web::params::DEFAULT_LIMIT {
        url.push_str(&format!("&limit={}", q.limit));
    }
    url
}

/// `GET /businesses?search=&sort=&order=&offset=&limit=`.
async fn list(
    State(state): State<AppState>,
    user: PageUser,
    params: Params,
) -> PageResult<Response> {
    let q = business_query(&params)?;
    let found = state.store.businesses_page(user.workspace_id(), &q).await?;
    let columns: [(&'static str, BusinessSort, bool); 5] = [
        ("Business", BusinessSort::Name, false),
        ("City", BusinessSort::City, false),
        ("Programs live / current", BusinessSort::Programs, true),
        ("Monthly budget (current CPC)", BusinessSort::Budget, true),
        ("Spend this period", BusinessSort::Spend, true),
    ];
    let headings = columns
        .into_iter()
        .map(|(label, sort, numeric)| {
            let sorted = q.sort == sort;
            Heading {
                label,
                // A second click on the sorted column turns its order; a first one sorts figures largest
                // first and words from A.
                url: url(&q, sort, if sorted { !q.descending } else { numeric }, 0),
                aria_sort: match (sorted, q.descending) {
                    (false, _) => "none",
                    (true, false) => "ascending",
                    (true, true) => "descending",
                },
                numeric,
            }
        })
        .collect();
    let shown = found.businesses.len() as u64;
    let page = BusinessesPage {
        layout: user.layout(&state, "businesses").await?,
        search: q.search.clone().unwrap_or_default(),
        total: found.total_count,
        headings,
        page: q.offset / q.limit + 1,
        prev_url: (q.offset > 0)
            .then(|| url(&q, q.sort, q.descending, q.offset.saturating_sub(q.limit))),
        next_url: (q.offset + shown < found.total_count)
            .then(|| url(&q, q.sort, q.descending, q.offset + q.limit)),
        rows: found.businesses,
    };
    Ok(Page(page).into_response())
}
