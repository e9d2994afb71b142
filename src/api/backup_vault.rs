//! `BackupVault`: a backup vault on a cloud: a Huawei Cloud CBR vault, a
//! Commvault S3 vault (`commvault.rs`), or the vault of a Rackspace Cloud
//! Backup agent (`rackspace.rs`); one provider block per object.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub mod commvault;
pub mod rackspace;

pub use self::commvault::{
    CommvaultEndpoint, CommvaultPlanRef, CommvaultVault, CommvaultVaultObservation,
};
pub use self::rackspace::*;
use super::managed::{ManagedStatus, ManagementPolicy};
use super::{DeletionPolicy, OWNERSHIP_TAG, ProviderConfigRef};

/// A backup vault that coffer creates, keeps as declared, and deletes.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "coffer.dev",
    version = "v1alpha1",
    kind = "BackupVault",
    doc = "A backup vault in a cloud that coffer keeps as declared: a Huawei Cloud CBR vault or a Commvault S3 vault it creates and deletes, or the vault of a Rackspace Cloud Backup agent whose encryption and agent settings it manages.",
    namespaced,
    status = "BackupVaultStatus",
    shortname = "bv",
    category = "coffer",
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"SYNCED","type":"string","jsonPath":".status.conditions[?(@.type==\"Synced\")].status"}"#,
    printcolumn = r#"{"name":"EXTERNAL-ID","type":"string","jsonPath":".status.externalId"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name":"POLICY","type":"string","priority":1,"jsonPath":".spec.managementPolicy"}"#,
    printcolumn = r#"{"name":"REASON","type":"string","priority":1,"jsonPath":".status.conditions[?(@.type==\"Synced\")].reason"}"#
)]
#[serde(rename_all = "camelCase")]
// One entry per provider block.
#[x_kube(validation = Rule::new("[has(self.huaweiCloud), has(self.rackspace), has(self.commvault)].exists_one(p, p)").message(
    "spec must set exactly one provider block: huaweiCloud, rackspace or commvault."
))]
// A vault never moves between clouds: the old one would be left unmanaged.
#[x_kube(validation = Rule::new("has(self.huaweiCloud) == has(oldSelf.huaweiCloud) && has(self.rackspace) == has(oldSelf.rackspace) && has(self.commvault) == has(oldSelf.commvault)").message(
    "the provider block of an existing BackupVault cannot change: create a new BackupVault for a vault on another cloud."
))]
pub struct BackupVaultSpec {
    /// The ProviderConfig, in this namespace, that says where the cloud is
    /// and holds the credentials.
    pub provider_config_ref: ProviderConfigRef,
    /// `Delete` (default) deletes the vault, and every backup in it, when this
    /// object is deleted; `Orphan` leaves the vault in the cloud. On
    /// Rackspace the vault belongs to the agent and Cloud Backup cannot
    /// delete it: `Delete` and `Orphan` both leave the agent's vault and its
    /// encryption in place. On Commvault, which documents no S3-vault delete, `Delete` retires the
    /// vault's client entity and then deletes it (`POST Client/{id}/Retire`,
    /// `DELETE Client/{id}`): a path inferred from the vault being a client
    /// entity, not documented for S3 vaults.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// `Full` (default): coffer creates, updates and deletes the vault.
    /// `ObserveOnly`: coffer only reads it (import an existing vault with the
    /// `coffer.dev/external-id` annotation, or by a name only one vault has)
    /// and reports the plan and drift without acting.
    #[serde(default)]
    pub management_policy: ManagementPolicy,
    // The provider blocks are boxed: an object sets one, and an absent
    // block then costs a pointer instead of its whole size in every cached
    // object (hundreds of bytes each, megabytes at 10,000 objects).
    /// A Huawei Cloud CBR vault (`/v3/{project_id}/vaults`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub huawei_cloud: Option<Box<HuaweiVault>>,
    /// The vault of a Rackspace Cloud Backup agent: its encryption and the
    /// agent's settings. The vault itself is made when the agent registers
    /// and is never deleted by coffer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rackspace: Option<Box<RackspaceVault>>,
    /// A Commvault S3 vault (Unified Data Vault, `POST V4/CVS3Store`) with
    /// the clients that serve it as S3 endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commvault: Option<Box<CommvaultVault>>,
}

