//! What a provider session is built from, whichever kind defines it: a
//! ProviderConfig (its Secret and CA in its own namespace) or a
//! ClusterProviderConfig (in the namespace it names, else coffer's own).
//! The rest of `providers` reads only this, so both kinds build their
//! clients, budgets and fingerprints by one path.

use kube::ResourceExt;

use crate::api::{ClusterProviderConfig, ProviderConfig, ProviderConfigSpec};
use crate::controller::engine::SessionKey;

/// A session's definition, borrowed from its config object.
#[derive(Clone, Debug)]
pub struct Source<'a> {
    /// Which session it defines.
    pub key: SessionKey,
    /// `ProviderConfig cloud` or `ClusterProviderConfig shared`, for messages.
    pub label: String,
    pub spec: &'a ProviderConfigSpec,
    /// Where its credential Secret and `caBundleRef` are read.
    pub namespace: String,
    pub uid: Option<String>,
    pub generation: Option<i64>,
    /// Being deleted: its objects still being cleaned up may keep the
    /// session built while its Secret existed.
    pub deleting: bool,
}

impl<'a> Source<'a> {
    pub fn namespaced(pc: &'a ProviderConfig) -> Self {
        let namespace = pc.namespace().unwrap_or_default();
        let name = pc.name_any();
        Self {
            key: SessionKey::namespaced(&namespace, &name),
            label: format!("ProviderConfig {name}"),
            spec: &pc.spec,
            namespace,
            uid: pc.uid(),
            generation: pc.metadata.generation,
            deleting: pc.metadata.deletion_timestamp.is_some(),
        }
    }

    /// `home` is the namespace coffer runs in, where the Secret is unless
    /// the ClusterProviderConfig names another.
    pub fn cluster(cpc: &'a ClusterProviderConfig, home: &str) -> Self {
        let name = cpc.name_any();
        Self {
            key: SessionKey::ClusterWide { name: name.clone() },
            label: format!("ClusterProviderConfig {name}"),
            spec: &cpc.spec.provider,
            namespace: cpc.credentials_namespace(home).to_string(),
            uid: cpc.uid(),
            generation: cpc.metadata.generation,
            deleting: cpc.metadata.deletion_timestamp.is_some(),
        }
    }
}
