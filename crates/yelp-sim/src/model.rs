//! The simulated account: businesses, programs and the enumerations of contract §2 and §3.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The `end_date` that means "no end" (contract §1).
pub const NO_END: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(date) => date,
    None => NaiveDate::MAX,
};

/// Smallest CPC monthly budget in cents (contract §7).
pub const MIN_BUDGET_CENTS: i64 = 2500;

/// Every Yelp category alias the simulator recognises. Anything else in `ad_categories` is
/// `CATEGORY_ALIAS_NOT_RECOGNIZED`.
pub const CATEGORY_ALIASES: &[&str] = &[
    "accountants",
    "airportterminals",
    "autorepair",
    "bakeries",
    "barbers",
    "bodyshops",
    "carpet_cleaning",
    "chinese",
    "chiropractors",
    "coffee",
    "contractors",
    "cosmetic_dentists",
    "criminaldefense",
    "dentists",
    "divorce",
    "electricians",
    "flooring",
    "garage_door_services",
    "gardeners",
    "generaldentistry",
    "gutterservices",
    "gyms",
    "hair",
    "handyman",
    "homecleaning",
    "hvac",
    "insurance",
    "italian",
    "landmarks",
    "landscaping",
    "lawyers",
    "locksmiths",
    "massage",
    "mexican",
    "movers",
    "nailsalons",
    "oilchange",
    "optometrists",
    "orthodontists",
    "painters",
    "personal_injury",
    "pest_control",
    "petgroomers",
    "physicaltherapy",
    "pizza",
    "plumbing",
    "pool_cleaners",
    "propertymgmt",
    "realestateagents",
    "realestatesvcs",
    "restaurants",
    "roofing",
    "selfstorage",
    "skincare",
    "solarinstallation",
    "sushi",
    "tires",
    "treeservices",
    "veterinarians",
    "waterheaterinstallrepair",
    "windowsinstallation",
    "yoga",
];

/// Categories that cannot be advertised: explicit `ad_categories` for such a business give
/// `UNSUPPORTED_CATEGORIES`.
pub const UNSUPPORTED_CATEGORIES: &[&str] = &["landmarks", "airportterminals"];

/// Whether `alias` is one of [`CATEGORY_ALIASES`] (exact, case-sensitive).
pub fn is_known_category(alias: &str) -> bool {
    CATEGORY_ALIASES.binary_search(&alias).is_ok()
}

/// Whether `alias` has the syntax of a category alias: 1 to 64 of `[A-Za-z0-9_-]`.
///
/// This is deliberately looser than [`is_known_category`]: a label such as `Restaurants` passes
/// here and is rejected later, in the job receipt, as Yelp does.
pub fn is_alias_syntax(alias: &str) -> bool {
    !alias.is_empty()
        && alias.len() <= 64
        && alias
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A street address in the United States, spelled as business info answers it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Address {
    /// Number and street, e.g. `1450 Mission St`.
    pub address1: String,
    /// Suite or unit, when there is one.
    pub address2: Option<String>,
    /// City.
    pub city: String,
    /// Two-letter state code.
    pub state: String,
    /// Five-digit ZIP code.
    pub zip_code: String,
    /// Two-letter country code (`US`).
    pub country: String,
}

/// A business of the partner account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Business {
    /// Yelp's encrypted business id (22 URL-safe base64 characters).
    pub yelp_business_id: String,
    /// Display name.
    pub name: String,
    /// Where it is.
    pub address: Address,
    /// Category aliases of the listing.
    pub categories: Vec<String>,
    /// Yelp holds the business back from advertising for a reason business info does not show: creates
    /// get `BUSINESS_NOT_ACTIVE`.
    pub held_back: bool,
    /// Closed: creates get `PROGRAM_NOT_ACTIVE_CLOSED_BUSINESS`.
    pub is_closed: bool,
    /// Removed from search: creates get `PROGRAM_NOT_ACTIVE_BUSINESS_REMOVED_FROM_SEARCH`.
    pub is_removed_from_search: bool,
    /// The business id the listing moved to, once Yelp migrated it (creates are still accepted).
    pub migrated_to: Option<String>,
    /// The partner's own id for the business.
    pub partner_business_id: Option<String>,
}

