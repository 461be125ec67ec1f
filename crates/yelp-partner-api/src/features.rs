//! Program features (`/program/{program_id}/features/v1`, contract §4.9 and §13): one type per feature type,
//! a reader that never drops an entry, and the body of a change.
//!
//! Reading keeps everything Yelp sent: a type this client does not know stays as raw JSON
//! ([`FeatureEntry::Unknown`]), and an entry of a known type whose fields cannot be read stays raw with the
//! reason ([`FeatureEntry::Malformed`]), so one odd entry costs nothing else and is written back as it came.
//! Within a known type, fields this client does not know are ignored. A `null` entry or field reads as the
//! type's default ("off"), which is how Yelp shows a feature after a DELETE.
//!
//! Writing sends only what a partner sets: Yelp supplies the suggested keywords, the available and mutually
//! exclusive highlights and a license's verification, so those are never sent, and highlights are written
//! with the `business_highlights` field, as Yelp's own page says (§13).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use reqwest::Method;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value, json};
use tracing::warn;

use crate::client::{Client, ok_json};
use crate::enums::{AdGoal, FeatureType, LicenseStatus};
use crate::error::{Error, Result};
use crate::ids::{BusinessId, ProgramId, ProjectId};

/// LINK_TRACKING: tracking added to the ad's links, each a full URL or only parameters such as
/// `utm_source=yelp`; `None` leaves that link untracked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LinkTracking {
    /// The website link.
    pub website: Option<String>,
    /// The menu link.
    pub menu: Option<String>,
    /// The call-to-action link.
    pub call_to_action: Option<String>,
}

/// NEGATIVE_KEYWORD_TARGETING: searches the ads must not show for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NegativeKeywordTargeting {
    /// The blocked keywords (sent on write).
    #[serde(deserialize_with = "null_as_default")]
    pub blocked_keywords: Vec<String>,
    /// Up to 25 keywords Yelp suggests blocking; read only.
    #[serde(deserialize_with = "null_as_default")]
    pub suggested_keywords: Vec<String>,
}

/// STRICT_CATEGORY_TARGETING: show the ads only in the program's own categories.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StrictCategoryTargeting {
    /// Whether it is on.
    #[serde(deserialize_with = "null_as_default")]
    pub enabled: bool,
}

/// AD_SCHEDULING: run the ads only while the business is open.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdScheduling {
    /// Whether the ads follow the opening hours.
    #[serde(deserialize_with = "null_as_default")]
    pub uses_opening_hours: bool,
}

/// CUSTOM_LOCATION_TARGETING: US ZIP codes, cities, counties or states to show the ads in. Yelp normalises
/// them, so what it answers, not what was sent, is what it holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomLocationTargeting {
    /// The locations of each business of the program.
    #[serde(deserialize_with = "null_as_default")]
    pub businesses: Vec<BusinessLocations>,
}

/// The custom locations of one business.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessLocations {
    /// The business.
    pub business_id: BusinessId,
    /// Its locations, at most 25.
    #[serde(default, deserialize_with = "null_as_default")]
    pub locations: Vec<String>,
}

/// AD_GOAL: what the ads optimise for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdGoalSetting {
    /// DEFAULT, CALLS or WEBSITE_CLICKS; a value Yelp adds is kept.
    #[serde(deserialize_with = "null_as_default")]
    pub ad_goal: AdGoal,
}

/// CALL_TRACKING: metered phone numbers that count the calls the ads bring.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallTracking {
    /// Whether it is on.
    #[serde(deserialize_with = "null_as_default")]
    pub enabled: bool,
    /// The metered number of each business.
    #[serde(deserialize_with = "null_as_default")]
    pub businesses: Vec<MeteredPhone>,
}

/// The metered phone number of one business.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeteredPhone {
    /// The business.
    pub business_id: BusinessId,
    /// Its metered number; `None` for Yelp's choice or none.
    #[serde(default)]
    pub metered_phone_number: Option<String>,
}

