//! The order of feature writes: one record per features POST and DELETE that reached its handler (after
//! auth and injected faults), accepted or refused, so that tests can see which feature writes Yelp saw and
//! in which order (`GET /_sim/feature-writes`). A write whose answer a fault then lost is recorded as Yelp
//! carried it out.

use std::collections::VecDeque;

use serde::Serialize;

use crate::state::SimState;

/// Records kept; older ones are dropped so that a long demo does not grow without end.
const KEPT: usize = 10_000;

/// One features POST or DELETE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeatureWriteRecord {
    /// Position among all feature writes since start (not reset by clearing the log).
    pub seq: u64,
    /// `POST` or `DELETE`.
    pub method: &'static str,
    /// The program written to.
    pub program_id: String,
    /// The types named in the body, in its order (empty when the body could not be read).
    pub feature_types: Vec<String>,
    /// The HTTP status answered: 200, 400 or 404.
    pub status: u16,
    /// The error id of a refusal.
    pub error_id: Option<String>,
}

/// The records, oldest first.
#[derive(Debug, Clone, Default)]
pub(crate) struct FeatureLog {
    next_seq: u64,
    records: VecDeque<FeatureWriteRecord>,
}

impl FeatureLog {
    /// Appends a record, numbering it.
    pub(crate) fn record(
        &mut self,
        method: &'static str,
        program_id: &str,
        feature_types: Vec<String>,
        outcome: Result<(), (u16, &'static str)>,
    ) {
        if self.records.len() == KEPT {
            self.records.pop_front();
        }
        let (status, error_id) = match outcome {
            Ok(()) => (200, None),
            Err((status, id)) => (status, Some(id.to_owned())),
        };
        self.records.push_back(FeatureWriteRecord {
            seq: self.next_seq,
            method,
            program_id: program_id.to_owned(),
            feature_types,
            status,
            error_id,
        });
        self.next_seq += 1;
    }
}

impl SimState {
    /// Every feature write recorded since start or the last clear, oldest first.
    pub fn feature_writes(&self) -> Vec<FeatureWriteRecord> {
        self.with_world(|w| w.feature_log.records.iter().cloned().collect())
    }

    /// Forgets the recorded feature writes.
    pub fn clear_feature_writes(&self) {
        self.with_world(|w| w.feature_log.records.clear());
    }
}
