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

use std::cmp::Reverse;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::channel::mpsc;
use kube::runtime::reflector::{ObjectRef, Store};

use crate::controller::engine::recent::{Recent, phase};
use crate::controller::engine::{Managed, policy};

/// How often due checks are sent. Each tick wakes the objects whose phase
/// fell since the last one, so the checks stay spread within a second.
const TICK: Duration = Duration::from_secs(1);

/// How far ahead one pass over the store plans the checks. The store is
/// walked once per window, not once per tick: at 100,000 objects a walk
/// every second cost more CPU than everything else coffer does at rest.
/// An object created within a window has just been reconciled, so its
/// first check, in the next window, is not late.
const WINDOW: Duration = Duration::from_secs(30);

/// How far back a sweep looks at most (but the first): a clock set far
/// forward does not make every object due at once.
const CATCH_UP: Duration = Duration::from_secs(10);

/// Sweeps `store` every [`TICK`] until the process stops, waking each
/// object once per interval: its own `coffer.dev/poll-interval`, else
/// `interval`. An object `backing_off` is left to its own retry timer: a
/// drift check must not cut a backoff short.
pub async fn run<K: Managed>(
    store: Store<K>,
    mut arrivals: mpsc::UnboundedReceiver<ObjectRef<K>>,
    wake: mpsc::UnboundedSender<ObjectRef<K>>,
    interval: Duration,
    recent: &Recent,
    backing_off: impl Fn(&K) -> bool,
) {
    // The first window, once the store is filled, covers the time the
    // initial list took.
    let mut planned_to = now_millis();
    if store.wait_until_ready().await.is_err() {
        return;
    }
    let mut first = true;
    let mut due = Schedule::default();
    let mut ticks = tokio::time::interval(TICK.min(interval));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = now_millis();
        if now >= planned_to {
            let from = match std::mem::take(&mut first) {
                true => planned_to,
                false => planned_to.max(now.saturating_sub(CATCH_UP.as_millis() as u64)),
            };
            planned_to = now + WINDOW.min(interval).as_millis() as u64;
            due.plan(&store, interval, from, planned_to);
        } else {
            // Objects new or changed since the window was planned; a
            // changed one may hold a check already, which the wake below
            // sends only once.
            let mut arrived = false;
            while let Ok(key) = arrivals.try_recv() {
                if let Some(obj) = store.get(&key) {
                    due.push(obj.as_ref(), interval, now, planned_to);
                    arrived = true;
                }
            }
            if arrived {
                due.sort();
            }
        }
        // An entry is only a moment and a name: whether the object still
        // exists, still wants this check, or was reconciled anyway is
        // decided now, from the store as it is.
        let mut woken = std::collections::HashSet::new();
        for key in due.take_until(now) {
            if !woken.insert(key.clone()) {
                continue;
            }
            let Some(obj) = store.get(&key) else { continue };
            let every = policy::poll_interval_of(obj.as_ref()).unwrap_or(interval);
            if !recent.within(obj.as_ref(), every / 2)
                && !backing_off(obj.as_ref())
                && wake.unbounded_send(key).is_err()
            {
                return;
            }
        }
    }
}

/// The checks planned for the current window, latest first (so the due
/// ones come off the end).
struct Schedule<K: Managed> {
    checks: Vec<(u64, ObjectRef<K>)>,
}

impl<K: Managed> Default for Schedule<K> {
    fn default() -> Self {
        Self { checks: Vec::new() }
    }
}

impl<K: Managed> Schedule<K> {
    /// Adds every check of every object in `store` that falls in `(from, to]`.
    fn plan(&mut self, store: &Store<K>, interval: Duration, from: u64, to: u64) {
        for obj in store.state() {
            self.push(obj.as_ref(), interval, from, to);
        }
        self.sort();
    }

    /// Restores the order after [`Schedule::push`]es.
    fn sort(&mut self) {
        // Stable: the schedule is already in order but for what was added.
        self.checks.sort_by_key(|(at, _)| Reverse(*at));
    }

    /// Adds the checks of `obj` that fall in `(from, to]`; call
    /// [`Schedule::sort`] before taking.
    fn push(&mut self, obj: &K, interval: Duration, from: u64, to: u64) {
        let every = policy::poll_interval_of(obj).unwrap_or(interval);
        for at in checks_in(phase(obj), every, from, to) {
            self.checks.push((at, ObjectRef::from_obj(obj)));
        }
    }

    /// The checks due by `now`, removed from the schedule.
    fn take_until(&mut self, now: u64) -> Vec<ObjectRef<K>> {
        let later = self.checks.partition_point(|(at, _)| *at > now);
        self.checks
            .drain(later..)
            .rev()
            .map(|(_, key)| key)
            .collect()
    }
}

