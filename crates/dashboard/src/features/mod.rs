//! Program features and portfolio projects: the rules checked before Yelp sees a change, and the service
//! that reads and changes them at Yelp.

pub mod rules;
mod service;
pub mod words;

pub use service::{FeatureChange, FeatureService, PhotoDraft, parse_changes};
