//! Yelp's enumerations. Values Yelp sends are *open*: an unknown value is kept in `Other` rather than failing
//! the decode, because Yelp adds values without notice. Values we send are closed enums.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value this client does not know, kept exactly as Yelp sent it.
            Other(String),
        }

        impl $name {
            /// Every value this client knows, in the order Yelp's documentation lists them.
            pub const KNOWN: &[$name] = &[$($name::$variant,)*];

            /// The value as Yelp spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Other(s) => s,
                }
            }

            /// Reads a value as Yelp spells it (case-insensitively); anything else becomes `Other`.
            pub fn from_wire(s: &str) -> Self {
                $(if s.eq_ignore_ascii_case($wire) {
                    return Self::$variant;
                })*
                Self::Other(s.to_owned())
            }

            /// Whether this is a value the client knows.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Other(_))
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self::from_wire(&s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::from_wire(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok(Self::from_wire(&s))
            }
        }
    };
}

open_enum!(
    /// A program's type: `program_name` on create, `program_type` in responses.
    ProgramType {
        /// Branded Profile / Brand Package (the two sources disagree on the name).
        Bp = "BP",
        /// Enhanced Profile.
        Ep = "EP",
        /// Cost-per-click search ads: the only type with budget, bid, pacing and categories.
        Cpc = "CPC",
        /// Remove Competitor Ads / Request a Call (the two sources disagree on the name).
        Rca = "RCA",
        /// Call To Action button.
        Cta = "CTA",
        /// Photo slideshow.
        Slideshow = "SLIDESHOW",
        /// Business Highlights.
        Bh = "BH",
        /// Verified License badge.
        Vl = "VL",
        /// Business logo.
        Logo = "LOGO",
        /// Portfolio.
        Portfolio = "PORTFOLIO",
    }
);

impl ProgramType {
    /// A name a person understands, for screens.
    pub fn label(&self) -> &str {
        match self {
            Self::Bp => "Branded Profile",
            Self::Ep => "Enhanced Profile",
            Self::Cpc => "Cost per Click",
            Self::Rca => "Remove Competitor Ads",
            Self::Cta => "Call to Action",
            Self::Slideshow => "Slideshow",
            Self::Bh => "Business Highlights",
            Self::Vl => "Verified License",
            Self::Logo => "Business Logo",
            Self::Portfolio => "Portfolio",
            Self::Other(s) => s,
        }
    }
}

open_enum!(
    /// `program_status`. Only ACTIVE and INACTIVE have been seen; INACTIVE covers both programs that have
    /// not started and programs that ended.
    ProgramStatus {
        /// Running (or at least switched on).
        Active = "ACTIVE",
        /// Not running: scheduled, or ended.
        Inactive = "INACTIVE",
    }
);

open_enum!(
    /// `program_pause_status`. Only CPC programs can be paused.
    PauseStatus {
        /// Not paused.
        NotPaused = "NOT_PAUSED",
        /// Paused.
        Paused = "PAUSED",
    }
);

open_enum!(
    /// The status of an asynchronous job, at the top of a receipt and on each business and field in it.
    JobStatus {
        /// Being processed (seen live).
        Processing = "PROCESSING",
        /// Done (seen live).
        Completed = "COMPLETED",
        /// Refused (seen live).
        Rejected = "REJECTED",
        /// Waiting (handled by other clients, never seen live).
        Queued = "QUEUED",
        /// Waiting (handled by other clients, never seen live).
        Pending = "PENDING",
        /// Being processed (handled by other clients, never seen live).
        InProgress = "IN_PROGRESS",
        /// Failed (handled by other clients, never seen live).
        Failed = "FAILED",
        /// Failed (handled by other clients, never seen live).
        Error = "ERROR",
    }
);

impl JobStatus {
    /// Whether Yelp is still working on the job. Everything else, unknown values included, is terminal.
    pub fn is_running(&self) -> bool {
        matches!(
            self,
            Self::Processing | Self::Queued | Self::Pending | Self::InProgress
        )
    }

    /// Whether this status reports a failure.
    pub fn is_failure(&self) -> bool {
        matches!(self, Self::Rejected | Self::Failed | Self::Error)
    }
}

