//! Browser tests: the real pages in headless Chromium, against `yelp-ads --demo` on port 0. Each saves
//! screenshots of its key moments under `target/e2e-screenshots/`. Without Chromium and ChromeDriver they
//! say that they were skipped and why; under `.ci/run` they must run.

// Tests fail by panicking; the workspace denies unwrap and expect elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod businesses;
mod change_sets;
mod features;
mod harness;
mod jobs;
mod layout;
mod programs;
mod schedules;
