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

use std::collections::HashMap;
use std::time::Duration;

use futures::channel::mpsc;
use kube::runtime::reflector::{ObjectRef, Store};

use super::Config;
use crate::api::provider_config::ProviderConfigUsers;
use crate::controller::caches::Caches;
use crate::controller::engine::SessionKey;

/// How often the counts are compared with the caches.
pub const REFRESH: Duration = Duration::from_secs(15);

/// Wakes, every [`REFRESH`], each config of kind `C` whose `status.users` no
/// longer matches the caches. Runs until the process stops.
pub async fn keep_current<C: Config>(
    caches: Caches,
    configs: Store<C>,
    wake: mpsc::UnboundedSender<ObjectRef<C>>,
) {
    // Compared only with full caches: a partial count is not news.
    while !caches.users_ready(REFRESH).await {}
    let mut ticks = tokio::time::interval(REFRESH);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let counts = caches.user_counts();
        for pc in configs.state() {
            if stale(&counts, &caches, pc.as_ref())
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
fn stale<C: Config>(
    counts: &HashMap<SessionKey, Vec<ProviderConfigUsers>>,
    caches: &Caches,
    pc: &C,
) -> bool {
    let Some(status) = pc.config_status() else {
        return false;
    };
    let counted = counts.get(&pc.source(caches.home()).key);
    status.users.as_slice() != counted.map_or(&[][..], Vec::as_slice)
}
