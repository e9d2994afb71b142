//! The leadership fence: whether this process may still act (start a
//! provider call or a Kubernetes request). With leader election it is open
//! only until the renew deadline after the start of the last successful
//! Lease renewal, by this process's monotonic clock, and once that deadline
//! has passed it stays shut for good: a standby may already hold the Lease.
//!
//! Why a clock and not a flag the renewal task sets: after a pause (SIGSTOP,
//! a stalled VM, a long GC in a sidecar) every task wakes at once, and a
//! reconcile may run before the renewal task notices anything. Reading the
//! clock at each choke point (the provider rate budgets, the Kubernetes
//! client) needs no task to have run.
//!
//! It lives at the crate root because both floors it guards import it: the
//! provider clients below the controllers and the wiring on top. It imports
//! nothing of coffer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// `open_until` of a fence that is never closed by time.
const ALWAYS: u64 = u64::MAX;
/// `open_until` of a fence never opened (a standby before its first claim).
const NOT_YET: u64 = 0;

/// A cheap handle; clones share one fence.
#[derive(Clone, Debug)]
pub struct Fence(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    /// What `open_until` counts from.
    epoch: Instant,
    /// How long a renewal keeps the fence open, from the moment it started.
    renew_deadline: Duration,
    /// Nanoseconds after `epoch` at which the fence closes; see [`ALWAYS`]
    /// and [`NOT_YET`].
    open_until: AtomicU64,
    /// Set once the fence has closed after being open: nothing reopens it.
    lost: AtomicBool,
    /// Wakes [`Fence::closed`] on an explicit [`Fence::close`].
    closing: Notify,
}

/// Why a call was not made: the fence is shut.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "this replica no longer holds the leader Lease (it could not renew it within the renew deadline), so it makes no more calls and exits; the replica that holds the Lease takes over"
)]
pub struct Closed;

impl Fence {
    /// A fence that always allows: no leader election, every replica acts.
    pub fn open() -> Self {
        Self::with(ALWAYS, Duration::ZERO)
    }

    /// A leader's fence: shut until the first [`Self::renewed`], then open
    /// until `renew_deadline` after the start of the last renewal.
    pub fn until_renewed(renew_deadline: Duration) -> Self {
        Self::with(NOT_YET, renew_deadline)
    }

    fn with(open_until: u64, renew_deadline: Duration) -> Self {
        Self(Arc::new(Inner {
            epoch: Instant::now(),
            renew_deadline,
            open_until: AtomicU64::new(open_until),
            lost: AtomicBool::new(false),
            closing: Notify::new(),
        }))
    }

    /// Whether this process may start a call now. Once it has said no after
    /// saying yes, it says no for good.
    pub fn may_act(&self) -> bool {
        let inner = &self.0;
        if inner.lost.load(Ordering::Acquire) {
            return false;
        }
        match inner.open_until.load(Ordering::Acquire) {
            ALWAYS => true,
            NOT_YET => false,
            until if self.now() < until => true,
            _ => {
                inner.lost.store(true, Ordering::Release);
                false
            }
        }
    }

    /// [`Self::may_act`] as a `Result`, for the `?` of a choke point.
    pub fn check(&self) -> Result<(), Closed> {
        if self.may_act() { Ok(()) } else { Err(Closed) }
    }

    /// Records a renewal (or the first claim) that succeeded and that was
    /// started at `started`: the Lease it wrote is valid from no earlier
    /// than that, by anyone's clock. Returns false, and changes nothing,
    /// when the fence has already shut: a renewal that comes back after the
    /// deadline is too late to trust.
    pub fn renewed(&self, started: Instant) -> bool {
        let inner = &self.0;
        let until = inner.open_until.load(Ordering::Acquire);
        if until == ALWAYS {
            return true;
        }
        if until != NOT_YET && !self.may_act() || inner.lost.load(Ordering::Acquire) {
            return false;
        }
        let next = self.nanos(started + inner.renew_deadline);
        inner.open_until.fetch_max(next, Ordering::AcqRel);
        // A `may_act` between the check above and the store may have found
        // the old deadline passed; then that verdict stands.
        !inner.lost.load(Ordering::Acquire)
    }

    /// Shuts the fence for good: the Lease is lost, whatever the clock says.
    pub fn close(&self) {
        self.0.lost.store(true, Ordering::Release);
        self.0.closing.notify_waiters();
    }

