//! Reading and changing a program's features and portfolio projects at Yelp. Every change is checked
//! against Yelp's rules ([`super::rules`]) before Yelp sees it and sent once (a feature write Yelp leaves
//! unanswered is read back, never sent again); what Yelp answers is kept in the mirror, and the program is
//! read again so that its `active_features` follow.

use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use serde_json::Value;
use yelp_partner_api::{
    BusinessId, Client, FeatureChanges, FeatureEntry, FeatureType, FeatureWrite, NewPhoto, PhotoId,
    PhotoSource, PortfolioPhoto, PortfolioProject, ProgramFeatures, ProgramId, ProjectDetails,
    ProjectId,
};

use super::rules::{self, Context, RuleFailure};
use crate::error::{Error, Result};
use crate::jobs::{ClientSource, refresh_program};
use crate::store::{MirrorWriter, Store, StoredProgram, User, now_ms};

/// What a feature write came to at Yelp.
#[derive(Debug)]
pub struct FeatureChange {
    /// What Yelp holds now: its answer, or its state read back after an unanswered write.
    pub features: ProgramFeatures,
    /// Whether Yelp answered the write itself.
    pub answered: bool,
    /// Types whose change Yelp does not show (only after an unanswered write: nothing was sent again).
    pub not_applied: Vec<FeatureType>,
}

/// A photo to add to a project, as sent: exactly one of `photo_url` and `biz_photo_id`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoDraft {
    /// A public http(s) URL of the photo.
    pub photo_url: Option<String>,
    /// A photo already on the business's Yelp page.
    pub biz_photo_id: Option<String>,
    /// A "before" photo (the others are "after").
    pub is_before_photo: Option<bool>,
    /// Its caption.
    pub caption: Option<String>,
}

/// Features and portfolio projects of the workspaces' programs.
#[derive(Clone)]
pub struct FeatureService {
    store: Store,
    clients: ClientSource,
}

impl FeatureService {
    /// The service over `store`, reaching Yelp through `clients`.
    pub fn new(store: Store, clients: ClientSource) -> Self {
        Self { store, clients }
    }

    /// The program of the user's workspace (any id the mirror holds) and the workspace's Yelp client.
    async fn target(&self, user: &User, program_id: &str) -> Result<(StoredProgram, Client)> {
        let program = self
            .store
            .program_by_given_id(&user.workspace_id, program_id)
            .await?
            .filter(|p| p.removed_at.is_none())
            .ok_or_else(|| Error::NotFound(format!("program {program_id}")))?;
        let client = (self.clients)(user.workspace_id.clone()).await?;
        Ok((program, client))
    }

    /// A program's features as Yelp shows them now; kept in the mirror.
    pub async fn features(&self, user: &User, program_id: &str) -> Result<ProgramFeatures> {
        let (program, client) = self.target(user, program_id).await?;
        let id = ProgramId::from_yelp(program.program_id.clone());
        let features = client
            .program_features(&id)
            .await
            .map_err(|e| from_yelp(e, "features", &program.program_id))?;
        self.keep(user, &program, &features).await?;
        Ok(features)
    }

    /// A program's features as Yelp last answered them, without asking it (`None`: never read).
    pub async fn last_read(
        &self,
        workspace_id: &str,
        program_id: &str,
    ) -> Result<Option<ProgramFeatures>> {
        let Some(stored) = self
            .store
            .program_features(workspace_id, program_id)
            .await?
        else {
            return Ok(None);
        };
        // Written from Yelp's answers by this service; one that cannot be read is as if never read.
        Ok(serde_json::from_str::<Value>(&stored.features)
            .ok()
            .and_then(|v| ProgramFeatures::from_json(v).ok()))
    }

    /// Sets features: checked against Yelp's rules with the program's current features, then sent once.
    pub async fn change(
        &self,
        user: &User,
        program_id: &str,
        changes: &FeatureChanges,
    ) -> Result<FeatureChange> {
        let (program, client) = self.target(user, program_id).await?;
        let id = ProgramId::from_yelp(program.program_id.clone());
        let current = client
            .program_features(&id)
            .await
            .map_err(|e| from_yelp(e, "features", &program.program_id))?;
        let business_id = BusinessId::from_yelp(program.business_id.clone().unwrap_or_default());
        let context = Context {
            today: today(),
            business_id: &business_id,
            current: &current,
        };
        rules::check_changes(changes, &context).map_err(failures)?;
        let written = client
            .update_program_features(&id, changes)
            .await
            .map_err(|e| from_yelp(e, "features", &program.program_id))?;
        let not_applied = match &written {
            FeatureWrite::Answered(_) => Vec::new(),
            FeatureWrite::ReadBack {
                features,
                unanswered,
            } => {
                tracing::warn!(error = %unanswered, "feature write unanswered; read back");
                changes.not_held_by(features)
            }
        };
        self.finish(user, &program, &client, written, not_applied)
            .await
    }

