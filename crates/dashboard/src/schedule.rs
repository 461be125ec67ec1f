//! Scheduled sync: every workspace is synced in the background once per interval, each at its own stable
//! offset within the interval so that workspaces do not all start at once, through the same single-flight
//! engine as every other sync, so the page a user opens is already fresh.
//!
//! A slot is skipped when the workspace is syncing already (in this process, or in another instance whose
//! lease is live) or was synced in the last half interval by anyone (a page opened, another instance's
//! schedule), so several instances running the same schedule make one run a slot between them; should two
//! start together all the same, the engine's lease decides between them.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::error::Result;
use crate::jobs::ClientSource;
use crate::store::now_ms;
use crate::sync::{SyncEngine, Trigger};

/// How often each workspace is synced when nobody says otherwise.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// The shortest interval the command line accepts; shorter ones would keep Yelp busy for nothing.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// How often, at most, the schedule looks for workspaces added or deleted.
const REFRESH: Duration = Duration::from_secs(30);

/// Reads an interval as people write it: `15m`, `90s`, `1h30m`, `1500ms`; `0` switches the schedule off.
pub fn parse_interval(text: &str) -> std::result::Result<Duration, String> {
    let invalid =
        || format!("`{text}` is not an interval such as 15m, 90s or 1h30m (0 switches it off)");
    let trimmed = text.trim();
    if trimmed == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total_ms: u64 = 0;
    let mut rest = trimmed;
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let letters = rest[digits..]
            .bytes()
            .take_while(u8::is_ascii_alphabetic)
            .count();
        if digits == 0 || letters == 0 {
            return Err(invalid());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        let unit_ms: u64 = match &rest[digits..digits + letters] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return Err(invalid()),
        };
        total_ms = number
            .checked_mul(unit_ms)
            .and_then(|ms| total_ms.checked_add(ms))
            .ok_or_else(invalid)?;
        rest = &rest[digits + letters..];
    }
    let interval = Duration::from_millis(total_ms);
    if interval.is_zero() {
        return Ok(Duration::ZERO);
    }
    if interval < MIN_INTERVAL {
        return Err(format!(
            "a sync interval of {text} is too short: give at least 1s, or 0 to switch it off"
        ));
    }
    Ok(interval)
}

/// The workspace's place within each interval: a hash of its id, so that it is the same in every instance
/// and after every restart, and different workspaces are spread over the interval.
pub fn offset(workspace_id: &str, interval: Duration) -> Duration {
    let interval_ms = millis(interval).max(1);
    let digest = Sha256::digest(workspace_id.as_bytes());
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    Duration::from_millis(u64::from_be_bytes(head) % interval_ms as u64)
}

/// The workspace's first slot after `after_ms` (unix ms): slots fall at `k × interval + offset`.
fn next_slot(offset_ms: i64, interval_ms: i64, after_ms: i64) -> i64 {
    let k = (after_ms - offset_ms).div_euclid(interval_ms) + 1;
    k * interval_ms + offset_ms
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// What the schedule does with a workspace whose slot has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Start a run.
    Start,
    /// A run of the workspace is going on in this process.
    RunningHere,
    /// Another instance holds the workspace's sync lease.
    RunningElsewhere,
    /// A run started at this time (unix ms), less than half an interval ago.
    RecentlySynced(i64),
}

/// The background schedule of syncs. Start it with [`Schedule::spawn`].
pub struct Schedule {
    engine: SyncEngine,
    clients: ClientSource,
    interval: Duration,
    skip: HashSet<String>,
}

/// A running schedule; [`ScheduleHandle::stop`] ends it.
#[derive(Debug)]
pub struct ScheduleHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl ScheduleHandle {
    /// Stops the schedule: no run starts after this returns. Runs it started go on; the engine's
    /// shutdown stops those.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

impl Schedule {
    /// A schedule syncing every workspace each `interval` with the clients of `clients`.
    pub fn new(engine: SyncEngine, clients: ClientSource, interval: Duration) -> Self {
        Self {
            engine,
            clients,
            interval,
            skip: HashSet::new(),
        }
    }

    /// Leaves a workspace out (the demo workspace when the server is not in demo mode: its simulator is
    /// gone).
    pub fn skipping(mut self, workspace_id: impl Into<String>) -> Self {
        self.skip.insert(workspace_id.into());
        self
    }

    /// Starts the schedule in the background, or answers `None` if the interval is zero (switched off).
    pub fn spawn(self) -> Option<ScheduleHandle> {
        if self.interval.is_zero() {
            return None;
        }
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(self.run(stopped));
        Some(ScheduleHandle { stop, task })
    }

    /// Whether the workspace should be synced now.
    pub async fn decide(&self, workspace_id: &str) -> Result<Decision> {
        if self.engine.is_running(workspace_id) {
            return Ok(Decision::RunningHere);
        }
        let now = now_ms();
        let activity = self.engine.store().sync_activity(workspace_id, now).await?;
        if activity.lease_live {
            return Ok(Decision::RunningElsewhere);
        }
        match activity.last_started_at {
            Some(started) if now - started < millis(self.interval) / 2 => {
                Ok(Decision::RecentlySynced(started))
            }
            _ => Ok(Decision::Start),
        }
    }

