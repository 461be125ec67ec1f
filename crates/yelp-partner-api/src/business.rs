//! Business info (`GET /v1/business_info/{ids}`, the Partner Support API of contract §13): what Yelp shows of
//! a business — name, address, whether it is closed, removed from search or migrated, categories — for up
//! to 200 comma-separated ids a call. [`Client::business_info`] takes any number of ids and splits them.
//!
//! Yelp documents these fields but not their spellings, so each entry is read leniently, and an entry that
//! cannot be read costs only its own business ([`BusinessInfoBatch::malformed`]). What is accepted:
//!
//! - the answer: a list under `businesses` (or `business_info`, `results`, `data`), or an object there keyed
//!   by business id, or a bare list. Any other answer fails the call as [`Error::Decode`].
//! - the id: `id`, `business_id`, `yelp_business_id` or `encrypted_business_id` (or the key of a keyed
//!   object). Required.
//! - `name` (or `business_name`): required, a non-blank string.
//! - the address: an object under `location` or `address`, or the same keys at the top of the entry: lines
//!   `address1`…`address3` (also `address_1`, `address_line1`, `street`; or a list under `address_lines`; a
//!   string `address` is one line), `city`, `state` (`state_code`), `zip_code` (`zip`, `postal_code`; a number
//!   is read as its digits), `country` (`country_code`).
//! - `is_closed`, `is_removed_from_search`: booleans, also `"true"`/`"false"` and 1/0.
//! - migration: an object under `migration` (or `migration_info`), or the same keys at the top of the entry:
//!   `is_migrated` (or `migration_type`: `NOT_MIGRATED`/`NONE` or another value, which means migrated) and the
//!   destination under `destination_business_id`, `destination_yelp_business_id`, `destination_id` or
//!   `migrated_to`. An explicit `is_migrated: false` wins over a destination.
//! - categories: a list under `category_list` or `categories` of `{alias, title}` objects or of aliases, or
//!   one comma-separated string of aliases.
//!
//! Absent or null fields are `None` (or empty); a field of the wrong type makes the entry malformed, with
//! a reason naming the field. Everything else (`cta` among it) stays in [`BusinessInfo::raw`].

use std::collections::HashSet;

use futures::FutureExt;
use futures::stream::{self, BoxStream, StreamExt};
use serde_json::{Map, Value};
use tokio_util::task::AbortOnDropHandle;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::ids::BusinessId;

/// Most business ids Yelp takes in one call (contract §13).
pub const BUSINESS_INFO_MAX_IDS: usize = 200;

/// Calls in flight at once in [`Client::business_info`].
pub const BUSINESS_INFO_CONCURRENCY: usize = 4;

const ENDPOINT: &str = "GET /v1/business_info/{business_ids}";

/// What Yelp shows of one business.
#[derive(Clone, Debug, PartialEq)]
pub struct BusinessInfo {
    /// The business's id, as Yelp sent it.
    pub business_id: BusinessId,
    /// Its name on Yelp.
    pub name: String,
    /// Where it is; empty when Yelp gave no address.
    pub address: Address,
    /// Whether it is closed; `None` when Yelp did not say.
    pub is_closed: Option<bool>,
    /// Whether it is removed from search; `None` when Yelp did not say.
    pub is_removed_from_search: Option<bool>,
    /// Whether it moved to another business id; `None` when Yelp did not say.
    pub migration: Option<Migration>,
    /// Its categories, main one first.
    pub categories: Vec<Category>,
    /// The entry exactly as Yelp sent it, unknown fields included.
    pub raw: Value,
}

impl BusinessInfo {
    /// The business id the listing moved to, when Yelp migrated it and said where.
    pub fn migrated_to(&self) -> Option<&BusinessId> {
        match &self.migration {
            Some(Migration::MigratedTo(destination)) => destination.as_ref(),
            _ => None,
        }
    }
}