open_enum!(
    /// A program feature, as in `active_features`, `available_features` and the features API.
    FeatureType {
        /// Tracking parameters on links.
        LinkTracking = "LINK_TRACKING",
        /// Keywords the ads must not show for.
        NegativeKeywordTargeting = "NEGATIVE_KEYWORD_TARGETING",
        /// Show only in the business's own categories.
        StrictCategoryTargeting = "STRICT_CATEGORY_TARGETING",
        /// Run ads only during opening hours.
        AdScheduling = "AD_SCHEDULING",
        /// Target listed ZIPs, cities, counties or states.
        CustomLocationTargeting = "CUSTOM_LOCATION_TARGETING",
        /// What the ads optimise for.
        AdGoal = "AD_GOAL",
        /// Metered phone numbers.
        CallTracking = "CALL_TRACKING",
        /// Highlights shown on the business page.
        BusinessHighlights = "BUSINESS_HIGHLIGHTS",
        /// Verified license badge.
        VerifiedLicense = "VERIFIED_LICENSE",
        /// Target a radius in miles.
        CustomRadiusTargeting = "CUSTOM_RADIUS_TARGETING",
        /// Ad text chosen by the advertiser.
        CustomAdText = "CUSTOM_AD_TEXT",
        /// Ad photo chosen by the advertiser.
        CustomAdPhoto = "CUSTOM_AD_PHOTO",
        /// Business logo on ads.
        BusinessLogo = "BUSINESS_LOGO",
        /// Portfolio projects.
        YelpPortfolio = "YELP_PORTFOLIO",
        /// Deprecated by Yelp, still listed by one source.
        ServiceOfferingsTargeting = "SERVICE_OFFERINGS_TARGETING",
    }
);

impl FeatureType {
    /// A name a person understands, for screens (not `LINK_TRACKING`).
    pub fn label(&self) -> &str {
        match self {
            Self::LinkTracking => "Link tracking",
            Self::NegativeKeywordTargeting => "Negative keywords",
            Self::StrictCategoryTargeting => "Strict category targeting",
            Self::AdScheduling => "Ads during opening hours",
            Self::CustomLocationTargeting => "Custom locations",
            Self::AdGoal => "Ad goal",
            Self::CallTracking => "Call tracking",
            Self::BusinessHighlights => "Business highlights",
            Self::VerifiedLicense => "Verified license",
            Self::CustomRadiusTargeting => "Custom radius",
            Self::CustomAdText => "Custom ad text",
            Self::CustomAdPhoto => "Custom ad photo",
            Self::BusinessLogo => "Business logo",
            Self::YelpPortfolio => "Portfolio",
            Self::ServiceOfferingsTargeting => "Service offerings (deprecated)",
            Self::Other(s) => s,
        }
    }
}

open_enum!(
    /// `AD_GOAL.ad_goal`: what the ads optimise for; DEFAULT when Yelp leaves it out.
    #[derive(Default)]
    AdGoal {
        /// Yelp's choice.
        #[default]
        Default = "DEFAULT",
        /// Phone calls (needs call tracking).
        Calls = "CALLS",
        /// Clicks to the website (needs link tracking).
        WebsiteClicks = "WEBSITE_CLICKS",
    }
);

open_enum!(
    /// `license_verification_status` of a VERIFIED_LICENSE license; set by Yelp.
    LicenseStatus {
        /// Not checked yet.
        Pending = "PENDING",
        /// Checked and valid.
        Verified = "VERIFIED",
        /// Checked and refused; see the failure reason.
        Rejected = "REJECTED",
    }
);

open_enum!(
    /// A portfolio project's call to action (contract §4.10).
    ProjectCallToAction {
        /// Visit the website.
        Website = "WEBSITE",
        /// Call the business.
        Call = "CALL",
        /// Book an appointment.
        BookAppointment = "BOOK_APPOINTMENT",
        /// Ask for a quote.
        GetQuote = "GET_QUOTE",
        /// Learn more.
        LearnMore = "LEARN_MORE",
    }
);

open_enum!(
    /// What a portfolio project cost, in dollar bands (contract §4.10).
    ProjectCost {
        /// Under $100.
        Under100 = "UNDER_100",
        /// $100 to $500.
        From100To500 = "100_500",
        /// $500 to $1,000.
        From500To1000 = "500_1000",
        /// $1,000 to $5,000.
        From1000To5000 = "1000_5000",
        /// Over $5,000.
        Over5000 = "5000_PLUS",
    }
);

open_enum!(
    /// How long a portfolio project took (contract §4.10).
    ProjectDuration {
        /// Under a week.
        UnderOneWeek = "UNDER_1_WEEK",
        /// One to two weeks.
        OneToTwoWeeks = "1_2_WEEKS",
        /// Two to four weeks.
        TwoToFourWeeks = "2_4_WEEKS",
        /// One to three months.
        OneToThreeMonths = "1_3_MONTHS",
        /// Over three months.
        OverThreeMonths = "3_PLUS_MONTHS",
    }
);