    /// Resolves once the fence is shut; never for an [`Self::open`] fence
    /// that nobody closes.
    pub async fn closed(&self) {
        loop {
            let closing = self.0.closing.notified();
            tokio::pin!(closing);
            // Registered before the check, so a close in between is not missed.
            closing.as_mut().enable();
            if !self.may_act() {
                return;
            }
            match self.0.open_until.load(Ordering::Acquire) {
                ALWAYS => closing.await,
                until => {
                    let at = self.0.epoch + Duration::from_nanos(until);
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = &mut closing => {}
                    }
                }
            }
        }
    }

    /// Nanoseconds from the epoch to now.
    fn now(&self) -> u64 {
        self.nanos(Instant::now())
    }

    /// Nanoseconds from the epoch to `at`, never [`NOT_YET`] or [`ALWAYS`].
    fn nanos(&self, at: Instant) -> u64 {
        let since = at.saturating_duration_since(self.0.epoch).as_nanos();
        u64::try_from(since)
            .unwrap_or(ALWAYS - 1)
            .clamp(1, ALWAYS - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEADLINE: Duration = Duration::from_secs(10);

    #[tokio::test(start_paused = true)]
    async fn without_leader_election_it_always_allows() {
        let fence = Fence::open();
        tokio::time::advance(Duration::from_secs(86_400)).await;
        assert!(fence.may_act());
        assert_eq!(fence.check(), Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_leader_may_not_act_before_its_first_claim() {
        let fence = Fence::until_renewed(DEADLINE);
        assert!(!fence.may_act());
        assert!(fence.renewed(Instant::now()), "the first claim opens it");
        assert!(fence.may_act());
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_passed_refuses_at_once_without_any_task_running() {
        let fence = Fence::until_renewed(DEADLINE);
        let started = Instant::now();
        assert!(fence.renewed(started));
        tokio::time::advance(DEADLINE - Duration::from_millis(1)).await;
        assert!(fence.may_act());
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(fence.check(), Err(Closed));
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_counts_from_when_the_renewal_started() {
        let fence = Fence::until_renewed(DEADLINE);
        let started = Instant::now();
        // The renewal's answer took 3 s to come back.
        tokio::time::advance(Duration::from_secs(3)).await;
        assert!(fence.renewed(started));
        tokio::time::advance(DEADLINE - Duration::from_secs(3)).await;
        assert!(!fence.may_act());
    }

    #[tokio::test(start_paused = true)]
    async fn each_renewal_moves_the_deadline() {
        let fence = Fence::until_renewed(DEADLINE);
        assert!(fence.renewed(Instant::now()));
        for _ in 0..5 {
            tokio::time::advance(DEADLINE / 2).await;
            assert!(fence.renewed(Instant::now()));
        }
        tokio::time::advance(DEADLINE / 2).await;
        assert!(fence.may_act());
    }

    #[tokio::test(start_paused = true)]
    async fn once_shut_no_late_renewal_reopens_it() {
        let fence = Fence::until_renewed(DEADLINE);
        let started = Instant::now();
        assert!(fence.renewed(started));
        tokio::time::advance(DEADLINE * 2).await;
        // A renewal that comes back after the deadline is not trusted,
        // even when it was started within it.
        assert!(!fence.renewed(Instant::now() - Duration::from_secs(1)));
        assert!(!fence.may_act());
    }

    #[tokio::test(start_paused = true)]
    async fn closing_shuts_it_before_the_deadline() {
        let fence = Fence::until_renewed(DEADLINE);
        assert!(fence.renewed(Instant::now()));
        fence.close();
        assert!(!fence.may_act());
        assert!(!fence.renewed(Instant::now()));
    }

    #[tokio::test(start_paused = true)]
    async fn closed_resolves_at_the_deadline_or_on_close() {
        let fence = Fence::until_renewed(DEADLINE);
        let started = Instant::now();
        assert!(fence.renewed(started));
        fence.closed().await;
        assert_eq!(Instant::now() - started, DEADLINE);

        let fence = Fence::until_renewed(DEADLINE);
        assert!(fence.renewed(Instant::now()));
        let waiter = tokio::spawn({
            let fence = fence.clone();
            async move { fence.closed().await }
        });
        tokio::time::advance(Duration::from_secs(1)).await;
        fence.close();
        tokio::time::timeout(Duration::from_millis(1), waiter)
            .await
            .expect("woken by close")
            .expect("task");
    }
}
