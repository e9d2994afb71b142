//! What coffer's (kind, cloud) pairs reach beyond their own object: the
//! watched caches (ProviderConfigs, labelled Secrets and ConfigMaps, the
//! BackupVaults a share names) and the provider clients, one session per
//! ProviderConfig. The engine carries it to the pairs as
//! [`engine::Context::env`] and never looks inside.

use super::caches::Caches;
use super::engine::{self, Managed};
use super::providers::{self, ProviderClients, Session};

/// The caches and provider clients every pair connects through.
pub struct Env {
    pub caches: Caches,
    pub providers: ProviderClients,
}

/// The context of every reconcile coffer runs.
pub type Context = engine::Context<Env>;

impl Env {
    /// The provider session of the ProviderConfig `obj` names, in its own
    /// namespace: what every pair's `connect` starts from.
    pub fn session_of<K: Managed>(&self, obj: &K) -> Result<Session, engine::Error> {
        let namespace = obj
            .meta()
            .namespace
            .as_deref()
            .ok_or(engine::Error::MissingMetadata("namespace"))?;
        let session = self
            .providers
            .session(&self.caches, namespace, obj.provider_config());
        Ok(session?)
    }
}

impl From<providers::Error> for engine::Error {
    fn from(error: providers::Error) -> Self {
        Self::Config(Box::new(error))
    }
}
