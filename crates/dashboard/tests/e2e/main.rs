//! Browser tests: the real pages in headless Chromium, against `yelp-ads --demo` on port 0. Each saves
//! screenshots of its key moments under `target/e2e-screenshots/`. Without Chromium and ChromeDriver they
//! say that they were skipped and why; under `.ci/run` they must run.

mod harness;
mod jobs;
mod programs;
