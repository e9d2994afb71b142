//! The one [`Context`] every reconcile gets: the Kubernetes client, Events,
//! metrics, the caches of referenced objects, the provider clients, the
//! per-object backoff and the settings. Also the rules, shared by every
//! kind, for when an object is looked at again.

use std::sync::Arc;
use std::time::Duration;

use kube::runtime::controller::Action;
use kube::{Client, Resource, ResourceExt};

use super::args::Settings;
use super::backoff::{Backoff, jittered};
use super::caches::Caches;
use super::engine::own_writes::OwnWrites;
use super::events::Events;
use super::metrics::Metrics;
use super::providers::ProviderClients;
use super::sweep::Recent;

/// What the shared machinery needs to know about any kind's reconcile error.
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

/// Shared state of all controllers.
pub struct Context {
    pub client: Client,
    pub events: Events,
    pub metrics: Arc<Metrics>,
    pub caches: Caches,
    pub providers: ProviderClients,
    pub backoff: Backoff,
    /// When each object was last reconciled, for the resync sweep.
    pub recent: Recent,
    /// Versions this process wrote over, for objects it looks at again soon.
    pub own_writes: OwnWrites,
    pub settings: Settings,
}

impl Context {
    pub fn new(
        client: Client,
        caches: Caches,
        providers: ProviderClients,
        metrics: Arc<Metrics>,
        settings: Settings,
    ) -> Self {
        Self {
            events: Events::new(client.clone(), settings.instance.clone()),
            client,
            metrics,
            caches,
            providers,
            backoff: Backoff::within(
                settings.backoff_base,
                settings.backoff_max,
                settings.resync_interval,
            ),
            recent: Recent::default(),
            own_writes: OwnWrites::default(),
            settings,
        }
    }

    /// Look again at the next drift check, for the kinds the resync sweep
    /// does not cover (ProviderConfigs, a handful of objects).
    pub fn resync(&self) -> Action {
        Action::requeue(jittered(self.settings.resync_interval))
    }

    /// Look again soon: the provider is still working on something.
    pub fn poll(&self) -> Action {
        Action::requeue(jittered(self.settings.poll_interval))
    }

    /// Records the outcome of a reconcile of `obj`: metrics, and a reset of
    /// its backoff after a success.
    pub fn finish<K: Resource, E: ReconcileError>(
        &self,
        kind: &'static str,
        obj: &K,
        result: &Result<Action, E>,
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
    pub fn retry<K: Resource, E: ReconcileError>(
        &self,
        kind: &'static str,
        obj: &K,
        error: &E,
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
            self.settings.failure_grace,
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
            .is_some_and(|(_, since)| since >= self.settings.failure_grace)
    }

    /// Forgets everything held about an object that is gone.
    pub fn forget<K: Resource>(&self, kind: &'static str, obj: &K) {
        self.backoff.reset(&object_key(kind, obj));
        self.recent.forget(obj);
        self.own_writes.forget(obj);
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
