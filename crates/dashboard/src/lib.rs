//! The Yelp Ads reseller dashboard: a local mirror of an agency's Yelp ad programs, kept true by a fast
//! sync, with every change to a program tracked as a job.
//!
//! Layers point one way: `sync` (and later `jobs` and `web`) use `store` and the `yelp_partner_api` client;
//! the store knows nothing of HTTP and the client nothing of the database.

pub mod cli;
pub mod error;
pub mod store;
pub mod sync;

pub use error::{Error, Result};
