//! The rate budget of one cloud account: every provider call made through one
//! ProviderConfig, read or write, takes a [`Permit`] from the same
//! [`RateBudget`] first, so thousands of objects together never exceed what
//! the account may do. A call over budget waits its turn; it does not fail.
//!
//! The token bucket is kept as a GCRA schedule ("theoretical arrival time"):
//! each caller reserves the next free slot under a mutex and sleeps until it,
//! so callers start in arrival order, none starves, and the limits hold
//! exactly. A provider's `Retry-After` pauses the budget's clock, which moves
//! every reserved slot later by the same amount and keeps their order.
//!
//! Being the one door every provider call passes, it is also where the
//! leadership [`Fence`] is checked: a leader past its renew deadline starts
//! no provider call, whichever task reaches the door first after a pause.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, sleep_until};

use super::ProviderError;
use crate::fence::Fence;

/// The slowest refill a budget uses: a rate below one call an hour (or a qps
/// that is not positive at all) would stall the account, so it is raised to
/// this.
const MAX_INTERVAL: Duration = Duration::from_secs(3600);

/// The longest hold-off honoured. `Retry-After` comes from outside; a bogus
/// value must not stop every call of an account for days.
const MAX_HOLD_OFF: Duration = Duration::from_secs(3600);

/// Stands in for "never" where an instant would overflow (tokio does the same).
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// Limits of one budget. qps > 0 (f64), burst >= 1, max_in_flight >= 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BudgetLimits {
    /// Sustained calls per second: the rate the bucket refills at.
    pub qps: f64,
    /// Calls that may start at the same instant: the size of the bucket.
    pub burst: u32,
    /// Calls that may be outstanding at once, whatever the rate.
    pub max_in_flight: u32,
}

impl BudgetLimits {
    /// No limit of our own: `acquire` never waits, except for a hold-off the
    /// provider asked for.
    pub const UNLIMITED: BudgetLimits = BudgetLimits {
        qps: f64::INFINITY,
        burst: u32::MAX,
        max_in_flight: u32::MAX,
    };

    /// Time between two tokens, rounded up so the rate is never exceeded.
    fn interval(&self) -> Duration {
        let max_nanos = MAX_INTERVAL.as_nanos() as f64;
        match self.qps {
            f64::INFINITY => Duration::ZERO,
            qps if qps > 0.0 => Duration::from_nanos((1e9 / qps).ceil().min(max_nanos) as u64),
            _ => MAX_INTERVAL, // zero, negative or NaN
        }
    }
}

/// The one label: which ProviderConfig (`namespace/name`). There is one
/// ProviderConfig per cloud account, so the series count stays small.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BudgetLabels {
    provider_config: String,
}

/// Prometheus families: calls and waits per ProviderConfig.
#[derive(Clone, Debug)]
pub struct BudgetMetrics {
    calls: Family<BudgetLabels, Counter>,
    waits: Family<BudgetLabels, Counter>,
    wait_seconds: Family<BudgetLabels, Histogram, fn() -> Histogram>,
}

/// 10 ms to about 5 min: a wait for the next token up to a long hold-off.
fn wait_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 15))
}

impl Default for BudgetMetrics {
    fn default() -> Self {
        Self {
            calls: Family::default(),
            waits: Family::default(),
            wait_seconds: Family::new_with_constructor(wait_histogram),
        }
    }
}

impl BudgetMetrics {
    /// Adds the families to `registry`. In a registry with the prefix
    /// `coffer` they are exported as `coffer_provider_budget_calls_total`,
    /// `coffer_provider_budget_waits_total` and
    /// `coffer_provider_budget_wait_seconds`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "provider_budget_calls",
            "Provider calls let through a ProviderConfig's rate budget",
            self.calls.clone(),
        );
        registry.register(
            "provider_budget_waits",
            "Provider calls that had to wait for their ProviderConfig's rate budget",
            self.waits.clone(),
        );
        registry.register_with_unit(
            "provider_budget_wait",
            "Time provider calls waited for their ProviderConfig's rate budget",
            Unit::Seconds,
            self.wait_seconds.clone(),
        );
    }

    /// How many calls went through the budget of `provider_config`.
    pub fn calls(&self, provider_config: &str) -> u64 {
        let labels = labels(provider_config);
        self.calls.get(&labels).map_or(0, |c| c.get())
    }

    /// How many of those calls had to wait.
    pub fn waits(&self, provider_config: &str) -> u64 {
        let labels = labels(provider_config);
        self.waits.get(&labels).map_or(0, |c| c.get())
    }

    /// The series of one budget, looked up once so that a call only touches
    /// atomics and never builds a label set.
    fn series(&self, provider_config: &str) -> BudgetSeries {
        let labels = labels(provider_config);
        BudgetSeries {
            calls: self.calls.get_or_create(&labels).clone(),
            waits: self.waits.get_or_create(&labels).clone(),
            wait_seconds: self.wait_seconds.get_or_create(&labels).clone(),
        }
    }
}

