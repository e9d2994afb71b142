//! The custom resources coffer serves (group `coffer.dev`, version `v1alpha1`)
//! and the status types they share. One file per kind.

pub mod backup_vault;
pub mod conditions;
pub mod provider_config;

pub use backup_vault::{BackupVault, BackupVaultSpec, BackupVaultStatus};
pub use conditions::{Condition, ConditionStatus};
pub use provider_config::{ProviderConfig, ProviderConfigSpec, ProviderConfigStatus};

use kube::CustomResourceExt;

/// The API group every coffer kind lives in.
pub const GROUP: &str = "coffer.dev";

/// Every CRD coffer serves, in the order `coffer crds` writes them.
pub fn all_crds()
-> Vec<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>
{
    vec![ProviderConfig::crd(), BackupVault::crd()]
}

/// Where a namespaced object points at the ProviderConfig it uses. Always in
/// the object's own namespace: a vault can never borrow another team's credentials.
#[derive(
    Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct ProviderConfigRef {
    /// Name of a ProviderConfig in the same namespace as this object.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// What happens to the cloud object when its Kubernetes object is deleted.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
pub enum DeletionPolicy {
    /// Delete the cloud object, and wait until the provider reports it gone.
    #[default]
    Delete,
    /// Leave the cloud object as it is and only forget it.
    Orphan,
}
