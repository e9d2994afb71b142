//! Whom a change in a cache wakes: a config's change wakes the config and
//! its users, a Secret's or a CA's change the configs reading it and their
//! users, and a namespace's new labels the objects in it that use a
//! ClusterProviderConfig, which those labels may now allow or refuse.
//!
//! Each wake happens after the change is in the cache, so the reconcile it
//! starts sees it. Only real news wakes anyone: a config's status, or the
//! in-use finalizer coffer puts on a Secret, changes nothing its users read.

use std::collections::HashMap;
use std::sync::Arc;

use futures::channel::mpsc;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;

use crate::api::{ClusterProviderConfig, ProviderConfig};
use crate::controller::caches::{self, Caches, Change, ContentVersions, SpecVersions, Users};
use crate::controller::engine::{self, SessionKey};
use crate::controller::env::Context;
use crate::controller::provider_config::Config;

/// Where cache changes wake reconciles.
#[derive(Clone)]
pub struct Wake {
    pub configs: mpsc::UnboundedSender<ObjectRef<ProviderConfig>>,
    pub cluster_configs: mpsc::UnboundedSender<ObjectRef<ClusterProviderConfig>>,
    /// Every managed kind.
    pub users: Vec<Arc<dyn Users>>,
    pub caches: Caches,
}

impl Wake {
    /// Reconciles the config `key` names soon.
    fn config(&self, key: &SessionKey) {
        match key {
            SessionKey::Namespaced { namespace, name } => {
                let _ = self
                    .configs
                    .unbounded_send(ObjectRef::new(name).within(namespace));
            }
            SessionKey::ClusterWide { name } => {
                let _ = self.cluster_configs.unbounded_send(ObjectRef::new(name));
            }
        }
    }

    /// A config is checked when listed or when its spec changes; the
    /// objects using it are woken only by a spec change or deletion — never
    /// by its status, or one status write would wake thousands.
    pub fn on_config_change<C: Config>(&self, ctx: Arc<Context>) -> impl FnMut(Change, &C) + Send {
        let wake = self.clone();
        let mut specs = SpecVersions::default();
        // Deletion and the steering annotations too (`engine::wake_key`):
        // a config's deletion is handled by its reconcile. Its own
        // finalizer needs no wake: the reconcile that adds it goes on.
        let mut lifecycles: HashMap<SessionKey, Option<u64>> = HashMap::new();
        move |change, pc| {
            let key = pc.source(wake.caches.home()).key;
            let lifecycle = engine::wake_key(pc);
            let lifecycle_changed = lifecycles.insert(key.clone(), lifecycle) != Some(lifecycle);
            let spec_changed = match change {
                Change::Listed => {
                    specs.record(pc);
                    false
                }
                Change::Applied => specs.record(pc),
                Change::Deleted => {
                    specs.forget(pc);
                    lifecycles.remove(&key);
                    ctx.env.providers.forget(&key);
                    true
                }
            };
            if spec_changed || lifecycle_changed || change == Change::Listed {
                wake.config(&key);
            }
            if spec_changed {
                wake.users_of(&key);
            }
        }
    }

    /// A credential Secret's change wakes the configs reading it and their
    /// users, and the objects that read it themselves (a BackupVault's
    /// passphrase). A listing wakes nothing: every object is reconciled
    /// when its own controller starts. Only a change of its keys and values
    /// is news: not its metadata, such as coffer's own in-use finalizer, or
    /// holding a Secret would wake all its users.
    pub fn on_secret_change(&self) -> impl FnMut(Change, &Secret) + Send {
        let wake = self.clone();
        let mut contents = ContentVersions::default();
        move |change, secret| {
            let changed = match change {
                Change::Listed => {
                    contents.record(secret, caches::secret_digest(secret));
                    false
                }
                Change::Applied => contents.record(secret, caches::secret_digest(secret)),
                Change::Deleted => {
                    contents.forget(secret);
                    true
                }
            };
            if !changed {
                return;
            }
            let namespace = secret.namespace().unwrap_or_default();
            for kind in &wake.users {
                kind.wake_readers(&namespace, &secret.name_any());
            }
            for config in wake
                .caches
                .configs_using_secret(&namespace, &secret.name_any())
            {
                wake.users_of(&config);
                wake.config(&config);
            }
        }
    }

    /// A labelled ConfigMap's change wakes the configs whose `caBundleRef`
    /// names it, and their users: a rotated CA is trusted at once.
    pub fn on_config_map_change(&self) -> impl FnMut(Change, &ConfigMap) + Send {
        let wake = self.clone();
        let mut contents = ContentVersions::default();
        move |change, config_map| {
            let changed = match change {
                Change::Listed => {
                    contents.record(config_map, caches::config_map_digest(config_map));
                    false
                }
                Change::Applied => {
                    contents.record(config_map, caches::config_map_digest(config_map))
                }
                Change::Deleted => {
                    contents.forget(config_map);
                    true
                }
            };
            if !changed {
                return;
            }
            let namespace = config_map.namespace().unwrap_or_default();
            for config in wake
                .caches
                .configs_using_config_map(&namespace, &config_map.name_any())
            {
                wake.users_of(&config);
                wake.config(&config);
            }
        }
    }

    /// A namespace whose labels changed wakes its objects that use a
    /// ClusterProviderConfig: a selector may allow or refuse them now, and
    /// one that lost its label must stop acting at once, not at the next
    /// drift check.
    pub fn on_namespace_change(&self) -> impl FnMut(Change, &Namespace) + Send {
        let wake = self.clone();
        let mut labels = ContentVersions::default();
        move |change, namespace| {
            let changed = match change {
                Change::Listed => {
                    labels.record(namespace, caches::digest(&namespace.metadata.labels));
                    false
                }
                Change::Applied => {
                    labels.record(namespace, caches::digest(&namespace.metadata.labels))
                }
                Change::Deleted => {
                    labels.forget(namespace);
                    true
                }
            };
            if changed {
                for kind in &wake.users {
                    kind.wake_cluster_users(&namespace.name_any());
                }
            }
        }
    }

    /// Wakes the objects of every kind that use the config `key` names.
    fn users_of(&self, key: &SessionKey) {
        for kind in &self.users {
            kind.wake(key);
        }
    }
}