/// A business's address; every part is optional because Yelp may leave any out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Address {
    /// Street lines, first to last, blank ones left out.
    pub lines: Vec<String>,
    /// City.
    pub city: Option<String>,
    /// State or region code, e.g. `CA`.
    pub state: Option<String>,
    /// ZIP or postal code, as text (a leading zero is kept when Yelp sends text).
    pub zip: Option<String>,
    /// Country code, e.g. `US`.
    pub country: Option<String>,
}

/// Whether Yelp migrated a business to another id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Migration {
    /// It was not migrated.
    NotMigrated,
    /// It moved; to this id when Yelp said which.
    MigratedTo(Option<BusinessId>),
}

/// One category of a business; at least one of the two is set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Category {
    /// Yelp's alias, e.g. `plumbing`.
    pub alias: Option<String>,
    /// The display title, e.g. `Plumbing`.
    pub title: Option<String>,
}

/// An entry Yelp sent that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MalformedBusiness {
    /// The business it is about, when its id could be read. Without one it cannot be matched to the ids
    /// asked for, so the business it described is also in [`BusinessInfoBatch::missing`].
    pub business_id: Option<BusinessId>,
    /// What is wrong with it, naming the field.
    pub error: String,
}

/// The answer for a set of ids: every asked id is in exactly one of the three lists.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BusinessInfoBatch {
    /// The businesses Yelp described readably (also any Yelp described without being asked), each once.
    pub businesses: Vec<BusinessInfo>,
    /// Ids Yelp did not describe: unknown to it, not this partner's, or not of Yelp's form (those are not
    /// sent at all).
    pub missing: Vec<BusinessId>,
    /// Entries that could not be read.
    pub malformed: Vec<MalformedBusiness>,
}

impl BusinessInfoBatch {
    /// Adds the results of another batch.
    pub fn merge(&mut self, other: BusinessInfoBatch) {
        self.businesses.extend(other.businesses);
        self.missing.extend(other.missing);
        self.malformed.extend(other.malformed);
    }
}

/// A call of business info that failed after retries.
#[derive(Debug, thiserror::Error)]
#[error("business info of {} businesses: {source}", business_ids.len())]
pub struct BusinessInfoError {
    /// The ids that call asked for; nothing is known of them.
    pub business_ids: Vec<BusinessId>,
    /// Why it failed.
    #[source]
    pub source: Error,
}

impl Client {
    /// What Yelp shows of each of `business_ids` (`GET /v1/business_info/{ids}`), in calls of at most 200
    /// ids with up to [`BUSINESS_INFO_CONCURRENCY`] in flight, each retried like every read and counted by
    /// the rate limit. Repeated ids are asked once; none asks nothing. A call that fails after retries fails
    /// the whole; [`Client::business_info_batches`] keeps the calls that succeeded.
    pub async fn business_info(&self, business_ids: &[BusinessId]) -> Result<BusinessInfoBatch> {
        let mut all = BusinessInfoBatch::default();
        let mut batches = self.business_info_batches(business_ids, BUSINESS_INFO_CONCURRENCY);
        while let Some(batch) = batches.next().await {
            all.merge(batch.map_err(|e| e.source)?);
        }
        Ok(all)
    }

