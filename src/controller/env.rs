//! What coffer's (kind, cloud) pairs reach beyond their own object: the
//! watched caches (ProviderConfigs, labelled Secrets and ConfigMaps, the
//! BackupVaults a share names) and the provider clients, one session per
//! ProviderConfig. The engine carries it to the pairs as
//! [`engine::Context::env`] and never looks inside.

use super::caches::Caches;
use super::engine::{self, Managed};
use super::providers::{self, ProviderClients, Session, Source};
use crate::api::ProviderConfigKind;

/// The caches and provider clients every pair connects through.
pub struct Env {
    pub caches: Caches,
    pub providers: ProviderClients,
}

/// The context of every reconcile coffer runs.
pub type Context = engine::Context<Env>;

impl Env {
    /// The provider session of the config `obj` names: a ProviderConfig in
    /// its own namespace, or a ClusterProviderConfig that allows that
    /// namespace. What every pair's `connect` starts from, so no pair can
    /// reach a cloud through a config its namespace may not use.
    pub fn session_of<K: Managed>(&self, obj: &K) -> Result<Session, engine::Error> {
        let namespace = obj
            .meta()
            .namespace
            .as_deref()
            .ok_or(engine::Error::MissingMetadata("namespace"))?;
        let reference = obj.provider_config_ref();
        let session = match reference.kind() {
            ProviderConfigKind::ProviderConfig => {
                self.providers
                    .session(&self.caches, namespace, &reference.name)
            }
            ProviderConfigKind::ClusterProviderConfig => {
                self.cluster_session(namespace, &reference.name)
            }
        };
        Ok(session?)
    }

    fn cluster_session(&self, namespace: &str, name: &str) -> Result<Session, providers::Error> {
        let cpc = self
            .caches
            .cluster_provider_config(name)
            .map_err(|_| providers::Error::ClusterProviderConfigsOff)?
            .ok_or_else(|| providers::Error::ClusterProviderConfigNotFound {
                name: name.to_string(),
            })?;
        let ns = self.caches.namespace(namespace);
        let labels = ns.as_ref().and_then(|ns| ns.metadata.labels.as_ref());
        providers::allowed::check(&cpc, namespace, labels)?;
        let source = Source::cluster(&cpc, self.caches.home());
        self.providers.session_for(&self.caches, &source)
    }
}

impl From<providers::Error> for engine::Error {
    fn from(error: providers::Error) -> Self {
        Self::Config(Box::new(error))
    }
}
