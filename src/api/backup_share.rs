//! `BackupShare`: one side of sharing a CBR backup between projects. The
//! `owner` side shares a backup of its own project with member projects;
//! the `receiver` side, in a member project, accepts the shared backup into
//! one of its vaults or rejects it. Each side is applied with its own
//! ProviderConfig (its own project and credentials).

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::managed::{ManagedStatus, ManagementPolicy};
use super::{DNS1123_SUBDOMAIN_RULE, DeletionPolicy, ProviderConfigRef};

/// The most member projects one BackupShare lists. CBR takes 1 to 10 per
/// add call and documents no total; coffer bounds the set so the
/// uniqueness rule stays within the API server's CEL cost budget.
pub const MAX_MEMBERS: u32 = 100;

/// CEL: a CBR backup or vault id, a lower-case UUID.
const UUID_RULE: &str =
    "self.matches('^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')";

/// A CBR backup shared with other projects, or received from one.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "coffer.dev",
    version = "v1alpha1",
    kind = "BackupShare",
    doc = "One side of sharing a Huawei Cloud CBR backup between projects: the owner shares it with member projects, a receiver accepts it into a vault of its own or rejects it.",
    namespaced,
    status = "BackupShareStatus",
    shortname = "bs",
    category = "coffer",
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"SYNCED","type":"string","jsonPath":".status.conditions[?(@.type==\"Synced\")].status"}"#,
    printcolumn = r#"{"name":"SHARES","type":"string","description":"Owner side: the backup shared","jsonPath":".spec.owner.backupId"}"#,
    printcolumn = r#"{"name":"RECEIVES","type":"string","description":"Receiver side: the backup accepted or rejected","jsonPath":".spec.receiver.backupId"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name":"DECISION","type":"string","priority":1,"jsonPath":".spec.receiver.decision"}"#,
    printcolumn = r#"{"name":"REASON","type":"string","priority":1,"jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("[has(self.owner), has(self.receiver)].exists_one(p, p)").message(
    "spec must set exactly one of owner (share a backup of this project) and receiver (accept or reject a backup shared with this project)."
))]
#[x_kube(validation = Rule::new("has(self.owner) == has(oldSelf.owner)").message(
    "spec cannot switch between owner and receiver after creation: delete this BackupShare and create another."
))]
pub struct BackupShareSpec {
    /// The ProviderConfig, in this namespace, of the project this side acts
    /// for: the owner's project, or the receiving project.
    pub provider_config_ref: ProviderConfigRef,
    /// Owner side: `Delete` (default) removes the members coffer added when
    /// this object is deleted; `Orphan` leaves the backup shared. The
    /// receiver side never changes CBR on deletion.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// `Full` (default) acts; `ObserveOnly` only reads and reports the plan.
    #[serde(default)]
    pub management_policy: ManagementPolicy,
    /// Share a backup of this project with other projects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<OwnerShare>,
    /// Accept or reject a backup another project shared with this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<ReceiverShare>,
}

/// The owner's side: which projects the backup is shared with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct OwnerShare {
    /// The backup to share (a UUID): an available backup of a cloud server,
    /// in this ProviderConfig's project. Cannot change after creation.
    #[schemars(length(max = 36))]
    #[x_kube(validation = Rule::new(UUID_RULE).message(
        "owner.backupId must be a CBR backup ID: a lower-case UUID."
    ))]
    #[x_kube(validation = Rule::new("self == oldSelf").message(
        "owner.backupId cannot be changed: create another BackupShare for another backup."
    ))]
    pub backup_id: String,
    /// The projects (32 hex characters each, same region) to share with, as
    /// a set: 1 to 100 ids, each once.
    #[schemars(length(min = 1, max = MAX_MEMBERS))]
    #[schemars(extend("x-kubernetes-list-type" = "set"))]
    #[schemars(inner(length(max = 32)))]
    #[x_kube(validation = Rule::new("self.all(m, m.matches('^[0-9a-f]{32}$'))").message(
        "owner.members must be project IDs: exactly 32 lower-case hexadecimal characters each."
    ))]
    pub members: Vec<String>,
}

/// The receiver's side: what to do with a backup shared with this project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.decision == 'Accept' ? [has(self.vaultRef), has(self.vaultId)].exists_one(v, v) : !has(self.vaultRef) && !has(self.vaultId)").message(
    "receiver must name exactly one of vaultRef and vaultId when accepting, and neither when rejecting: an accepted backup is stored in a vault of this project."
))]
pub struct ReceiverShare {
    /// The shared backup (a UUID), as the owner's project knows it. Cannot
    /// change after creation.
    #[schemars(length(max = 36))]
    #[x_kube(validation = Rule::new(UUID_RULE).message(
        "receiver.backupId must be a CBR backup ID: a lower-case UUID."
    ))]
    #[x_kube(validation = Rule::new("self == oldSelf").message(
        "receiver.backupId cannot be changed: create another BackupShare for another backup."
    ))]
    pub backup_id: String,
    /// `Accept` stores the backup in a vault of this project; `Reject`
    /// declines it.
    pub decision: Decision,
    /// A BackupVault in this namespace to accept into; its `externalId` is
    /// used once it is Ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_ref: Option<LocalVaultRef>,
    /// The id (a UUID) of a vault of this project to accept into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 36))]
    #[x_kube(validation = Rule::new(UUID_RULE).message(
        "receiver.vaultId must be a CBR vault ID: a lower-case UUID."
    ))]
    pub vault_id: Option<String>,
}

/// What the receiving project does with the shared backup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Decision {
    Accept,
    Reject,
}

/// A BackupVault in the same namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
pub struct LocalVaultRef {
    /// Name of a BackupVault in this namespace.
    #[schemars(length(min = 1, max = 253))]
    #[x_kube(validation = Rule::new(DNS1123_SUBDOMAIN_RULE).message(
        "receiver.vaultRef.name must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit."
    ))]
    pub name: String,
}

/// What coffer last saw of the share.
pub type BackupShareStatus = ManagedStatus<ShareObservation>;

/// The share as CBR reports it: the backup, and the owner's member list or
/// the receiver's own member record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShareObservation {
    /// `available`, `protecting`, `deleting`, … or `deleted` once CBR no
    /// longer knows the backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_status: Option<String>,
    /// Owner side: every member of the backup.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<MemberObservation>,
    /// Receiver side: this project's member record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<MemberObservation>,
}

/// One member record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberObservation {
    /// The member project.
    pub project_id: String,
    /// `pending`, `accepted` or `rejected`.
    pub status: String,
    /// The receiver's vault holding the accepted backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_id: Option<String>,
    /// The image registered from the accepted backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    /// When the member last changed, as CBR reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}