    /// The calls of [`Client::business_info`] as they complete, in the order of the ids, with at most
    /// `concurrency` in flight. A call that fails after retries is yielded as an error naming its ids and
    /// the others still come. Ids not of Yelp's form are not sent: they come first, as a batch in which they
    /// are missing.
    pub fn business_info_batches(
        &self,
        business_ids: &[BusinessId],
        concurrency: usize,
    ) -> BoxStream<'static, Result<BusinessInfoBatch, BusinessInfoError>> {
        let mut seen = HashSet::new();
        let (askable, unaskable): (Vec<BusinessId>, Vec<BusinessId>) = business_ids
            .iter()
            .filter(|id| seen.insert(*id))
            .cloned()
            // A comma or a slash in an id would change what is asked.
            .partition(|id| BusinessId::parse(id.as_str()).is_ok());
        let unaskable = (!unaskable.is_empty()).then(|| {
            Ok(BusinessInfoBatch {
                missing: unaskable,
                ..BusinessInfoBatch::default()
            })
        });
        let chunks: Vec<Vec<BusinessId>> = askable
            .chunks(BUSINESS_INFO_MAX_IDS)
            .map(<[BusinessId]>::to_vec)
            .collect();
        let client = self.clone();
        let calls = stream::iter(chunks)
            .map(move |ids| {
                let client = client.clone();
                let asked = ids.clone();
                // Spawned, so that calls go on while the caller is busy with an earlier batch; aborted if the
                // caller drops the stream.
                AbortOnDropHandle::new(tokio::spawn(async move {
                    client
                        .business_info_call(&ids)
                        .await
                        .map_err(|source| BusinessInfoError {
                            business_ids: ids,
                            source,
                        })
                }))
                .map(move |joined| match joined {
                    Ok(batch) => batch,
                    Err(e) => Err(BusinessInfoError {
                        business_ids: asked,
                        source: Error::Transport(format!("business info task failed: {e}")),
                    }),
                })
            })
            .buffered(concurrency.max(1));
        stream::iter(unaskable).chain(calls).boxed()
    }

    /// One call, for at most 200 ids of Yelp's form.
    async fn business_info_call(&self, business_ids: &[BusinessId]) -> Result<BusinessInfoBatch> {
        let joined = business_ids
            .iter()
            .map(BusinessId::as_str)
            .collect::<Vec<_>>()
            .join(",");
        let path = ["v1", "business_info", joined.as_str()];
        let value = self
            .get_json(ENDPOINT, &path, &[], || {
                format!("business info of {} businesses", business_ids.len())
            })
            .await?;
        decode_batch(business_ids, value).map_err(|detail| Error::Decode {
            endpoint: ENDPOINT,
            detail,
        })
    }
}

/// Reads an answer: every entry on its own, the first entry of a business kept and later ones ignored.
fn decode_batch(asked: &[BusinessId], answer: Value) -> Result<BusinessInfoBatch, String> {
    let mut seen = HashSet::new();
    let mut batch = BusinessInfoBatch::default();
    for (key, raw) in entries(answer)? {
        match decode_entry(key, raw) {
            Ok(info) => {
                if seen.insert(info.business_id.clone()) {
                    batch.businesses.push(info);
                }
            }
            Err(malformed) => {
                let first = malformed
                    .business_id
                    .as_ref()
                    .is_none_or(|id| seen.insert(id.clone()));
                if first {
                    batch.malformed.push(malformed);
                }
            }
        }
    }
    batch.missing = asked
        .iter()
        .filter(|id| !seen.contains(*id))
        .cloned()
        .collect();
    Ok(batch)
}

/// The entries of an answer, each with the key it was filed under when the answer is keyed by id.
fn entries(answer: Value) -> Result<Vec<(Option<String>, Value)>, String> {
    const LIST_KEYS: [&str; 4] = ["businesses", "business_info", "results", "data"];
    let list = match answer {
        Value::Array(items) => Value::Array(items),
        Value::Object(mut map) => LIST_KEYS
            .iter()
            .find_map(|key| map.remove(*key))
            .ok_or("the answer has no `businesses`")?,
        other => return Err(format!("expected an object, found {}", kind(&other))),
    };
    match list {
        Value::Array(items) => Ok(items.into_iter().map(|v| (None, v)).collect()),
        Value::Object(keyed) => Ok(keyed.into_iter().map(|(k, v)| (Some(k), v)).collect()),
        Value::Null => Ok(Vec::new()),
        other => Err(format!(
            "`businesses` must be a list, found {}",
            kind(&other)
        )),
    }
}

