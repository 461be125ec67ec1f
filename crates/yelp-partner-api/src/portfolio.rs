//! Portfolio projects of a YELP_PORTFOLIO program (contract §4.10): drafts, their fields and photos.
//!
//! Publishing goes through the YELP_PORTFOLIO feature ([`crate::YelpPortfolio`]). Every write here is sent
//! once and never retried; a write left unanswered must be checked by reading the project back.

use reqwest::Method;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};

use crate::client::{Client, decode, ok_json};
use crate::enums::{ProjectCallToAction, ProjectCost, ProjectDuration};
use crate::error::{Error, Result};
use crate::ids::{PhotoId, ProgramId, ProjectId};

/// A project's fields. On a PUT only the fields that are `Some` are sent, so the others stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProjectDetails {
    /// Its title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What was done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether it shows (also set through the YELP_PORTFOLIO feature).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<bool>,
    /// The button under it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_to_action: Option<ProjectCallToAction>,
    /// Services it shows, at most 4.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_offerings: Option<Vec<String>>,
    /// What it cost, as a band.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<ProjectCost>,
    /// How long it took, as a band.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<ProjectDuration>,
    /// The year it was finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_year: Option<i32>,
    /// The month it was finished, 1 to 12.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_month: Option<u32>,
}

/// A project as Yelp shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortfolioProject {
    /// Its id.
    pub project_id: ProjectId,
    /// Its fields.
    #[serde(flatten)]
    pub details: ProjectDetails,
}

/// A photo of a project.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortfolioPhoto {
    /// Its id.
    pub photo_id: PhotoId,
    /// Where it was taken from, when given by URL.
    #[serde(default)]
    pub photo_url: Option<String>,
    /// The business photo it is, when given by id.
    #[serde(default)]
    pub biz_photo_id: Option<String>,
    /// Its caption.
    #[serde(default)]
    pub caption: Option<String>,
    /// A "before" photo (the others are "after").
    #[serde(default, deserialize_with = "null_as_false")]
    pub is_before_photo: bool,
    /// The project's cover.
    #[serde(default, deserialize_with = "null_as_false")]
    pub is_cover_photo: bool,
}

/// Where a new photo comes from: exactly one of the two.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PhotoSource {
    /// A public http(s) URL.
    Url(String),
    /// A photo already on the business's Yelp page.
    BusinessPhoto(String),
}

/// A photo to add to a project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPhoto {
    /// Where it comes from.
    pub source: PhotoSource,
    /// Its caption.
    pub caption: Option<String>,
    /// A "before" photo.
    pub is_before_photo: bool,
}

impl NewPhoto {
    /// The request body, `{photo_url | biz_photo_id, is_before_photo, caption?}`.
    pub fn body(&self) -> Value {
        let mut body = Map::new();
        let (key, value) = match &self.source {
            PhotoSource::Url(url) => ("photo_url", url),
            PhotoSource::BusinessPhoto(id) => ("biz_photo_id", id),
        };
        body.insert(key.into(), json!(value));
        body.insert("is_before_photo".into(), json!(self.is_before_photo));
        if let Some(caption) = &self.caption {
            body.insert("caption".into(), json!(caption));
        }
        Value::Object(body)
    }
}

fn null_as_false<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(false))
}

fn project_not_found(program_id: &ProgramId, project_id: &ProjectId) -> String {
    format!("portfolio project {project_id} of program {program_id}")
}

impl Client {
    /// Starts a draft project (`POST /program/{id}/portfolio/v1`) and answers its id. Never retried.
    pub async fn create_portfolio_project(&self, program_id: &ProgramId) -> Result<ProjectId> {
        const ENDPOINT: &str = "POST /program/{program_id}/portfolio/v1";
        let path = ["program", program_id.as_str(), "portfolio", "v1"];
        let call = self.call(ENDPOINT, Method::POST, &path, &[], None, false)?;
        let reply = self.send(call).await?;
        #[derive(Deserialize)]
        struct Created {
            project_id: String,
        }
        let created: Created = decode(
            ENDPOINT,
            ok_json(ENDPOINT, reply, || format!("program {program_id}"))?,
        )?;
        if created.project_id.is_empty() {
            return Err(Error::Decode {
                endpoint: ENDPOINT,
                detail: "empty project_id".into(),
            });
        }
        Ok(ProjectId::from_yelp(created.project_id))
    }

    /// One project (`GET /program/{id}/portfolio/{project_id}/v1`).
    pub async fn portfolio_project(
        &self,
        program_id: &ProgramId,
        project_id: &ProjectId,
    ) -> Result<PortfolioProject> {
        const ENDPOINT: &str = "GET /program/{program_id}/portfolio/{project_id}/v1";
        let path = project_path(program_id, project_id);
        let reply = self.send(self.get(ENDPOINT, &path, &[])?).await?;
        decode(
            ENDPOINT,
            ok_json(ENDPOINT, reply, || {
                project_not_found(program_id, project_id)
            })?,
        )
    }

    /// Changes a project's fields (`PUT /program/{id}/portfolio/{project_id}/v1`); answers the project.
    /// Never retried.
    pub async fn update_portfolio_project(
        &self,
        program_id: &ProgramId,
        project_id: &ProjectId,
        details: &ProjectDetails,
    ) -> Result<PortfolioProject> {
        const ENDPOINT: &str = "PUT /program/{program_id}/portfolio/{project_id}/v1";
        let path = project_path(program_id, project_id);
        let body =
            serde_json::to_value(details).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let call = self.call(ENDPOINT, Method::PUT, &path, &[], Some(&body), false)?;
        let reply = self.send(call).await?;
        decode(
            ENDPOINT,
            ok_json(ENDPOINT, reply, || {
                project_not_found(program_id, project_id)
            })?,
        )
    }

