//! What a bulk request (a change set, a schedule) selects and does: `program_ids` or a list `filter`, and
//! an `operation`, read the one way for both.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::change_sets::operation::{Operation, OperationDraft};
use crate::jobs::draft::Loose;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::Params;
use crate::web::params::{LIST_FILTERS, business_mirrored, program_query};

/// The ids selected: `program_ids`, or every program `filter` matches, in the list's default order.
pub(super) async fn program_ids(
    state: &AppState,
    user: &CurrentUser,
    program_ids: Option<Loose<Vec<String>>>,
    filter: Option<Loose<Map<String, Value>>>,
) -> ApiResult<Vec<String>> {
    match (program_ids, filter) {
        (Some(Loose::Given(ids)), None) => Ok(ids),
        (Some(Loose::Other(_)), None) => Err(ApiError::field(
            "program_ids",
            "program_ids must be a list of program ids",
        )),
        (None, Some(Loose::Given(filter))) => {
            let mut params = HashMap::new();
            for (name, value) in filter {
                let text = match value {
                    Value::String(s) => s,
                    Value::Bool(b) => b.to_string(),
                    Value::Number(n) => n.to_string(),
                    _ => {
                        return Err(ApiError::field(
                            &format!("filter.{name}"),
                            format!("filter.{name} must be text, as in the list's query string"),
                        ));
                    }
                };
                params.insert(name, text);
            }
            let params = Params(params);
            params.only(LIST_FILTERS)?;
            let mirrored = business_mirrored(state, user.workspace_id(), &params).await?;
            let query = program_query(&params, mirrored)?;
            let ids = state
                .store
                .program_view(user.workspace_id(), &query)
                .await?;
            Ok(ids.as_ref().clone())
        }
        (None, Some(Loose::Other(_))) => Err(ApiError::field(
            "filter",
            "filter must be an object of the list's filters, such as {\"status\": \"CURRENT\"}",
        )),
        (Some(_), Some(_)) => Err(ApiError::field(
            "program_ids",
            "Give program_ids or filter, not both",
        )),
        (None, None) => Err(ApiError::field(
            "program_ids",
            "Give program_ids (a list) or filter (the list's filters) to select the programs",
        )),
    }
}

/// The operation of a body, checked.
pub(super) fn operation(value: Option<Value>) -> ApiResult<Operation> {
    match value {
        Some(value @ Value::Object(_)) => Ok(serde_json::from_value::<OperationDraft>(value)
            .map_err(|e| ApiError::field("operation", format!("operation: {e}")))?
            .parse()?),
        _ => Err(ApiError::field(
            "operation",
            "operation is required: {\"kind\": …, \"value\": …}",
        )),
    }
}

/// Refuses the first field a body does not have.
pub(super) fn refuse_unknown(unknown: &HashMap<String, Value>, what: &str) -> ApiResult<()> {
    match unknown.keys().next() {
        Some(name) => Err(ApiError::field(
            name,
            format!("{name} is not a field of {what}"),
        )),
        None => Ok(()),
    }
}
