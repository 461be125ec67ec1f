//! Spend and pacing: where each CPC program stands in its fee period, and the alerts that tell someone
//! about it. `pacing` and `webhook` are pure; `service` reads the mirror and its metric snapshots for the
//! API and the pages.

pub mod pacing;
pub mod service;
pub mod webhook;
