//! `/program-features/{program_id}`: every feature the program offers, as Yelp holds it now, each with a
//! plain form that sets it or turns it off. A form posts one feature type; the same rules as the API's are
//! checked before Yelp sees anything, and the page shows what Yelp holds afterwards. Works without
//! JavaScript; `features.js` adds live counters and checks.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use yelp_partner_api::{
    AdGoal, AdGoalSetting, AdScheduling, BusinessHighlights, BusinessId, BusinessLocations,
    BusinessLogo, CallTracking, CustomAdPhoto, CustomAdText, CustomLocationTargeting,
    CustomRadiusTargeting, Feature, FeatureChanges, FeatureEntry, FeatureType, License,
    LinkTracking, MeteredPhone, NegativeKeywordTargeting, PortfolioPhoto, PortfolioProject,
    ProgramFeatures, ProjectCallToAction, ProjectCost, ProjectDetails, ProjectDuration,
    ProjectState, StrictCategoryTargeting, VerifiedLicense, YelpPortfolio,
};

use super::{FormFields, Layout, Page, PageForm, PageUser, see_other, url_part};
use crate::error::Error;
use crate::features::rules::{
    AD_TEXT_MAX_CHARS, AD_TEXT_MIN_CHARS, MAX_RADIUS_MILES, MIN_RADIUS_MILES,
};
use crate::features::{PhotoDraft, words};
use crate::store::StoredProgram;
use crate::web::AppState;
use crate::web::error::{ApiError, PageResult};
use crate::web::extract::{Params, PathParam};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/program-features/{program_id}", get(page).post(submit))
        .route("/program-features/{program_id}/portfolio", post(portfolio))
}

