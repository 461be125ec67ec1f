//! Portfolio projects of YELP_PORTFOLIO programs (contract §4.10): drafts, their fields and photos, and the
//! published flags that the YELP_PORTFOLIO feature shows and sets.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use serde_json::{Map, Value, json};

use crate::features::{FeatureError, invalid, is_public_url};

const CALLS_TO_ACTION: &[&str] = &[
    "WEBSITE",
    "CALL",
    "BOOK_APPOINTMENT",
    "GET_QUOTE",
    "LEARN_MORE",
];
const COSTS: &[&str] = &["UNDER_100", "100_500", "500_1000", "1000_5000", "5000_PLUS"];
const DURATIONS: &[&str] = &[
    "UNDER_1_WEEK",
    "1_2_WEEKS",
    "2_4_WEEKS",
    "1_3_MONTHS",
    "3_PLUS_MONTHS",
];
/// Service offerings one project may show.
const MAX_SERVICE_OFFERINGS: usize = 4;
/// The earliest completion year taken.
const FIRST_YEAR: i64 = 1900;

/// Every program's projects, in the order they were made.
#[derive(Debug, Clone, Default)]
pub(crate) struct Portfolios {
    by_program: HashMap<String, Vec<Project>>,
}

/// One project: its fields as written and its photos.
#[derive(Debug, Clone)]
pub(crate) struct Project {
    project_id: String,
    fields: Map<String, Value>,
    photos: Vec<Map<String, Value>>,
}

impl Portfolios {
    /// Starts an empty draft with the id given.
    pub(crate) fn create(&mut self, program_id: &str, project_id: String) {
        self.by_program
            .entry(program_id.to_owned())
            .or_default()
            .push(Project {
                project_id,
                fields: Map::new(),
                photos: Vec::new(),
            });
    }

    /// One project.
    pub(crate) fn project(&self, program_id: &str, project_id: &str) -> Option<&Project> {
        self.by_program
            .get(program_id)?
            .iter()
            .find(|p| p.project_id == project_id)
    }

    /// One project, to change.
    pub(crate) fn project_mut(
        &mut self,
        program_id: &str,
        project_id: &str,
    ) -> Option<&mut Project> {
        self.by_program
            .get_mut(program_id)?
            .iter_mut()
            .find(|p| p.project_id == project_id)
    }

    /// Deletes a project and its photos; `false` if there was none.
    pub(crate) fn remove(&mut self, program_id: &str, project_id: &str) -> bool {
        let Some(projects) = self.by_program.get_mut(program_id) else {
            return false;
        };
        let before = projects.len();
        projects.retain(|p| p.project_id != project_id);
        projects.len() != before
    }

    /// Deletes every project of a program (a DELETE of YELP_PORTFOLIO).
    pub(crate) fn remove_all(&mut self, program_id: &str) {
        self.by_program.remove(program_id);
    }

    /// `[{project_id, published}]`, as the YELP_PORTFOLIO feature shows the projects.
    pub(crate) fn states(&self, program_id: &str) -> Value {
        let projects = self
            .by_program
            .get(program_id)
            .map_or(&[][..], Vec::as_slice);
        Value::Array(
            projects
                .iter()
                .map(|p| json!({"project_id": p.project_id, "published": p.published()}))
                .collect(),
        )
    }

    /// Checks YELP_PORTFOLIO's `projects` (already shaped `[{project_id, published}]`): each must be a
    /// project of this program. Answers what to publish.
    pub(crate) fn check_states(
        &self,
        program_id: &str,
        projects: &Value,
    ) -> Result<Vec<(String, bool)>, FeatureError> {
        let mut out = Vec::new();
        for (index, state) in projects.as_array().into_iter().flatten().enumerate() {
            let project_id = state["project_id"].as_str().unwrap_or_default();
            if self.project(program_id, project_id).is_none() {
                return Err(invalid(format!(
                    "YELP_PORTFOLIO.projects[{index}].project_id: this program has no project {project_id}"
                )));
            }
            out.push((project_id.to_owned(), state["published"] == true));
        }
        Ok(out)
    }

    /// Publishes or unpublishes checked projects.
    pub(crate) fn publish(&mut self, program_id: &str, states: &[(String, bool)]) {
        for (project_id, published) in states {
            if let Some(project) = self.project_mut(program_id, project_id) {
                project.fields.insert("published".into(), json!(published));
            }
        }
    }
}

