//! When each object was last reconciled, kept small enough for 10,000
//! objects: the resync sweep skips an object reconciled in the last half
//! interval, and the engine notes every reconcile's start and end here.
//! Also where in every interval an object falls ([`phase`]), which the
//! sweep and the memory of own writes both key by.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kube::Resource;

/// When each object's last reconcile started or ended, by its uid's first
/// 64 bits, in tenths of a second since the process started: 16 bytes an
/// object. A start counts too, so that a slow reconcile is not woken again
/// while it runs (which would queue a second one right behind it).
#[derive(Debug)]
pub struct Recent {
    start: Instant,
    at: Mutex<HashMap<u64, u32>>,
}

impl Default for Recent {
    fn default() -> Self {
        Self {
            start: Instant::now(),
            at: Mutex::new(HashMap::new()),
        }
    }
}

impl Recent {
    /// A reconcile of `obj` starts or ends now. One being deleted is not
    /// noted: its last reconcile forgets it.
    pub fn note<K: Resource>(&self, obj: &K) {
        if obj.meta().deletion_timestamp.is_some() {
            return;
        }
        let now = self.tenths();
        self.lock().insert(phase(obj), now);
    }

    /// `obj` is gone.
    pub fn forget<K: Resource>(&self, obj: &K) {
        self.lock().remove(&phase(obj));
    }

    /// Whether a reconcile of `obj` started or ended less than `span` ago.
    pub fn within<K: Resource>(&self, obj: &K, span: Duration) -> bool {
        let now = self.tenths();
        let span = span.as_millis() / 100;
        self.lock()
            .get(&phase(obj))
            .is_some_and(|at| u128::from(now.saturating_sub(*at)) < span)
    }

    fn tenths(&self) -> u32 {
        u32::try_from(self.start.elapsed().as_millis() / 100).unwrap_or(u32::MAX)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, u32>> {
        self.at.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Where in every interval `obj` is checked: the first 64 bits of its uid,
/// which the API server makes random. Stable across processes.
pub fn phase<K: Resource>(obj: &K) -> u64 {
    let uid = obj.meta().uid.as_deref().unwrap_or_default();
    // Without allocating: the sweep asks this of every object every second.
    let digits = uid.chars().filter(|c| *c != '-').take(16);
    let parsed = digits
        .map(|c| c.to_digit(16).map(u64::from))
        .try_fold(0u64, |acc, d| d.map(|d| acc << 4 | d));
    parsed.unwrap_or_else(|| {
        // Not a UUID (never from an API server): any stable spread will do.
        uid.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::engine::fixtures::object;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn an_object_reconciled_lately_is_known_until_forgotten() {
        let recent = Recent::default();
        let vault = object();
        assert!(!recent.within(&vault, MINUTE));
        recent.note(&vault);
        assert!(recent.within(&vault, MINUTE));
        assert!(!recent.within(&vault, Duration::ZERO));
        recent.forget(&vault);
        assert!(!recent.within(&vault, MINUTE));
    }

    #[test]
    fn a_reconcile_is_recent_for_the_span_asked_and_no_longer() {
        let recent = Recent::default();
        let vault = object();
        recent.note(&vault);
        std::thread::sleep(Duration::from_millis(300));
        assert!(recent.within(&vault, MINUTE));
        assert!(!recent.within(&vault, Duration::from_millis(100)));
    }

    #[test]
    fn an_object_being_deleted_is_not_noted() {
        let recent = Recent::default();
        let mut going = object();
        going.metadata.deletion_timestamp = Some(
            k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::UNIX_EPOCH),
        );
        recent.note(&going);
        assert!(!recent.within(&going, MINUTE));
    }

    #[test]
    fn a_uid_that_is_no_uuid_still_has_a_stable_phase() {
        let mut vault = object();
        vault.metadata.uid = Some("not-a-uuid".into());
        // FNV-1a of the uid: the same in every process and every release.
        assert_eq!(phase(&vault), 0xe287_cc0c_0ba2_f0c0);
    }

    #[test]
    fn phases_come_from_the_uid_and_spread_over_the_interval() {
        let mut vault = object();
        vault.metadata.uid = Some("8f14e45f-ceea-467f-a0e6-8b7c1d0a2f3e".into());
        assert_eq!(phase(&vault), 0x8f14_e45f_ceea_467f);
        let buckets = (0..6000u32)
            .map(|i| {
                vault.metadata.uid = Some(format!(
                    "{:08x}-1111-4111-8111-111111111111",
                    i.wrapping_mul(2_654_435_761)
                ));
                (phase(&vault) % 60_000) / 10_000
            })
            .fold([0u32; 6], |mut b, i| {
                b[i as usize] += 1;
                b
            });
        assert!(
            buckets.iter().all(|n| (800..1200).contains(n)),
            "{buckets:?}"
        );
    }
}
