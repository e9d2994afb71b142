//! Watched caches of what managed objects reference — ProviderConfigs,
//! credential Secrets and CA-bundle ConfigMaps — so a reconcile reads them from memory instead of
//! GETting them, and a change to one wakes exactly the objects that use it.
//!
//! Only Secrets and ConfigMaps labelled `coffer.dev/credentials=true` are
//! watched: caching every Secret or ConfigMap in the cluster (Helm keeps whole releases in them) would cost
//! far more memory than coffer's own objects. Cached objects are slimmed
//! (managed fields and the last-applied annotation dropped) for the same reason.

use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::runtime::reflector::{ObjectRef, Store, store::Writer};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Resource, ResourceExt};
use serde::de::DeserializeOwned;

use super::engine::{Managed, SessionKey};
use crate::api::managed::CREATE_STARTED_ANNOTATION;
use crate::api::provider_config::{CaBundleKind, CaSource};
use crate::api::{BackupVault, ClusterProviderConfig, ProviderConfig, ProviderConfigSpec};

/// The label a Secret needs for coffer to read it.
pub const CREDENTIALS_LABEL: &str = "coffer.dev/credentials";

/// The label selector of the Secret cache.
pub fn credentials_selector() -> String {
    format!("{CREDENTIALS_LABEL}=true")
}

/// Read handles to the caches of referenced objects, and of the managed
/// objects that reference them.
#[derive(Clone)]
pub struct Caches {
    provider_configs: Store<ProviderConfig>,
    /// `None` when coffer runs without ClusterProviderConfigs.
    cluster: Option<ClusterStores>,
    /// The namespace coffer runs in, where a ClusterProviderConfig's Secret
    /// is read unless it names another.
    home: Arc<str>,
    secrets: Store<Secret>,
    users: Vec<Arc<dyn Users>>,
    /// BackupShare: a receiver's `vaultRef` is read from here.
    backup_vaults: Option<Store<BackupVault>>,
    /// ProviderConfig: a `caBundleRef` of kind ConfigMap is read from here.
    config_maps: Option<Store<ConfigMap>>,
}

impl Caches {
    pub fn new(provider_configs: Store<ProviderConfig>, secrets: Store<Secret>) -> Self {
        Self {
            provider_configs,
            cluster: None,
            home: Arc::from("default"),
            secrets,
            users: Vec::new(),
            backup_vaults: None,
            config_maps: None,
        }
    }

    /// Adds ClusterProviderConfigs, and the namespaces whose labels their
    /// `allowedNamespaces.selector` matches.
    pub fn with_cluster_configs(mut self, stores: ClusterStores) -> Self {
        self.cluster = Some(stores);
        self
    }

    /// Sets the namespace coffer runs in.
    pub fn with_home(mut self, home: &str) -> Self {
        self.home = Arc::from(home);
        self
    }

    /// The namespace coffer runs in.
    pub fn home(&self) -> &str {
        &self.home
    }

    /// ClusterProviderConfig `name`; `Err` when coffer runs without them.
    pub fn cluster_provider_config(
        &self,
        name: &str,
    ) -> Result<Option<Arc<ClusterProviderConfig>>, ClusterConfigsOff> {
        let cluster = self.cluster.as_ref().ok_or(ClusterConfigsOff)?;
        Ok(cluster.configs.get(&ObjectRef::new(name)))
    }

    /// Every cached ClusterProviderConfig.
    pub fn cluster_provider_configs(&self) -> Vec<Arc<ClusterProviderConfig>> {
        self.cluster
            .as_ref()
            .map(|c| c.configs.state())
            .unwrap_or_default()
    }

    /// Namespace `name`, for its labels.
    pub fn namespace(&self, name: &str) -> Option<Arc<Namespace>> {
        self.cluster.as_ref()?.namespaces.get(&ObjectRef::new(name))
    }

    /// Adds the labelled ConfigMaps, which `caBundleRef` reads.
    pub fn with_config_maps(mut self, store: Store<ConfigMap>) -> Self {
        self.config_maps = Some(store);
        self
    }