impl Project {
    fn published(&self) -> bool {
        self.fields.get("published") == Some(&json!(true))
    }

    /// The project as `GET /program/{pid}/portfolio/{project_id}/v1` answers it.
    pub(crate) fn view(&self) -> Value {
        let mut view = json!({
            "project_id": self.project_id, "name": null, "description": null, "published": false,
            "call_to_action": null, "service_offerings": [], "cost": null, "duration": null,
            "completion_year": null, "completion_month": null,
        });
        if let Value::Object(view) = &mut view {
            view.extend(self.fields.clone());
        }
        view
    }

    /// Its photos, in the order they were added.
    pub(crate) fn photos(&self) -> Value {
        Value::Array(self.photos.iter().cloned().map(Value::Object).collect())
    }

    /// Writes checked fields over the ones it has.
    pub(crate) fn set(&mut self, fields: Map<String, Value>) {
        self.fields.extend(fields);
    }

    /// Adds a checked photo with the id given; the first becomes the cover.
    pub(crate) fn add_photo(&mut self, photo_id: String, mut photo: Map<String, Value>) {
        let cover = self.photos.is_empty();
        photo.insert("photo_id".into(), json!(photo_id));
        photo.insert("is_cover_photo".into(), json!(cover));
        for key in ["photo_url", "biz_photo_id", "caption"] {
            photo.entry(key).or_insert(Value::Null);
        }
        photo.entry("is_before_photo").or_insert(json!(false));
        self.photos.push(photo);
    }

    /// Removes a photo; `false` if there was none.
    pub(crate) fn remove_photo(&mut self, photo_id: &str) -> bool {
        let before = self.photos.len();
        self.photos.retain(|p| p["photo_id"] != photo_id);
        let removed = self.photos.len() != before;
        if removed && !self.photos.iter().any(|p| p["is_cover_photo"] == true) {
            if let Some(first) = self.photos.first_mut() {
                first.insert("is_cover_photo".into(), json!(true));
            }
        }
        removed
    }
}

fn one_of(value: &Value, allowed: &[&str]) -> bool {
    value.is_null() || value.as_str().is_some_and(|v| allowed.contains(&v))
}

/// Checks a PUT body of project fields and answers the fields to write.
pub(crate) fn check_details(
    body: &Value,
    today: NaiveDate,
) -> Result<Map<String, Value>, FeatureError> {
    let fields = body
        .as_object()
        .ok_or_else(|| invalid("the body must be an object of project fields"))?;
    let wrong = |key: &str, why: String| Err(invalid(format!("project.{key} {why}")));
    for (key, value) in fields {
        match key.as_str() {
            "name" | "description" if !(value.is_null() || value.is_string()) => {
                return wrong(key, "must be a string or null".into());
            }
            "published" if !value.is_boolean() => {
                return wrong(key, "must be true or false".into());
            }
            "call_to_action" if !one_of(value, CALLS_TO_ACTION) => {
                return wrong(
                    key,
                    format!("must be one of {}", CALLS_TO_ACTION.join(", ")),
                );
            }
            "cost" if !one_of(value, COSTS) => {
                return wrong(key, format!("must be one of {}", COSTS.join(", ")));
            }
            "duration" if !one_of(value, DURATIONS) => {
                return wrong(key, format!("must be one of {}", DURATIONS.join(", ")));
            }
            "service_offerings" => {
                let Some(items) = value.as_array() else {
                    return wrong(key, "must be an array of strings".into());
                };
                if items
                    .iter()
                    .any(|s| s.as_str().is_none_or(|s| s.trim().is_empty()))
                {
                    return wrong(key, "must hold non-empty strings".into());
                }
                if items.len() > MAX_SERVICE_OFFERINGS {
                    return wrong(
                        key,
                        format!(
                            "holds {} entries; at most {MAX_SERVICE_OFFERINGS}",
                            items.len()
                        ),
                    );
                }
            }
            "completion_year" => {
                let last = i64::from(today.year());
                if !(value.is_null()
                    || value
                        .as_i64()
                        .is_some_and(|y| (FIRST_YEAR..=last).contains(&y)))
                {
                    return wrong(key, format!("must be a year from {FIRST_YEAR} to {last}"));
                }
            }
            "completion_month" => {
                if !(value.is_null() || value.as_i64().is_some_and(|m| (1..=12).contains(&m))) {
                    return wrong(key, "must be a month from 1 to 12".into());
                }
            }
            "name" | "description" | "published" | "call_to_action" | "cost" | "duration" => {}
            _ => return Err(invalid(format!("a project has no field `{key}`"))),
        }
    }
    Ok(fields.clone())
}

