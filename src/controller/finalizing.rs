//! The one place that runs kube-runtime's finalizer helper: every kind's
//! reconcile goes through it (the engine for managed kinds, and the
//! ProviderConfig's in-use protection), so adding and removing finalizers
//! and unwrapping the helper's errors are written once.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use kube::Resource;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{self, Event};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// An error a reconcile under a finalizer can fail with, and what the
/// finalizer helper's own failures become.
pub trait FinalizerFailure: std::error::Error + Send + 'static {
    /// Adding or removing the finalizer failed in Kubernetes.
    fn kube(operation: &'static str, source: kube::Error) -> Self;
    /// Anything else the helper refused (an object without a name, …).
    fn other(message: String) -> Self;
}

/// Runs `reconcile` for `obj` under `finalizer`: `Event::Apply` while the
/// object lives (after the finalizer is on), `Event::Cleanup` once it is
/// deleted (the finalizer comes off when cleanup returns `Ok`).
pub async fn run<K, E, F, Fut>(
    api: &Api<K>,
    finalizer: &str,
    obj: Arc<K>,
    reconcile: F,
) -> Result<Action, E>
where
    K: Resource<DynamicType = ()>
        + Clone
        + Debug
        + Serialize
        + DeserializeOwned
        + Send
        + Sync
        + 'static,
    E: FinalizerFailure,
    F: FnOnce(Event<K>) -> Fut,
    Fut: Future<Output = Result<Action, E>>,
{
    finalizer::finalizer(api, finalizer, obj, reconcile)
        .await
        .map_err(unwrap)
}

fn unwrap<E: FinalizerFailure>(error: finalizer::Error<E>) -> E {
    use finalizer::Error as F;
    match error {
        F::ApplyFailed(e) | F::CleanupFailed(e) => e,
        F::AddFinalizer(source) => E::kube("add the finalizer", source),
        F::RemoveFinalizer(source) => E::kube("remove the finalizer", source),
        other => E::other(other.to_string()),
    }
}