    /// A labelled ConfigMap; `None` when absent or when no store was added.
    pub fn config_map(&self, namespace: &str, name: &str) -> Option<Arc<ConfigMap>> {
        self.config_maps
            .as_ref()?
            .get(&ObjectRef::new(name).within(namespace))
    }

    /// Adds the BackupVault store, which BackupShare receivers read.
    pub fn with_backup_vaults(mut self, store: Store<BackupVault>) -> Self {
        self.backup_vaults = Some(store);
        self
    }

    /// A BackupVault from the watched store; `None` when absent or when no
    /// store was added.
    pub fn backup_vault(&self, namespace: &str, name: &str) -> Option<Arc<BackupVault>> {
        self.backup_vaults
            .as_ref()?
            .get(&ObjectRef::new(name).within(namespace))
    }

    /// Adds the managed kinds, for counting a ProviderConfig's users.
    pub fn with_users(mut self, users: Vec<Arc<dyn Users>>) -> Self {
        self.users = users;
        self
    }

    /// Every cached ProviderConfig.
    pub fn provider_configs(&self) -> Vec<Arc<ProviderConfig>> {
        self.provider_configs.state()
    }

    pub fn provider_config(&self, namespace: &str, name: &str) -> Option<Arc<ProviderConfig>> {
        self.provider_configs
            .get(&ObjectRef::new(name).within(namespace))
    }

    pub fn secret(&self, namespace: &str, name: &str) -> Option<Arc<Secret>> {
        self.secrets.get(&ObjectRef::new(name).within(namespace))
    }

    /// The cached Secrets that hold `finalizer`.
    pub fn secrets_holding(&self, finalizer: &str) -> Vec<Arc<Secret>> {
        self.secrets
            .state()
            .into_iter()
            .filter(|s| s.finalizers().iter().any(|f| f == finalizer))
            .collect()
    }

    /// The cached ConfigMaps that hold `finalizer`.
    pub fn config_maps_holding(&self, finalizer: &str) -> Vec<Arc<ConfigMap>> {
        let Some(store) = &self.config_maps else {
            return Vec::new();
        };
        store
            .state()
            .into_iter()
            .filter(|c| c.finalizers().iter().any(|f| f == finalizer))
            .collect()
    }

    /// Waits until the caches hold a complete first listing, so that a
    /// reconcile never reports a Secret missing only because it was not read yet.
    pub async fn wait_until_ready(&self) {
        let config_maps = async {
            match &self.config_maps {
                Some(store) => store.wait_until_ready().await.is_ok(),
                None => true,
            }
        };
        let cluster = async {
            match &self.cluster {
                Some(c) => {
                    let (configs, namespaces) = futures::join!(
                        c.configs.wait_until_ready(),
                        c.namespaces.wait_until_ready()
                    );
                    configs.is_ok() && namespaces.is_ok()
                }
                None => true,
            }
        };
        let (a, b, c, d) = futures::join!(
            self.provider_configs.wait_until_ready(),
            self.secrets.wait_until_ready(),
            config_maps,
            cluster
        );
        // A writer is only dropped when its reflector task ended, i.e. at shutdown.
        if a.is_err() || b.is_err() || !c || !d {
            tracing::warn!("a cache stopped before it was filled");
        }
    }

    /// The configs, of either kind, that read Secret `secret` of
    /// `namespace`, for credentials or for their CA bundle.
    pub fn configs_using_secret(&self, namespace: &str, secret: &str) -> Vec<SessionKey> {
        self.configs_where(namespace, |spec| {
            spec.secret_name() == Some(secret) || reads_ca_from(spec, CaBundleKind::Secret, secret)
        })
    }

    /// The configs, of either kind, whose CA bundle is in ConfigMap `name`
    /// of `namespace`.
    pub fn configs_using_config_map(&self, namespace: &str, name: &str) -> Vec<SessionKey> {
        self.configs_where(namespace, |spec| {
            reads_ca_from(spec, CaBundleKind::ConfigMap, name)
        })
    }

