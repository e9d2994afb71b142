//! When to look at an object again. Retryable failures back off exponentially
//! per object, with jitter, never sooner than the provider's `Retry-After`;
//! a success forgets the failures. Every delay is jittered so that thousands
//! of objects that failed, or were created, together do not wake together.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::Rng;

/// Spread of a periodic requeue: ±20% around the interval.
const PERIOD_SPREAD: f64 = 0.2;

/// Per-object exponential backoff. Only objects that are failing have an
/// entry, so the map stays as small as the set of broken objects.
#[derive(Debug)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    failures: Mutex<HashMap<String, Failing>>,
}

/// How long an object has been failing.
#[derive(Debug, Clone, Copy)]
struct Failing {
    count: u32,
    since: Instant,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// A backoff that never waits longer than `resync`: a failing object is
    /// tried again at least as often as a healthy one is checked for drift.
    pub fn within(base: Duration, max: Duration, resync: Duration) -> Self {
        Self::new(base.min(resync), max.min(resync))
    }

    /// The longest wait between two tries (before a provider's `Retry-After`).
    pub fn ceiling(&self) -> Duration {
        self.max
    }

    /// Counts one more failure of `key` and says how long to wait before
    /// retrying it; the wait is cut short so that the first try after
    /// `grace` of failing comes as soon as the grace is over, since that
    /// try is the one that shows the failure (unless the provider asked
    /// for a longer wait).
    pub fn next_delay_within(
        &self,
        key: &str,
        retry_after: Option<Duration>,
        grace: Duration,
    ) -> Duration {
        let delay = self.next_delay(key, retry_after);
        let failing_for = self.failing(key).map_or(Duration::ZERO, |(_, since)| since);
        until_shown(delay, failing_for, grace, retry_after)
    }

    /// Counts one more failure of `key` and says how long to wait before
    /// retrying it.
    pub fn next_delay(&self, key: &str, retry_after: Option<Duration>) -> Duration {
        let attempt = {
            let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
            let failing = failures.entry(key.to_string()).or_insert(Failing {
                count: 0,
                since: Instant::now(),
            });
            failing.count = failing.count.saturating_add(1);
            failing.count
        };
        retry_delay(
            self.base,
            self.max,
            attempt,
            retry_after,
            rand::rng().random(),
        )
    }

