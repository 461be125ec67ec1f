//! A typed async client of Yelp's Partner Advertising API and of its Reporting API v3, as described in
//! `shared/yelp-partner-api.md`.
//!
//! It knows HTTP, JSON and retries, nothing else: no database, no dashboard. Money is integer [`Cents`],
//! `9999-12-31` end dates are `None`, status fields are open enums that keep unknown values, and unknown
//! JSON fields are ignored (and kept in each entry's `raw`). Credentials travel only in the Authorization
//! header and never appear in an error or a log line.

mod business;
mod client;
mod concurrency;
mod enums;
mod error;
mod features;
mod ids;
mod money;
mod portfolio;
mod program;
mod rate_limit;
mod receipt;
mod reporting;
mod requests;
mod retry;

pub use business::{
    Address, BUSINESS_INFO_CONCURRENCY, BUSINESS_INFO_MAX_IDS, BusinessInfo, BusinessInfoBatch,
    BusinessInfoError, Category, MalformedBusiness, Migration,
};
pub use client::{
    BUSINESS_PAGE_SIZE, BusinessListing, BusinessProgramsPage, CallObserver, CallRecord, Client,
    ClientConfig, FALLBACK_PAGE_SIZE, INITIAL_WINDOW, ListAllOptions, ListError,
    install_crypto_provider,
};
pub use concurrency::{AdaptiveWindow, Outcome as WindowOutcome, Ticket as WindowTicket};
pub use enums::{
    AdGoal, FeatureType, FeePeriod, JobStatus, LicenseStatus, Metric, PacingMethod, PauseStatus,
    ProgramStatus, ProgramType, ProjectCallToAction, ProjectCost, ProjectDuration, StatusFilter,
    UnknownValue,
};
pub use error::{Error, Result};
pub use features::{
    AdGoalSetting, AdScheduling, BusinessHighlights, BusinessLocations, BusinessLogo, CallTracking,
    CustomAdPhoto, CustomAdText, CustomLocationTargeting, CustomRadiusTargeting, Feature,
    FeatureChanges, FeatureEntry, FeatureSettings, FeatureWrite, License, LinkTracking,
    MeteredPhone, NegativeKeywordTargeting, ProgramFeatures, ProjectState,
    ServiceOfferingsTargeting, StrictCategoryTargeting, VerifiedLicense, YelpPortfolio,
};
pub use ids::{BusinessId, InvalidId, JobId, PhotoId, ProgramId, ProjectId, ReportId};
pub use money::{Cents, MoneyError};
pub use portfolio::{NewPhoto, PhotoSource, PortfolioPhoto, PortfolioProject, ProjectDetails};
pub use program::{
    BusinessRef, MalformedEntry, NO_END_DATE, PageUpgradeInfo, Program, ProgramEntry,
    ProgramMetrics, ProgramPage,
};
pub use rate_limit::RateLimit;
pub use receipt::{BusinessResult, FailureReason, JobOutcome, JobReceipt, ReceiptError, YelpIssue};
pub use reporting::{
    DAILY_REPORT_MAX_DAYS, Granularity, MONTHLY_REPORT_MAX_MONTHS, REPORT_MAX_BUSINESSES,
    REPORT_MAX_LOOK_BACK_DAYS, REPORTING_BASE_URL, Report, ReportProblem, ReportRange,
    ReportRefusal, ReportRequest, ReportRequestError, ReportRow, ReportStatus, ReportingClient,
    ReportingConfig, YearMonth,
};
pub use requests::{CreateProgram, EditProgram};
pub use retry::RetryPolicy;
pub use secrecy::SecretString;