    /// The configs whose Secret and CA are read in `namespace` and `reads`.
    fn configs_where(
        &self,
        namespace: &str,
        reads: impl Fn(&ProviderConfigSpec) -> bool,
    ) -> Vec<SessionKey> {
        let namespaced = self
            .provider_configs
            .state()
            .into_iter()
            .filter(|pc| pc.namespace().as_deref() == Some(namespace))
            .filter(|pc| reads(&pc.spec))
            .map(|pc| SessionKey::namespaced(namespace, &pc.name_any()));
        let cluster = self
            .cluster_provider_configs()
            .into_iter()
            .filter(|cpc| cpc.credentials_namespace(&self.home) == namespace)
            .filter(|cpc| reads(&cpc.spec.provider))
            .map(|cpc| SessionKey::ClusterWide {
                name: cpc.name_any(),
            });
        namespaced.chain(cluster).collect()
    }
}

/// ClusterProviderConfigs and Namespaces, watched cluster-wide.
#[derive(Clone)]
pub struct ClusterStores {
    pub configs: Store<ClusterProviderConfig>,
    pub namespaces: Store<Namespace>,
}

/// coffer runs without ClusterProviderConfigs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClusterConfigsOff;

/// Whether `spec`'s `caBundleRef` names the `kind` object `name`.
fn reads_ca_from(spec: &ProviderConfigSpec, kind: CaBundleKind, name: &str) -> bool {
    matches!(spec.ca_source(), CaSource::Ref(r) if r.kind == kind && r.name == name)
}

/// What a cache saw happen to an object, reported after its store has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Part of a (re)listing: the state as it is, not necessarily a change.
    Listed,
    /// Created or modified.
    Applied,
    /// Deleted.
    Deleted,
}

/// Reflects `K` into `writer` for as long as the returned future runs,
/// calling `on_change` after each event is in the store — so whatever
/// `on_change` triggers reads the new state, never the old one. A listing
/// only reaches the store when it is complete, so listed objects are
/// reported together at its end.
pub async fn reflect<K>(
    api: Api<K>,
    config: watcher::Config,
    writer: Writer<K>,
    on_change: impl FnMut(Change, &K) + Send,
) where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + Hash + Clone,
{
    reflect_stream(watcher(api, config), writer, on_change).await;
}

/// [`reflect`] from a watch stream already made (see `lenient::watch`).
pub async fn reflect_stream<K>(
    events: impl Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send,
    writer: Writer<K>,
    mut on_change: impl FnMut(Change, &K) + Send,
) where
    K: Resource + Clone + Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + Hash + Clone,
{
    let kind = K::kind(&K::DynamicType::default()).to_string();
    let mut listed = Vec::new();
    events
        .default_backoff()
        .modify(slim)
        .reflect(writer)
        .for_each(|event| {
            match event {
                Ok(watcher::Event::Apply(obj)) => on_change(Change::Applied, &obj),
                Ok(watcher::Event::Delete(obj)) => on_change(Change::Deleted, &obj),
                Ok(watcher::Event::Init) => listed.clear(),
                Ok(watcher::Event::InitApply(obj)) => listed.push(obj),
                Ok(watcher::Event::InitDone) => {
                    for obj in listed.drain(..) {
                        on_change(Change::Listed, &obj);
                    }
                }
                Err(error) => tracing::warn!(%error, %kind, "watch failed; retrying"),
            }
            futures::future::ready(())
        })
        .await;
}

/// Drops what a cached object never needs and what costs most memory:
/// managed fields and `kubectl apply`'s copy of the whole object.
pub fn slim<K: Resource>(obj: &mut K) {
    obj.meta_mut().managed_fields = None;
    drop_annotation(obj, "kubectl.kubernetes.io/last-applied-configuration");
}

