//! The Yelp Ads reseller dashboard: a local mirror of an agency's Yelp ad programs, kept true by a fast
//! sync, with every change to a program tracked as a job.
//!
//! Layers point one way: `web` uses `sync`, `jobs`, `auth` and `store`; `sync` and `jobs` use `store`
//! and the `yelp_partner_api` client; the store knows nothing of HTTP and the client nothing of the database.

pub mod app;
pub mod auth;
pub mod cache;
pub mod change_sets;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod features;
pub mod history;
pub mod insights;
pub mod jobs;
pub mod reports;
pub mod schedule;
pub mod secrets;
pub mod serve;
pub mod store;
pub mod sync;
pub mod web;
pub mod yelp;

pub use error::{Error, Result};