/// SERVICE_OFFERINGS_TARGETING (deprecated by Yelp, still listed by one source): services to show for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceOfferingsTargeting {
    /// Services switched off.
    #[serde(deserialize_with = "null_as_default")]
    pub disabled_service_offerings: Vec<String>,
    /// Services switched on.
    #[serde(deserialize_with = "null_as_default")]
    pub enabled_service_offerings: Vec<String>,
}

/// BUSINESS_HIGHLIGHTS: badges on the business page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BusinessHighlights {
    /// The highlights shown (written as `business_highlights`).
    #[serde(alias = "business_highlights", deserialize_with = "null_as_default")]
    pub active_business_highlights: Vec<String>,
    /// The highlights this business may show; read only.
    #[serde(deserialize_with = "null_as_default")]
    pub available_business_highlights: Vec<String>,
    /// Groups of highlights of which at most one may be shown; read only.
    #[serde(deserialize_with = "null_as_default")]
    pub mutually_exclusive_business_highlights: Vec<Vec<String>>,
}

/// VERIFIED_LICENSE: license badges. A POST adds or edits licenses by number; only a DELETE removes them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VerifiedLicense {
    /// The licenses.
    #[serde(deserialize_with = "null_as_default")]
    pub licenses: Vec<License>,
}

/// One license of a VERIFIED_LICENSE program.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct License {
    /// The number, which identifies the license.
    pub license_number: String,
    /// Yelp's verification; read only.
    #[serde(default)]
    pub license_verification_status: Option<LicenseStatus>,
    /// When it expires.
    #[serde(default)]
    pub license_expiry_date: Option<NaiveDate>,
    /// The trade it licenses, e.g. "Plumbing".
    #[serde(default)]
    pub license_trade: Option<String>,
    /// Who issued it.
    #[serde(default)]
    pub license_issuing_agency: Option<String>,
    /// Why Yelp refused it; read only.
    #[serde(default)]
    pub license_verification_failure_reason: Option<String>,
}

impl License {
    /// The fields a partner sets; the ones left `None` are not sent, so an edit by number keeps them.
    fn write_fields(&self) -> Value {
        let mut fields = Map::new();
        fields.insert("license_number".into(), json!(self.license_number));
        let optional = [
            (
                "license_expiry_date",
                self.license_expiry_date.map(|d| d.to_string()),
            ),
            ("license_trade", self.license_trade.clone()),
            (
                "license_issuing_agency",
                self.license_issuing_agency.clone(),
            ),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                fields.insert(name.into(), Value::String(value));
            }
        }
        Value::Object(fields)
    }

    /// Whether `held` carries this license's number and every field this one sets.
    fn is_held_by(&self, held: &License) -> bool {
        let same = |want: &Option<String>, got: &Option<String>| want.is_none() || want == got;
        self.license_number == held.license_number
            && (self.license_expiry_date.is_none()
                || self.license_expiry_date == held.license_expiry_date)
            && same(&self.license_trade, &held.license_trade)
            && same(&self.license_issuing_agency, &held.license_issuing_agency)
    }
}

/// CUSTOM_RADIUS_TARGETING: show the ads within a radius of the business.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomRadiusTargeting {
    /// Miles, 1 to 60; `None` is off.
    #[serde(serialize_with = "miles::serialize")]
    pub custom_radius: Option<f64>,
}

/// CUSTOM_AD_TEXT: the ad's text, or a review to quote; only one of the two.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomAdText {
    /// A review of the business to quote.
    pub custom_review_id: Option<String>,
    /// Text of the advertiser's own, 15 to 1,500 characters.
    pub custom_text: Option<String>,
}

/// CUSTOM_AD_PHOTO: the photo the ads show.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomAdPhoto {
    /// A photo of the business; `None` for Yelp's choice.
    pub custom_photo_id: Option<String>,
}