/// Checks a new photo: exactly one of a public `photo_url` and a `biz_photo_id`, an optional caption and
/// `is_before_photo`.
pub(crate) fn check_photo(body: &Value) -> Result<Map<String, Value>, FeatureError> {
    let photo = body
        .as_object()
        .ok_or_else(|| invalid("the body must be an object"))?;
    if let Some(key) = photo.keys().find(|k| {
        !matches!(
            k.as_str(),
            "photo_url" | "biz_photo_id" | "caption" | "is_before_photo"
        )
    }) {
        return Err(invalid(format!("a photo has no field `{key}`")));
    }
    let given = |key: &str| photo.get(key).is_some_and(|v| !v.is_null());
    match (given("photo_url"), given("biz_photo_id")) {
        (true, true) | (false, false) => {
            return Err(invalid(
                "photo: give exactly one of photo_url and biz_photo_id",
            ));
        }
        (true, false) => {
            if !photo
                .get("photo_url")
                .and_then(Value::as_str)
                .is_some_and(|url| is_public_url(url, &[]))
            {
                return Err(invalid("photo.photo_url must be a public http(s) URL"));
            }
        }
        (false, true) => {
            if photo
                .get("biz_photo_id")
                .and_then(Value::as_str)
                .is_none_or(|id| id.trim().is_empty())
            {
                return Err(invalid("photo.biz_photo_id must be a non-empty string"));
            }
        }
    }
    if photo
        .get("caption")
        .is_some_and(|c| !(c.is_null() || c.is_string()))
    {
        return Err(invalid("photo.caption must be a string or null"));
    }
    if photo
        .get("is_before_photo")
        .is_some_and(|b| !b.is_boolean())
    {
        return Err(invalid("photo.is_before_photo must be true or false"));
    }
    Ok(photo.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 19).expect("valid")
    }

    #[test]
    fn project_fields_follow_the_documented_enums_and_limits() {
        assert!(
            check_details(
                &json!({"name": "Kitchen", "cost": "100_500", "service_offerings": ["a", "b"]}),
                today()
            )
            .is_ok()
        );
        for bad in [
            json!({"cost": "CHEAP"}),
            json!({"duration": "FOREVER"}),
            json!({"call_to_action": "BUY"}),
            json!({"service_offerings": ["a", "b", "c", "d", "e"]}),
            json!({"completion_month": 13}),
            json!({"completion_year": 2027}),
            json!({"colour": "red"}),
            json!([]),
        ] {
            assert!(check_details(&bad, today()).is_err(), "{bad}");
        }
    }

    #[test]
    fn photos_take_one_source_and_the_first_is_the_cover() {
        assert!(
            check_photo(&json!({"photo_url": "https://img.example.com/a.jpg", "caption": "After"}))
                .is_ok()
        );
        for bad in [
            json!({}),
            json!({"photo_url": "https://img.example.com/a.jpg", "biz_photo_id": "p"}),
            json!({"photo_url": "http://127.0.0.1/a.jpg"}),
            json!({"biz_photo_id": "p", "is_before_photo": "yes"}),
        ] {
            assert!(check_photo(&bad).is_err(), "{bad}");
        }
        let mut portfolios = Portfolios::default();
        portfolios.create("prog", "pr1".into());
        let project = portfolios.project_mut("prog", "pr1").expect("made");
        project.add_photo("ph1".into(), Map::new());
        project.add_photo("ph2".into(), Map::new());
        assert_eq!(project.photos()[0]["is_cover_photo"], true);
        assert_eq!(project.photos()[1]["is_cover_photo"], false);
        assert!(project.remove_photo("ph1"));
        assert_eq!(
            project.photos()[0]["is_cover_photo"],
            true,
            "the next becomes the cover"
        );
    }
}