    /// Forgets the failures of `key`, after a success or when it is deleted.
    pub fn reset(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    /// How many failures in a row `key` has had, and how long ago the
    /// first of them was counted; `None` when it is not failing.
    pub fn failing(&self, key: &str) -> Option<(u32, Duration)> {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .map(|f| (f.count, f.since.elapsed()))
    }

    /// How many failures in a row `key` has had.
    #[cfg(test)]
    pub fn failures(&self, key: &str) -> u32 {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .map_or(0, |f| f.count)
    }
}

/// The delay before retry number `attempt` (1-based): `base·2^(attempt-1)`
/// capped at `max`, with "equal jitter" (half fixed, half random, so the delay
/// still grows but objects spread out), and at least `retry_after` plus a
/// little jitter so throttled objects do not all return in the same second.
/// `random` is uniform in `[0, 1)`.
pub fn retry_delay(
    base: Duration,
    max: Duration,
    attempt: u32,
    retry_after: Option<Duration>,
    random: f64,
) -> Duration {
    let exponent = attempt.saturating_sub(1).min(30);
    let ceiling = base.saturating_mul(1u32 << exponent).min(max);
    let half = ceiling / 2;
    let backoff = half + half.mul_f64(random.clamp(0.0, 1.0));
    match retry_after {
        Some(after) => backoff.max(after + after.mul_f64(0.2 * random.clamp(0.0, 1.0))),
        None => backoff,
    }
}

/// `delay`, cut so that a retry does not wait past the end of the failure
/// `grace` when the object has been failing for `failing_for`, but never
/// below the provider's `retry_after`.
pub fn until_shown(
    delay: Duration,
    failing_for: Duration,
    grace: Duration,
    retry_after: Option<Duration>,
) -> Duration {
    if failing_for >= grace {
        return delay;
    }
    // A little past the grace, so the try finds it over.
    let rest = grace - failing_for + Duration::from_millis(100);
    delay.min(rest).max(retry_after.unwrap_or_default())
}

/// A periodic requeue delay: `period` give or take 20%.
pub fn jittered(period: Duration) -> Duration {
    spread(period, rand::rng().random())
}

/// `period` scaled by a factor in `[1-spread, 1+spread)` chosen by `random`
/// in `[0, 1)`.
pub fn spread(period: Duration, random: f64) -> Duration {
    let factor = 1.0 - PERIOD_SPREAD + 2.0 * PERIOD_SPREAD * random.clamp(0.0, 1.0);
    period.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(1);
    const MAX: Duration = Duration::from_secs(300);

    #[test]
    fn delay_grows_exponentially_within_jitter_bounds() {
        for attempt in 1..=6 {
            let ceiling = BASE * 2u32.pow(attempt - 1);
            let low = retry_delay(BASE, MAX, attempt, None, 0.0);
            let high = retry_delay(BASE, MAX, attempt, None, 0.999);
            assert_eq!(low, ceiling / 2);
            assert!(high < ceiling && high > low, "attempt {attempt}: {high:?}");
        }
    }

    #[test]
    fn delay_is_capped() {
        assert!(retry_delay(BASE, MAX, 40, None, 0.999) <= MAX);
        assert!(retry_delay(BASE, MAX, u32::MAX, None, 0.5) <= MAX);
    }

    #[test]
    fn retry_after_is_honoured() {
        let after = Duration::from_secs(30);
        for random in [0.0, 0.5, 0.999] {
            let delay = retry_delay(BASE, MAX, 1, Some(after), random);
            assert!(delay >= after && delay <= after.mul_f64(1.2), "{delay:?}");
        }
    }

    #[test]
    fn success_resets_the_backoff() {
        let backoff = Backoff::new(BASE, MAX);
        backoff.next_delay("ns/a", None);
        backoff.next_delay("ns/a", None);
        assert_eq!(backoff.failures("ns/a"), 2);
        backoff.reset("ns/a");
        assert_eq!(backoff.failures("ns/a"), 0);
        assert!(backoff.next_delay("ns/a", None) < BASE);
    }

    #[test]
    fn objects_back_off_independently() {
        let backoff = Backoff::new(BASE, MAX);
        for _ in 0..5 {
            backoff.next_delay("ns/a", None);
        }
        assert_eq!(backoff.failures("ns/b"), 0);
        assert!(backoff.next_delay("ns/b", None) < BASE);
    }

    #[test]
    fn the_backoff_never_waits_longer_than_the_resync_interval() {
        let resync = Duration::from_secs(60);
        let backoff = Backoff::within(BASE, MAX, resync);
        assert_eq!(backoff.ceiling(), resync);
        for _ in 0..20 {
            assert!(backoff.next_delay("ns/a", None) <= resync);
        }
    }

    #[test]
    fn the_try_that_shows_a_failure_comes_when_the_grace_ends() {
        let grace = Duration::from_secs(60);
        let long = Duration::from_secs(64);
        let cut = until_shown(long, Duration::from_secs(47), grace, None);
        assert!(cut <= Duration::from_secs(14), "{cut:?}");
        assert_eq!(until_shown(long, grace, grace, None), long, "already shown");
        let asked = Some(Duration::from_secs(30));
        assert_eq!(
            until_shown(long, Duration::from_secs(47), grace, asked),
            Duration::from_secs(30),
            "Retry-After is honoured"
        );
    }

    #[test]
    fn a_failing_object_says_how_often_and_since_when() {
        let backoff = Backoff::new(BASE, MAX);
        assert_eq!(backoff.failing("ns/a"), None);
        backoff.next_delay("ns/a", None);
        backoff.next_delay("ns/a", None);
        std::thread::sleep(Duration::from_millis(20));
        let (count, since) = backoff.failing("ns/a").expect("failing");
        assert_eq!(count, 2);
        // Since the first failure, not the last: the grace runs from there.
        assert!(
            since >= Duration::from_millis(20) && since < Duration::from_secs(5),
            "{since:?}"
        );
    }

    #[test]
    fn a_retry_within_the_grace_backs_off_but_not_past_its_end() {
        let grace = Duration::from_secs(60);
        let backoff = Backoff::new(BASE, MAX);
        let first = backoff.next_delay_within("ns/a", None, grace);
        assert!(first >= BASE / 2 && first < BASE, "{first:?}");
        // A backoff longer than the grace is cut to the grace's end (and a
        // little past it), counted from the first failure.
        let slow = Backoff::new(Duration::from_secs(200), MAX);
        let cut = slow.next_delay_within("ns/a", None, grace);
        assert!(
            cut > Duration::from_secs(60) && cut <= Duration::from_millis(60_100),
            "{cut:?}"
        );
        let long = Duration::from_secs(64);
        assert_eq!(
            until_shown(long, Duration::from_secs(47), grace, None),
            Duration::from_millis(13_100),
            "the rest of the grace, and a tenth of a second to find it over"
        );
    }

    #[test]
    fn periodic_requeues_spread_around_the_period() {
        let period = Duration::from_secs(600);
        assert_eq!(spread(period, 0.0), Duration::from_secs(480));
        assert!(spread(period, 0.999) < Duration::from_secs(720));
        assert_ne!(spread(period, 0.1), spread(period, 0.9));
    }

    #[test]
    fn periodic_requeues_are_as_often_late_as_early() {
        let period = Duration::from_secs(600);
        let middle = spread(period, 0.5);
        assert!(
            middle.abs_diff(period) < Duration::from_millis(1),
            "{middle:?}"
        );
        let late = spread(period, 0.999);
        assert!(late > Duration::from_secs(719), "{late:?}");
        for _ in 0..20 {
            let jittered = jittered(period);
            assert!(
                jittered >= Duration::from_secs(480) && jittered < Duration::from_secs(720),
                "{jittered:?}"
            );
        }
    }
}