fn labels(provider_config: &str) -> BudgetLabels {
    BudgetLabels {
        provider_config: provider_config.to_string(),
    }
}

/// Handles on one budget's series; clones share the underlying values.
#[derive(Debug)]
struct BudgetSeries {
    calls: Counter,
    waits: Counter,
    wait_seconds: Histogram,
}

/// The token bucket as a GCRA schedule on the budget's own clock, which is
/// real time minus every hold-off: it stands still while calls are held off.
/// Slots are points on that clock, so a hold-off moves every reserved slot
/// later together, and a sequence that keeps the limits on the budget clock
/// keeps them in real time too (real time never runs slower).
#[derive(Debug)]
struct Schedule {
    /// Where the budget clock starts.
    epoch: Instant,
    /// Time between two tokens.
    interval: Duration,
    /// How far ahead of the rate a burst may run: `(burst - 1) · interval`.
    tolerance: Duration,
    /// Theoretical arrival time: when the bucket would be full again.
    tat: Duration,
    /// No call starts before this; `epoch` until the first hold-off.
    hold_until: Instant,
    /// How far the budget clock lags real time: the length of all hold-offs.
    paused: Duration,
}

impl Schedule {
    fn new(epoch: Instant, limits: BudgetLimits) -> Self {
        let interval = limits.interval();
        Self {
            epoch,
            interval,
            tolerance: interval.saturating_mul(limits.burst.saturating_sub(1)),
            tat: Duration::ZERO,
            hold_until: epoch,
            paused: Duration::ZERO,
        }
    }

    /// The budget clock at real time `now`; it does not move during a hold-off.
    fn clock(&self, now: Instant) -> Duration {
        now.max(self.hold_until)
            .saturating_duration_since(self.epoch)
            .saturating_sub(self.paused)
    }

    /// Takes the next token: returns its slot on the budget clock, the
    /// earliest that keeps both the rate and the burst.
    fn reserve(&mut self, now: Instant) -> Duration {
        let clock = self.clock(now);
        let slot = clock.max(self.tat.saturating_sub(self.tolerance));
        self.tat = self.tat.max(clock).saturating_add(self.interval);
        slot
    }

    /// When `slot` comes round in real time, given the hold-offs so far.
    fn start_of(&self, slot: Duration) -> Instant {
        let since_epoch = slot.saturating_add(self.paused);
        let start = self
            .epoch
            .checked_add(since_epoch)
            .unwrap_or(self.epoch + FAR_FUTURE);
        start.max(self.hold_until)
    }

    /// Stops the budget clock until `until`; an earlier `until` changes nothing.
    fn hold_off(&mut self, now: Instant, until: Instant) {
        if until <= self.hold_until {
            return;
        }
        let from = now.max(self.hold_until);
        self.paused = self
            .paused
            .saturating_add(until.saturating_duration_since(from));
        self.hold_until = until;
    }
}

/// One budget, shared behind an Arc by every client of one ProviderConfig.
#[derive(Debug)]
pub struct RateBudget {
    limits: BudgetLimits,
    /// Never held across an await: every use is a few comparisons.
    schedule: Mutex<Schedule>,
    /// In an `Arc` so that a [`Permit`] owns its slot and has no lifetime.
    in_flight: Arc<Semaphore>,
    series: BudgetSeries,
    /// Checked after the wait, right before the call starts.
    fence: Fence,
}

