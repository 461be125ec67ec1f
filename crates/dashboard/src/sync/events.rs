//! A run's events, in the shapes the replaced system's clients read, and the log that replays them to
//! every subscriber from the start, however late it joins.

use std::sync::{Arc, Mutex, PoisonError};

use futures::Stream;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// One step of a sync run. Field names and meanings are those of the replaced system; `updated`,
/// `removed`, `unchanged`, `run_id` and `warning` are additions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SyncEvent {
    /// The run began.
    Start {
        /// "Starting synchronization..."
        message: String,
        /// The run's id, so a client can resume its stream.
        run_id: String,
    },
    /// What the run is about to check.
    Info {
        /// Programs Yelp reports.
        total_api: u64,
        /// Live programs in the mirror before the run.
        total_db: u64,
        /// Programs the run will check (all of Yelp's: changes are only known after reading them).
        to_sync: u64,
    },
    /// A page was written.
    Progress {
        /// Distinct programs read so far.
        synced: u64,
        /// Programs Yelp reports.
        total: u64,
        /// Programs added so far.
        added: u64,
        /// Programs updated so far.
        updated: u64,
        /// `synced` as a percentage of `total`.
        percentage: u8,
    },
    /// The programs are in the mirror: the program sync's outcome, sent before the last phase so that
    /// fetching business names (slow, or failing) never delays it. `complete` follows with the same counts.
    Listed {
        /// Whether anything changed.
        status: CompleteStatus,
        /// Programs added.
        added: u64,
        /// Programs whose content changed.
        updated: u64,
        /// Programs marked removed.
        removed: u64,
        /// Live programs in the mirror now.
        total_synced: u64,
        /// A sentence for people.
        message: String,
    },
    /// The last, short phase: names and status of new or day-old businesses, fetched 200 a call.
    Enrich {
        /// Calls done.
        done: u64,
        /// Calls to make.
        total: u64,
    },
    /// The run ended well.
    Complete {
        /// Whether anything changed.
        status: CompleteStatus,
        /// Programs added.
        added: u64,
        /// Programs whose content changed.
        updated: u64,
        /// Programs marked removed.
        removed: u64,
        /// Programs already up to date.
        unchanged: u64,
        /// Live programs in the mirror now.
        total_synced: u64,
        /// Businesses whose name, address or status changed.
        #[serde(default)]
        businesses_updated: u64,
        /// A sentence for people.
        message: String,
        /// Set when removals could not be decided (the listing was not complete).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        warning: Option<String>,
    },
    /// The run failed; the mirror keeps what was written.
    Error {
        /// What went wrong, in words a user can act on. Never a credential.
        message: String,
    },
}

/// `status` of a `complete` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompleteStatus {
    /// Something changed.
    Synced,
    /// Nothing changed.
    UpToDate,
}

impl SyncEvent {
    /// Whether this event ends a run.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Complete { .. } | Self::Error { .. })
    }
}

/// An event with its position in the run (1-based), which SSE sends as the event id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SequencedEvent {
    /// Position in the run, from 1.
    pub seq: u64,
    /// The event.
    pub event: SyncEvent,
}

/// The events of one run, kept whole so that a subscriber can start from any point.
#[derive(Debug)]
pub(crate) struct RunLog {
    /// The run's id; a request that joins a run of another instance learns it after the log is made.
    run_id: Mutex<String>,
    events: Mutex<Vec<SequencedEvent>>,
    /// (events so far, finished): subscribers wait on changes of it.
    state: watch::Sender<(usize, bool)>,
}

impl RunLog {
    pub(crate) fn new(run_id: String) -> Self {
        Self {
            run_id: Mutex::new(run_id),
            events: Mutex::new(Vec::new()),
            state: watch::Sender::new((0, false)),
        }
    }