/// A CBR vault as the user wants it. Fields left out keep the provider's default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
// Transition rules: CBR has no way to change these after creation. Comparing
// with the provider's defaults lets a user write out a default they had left
// out, which changes nothing, while any real change is refused.
#[x_kube(validation = Rule::new("!(has(oldSelf.locked) && oldSelf.locked) || (has(self.locked) && self.locked)")
    .message("huaweiCloud.locked cannot be set back to false or removed once it is true: CBR never unlocks a locked vault.")
    .field_path(".locked"))]
#[x_kube(validation = Rule::new("(has(self.description) ? self.description : '') == (has(oldSelf.description) ? oldSelf.description : '')")
    .message("huaweiCloud.description cannot be changed, added or removed after the vault is created: CBR cannot change a vault's description.")
    .field_path(".description"))]
#[x_kube(validation = Rule::new("(has(self.enterpriseProjectId) ? self.enterpriseProjectId : '0') == (has(oldSelf.enterpriseProjectId) ? oldSelf.enterpriseProjectId : '0')")
    .message("huaweiCloud.enterpriseProjectId cannot be changed after the vault is created (left out, it means '0'): CBR moves vaults between enterprise projects only through its migration API.")
    .field_path(".enterpriseProjectId"))]
pub struct HuaweiVault {
    /// Vault name: 1 to 64 letters, digits, CJK characters, `_` or `-`.
    /// Can be changed.
    #[schemars(length(min = 1, max = 64))]
    #[x_kube(validation = Rule::new(r"self.matches('^[\\p{Han}A-Za-z0-9_-]+$')").message(
        "huaweiCloud.name may contain only letters, digits, CJK characters, '_' and '-'."
    ))]
    pub name: String,
    /// Free text, up to 64 characters, without `<` or `>`. Set at creation;
    /// CBR cannot change it afterwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    #[x_kube(validation = Rule::new("!self.matches('[<>]')").message(
        "huaweiCloud.description must not contain '<' or '>'."
    ))]
    pub description: Option<String>,
    /// Capacity and kind of the vault. Pay-per-use (post-paid) only.
    pub billing: HuaweiBilling,
    /// Associate new resources that match `bindRules` automatically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_bind: Option<bool>,
    /// Which resources `autoBind` picks up, by tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_rules: Option<HuaweiBindRules>,
    /// Grow the vault automatically when it fills up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_expand: Option<bool>,
    /// Send SMN notifications when usage crosses `threshold`. Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smn_notify: Option<bool>,
    /// Usage percentage (1 to 100) above which CBR notifies. Default 80.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub threshold: Option<i32>,
    /// Lock the vault against backup deletion. Once true it can never be
    /// set back to false, nor removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked: Option<bool>,
    /// Tags on the vault: at most 10, with unique keys. coffer adds its own
    /// ownership tag, `coffer-uid`, which is reserved and not listed here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 10))]
    #[x_kube(validation = Rule::new("self.all(t, self.exists_one(u, u.key == t.key))").message(
        "huaweiCloud.tags must not repeat a key."
    ))]
    #[x_kube(validation = Rule::new(format!("self.all(t, t.key != '{OWNERSHIP_TAG}')")).message(
        format!("huaweiCloud.tags must not use the key {OWNERSHIP_TAG}: coffer sets that tag itself to mark the vaults it owns.").as_str()
    ))]
    pub tags: Option<Vec<HuaweiTag>>,
    /// Resources (servers, disks, file systems) the vault backs up: at most
    /// 255, each ID at most once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    #[x_kube(validation = Rule::new("self.all(r, self.exists_one(s, s.id == r.id))").message(
        "huaweiCloud.resources must not list the same resource id twice."
    ))]
    pub resources: Option<Vec<HuaweiResource>>,
    /// Enterprise project the vault belongs to. Default `0`, the default
    /// project. Set at creation; CBR cannot change it afterwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub enterprise_project_id: Option<String>,
}

/// Vault specification and capacity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("(has(self.cloudType) ? self.cloudType : 'public') == (has(oldSelf.cloudType) ? oldSelf.cloudType : 'public')")
    .message("huaweiCloud.billing.cloudType cannot be changed after the vault is created (left out, it means public).")
    .field_path(".cloudType"))]
#[x_kube(validation = Rule::new("(has(self.isMultiAz) && self.isMultiAz) == (has(oldSelf.isMultiAz) && oldSelf.isMultiAz)")
    .message("huaweiCloud.billing.isMultiAz cannot be changed after the vault is created (left out, it means false).")
    .field_path(".isMultiAz"))]