    /// Deletes a project and its photos (`DELETE /program/{id}/portfolio/{project_id}/v1`). Never retried.
    pub async fn delete_portfolio_project(
        &self,
        program_id: &ProgramId,
        project_id: &ProjectId,
    ) -> Result<()> {
        const ENDPOINT: &str = "DELETE /program/{program_id}/portfolio/{project_id}/v1";
        let path = project_path(program_id, project_id);
        let call = self.call(ENDPOINT, Method::DELETE, &path, &[], None, false)?;
        let reply = self.send(call).await?;
        ok_json(ENDPOINT, reply, || {
            project_not_found(program_id, project_id)
        })
        .map(drop)
    }

    /// A project's photos (`GET /program/{id}/portfolio/{project_id}/photos/v1`).
    pub async fn portfolio_photos(
        &self,
        program_id: &ProgramId,
        project_id: &ProjectId,
    ) -> Result<Vec<PortfolioPhoto>> {
        const ENDPOINT: &str = "GET /program/{program_id}/portfolio/{project_id}/photos/v1";
        let path = photos_path(program_id, project_id);
        let reply = self.send(self.get(ENDPOINT, &path, &[])?).await?;
        let value = ok_json(ENDPOINT, reply, || {
            project_not_found(program_id, project_id)
        })?;
        // The contract says "an array of photos"; an object holding `photos` is read too.
        let photos = match value {
            Value::Object(mut object) => object.remove("photos").unwrap_or(Value::Null),
            other => other,
        };
        decode(ENDPOINT, photos)
    }

    /// Adds a photo (`POST /program/{id}/portfolio/{project_id}/photos/v1`) and answers its id. Never
    /// retried.
    pub async fn add_portfolio_photo(
        &self,
        program_id: &ProgramId,
        project_id: &ProjectId,
        photo: &NewPhoto,
    ) -> Result<PhotoId> {
        const ENDPOINT: &str = "POST /program/{program_id}/portfolio/{project_id}/photos/v1";
        let path = photos_path(program_id, project_id);
        let body = photo.body();
        let call = self.call(ENDPOINT, Method::POST, &path, &[], Some(&body), false)?;
        let reply = self.send(call).await?;
        #[derive(Deserialize)]
        struct Added {
            photo_id: String,
        }
        let added: Added = decode(
            ENDPOINT,
            ok_json(ENDPOINT, reply, || {
                project_not_found(program_id, project_id)
            })?,
        )?;
        if added.photo_id.is_empty() {
            return Err(Error::Decode {
                endpoint: ENDPOINT,
                detail: "empty photo_id".into(),
            });
        }
        Ok(PhotoId::from_yelp(added.photo_id))
    }

    /// Removes a photo (`DELETE /program/{id}/portfolio/{project_id}/photos/{photo_id}/v1`). Never retried.
    pub async fn delete_portfolio_photo(
        &self,
        program_id: &ProgramId,
        project_id: &ProjectId,
        photo_id: &PhotoId,
    ) -> Result<()> {
        const ENDPOINT: &str =
            "DELETE /program/{program_id}/portfolio/{project_id}/photos/{photo_id}/v1";
        let path = [
            "program",
            program_id.as_str(),
            "portfolio",
            project_id.as_str(),
            "photos",
            photo_id.as_str(),
            "v1",
        ];
        let call = self.call(ENDPOINT, Method::DELETE, &path, &[], None, false)?;
        let reply = self.send(call).await?;
        ok_json(ENDPOINT, reply, || {
            format!(
                "photo {photo_id} of {}",
                project_not_found(program_id, project_id)
            )
        })
        .map(drop)
    }
}

fn project_path<'a>(program_id: &'a ProgramId, project_id: &'a ProjectId) -> [&'a str; 5] {
    [
        "program",
        program_id.as_str(),
        "portfolio",
        project_id.as_str(),
        "v1",
    ]
}

fn photos_path<'a>(program_id: &'a ProgramId, project_id: &'a ProjectId) -> [&'a str; 6] {
    [
        "program",
        program_id.as_str(),
        "portfolio",
        project_id.as_str(),
        "photos",
        "v1",
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_reads_its_fields_and_keeps_unknown_bands() {
        let project: PortfolioProject = serde_json::from_value(json!({
            "project_id": "pr1", "name": "Kitchen", "published": null, "service_offerings": ["tiling"],
            "cost": "1000_5000", "duration": "6_MONTHS", "completion_month": 4, "something_new": true
        }))
        .unwrap();
        assert_eq!(project.details.cost, Some(ProjectCost::From1000To5000));
        assert_eq!(
            project.details.duration,
            Some(ProjectDuration::Other("6_MONTHS".into()))
        );
        assert_eq!(project.details.published, None);
    }

    #[test]
    fn an_update_sends_only_the_fields_it_sets() {
        let details = ProjectDetails {
            name: Some("Kitchen".into()),
            cost: Some(ProjectCost::Under100),
            ..ProjectDetails::default()
        };
        assert_eq!(
            serde_json::to_value(&details).unwrap(),
            json!({"name": "Kitchen", "cost": "UNDER_100"})
        );
        let photo = NewPhoto {
            source: PhotoSource::BusinessPhoto("bp1".into()),
            caption: None,
            is_before_photo: true,
        };
        assert_eq!(
            photo.body(),
            json!({"biz_photo_id": "bp1", "is_before_photo": true})
        );
    }
}
