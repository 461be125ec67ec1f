//! The dashboard against the in-process Yelp simulator, on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL.

mod cli;
mod helpers;
mod store;
mod sync;