fn decode_entry(key: Option<String>, raw: Value) -> Result<BusinessInfo, MalformedBusiness> {
    let Value::Object(entry) = &raw else {
        return Err(MalformedBusiness {
            business_id: key.map(BusinessId::from_yelp),
            error: format!("an entry must be an object, found {}", kind(&raw)),
        });
    };
    let id = text(
        entry,
        &[
            "id",
            "business_id",
            "yelp_business_id",
            "encrypted_business_id",
        ],
    );
    let business_id = match (id, key) {
        (Ok(Some(id)), _) | (Ok(None), Some(id)) => BusinessId::from_yelp(id),
        (Ok(None), None) => {
            return Err(MalformedBusiness {
                business_id: None,
                error: "the entry has no business id".into(),
            });
        }
        (Err(error), key) => {
            return Err(MalformedBusiness {
                business_id: key.map(BusinessId::from_yelp),
                error,
            });
        }
    };
    let fields = || -> Result<_, String> {
        let name = text(entry, &["name", "business_name"])?.ok_or("the entry has no `name`")?;
        Ok((
            name,
            address(entry)?,
            flag(entry, &["is_closed"])?,
            flag(entry, &["is_removed_from_search"])?,
            migration(entry)?,
            categories(entry)?,
        ))
    };
    match fields() {
        Ok((name, address, is_closed, is_removed_from_search, migration, categories)) => {
            Ok(BusinessInfo {
                business_id,
                name,
                address,
                is_closed,
                is_removed_from_search,
                migration,
                categories,
                raw,
            })
        }
        Err(error) => Err(MalformedBusiness {
            business_id: Some(business_id),
            error,
        }),
    }
}

fn address(entry: &Map<String, Value>) -> Result<Address, String> {
    let nested = field(entry, &["location", "address"]);
    let source = match nested {
        Some((_, Value::Object(inner))) => inner,
        // A string `address` is the first line of a flat entry, read below with the other lines.
        Some((_, Value::String(_))) | None => entry,
        Some((key, other)) => {
            return Err(format!(
                "`{key}` must be an object or text, found {}",
                kind(other)
            ));
        }
    };
    let line_keys: [&[&str]; 3] = [
        &[
            "address1",
            "address_1",
            "address_line1",
            "address_line_1",
            "street",
            "address",
        ],
        &["address2", "address_2", "address_line2", "address_line_2"],
        &["address3", "address_3", "address_line3", "address_line_3"],
    ];
    let mut lines = Vec::new();
    for keys in line_keys {
        lines.extend(text(source, keys)?);
    }
    if lines.is_empty() {
        if let Some((key, value)) = field(source, &["address_lines"]) {
            let Value::Array(items) = value else {
                return Err(format!("`{key}` must be a list, found {}", kind(value)));
            };
            for item in items {
                match item {
                    Value::String(s) if !s.trim().is_empty() => lines.push(s.trim().to_owned()),
                    Value::String(_) | Value::Null => {}
                    other => {
                        return Err(format!("`{key}` must hold text, found {}", kind(other)));
                    }
                }
            }
        }
    }
    Ok(Address {
        lines,
        city: text(source, &["city", "locality"])?,
        state: text(source, &["state", "state_code", "region"])?,
        zip: zip(source)?,
        country: text(source, &["country", "country_code"])?,
    })
}

