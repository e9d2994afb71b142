//! What this process wrote that its cache may not show yet.
//!
//! A reconcile reads the object from the watch cache, which lags the API
//! server. When a reconcile writes (its finalizer, a marker, the status
//! that records a new id) and the object is reconciled again before the
//! watch brings those writes back (a retry, a poll, a drift check that
//! falls just then), the next reconcile would act on the object as it
//! was: search for what it has just recorded, adopt its own cloud object
//! a second time, or, where names carry no owner, refuse it for want of
//! the marker it just wrote. So the versions each reconcile wrote over are
//! remembered for a few seconds, and a reconcile that reads one of them
//! waits for the cache instead. (Status writes are fenced as well, so a
//! stale status never replaces a newer one; this spares the calls and
//! Events before that write.)
//!
//! resourceVersions are compared for equality only, as the API asks, by a
//! hash: 32 bytes an entry, and only objects written in the last
//! [`KEEP`], so a burst of 10,000 new objects keeps about a thousand.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kube::Resource;

use super::recent::phase;

/// How long to wait for the cache before looking again.
pub const CACHE_LAG: Duration = Duration::from_millis(200);
/// How long a write is remembered. A cache further behind than this is
/// trusted anyway: a watch that is down is the watcher's to report, and
/// every status write stays fenced.
const KEEP: Duration = Duration::from_secs(10);
/// Versions kept per object: a reconcile writes at most its finalizer (with
/// a marker), a marker or a once-only call's record, and its status.
const VERSIONS: usize = 3;

#[derive(Debug)]
pub struct OwnWrites {
    start: Instant,
    entries: Mutex<HashMap<u64, Entry>>,
}

impl Default for OwnWrites {
    fn default() -> Self {
        Self {
            start: Instant::now(),
            entries: Mutex::new(HashMap::new()),
        }
    }
}

#[derive(Debug)]
struct Entry {
    /// Hashes of the resourceVersions this process's writes replaced; 0 is
    /// an empty slot.
    superseded: [u64; VERSIONS],
    /// Milliseconds since `start`.
    at: u64,
}

impl OwnWrites {
    /// `obj`'s reconcile replaced `superseded` (oldest first).
    pub fn record<K: Resource>(&self, obj: &K, superseded: &[String]) {
        if superseded.is_empty() {
            return;
        }
        let mut slots = [0; VERSIONS];
        let newest = superseded.iter().rev().take(VERSIONS);
        for (slot, rv) in slots.iter_mut().zip(newest) {
            *slot = hash(rv);
        }
        let now = self.millis();
        let mut entries = self.lock();
        // The expired go as new ones come: the map holds only the writes of
        // the last few seconds, and gives its room back after a burst.
        let keep = KEEP.as_millis() as u64;
        if entries.len() >= 64 && entries.len().is_power_of_two() {
            entries.retain(|_, e| now.saturating_sub(e.at) < keep);
            entries.shrink_to_fit();
        }
        entries.insert(
            phase(obj),
            Entry {
                superseded: slots,
                at: now,
            },
        );
    }

    /// Whether `obj`, as the cache has it, is a version this process has
    /// since written over. Forgets `obj` once it is not.
    pub fn behind<K: Resource>(&self, obj: &K) -> bool {
        let key = phase(obj);
        let now = self.millis();
        let mut entries = self.lock();
        let Some(entry) = entries.get(&key) else {
            return false;
        };
        let seen = obj.meta().resource_version.as_deref().map(hash);
        let behind = now.saturating_sub(entry.at) < KEEP.as_millis() as u64
            && seen.is_some_and(|rv| entry.superseded.contains(&rv));
        if !behind {
            entries.remove(&key);
        }
        behind
    }

    pub fn forget<K: Resource>(&self, obj: &K) {
        self.lock().remove(&phase(obj));
    }

    fn millis(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A resourceVersion's hash; never 0, the empty slot.
fn hash(rv: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    rv.hash(&mut hasher);
    hasher.finish().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::BackupVault;
    use crate::controller::engine::fixtures::object;

    fn at(rv: &str) -> BackupVault {
        let mut bv = object();
        bv.metadata.uid = Some("0123456789abcdef-uid".into());
        bv.metadata.resource_version = Some(rv.into());
        bv
    }

    #[test]
    fn a_version_written_over_is_behind_until_the_cache_shows_a_newer_one() {
        let writes = OwnWrites::default();
        writes.record(&at("10"), &["10".into(), "11".into()]);
        assert!(writes.behind(&at("10")));
        assert!(writes.behind(&at("11")));
        assert!(!writes.behind(&at("12")), "the cache caught up");
        assert!(!writes.behind(&at("10")), "forgotten once caught up");
    }

    #[test]
    fn nothing_recorded_is_never_behind() {
        let writes = OwnWrites::default();
        writes.record(&at("10"), &[]);
        assert!(!writes.behind(&at("10")));
    }

    /// Memory of writes whose clock started `ago`, with `fresh` writes
    /// just made and one made when it started (of the object whose phase
    /// is `u64::MAX`, over version 10).
    fn aged(ago: Duration, fresh: u64) -> OwnWrites {
        let writes = OwnWrites {
            start: Instant::now() - ago,
            ..OwnWrites::default()
        };
        let now = writes.millis();
        let mut entries = writes.lock();
        entries.insert(
            u64::MAX,
            Entry {
                superseded: [hash("10"), 0, 0],
                at: 0,
            },
        );
        for key in 0..fresh {
            entries.insert(
                key,
                Entry {
                    superseded: [hash("1"), 0, 0],
                    at: now,
                },
            );
        }
        drop(entries);
        writes
    }

    #[test]
    fn a_write_older_than_the_keep_is_trusted_to_be_in_the_cache() {
        let writes = aged(Duration::from_secs(20), 0);
        let mut old = at("10");
        old.metadata.uid = Some("ffffffffffffffff-uid".into());
        assert_eq!(phase(&old), u64::MAX, "the expired entry's");
        assert!(!writes.behind(&old));
    }

    #[test]
    fn the_expired_writes_go_as_the_map_grows_and_the_fresh_stay() {
        // 63 fresh and one expired: the 65th entry makes a sweep.
        let writes = aged(Duration::from_secs(20), 63);
        writes.record(&at("10"), &["10".into()]);
        assert_eq!(writes.lock().len(), 64, "the expired one went");
        assert!(!writes.lock().contains_key(&u64::MAX));
        // Too few to sweep: the expired one waits for a later record.
        let few = aged(Duration::from_secs(20), 3);
        few.record(&at("10"), &["10".into()]);
        assert_eq!(few.lock().len(), 5);
    }

    #[test]
    fn a_forgotten_object_is_not_behind() {
        let writes = OwnWrites::default();
        writes.record(&at("10"), &["10".into()]);
        writes.forget(&at("10"));
        assert!(!writes.behind(&at("10")));
    }

    #[test]
    fn only_the_newest_versions_are_kept() {
        let writes = OwnWrites::default();
        let versions: Vec<String> = (1..=5).map(|v| v.to_string()).collect();
        writes.record(&at("5"), &versions);
        assert!(writes.behind(&at("3")));
        assert!(!writes.behind(&at("1")), "older than the kept three");
    }
}
