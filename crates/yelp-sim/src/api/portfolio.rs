//! Portfolio projects and photos (§4.10): `/program/{program_id}/portfolio/...`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::features::{parse_body, program_not_found};
use crate::error::ApiError;
use crate::features::unsupported;
use crate::model::FeatureType;
use crate::portfolio::{self, Project};
use crate::seed;
use crate::state::{SimState, World};

fn project_not_found(project_id: &str) -> ApiError {
    ApiError::NotFound {
        id: "PROJECT_NOT_FOUND",
        description: format!("Portfolio project {project_id} does not exist in this program."),
    }
}

/// Checks that the program exists and has the portfolio feature.
fn portfolio_program(world: &World, program_id: &str) -> Result<(), ApiError> {
    let program = world
        .programs
        .get(program_id)
        .ok_or_else(program_not_found)?;
    if program
        .available_features
        .contains(&FeatureType::YelpPortfolio)
    {
        Ok(())
    } else {
        Err(unsupported(format!(
            "YELP_PORTFOLIO is not available for this {} program",
            program.program_type
        ))
        .into())
    }
}

fn with_project<R>(
    state: &SimState,
    program_id: &str,
    project_id: &str,
    f: impl FnOnce(&mut World, &mut Project) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    state.with_world(|w| {
        portfolio_program(w, program_id)?;
        // Taken out for the call so that `f` may draw ids from the world's generator.
        let mut project = w
            .portfolios
            .project(program_id, project_id)
            .cloned()
            .ok_or_else(|| project_not_found(project_id))?;
        let answer = f(w, &mut project)?;
        if let Some(kept) = w.portfolios.project_mut(program_id, project_id) {
            *kept = project;
        }
        Ok(answer)
    })
}

/// `POST /program/{pid}/portfolio/v1`: a new draft, `{project_id}`.
pub(crate) async fn create(
    State(state): State<SimState>,
    Path(program_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.with_world(|w| {
        portfolio_program(w, &program_id)?;
        let project_id = seed::new_id(&mut w.rng);
        w.portfolios.create(&program_id, project_id.clone());
        Ok(Json(json!({ "project_id": project_id })))
    })
}

/// `GET /program/{pid}/portfolio/{project_id}/v1`.
pub(crate) async fn show(
    State(state): State<SimState>,
    Path((program_id, project_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    with_project(&state, &program_id, &project_id, |_, p| Ok(Json(p.view())))
}

/// `PUT /program/{pid}/portfolio/{project_id}/v1`: writes the fields given; answers the project.
pub(crate) async fn update(
    State(state): State<SimState>,
    Path((program_id, project_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = parse_body(&body);
    with_project(&state, &program_id, &project_id, |w, project| {
        let fields = portfolio::check_details(&body?, w.today())?;
        project.set(fields);
        Ok(Json(project.view()))
    })
}

/// `DELETE /program/{pid}/portfolio/{project_id}/v1`: 204.
pub(crate) async fn remove(
    State(state): State<SimState>,
    Path((program_id, project_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.with_world(|w| {
        portfolio_program(w, &program_id)?;
        if w.portfolios.remove(&program_id, &project_id) {
            Ok(StatusCode::NO_CONTENT)
        } else {
            Err(project_not_found(&project_id))
        }
    })
}

/// `GET /program/{pid}/portfolio/{project_id}/photos/v1`: an array of photos.
pub(crate) async fn photos(
    State(state): State<SimState>,
    Path((program_id, project_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    with_project(&state, &program_id, &project_id, |_, p| {
        Ok(Json(p.photos()))
    })
}

/// `POST /program/{pid}/portfolio/{project_id}/photos/v1`: `{photo_id}`.
pub(crate) async fn add_photo(
    State(state): State<SimState>,
    Path((program_id, project_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = parse_body(&body);
    with_project(&state, &program_id, &project_id, |w, project| {
        let photo = portfolio::check_photo(&body?)?;
        let photo_id = seed::new_id(&mut w.rng);
        project.add_photo(photo_id.clone(), photo);
        Ok(Json(json!({ "photo_id": photo_id })))
    })
}

/// `DELETE /program/{pid}/portfolio/{project_id}/photos/{photo_id}/v1`: 204.
pub(crate) async fn remove_photo(
    State(state): State<SimState>,
    Path((program_id, project_id, photo_id)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    with_project(&state, &program_id, &project_id, |_, project| {
        if project.remove_photo(&photo_id) {
            Ok(StatusCode::NO_CONTENT)
        } else {
            Err(ApiError::NotFound {
                id: "PHOTO_NOT_FOUND",
                description: format!("Photo {photo_id} does not exist in this project."),
            })
        }
    })
}
