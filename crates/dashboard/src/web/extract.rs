//! Our own extractors, whose rejections are [`ApiError`]s that name what is wrong.

use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// A JSON body. A malformed, mistyped or oversized body is a 400 that says why (serde names the field).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::BadRequest {
                field: None,
                message: rejection.body_text(),
            }),
        }
    }
}

/// The query string as name → value (the last of repeated names wins); handlers parse each value with
/// [`Params`] so that an error names its parameter.
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        Ok(Self(
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        ))
    }
}

impl Params {
    /// 400 naming a parameter that is not in `known`: a filter nobody reads would be a wrong answer, not
    /// a narrower one. Every unknown name is in the message; the first of them, alphabetically, is the
    /// field.
    pub fn only(&self, known: &[&str]) -> Result<(), ApiError> {
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
