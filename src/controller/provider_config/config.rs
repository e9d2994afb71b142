//! The two kinds that define a provider session, as their one controller
//! sees them: a ProviderConfig (namespaced, reading its own namespace) and
//! a ClusterProviderConfig (cluster-scoped, reading the namespace it names
//! or coffer's own). Checking credentials, holding what they read, counting
//! users and waiting for them on delete are written once, for both.

use std::fmt::Debug;

use kube::api::Api;
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::{ClusterProviderConfig, ProviderConfig, ProviderConfigStatus};
use crate::controller::providers::Source;

/// What the config controller needs of a kind that defines a session.
pub trait Config:
    Resource<DynamicType = ()> + Clone + Debug + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The kind, as metrics and per-object state name it.
    const KIND: &'static str;
    /// Where its status and finalizer are written.
    fn api(&self, client: Client) -> Api<Self>;
    /// What its session is built from; `home` is the namespace coffer runs in.
    fn source<'a>(&'a self, home: &str) -> Source<'a>;
    fn config_status(&self) -> Option<&ProviderConfigStatus>;
    /// What `status.credentialsNamespace` says: only a ClusterProviderConfig
    /// reads from a namespace its users cannot see from the object itself.
    fn credentials_namespace(&self, home: &str) -> Option<String>;
}

impl Config for ProviderConfig {
    const KIND: &'static str = "ProviderConfig";

    fn api(&self, client: Client) -> Api<Self> {
        Api::namespaced(client, &self.namespace().unwrap_or_default())
    }

    fn source<'a>(&'a self, _home: &str) -> Source<'a> {
        Source::namespaced(self)
    }

    fn config_status(&self) -> Option<&ProviderConfigStatus> {
        self.status.as_ref()
    }

    fn credentials_namespace(&self, _home: &str) -> Option<String> {
        None
    }
}

impl Config for ClusterProviderConfig {
    const KIND: &'static str = "ClusterProviderConfig";

    fn api(&self, client: Client) -> Api<Self> {
        Api::all(client)
    }

    fn source<'a>(&'a self, home: &str) -> Source<'a> {
        Source::cluster(self, home)
    }

    fn config_status(&self) -> Option<&ProviderConfigStatus> {
        self.status.as_ref()
    }

    fn credentials_namespace(&self, home: &str) -> Option<String> {
        Some(ClusterProviderConfig::credentials_namespace(self, home).to_string())
    }
}
