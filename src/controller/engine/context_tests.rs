//! The rules every kind shares for counting a reconcile's end and for when
//! an object is looked at again after one.

use std::sync::Mutex;

use super::*;
use crate::api::BackupVault;
use crate::controller::engine::Error;
use crate::controller::engine::error_policy;
use crate::controller::engine::external::Managed;
use crate::controller::engine::fixtures::{context, object, requeue_after, timing};
use crate::controller::engine::slots::{Slots, Wake};

const KIND: &str = "BackupVault";

/// A kind's error that leaves `is_waiting` to the trait: a provider hiccup
/// worth retrying, or (`retryable: false`) a spec nothing but a change fixes.
#[derive(Debug, thiserror::Error)]
#[error("the provider stumbled")]
struct Stumble {
    retryable: bool,
}

impl ReconcileError for Stumble {
    fn is_retryable(&self) -> bool {
        self.retryable
    }

    fn retry_after(&self) -> Option<Duration> {
        None
    }

    fn metric_label(&self) -> &'static str {
        "stumble"
    }
}

fn flaky() -> Result<Action, Stumble> {
    Err(Stumble { retryable: true })
}

fn deleting() -> Error {
    Error::Deleting {
        noun: "vault",
        id: "v1".into(),
    }
}

/// Whether `action` looks again within `period` give or take the 20 % jitter.
fn around(action: &Action, period: Duration) -> bool {
    requeue_after(action).is_some_and(|d| d >= period.mul_f64(0.79) && d <= period.mul_f64(1.21))
}

#[test]
fn the_object_key_names_kind_namespace_and_name() {
    assert_eq!(object_key(KIND, &object()), "BackupVault/team-a/team-a");
}

#[test]
fn an_error_of_a_kind_that_does_not_say_otherwise_is_not_waiting() {
    assert!(!Stumble { retryable: true }.is_waiting());
}

#[tokio::test]
async fn a_success_is_counted_and_forgets_the_objects_failures() {
    let ctx = context(timing());
    let vault = object();
    let key = object_key(KIND, &vault);
    ctx.backoff.next_delay(&key, None);
    ctx.backoff.next_delay(&key, None);
    ctx.finish::<_, Stumble>(KIND, &vault, &Ok(Action::await_change()));
    assert_eq!(ctx.metrics.reconcile_count(KIND, "success"), 1);
    assert_eq!(
        ctx.backoff.failing(&key),
        None,
        "the next failure starts over"
    );
}

#[tokio::test]
async fn a_failure_is_counted_under_its_label_and_its_backoff_kept() {
    let ctx = context(timing());
    let vault = object();
    let key = object_key(KIND, &vault);
    ctx.backoff.next_delay(&key, None);
    ctx.finish(KIND, &vault, &flaky());
    assert_eq!(ctx.metrics.reconcile_count(KIND, "error"), 1);
    assert_eq!(ctx.metrics.error_count(KIND, "stumble"), 1);
    assert_eq!(ctx.metrics.reconcile_count(KIND, "success"), 0);
    assert_eq!(ctx.backoff.failures(&key), 1);
}

#[tokio::test]
async fn waiting_on_the_provider_is_counted_as_a_success_not_a_failure() {
    let ctx = context(timing());
    ctx.finish(KIND, &object(), &Err::<Action, _>(deleting()));
    assert_eq!(ctx.metrics.reconcile_count(KIND, "success"), 1);
    assert_eq!(ctx.metrics.reconcile_count(KIND, "error"), 0);
    assert_eq!(ctx.metrics.error_count(KIND, "deleting"), 0);
}

#[tokio::test]
async fn an_object_waiting_on_the_provider_is_polled() {
    let ctx = context(timing());
    let again = ctx.retry(KIND, &object(), &deleting()).expect("polled");
    assert!(around(&again, timing().poll_interval), "{again:?}");
    assert!(around(&ctx.poll(), timing().poll_interval));
    assert_eq!(ctx.backoff.failures(&object_key(KIND, &object())), 0);
}

