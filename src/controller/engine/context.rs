//! What every reconcile gets: the engine's own parts (the Kubernetes
//! client, Events, its metrics, the per-object backoff, when each object
//! was last reconciled, the versions this process wrote over, each provider
//! session's share of the concurrent reconciles, its timing)
//! and `env`, what the pairs connect through, which the engine never looks
//! into. Also the rules, shared by every kind, for when an object is
//! looked at again.

use std::sync::Arc;
use std::time::Duration;

use kube::runtime::controller::Action;
use kube::{Client, Resource, ResourceExt};

use super::backoff::{Backoff, jittered};
use super::events::Events;
use super::metrics::ReconcileMetrics;
use super::own_writes::OwnWrites;
use super::recent::Recent;
use super::slots::Slots;

/// What the engine needs to know about any kind's reconcile error.
pub trait ReconcileError: std::error::Error + Send + Sync + 'static {
    /// Whether retrying unchanged can succeed. Terminal errors wait for a
    /// change instead (and the periodic resync).
    fn is_retryable(&self) -> bool;
    /// How long the provider asked to wait.
    fn retry_after(&self) -> Option<Duration>;
    /// A metrics label from a bounded set.
    fn metric_label(&self) -> &'static str;
    /// Not a failure: the provider is still working (a vault being deleted),
    /// so look again after the poll interval, without backoff.
    fn is_waiting(&self) -> bool {
        false
    }
}

/// When the engine looks at an object again, and how patiently.
#[derive(Clone, Debug)]
pub struct Timing {
    /// Period of the drift check, before jitter.
    pub resync_interval: Duration,
    /// How soon to look again while waiting on the provider.
    pub poll_interval: Duration,
    /// How long a call's effect may take to show before it is made again.
    pub settle_time: Duration,
    /// How long a retryable error must persist before it is shown.
    pub failure_grace: Duration,
    /// First retry delay after a retryable error, before jitter.
    pub backoff_base: Duration,
    /// Longest retry delay after repeated retryable errors.
    pub backoff_max: Duration,
    /// How long one reconcile may take, provider calls and all, before it
    /// is given up and retried (see `Error::DeadlineExceeded`).
    pub reconcile_deadline: Duration,
}

/// Shared by every reconcile of every kind; `E` is what the pairs connect
/// through (coffer's caches and provider clients, or a test's toy cloud).
pub struct Context<E> {
    pub client: Client,
    pub events: Events,
    pub metrics: Arc<ReconcileMetrics>,
    pub backoff: Backoff,
    /// When each object was last reconciled, for the resync sweep.
    pub recent: Recent,
    /// Versions this process wrote over, for objects it looks at again soon.
    pub own_writes: OwnWrites,
    /// Each provider session's share of the concurrent reconciles.
    pub slots: Slots,
    pub timing: Timing,
    pub env: E,
}

impl<E> Context<E> {
    /// `instance` is the `reportingInstance` of Events: which replica acted.
    pub fn new(
        client: Client,
        env: E,
        metrics: Arc<ReconcileMetrics>,
        timing: Timing,
        instance: Option<String>,
    ) -> Self {
        Self {
            events: Events::new(client.clone(), instance),
            client,
            metrics,
            backoff: Backoff::within(
                timing.backoff_base,
                timing.backoff_max,
                timing.resync_interval,
            ),
            recent: Recent::default(),
            own_writes: OwnWrites::default(),
            // No session's share is smaller than the whole until the
            // process says so (`with_slots`).
            slots: Slots::new(usize::MAX),
            timing,
            env,
        }
    }

    /// Each provider session's share of the reconciles of a kind, and how
    /// waiting objects are woken (see [`super::slots`]).
    pub fn with_slots(mut self, slots: Slots) -> Self {
        self.slots = slots;
        self
    }

    /// Look again at the next drift check, for the kinds the resync sweep
    /// does not cover (ProviderConfigs, a handful of objects).
    pub fn resync(&self) -> Action {
        Action::requeue(jittered(self.timing.resync_interval))
    }

    /// Look again soon: the provider is still working on something.
    pub fn poll(&self) -> Action {
        Action::requeue(jittered(self.timing.poll_interval))
    }

    /// Records the outcome of a reconcile of `obj`: metrics, and a reset of
    /// its backoff after a success.
    pub fn finish<K: Resource, R: ReconcileError>(
        &self,
        kind: &'static str,
        obj: &K,
        result: &Result<Action, R>,
    ) {
        match result {
            Ok(_) => {
                self.metrics.succeeded(kind);
                self.backoff.reset(&object_key(kind, obj));
            }
            Err(e) if e.is_waiting() => self.metrics.succeeded(kind),
            Err(e) => self.metrics.failed(kind, e.metric_label()),
        }
    }

    /// When to retry `obj` after `error`: soon while waiting on the
    /// provider, with growing per-object backoff when a retry can help, and
    /// `None` — not before the next drift check — otherwise: a terminal
    /// error is retried when the object or what it references changes, not
    /// in a storm.
    pub fn retry<K: Resource, R: ReconcileError>(
        &self,
        kind: &'static str,
        obj: &K,
        error: &R,
    ) -> Option<Action> {
        if error.is_waiting() {
            return Some(self.poll());
        }
        if !error.is_retryable() {
            tracing::info!(%error, kind, object = %obj.name_any(), "reconcile failed; waiting for a change");
            return None;
        }
        let delay = self.backoff.next_delay_within(
            &object_key(kind, obj),
            error.retry_after(),
            self.timing.failure_grace,
        );
        tracing::info!(%error, kind, object = %obj.name_any(), ?delay, "reconcile failed; retrying");
        Some(Action::requeue(delay))
    }

    /// Whether the failure `obj` is in the middle of persists: it has been
    /// failing for the whole failure grace, however many tries that took.
    /// Until then a retryable error is retried quietly, without a status
    /// write or an Event; after it, it is shown once (see
    /// `engine::report`), and again only when its reason changes.
    pub fn failure_persists<K: Resource>(&self, kind: &'static str, obj: &K) -> bool {
        self.backoff
            .failing(&object_key(kind, obj))
            .is_some_and(|(_, since)| since >= self.timing.failure_grace)
    }

    /// Forgets everything held about an object that is gone.
    pub fn forget<K: Resource>(&self, kind: &'static str, obj: &K) {
        self.backoff.reset(&object_key(kind, obj));
        self.recent.forget(obj);
        self.own_writes.forget(obj);
        let meta = obj.meta();
        let (namespace, name) = (meta.namespace.as_deref(), meta.name.as_deref());
        self.slots.forget(
            kind,
            namespace.unwrap_or_default(),
            name.unwrap_or_default(),
        );
    }
}

/// The key of `obj` in per-object state: kind, namespace and name.
pub fn object_key<K: Resource>(kind: &str, obj: &K) -> String {
    format!(
        "{kind}/{}/{}",
        obj.meta().namespace.as_deref().unwrap_or_default(),
        obj.meta().name.as_deref().unwrap_or_default()
    )
}

#[cfg(test)]
#[path = "context_tests.rs"]
mod tests;