pub struct HuaweiBilling {
    /// `crash_consistent` or `app_consistent` (application-consistent backups).
    pub consistent_level: ConsistentLevel,
    /// What the vault backs up: `server`, `disk`, `turbo`, `workspace`,
    /// `vmware`, `rds` or `file`. Cannot change once set.
    #[x_kube(validation = Rule::new("self == oldSelf").message(
        "huaweiCloud.billing.objectType cannot be changed after the vault is created."
    ))]
    pub object_type: ObjectType,
    /// `backup` or `replication`. Cannot change once set.
    #[x_kube(validation = Rule::new("self == oldSelf").message(
        "huaweiCloud.billing.protectType cannot be changed after the vault is created."
    ))]
    pub protect_type: ProtectType,
    /// Capacity in GB, 10 to 10485760. Can be changed.
    #[schemars(range(min = 10, max = 10485760))]
    pub size: i64,
    /// `public` (default) or `hybrid`. Cannot change once set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_type: Option<CloudType>,
    /// Keep backups in several availability zones. Cannot change once set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_multi_az: Option<bool>,
}

/// Backup consistency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsistentLevel {
    CrashConsistent,
    AppConsistent,
}

/// What a vault backs up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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

/// Whether the vault holds backups or replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProtectType {
    Backup,
    Replication,
}

/// Public or hybrid cloud.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloudType {
    Public,
    Hybrid,
}

/// Tag filters for automatic association.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HuaweiBindRules {
    /// At most 5 tags; a resource carrying any of them is associated. An
    /// empty list clears the rules.
    #[serde(default)]
    #[schemars(length(max = 5))]
    pub tags: Vec<HuaweiTag>,
}

/// A key and value.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, KubeSchema,
)]
pub struct HuaweiTag {
    /// 1 to 36 letters, digits, `_` or `-`.
    #[schemars(length(min = 1, max = 36))]
    #[x_kube(validation = Rule::new("self.matches('^[A-Za-z0-9_-]+$')").message(
        "a tag key may contain only letters, digits, '_' and '-'."
    ))]
    pub key: String,
    /// 0 to 43 letters, digits, `_`, `-` or `.`.
    #[serde(default)]
    #[schemars(length(max = 43))]
    #[x_kube(validation = Rule::new("self.matches('^[A-Za-z0-9_.-]*$')").message(
        "a tag value may contain only letters, digits, '_', '.' and '-'."
    ))]
    pub value: String,
}

/// A resource the vault protects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HuaweiResource {
    /// ID of the server, disk or file system (at most 64 characters).
    #[schemars(length(min = 1, max = 64))]
    pub id: String,
    /// `OS::Nova::Server`, `OS::Cinder::Volume`, `OS::Ironic::BareMetalServer`,
    /// `OS::Native::Server`, `OS::Sfs::Turbo` or `OS::Workspace::DesktopV2`.
    #[serde(rename = "type")]
    #[schemars(extend("enum" = RESOURCE_TYPES))]
    pub type_: String,
    /// For a server: IDs of its disks not to back up.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_volumes: Vec<String>,
}

/// The resource types CBR accepts in a vault.
pub const RESOURCE_TYPES: [&str; 6] = [
    "OS::Nova::Server",
    "OS::Cinder::Volume",
    "OS::Ironic::BareMetalServer",
    "OS::Native::Server",
    "OS::Sfs::Turbo",
    "OS::Workspace::DesktopV2",
];

/// What coffer last saw of the vault: the shared managed status with the
/// vault's observation as `atProvider`.
pub type BackupVaultStatus = ManagedStatus<VaultObservation>;

/// The observed vault.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VaultObservation {
    /// `available`, `lock`, `frozen`, `deleting` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Capacity in GB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_gb: Option<i64>,
    /// Allocated capacity in GB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocated_gb: Option<i64>,
    /// Used capacity in MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_mb: Option<i64>,
    /// Specification code, such as `vault.backup.server.normal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_code: Option<String>,
    /// When the provider created the vault (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Resources associated with the vault.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ObservedResource>,
    // Boxed, like the spec's provider blocks: absent, a pointer.
    /// Rackspace: the agent, its vault and the vault's encryption (never the
    /// passphrase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rackspace: Option<Box<RackspaceVaultObservation>>,
    /// A Commvault S3 vault and its endpoint job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commvault: Option<Box<CommvaultVaultObservation>>,
}

/// A resource as the provider reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObservedResource {
    /// Resource ID.
    pub id: String,
    /// Resource type.
    #[serde(rename = "type")]
    pub type_: String,
    /// Protection status, such as `available`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protect_status: Option<String>,
}
