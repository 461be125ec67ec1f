//! Program features and portfolio projects: the rules checked before Yelp sees a change.

pub mod rules;
