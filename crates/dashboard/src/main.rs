//! `yelp-ads`: the dashboard's one binary.
fn main() {}