open_enum!(
    /// A metric of the Reporting API v3 (contract §13). Metrics are per business and per day or month; money
    /// (`ad_cost`) is in cents. Yelp names an `ad_driven_*` family of which only `ad_driven_total_leads` is
    /// spelled out; the others, and any new metric, are kept as `Other`.
    Metric {
        /// Billed impressions.
        BilledImpressions = "billed_impressions",
        /// Billed clicks.
        BilledClicks = "billed_clicks",
        /// Spend, in cents.
        AdCost = "ad_cost",
        /// Leads Yelp attributes to the ads.
        AdDrivenTotalLeads = "ad_driven_total_leads",
        /// Phone calls.
        NumCalls = "num_calls",
        /// Leads of every kind.
        TotalLeads = "total_leads",
    }
);

/// A value a user or caller typed that is not one of the allowed ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a valid {what}; expected one of: {expected}")]
pub struct UnknownValue {
    /// What was being parsed, e.g. "pacing method".
    pub what: &'static str,
    /// What was given.
    pub value: String,
    /// The allowed values, comma-separated.
    pub expected: &'static str,
}

macro_rules! closed_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant,)*
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &[$name] = &[$($name::$variant,)*];

            /// The value as Yelp spells it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)*
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            /// Case-insensitive, so that forms and command lines may use either case.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $(if s.eq_ignore_ascii_case($wire) {
                    return Ok(Self::$variant);
                })*
                Err(UnknownValue {
                    what: $what,
                    value: s.to_owned(),
                    expected: concat!($($wire, " "),*).trim_ascii_end(),
                })
            }
        }
    };
}

closed_enum!(
    /// The `program_status` filter of `GET /programs/v1` (ACTIVE and INACTIVE are not accepted by Yelp).
    StatusFilter, "program status filter" {
        /// Every program.
        All = "ALL",
        /// Running today.
        Current = "CURRENT",
        /// Ended.
        Past = "PAST",
        /// Not started yet.
        Future = "FUTURE",
        /// Paused.
        Paused = "PAUSED",
    }
);

closed_enum!(
    /// How a CPC budget is spent over the period.
    PacingMethod, "pacing method" {
        /// Spread evenly.
        Paced = "paced",
        /// As fast as clicks come.
        Unpaced = "unpaced",
    }
);

closed_enum!(
    /// The period a CPC budget covers.
    FeePeriod, "fee period" {
        /// Calendar month.
        CalendarMonth = "CALENDAR_MONTH",
        /// Rolling 30 days.
        RollingMonth = "ROLLING_MONTH",
    }
);

impl FeePeriod {
    /// Reads a fee period in either of Yelp's spellings: the request's `CALENDAR_MONTH` or the
    /// `"Calendar Month"` that `program_metrics.fee_period` shows (case, spaces, `_` and `-` ignored).
    /// `None` for anything else.
    pub fn from_yelp(label: &str) -> Option<Self> {
        let normalized: String = label
            .chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        match normalized.as_str() {
            "CALENDARMONTH" => Some(Self::CalendarMonth),
            "ROLLINGMONTH" => Some(Self::RollingMonth),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_from_yelp_are_kept_not_rejected() {
        let status: JobStatus = serde_json::from_str("\"SOMETHING_NEW\"").unwrap();
        assert_eq!(status, JobStatus::Other("SOMETHING_NEW".into()));
        assert!(!status.is_running(), "an unknown status is terminal");
        assert_eq!(serde_json::to_string(&status).unwrap(), "\"SOMETHING_NEW\"");
        let t: ProgramType = serde_json::from_str("\"cpc\"").unwrap();
        assert_eq!(t, ProgramType::Cpc);
    }

    #[test]
    fn fee_periods_read_both_of_yelps_spellings() {
        assert_eq!(
            FeePeriod::from_yelp("Calendar Month"),
            Some(FeePeriod::CalendarMonth)
        );
        assert_eq!(
            FeePeriod::from_yelp("CALENDAR_MONTH"),
            Some(FeePeriod::CalendarMonth)
        );
        assert_eq!(
            FeePeriod::from_yelp(" rolling month"),
            Some(FeePeriod::RollingMonth)
        );
        assert_eq!(FeePeriod::from_yelp("Weekly"), None);
        assert_eq!(FeePeriod::from_yelp(""), None);
    }

    #[test]
    fn closed_enums_parse_either_case_and_name_the_choices_when_wrong() {
        assert_eq!("PACED".parse::<PacingMethod>(), Ok(PacingMethod::Paced));
        let err = "ACTIVE".parse::<StatusFilter>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "'ACTIVE' is not a valid program status filter; expected one of: ALL CURRENT PAST FUTURE PAUSED"
        );
    }
}
