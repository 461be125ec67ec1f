//! Caches of what is computed from a workspace's mirror, bounded by bytes.
//!
//! Every value is stored with the mirror version it was computed at and is answered only at that version:
//! every write to a workspace's programs bumps its version in the same transaction, so a cached answer is
//! never stale, on any instance; a sync's writes are the exception, bumping it at most once a second and at
//! the run's end, so that a list may be up to a second old while a sync writes. The bound is by weight
//! (bytes, as the cache's `weigh` function counts them), not by entries: one viewer paging a 100,000-program mirror 500 at a time makes hundreds of
//! distinct bodies of hundreds of kilobytes each, and an entry count let them take most of a GiB. moka
//! evicts what is least likely to be asked again once the weight is over the bound.

use std::sync::Arc;

use moka::sync::Cache;

/// Values by key, each valid at one mirror version, within a bound of bytes.
pub struct VersionedCache<V> {
    entries: Cache<String, Arc<(i64, V)>>,
}

impl<V> std::fmt::Debug for VersionedCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VersionedCache")
            .field("entries", &self.entries.entry_count())
            .field("bytes", &self.entries.weighted_size())
            .finish()
    }
}

impl<V: Send + Sync + 'static> VersionedCache<V> {
    /// A cache holding at most `max_bytes`, each entry weighing its key's length plus `weigh(value)`.
    pub fn new(max_bytes: u64, weigh: fn(&V) -> usize) -> Self {
        let entries = Cache::builder()
            .max_capacity(max_bytes)
            .weigher(move |key: &String, value: &Arc<(i64, V)>| {
                u32::try_from(key.len() + weigh(&value.1)).unwrap_or(u32::MAX)
            })
            .build();
        Self { entries }
    }

    /// The value for `key` if it was computed at `version`.
    pub fn get(&self, key: &str, version: i64) -> Option<V>
    where
        V: Clone,
    {
        self.entries
            .get(key)
            .filter(|entry| entry.0 == version)
            .map(|entry| entry.1.clone())
    }

    /// Keeps a value computed at `version` (replacing the key's value of any other version).
    pub fn put(&self, key: String, version: i64, value: V) {
        self.entries.insert(key, Arc::new((version, value)));
    }

    /// The bytes held, once evictions owed to recent inserts are done.
    pub fn weighted_bytes(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.weighted_size()
    }
}

/// Response bodies by key and mirror version, weighed by their length.
pub type BodyCache = VersionedCache<axum::body::Bytes>;

impl BodyCache {
    /// A cache of response bodies holding at most `max_bytes`.
    pub fn of_bodies(max_bytes: u64) -> Self {
        Self::new(max_bytes, axum::body::Bytes::len)
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Bytes;

    use super::*;

    #[test]
    fn a_value_is_answered_only_at_its_version() {
        let cache = BodyCache::of_bodies(1024);
        cache.put("k".into(), 3, Bytes::from_static(b"body"));
        assert_eq!(cache.get("k", 3).as_deref(), Some(&b"body"[..]));
        assert_eq!(cache.get("k", 4), None);
        cache.put("k".into(), 4, Bytes::from_static(b"newer"));
        assert_eq!(cache.get("k", 3), None);
        assert_eq!(cache.get("k", 4).as_deref(), Some(&b"newer"[..]));
    }

    #[test]
    fn the_bytes_held_stay_within_the_bound() {
        let cache = BodyCache::of_bodies(100_000);
        for i in 0..1000 {
            cache.put(format!("query {i}"), 1, Bytes::from(vec![b'x'; 10_000]));
        }
        let held = cache.weighted_bytes();
        assert!(held <= 100_000, "{held} bytes held");
        assert!(held >= 50_000, "the cache is used: {held} bytes held");
    }
}
