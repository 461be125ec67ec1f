//! `GET /api/reseller/programs?all=true`: every matching program in one answer, as the replaced system's
//! frontend asks once a list reaches 500 programs. Bounded at [`MAX_ROWS`] programs, which the answer
//! states, and streamed a chunk of programs at a time, so that neither end holds more than a chunk's rows
//! being read and written.

use std::ops::Range;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::json;

use super::program_item::ProgramItem;
use crate::store::ProgramQuery;
use crate::web::AppState;
use crate::web::error::{ApiError, ApiResult};

/// The most programs one `all=true` answer holds (and its default `limit`).
pub(super) const MAX_ROWS: u64 = 10_000;

/// Programs read and written per chunk of the body.
const CHUNK: usize = 500;

/// Chunks read ahead of the one being sent: the database reads the next while this one is written out.
const READ_AHEAD: usize = 2;

/// The programs with these ids, in order, as the array's items separated by commas.
async fn chunk(
    state: AppState,
    workspace_id: String,
    ids: Arc<Vec<String>>,
    range: Range<usize>,
) -> ApiResult<Vec<u8>> {
    let programs = state
        .store
        .labeled_programs_in_order(&workspace_id, &ids[range.clone()])
        .await?;
    let mut bytes = Vec::with_capacity(range.len() * 1024);
    for (i, (program, labels)) in programs.into_iter().enumerate() {
        if i > 0 {
            bytes.push(b',');
        }
        serde_json::to_writer(&mut bytes, &ProgramItem::new(program, labels))
            .map_err(ApiError::internal)?;
    }
    Ok(bytes)
}

/// Streams the programs `query` matches from its offset, at most its limit (≤ [`MAX_ROWS`]), headed by
/// `total_count`, `offset`, `limit` and `loaded_all` (whether the answer holds every matching program),
/// and a `warning` when it does not.
pub(super) async fn answer(
    state: &AppState,
    workspace_id: &str,
    query: ProgramQuery,
) -> ApiResult<Response> {
    let ids = state.store.program_view(workspace_id, &query).await?;
    let total = ids.len();
    let start = usize::try_from(query.offset)
        .unwrap_or(usize::MAX)
        .min(total);
    let end = start.saturating_add(query.limit as usize).min(total);
    let loaded_all = start == 0 && end == total;
    let mut head = json!({
        "total_count": total,
        "offset": query.offset,
        "limit": query.limit,
        "loaded_all": loaded_all,
    });
    if !loaded_all {
        head["warning"] = json!(format!(
            "This answer holds programs {} to {} of {total}; all=true answers at most {MAX_ROWS} \
             programs, so ask for the rest with offset.",
            (start + 1).min(end),
            end
        ));
    }
    // The head's fields, then the programs' array, which the chunks fill; the closing brackets last.
    let mut opening = serde_json::to_vec(&head).map_err(ApiError::internal)?;
    opening.pop();
    opening.extend_from_slice(b",\"programs\":[");
    let ranges: Vec<Range<usize>> = (start..end)
        .step_by(CHUNK)
        .map(|from| from..(from + CHUNK).min(end))
        .collect();
    let (state, workspace_id) = (state.clone(), workspace_id.to_owned());
    let mut wrote_any = false;
    let items = futures::stream::iter(ranges)
        .map(move |range| chunk(state.clone(), workspace_id.clone(), ids.clone(), range))
        .buffered(READ_AHEAD)
        .map(move |read| match read {
            Ok(mut bytes) => {
                // Chunks after the first that hold programs follow a comma.
                if wrote_any && !bytes.is_empty() {
                    bytes.insert(0, b',');
                }
                wrote_any |= !bytes.is_empty();
                Ok(Bytes::from(bytes))
            }
            // The status and the first programs are sent already: ending the body with an error cuts
            // the connection, so the client sees a broken answer, never a short one that parses. The
            // cause was logged where it became an `ApiError`.
            Err(_) => Err(std::io::Error::other("reading the programs failed")),
        });
    let body = futures::stream::once(async move { Ok(Bytes::from(opening)) })
        .chain(items)
        .chain(futures::stream::once(async {
            Ok(Bytes::from_static(b"]}"))
        }));
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(body),
    )
        .into_response())
}
