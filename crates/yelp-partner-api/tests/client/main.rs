//! The client against the in-process Yelp simulator (and, for decoding, against canned answers).

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
