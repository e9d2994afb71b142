//! The periodic drift check of every object, as one sweep over the kind's
//! store instead of one timer per object.
//!
//! A requeue timer in kube-runtime's scheduler keeps the object's reference
//! twice (a map entry and a delay-queue slot, about 0.8 KB with its
//! strings); at 10,000 settled objects that was the largest thing coffer
//! held after the cached objects themselves. Here an object's check comes
//! instead at a fixed phase of its interval, taken from its uid, unless it
//! was reconciled in the last half interval anyway: all that is kept is
//! when each object was last reconciled (16 bytes). The checks spread
//! evenly over the interval, and every replica (a new leader, a restarted
//! process) checks an object at the same moment of it, so a start or a
//! failover adds no burst of reads.
//!
//! A reconcile that leaves an object settled therefore just waits for a
//! change; only short waits (polling the provider, backoff) use timers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::channel::mpsc;
use kube::Resource;
use kube::runtime::reflector::{ObjectRef, Store};

use super::engine::{Managed, policy};

/// How often the store is swept. Each sweep wakes the objects whose phase
/// fell since the last one, so the checks stay spread within a second.
const TICK: Duration = Duration::from_secs(1);

/// How far back a sweep looks at most (but the first): a clock set far
/// forward does not make every object due at once.
const CATCH_UP: Duration = Duration::from_secs(10);

/// Sweeps `store` every [`TICK`] until the process stops, waking each
/// object once per interval: its own `coffer.dev/poll-interval`, else
/// `interval`. An object `backing_off` is left to its own retry timer: a
/// drift check must not cut a backoff short.
pub async fn run<K: Managed>(
    store: Store<K>,
    wake: mpsc::UnboundedSender<ObjectRef<K>>,
    interval: Duration,
    recent: &Recent,
    backing_off: impl Fn(&K) -> bool,
) {
    // The first sweep, once the store is filled, covers the time the
    // initial list took.
    let mut last = now_millis();
    if store.wait_until_ready().await.is_err() {
        return;
    }
    let mut first = true;
    let mut ticks = tokio::time::interval(TICK.min(interval));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = now_millis();
        let from = match std::mem::take(&mut first) {
            true => last,
            false => last.max(now.saturating_sub(CATCH_UP.as_millis() as u64)),
        };
        last = now;
        if now <= from {
            // The clock was set back: that stretch was swept already.
            continue;
        }
        for obj in store.state() {
            let every = policy::poll_interval_of(obj.as_ref()).unwrap_or(interval);
            if due(phase(obj.as_ref()), every, from, now)
                && !recent.within(obj.as_ref(), every / 2)
                && !backing_off(obj.as_ref())
                && wake
                    .unbounded_send(ObjectRef::from_obj(obj.as_ref()))
                    .is_err()
            {
                return;
            }
        }
    }
}

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
pub(crate) fn phase<K: Resource>(obj: &K) -> u64 {
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

/// Whether a check of phase `phase` every `interval` falls in the span of
/// wall-clock milliseconds `(from, to]`.
fn due(phase: u64, interval: Duration, from: u64, to: u64) -> bool {
    let every = interval.as_millis().max(1);
    let offset = u128::from(phase) % every;
    let checks_by = |t: u64| (u128::from(t) + every - offset) / every;
    checks_by(to) > checks_by(from)
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::backup_vault::fixtures::object;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn an_object_is_due_once_per_interval_at_its_phase() {
        let phase = 12_345;
        let hits: Vec<u64> = (0..180_000u64)
            .step_by(1000)
            .filter(|t| due(phase, MINUTE, *t, t + 1000))
            .collect();
        assert_eq!(hits, vec![12_000, 72_000, 132_000]);
    }

    #[test]
    fn spans_that_meet_count_a_check_exactly_once() {
        for phase in [0, 1, 999, 1000, 59_999, u64::MAX] {
            let hits = (0..600u64)
                .filter(|s| due(phase, MINUTE, s * 100, (s + 1) * 100))
                .count();
            assert_eq!(hits, 1, "phase {phase}");
        }
    }

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
