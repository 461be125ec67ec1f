//! The Yelp Ads reseller dashboard: a local mirror of an agency's Yelp ad programs, kept true by a fast
//! sync, with every change to a program tracked as a job.
