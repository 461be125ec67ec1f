//! Spend and pacing: where each CPC program stands in its fee period, and the alerts that tell someone
//! about it. Pure parts only here; storage, sync and pages build on them.

pub mod pacing;
pub mod webhook;
