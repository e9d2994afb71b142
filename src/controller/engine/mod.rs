//! The reconcile engine: one generic reconcile for every (kind, cloud) pair.
//! A pair implements [`External`] (observe, a pure plan, create, one call,
//! delete, health, the `atProvider` view); the engine does the rest once —
//! the finalizer, `deletionPolicy` and `managementPolicy`, pause and poll
//! interval, adoption before create, the create-pending marker, recording
//! the external id at once, in-flight calls kept in status, `Ready` and
//! `Synced`, `status.plan` and `status.drift`, Events on transitions only,
//! status written only when it changed, quiet retries with backoff.

pub mod adopt;
pub mod backoff;
pub mod context;
pub mod error;
pub mod events;
pub mod external;
pub mod finalizing;
#[cfg(test)]
pub(crate) mod fixtures;
mod line;
pub mod metrics;
pub mod own_writes;
pub mod policy;
pub mod reasons;
pub mod recent;
pub mod report;
pub mod run;
pub mod settled;
pub mod slots;
pub mod status;

use std::sync::Arc;

use kube::Resource;
use kube::api::Api;
use kube::runtime::controller::Action;

pub use context::{Context, ReconcileError, Timing, object_key};
pub use error::{ConfigProblem, Error};
pub use external::{
    Blocked, Candidate, Created, External, Health, Lookup, Managed, Plan, Recovery, Tone,
};
pub use policy::{Policy, wake_key};
pub use slots::{SessionKey, SessionRef};

use finalizing::{Step, When};
use run::{Run, namespace_of};

/// Reconciles one object through pair `P`, with metrics and backoff bookkeeping.
pub async fn reconcile<P: External>(
    obj: Arc<P::Kind>,
    ctx: Arc<Context<P::Env>>,
) -> Result<Action, Error> {
    if ctx.own_writes.behind(obj.as_ref()) {
        // This process's last writes are not in the cache yet: acting on
        // the object as it was would redo them. Neither a start nor an end
        // for the metrics, the sweep or the backoff.
        return Ok(Action::requeue(own_writes::CACHE_LAG));
    }
    let kind = <P::Kind as Managed>::KIND;
    let namespace = obj.meta().namespace.as_deref().unwrap_or_default();
    let name = obj.meta().name.as_deref().unwrap_or_default();
    let Some(_slot) = ctx.slots.take(kind, obj.session(), namespace, name) else {
        // Its session holds its whole share (a slow endpoint, or many
        // objects at once): give this kube-runtime slot to another object.
        // It waits in line and is woken when a slot is kept for it (or
        // looks again by itself). Not a start or an end either.
        return Ok(Action::requeue(backoff::jittered(slots::SHARE_TAKEN_WAIT)));
    };
    let _timer = ctx.metrics.start(kind);
    // Its start and its end, for the resync sweep (which covers only the
    // kinds the engine reconciles).
    ctx.recent.note(obj.as_ref());
    let result = reconcile_with_finalizer::<P>(obj.clone(), &ctx).await;
    ctx.recent.note(obj.as_ref());
    ctx.finish(kind, obj.as_ref(), &result);
    result
}

/// When to look at an object again after a failed reconcile.
pub fn error_policy<K: Managed, E>(obj: Arc<K>, error: &Error, ctx: Arc<Context<E>>) -> Action {
    // Nothing sooner than the drift check: the resync sweep brings it.
    ctx.retry(K::KIND, obj.as_ref(), error)
        .unwrap_or_else(Action::await_change)
}

async fn reconcile_with_finalizer<P: External>(
    obj: Arc<P::Kind>,
    ctx: &Context<P::Env>,
) -> Result<Action, Error> {
    let namespace = namespace_of(obj.as_ref())?;
    let api: Api<P::Kind> = Api::namespaced(ctx.client.clone(), &namespace);
    let policy = Policy::of(obj.as_ref())?;
    let read_at = kube::ResourceExt::resource_version(obj.as_ref());
    // Where a create needs the pending marker, the finalizer comes with it.
    let when = match P::LOOKUP.needs_marker() {
        true => When::WithTheCreate,
        false => When::First,
    };
    finalizing::run(
        &api,
        <P::Kind as Managed>::FINALIZER,
        when,
        obj,
        |event| async {
            match event {
                Step::Apply { obj, fresh } => {
                    Run::new(ctx, &api, &obj, policy)
                        .fresh(fresh)
                        .read_at(read_at.as_deref())
                        .apply::<P>()
                        .await
                }
                Step::Cleanup(obj) => Run::new(ctx, &api, &obj, policy).cleanup::<P>().await,
            }
        },
    )
    .await
}