#[tokio::test]
async fn a_retryable_failure_is_retried_with_a_growing_backoff() {
    let ctx = context(timing());
    let vault = object();
    let error = Stumble { retryable: true };
    let first = ctx.retry(KIND, &vault, &error).expect("retried");
    assert!(
        requeue_after(&first).is_some_and(|d| d <= timing().backoff_base),
        "{first:?}"
    );
    ctx.retry(KIND, &vault, &error);
    assert_eq!(ctx.backoff.failures(&object_key(KIND, &vault)), 2);
}

#[tokio::test]
async fn a_terminal_failure_waits_for_a_change_of_the_object() {
    let ctx = context(timing());
    let vault = object();
    assert_eq!(ctx.retry(KIND, &vault, &Stumble { retryable: false }), None);
    assert_eq!(ctx.backoff.failures(&object_key(KIND, &vault)), 0);
    let terminal = Error::InvalidSpec {
        reason: "InvalidSpec",
        message: "no provider block".into(),
    };
    let after = error_policy(Arc::new(vault.clone()), &terminal, Arc::new(ctx));
    assert_eq!(after, Action::await_change());
}

#[tokio::test]
async fn the_error_policy_retries_a_retryable_failure() {
    let ctx = Arc::new(context(timing()));
    let transient = Error::DeadlineExceeded {
        after: Duration::from_secs(60),
    };
    let after = error_policy(Arc::new(object()), &transient, ctx.clone());
    assert!(
        requeue_after(&after).is_some_and(|d| d <= timing().backoff_base),
        "{after:?}"
    );
    assert_eq!(ctx.backoff.failures(&object_key(KIND, &object())), 1);
}

#[tokio::test]
async fn the_drift_check_of_kinds_outside_the_sweep_comes_at_the_resync_interval() {
    let ctx = context(timing());
    let again = ctx.resync();
    assert!(around(&again, timing().resync_interval), "{again:?}");
}

#[tokio::test]
async fn a_failure_persists_once_it_has_lasted_the_grace() {
    let vault = object();
    let key = object_key(KIND, &vault);
    let patient = context(timing());
    assert!(
        !patient.failure_persists(KIND, &vault),
        "not failing at all"
    );
    patient.backoff.next_delay(&key, None);
    assert!(!patient.failure_persists(KIND, &vault), "a minute's grace");
    let hasty = context(Timing {
        failure_grace: Duration::ZERO,
        ..timing()
    });
    hasty.backoff.next_delay(&key, None);
    assert!(hasty.failure_persists(KIND, &vault));
}

#[tokio::test]
async fn a_gone_object_is_forgotten_everywhere() {
    let woken = Arc::new(Mutex::new(Vec::new()));
    let seen = woken.clone();
    let wake: Wake = Arc::new(move |ns: &str, name: &str| {
        seen.lock().unwrap().push(format!("{ns}/{name}"));
    });
    let ctx = context(timing()).with_slots(Slots::new(1).wake(KIND, wake));
    let mut vault: BackupVault = object();
    vault.metadata.resource_version = Some("7".into());
    let key = object_key(KIND, &vault);
    let mut other = object();
    other.metadata.name = Some("other".into());
    let running = ctx.slots.take(KIND, other.session(), "team-a", "other");
    assert!(running.is_some());
    assert!(
        ctx.slots
            .take(KIND, vault.session(), "team-a", "team-a")
            .is_none()
    );
    ctx.backoff.next_delay(&key, None);
    ctx.recent.note(&vault);
    ctx.own_writes.record(&vault, &["7".into()]);

    ctx.forget(KIND, &vault);
    assert_eq!(ctx.backoff.failing(&key), None);
    assert!(!ctx.recent.within(&vault, Duration::from_secs(60)));
    assert!(!ctx.own_writes.behind(&vault));
    drop(running);
    assert!(
        woken.lock().unwrap().is_empty(),
        "it no longer waits in line"
    );
}