impl Business {
    /// Whether the listing is in a category that cannot be advertised.
    pub fn has_unsupported_category(&self) -> bool {
        self.categories
            .iter()
            .any(|c| UNSUPPORTED_CATEGORIES.contains(&c.as_str()))
    }

    /// Whether a create for this business can succeed: not held back, not closed, in search.
    pub fn is_active(&self) -> bool {
        self.refusal().is_none()
    }

    /// The business-level code and message (contract §13) a create for this business is rejected with,
    /// if it is. A closed business is reported as closed even when it is also out of search.
    pub fn refusal(&self) -> Option<(&'static str, &'static str)> {
        if self.is_closed {
            Some((
                "PROGRAM_NOT_ACTIVE_CLOSED_BUSINESS",
                "The business is closed.",
            ))
        } else if self.is_removed_from_search {
            Some((
                "PROGRAM_NOT_ACTIVE_BUSINESS_REMOVED_FROM_SEARCH",
                "The business has been removed from search.",
            ))
        } else if self.held_back {
            Some((
                "BUSINESS_NOT_ACTIVE",
                "The business is closed or has been removed from search.",
            ))
        } else {
            None
        }
    }
}

/// `GET /_sim/businesses` shows `active` (whether creates can succeed) rather than the reason flags alone,
/// so that a client picking an `active` business never picks a closed one.
impl Serialize for Business {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown<'a> {
            yelp_business_id: &'a str,
            name: &'a str,
            address: &'a Address,
            categories: &'a [String],
            active: bool,
            is_closed: bool,
            is_removed_from_search: bool,
            migrated_to: Option<&'a str>,
            partner_business_id: Option<&'a str>,
        }
        Shown {
            yelp_business_id: &self.yelp_business_id,
            name: &self.name,
            address: &self.address,
            categories: &self.categories,
            active: self.is_active(),
            is_closed: self.is_closed,
            is_removed_from_search: self.is_removed_from_search,
            migrated_to: self.migrated_to.as_deref(),
            partner_business_id: self.partner_business_id.as_deref(),
        }
        .serialize(serializer)
    }
}