fn migration(entry: &Map<String, Value>) -> Result<Option<Migration>, String> {
    let (source, nested_flag) = match field(entry, &["migration", "migration_info"]) {
        Some((_, Value::Object(inner))) => (inner, None),
        Some((_, Value::Bool(b))) => (entry, Some(*b)),
        None => (entry, None),
        Some((key, other)) => {
            return Err(format!("`{key}` must be an object, found {}", kind(other)));
        }
    };
    let is_migrated = match (nested_flag, flag(source, &["is_migrated", "migrated"])?) {
        (Some(b), _) | (None, Some(b)) => Some(b),
        (None, None) => text(source, &["migration_type"])?
            .map(|t| !(t.eq_ignore_ascii_case("NOT_MIGRATED") || t.eq_ignore_ascii_case("NONE"))),
    };
    let destination = text(
        source,
        &[
            "destination_business_id",
            "destination_yelp_business_id",
            "destination_id",
            "migrated_to",
        ],
    )?
    .map(BusinessId::from_yelp);
    Ok(match (is_migrated, destination) {
        (Some(false), _) => Some(Migration::NotMigrated),
        (Some(true), destination) => Some(Migration::MigratedTo(destination)),
        (None, Some(destination)) => Some(Migration::MigratedTo(Some(destination))),
        (None, None) => None,
    })
}

fn categories(entry: &Map<String, Value>) -> Result<Vec<Category>, String> {
    let alias = |s: &str| Category {
        alias: Some(s.to_owned()),
        title: None,
    };
    let Some((key, value)) = field(entry, &["category_list", "categories"]) else {
        return Ok(Vec::new());
    };
    let items = match value {
        Value::String(s) => {
            return Ok(s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(alias)
                .collect());
        }
        Value::Array(items) => items,
        other => {
            return Err(format!("`{key}` must be a list, found {}", kind(other)));
        }
    };
    let mut categories = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        match item {
            Value::String(s) if s.trim().is_empty() => {}
            Value::String(s) => categories.push(alias(s.trim())),
            Value::Object(object) => {
                let alias = text(object, &["alias", "category_alias", "id"])
                    .map_err(|e| format!("`{key}[{index}]`: {e}"))?;
                let title = text(object, &["title", "name", "display_name"])
                    .map_err(|e| format!("`{key}[{index}]`: {e}"))?;
                if alias.is_none() && title.is_none() {
                    return Err(format!("`{key}[{index}]` has neither alias nor title"));
                }
                categories.push(Category { alias, title });
            }
            other => {
                return Err(format!(
                    "`{key}[{index}]` must be an object or text, found {}",
                    kind(other)
                ));
            }
        }
    }
    Ok(categories)
}

/// The first of `keys` present with a value other than null.
fn field<'a>(
    object: &'a Map<String, Value>,
    keys: &[&'static str],
) -> Option<(&'static str, &'a Value)> {
    keys.iter()
        .find_map(|&key| object.get(key).filter(|v| !v.is_null()).map(|v| (key, v)))
}

