//! Keeps `status.users` current between a ProviderConfig's own reconciles.
//!
//! A ProviderConfig is reconciled when it or its Secret changes, and at
//! each drift check; objects that start or stop using it change neither.
//! Left alone, the count a replica wrote before thousands of objects were
//! created stays stale until the next drift check, and a new leader, which
//! counts them from its fresh caches, corrects it: a Kubernetes write on a
//! failover that had nothing to do with a change. So every
//! [`REFRESH`] the counts are taken from the caches, and a ProviderConfig
//! whose count moved is reconciled: at most one status write per
//! ProviderConfig per period, however many objects arrive in it.

use std::time::Duration;

use futures::channel::mpsc;
use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};

use crate::api::ProviderConfig;
use crate::controller::caches::Caches;

/// How often the counts are compared with the caches.
pub const REFRESH: Duration = Duration::from_secs(15);

/// Wakes, every [`REFRESH`], each ProviderConfig whose `status.users` no
/// longer matches the caches. Runs until the process stops.
pub async fn keep_current(
    caches: Caches,
    configs: Store<ProviderConfig>,
    wake: mpsc::UnboundedSender<ObjectRef<ProviderConfig>>,
) {
    caches.users_filled().await;
    let mut ticks = tokio::time::interval(REFRESH);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        for pc in configs.state() {
            if stale(&caches, &pc)
                && wake
                    .unbounded_send(ObjectRef::from_obj(pc.as_ref()))
                    .is_err()
            {
                return;
            }
        }
    }
}

/// Whether `pc` was reported with a count the caches no longer give. One
/// never reported is left to its own first reconcile.
fn stale(caches: &Caches, pc: &ProviderConfig) -> bool {
    let (Some(status), Some(namespace)) = (pc.status.as_ref(), pc.namespace()) else {
        return false;
    };
    status.users != caches.users_of(&namespace, &pc.name_any())
}