    /// Turns features off (`{"features": [TYPE, ...]}`, Yelp's body); sent once.
    pub async fn remove(
        &self,
        user: &User,
        program_id: &str,
        types: &[String],
    ) -> Result<FeatureChange> {
        let types = known_types(types)?;
        let (program, client) = self.target(user, program_id).await?;
        let id = ProgramId::from_yelp(program.program_id.clone());
        let written = client
            .delete_program_features(&id, &types)
            .await
            .map_err(|e| from_yelp(e, "features", &program.program_id))?;
        if let FeatureWrite::ReadBack { unanswered, .. } = &written {
            tracing::warn!(error = %unanswered, "feature delete unanswered; read back");
        }
        // What is off shows in the features read back and in the program's active features, read again.
        self.finish(user, &program, &client, written, Vec::new())
            .await
    }

    async fn finish(
        &self,
        user: &User,
        program: &StoredProgram,
        client: &Client,
        written: FeatureWrite,
        not_applied: Vec<FeatureType>,
    ) -> Result<FeatureChange> {
        let answered = written.was_answered();
        let features = written.into_features();
        self.keep(user, program, &features).await?;
        // The listing's `active_features` of the program follow the change.
        let id = ProgramId::from_yelp(program.program_id.clone());
        if let Err(e) = refresh_program(
            &self.store,
            client,
            &user.workspace_id,
            &id,
            MirrorWriter::User {
                actor_id: &user.id,
                actor: &user.username,
            },
        )
        .await
        {
            tracing::warn!(error = %e, "program not read again after a feature change; the next sync will");
        }
        Ok(FeatureChange {
            features,
            answered,
            not_applied,
        })
    }

    async fn keep(
        &self,
        user: &User,
        program: &StoredProgram,
        features: &ProgramFeatures,
    ) -> Result<()> {
        self.store
            .save_program_features(
                &user.workspace_id,
                &program.program_id,
                &features.to_json().to_string(),
                now_ms(),
            )
            .await
    }

    /// Starts a draft portfolio project; answers its id. Sent once.
    pub async fn new_project(&self, user: &User, program_id: &str) -> Result<ProjectId> {
        let (program, client) = self.target(user, program_id).await?;
        client
            .create_portfolio_project(&ProgramId::from_yelp(program.program_id.clone()))
            .await
            .map_err(|e| from_yelp(e, "project", &program.program_id))
    }

    /// One portfolio project.
    pub async fn project(
        &self,
        user: &User,
        program_id: &str,
        project_id: &str,
    ) -> Result<PortfolioProject> {
        let (program, client) = self.target(user, program_id).await?;
        client
            .portfolio_project(
                &ProgramId::from_yelp(program.program_id.clone()),
                &project(project_id)?,
            )
            .await
            .map_err(|e| from_yelp(e, "project", &format!("portfolio project {project_id}")))
    }

    /// Changes a project's fields (those given), checked against Yelp's rules first. Sent once.
    pub async fn update_project(
        &self,
        user: &User,
        program_id: &str,
        project_id: &str,
        details: &ProjectDetails,
    ) -> Result<PortfolioProject> {
        let project_id = project(project_id)?;
        rules::check_project(details, today()).map_err(failures)?;
        let (program, client) = self.target(user, program_id).await?;
        client
            .update_portfolio_project(
                &ProgramId::from_yelp(program.program_id.clone()),
                &project_id,
                details,
            )
            .await
            .map_err(|e| from_yelp(e, "project", &format!("portfolio project {project_id}")))
    }

    /// Deletes a project and its photos. Sent once.
    pub async fn delete_project(
        &self,
        user: &User,
        program_id: &str,
        project_id: &str,
    ) -> Result<()> {
        let project_id = project(project_id)?;
        let (program, client) = self.target(user, program_id).await?;
        client
            .delete_portfolio_project(
                &ProgramId::from_yelp(program.program_id.clone()),
                &project_id,
            )
            .await
            .map_err(|e| from_yelp(e, "project", &format!("portfolio project {project_id}")))
    }

