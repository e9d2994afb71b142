//! The CBR vault trait and its types: what the BackupVault-on-Huawei pair
//! plans against. [`super::HuaweiVaults`] maps them to CBR's wire format;
//! a fake in memory serves unit tests.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::provider::ProviderError;
use crate::provider::snapshot::Listed;

/// A tag (key and value) on a vault, or in an auto-bind rule.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl Tag {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// A resource a vault protects.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VaultResource {
    pub id: String,
    pub type_: String,
    /// Disks of a server that are not backed up, sorted.
    pub exclude_volumes: Vec<String>,
}

/// Everything needed to create a vault.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct VaultCreate {
    pub name: String,
    pub description: Option<String>,
    pub consistent_level: String,
    pub object_type: String,
    pub protect_type: String,
    pub size_gb: i64,
    pub cloud_type: Option<String>,
    pub is_multi_az: Option<bool>,
    pub auto_bind: Option<bool>,
    pub bind_rules: Option<Vec<Tag>>,
    pub auto_expand: Option<bool>,
    pub smn_notify: Option<bool>,
    pub threshold: Option<i32>,
    pub locked: Option<bool>,
    /// Includes the ownership tag.
    pub tags: Vec<Tag>,
    pub resources: Vec<VaultResource>,
    pub enterprise_project_id: Option<String>,
}

/// The changeable fields of a vault; `None` means "leave as it is".
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct VaultUpdate {
    pub name: Option<String>,
    pub consistent_level: Option<String>,
    pub size_gb: Option<i64>,
    pub auto_bind: Option<bool>,
    /// `Some(vec![])` clears the rules.
    pub bind_rules: Option<Vec<Tag>>,
    pub auto_expand: Option<bool>,
    pub smn_notify: Option<bool>,
    pub threshold: Option<i32>,
    pub locked: Option<bool>,
}

impl VaultUpdate {
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// A vault as the provider reports it.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Vault {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// `available`, `lock`, `frozen`, `deleting` or `error`.
    pub status: String,
    pub consistent_level: String,
    pub object_type: String,
    pub protect_type: String,
    pub cloud_type: Option<String>,
    pub is_multi_az: bool,
    pub size_gb: i64,
    pub allocated_gb: Option<i64>,
    pub used_mb: Option<i64>,
    pub spec_code: Option<String>,
    pub created_at: Option<String>,
    pub auto_bind: bool,
    pub bind_rules: Vec<Tag>,
    pub auto_expand: bool,
    pub smn_notify: bool,
    pub threshold: i32,
    pub locked: bool,
    pub tags: Vec<Tag>,
    pub resources: Vec<ObservedVaultResource>,
    pub enterprise_project_id: Option<String>,
}

/// A resource in a vault as the provider reports it.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ObservedVaultResource {
    pub id: String,
    pub type_: String,
    pub exclude_volumes: Vec<String>,
    pub protect_status: Option<String>,
}

/// CBR vaults in one Huawei Cloud project.
#[async_trait]
pub trait CbrVaultApi: Send + Sync {
    /// Creates a vault and returns it as created.
    async fn create(&self, vault: &VaultCreate) -> Result<Vault, ProviderError>;
    /// Reads one vault; `NotFound` when it does not exist.
    async fn get(&self, id: &str) -> Result<Vault, ProviderError>;
    /// Every vault whose name is exactly `name`, across all pages.
    async fn find_by_name(&self, name: &str) -> Result<Vec<Vault>, ProviderError>;
    /// Changes only the fields set in `update`.
    async fn update(&self, id: &str, update: &VaultUpdate) -> Result<Vault, ProviderError>;
    /// Starts deleting a vault. A vault that is already gone is success.
    async fn delete(&self, id: &str) -> Result<(), ProviderError>;
    /// Adds or overwrites tags.
    async fn add_tags(&self, id: &str, tags: &[Tag]) -> Result<(), ProviderError>;
    /// Removes tags by key.
    async fn remove_tags(&self, id: &str, tags: &[Tag]) -> Result<(), ProviderError>;
    /// Associates resources with the vault.
    async fn add_resources(
        &self,
        id: &str,
        resources: &[VaultResource],
    ) -> Result<(), ProviderError>;
    /// Dissociates resources (and deletes their backups in the vault).
    async fn remove_resources(
        &self,
        id: &str,
        resource_ids: &[String],
    ) -> Result<(), ProviderError>;
    /// One cheap authenticated call, to check that the credentials work.
    async fn check_credentials(&self) -> Result<(), ProviderError>;
    /// Vault `id` as a listing of every vault of the project, at most
    /// `max_age` old, shows it (see [`crate::provider::snapshot`]): what a
    /// drift check reads. A client that keeps no listing answers
    /// `Unknown`, and the caller reads the vault by id.
    async fn listed(&self, _id: &str, _max_age: Duration) -> Result<Listed<Vault>, ProviderError> {
        Ok(Listed::Unknown)
    }
}
