//! CBR request bodies as the API defines them (VaultCreate, VaultUpdate, tag
//! and resource bodies) plus the enums shared with the store. Unknown fields
//! are refused, as a schema-validating service refuses them, so a client
//! that sends a field the API does not have finds out here.

use serde::{Deserialize, Serialize};

/// `billing.consistent_level`
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsistentLevel {
    CrashConsistent,
    AppConsistent,
}

/// `billing.object_type`: what kind of resource the vault protects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectType {
    Server,
    Disk,
    Turbo,
    Workspace,
    Vmware,
    Rds,
    File,
}

/// `billing.protect_type`
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProtectType {
    Backup,
    Replication,
}

/// `billing.cloud_type`
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloudType {
    #[default]
    Public,
    Hybrid,
}

/// `billing.charging_mode`
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargingMode {
    #[default]
    PostPaid,
    PrePaid,
}

/// `resources[].type`
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceType {
    #[serde(rename = "OS::Nova::Server")]
    NovaServer,
    #[serde(rename = "OS::Cinder::Volume")]
    CinderVolume,
    #[serde(rename = "OS::Ironic::BareMetalServer")]
    BareMetalServer,
    #[serde(rename = "OS::Native::Server")]
    NativeServer,
    #[serde(rename = "OS::Sfs::Turbo")]
    SfsTurbo,
    #[serde(rename = "OS::Workspace::DesktopV2")]
    WorkspaceDesktop,
}

impl ResourceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::NovaServer => "OS::Nova::Server",
            ResourceType::CinderVolume => "OS::Cinder::Volume",
            ResourceType::BareMetalServer => "OS::Ironic::BareMetalServer",
            ResourceType::NativeServer => "OS::Native::Server",
            ResourceType::SfsTurbo => "OS::Sfs::Turbo",
            ResourceType::WorkspaceDesktop => "OS::Workspace::DesktopV2",
        }
    }
}

/// `POST /v3/{project_id}/vaults`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateVaultBody {
    pub vault: VaultCreate,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultCreate {
    pub name: String,
    pub billing: BillingCreate,
    pub resources: Vec<ResourceCreate>,
    pub description: Option<String>,
    pub tags: Option<Vec<TagBody>>,
    pub backup_policy_id: Option<String>,
    pub enterprise_project_id: Option<String>,
    pub auto_bind: Option<bool>,
    pub bind_rules: Option<BindRules>,
    pub auto_expand: Option<bool>,
    pub threshold: Option<i64>,
    pub smn_notify: Option<bool>,
    pub backup_name_prefix: Option<String>,
    pub demand_billing: Option<bool>,
    pub sys_lock_source_service: Option<String>,
    pub locked: Option<bool>,
    pub availability_zone: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillingCreate {
    pub consistent_level: ConsistentLevel,
    pub object_type: ObjectType,
    pub protect_type: ProtectType,
    pub size: i64,
    pub cloud_type: Option<CloudType>,
    pub charging_mode: Option<ChargingMode>,
    pub is_multi_az: Option<bool>,
    /// The pre-paid order fields: type-checked, then unused, because pre-paid
    /// vaults are refused.
    #[expect(dead_code, reason = "accepted for the schema only")]
    pub period_type: Option<String>,
    #[expect(dead_code, reason = "accepted for the schema only")]
    pub period_num: Option<i64>,
    #[expect(dead_code, reason = "accepted for the schema only")]
    pub is_auto_renew: Option<bool>,
    #[expect(dead_code, reason = "accepted for the schema only")]
    pub is_auto_pay: Option<bool>,
    #[expect(dead_code, reason = "accepted for the schema only")]
    pub console_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceCreate {
    pub id: String,
    #[serde(rename = "type")]
    pub resource_type: ResourceType,
    pub name: Option<String>,
    pub extra_info: Option<ResourceExtraInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceExtraInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_volumes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_volumes: Option<Vec<IncludeVolume>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncludeVolume {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
}

/// A tag as sent; `value` is required when adding and optional when deleting.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagBody {
    pub key: String,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindRules {
    pub tags: Option<Vec<TagBody>>,
}

/// `PUT /v3/{project_id}/vaults/{vault_id}`: every field optional, and only
/// the documented ones accepted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateVaultBody {
    pub vault: VaultUpdate,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultUpdate {
    pub name: Option<String>,
    pub billing: Option<BillingUpdate>,
    pub auto_bind: Option<bool>,
    pub bind_rules: Option<BindRules>,
    pub auto_expand: Option<bool>,
    pub smn_notify: Option<bool>,
    pub threshold: Option<i64>,
    pub locked: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillingUpdate {
    pub consistent_level: Option<ConsistentLevel>,
    pub size: Option<i64>,
}

/// `POST /v3/{project_id}/vault/{vault_id}/tags`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTagBody {
    pub tag: TagBody,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagAction {
    Create,
    Delete,
}

/// `POST /v3/{project_id}/vault/{vault_id}/tags/action`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchTagsBody {
    pub action: TagAction,
    pub tags: Option<Vec<TagBody>>,
    pub sys_tags: Option<Vec<TagBody>>,
}

/// `POST /v3/{project_id}/vaults/{vault_id}/addresources`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddResourcesBody {
    pub resources: Vec<ResourceCreate>,
}

/// `POST /v3/{project_id}/vaults/{vault_id}/removeresources`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveResourcesBody {
    pub resource_ids: Vec<String>,
}