/// Error of parsing one of the enumerations from its wire spelling.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {what}")]
pub struct ParseEnumError {
    what: &'static str,
    value: String,
}

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal, { $($(#[$vmeta:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = ParseEnumError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    _ => Err(ParseEnumError { what: $what, value: s.to_owned() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// Program type codes (contract §2.1).
    ProgramType, "program type", {
        /// Branded Profile / Brand Package.
        Bp => "BP",
        /// Enhanced Profile.
        Ep => "EP",
        /// Cost-per-click search ads; the only type with budget, bid and categories.
        Cpc => "CPC",
        /// Remove Competitor Ads / Request a Call.
        Rca => "RCA",
        /// Call To Action button.
        Cta => "CTA",
        /// Photo slideshow.
        Slideshow => "SLIDESHOW",
        /// Business Highlights.
        Bh => "BH",
        /// Verified License.
        Vl => "VL",
        /// Business Logo.
        Logo => "LOGO",
        /// Yelp Portfolio.
        Portfolio => "PORTFOLIO",
    }
);

wire_enum!(
    /// `program_status` (contract §2.2).
    ProgramStatus, "program status", {
        /// Running or paused.
        Active => "ACTIVE",
        /// Not started yet, or ended.
        Inactive => "INACTIVE",
    }
);

wire_enum!(
    /// `program_pause_status` (contract §2.2).
    PauseStatus, "pause status", {
        /// Not paused.
        NotPaused => "NOT_PAUSED",
        /// Paused (CPC only).
        Paused => "PAUSED",
    }
);

wire_enum!(
    /// The `program_status` filter of `GET /programs/v1` (contract §2.3).
    StatusFilter, "program_status filter", {
        /// Every program.
        All => "ALL",
        /// Running now.
        Current => "CURRENT",
        /// Ended.
        Past => "PAST",
        /// Not started yet.
        Future => "FUTURE",
        /// Paused.
        Paused => "PAUSED",
    }
);

wire_enum!(
    /// Feature types of the features API (contract §2.6).
    FeatureType, "feature type", {
        /// Tracking parameters on website/menu/CTA links.
        LinkTracking => "LINK_TRACKING",
        /// Keywords the ads must not show for.
        NegativeKeywordTargeting => "NEGATIVE_KEYWORD_TARGETING",
        /// Show only in the program's categories.
        StrictCategoryTargeting => "STRICT_CATEGORY_TARGETING",
        /// Run ads only during opening hours.
        AdScheduling => "AD_SCHEDULING",
        /// Target ZIPs, cities, counties or states.
        CustomLocationTargeting => "CUSTOM_LOCATION_TARGETING",
        /// What the ads optimise for.
        AdGoal => "AD_GOAL",
        /// Metered phone numbers.
        CallTracking => "CALL_TRACKING",
        /// Highlight badges on the business page.
        BusinessHighlights => "BUSINESS_HIGHLIGHTS",
        /// Verified license badge.
        VerifiedLicense => "VERIFIED_LICENSE",
        /// Radius around the business, in miles.
        CustomRadiusTargeting => "CUSTOM_RADIUS_TARGETING",
        /// Custom ad text or a chosen review.
        CustomAdText => "CUSTOM_AD_TEXT",
        /// Chosen ad photo.
        CustomAdPhoto => "CUSTOM_AD_PHOTO",
        /// Logo on ad placements.
        BusinessLogo => "BUSINESS_LOGO",
        /// Portfolio projects.
        YelpPortfolio => "YELP_PORTFOLIO",
        /// Services to show for; deprecated by Yelp, never switched on in seeded data.
        ServiceOfferingsTargeting => "SERVICE_OFFERINGS_TARGETING",
    }
);

impl FeatureType {
    /// Whether Yelp calls the type deprecated: still offered and writable, never seeded active.
    pub fn is_deprecated(self) -> bool {
        self == FeatureType::ServiceOfferingsTargeting
    }
}

wire_enum!(
    /// `pacing_method` of a CPC program (request spelling; receipts echo it uppercased).
    PacingMethod, "pacing_method", {
        /// Spend evenly over the period.
        Paced => "paced",
        /// Spend as fast as clicks come.
        Unpaced => "unpaced",
    }
);

/// `fee_period` of a CPC program: requested as `CALENDAR_MONTH`, shown as `"Calendar Month"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeePeriod {
    /// The budget resets on the 1st.
    #[serde(rename = "Calendar Month", alias = "CALENDAR_MONTH")]
    CalendarMonth,
    /// The budget resets 30 days after the start.
    #[serde(rename = "Rolling Month", alias = "ROLLING_MONTH")]
    RollingMonth,
}

impl FeePeriod {
    /// The request spelling (`CALENDAR_MONTH`).
    pub fn request_str(self) -> &'static str {
        match self {
            FeePeriod::CalendarMonth => "CALENDAR_MONTH",
            FeePeriod::RollingMonth => "ROLLING_MONTH",
        }
    }

    /// Parses the request spelling.
    pub fn from_request(s: &str) -> Option<Self> {
        match s {
            "CALENDAR_MONTH" => Some(FeePeriod::CalendarMonth),
            "ROLLING_MONTH" => Some(FeePeriod::RollingMonth),
            _ => None,
        }
    }
}

/// `program_metrics` of a CPC program; money in cents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CpcMetrics {
    /// Monthly budget in cents.
    pub budget: i64,
    /// Three-letter currency code.
    pub currency: String,
    /// Whether Yelp sets the bid.
    pub is_autobid: bool,
    /// Manual maximum bid in cents; `None` when autobid is on.
    pub max_bid: Option<i64>,
    /// Budget period.
    pub fee_period: FeePeriod,
    /// Billed impressions this period.
    pub billed_impressions: i64,
    /// Billed clicks this period.
    pub billed_clicks: i64,
    /// Cents spent this period; never above the budget in seeded data.
    pub ad_cost: i64,
}

