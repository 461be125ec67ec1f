//! Following a run that another dashboard instance is running: its events come from the database, where
//! that instance stores them as it goes, so that a request reaching any instance joins the workspace's
//! one run. No broker: the follower reads the run's events by sequence number, and watches the run's
//! lease to learn whether its holder is still alive.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tracing::{info, warn};

use super::Inner;
use super::events::{RunLog, SyncEvent};
use crate::error::Result;
use crate::store::{Store, now_ms};

/// Between two looks while events keep coming.
const POLL_MIN: Duration = Duration::from_millis(50);
/// Between two looks while nothing happens (a Yelp page takes longer than this anyway).
const POLL_MAX: Duration = Duration::from_millis(200);

/// What a user following a run whose instance stopped reads.
const HOLDER_STOPPED: &str = "The dashboard instance running this sync stopped before it ended; the \
    programs it wrote are kept. Start the sync again.";

/// Forwards the events of `run_id`, run by another instance, to `log`'s subscribers with their stored
/// sequence numbers, until the run's final event; ends with an error event if the instance running it
/// stops without one (and records the run interrupted), or if this instance stops.
pub(super) async fn follow(engine: &Inner, workspace_id: &str, run_id: &str, log: &RunLog) {
    log.set_run_id(run_id);
    info!("following the sync run of another dashboard instance");
    let mut follower = Follower {
        store: &engine.store,
        workspace_id,
        run_id,
        log,
        last_seq: 0,
    };
    let mut pause = POLL_MIN;
    let mut failing_since: Option<Instant> = None;
    loop {
        if engine.stopping.load(Ordering::SeqCst) {
            follower.end_with(
                "This dashboard instance is stopping; the sync goes on in another instance, and its \
                 outcome will be in the list of runs.",
            );
            return;
        }
        match follower.step().await {
            Ok(Step::Ended) => return,
            Ok(Step::Moved) => {
                pause = POLL_MIN;
                failing_since = None;
            }
            Ok(Step::Waiting) => {
                pause = (pause * 2).min(POLL_MAX);
                failing_since = None;
            }
            Err(e) => {
                warn!(error = %e, "cannot read the followed sync run");
                let since = *failing_since.get_or_insert_with(Instant::now);
                if since.elapsed() > engine.options.lease_ttl {
                    follower.end_with(
                        "The dashboard's database stopped answering while this instance followed a \
                         sync running in another instance; the sync may have ended all the same: see \
                         the list of runs.",
                    );
                    return;
                }
                pause = POLL_MAX;
            }
        }
        tokio::time::sleep(pause).await;
    }
}

enum Step {
    /// New events arrived.
    Moved,
    /// Nothing new; the run goes on.
    Waiting,
    /// The final event was forwarded.
    Ended,
}

struct Follower<'a> {
    store: &'a Store,
    workspace_id: &'a str,
    run_id: &'a str,
    log: &'a RunLog,
    /// The last stored event forwarded.
    last_seq: u64,
}

impl Follower<'_> {
    async fn step(&mut self) -> Result<Step> {
        let (moved, ended) = self.forward().await?;
        if ended {
            return Ok(Step::Ended);
        }
        let lease = self.store.sync_lease(self.workspace_id).await?;
        let alive = lease.is_some_and(|l| l.run_id == self.run_id && l.expires_at >= now_ms());
        if alive {
            return Ok(if moved { Step::Moved } else { Step::Waiting });
        }
        // A run stores its final event before it releases its lease: if it ended, a last look finds it.
        if self.forward().await?.1 {
            return Ok(Step::Ended);
        }
        // Its lease ran out (or was taken over) without a final event: the instance running it stopped.
        // The first follower to see it records the run interrupted and stores the event that ends it.
        if self
            .store
            .interrupt_sync_run(self.workspace_id, self.run_id, now_ms())
            .await?
        {
            warn!("the instance running this sync stopped; the run is recorded interrupted");
            let event = SyncEvent::Error {
                message: HOLDER_STOPPED.into(),
            };
            let json = serde_json::to_string(&event).unwrap_or_default();
            if let Err(e) = self
                .store
                .append_sync_event(self.run_id, self.last_seq + 1, &json)
                .await
            {
                warn!(error = %e, "could not store the event ending an interrupted run");
            }
        }
        if !self.forward().await?.1 {
            self.end_with(HOLDER_STOPPED);
        }
        Ok(Step::Ended)
    }

    /// Passes on the events stored since the last look; answers whether any came and whether the final
    /// one was among them.
    async fn forward(&mut self) -> Result<(bool, bool)> {
        let stored = self.store.sync_events(self.run_id, self.last_seq).await?;
        let moved = !stored.is_empty();
        for (seq, json) in stored {
            self.last_seq = seq;
            match serde_json::from_str::<SyncEvent>(&json) {
                Ok(event) => {
                    let last = event.is_final();
                    self.log.push_at(seq, event);
                    if last {
                        return Ok((true, true));
                    }
                }
                Err(e) => warn!(seq, error = %e, "a stored sync event cannot be read; skipped"),
            }
        }
        Ok((moved, false))
    }

    /// Ends the local stream with an error event of this instance's own (not stored: the run is not
    /// over for the others following it).
    fn end_with(&self, message: &str) {
        self.log.push_at(
            self.last_seq + 1,
            SyncEvent::Error {
                message: message.to_owned(),
            },
        );
    }
}