impl RateBudget {
    /// A budget for `provider_config` (`namespace/name`, the metric label).
    /// A burst or max_in_flight of 0 is raised to 1, and a qps below one call
    /// an hour to that, so a bad limit slows the account instead of stopping it.
    pub fn new(
        provider_config: impl Into<String>,
        limits: BudgetLimits,
        metrics: BudgetMetrics,
    ) -> Self {
        let limits = BudgetLimits {
            burst: limits.burst.max(1),
            max_in_flight: limits.max_in_flight.max(1),
            ..limits
        };
        let slots = usize::try_from(limits.max_in_flight).unwrap_or(usize::MAX);
        Self {
            limits,
            schedule: Mutex::new(Schedule::new(Instant::now(), limits)),
            in_flight: Arc::new(Semaphore::new(slots.min(Semaphore::MAX_PERMITS))),
            series: metrics.series(&provider_config.into()),
            fence: Fence::open(),
        }
    }

    /// This budget, letting calls start only while `fence` is open.
    pub fn fenced(self, fence: Fence) -> Self {
        Self { fence, ..self }
    }

    pub fn limits(&self) -> BudgetLimits {
        self.limits
    }

    /// Waits for a token (token bucket: refills at qps, holds at most burst)
    /// and an in-flight slot (at most max_in_flight calls between acquire
    /// and the Permit's drop), counts the call, and counts a wait when it
    /// had to wait. Also waits while a hold-off is in force.
    ///
    /// The in-flight slot comes first: a token taken while queueing for a
    /// slot would be spent late, and many such calls released together would
    /// start in one burst larger than the limit. Dropping the future before
    /// it completes frees the slot but not the token, which only makes the
    /// budget stricter.
    ///
    /// Fails with [`ProviderError::NotLeader`] when the fence is shut once
    /// the wait is over: the wait may have outlasted the Lease.
    pub async fn acquire(&self) -> Result<Permit, ProviderError> {
        let entered = Instant::now();
        let (slot, waited_for_slot) = self.take_in_flight_slot().await;
        let token = self.lock().reserve(Instant::now());
        let waited_for_token = self.wait_for(token).await;
        self.fence.check().map_err(|_| ProviderError::NotLeader)?;
        self.count(entered, waited_for_slot || waited_for_token);
        Ok(Permit { _in_flight: slot })
    }

    /// The provider answered 429 with Retry-After: no call through this
    /// budget starts before `now + delay` (a later hold-off extends, an
    /// earlier one never shortens). Calls already waiting keep their order;
    /// all of them move later. `delay` is capped at an hour, since it comes
    /// from outside.
    pub fn hold_off(&self, delay: Duration) {
        let now = Instant::now();
        let until = now
            .checked_add(delay.min(MAX_HOLD_OFF))
            .unwrap_or(now + FAR_FUTURE);
        self.lock().hold_off(now, until);
    }

    /// A poisoned lock only means another caller panicked between two
    /// comparisons; the schedule is still consistent, so keep using it.
    fn lock(&self) -> std::sync::MutexGuard<'_, Schedule> {
        self.schedule.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes an in-flight slot, in arrival order; says whether it had to wait.
    async fn take_in_flight_slot(&self) -> (OwnedSemaphorePermit, bool) {
        if let Ok(slot) = Arc::clone(&self.in_flight).try_acquire_owned() {
            return (slot, false);
        }
        let slot = Arc::clone(&self.in_flight)
            .acquire_owned()
            .await
            // The semaphore is private to this budget and never closed.
            .expect("budget semaphore is never closed");
        (slot, true)
    }

    /// Sleeps until `token`'s slot comes round, looking again after each
    /// sleep because a hold-off may have moved it; says whether it slept.
    async fn wait_for(&self, token: Duration) -> bool {
        let mut waited = false;
        loop {
            let start = self.lock().start_of(token);
            if start <= Instant::now() {
                return waited;
            }
            waited = true;
            sleep_until(start).await;
        }
    }

    fn count(&self, entered: Instant, waited: bool) {
        self.series.calls.inc();
        if waited {
            self.series.waits.inc();
            let seconds = entered.elapsed().as_secs_f64();
            self.series.wait_seconds.observe(seconds);
        }
    }
}

/// Held for the duration of one HTTP call; dropping it frees the in-flight slot.
#[derive(Debug)]
#[must_use = "the call is budgeted only while the Permit is held"]
pub struct Permit {
    _in_flight: OwnedSemaphorePermit,
}

#[cfg(test)]
#[path = "budget_tests.rs"]
mod tests;
