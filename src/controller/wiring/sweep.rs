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

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::channel::mpsc;
use kube::runtime::reflector::{ObjectRef, Store};

use crate::controller::engine::recent::{Recent, phase};
use crate::controller::engine::{Managed, policy};

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
}
