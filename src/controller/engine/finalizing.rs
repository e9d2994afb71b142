//! The one place that adds and removes coffer's finalizers: every kind's
//! reconcile goes through it (the engine for managed kinds, and the
//! ProviderConfig's in-use protection), and so does the protection of the
//! credential Secrets ProviderConfigs read.
//!
//! Unlike kube-runtime's `finalizer()` helper, adding the finalizer does not
//! end the reconcile: the same reconcile goes on with the patched object,
//! and says it is [`Step::Apply`] with `fresh: true`. That saves a second
//! reconcile per new object and tells the engine something only this moment
//! knows: the finalizer was not there, so coffer cannot have created
//! anything for this object yet (it never creates without the finalizer),
//! and a search for a lost create can be skipped.
//!
//! A pair whose creates need the create-pending marker (its cloud cannot
//! find a lost create by tag) defers the finalizer to the engine, which
//! adds it with the marker in one fenced write just before the create
//! ([`When::WithTheCreate`]): a new object then costs three writes, not
//! four. The search that decides whether to create runs before either is
//! written, so a stranger's object of the same name is refused before any
//! marker could make it look like coffer's.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use kube::Resource;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

/// When a live object that lacks the finalizer gets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// Before the reconcile runs.
    First,
    /// The reconcile adds it ([`add_with`]) before it makes or records
    /// anything at the provider; it runs without it until then.
    WithTheCreate,
}

/// What a reconcile under a finalizer is asked to do.
pub enum Step<K> {
    /// The object lives and holds the finalizer (or, [`When::WithTheCreate`],
    /// will before anything is made). `fresh`: it did not hold it when this
    /// reconcile started, so coffer has created nothing for it.
    Apply { obj: Arc<K>, fresh: bool },
    /// The object is being deleted; the finalizer comes off when this
    /// returns `Ok`.
    Cleanup(Arc<K>),
}

/// An error a reconcile under a finalizer can fail with, and what adding or
/// removing the finalizer becomes when Kubernetes refuses it.
pub trait FinalizerFailure: std::error::Error + Send + 'static {
    /// Adding or removing the finalizer failed in Kubernetes.
    fn kube(operation: &'static str, source: kube::Error) -> Self;
    /// Anything else that makes the object unusable (no name, …).
    fn other(message: String) -> Self;
}

/// Runs `reconcile` for `obj` under `finalizer`, added `when` it says.
pub async fn run<K, E, F, Fut>(
    api: &Api<K>,
    finalizer: &str,
    when: When,
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
    F: FnOnce(Step<K>) -> Fut,
    Fut: Future<Output = Result<Action, E>>,
{
    let meta = obj.meta();
    if meta.name.is_none() {
        return Err(E::other("the object has no name".to_string()));
    }
    let held = meta.finalizers.iter().flatten().any(|f| f == finalizer);
    let deleting = meta.deletion_timestamp.is_some();
    match (deleting, held) {
        (false, true) => reconcile(Step::Apply { obj, fresh: false }).await,
        (false, false) if when == When::WithTheCreate => {
            reconcile(Step::Apply { obj, fresh: true }).await
        }
        (false, false) => {
            let obj = add(api, finalizer, &obj).await?;
            reconcile(Step::Apply {
                obj: Arc::new(obj),
                fresh: true,
            })
            .await
        }
        (true, true) => {
            let action = reconcile(Step::Cleanup(obj.clone())).await?;
            remove_for(api, finalizer, &obj).await?;
            Ok(action)
        }
        // Deleted and not ours (any more): nothing to do.
        (true, false) => Ok(Action::await_change()),
    }
}

/// Adds `finalizer`, fenced by resourceVersion so that a concurrent change
/// of the list is never overwritten; answers the object as it is now.
async fn add<K, E>(api: &Api<K>, finalizer: &str, obj: &K) -> Result<K, E>
where
    K: Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned,
    E: FinalizerFailure,
{
    let read_at = obj.meta().resource_version.as_deref();
    add_with(api, finalizer, obj, read_at, &BTreeMap::new())
        .await
        .map_err(|source| E::kube("add the finalizer", source))
}

/// Adds `finalizer` and `annotations` in one write, fenced by
/// `resource_version`: [`When::WithTheCreate`]'s write. Answers the object
/// as it is now.
pub async fn add_with<K>(
    api: &Api<K>,
    finalizer: &str,
    obj: &K,
    resource_version: Option<&str>,
    annotations: &BTreeMap<String, String>,
) -> Result<K, kube::Error>
where
    K: Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned,
{
    let mut finalizers = obj.meta().finalizers.clone().unwrap_or_default();
    finalizers.push(finalizer.to_string());
    let mut metadata = json!({"finalizers": finalizers, "resourceVersion": resource_version});
    if !annotations.is_empty() {
        metadata["annotations"] = json!(annotations);
    }
    merge(api, obj, metadata).await
}

async fn remove_for<K, E>(api: &Api<K>, finalizer: &str, obj: &K) -> Result<(), E>
where
    K: Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned,
    E: FinalizerFailure,
{
    remove(api, finalizer, obj)
        .await
        .map_err(|source| E::kube("remove the finalizer", source))
}

/// Removes `finalizer` from `obj`, fenced by the resourceVersion `obj` was
/// read at; an object already gone is what removing it wanted.
pub async fn remove<K>(api: &Api<K>, finalizer: &str, obj: &K) -> Result<(), kube::Error>
where
    K: Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned,
{
    let finalizers: Vec<String> = obj
        .meta()
        .finalizers
        .iter()
        .flatten()
        .filter(|f| *f != finalizer)
        .cloned()
        .collect();
    match patch(api, obj, finalizers).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.is_not_found() => Ok(()),
        Err(source) => Err(source),
    }
}

/// A merge patch of the whole finalizer list, with the resourceVersion it
/// was computed from: a stale view gets a 409 and is retried from the
/// watch, instead of dropping another controller's finalizer.
async fn patch<K>(api: &Api<K>, obj: &K, finalizers: Vec<String>) -> Result<K, kube::Error>
where
    K: Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned,
{
    let read_at = &obj.meta().resource_version;
    merge(
        api,
        obj,
        json!({"finalizers": finalizers, "resourceVersion": read_at}),
    )
    .await
}

/// A merge patch of `obj`'s `metadata`.
async fn merge<K>(api: &Api<K>, obj: &K, metadata: serde_json::Value) -> Result<K, kube::Error>
where
    K: Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned,
{
    let name = obj.meta().name.as_deref().unwrap_or_default();
    let body = json!({ "metadata": metadata });
    api.patch(name, &PatchParams::default(), &Patch::Merge(&body))
        .await
}
