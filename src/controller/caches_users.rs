//! Who uses which config: the managed kinds as the config side sees them,
//! counted from their caches for a ProviderConfig's `status.users`.

use std::collections::HashMap;

use super::Caches;
use crate::api::provider_config::ProviderConfigUsers;
use crate::controller::engine::SessionKey;

/// The objects of one kind as the config side sees them: how many use a
/// ProviderConfig or ClusterProviderConfig, and a way to wake them when it
/// changes. Type-erased, so the caches and the wake-ups hold every kind in
/// one list.
pub trait Users: Send + Sync {
    fn kind(&self) -> &'static str;
    /// How many objects use the config `config` defines.
    fn count(&self, config: &SessionKey) -> usize;
    /// How many objects use each config, in one pass over the cache.
    fn counts(&self) -> HashMap<SessionKey, usize>;
    /// Reconciles them soon.
    fn wake(&self, config: &SessionKey);
    /// Reconciles soon the objects in `namespace` that use a
    /// ClusterProviderConfig: the namespace's labels, which may allow or
    /// refuse them, changed.
    fn wake_cluster_users(&self, namespace: &str);
    /// Resolves once the kind's cache has been filled, so that a count is
    /// not taken from a cache still empty after a start.
    fn filled(&self) -> futures::future::BoxFuture<'_, ()>;
    /// Reconciles soon the objects in `namespace` that read Secret `secret`
    /// themselves (see [`crate::controller::engine::Managed::referenced_secrets`]).
    fn wake_readers(&self, namespace: &str, secret: &str);
}

impl Caches {
    /// Whether every kind's cache has been filled, waiting at most
    /// `within`. Deciding that nothing uses a ProviderConfig (and letting it
    /// or its Secret go) must not rest on a cache still empty after a start:
    /// that decision cannot be taken back.
    pub async fn users_ready(&self, within: std::time::Duration) -> bool {
        tokio::time::timeout(within, self.users_filled())
            .await
            .is_ok()
    }

    /// Resolves once every managed kind's cache has been filled.
    pub async fn users_filled(&self) {
        futures::future::join_all(self.users.iter().map(|kind| kind.filled())).await;
    }

    /// The objects that use the config `config` defines, by kind.
    pub fn users_of(&self, config: &SessionKey) -> Vec<ProviderConfigUsers> {
        self.users
            .iter()
            .map(|kind| (kind.kind(), kind.count(config)))
            .filter(|(_, count)| *count > 0)
            .map(|(kind, count)| usage(kind, count))
            .collect()
    }

    /// Every config's users by kind, as [`Caches::users_of`] gives one
    /// config's: one pass over each kind's cache for all the configs, not
    /// one per config, so a cluster of many tenants' configs is not counted
    /// configs × objects times over.
    pub fn user_counts(&self) -> HashMap<SessionKey, Vec<ProviderConfigUsers>> {
        let mut all: HashMap<SessionKey, Vec<ProviderConfigUsers>> = HashMap::new();
        for kind in &self.users {
            for (config, count) in kind.counts() {
                all.entry(config)
                    .or_default()
                    .push(usage(kind.kind(), count));
            }
        }
        all
    }
}

/// `count` objects of `kind`, as status shows them.
fn usage(kind: &str, count: usize) -> ProviderConfigUsers {
    ProviderConfigUsers {
        kind: kind.to_string(),
        count: u32::try_from(count).unwrap_or(u32::MAX),
    }
}
