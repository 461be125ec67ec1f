//! Our own extractors, whose rejections are [`ApiError`]s that name what is wrong. They are also where
//! text enters the server, so they refuse control characters (a NUL among them, which PostgreSQL cannot
//! store and SQLite's `LIKE` reads as the end of a pattern) with a 400 naming the field, once for every
//! handler: the query string, JSON bodies, path parameters, and the page forms through
//! the pages' `FormFields`.

use std::collections::HashMap;

use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
// The one place that wraps axum's `Path` (clippy.toml bars it elsewhere).
#[allow(clippy::disallowed_types)]
use axum::extract::Path;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ApiError;

/// A 400 naming `field` when `value` holds a control character (NUL, escape, newline, …): no text the
/// dashboard stores, searches or sends to Yelp has one.
pub fn refuse_control(field: &str, value: &str) -> Result<(), ApiError> {
    match value.chars().find(|c| c.is_control()) {
        None => Ok(()),
        Some(c) => Err(ApiError::field(
            field,
            format!(
                "{field} must not contain control characters (found U+{:04X})",
                u32::from(c)
            ),
        )),
    }
}

/// Whether a field holds a secret taken as typed: passwords are only hashed or sealed, never stored as
/// text, so any character may belong to one.
fn is_secret(field: &str) -> bool {
    field.ends_with("password")
}

/// Every string of a JSON body, under the name of the top-level field it is in, must pass
/// [`refuse_control`] (secrets excepted).
fn refuse_control_in_json(field: &str, value: &Value) -> Result<(), ApiError> {
    match value {
        Value::String(text) if !is_secret(field) => refuse_control(field, text),
        Value::Array(items) => items
            .iter()
            .try_for_each(|item| refuse_control_in_json(field, item)),
        Value::Object(members) => members.iter().try_for_each(|(name, member)| {
            refuse_control(field, name)?;
            refuse_control_in_json(field, member)
        }),
        _ => Ok(()),
    }
}

/// A JSON body. A malformed, mistyped or oversized body is a 400 that says why (serde names the field), and
/// so is text with a control character in it.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = match axum::Json::<Value>::from_request(req, state).await {
            Ok(axum::Json(value)) => value,
            Err(rejection) => {
                return Err(ApiError::BadRequest {
                    field: None,
                    message: rejection.body_text(),
                });
            }
        };
        if let Value::Object(members) = &value {
            for (name, member) in members {
                refuse_control("field name", name)?;
                refuse_control_in_json(name, member)?;
            }
        }
        // Read into the target type through axum's reader again, whose errors name the field at fault.
        let bytes = serde_json::to_vec(&value).map_err(ApiError::internal)?;
        axum::Json::<T>::from_bytes(&bytes)
            .map(|axum::Json(typed)| Self(typed))
            .map_err(|rejection| ApiError::BadRequest {
                field: None,
                message: rejection.body_text(),
            })
    }
}

/// The one parameter of a route's path (`/…/{program_id}`), percent-decoded. Invalid UTF-8 or a control
/// character in it is a JSON 400 naming the parameter.
pub struct PathParam(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = ApiError;

    #[allow(clippy::disallowed_types)]
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let value = match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(value)) => value,
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                return Err(match e.kind() {
                    ErrorKind::InvalidUtf8InPathParam { key } => {
                        ApiError::field(key, format!("{key} is not valid UTF-8"))
                    }
                    _ => ApiError::BadRequest {
                        field: None,
                        message: e.body_text(),
                    },
                });
            }
            Err(other) => {
                return Err(ApiError::BadRequest {
                    field: None,
                    message: other.body_text(),
                });
            }
        };
        let name = RawPathParams::from_request_parts(parts, state)
            .await
            .ok()
            .and_then(|raw| raw.iter().next().map(|(name, _)| name.to_owned()))
            .unwrap_or_else(|| "path".to_owned());
        refuse_control(&name, &value)?;
        Ok(Self(value))
    }
}

/// Every parameter of a route's path (`/…/{program_id}/…/{project_id}`), in order, percent-decoded and
/// checked as [`PathParam`] checks its one.
pub struct PathParams(pub Vec<String>);

impl<S: Send + Sync> FromRequestParts<S> for PathParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::BadRequest {
                field: None,
                message: rejection.body_text(),
            })?;
        let mut values = Vec::new();
        for (name, value) in raw.iter() {
            refuse_control(name, value)?;
            values.push(value.to_owned());
        }
        Ok(Self(values))
    }
}

/// The query string as name → value (the last of repeated names wins); handlers parse each value with
/// [`Params`] so that an error names its parameter.
#[derive(Debug, Default)]
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let values: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        for (name, value) in &values {
            refuse_control(name, value)?;
        }
        Ok(Self(values))
    }
}

impl Params {
    /// 400 naming a parameter that is not in `known`: a filter nobody reads would be a wrong answer, not
    /// a narrower one. Every unknown name is in the message; the first of them, alphabetically, is the
    /// field.
    pub fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        self.only_of(&[known])
    }

    /// [`Params::only`] for names that come in groups (the list's filters, its sort, its page), so that an
    /// endpoint takes the groups it needs without a list of its own.
    pub fn only_of(&self, groups: &[&[&str]]) -> Result<(), ApiError> {
        let known: Vec<&str> = groups.iter().flat_map(|g| g.iter().copied()).collect();
        let mut unknown: Vec<&str> = self
            .0
            .keys()
            .map(String::as_str)
            .filter(|name| !known.contains(name))
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        unknown.sort_unstable();
        // A few names are enough to see what is wrong; a query of thousands is not echoed whole.
        let mut named: Vec<String> = unknown
            .iter()
            .take(5)
            .map(|n| format!("'{}'", shorten(n)))
            .collect();
        if unknown.len() > named.len() {
            named.push("…".into());
        }
        Err(ApiError::field(
            &shorten(unknown[0]),
            format!(
                "unknown parameter {}; this endpoint takes {}",
                named.join(", "),
                known.join(", ")
            ),
        ))
    }

    /// A value, if given and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A value parsed with `FromStr`; the error names the parameter and repeats the parser's reason.
    pub fn parse<T>(&self, name: &str) -> Result<Option<T>, ApiError>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        self.get(name)
            .map(|v| {
                v.parse::<T>()
                    .map_err(|e| ApiError::field(name, format!("{name}: {e}")))
            })
            .transpose()
    }

    /// A whole number within `range`.
    pub fn number(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<Option<u64>, ApiError> {
        let Some(raw) = self.get(name) else {
            return Ok(None);
        };
        let n: u64 = raw.parse().map_err(|_| {
            ApiError::field(
                name,
                format!("{name} must be a whole number, not '{}'", shorten(raw)),
            )
        })?;
        if !range.contains(&n) {
            return Err(ApiError::field(
                name,
                format!(
                    "{name} must be between {} and {}, not {n}",
                    range.start(),
                    range.end()
                ),
            ));
        }
        Ok(Some(n))
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`).
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name).map(str::to_ascii_lowercase).as_deref() {
            None | Some("false" | "0" | "no") => Ok(false),
            Some("true" | "1" | "yes") => Ok(true),
            Some(other) => Err(ApiError::field(
                name,
                format!("{name} must be true or false, not '{}'", shorten(other)),
            )),
        }
    }
}

/// User input echoed in a message, cut to a readable length.
pub fn shorten(text: &str) -> String {
    const MAX: usize = 60;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
