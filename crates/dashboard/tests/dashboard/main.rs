//! The dashboard against the in-process Yelp simulator, on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL.

// Tests fail by panicking; the workspace denies unwrap and expect elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod audit;
mod businesses;
mod change_set_pages;
mod change_sets;
mod cli;
mod compat;
mod errors;
mod export;
mod faults;
mod features;
mod fuzz;
mod hardening;
mod helpers;
mod history;
mod instances;
mod jobs;
mod pages;
mod pg_restart;
mod rate_limit;
mod reports;
mod router;
mod schedule;
mod schedule_pages;
mod scheduled_changes;
mod serve;
mod signin;
mod spend;
mod store;
mod sync;
mod web;