/// [`slim`], and for a managed object whose status coffer has written, its
/// spent create-pending annotation (`CREATE_STARTED_ANNOTATION`, read only
/// until then).
pub fn slim_managed<K: Managed>(obj: &mut K) {
    slim(obj);
    let written = obj
        .managed_status()
        .is_some_and(|s| s.external_id.is_some() || !s.conditions.is_empty());
    if written {
        drop_annotation(obj, CREATE_STARTED_ANNOTATION);
    }
}

/// Removes annotation `key`, and the map with it once empty: an empty
/// BTreeMap still holds a node of about 500 bytes.
fn drop_annotation<K: Resource>(obj: &mut K, key: &str) {
    let meta = obj.meta_mut();
    if let Some(annotations) = meta.annotations.as_mut() {
        annotations.remove(key);
        if annotations.is_empty() {
            meta.annotations = None;
        }
    }
}

/// A process-local digest, so a cache compares 8 bytes instead of keeping
/// what it digests (credentials, a CA) a second time.
pub fn digest(value: &impl std::hash::Hash) -> u64 {
    use std::hash::Hasher;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// The digest of a Secret's keys and values.
pub fn secret_digest(secret: &Secret) -> u64 {
    let data = secret.data.iter().flatten();
    let data = data.map(|(k, v)| (k.as_str(), v.0.as_slice()));
    let string_data = secret.string_data.iter().flatten();
    let all: Vec<(&str, &[u8])> = data
        .chain(string_data.map(|(k, v)| (k.as_str(), v.as_bytes())))
        .collect();
    digest(&all)
}

/// The digest of a ConfigMap's keys and values.
pub fn config_map_digest(config_map: &ConfigMap) -> u64 {
    digest(&(
        &config_map.data,
        &config_map.binary_data.as_ref().map(|b| {
            b.iter()
                .map(|(k, v)| (k.as_str(), v.0.as_slice()))
                .collect::<Vec<_>>()
        }),
    ))
}

/// The content each referenced Secret or ConfigMap was last seen with, so
/// that only a change of what coffer reads from it wakes its readers: not a
/// change of its metadata, such as coffer's own in-use finalizer.
#[derive(Default)]
pub struct ContentVersions {
    seen: HashMap<NamespacedName, (Option<String>, u64)>,
}

impl ContentVersions {
    /// Records `obj` with the digest of its content; true when it is new or
    /// its content changed.
    pub fn record<K: Resource>(&mut self, obj: &K, content: u64) -> bool {
        let key = (obj.meta().namespace.clone(), obj.name_any());
        let version = (obj.meta().uid.clone(), content);
        self.seen.insert(key, version.clone()) != Some(version)
    }

    /// Forgets a deleted object.
    pub fn forget<K: Resource>(&mut self, obj: &K) {
        self.seen
            .remove(&(obj.meta().namespace.clone(), obj.name_any()));
    }
}

/// Remembers each object's uid and generation, so that only a change of
/// spec — not a status write — wakes the objects that depend on it.
#[derive(Debug, Default)]
pub struct SpecVersions {
    seen: HashMap<NamespacedName, SpecVersion>,
}

type NamespacedName = (Option<String>, String);
/// uid and generation.
type SpecVersion = (Option<String>, Option<i64>);

impl SpecVersions {
    /// Records `obj`; true when it is new or its spec changed.
    pub fn record<K: Resource>(&mut self, obj: &K) -> bool {
        let key = (obj.meta().namespace.clone(), obj.name_any());
        let version = (obj.meta().uid.clone(), obj.meta().generation);
        self.seen.insert(key, version.clone()) != Some(version)
    }

    /// Forgets a deleted object.
    pub fn forget<K: Resource>(&mut self, obj: &K) {
        self.seen
            .remove(&(obj.meta().namespace.clone(), obj.name_any()));
    }
}

#[path = "caches_users.rs"]
mod users;
pub use users::Users;

#[cfg(test)]
#[path = "caches_tests.rs"]
mod tests;