    /// A project's photos.
    pub async fn photos(
        &self,
        user: &User,
        program_id: &str,
        project_id: &str,
    ) -> Result<Vec<PortfolioPhoto>> {
        let project_id = project(project_id)?;
        let (program, client) = self.target(user, program_id).await?;
        client
            .portfolio_photos(
                &ProgramId::from_yelp(program.program_id.clone()),
                &project_id,
            )
            .await
            .map_err(|e| from_yelp(e, "project", &format!("portfolio project {project_id}")))
    }

    /// Adds a photo to a project, checked first; answers its id. Sent once.
    pub async fn add_photo(
        &self,
        user: &User,
        program_id: &str,
        project_id: &str,
        draft: PhotoDraft,
    ) -> Result<PhotoId> {
        let project_id = project(project_id)?;
        let photo = new_photo(draft)?;
        rules::check_photo(&photo).map_err(failures)?;
        let (program, client) = self.target(user, program_id).await?;
        client
            .add_portfolio_photo(
                &ProgramId::from_yelp(program.program_id.clone()),
                &project_id,
                &photo,
            )
            .await
            .map_err(|e| from_yelp(e, "photo", &format!("portfolio project {project_id}")))
    }

    /// Removes a photo from a project. Sent once.
    pub async fn delete_photo(
        &self,
        user: &User,
        program_id: &str,
        project_id: &str,
        photo_id: &str,
    ) -> Result<()> {
        let project_id = project(project_id)?;
        let photo_id = PhotoId::parse(photo_id)
            .map_err(|e| Error::field("photo_id", format!("photo_id: {e}")))?;
        let (program, client) = self.target(user, program_id).await?;
        client
            .delete_portfolio_photo(
                &ProgramId::from_yelp(program.program_id.clone()),
                &project_id,
                &photo_id,
            )
            .await
            .map_err(|e| from_yelp(e, "photo", &format!("photo {photo_id}")))
    }
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn project(id: &str) -> Result<ProjectId> {
    ProjectId::parse(id).map_err(|e| Error::field("project_id", format!("project_id: {e}")))
}

/// A change body read into typed features; every type that is unknown or unreadable is named at once.
pub fn parse_changes(body: Value) -> Result<FeatureChanges> {
    let features = ProgramFeatures::from_json(body).map_err(|e| {
        Error::field(
            "features",
            format!("The body must be {{\"features\": {{TYPE: {{...}}}}}}: {e}"),
        )
    })?;
    let mut changes = FeatureChanges::new();
    let mut problems = Vec::new();
    for (feature_type, entry) in features.entries() {
        match entry {
            FeatureEntry::Known(feature) => {
                changes.set(feature.clone());
            }
            FeatureEntry::Unknown(_) => problems.push((
                feature_type.as_str().to_owned(),
                unknown_type_message(feature_type.as_str()),
            )),
            FeatureEntry::Malformed { reason, .. } => problems.push((
                feature_type.as_str().to_owned(),
                format!("{}: {reason}", feature_type.label()),
            )),
        }
    }
    if !problems.is_empty() {
        return Err(Error::InvalidFields(problems));
    }
    if changes.is_empty() {
        return Err(Error::field(
            "features",
            "Name at least one feature to change, as {\"features\": {TYPE: {...}}}",
        ));
    }
    Ok(changes)
}

/// Feature types named by a delete, each one Yelp documents.
fn known_types(names: &[String]) -> Result<Vec<FeatureType>> {
    if names.is_empty() {
        return Err(Error::field(
            "features",
            "Name at least one feature to turn off, as {\"features\": [TYPE, ...]}",
        ));
    }
    let mut types = Vec::with_capacity(names.len());
    let mut problems = Vec::new();
    for name in names {
        let feature_type = FeatureType::from_wire(name);
        if feature_type.is_known() && feature_type.as_str() == name {
            types.push(feature_type);
        } else {
            problems.push((name.clone(), unknown_type_message(name)));
        }
    }
    if problems.is_empty() {
        Ok(types)
    } else {
        Err(Error::InvalidFields(problems))
    }
}

fn unknown_type_message(name: &str) -> String {
    let known: Vec<&str> = FeatureType::KNOWN.iter().map(FeatureType::as_str).collect();
    format!(
        "'{}' is not a feature type; expected one of: {}",
        short(name),
        known.join(", ")
    )
}

/// A name echoed in a message, cut to a readable length.
fn short(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn new_photo(draft: PhotoDraft) -> Result<NewPhoto> {
    let given = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let source = match (given(draft.photo_url), given(draft.biz_photo_id)) {
        (Some(url), None) => PhotoSource::Url(url),
        (None, Some(id)) => PhotoSource::BusinessPhoto(id),
        (Some(_), Some(_)) => {
            return Err(Error::field(
                "photo_url",
                "Give either photo_url or biz_photo_id, not both",
            ));
        }
        (None, None) => {
            return Err(Error::field(
                "photo_url",
                "Give the photo: photo_url (a public http(s) address) or biz_photo_id",
            ));
        }
    };
    Ok(NewPhoto {
        source,
        caption: given(draft.caption),
        is_before_photo: draft.is_before_photo.unwrap_or(false),
    })
}

/// Broken rules as the fields they name, `TYPE.field`.
fn failures(found: Vec<RuleFailure>) -> Error {
    Error::InvalidFields(
        found
            .into_iter()
            .map(|f| (format!("{}.{}", f.feature_type, f.field), f.message))
            .collect(),
    )
}

/// What a user is told of Yelp's answer to a feature or portfolio request.
fn from_yelp(e: yelp_partner_api::Error, field: &str, what: &str) -> Error {
    use yelp_partner_api::Error as Y;
    match e {
        Y::Rejected { description, id, .. } => {
            let reason = if description.is_empty() {
                id.unwrap_or_else(|| "no reason given".to_owned())
            } else {
                description
            };
            Error::field(field, format!("Yelp refused the change: {reason}"))
        }
        Y::NotFound { .. } => Error::NotFound(format!("{what} at Yelp")),
        Y::Unauthorized => Error::YelpUnavailable(
            "Yelp rejected the workspace's partner credentials; an admin should check them in Settings"
                .into(),
        ),
        Y::RateLimited { .. } => Error::YelpUnavailable(
            "Yelp is limiting requests; nothing was changed, try again in a minute".into(),
        ),
        Y::Server { .. } | Y::Transport(_) | Y::Timeout => Error::YelpUnavailable(format!(
            "Yelp did not answer ({e}); try again in a moment"
        )),
        other => Error::Yelp(other),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_change_body_names_every_unknown_or_unreadable_type() {
        let e = parse_changes(json!({"features": {
            "LINK_TRACKING": {"website": "utm_source=yelp"},
            "NOT_A_FEATURE": {},
            "CUSTOM_RADIUS_TARGETING": {"custom_radius": "far"}
        }}))
        .unwrap_err();
        let Error::InvalidFields(found) = e else {
            panic!("{e}")
        };
        let fields: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["CUSTOM_RADIUS_TARGETING", "NOT_A_FEATURE"]);
        assert!(found[1].1.contains("expected one of: "), "{found:?}");
        let changes =
            parse_changes(json!({"features": {"AD_GOAL": {"ad_goal": "CALLS"}}})).unwrap();
        assert_eq!(changes.len(), 1);
        assert!(matches!(
            parse_changes(json!({"features": {}})),
            Err(Error::InvalidField { .. })
        ));
        assert!(matches!(
            parse_changes(json!([1])),
            Err(Error::InvalidField { .. })
        ));
    }

    #[test]
    fn a_photo_comes_from_a_url_or_a_business_photo_not_both() {
        let url = new_photo(PhotoDraft {
            photo_url: Some(" https://example.com/a.jpg ".into()),
            ..PhotoDraft::default()
        })
        .unwrap();
        assert_eq!(
            url.source,
            PhotoSource::Url("https://example.com/a.jpg".into())
        );
        for draft in [
            PhotoDraft::default(),
            PhotoDraft {
                photo_url: Some("https://example.com/a.jpg".into()),
                biz_photo_id: Some("p1".into()),
                ..PhotoDraft::default()
            },
        ] {
            assert!(matches!(new_photo(draft), Err(Error::InvalidField { .. })));
        }
    }

    #[test]
    fn a_delete_names_only_documented_types() {
        assert_eq!(
            known_types(&["LINK_TRACKING".into()]).unwrap(),
            [FeatureType::LinkTracking]
        );
        assert!(matches!(
            known_types(&["link_tracking".into(), "X".into()]),
            Err(Error::InvalidFields(f)) if f.len() == 2
        ));
        assert!(known_types(&[]).is_err());
    }
}
