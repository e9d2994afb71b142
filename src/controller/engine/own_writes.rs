//! What this process wrote that its cache may not show yet.
//!
//! A reconcile reads the object from the watch cache, which lags the API
//! server. When a reconcile writes (its finalizer, a marker, the status
//! that records a new id) and then fails or polls, the retry can come
//! before the watch brings those writes back, and would act on the object
//! as it was: search for what it has just recorded, adopt its own cloud
//! object a second time, or, where names carry no owner, refuse it for
//! want of the marker it just wrote. So the versions a reconcile wrote
//! over are remembered for objects that will be looked at again soon, and
//! a reconcile that reads one of them waits for the cache instead.
//!
//! resourceVersions are compared for equality only, as the API asks. Only
//! objects retried or polled are remembered, and each is forgotten by its
//! next reconcile that finds the cache caught up, so the map stays as
//! small as the set of failing objects.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kube::Resource;

use crate::controller::sweep::phase;

/// How long to wait for the cache before looking again.
pub const CACHE_LAG: Duration = Duration::from_millis(200);
/// After this, a cache still behind is trusted anyway (a watch that is
/// down is the watcher's to report, and every write stays fenced).
const GIVE_UP: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
pub struct OwnWrites {
    entries: Mutex<HashMap<u64, Entry>>,
}

#[derive(Debug)]
struct Entry {
    /// The resourceVersions this process's writes replaced.
    superseded: Vec<String>,
    at: Instant,
}

impl OwnWrites {
    /// `obj`'s last reconcile replaced `superseded` and will be retried soon.
    pub fn record<K: Resource>(&self, obj: &K, superseded: Vec<String>) {
        if superseded.is_empty() {
            return;
        }
        let entry = Entry {
            superseded,
            at: Instant::now(),
        };
        self.lock().insert(phase(obj), entry);
    }

    /// Whether `obj`, as the cache has it, is a version this process has
    /// since written over. Forgets `obj` once it is not.
    pub fn behind<K: Resource>(&self, obj: &K) -> bool {
        let key = phase(obj);
        let mut entries = self.lock();
        let Some(entry) = entries.get(&key) else {
            return false;
        };
        let seen = obj.meta().resource_version.as_deref();
        let behind = entry.at.elapsed() < GIVE_UP
            && seen.is_some_and(|rv| entry.superseded.iter().any(|s| s == rv));
        if !behind {
            entries.remove(&key);
        }
        behind
    }

    pub fn forget<K: Resource>(&self, obj: &K) {
        self.lock().remove(&phase(obj));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::BackupVault;
    use crate::controller::backup_vault::fixtures::object;

    fn at(rv: &str) -> BackupVault {
        let mut bv = object();
        bv.metadata.uid = Some("0123456789abcdef-uid".into());
        bv.metadata.resource_version = Some(rv.into());
        bv
    }

    #[test]
    fn a_version_written_over_is_behind_until_the_cache_shows_a_newer_one() {
        let writes = OwnWrites::default();
        writes.record(&at("10"), vec!["10".into(), "11".into()]);
        assert!(writes.behind(&at("10")));
        assert!(writes.behind(&at("11")));
        assert!(!writes.behind(&at("12")), "the cache caught up");
        assert!(!writes.behind(&at("10")), "forgotten once caught up");
    }

    #[test]
    fn nothing_recorded_is_never_behind() {
        let writes = OwnWrites::default();
        writes.record(&at("10"), Vec::new());
        assert!(!writes.behind(&at("10")));
    }
}
