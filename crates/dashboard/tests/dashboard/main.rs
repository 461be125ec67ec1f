//! The dashboard against the in-process Yelp simulator, on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL.

mod accounts;
mod cli;
mod helpers;
mod instances;
mod jobs;
mod serve;
mod signin;
mod store;
mod sync;
mod web;
