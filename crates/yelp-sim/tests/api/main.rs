//! End-to-end tests: each test spawns its own simulator on 127.0.0.1:0 and talks HTTP to it.

// Tests fail by panicking; the workspace denies unwrap and expect elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod businesses;
mod control;
mod faults;
mod features;
mod jobs;
mod listing;
mod pause;
mod reporting;
mod robustness;