    async fn run(self, mut stopped: watch::Receiver<bool>) {
        let interval_ms = millis(self.interval).max(1);
        // This instance's lateness within every slot, so that instances sharing a schedule do not all look
        // at a workspace in the same millisecond.
        let lateness_ms = fastrand::i64(0..=(interval_ms / 20).min(2_000));
        let refresh_ms = millis(REFRESH);
        info!(
            interval_s = self.interval.as_secs_f64(),
            "scheduled sync is on"
        );
        let mut due: HashMap<String, i64> = HashMap::new();
        let mut unusable: HashSet<String> = HashSet::new();
        let mut refreshed_at: Option<i64> = None;
        loop {
            let now = now_ms();
            if refreshed_at.is_none_or(|at| now - at >= refresh_ms) {
                refreshed_at = Some(now);
                match self.engine.store().workspaces().await {
                    Ok(workspaces) => {
                        let ids: HashSet<String> = workspaces
                            .into_iter()
                            .map(|w| w.id)
                            .filter(|id| !self.skip.contains(id))
                            .collect();
                        due.retain(|id, _| ids.contains(id));
                        unusable.retain(|id| ids.contains(id));
                        for id in ids {
                            due.entry(id).or_insert_with_key(|id| {
                                let offset = millis(offset(id, self.interval));
                                next_slot(offset, interval_ms, now) + lateness_ms
                            });
                        }
                    }
                    Err(e) => warn!(error = %e, "scheduled sync: cannot list the workspaces"),
                }
            }
            let now = now_ms();
            let ready: Vec<String> = due
                .iter()
                .filter(|(_, at)| **at <= now)
                .map(|(id, _)| id.clone())
                .collect();
            for id in ready {
                if *stopped.borrow() {
                    return;
                }
                self.fire(&id, &mut unusable).await;
                let offset = millis(offset(&id, self.interval));
                due.insert(id, next_slot(offset, interval_ms, now_ms()) + lateness_ms);
            }
            let now = now_ms();
            let next_refresh = refreshed_at.map_or(now, |at| at + refresh_ms);
            let wake = due
                .values()
                .copied()
                .min()
                .unwrap_or(next_refresh)
                .min(next_refresh);
            let sleep = Duration::from_millis(u64::try_from(wake - now).unwrap_or(0));
            tokio::select! {
                () = tokio::time::sleep(sleep) => {}
                changed = stopped.changed() => {
                    if changed.is_err() || *stopped.borrow() {
                        return;
                    }
                }
            }
        }
    }

    /// Starts the workspace's run if its slot is not to be skipped.
    async fn fire(&self, workspace_id: &str, unusable: &mut HashSet<String>) {
        match self.decide(workspace_id).await {
            Ok(Decision::Start) => {}
            Ok(decision) => {
                debug!(workspace_id, ?decision, "scheduled sync skipped");
                return;
            }
            Err(e) => {
                warn!(workspace_id, error = %e, "scheduled sync: cannot read the workspace's runs; skipping this slot");
                return;
            }
        }
        let client = match (self.clients)(workspace_id.to_owned()).await {
            Ok(client) => client,
            Err(e) => {
                // Said once, not at every slot: a workspace waiting for its credentials is not an error.
                if unusable.insert(workspace_id.to_owned()) {
                    info!(workspace_id, reason = %e, "scheduled sync skips this workspace until its Yelp client can be built");
                }
                return;
            }
        };
        if unusable.remove(workspace_id) {
            info!(workspace_id, "scheduled sync resumes for this workspace");
        }
        let run = self
            .engine
            .sync(workspace_id, client, Trigger::Schedule, None);
        info!(
            workspace_id,
            run_id = run.run_id(),
            joined = run.joined(),
            "scheduled sync"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_as_people_write_them() {
        let cases = [
            ("15m", 900_000),
            ("90s", 90_000),
            ("1h30m", 5_400_000),
            ("1500ms", 1_500),
            (" 2h ", 7_200_000),
            ("0", 0),
            ("0s", 0),
        ];
        for (text, ms) in cases {
            assert_eq!(
                parse_interval(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
        for bad in [
            "",
            "15",
            "m",
            "15x",
            "1.5m",
            "-5m",
            "15 m",
            "99999999999999999999h",
            "10ms",
        ] {
            assert!(parse_interval(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn offsets_are_stable_spread_and_inside_the_interval() {
        for interval in [
            Duration::from_millis(1),
            Duration::from_millis(300),
            DEFAULT_INTERVAL,
            Duration::from_secs(86_400),
        ] {
            let offsets: Vec<Duration> = (0..200)
                .map(|i| offset(&format!("workspace-{i}"), interval))
                .collect();
            assert!(offsets.iter().all(|o| *o < interval), "{interval:?}");
            assert_eq!(offsets[7], offset("workspace-7", interval), "stable");
            if interval >= DEFAULT_INTERVAL {
                let distinct: HashSet<_> = offsets.iter().collect();
                assert!(distinct.len() >= 195, "{} distinct of 200", distinct.len());
                // Spread over the whole interval: each tenth of it holds some.
                let tenths: HashSet<u128> = offsets
                    .iter()
                    .map(|o| o.as_millis() * 10 / interval.as_millis())
                    .collect();
                assert_eq!(tenths.len(), 10);
            }
        }
        assert_ne!(offset("a", DEFAULT_INTERVAL), offset("b", DEFAULT_INTERVAL));
    }

    #[test]
    fn the_next_slot_is_the_first_one_after_now() {
        let (offset, interval) = (300, 1_000);
        assert_eq!(next_slot(offset, interval, 0), 300);
        assert_eq!(next_slot(offset, interval, 299), 300);
        assert_eq!(next_slot(offset, interval, 300), 1_300);
        assert_eq!(next_slot(offset, interval, 1_299), 1_300);
        assert_eq!(
            next_slot(offset, interval, 1_700_000_000_123),
            1_700_000_000_300
        );
        for now in [0, 1, 999, 123_456_789] {
            let slot = next_slot(offset, interval, now);
            assert!(slot > now && slot - now <= interval);
            assert_eq!(slot.rem_euclid(interval), offset);
        }
    }
}