/// Text under the first of `keys`, trimmed; blank is `None`.
fn text(object: &Map<String, Value>, keys: &[&'static str]) -> Result<Option<String>, String> {
    match field(object, keys) {
        None => Ok(None),
        Some((_, Value::String(s))) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        Some((key, other)) => Err(format!("`{key}` must be text, found {}", kind(other))),
    }
}

/// A ZIP code: text, or a whole number read as its digits.
fn zip(object: &Map<String, Value>) -> Result<Option<String>, String> {
    const KEYS: [&str; 4] = ["zip_code", "zip", "postal_code", "postcode"];
    match field(object, &KEYS) {
        Some((_, Value::Number(n))) if n.is_u64() => Ok(Some(n.to_string())),
        _ => text(object, &KEYS),
    }
}

/// A yes/no: a boolean, `"true"`/`"false"` in any case, or 1/0.
fn flag(object: &Map<String, Value>, keys: &[&'static str]) -> Result<Option<bool>, String> {
    let Some((key, value)) = field(object, keys) else {
        return Ok(None);
    };
    match value {
        Value::Bool(b) => return Ok(Some(*b)),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => return Ok(Some(true)),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => return Ok(Some(false)),
        Value::Number(n) => match n.as_u64() {
            Some(1) => return Ok(Some(true)),
            Some(0) => return Ok(Some(false)),
            _ => {}
        },
        _ => {}
    }
    Err(format!("`{key}` must be true or false, found {value}"))
}

/// A JSON value's kind, for a message (values themselves may be long).
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ids(ids: &[&str]) -> Vec<BusinessId> {
        ids.iter().map(|id| BusinessId::from_yelp(*id)).collect()
    }

    #[test]
    fn the_simulators_shape_decodes_into_every_typed_field() {
        let raw = json!({"id": "b1", "name": "Golden Gate Legal Pros",
            "location": {"address1": "1450 Mission St", "address2": "Suite 200", "address3": null,
                         "city": "San Francisco", "state": "CA", "zip_code": "02108", "country": "US"},
            "is_closed": false, "is_removed_from_search": true,
            "migration": {"is_migrated": true, "destination_business_id": "b2"},
            "category_list": [{"alias": "lawyers", "title": "Lawyers"}], "cta": {"kind": "call"}});
        let batch = decode_batch(&ids(&["b1"]), json!({"businesses": [raw.clone()]})).unwrap();
        assert_eq!(
            batch.businesses,
            vec![BusinessInfo {
                business_id: BusinessId::from_yelp("b1"),
                name: "Golden Gate Legal Pros".into(),
                address: Address {
                    lines: vec!["1450 Mission St".into(), "Suite 200".into()],
                    city: Some("San Francisco".into()),
                    state: Some("CA".into()),
                    zip: Some("02108".into()),
                    country: Some("US".into()),
                },
                is_closed: Some(false),
                is_removed_from_search: Some(true),
                migration: Some(Migration::MigratedTo(Some(BusinessId::from_yelp("b2")))),
                categories: vec![Category {
                    alias: Some("lawyers".into()),
                    title: Some("Lawyers".into()),
                }],
                raw,
            }]
        );
        assert_eq!(
            batch.businesses[0].migrated_to().map(BusinessId::as_str),
            Some("b2")
        );
        assert!(batch.missing.is_empty() && batch.malformed.is_empty());
    }

    #[test]
    fn reasonable_variants_of_the_shape_are_read_alike() {
        let answer = json!({"business_info": {
            "b1": {"business_name": "Flat", "address": "1 Main St", "city": "Reno", "state_code": "NV",
                   "zip": 89501, "is_closed": "TRUE", "is_removed_from_search": 0,
                   "is_migrated": false, "destination_business_id": "ignored",
                   "categories": "plumbing, hvac"},
            "b2": {"name": "Nested", "address": {"address_lines": ["9 Elm St", ""], "postal_code": "10001"},
                   "migration_info": {"migration_type": "MIGRATED", "destination_yelp_business_id": "b9"},
                   "category_list": ["movers", {"title": "Self Storage"}]},
            "b3": {"name": "Untold", "migrated_to": "b7"},
        }});
        let batch = decode_batch(&ids(&["b1", "b2", "b3"]), answer).unwrap();
        assert!(batch.malformed.is_empty(), "{:?}", batch.malformed);
        let [b1, b2, b3] = &batch.businesses[..] else {
            panic!("three businesses: {batch:?}");
        };
        assert_eq!(b1.business_id.as_str(), "b1", "the key is the id");
        assert_eq!(b1.address.lines, ["1 Main St"]);
        assert_eq!(
            (
                b1.address.city.as_deref(),
                b1.address.state.as_deref(),
                b1.address.zip.as_deref()
            ),
            (Some("Reno"), Some("NV"), Some("89501"))
        );
        assert_eq!(
            (b1.is_closed, b1.is_removed_from_search),
            (Some(true), Some(false))
        );
        assert_eq!(b1.migration, Some(Migration::NotMigrated));
        let aliases: Vec<_> = b1.categories.iter().map(|c| c.alias.as_deref()).collect();
        assert_eq!(aliases, [Some("plumbing"), Some("hvac")]);
        assert_eq!(b2.address.lines, ["9 Elm St"]);
        assert_eq!(b2.address.zip.as_deref(), Some("10001"));
        assert_eq!(b2.migrated_to().map(BusinessId::as_str), Some("b9"));
        assert_eq!(b2.categories[1].title.as_deref(), Some("Self Storage"));
        assert_eq!((b2.is_closed, b2.address.city.as_ref()), (None, None));
        assert_eq!(b3.migrated_to().map(BusinessId::as_str), Some("b7"));
        assert_eq!(
            decode_batch(&ids(&["b1"]), json!([{"id": "b1", "name": "Bare list"}]))
                .unwrap()
                .businesses
                .len(),
            1
        );
    }

    #[test]
    fn each_asked_id_is_described_missing_or_malformed_exactly_once() {
        let answer = json!({"businesses": [
            {"id": "ok", "name": "Fine"},
            {"id": "ok", "name": "A second entry for the same business"},
            {"id": "bad", "name": "Wrong flag", "is_closed": "perhaps"},
            {"id": "noname"},
            {"name": "No id"},
            {"id": "extra", "name": "Not asked"},
            17,
        ], "errors": [{"id": "INVALID_BUSINESS_ID", "business_id": "gone"}]});
        let batch = decode_batch(&ids(&["ok", "bad", "noname", "gone"]), answer).unwrap();
        let described: Vec<_> = batch
            .businesses
            .iter()
            .map(|b| (b.business_id.as_str(), b.name.as_str()))
            .collect();
        assert_eq!(described, [("ok", "Fine"), ("extra", "Not asked")]);
        assert_eq!(batch.missing, ids(&["gone"]));
        let malformed: Vec<_> = batch
            .malformed
            .iter()
            .map(|m| {
                (
                    m.business_id.as_ref().map(BusinessId::as_str),
                    m.error.as_str(),
                )
            })
            .collect();
        assert_eq!(
            malformed,
            [
                (
                    Some("bad"),
                    "`is_closed` must be true or false, found \"perhaps\""
                ),
                (Some("noname"), "the entry has no `name`"),
                (None, "the entry has no business id"),
                (None, "an entry must be an object, found a number"),
            ]
        );
    }

    #[test]
    fn an_answer_without_a_list_of_businesses_is_an_error_of_the_call() {
        for answer in [
            json!({"total": 3}),
            json!("businesses"),
            json!({"businesses": 3}),
            Value::Null,
        ] {
            assert!(
                decode_batch(&ids(&["a"]), answer.clone()).is_err(),
                "{answer}"
            );
        }
        let empty = decode_batch(&ids(&["a"]), json!({"businesses": null})).unwrap();
        assert_eq!(empty.missing, ids(&["a"]));
    }

    #[test]
    fn fields_of_the_wrong_type_name_themselves() {
        for (entry, needle) in [
            (json!({"id": "a", "name": 7}), "`name` must be text"),
            (json!({"id": 7, "name": "x"}), "`id` must be text"),
            (
                json!({"id": "a", "name": "x", "location": [1]}),
                "`location` must be an object",
            ),
            (
                json!({"id": "a", "name": "x", "location": {"city": {}}}),
                "`city` must be text",
            ),
            (
                json!({"id": "a", "name": "x", "migration": "yes"}),
                "`migration` must be an object",
            ),
            (
                json!({"id": "a", "name": "x", "category_list": [true]}),
                "`category_list[0]`",
            ),
            (
                json!({"id": "a", "name": "x", "category_list": [{}]}),
                "neither alias nor title",
            ),
            (
                json!({"id": "a", "name": "x", "is_removed_from_search": 2}),
                "`is_removed_from_search`",
            ),
        ] {
            let batch = decode_batch(&ids(&["a"]), json!({"businesses": [entry.clone()]})).unwrap();
            assert_eq!(batch.malformed.len(), 1, "{entry}");
            assert!(
                batch.malformed[0].error.contains(needle),
                "{entry}: {}",
                batch.malformed[0].error
            );
        }
    }
}
