//! Failed sign-in counts per key (`user:<name>`, `addr:<ip>`) and the locks they lead to, and the turns that
//! attempts on one key take in this process. The policy (how many, how long) is `auth`'s; this module only
//! keeps the counts, atomically.

use std::sync::Arc;

use sqlx::FromRow;

use super::Store;
use crate::error::Result;

/// The failures counted against one key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromRow)]
pub struct ThrottleState {
    /// Failures since `window_started_at`.
    pub failures: i64,
    /// When the current counting window began (unix ms).
    pub window_started_at: i64,
    /// Until when the key is locked (unix ms); 0 or a past time when it is not.
    pub locked_until: i64,
}

impl ThrottleState {
    /// Whether the key is locked at `now`.
    pub fn is_locked(&self, now: i64) -> bool {
        self.locked_until > now
    }
}

impl Store {
    /// The failures counted against `key`, if any.
    pub async fn throttle_state(&self, key: &str) -> Result<Option<ThrottleState>> {
        Ok(sqlx::query_as::<_, ThrottleState>(
            "SELECT failures, window_started_at, locked_until FROM login_throttle WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Counts one failure against `key` in one atomic statement and answers the state it leads to. The
    /// count starts again when the window that began `window_ms` ago has passed or a lock has ended; the
    /// failure that brings it to `lock_after` locks the key for `lock_ms`.
    pub async fn record_login_failure(
        &self,
        key: &str,
        now: i64,
        window_ms: i64,
        lock_after: i64,
        lock_ms: i64,
    ) -> Result<ThrottleState> {
        let lock_until = now.saturating_add(lock_ms);
        let first_locks = if lock_after <= 1 { lock_until } else { 0 };
        // In an upsert's SET every expression sees the row as it was, on both databases.
        Ok(sqlx::query_as::<_, ThrottleState>(
            "INSERT INTO login_throttle (key, failures, window_started_at, locked_until) \
             VALUES ($1, 1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET \
             failures = CASE WHEN login_throttle.window_started_at <= $4 \
                 OR (login_throttle.locked_until > 0 AND login_throttle.locked_until <= $2) \
                 THEN 1 ELSE login_throttle.failures + 1 END, \
             window_started_at = CASE WHEN login_throttle.window_started_at <= $4 \
                 OR (login_throttle.locked_until > 0 AND login_throttle.locked_until <= $2) \
                 THEN $2 ELSE login_throttle.window_started_at END, \
             locked_until = CASE \
                 WHEN (CASE WHEN login_throttle.window_started_at <= $4 \
                     OR (login_throttle.locked_until > 0 AND login_throttle.locked_until <= $2) \
                     THEN 1 ELSE login_throttle.failures + 1 END) >= $5 THEN $6 \
                 WHEN login_throttle.window_started_at <= $4 \
                     OR (login_throttle.locked_until > 0 AND login_throttle.locked_until <= $2) THEN 0 \
                 ELSE login_throttle.locked_until END \
             RETURNING failures, window_started_at, locked_until",
        )
        .bind(key)
        .bind(now)
        .bind(first_locks)
        .bind(now.saturating_sub(window_ms))
        .bind(lock_after)
        .bind(lock_until)
        .fetch_one(&self.writer)
        .await?)
    }

    /// Forgets the failures counted against `key` (after a successful sign-in).
    pub async fn clear_login_failures(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(key)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Removes the counts that no longer matter at `now`: window older than `window_ms` and no lock in
    /// force. Answers how many.
    pub async fn delete_stale_login_throttles(&self, now: i64, window_ms: i64) -> Result<u64> {
        Ok(sqlx::query(
            "DELETE FROM login_throttle WHERE window_started_at <= $1 AND locked_until <= $2",
        )
        .bind(now.saturating_sub(window_ms))
        .bind(now)
        .execute(&self.writer)
        .await?
        .rows_affected())
    }
}

/// Sign-in attempts under way in this process, one queue per throttle key.
#[derive(Debug, Default)]
pub(super) struct LoginTurns {
    queues: std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// The turn of one sign-in attempt on a key; the next attempt on the key goes when it is dropped.
pub struct LoginTurn {
    key: String,
    queue: Option<tokio::sync::OwnedMutexGuard<()>>,
    turns: Arc<LoginTurns>,
}

impl Drop for LoginTurn {
    fn drop(&mut self) {
        let guard = self.queue.take();
        let mut queues = self
            .turns
            .queues
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        drop(guard);
        // The map's reference is the last one when nobody holds or awaits the queue: forget it, so that
        // the map holds only keys in use. Nobody can take a new reference while the map is locked.
        if queues
            .get(&self.key)
            .is_some_and(|queue| Arc::strong_count(queue) == 1)
        {
            queues.remove(&self.key);
        }
    }
}

impl Store {
    /// Waits for the turn of a sign-in attempt on `key` in this process: attempts on one key are checked
    /// one after another, so that each sees the failures counted by those before it. (Across instances
    /// each process has its own queue, so at most one attempt per instance runs at once.)
    pub async fn login_turn(&self, key: &str) -> LoginTurn {
        let queue = {
            let mut queues = self
                .login_turns
                .queues
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            queues.entry(key.to_owned()).or_default().clone()
        };
        LoginTurn {
            key: key.to_owned(),
            queue: Some(queue.lock_owned().await),
            turns: self.login_turns.clone(),
        }
    }
}