/// The wall-clock milliseconds in `(from, to]` at which a check of phase
/// `phase` every `interval` falls.
fn checks_in(phase: u64, interval: Duration, from: u64, to: u64) -> impl Iterator<Item = u64> {
    let every = u64::try_from(interval.as_millis())
        .unwrap_or(u64::MAX)
        .max(1);
    let offset = phase % every;
    let mut first = (from - from % every).saturating_add(offset);
    if first <= from {
        first = first.saturating_add(every);
    }
    std::iter::successors(Some(first), move |t| t.checked_add(every)).take_while(move |t| *t <= to)
}

/// Whether a check of phase `phase` every `interval` falls in the span of
/// wall-clock milliseconds `(from, to]`.
#[cfg(test)]
fn due(phase: u64, interval: Duration, from: u64, to: u64) -> bool {
    checks_in(phase, interval, from, to).next().is_some()
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// A store holding objects whose uids give phases 10 s, 25 s and 50 s
    /// into a minute; the second is checked every 20 s (at 5 s, 25 s, 45 s).
    fn store() -> Store<crate::api::BackupVault> {
        let (reader, mut writer) = kube::runtime::reflector::store();
        for (name, uid, poll) in [
            ("a", "00000000-0000-2710", None),
            ("b", "00000000-0000-61a8", Some("20s")),
            ("c", "00000000-0000-c350", None),
        ] {
            let mut obj = crate::controller::engine::fixtures::object();
            obj.metadata.name = Some(name.into());
            obj.metadata.uid = Some(uid.into());
            if let Some(poll) = poll {
                obj.metadata.annotations = Some(
                    [(
                        crate::api::managed::POLL_INTERVAL_ANNOTATION.to_string(),
                        poll.into(),
                    )]
                    .into(),
                );
            }
            writer.apply_watcher_event(&kube::runtime::watcher::Event::Apply(obj));
        }
        reader
    }

    #[test]
    fn one_walk_of_the_store_plans_each_check_of_a_window_at_its_moment() {
        let store = store();
        let mut schedule = Schedule::default();
        let mut woken = Vec::new();
        for window in 0..4u64 {
            let (from, to) = (window * 30_000, (window + 1) * 30_000);
            schedule.plan(&store, MINUTE, from, to);
            for now in (from + 1000..=to).step_by(1000) {
                for key in schedule.take_until(now) {
                    woken.push((now, key.name));
                }
            }
        }
        let at = |s: u64, name: &str| (s * 1000, name.to_string());
        assert_eq!(
            woken,
            vec![
                at(5, "b"),
                at(10, "a"),
                at(25, "b"),
                at(45, "b"),
                at(50, "c"),
                at(65, "b"),
                at(70, "a"),
                at(85, "b"),
                at(105, "b"),
                at(110, "c"),
            ]
        );
        assert!(schedule.take_until(u64::MAX).is_empty());
    }

    #[test]
    fn checks_not_yet_due_wait_for_their_moment() {
        let store = store();
        let mut schedule = Schedule::default();
        schedule.plan(&store, MINUTE, 0, 60_000);
        let names = |keys: Vec<ObjectRef<_>>| keys.into_iter().map(|k| k.name).collect::<Vec<_>>();
        assert!(schedule.take_until(4_999).is_empty());
        assert_eq!(names(schedule.take_until(5_000)), ["b"]);
        assert_eq!(names(schedule.take_until(10_000)), ["a"]);
        assert!(schedule.take_until(24_999).is_empty());
        assert_eq!(names(schedule.take_until(45_000)), ["b", "b"]);
        assert_eq!(names(schedule.take_until(60_000)), ["c"]);
        assert!(schedule.take_until(u64::MAX).is_empty());
    }

    #[test]
    fn an_object_that_arrives_within_a_window_is_checked_in_it() {
        let store = store();
        let mut schedule = Schedule::default();
        schedule.plan(&store, MINUTE, 0, 30_000);
        assert_eq!(schedule.take_until(12_000).len(), 2, "b at 5 s, a at 10 s");
        // c's phase is 50 s; with its own 20 s interval, at 30 s in the window.
        let mut c = store
            .state()
            .into_iter()
            .find(|o| o.metadata.name.as_deref() == Some("c"))
            .unwrap()
            .as_ref()
            .clone();
        c.metadata.annotations = Some(
            [(
                crate::api::managed::POLL_INTERVAL_ANNOTATION.to_string(),
                "20s".into(),
            )]
            .into(),
        );
        schedule.push(&c, MINUTE, 12_000, 30_000);
        schedule.sort();
        let names = |keys: Vec<ObjectRef<_>>| keys.into_iter().map(|k| k.name).collect::<Vec<_>>();
        assert_eq!(names(schedule.take_until(30_000)), ["b", "c"]);
    }
}