/// One scheduled budget change (the simulator's choice of the unknown item shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FutureBudgetChange {
    /// New monthly budget in cents.
    pub budget: i64,
    /// Day it takes effect.
    pub date: NaiveDate,
}

/// Price of an upgrade product such as LOGO, in float dollars (contract §3).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageUpgradeInfo {
    /// Dollars.
    pub cost: f64,
    /// Dollars per month.
    pub monthly_rate: f64,
}

/// One ad program. Serialises to the shape of `GET /v1/programs/info/{program_id}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Program {
    /// 22-character program id.
    pub program_id: String,
    /// Type code.
    pub program_type: ProgramType,
    /// ACTIVE or INACTIVE.
    pub program_status: ProgramStatus,
    /// PAUSED or NOT_PAUSED.
    pub program_pause_status: PauseStatus,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day; [`NO_END`] means none.
    pub end_date: NaiveDate,
    /// Feature types switched on (a subset of `available_features`, in its order).
    pub active_features: Vec<FeatureType>,
    /// Feature types the program supports.
    pub available_features: Vec<FeatureType>,
    /// CPC targeting; empty = the whole listing.
    pub ad_categories: Vec<String>,
    /// CPC only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ad_campaign_id: Option<String>,
    /// CPC only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program_metrics: Option<CpcMetrics>,
    /// Scheduled budget changes.
    pub future_budget_changes: Vec<FutureBudgetChange>,
    /// LOGO only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_upgrade_info: Option<PageUpgradeInfo>,
    /// Owning business.
    pub yelp_business_id: String,
    /// The partner's id of the owning business.
    pub partner_business_id: Option<String>,
    /// CPC pacing as last requested; Yelp does not show it in `program_metrics`.
    #[serde(skip)]
    pub pacing_method: Option<PacingMethod>,
    /// Feature data that differs from the defaults, by type (see `features`).
    #[serde(skip)]
    pub feature_settings: BTreeMap<FeatureType, serde_json::Map<String, serde_json::Value>>,
}

impl Program {
    /// Whether the program is paused.
    pub fn is_paused(&self) -> bool {
        self.program_pause_status == PauseStatus::Paused
    }

    /// Whether the program has ended by `today`: its end date has passed, or it was ended today
    /// (INACTIVE, started and with an end date of today or earlier).
    pub fn is_ended(&self, today: NaiveDate) -> bool {
        self.end_date < today
            || (self.program_status == ProgramStatus::Inactive
                && self.start_date <= today
                && self.end_date <= today)
    }

    /// Whether the program runs now: ACTIVE, started, not ended and not paused.
    pub fn is_running(&self, today: NaiveDate) -> bool {
        self.program_status == ProgramStatus::Active
            && self.start_date <= today
            && !self.is_ended(today)
            && !self.is_paused()
    }

    /// The `/programs/v1` bucket of the program (contract §2.3); `None` = only in ALL.
    pub fn bucket(&self, today: NaiveDate) -> Option<StatusFilter> {
        if self.is_paused() {
            Some(StatusFilter::Paused)
        } else if self.start_date > today {
            Some(StatusFilter::Future)
        } else if self.end_date != NO_END && self.end_date < today {
            Some(StatusFilter::Past)
        } else if self.program_status == ProgramStatus::Active
            && self.start_date <= today
            && today <= self.end_date
        {
            Some(StatusFilter::Current)
        } else {
            None
        }
    }

    /// Whether the program belongs in the listing filtered by `filter`.
    pub fn matches(&self, filter: StatusFilter, today: NaiveDate) -> bool {
        filter == StatusFilter::All || self.bucket(today) == Some(filter)
    }
}