/// One feature's form: what Yelp holds, what the fields show, and what is wrong with them.
struct FeatureForm {
    /// The type as Yelp spells it (the form's `feature_type`).
    code: String,
    /// Its name for people.
    label: String,
    /// Whether the program has it switched on.
    active: bool,
    /// Its setting in words.
    now: Option<String>,
    /// Whether this page has a form for it (the others are shown as Yelp holds them).
    editable: bool,
    /// Text fields by name, as Yelp holds them or as typed.
    values: Vec<(&'static str, String)>,
    /// Checkboxes checked, by name.
    checked: Vec<&'static str>,
    /// Choices of a list of checkboxes (highlights, projects): value, label, checked.
    choices: Vec<(String, String, bool)>,
    /// Keywords Yelp suggests blocking.
    suggested: Vec<String>,
    /// The licenses Yelp holds (VERIFIED_LICENSE).
    licenses: Vec<License>,
    /// What is wrong, by field (`TYPE.field`) or for the whole form.
    errors: Vec<(String, String)>,
}

impl FeatureForm {
    fn value(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn is_checked(&self, name: &str) -> bool {
        self.checked.contains(&name)
    }

    fn error(&self, field: &str) -> Option<&str> {
        let full = format!("{}.{field}", self.code);
        self.errors
            .iter()
            .find(|(f, _)| *f == full)
            .map(|(_, m)| m.as_str())
    }

    /// Errors not shown beside a field (the feature as a whole, Yelp's refusal, a field shown without
    /// its own error line), for the top of the form.
    fn other_errors(&self) -> Vec<&str> {
        let prefix = format!("{}.", self.code);
        self.errors
            .iter()
            .filter(|(f, _)| {
                !f.strip_prefix(&prefix)
                    .is_some_and(|field| INLINE_ERRORS.contains(&field))
            })
            .map(|(_, m)| m.as_str())
            .collect()
    }
}

/// The fields whose errors the template shows beside them.
const INLINE_ERRORS: [&str; 15] = [
    "website",
    "menu",
    "call_to_action",
    "blocked_keywords",
    "businesses",
    "ad_goal",
    "custom_radius",
    "custom_text",
    "custom_review_id",
    "business_logo_url",
    "active_business_highlights",
    "license_number",
    "license_trade",
    "license_issuing_agency",
    "license_expiry_date",
];

#[derive(Template)]
#[template(path = "program_features.html")]
struct FeaturesPage {
    layout: Layout,
    program_id: String,
    program_type: String,
    forms: Vec<FeatureForm>,
    /// The portfolio's projects with their fields and photos (YELP_PORTFOLIO programs).
    projects: Vec<ProjectView>,
    /// Whether the program has a portfolio (YELP_PORTFOLIO is offered).
    has_portfolio: bool,
    /// The choices of a project's fields.
    calls_to_action: Vec<&'static str>,
    costs: Vec<&'static str>,
    durations: Vec<&'static str>,
    /// What was wrong with the last portfolio change.
    portfolio_errors: Vec<String>,
    saved: Option<String>,
    ad_text_min: usize,
    ad_text_max: usize,
    min_radius: f64,
    max_radius: f64,
}

/// A portfolio project as the page shows it.
struct ProjectView {
    project_id: String,
    published: bool,
    name: String,
    description: String,
    call_to_action: String,
    service_offerings: String,
    cost: String,
    duration: String,
    completion_year: String,
    completion_month: String,
    photos: Vec<PortfolioPhoto>,
}

impl ProjectView {
    fn new(
        held: &ProjectState,
        project: Option<PortfolioProject>,
        photos: Vec<PortfolioPhoto>,
    ) -> Self {
        let d = project.map(|p| p.details).unwrap_or_default();
        let text = |v: Option<String>| v.unwrap_or_default();
        Self {
            project_id: held.project_id.to_string(),
            published: held.published,
            name: text(d.name),
            description: text(d.description),
            call_to_action: d
                .call_to_action
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default(),
            service_offerings: d.service_offerings.unwrap_or_default().join(", "),
            cost: d.cost.map(|c| c.as_str().to_owned()).unwrap_or_default(),
            duration: d
                .duration
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default(),
            completion_year: d.completion_year.map(|y| y.to_string()).unwrap_or_default(),
            completion_month: d
                .completion_month
                .map(|m| m.to_string())
                .unwrap_or_default(),
            photos,
        }
    }
}

/// The projects of a portfolio, each read from Yelp with its photos.
async fn projects(
    state: &AppState,
    user: &PageUser,
    program_id: &str,
    features: &ProgramFeatures,
) -> Vec<ProjectView> {
    let Some(portfolio) = features.get::<YelpPortfolio>() else {
        return Vec::new();
    };
    let mut views = Vec::with_capacity(portfolio.projects.len());
    for held in &portfolio.projects {
        let id = held.project_id.as_str();
        // A project Yelp lists but cannot show now is listed all the same, by its id.
        let project = state
            .features
            .project(&user.user, program_id, id)
            .await
            .ok();
        let photos = state
            .features
            .photos(&user.user, program_id, id)
            .await
            .unwrap_or_default();
        views.push(ProjectView::new(held, project, photos));
    }
    views
}

/// The forms of `features`, each filled as Yelp holds it.
fn forms(features: &ProgramFeatures, active: &[FeatureType]) -> Vec<FeatureForm> {
    features
        .entries()
        .map(|(feature_type, entry)| {
            let mut form = FeatureForm {
                code: feature_type.as_str().to_owned(),
                label: feature_type.label().to_owned(),
                active: active.contains(feature_type),
                now: None,
                editable: false,
                values: Vec::new(),
                checked: Vec::new(),
                choices: Vec::new(),
                suggested: Vec::new(),
                licenses: Vec::new(),
                errors: Vec::new(),
            };
            if let FeatureEntry::Known(feature) = entry {
                form.now = words::setting(feature);
                fill(&mut form, feature);
            }
            form
        })
        .collect()
}

/// The fields of `form` as `feature` holds them.
fn fill(form: &mut FeatureForm, feature: &Feature) {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let lines = |items: &[String]| items.join("\n");
    form.editable = true;
    match feature {
        Feature::LinkTracking(f) => {
            form.values = vec![
                ("website", text(&f.website)),
                ("menu", text(&f.menu)),
                ("call_to_action", text(&f.call_to_action)),
            ];
        }
        Feature::NegativeKeywordTargeting(f) => {
            form.values = vec![("blocked_keywords", lines(&f.blocked_keywords))];
            form.suggested.clone_from(&f.suggested_keywords);
        }
        Feature::StrictCategoryTargeting(f) => {
            form.checked = f.enabled.then_some("enabled").into_iter().collect();
        }
        Feature::AdScheduling(f) => {
            form.checked = f
                .uses_opening_hours
                .then_some("uses_opening_hours")
                .into_iter()
                .collect();
        }
        Feature::CustomLocationTargeting(f) => {
            let all: Vec<String> = f
                .businesses
                .iter()
                .flat_map(|b| b.locations.iter().cloned())
                .collect();
            form.values = vec![("locations", lines(&all))];
        }
        Feature::AdGoal(f) => form.values = vec![("ad_goal", f.ad_goal.as_str().to_owned())],
        Feature::CallTracking(f) => {
            form.checked = f.enabled.then_some("enabled").into_iter().collect();
            let number = f
                .businesses
                .iter()
                .find_map(|b| b.metered_phone_number.clone())
                .unwrap_or_default();
            form.values = vec![("metered_phone_number", number)];
        }
        Feature::CustomRadiusTargeting(f) => {
            form.values = vec![(
                "custom_radius",
                f.custom_radius.map(|m| m.to_string()).unwrap_or_default(),
            )];
        }
        Feature::CustomAdText(f) => {
            form.values = vec![
                ("custom_text", text(&f.custom_text)),
                ("custom_review_id", text(&f.custom_review_id)),
            ];
        }
        Feature::CustomAdPhoto(f) => {
            form.values = vec![("custom_photo_id", text(&f.custom_photo_id))];
        }
        Feature::BusinessLogo(f) => {
            form.values = vec![("business_logo_url", text(&f.business_logo_url))];
        }
        Feature::BusinessHighlights(f) => {
            form.choices = f
                .available_business_highlights
                .iter()
                .map(|h| {
                    let on = f.active_business_highlights.contains(h);
                    (h.clone(), h.replace('_', " ").to_lowercase(), on)
                })
                .collect();
        }
        Feature::VerifiedLicense(f) => {
            form.licenses.clone_from(&f.licenses);
            form.values = vec![
                ("license_number", String::new()),
                ("license_trade", String::new()),
                ("license_issuing_agency", String::new()),
                ("license_expiry_date", String::new()),
            ];
        }
        Feature::YelpPortfolio(f) => {
            form.choices = f
                .projects
                .iter()
                .map(|p| {
                    (
                        p.project_id.to_string(),
                        p.project_id.to_string(),
                        p.published,
                    )
                })
                .collect();
        }
        // Deprecated at Yelp: shown, not edited.
        Feature::ServiceOfferingsTargeting(_) => form.editable = false,
    }
}

/// A list typed one per line (or separated by commas).
fn list(text: &str) -> Vec<String> {
    text.split(['\n', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The change a posted form asks for, built over what Yelp holds (`current`) for the fields the form does
/// not show; every field that cannot be read is named.
fn change_of(
    fields: &FormFields,
    feature_type: &FeatureType,
    current: Option<&Feature>,
    business_id: &BusinessId,
) -> Result<Feature, Error> {
    let text = |name: &str| fields.text(name);
    let field_error = |field: &str, message: &str| {
        Error::InvalidFields(vec![(
            format!("{feature_type}.{field}"),
            message.to_owned(),
        )])
    };
    let feature: Feature = match feature_type {
        FeatureType::LinkTracking => LinkTracking {
            website: optional(text("website")),
            menu: optional(text("menu")),
            call_to_action: optional(text("call_to_action")),
        }
        .into(),
        FeatureType::NegativeKeywordTargeting => NegativeKeywordTargeting {
            blocked_keywords: list(text("blocked_keywords")),
            suggested_keywords: Vec::new(),
        }
        .into(),
        FeatureType::StrictCategoryTargeting => StrictCategoryTargeting {
            enabled: fields.has("enabled"),
        }
        .into(),
        FeatureType::AdScheduling => AdScheduling {
            uses_opening_hours: fields.has("uses_opening_hours"),
        }
        .into(),
        FeatureType::CustomLocationTargeting => CustomLocationTargeting {
            businesses: vec![BusinessLocations {
                business_id: business_id.clone(),
                locations: list(text("locations")),
            }],
        }
        .into(),
        FeatureType::AdGoal => AdGoalSetting {
            ad_goal: AdGoal::from_wire(text("ad_goal").trim()),
        }
        .into(),
        FeatureType::CallTracking => CallTracking {
            enabled: fields.has("enabled"),
            businesses: optional(text("metered_phone_number"))
                .map(|number| MeteredPhone {
                    business_id: business_id.clone(),
                    metered_phone_number: Some(number),
                })
                .into_iter()
                .collect(),
        }
        .into(),
        FeatureType::CustomRadiusTargeting => {
            let typed = text("custom_radius").trim();
            let custom_radius = if typed.is_empty() {
                None
            } else {
                Some(
                    typed
                        .parse::<f64>()
                        .ok()
                        .filter(|m| m.is_finite())
                        .ok_or_else(|| {
                            field_error(
                                "custom_radius",
                                "Custom radius must be a number of miles, such as 25",
                            )
                        })?,
                )
            };
            CustomRadiusTargeting { custom_radius }.into()
        }
        FeatureType::CustomAdText => CustomAdText {
            // One paragraph: line breaks typed in the box are spaces in the ad.
            custom_text: optional(&text("custom_text").replace('\n', " ")),
            custom_review_id: optional(text("custom_review_id")),
        }
        .into(),
        FeatureType::CustomAdPhoto => CustomAdPhoto {
            custom_photo_id: optional(text("custom_photo_id")),
        }
        .into(),
        FeatureType::BusinessLogo => BusinessLogo {
            business_logo_url: optional(text("business_logo_url")),
        }
        .into(),
        FeatureType::BusinessHighlights => BusinessHighlights {
            active_business_highlights: fields
                .all("highlight")
                .into_iter()
                .map(str::to_owned)
                .collect(),
            ..BusinessHighlights::default()
        }
        .into(),
        FeatureType::VerifiedLicense => {
            // A form adds one license to those Yelp holds.
            let mut licenses = match current {
                Some(Feature::VerifiedLicense(held)) => held.licenses.clone(),
                _ => Vec::new(),
            };
            let Some(number) = optional(text("license_number")) else {
                return Err(field_error(
                    "license_number",
                    "Give the license number to add",
                ));
            };
            let expiry = match optional(text("license_expiry_date")) {
                None => None,
                Some(date) => Some(date.parse().map_err(|_| {
                    field_error(
                        "license_expiry_date",
                        "The expiry date must be written YYYY-MM-DD",
                    )
                })?),
            };
            licenses.push(License {
                license_number: number,
                license_expiry_date: expiry,
                license_trade: optional(text("license_trade")),
                license_issuing_agency: optional(text("license_issuing_agency")),
                ..License::default()
            });
            VerifiedLicense { licenses }.into()
        }
        FeatureType::YelpPortfolio => {
            let published = fields.all("published");
            let projects = match current {
                Some(Feature::YelpPortfolio(held)) => held
                    .projects
                    .iter()
                    .map(|p| ProjectState {
                        project_id: p.project_id.clone(),
                        published: published.contains(&p.project_id.as_str()),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            YelpPortfolio { projects }.into()
        }
        FeatureType::ServiceOfferingsTargeting | FeatureType::Other(_) => {
            return Err(field_error(
                "feature_type",
                "This feature is not changed from this page",
            ));
        }
    };
    Ok(feature)
}

fn active_of(program: &StoredProgram) -> Vec<FeatureType> {
    serde_json::from_str::<yelp_partner_api::Program>(&program.raw)
        .map(|p| p.active_features)
        .unwrap_or_default()
}

/// What a page shows besides its feature forms.
#[derive(Default)]
struct Extras {
    saved: Option<String>,
    portfolio_errors: Vec<String>,
}

async fn render(
    state: &AppState,
    user: &PageUser,
    program: &StoredProgram,
    status: StatusCode,
    features: &ProgramFeatures,
    forms: Vec<FeatureForm>,
    extras: Extras,
) -> PageResult<Response> {
    let page = FeaturesPage {
        layout: user.layout(state, "programs").await?,
        program_id: program.program_id.clone(),
        program_type: program.program_type.clone(),
        projects: projects(state, user, &program.program_id, features).await,
        has_portfolio: features.entry(&FeatureType::YelpPortfolio).is_some(),
        calls_to_action: ProjectCallToAction::KNOWN
            .iter()
            .map(|v| v.as_str())
            .collect(),
        costs: ProjectCost::KNOWN.iter().map(|v| v.as_str()).collect(),
        durations: ProjectDuration::KNOWN.iter().map(|v| v.as_str()).collect(),
        portfolio_errors: extras.portfolio_errors,
        forms,
        saved: extras.saved,
        ad_text_min: AD_TEXT_MIN_CHARS,
        ad_text_max: AD_TEXT_MAX_CHARS,
        min_radius: MIN_RADIUS_MILES,
        max_radius: MAX_RADIUS_MILES,
    };
    Ok((status, Page(page)).into_response())
}

/// `GET /program-features/{program_id}` (`?saved=TYPE` after a change): the features as Yelp holds them.
async fn page(
    State(state): State<AppState>,
    user: PageUser,
    PathParam(program_id): PathParam,
    params: Params,
) -> PageResult<Response> {
    let program = state.jobs.program(user.workspace_id(), &program_id).await?;
    let features = state
        .features
        .features(&user.user, &program.program_id)
        .await?;
    let saved = params
        .get("saved")
        .map(|t| FeatureType::from_wire(t).label().to_owned());
    let forms = forms(&features, &active_of(&program));
    let extras = Extras {
        saved,
        ..Extras::default()
    };
    render(
        &state,
        &user,
        &program,
        StatusCode::OK,
        &features,
        forms,
        extras,
    )
    .await
}

/// `POST /program-features/{program_id}`: `feature_type` and its fields; `action=off` turns it off. A
/// 303 back to the page, or the page again with what is wrong.
async fn submit(
    State(state): State<AppState>,
    PathParam(program_id): PathParam,
    form: PageForm,
) -> PageResult<Response> {
    let program = form.program_to_change(&state, &program_id).await?;
    let feature_type = FeatureType::from_wire(form.fields.text("feature_type"));
    let business_id = BusinessId::from_yelp(program.business_id.clone().unwrap_or_default());
    let current = state
        .features
        .features(&form.user.user, &program.program_id)
        .await?;
    let outcome = if form.fields.text("action") == "off" {
        state
            .features
            .remove(
                &form.user.user,
                &program.program_id,
                &[feature_type.as_str().to_owned()],
            )
            .await
            .map(drop)
    } else {
        match change_of(
            &form.fields,
            &feature_type,
            current.feature(&feature_type),
            &business_id,
        ) {
            Ok(feature) => state
                .features
                .change(
                    &form.user.user,
                    &program.program_id,
                    &FeatureChanges::new().with(feature),
                )
                .await
                .map(drop),
            Err(e) => Err(e),
        }
    };
    let e = match outcome {
        Ok(()) => {
            return Ok(see_other(&format!(
                "/program-features/{}?saved={}",
                url_part(&program.program_id),
                url_part(feature_type.as_str())
            )));
        }
        Err(e) => ApiError::from(e),
    };
    let (status, errors) = match e {
        ApiError::Fields(fields) => (StatusCode::BAD_REQUEST, fields),
        ApiError::BadRequest { field, message } => (
            StatusCode::BAD_REQUEST,
            vec![(
                field.unwrap_or_else(|| feature_type.as_str().to_owned()),
                message,
            )],
        ),
        other => return Err(other.into()),
    };
    let mut forms = forms(&current, &active_of(&program));
    if let Some(shown) = forms.iter_mut().find(|f| f.code == feature_type.as_str()) {
        // The fields as typed, so that nothing is lost.
        for (name, value) in &mut shown.values {
            *value = form.fields.text(name).to_owned();
        }
        shown.checked.retain(|_| false);
        for name in ["enabled", "uses_opening_hours"] {
            if form.fields.has(name) {
                shown.checked.push(name);
            }
        }
        shown.errors = errors;
    }
    render(
        &state,
        &form.user,
        &program,
        status,
        &current,
        forms,
        Extras::default(),
    )
    .await
}

/// `POST /program-features/{program_id}/portfolio`: `action` is `new_project`, `save_project`,
/// `delete_project`, `add_photo` or `delete_photo`, with `project_id` (and `photo_id`) and the fields.
/// A 303 back to the page, or the page again with what is wrong.
async fn portfolio(
    State(state): State<AppState>,
    PathParam(program_id): PathParam,
    form: PageForm,
) -> PageResult<Response> {
    let program = form.program_to_change(&state, &program_id).await?;
    let user = &form.user.user;
    let id = program.program_id.as_str();
    let f = &form.fields;
    let project = f.text("project_id");
    let outcome = match f.text("action") {
        "new_project" => state.features.new_project(user, id).await.map(drop),
        "save_project" => match project_details(f) {
            Ok(details) => state
                .features
                .update_project(user, id, project, &details)
                .await
                .map(drop),
            Err(e) => Err(e),
        },
        "delete_project" => state.features.delete_project(user, id, project).await,
        "add_photo" => {
            let draft = PhotoDraft {
                photo_url: optional(f.text("photo_url")),
                biz_photo_id: optional(f.text("biz_photo_id")),
                is_before_photo: Some(f.has("is_before_photo")),
                caption: optional(f.text("caption")),
            };
            state
                .features
                .add_photo(user, id, project, draft)
                .await
                .map(drop)
        }
        "delete_photo" => {
            state
                .features
                .delete_photo(user, id, project, f.text("photo_id"))
                .await
        }
        other => Err(Error::field(
            "action",
            format!(
                "'{}' is not a portfolio action",
                other.chars().take(40).collect::<String>()
            ),
        )),
    };
    match outcome.map_err(ApiError::from) {
        Ok(()) => Ok(see_other(&format!(
            "/program-features/{}?saved=YELP_PORTFOLIO",
            url_part(id)
        ))),
        Err(e @ (ApiError::Fields(_) | ApiError::BadRequest { .. })) => {
            let current = state.features.features(user, id).await?;
            let forms = forms(&current, &active_of(&program));
            let extras = Extras {
                portfolio_errors: vec![e.message()],
                ..Extras::default()
            };
            render(
                &state,
                &form.user,
                &program,
                StatusCode::BAD_REQUEST,
                &current,
                forms,
                extras,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

/// A project's fields as the form typed them; an empty field is left as it is at Yelp.
fn project_details(f: &FormFields) -> Result<ProjectDetails, Error> {
    let number = |name: &str, what: &str| -> Result<Option<i64>, Error> {
        match optional(f.text(name)) {
            None => Ok(None),
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|_| Error::field(name, format!("{what} must be a whole number"))),
        }
    };
    let year = number("completion_year", "The completion year")?;
    let month = number("completion_month", "The completion month")?;
    Ok(ProjectDetails {
        name: optional(f.text("name")),
        description: optional(f.text("description")),
        published: None,
        call_to_action: optional(f.text("call_to_action"))
            .map(|v| ProjectCallToAction::from_wire(&v)),
        service_offerings: optional(f.text("service_offerings")).map(|v| list(&v)),
        cost: optional(f.text("cost")).map(|v| ProjectCost::from_wire(&v)),
        duration: optional(f.text("duration")).map(|v| ProjectDuration::from_wire(&v)),
        completion_year: year.map(|y| i32::try_from(y).unwrap_or(i32::MAX)),
        completion_month: month.map(|m| u32::try_from(m).unwrap_or(u32::MAX)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> FormFields {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        FormFields::parse(body.as_bytes()).unwrap()
    }

    #[test]
    fn a_textarea_may_hold_line_breaks_and_no_other_field_may() {
        let parsed = FormFields::parse(b"blocked_keywords=free%0D%0Acheap&website=a").unwrap();
        assert_eq!(parsed.text("blocked_keywords"), "free\ncheap");
        assert!(FormFields::parse(b"website=a%0Db").is_err());
        assert!(FormFields::parse(b"blocked_keywords=a%00b").is_err());
    }

    #[test]
    fn a_form_becomes_the_feature_it_sets() {
        let business = BusinessId::from_yelp("b1");
        let radius = change_of(
            &fields(&[("custom_radius", " 25 ")]),
            &FeatureType::CustomRadiusTargeting,
            None,
            &business,
        )
        .unwrap();
        assert_eq!(
            radius,
            CustomRadiusTargeting {
                custom_radius: Some(25.0)
            }
            .into()
        );
        let keywords = change_of(
            &fields(&[("blocked_keywords", "free\ncheap, diy\n\n")]),
            &FeatureType::NegativeKeywordTargeting,
            None,
            &business,
        )
        .unwrap();
        let Feature::NegativeKeywordTargeting(k) = keywords else {
            panic!("{keywords:?}")
        };
        assert_eq!(k.blocked_keywords, ["free", "cheap", "diy"]);
        let bad = change_of(
            &fields(&[("custom_radius", "far")]),
            &FeatureType::CustomRadiusTargeting,
            None,
            &business,
        )
        .unwrap_err();
        assert!(
            matches!(bad, Error::InvalidFields(f) if f[0].0 == "CUSTOM_RADIUS_TARGETING.custom_radius")
        );
    }
}
