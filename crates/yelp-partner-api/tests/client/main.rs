//! The client against the in-process Yelp simulator (and, for decoding, against canned answers).

// Tests fail by panicking; the workspace denies unwrap and expect elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod business;
mod decoding;
mod endpoints;
mod faults;
mod feature_decoding;
mod features;
mod fuzz;
mod helpers;
mod jobs;
mod rate_limit;
mod reporting;