/// Features a program of `program_type` supports, in display order.
pub fn available_features(program_type: ProgramType) -> &'static [FeatureType] {
    use FeatureType::*;
    match program_type {
        ProgramType::Cpc => &[
            LinkTracking,
            NegativeKeywordTargeting,
            StrictCategoryTargeting,
            AdScheduling,
            CustomLocationTargeting,
            AdGoal,
            CallTracking,
            CustomRadiusTargeting,
            CustomAdText,
            CustomAdPhoto,
            ServiceOfferingsTargeting,
        ],
        ProgramType::Bh => &[BusinessHighlights],
        ProgramType::Vl => &[VerifiedLicense],
        ProgramType::Logo => &[BusinessLogo],
        ProgramType::Portfolio => &[YelpPortfolio],
        ProgramType::Ep => &[LinkTracking, CallTracking, CustomAdPhoto],
        ProgramType::Bp => &[LinkTracking, CallTracking, CustomAdPhoto, CustomAdText],
        ProgramType::Cta => &[LinkTracking],
        ProgramType::Rca => &[CallTracking],
        ProgramType::Slideshow => &[CustomAdPhoto],
    }
}

/// The LOGO upgrade price used for every LOGO program (the live sample's values).
pub fn logo_upgrade_info() -> PageUpgradeInfo {
    PageUpgradeInfo {
        cost: 8.24,
        monthly_rate: 30.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("test date")
    }

    fn program(status: ProgramStatus, start: &str, end: &str) -> Program {
        Program {
            program_id: "p".into(),
            program_type: ProgramType::Cpc,
            program_status: status,
            program_pause_status: PauseStatus::NotPaused,
            start_date: date(start),
            end_date: date(end),
            active_features: vec![],
            available_features: vec![],
            ad_categories: vec![],
            ad_campaign_id: None,
            program_metrics: None,
            future_budget_changes: vec![],
            page_upgrade_info: None,
            yelp_business_id: "b".into(),
            partner_business_id: None,
            pacing_method: None,
            feature_settings: BTreeMap::new(),
        }
    }

    #[test]
    fn category_alias_list_is_sorted_for_binary_search() {
        assert!(CATEGORY_ALIASES.windows(2).all(|w| w[0] < w[1]));
        assert!(is_known_category("plumbing"));
        assert!(!is_known_category("Plumbing"));
    }

    #[test]
    fn alias_syntax_accepts_labels_but_not_spaces() {
        assert!(is_alias_syntax("Restaurants"));
        assert!(is_alias_syntax("garage_door_services"));
        assert!(!is_alias_syntax("Home Services"));
        assert!(!is_alias_syntax(""));
    }

    #[test]
    fn buckets_follow_the_contract_order() {
        let today = date("2026-03-19");
        let running = program(ProgramStatus::Active, "2025-01-01", "9999-12-31");
        assert_eq!(running.bucket(today), Some(StatusFilter::Current));
        let future = program(ProgramStatus::Inactive, "2026-04-01", "9999-12-31");
        assert_eq!(future.bucket(today), Some(StatusFilter::Future));
        let past = program(ProgramStatus::Inactive, "2025-01-01", "2026-03-18");
        assert_eq!(past.bucket(today), Some(StatusFilter::Past));
        let mut paused = running.clone();
        paused.program_pause_status = PauseStatus::Paused;
        assert_eq!(paused.bucket(today), Some(StatusFilter::Paused));
        let ended_today = program(ProgramStatus::Inactive, "2025-01-01", "2026-03-19");
        assert_eq!(ended_today.bucket(today), None);
        assert!(ended_today.is_ended(today));
        assert!(!running.is_ended(today));
        assert!(running.is_running(today));
    }

    #[test]
    fn enums_round_trip_their_wire_spelling() {
        for t in ProgramType::ALL {
            assert_eq!(t.as_str().parse::<ProgramType>(), Ok(*t));
        }
        for f in FeatureType::ALL {
            assert_eq!(f.as_str().parse::<FeatureType>(), Ok(*f));
        }
        assert!("ACTIVE".parse::<StatusFilter>().is_err());
        assert_eq!(
            serde_json::to_value(FeePeriod::CalendarMonth).ok(),
            Some(serde_json::json!("Calendar Month"))
        );
    }
}