    pub(crate) fn run_id(&self) -> String {
        self.run_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Names the run this log follows (one running in another instance).
    pub(crate) fn set_run_id(&self, run_id: &str) {
        run_id.clone_into(&mut self.run_id.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// The sequence number the next [`RunLog::push`] will give.
    pub(crate) fn next_seq(&self) -> u64 {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .last()
            .map_or(1, |e| e.seq + 1)
    }

    /// Appends an event and wakes subscribers; answers its sequence number.
    pub(crate) fn push(&self, event: SyncEvent) -> u64 {
        let seq = self.next_seq();
        self.push_at(seq, event);
        seq
    }

    /// Appends an event with the sequence number its run gave it (a run followed from the database keeps
    /// the ids of the instance running it, where stored progress skips some numbers).
    pub(crate) fn push_at(&self, seq: u64, event: SyncEvent) {
        let len = {
            let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
            events.push(SequencedEvent { seq, event });
            events.len()
        };
        self.state.send_modify(|s| s.0 = len);
    }

    /// Marks the run over: subscribers end once they have every event.
    pub(crate) fn finish(&self) {
        self.state.send_modify(|s| s.1 = true);
    }

    fn get(&self, index: usize) -> Option<SequencedEvent> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(index)
            .cloned()
    }
}

/// A subscriber's view of a run: every event from the first (or from a resume point) to the last.
#[derive(Debug)]
pub struct RunSubscription {
    log: Arc<RunLog>,
    state: watch::Receiver<(usize, bool)>,
    /// Index in the log of the next event to look at.
    next: usize,
    /// Events up to this sequence number are skipped (a resumed stream).
    after: u64,
    joined: bool,
}

impl RunSubscription {
    pub(crate) fn new(log: Arc<RunLog>, joined: bool) -> Self {
        let state = log.state.subscribe();
        Self {
            log,
            state,
            next: 0,
            after: 0,
            joined,
        }
    }

    /// The run's id. For a request that joined a run of another dashboard instance, the id is known once
    /// the first event has arrived (it is also in the `start` event).
    pub fn run_id(&self) -> String {
        self.log.run_id()
    }

    /// Whether this request joined a run that was already going.
    pub fn joined(&self) -> bool {
        self.joined
    }

    /// Skips the events up to and including `seq` (a client resuming with `Last-Event-ID`).
    pub fn resume_after(&mut self, seq: u64) {
        self.after = seq;
    }

    /// The next event, waiting for it if need be; `None` after the final one.
    pub async fn next(&mut self) -> Option<SequencedEvent> {
        loop {
            // Mark the state seen *before* looking, so a push between the look and the wait still wakes us.
            let (_, finished) = *self.state.borrow_and_update();
            if let Some(event) = self.log.get(self.next) {
                self.next += 1;
                if event.seq <= self.after {
                    continue;
                }
                return Some(event);
            }
            if finished {
                return None;
            }
            if self.state.changed().await.is_err() && self.log.get(self.next).is_none() {
                return None;
            }
        }
    }

    /// The events as a stream.
    pub fn into_stream(self) -> impl Stream<Item = SequencedEvent> + Send + 'static {
        futures::stream::unfold(self, |mut sub| async move {
            let event = sub.next().await?;
            Some((event, sub))
        })
    }

    /// Waits for the run's final event and answers it.
    pub async fn finish(mut self) -> Option<SyncEvent> {
        let mut last = None;
        while let Some(e) = self.next().await {
            last = Some(e.event);
        }
        last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(n: u64) -> SyncEvent {
        SyncEvent::Info {
            total_api: n,
            total_db: 0,
            to_sync: n,
        }
    }

    #[test]
    fn events_serialise_in_the_replaced_systems_shapes() {
        let start = SyncEvent::Start {
            message: "Starting synchronization...".into(),
            run_id: "r1".into(),
        };
        assert_eq!(
            serde_json::to_value(&start).unwrap(),
            serde_json::json!({"type": "start", "message": "Starting synchronization...", "run_id": "r1"})
        );
        let complete = SyncEvent::Complete {
            status: CompleteStatus::UpToDate,
            added: 0,
            updated: 0,
            removed: 0,
            unchanged: 1900,
            total_synced: 1900,
            businesses_updated: 0,
            message: "Database already has all 1900 programs".into(),
            warning: None,
        };
        let v = serde_json::to_value(&complete).unwrap();
        assert_eq!(v["type"], "complete");
        assert_eq!(v["status"], "up_to_date");
        assert!(v.get("warning").is_none());
    }

    #[tokio::test]
    async fn a_late_subscriber_gets_every_event_from_the_start_and_ends_after_the_last() {
        let log = Arc::new(RunLog::new("r".into()));
        log.push(info(1));
        log.push(info(2));
        let mut early = RunSubscription::new(log.clone(), false);
        assert_eq!(early.next().await.unwrap().seq, 1);
        let late = RunSubscription::new(log.clone(), true);
        let pusher = {
            let log = log.clone();
            tokio::spawn(async move {
                tokio::task::yield_now().await;
                log.push(info(3));
                log.finish();
            })
        };
        let seen: Vec<u64> = futures::StreamExt::collect::<Vec<_>>(late.into_stream())
            .await
            .into_iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seen, [1, 2, 3]);
        pusher.await.unwrap();
        assert_eq!(early.next().await.unwrap().seq, 2);
        assert_eq!(early.next().await.unwrap().seq, 3);
        assert!(early.next().await.is_none());
    }

    #[tokio::test]
    async fn a_followed_run_keeps_its_stored_ids_and_resumes_by_id_across_gaps() {
        let log = Arc::new(RunLog::new("proposed".into()));
        log.set_run_id("theirs");
        for seq in [1, 2, 5, 9] {
            log.push_at(seq, info(seq));
        }
        log.finish();
        let mut sub = RunSubscription::new(log.clone(), true);
        assert_eq!(sub.run_id(), "theirs");
        sub.resume_after(4);
        assert_eq!(sub.next().await.unwrap().seq, 5);
        assert_eq!(sub.next().await.unwrap().seq, 9);
        assert!(sub.next().await.is_none());
        assert_eq!(log.next_seq(), 10);
    }

    #[tokio::test]
    async fn a_resumed_subscriber_starts_after_the_event_it_last_saw() {
        let log = Arc::new(RunLog::new("r".into()));
        for n in 1..=4 {
            log.push(info(n));
        }
        log.finish();
        let mut sub = RunSubscription::new(log, true);
        sub.resume_after(2);
        assert_eq!(sub.next().await.unwrap().seq, 3);
    }
}