/// BUSINESS_LOGO: the logo on ad placements.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BusinessLogo {
    /// A public jpeg, png, gif or tiff URL; `None` for no logo.
    pub business_logo_url: Option<String>,
}

/// YELP_PORTFOLIO: the program's portfolio projects. A POST publishes or unpublishes the projects it lists;
/// a DELETE removes every project. Projects themselves are made through the portfolio endpoints.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct YelpPortfolio {
    /// The projects and whether each is published.
    #[serde(deserialize_with = "null_as_default")]
    pub projects: Vec<ProjectState>,
}

/// Whether one portfolio project is published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectState {
    /// The project.
    pub project_id: ProjectId,
    /// Whether it shows.
    #[serde(default, deserialize_with = "null_as_default")]
    pub published: bool,
}

/// The settings of one feature type, each type with its own struct.
pub trait FeatureSettings: Sized + Into<Feature> {
    /// The type these settings belong to.
    const FEATURE_TYPE: FeatureType;

    /// These settings, if `feature` is of this type.
    fn of(feature: &Feature) -> Option<&Self>;
}

macro_rules! features {
    ($($(#[$doc:meta])* $variant:ident($settings:ident),)*) => {
        /// One feature of a program with its settings; the variant is the feature type.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Feature {
            $($(#[$doc])* $variant($settings),)*
        }

        impl Feature {
            /// The feature type.
            pub fn feature_type(&self) -> FeatureType {
                match self {
                    $(Self::$variant(_) => FeatureType::$variant,)*
                }
            }

            /// Reads the fields of a known type; `None` for a type this client does not know.
            fn decode(feature_type: &FeatureType, fields: &Value) -> Option<Result<Self, String>> {
                match feature_type {
                    $(FeatureType::$variant => Some(
                        $settings::deserialize(fields).map(Self::$variant).map_err(|e| e.to_string()),
                    ),)*
                    FeatureType::Other(_) => None,
                }
            }

            /// Every field, as Yelp shows it.
            fn fields(&self) -> Value {
                // Serialising these plain structs cannot fail (string keys only); `Null` is never reached.
                match self {
                    $(Self::$variant(settings) => serde_json::to_value(settings).unwrap_or_default(),)*
                }
            }
        }

        $(
            impl From<$settings> for Feature {
                fn from(settings: $settings) -> Self {
                    Self::$variant(settings)
                }
            }

            impl FeatureSettings for $settings {
                const FEATURE_TYPE: FeatureType = FeatureType::$variant;

                fn of(feature: &Feature) -> Option<&Self> {
                    if let Feature::$variant(settings) = feature {
                        Some(settings)
                    } else {
                        None
                    }
                }
            }
        )*
    };
}

features! {
    /// LINK_TRACKING.
    LinkTracking(LinkTracking),
    /// NEGATIVE_KEYWORD_TARGETING.
    NegativeKeywordTargeting(NegativeKeywordTargeting),
    /// STRICT_CATEGORY_TARGETING.
    StrictCategoryTargeting(StrictCategoryTargeting),
    /// AD_SCHEDULING.
    AdScheduling(AdScheduling),
    /// CUSTOM_LOCATION_TARGETING.
    CustomLocationTargeting(CustomLocationTargeting),
    /// AD_GOAL.
    AdGoal(AdGoalSetting),
    /// CALL_TRACKING.
    CallTracking(CallTracking),
    /// SERVICE_OFFERINGS_TARGETING (deprecated).
    ServiceOfferingsTargeting(ServiceOfferingsTargeting),
    /// BUSINESS_HIGHLIGHTS.
    BusinessHighlights(BusinessHighlights),
    /// VERIFIED_LICENSE.
    VerifiedLicense(VerifiedLicense),
    /// CUSTOM_RADIUS_TARGETING.
    CustomRadiusTargeting(CustomRadiusTargeting),
    /// CUSTOM_AD_TEXT.
    CustomAdText(CustomAdText),
    /// CUSTOM_AD_PHOTO.
    CustomAdPhoto(CustomAdPhoto),
    /// BUSINESS_LOGO.
    BusinessLogo(BusinessLogo),
    /// YELP_PORTFOLIO.
    YelpPortfolio(YelpPortfolio),
}

impl Feature {
    /// The fields sent to set this feature: read-only fields left out, highlights as `business_highlights`.
    pub fn write_fields(&self) -> Value {
        match self {
            Self::NegativeKeywordTargeting(f) => json!({"blocked_keywords": f.blocked_keywords}),
            Self::BusinessHighlights(f) => {
                json!({"business_highlights": f.active_business_highlights})
            }
            Self::VerifiedLicense(f) => {
                let licenses: Vec<Value> = f.licenses.iter().map(License::write_fields).collect();
                json!({ "licenses": licenses })
            }
            other => other.fields(),
        }
    }

    /// Every field with `feature_type`, as a GET shows the entry.
    fn read_json(&self) -> Value {
        let mut fields = match self.fields() {
            Value::Object(fields) => fields,
            _ => Map::new(),
        };
        fields.insert(
            "feature_type".into(),
            Value::String(self.feature_type().as_str().to_owned()),
        );
        Value::Object(fields)
    }

    /// Whether `held`, what Yelp answered or reads back, shows this change as made.
    fn is_held_by(&self, held: &Feature) -> bool {
        match (self, held) {
            // A POST adds or edits the licenses it names and keeps the others.
            (Self::VerifiedLicense(change), Self::VerifiedLicense(held)) => change
                .licenses
                .iter()
                .all(|l| held.licenses.iter().any(|h| l.is_held_by(h))),
            // A POST publishes or unpublishes the projects it names and keeps the others.
            (Self::YelpPortfolio(change), Self::YelpPortfolio(held)) => {
                change.projects.iter().all(|p| held.projects.contains(p))
            }
            (change, held) => change.write_fields() == held.write_fields(),
        }
    }
}

/// What Yelp sent for one feature type of a program.
#[derive(Clone, Debug, PartialEq)]
pub enum FeatureEntry {
    /// A type this client knows, read into its settings.
    Known(Feature),
    /// A type this client does not know, kept exactly as sent.
    Unknown(Value),
    /// A known type whose fields could not be read, kept exactly as sent.
    Malformed {
        /// The entry as Yelp sent it.
        value: Value,
        /// Why it could not be read.
        reason: String,
    },
}

impl FeatureEntry {
    fn decode(feature_type: &FeatureType, value: Value) -> Self {
        let empty = Value::Object(Map::new());
        // Null is how a reset feature may come back: the type's defaults.
        let fields = if value.is_null() { &empty } else { &value };
        if !fields.is_object() {
            return match feature_type {
                FeatureType::Other(_) => Self::Unknown(value),
                _ => Self::Malformed {
                    reason: "expected an object of fields".into(),
                    value,
                },
            };
        }
        match Feature::decode(feature_type, fields) {
            None => Self::Unknown(value),
            Some(Ok(feature)) => Self::Known(feature),
            Some(Err(reason)) => Self::Malformed { value, reason },
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Self::Known(feature) => feature.read_json(),
            Self::Unknown(value) | Self::Malformed { value, .. } => value.clone(),
        }
    }
}

/// A program's features as Yelp shows them (`{"features": {TYPE: {...}}}`): every type that applies to the
/// program, known, unknown or unreadable.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProgramFeatures {
    entries: BTreeMap<FeatureType, FeatureEntry>,
}

impl ProgramFeatures {
    /// No features.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads Yelp's body. Only a body that is not an object, or whose `features` is neither an object nor
    /// missing, is an error; each entry is read on its own (see [`FeatureEntry`]).
    pub fn from_json(body: Value) -> Result<Self, String> {
        let features = match body {
            Value::Object(mut top) => top.remove("features").unwrap_or(Value::Null),
            other => return Err(format!("expected {{\"features\": {{...}}}}, found {other}")),
        };
        let map = match features {
            Value::Null => Map::new(),
            Value::Object(map) => map,
            other => return Err(format!("`features` must be an object, found {other}")),
        };
        let entries = map
            .into_iter()
            .map(|(key, value)| {
                let feature_type = exact_type(key);
                let entry = FeatureEntry::decode(&feature_type, value);
                (feature_type, entry)
            })
            .collect();
        Ok(Self { entries })
    }

    /// The body Yelp sent, as far as it was read: known types from their settings, the others as sent.
    pub fn to_json(&self) -> Value {
        let features: Map<String, Value> = self
            .entries
            .iter()
            .map(|(t, e)| (t.as_str().to_owned(), e.to_json()))
            .collect();
        json!({ "features": features })
    }

    /// Every entry, by feature type.
    pub fn entries(&self) -> impl Iterator<Item = (&FeatureType, &FeatureEntry)> {
        self.entries.iter()
    }

    /// The entry of one type, if the program has it.
    pub fn entry(&self, feature_type: &FeatureType) -> Option<&FeatureEntry> {
        self.entries.get(feature_type)
    }

    /// The readable settings of one type.
    pub fn feature(&self, feature_type: &FeatureType) -> Option<&Feature> {
        match self.entries.get(feature_type) {
            Some(FeatureEntry::Known(feature)) => Some(feature),
            _ => None,
        }
    }

    /// The settings of type `T`, e.g. `features.get::<CustomRadiusTargeting>()`.
    pub fn get<T: FeatureSettings>(&self) -> Option<&T> {
        self.feature(&T::FEATURE_TYPE).and_then(T::of)
    }

    /// Sets the entry of `feature`'s type.
    pub fn insert(&mut self, feature: impl Into<Feature>) {
        let feature = feature.into();
        self.entries
            .insert(feature.feature_type(), FeatureEntry::Known(feature));
    }

    /// Sets an entry as it came from Yelp (an unknown or unreadable one, for instance).
    pub fn insert_entry(&mut self, feature_type: FeatureType, entry: FeatureEntry) {
        self.entries.insert(feature_type, entry);
    }

    /// How many types there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Serialize for ProgramFeatures {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for ProgramFeatures {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::from_json(Value::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A key that spells a known type exactly is that type; anything else (another case included) is kept as
/// an unknown type, so that two keys never fold into one and every key is written back as it came.
fn exact_type(key: String) -> FeatureType {
    let feature_type = FeatureType::from_wire(&key);
    if feature_type.is_known() && feature_type.as_str() != key {
        FeatureType::Other(key)
    } else {
        feature_type
    }
}

/// Features to set in one `POST /program/{id}/features/v1`, at most one per type.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FeatureChanges {
    features: BTreeMap<FeatureType, Feature>,
}

impl FeatureChanges {
    /// No change yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the change of `feature`'s type.
    pub fn set(&mut self, feature: impl Into<Feature>) -> &mut Self {
        let feature = feature.into();
        self.features.insert(feature.feature_type(), feature);
        self
    }

    /// `set`, by value.
    pub fn with(mut self, feature: impl Into<Feature>) -> Self {
        self.set(feature);
        self
    }

    /// The change of one type.
    pub fn feature(&self, feature_type: &FeatureType) -> Option<&Feature> {
        self.features.get(feature_type)
    }

    /// The change of type `T`.
    pub fn get<T: FeatureSettings>(&self) -> Option<&T> {
        self.feature(&T::FEATURE_TYPE).and_then(T::of)
    }

    /// Every change, in feature type order.
    pub fn iter(&self) -> impl Iterator<Item = &Feature> {
        self.features.values()
    }

    /// How many types change.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// The request body, `{"features": {TYPE: {fields}}}`.
    pub fn body(&self) -> Value {
        let features: Map<String, Value> = self
            .features
            .iter()
            .map(|(t, f)| (t.as_str().to_owned(), f.write_fields()))
            .collect();
        json!({ "features": features })
    }

    /// The types whose change `held` (Yelp's answer, or its state read back) does not show. Yelp normalises
    /// custom locations, so a location change can read back as not held although Yelp took it.
    pub fn not_held_by(&self, held: &ProgramFeatures) -> Vec<FeatureType> {
        self.features
            .iter()
            .filter(|(t, change)| !held.feature(t).is_some_and(|h| change.is_held_by(h)))
            .map(|(t, _)| t.clone())
            .collect()
    }
}

impl FromIterator<Feature> for FeatureChanges {
    fn from_iter<I: IntoIterator<Item = Feature>>(iter: I) -> Self {
        let mut changes = Self::new();
        for feature in iter {
            changes.set(feature);
        }
        changes
    }
}

/// What a feature write (POST or DELETE) came to. Never sent twice: when Yelp's answer did not arrive, the
/// features are read back instead, so the caller sees what Yelp holds and can tell with
/// [`FeatureChanges::not_held_by`] whether the change was made.
#[derive(Debug)]
pub enum FeatureWrite {
    /// Yelp answered with the features after the change.
    Answered(ProgramFeatures),
    /// The write went unanswered (see [`Error::leaves_outcome_unknown`]); the features as read afterwards.
    ReadBack {
        /// What Yelp holds now.
        features: ProgramFeatures,
        /// What became of the write.
        unanswered: Error,
    },
}

impl FeatureWrite {
    /// The features Yelp holds after the write, answered or read back.
    pub fn features(&self) -> &ProgramFeatures {
        match self {
            Self::Answered(features) | Self::ReadBack { features, .. } => features,
        }
    }

    /// The features, by value.
    pub fn into_features(self) -> ProgramFeatures {
        match self {
            Self::Answered(features) | Self::ReadBack { features, .. } => features,
        }
    }

    /// Whether Yelp answered the write itself.
    pub fn was_answered(&self) -> bool {
        matches!(self, Self::Answered(_))
    }
}

fn features_path(program_id: &ProgramId) -> [&str; 4] {
    ["program", program_id.as_str(), "features", "v1"]
}

impl Client {
    /// A program's features (`GET /program/{id}/features/v1`), retried like every read.
    pub async fn program_features(&self, program_id: &ProgramId) -> Result<ProgramFeatures> {
        const ENDPOINT: &str = "GET /program/{program_id}/features/v1";
        let call = self.get(ENDPOINT, &features_path(program_id), &[])?;
        let reply = self.send(call).await?;
        let value = ok_json(ENDPOINT, reply, || format!("program {program_id}"))?;
        read_features(ENDPOINT, value)
    }

    /// Sets features (`POST /program/{id}/features/v1`); Yelp answers the state after the change. Never
    /// retried; an unanswered write is read back (see [`FeatureWrite`]).
    pub async fn update_program_features(
        &self,
        program_id: &ProgramId,
        changes: &FeatureChanges,
    ) -> Result<FeatureWrite> {
        if changes.is_empty() {
            return Err(Error::InvalidRequest(
                "a feature change must set at least one feature type".into(),
            ));
        }
        let body = changes.body();
        self.write_features(
            "POST /program/{program_id}/features/v1",
            Method::POST,
            program_id,
            &body,
        )
        .await
    }

    /// Turns features off or resets them (`DELETE /program/{id}/features/v1`): every license of
    /// VERIFIED_LICENSE, every project of YELP_PORTFOLIO. Never retried; an unanswered delete is read back.
    pub async fn delete_program_features(
        &self,
        program_id: &ProgramId,
        feature_types: &[FeatureType],
    ) -> Result<FeatureWrite> {
        if feature_types.is_empty() {
            return Err(Error::InvalidRequest(
                "a feature delete must name at least one feature type".into(),
            ));
        }
        let body = json!({ "features": feature_types });
        self.write_features(
            "DELETE /program/{program_id}/features/v1",
            Method::DELETE,
            program_id,
            &body,
        )
        .await
    }

    async fn write_features(
        &self,
        endpoint: &'static str,
        method: Method,
        program_id: &ProgramId,
        body: &Value,
    ) -> Result<FeatureWrite> {
        // Not idempotent: the send loop makes one attempt.
        let call = self.call(
            endpoint,
            method,
            &features_path(program_id),
            &[],
            Some(body),
            false,
        )?;
        let answered = match self.send(call).await {
            Ok(reply) => ok_json(endpoint, reply, || format!("program {program_id}"))
                .and_then(|value| read_features(endpoint, value)),
            Err(e) => Err(e),
        };
        match answered {
            Ok(features) => Ok(FeatureWrite::Answered(features)),
            Err(unanswered) if unanswered.leaves_outcome_unknown() => {
                warn!(endpoint, error = %unanswered, "feature write unanswered; reading the features back");
                match self.program_features(program_id).await {
                    Ok(features) => Ok(FeatureWrite::ReadBack {
                        features,
                        unanswered,
                    }),
                    Err(read) => {
                        warn!(endpoint, error = %read, "features could not be read back");
                        Err(unanswered)
                    }
                }
            }
            Err(e) => Err(e),
        }
    }
}

fn read_features(endpoint: &'static str, value: Value) -> Result<ProgramFeatures> {
    ProgramFeatures::from_json(value).map_err(|detail| Error::Decode { endpoint, detail })
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

mod miles {
    use serde::Serializer;

    /// Whole miles go out as integers (`25`, not `25.0`), as Yelp's examples write them.
    pub(super) fn serialize<S: Serializer>(miles: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match *miles {
            Some(m) if m.fract() == 0.0 && m.abs() < 1e15 => s.serialize_i64(m as i64),
            Some(m) => s.serialize_f64(m),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        json!({"features": {
            "AD_GOAL": {"feature_type": "AD_GOAL", "ad_goal": "CALLS"},
            "CUSTOM_RADIUS_TARGETING": {"feature_type": "CUSTOM_RADIUS_TARGETING", "custom_radius": 25},
            "NEGATIVE_KEYWORD_TARGETING": {"blocked_keywords": ["diy"], "suggested_keywords": ["free"],
                                           "a_field_from_the_future": 1},
            "BUSINESS_HIGHLIGHTS": {"active_business_highlights": ["FAMILY_OWNED"],
                                    "available_business_highlights": ["FAMILY_OWNED", "LOCALLY_OWNED"],
                                    "mutually_exclusive_business_highlights": [["FAMILY_OWNED", "LOCALLY_OWNED"]]},
            "HOLOGRAM_ADS": {"feature_type": "HOLOGRAM_ADS", "depth": [1, 2]},
            "CALL_TRACKING": {"enabled": "yes"},
            "CUSTOM_AD_PHOTO": null,
        }})
    }

    #[test]
    fn known_types_are_typed_unknown_and_unreadable_ones_are_kept_as_sent() {
        let features = ProgramFeatures::from_json(sample()).unwrap();
        assert_eq!(features.len(), 7);
        assert_eq!(
            features.get::<AdGoalSetting>().unwrap().ad_goal,
            AdGoal::Calls
        );
        assert_eq!(
            features
                .get::<CustomRadiusTargeting>()
                .unwrap()
                .custom_radius,
            Some(25.0)
        );
        let keywords = features.get::<NegativeKeywordTargeting>().unwrap();
        assert_eq!(keywords.suggested_keywords, ["free"]);
        let unknown = FeatureType::Other("HOLOGRAM_ADS".into());
        assert_eq!(
            features.entry(&unknown),
            Some(&FeatureEntry::Unknown(
                sample()["features"]["HOLOGRAM_ADS"].clone()
            ))
        );
        match features.entry(&FeatureType::CallTracking) {
            Some(FeatureEntry::Malformed { value, reason }) => {
                assert_eq!(value, &json!({"enabled": "yes"}));
                assert!(reason.contains("expected a boolean"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            features.get::<CustomAdPhoto>(),
            Some(&CustomAdPhoto::default()),
            "a null entry reads as the type's defaults"
        );
        let back = features.to_json();
        assert_eq!(
            back["features"]["HOLOGRAM_ADS"],
            sample()["features"]["HOLOGRAM_ADS"]
        );
        assert_eq!(back["features"]["CALL_TRACKING"], json!({"enabled": "yes"}));
        assert_eq!(
            back["features"]["CUSTOM_RADIUS_TARGETING"]["custom_radius"],
            json!(25)
        );
        assert_eq!(ProgramFeatures::from_json(back).unwrap(), features);
    }

    #[test]
    fn a_key_in_another_case_stays_its_own_entry() {
        let body = json!({"features": {"AD_GOAL": {"ad_goal": "CALLS"}, "ad_goal": {"x": 1}}});
        let features = ProgramFeatures::from_json(body.clone()).unwrap();
        assert_eq!(features.len(), 2);
        assert_eq!(features.to_json()["features"]["ad_goal"], json!({"x": 1}));
    }

    #[test]
    fn a_body_that_is_not_a_features_object_is_an_error() {
        assert!(ProgramFeatures::from_json(json!([1])).is_err());
        assert!(ProgramFeatures::from_json(json!({"features": 3})).is_err());
        assert!(ProgramFeatures::from_json(json!({})).unwrap().is_empty());
    }

    #[test]
    fn a_change_sends_only_what_a_partner_sets() {
        let changes = FeatureChanges::new()
            .with(NegativeKeywordTargeting {
                blocked_keywords: vec!["diy".into()],
                suggested_keywords: vec!["free".into()],
            })
            .with(BusinessHighlights {
                active_business_highlights: vec!["FAMILY_OWNED".into()],
                ..BusinessHighlights::default()
            })
            .with(VerifiedLicense {
                licenses: vec![License {
                    license_number: "C-10 123".into(),
                    license_verification_status: Some(LicenseStatus::Verified),
                    license_trade: Some("Plumbing".into()),
                    ..License::default()
                }],
            })
            .with(CustomRadiusTargeting {
                custom_radius: Some(25.0),
            });
        assert_eq!(
            changes.body(),
            json!({"features": {
                "NEGATIVE_KEYWORD_TARGETING": {"blocked_keywords": ["diy"]},
                "BUSINESS_HIGHLIGHTS": {"business_highlights": ["FAMILY_OWNED"]},
                "VERIFIED_LICENSE": {"licenses": [{"license_number": "C-10 123", "license_trade": "Plumbing"}]},
                "CUSTOM_RADIUS_TARGETING": {"custom_radius": 25},
            }})
        );
    }

    #[test]
    fn a_change_is_held_when_what_yelp_shows_has_it() {
        let changes = FeatureChanges::new()
            .with(CustomRadiusTargeting {
                custom_radius: Some(25.0),
            })
            .with(VerifiedLicense {
                licenses: vec![License {
                    license_number: "A1".into(),
                    ..License::default()
                }],
            });
        let mut held = ProgramFeatures::new();
        assert_eq!(
            changes.not_held_by(&held),
            [
                FeatureType::VerifiedLicense,
                FeatureType::CustomRadiusTargeting
            ]
        );
        held.insert(CustomRadiusTargeting {
            custom_radius: Some(25.0),
        });
        held.insert(VerifiedLicense {
            licenses: vec![
                License {
                    license_number: "OLD".into(),
                    ..License::default()
                },
                License {
                    license_number: "A1".into(),
                    license_verification_status: Some(LicenseStatus::Pending),
                    ..License::default()
                },
            ],
        });
        assert!(changes.not_held_by(&held).is_empty());
        held.insert(CustomRadiusTargeting {
            custom_radius: Some(30.0),
        });
        assert_eq!(
            changes.not_held_by(&held),
            [FeatureType::CustomRadiusTargeting]
        );
    }
}
