//! The vault as the emulator stores it: validated, typed and compact (enums
//! instead of strings, no rendered JSON), so ten thousand vaults cost a few
//! megabytes.

use jiff::Timestamp;
use uuid::Uuid;

use super::wire::{
    ChargingMode, CloudType, ConsistentLevel, ObjectType, ProtectType, ResourceExtraInfo,
    ResourceType,
};

/// A tag after trimming and validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// A resource associated with a vault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    pub id: String,
    pub resource_type: ResourceType,
    pub name: String,
    pub extra_info: ResourceExtraInfo,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Billing {
    pub consistent_level: ConsistentLevel,
    pub object_type: ObjectType,
    pub protect_type: ProtectType,
    pub cloud_type: CloudType,
    pub charging_mode: ChargingMode,
    /// GB.
    pub size: u32,
    pub is_multi_az: bool,
}

/// Everything about a vault that the client chooses with create and update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultSettings {
    pub name: String,
    pub description: Option<String>,
    pub billing: Billing,
    pub auto_bind: bool,
    pub bind_rules: Vec<Tag>,
    pub auto_expand: bool,
    pub smn_notify: bool,
    pub threshold: u8,
    pub locked: bool,
    pub enterprise_project_id: String,
    pub backup_policy_id: Option<String>,
    pub backup_name_prefix: Option<String>,
    pub sys_lock_source_service: Option<String>,
    pub availability_zone: Option<String>,
    pub demand_billing: bool,
}

/// A validated create request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewVault {
    pub settings: VaultSettings,
    pub resources: Vec<Resource>,
    pub tags: Vec<Tag>,
}

/// A stored vault.
#[derive(Clone, Debug)]
pub struct VaultRecord {
    pub id: Uuid,
    /// The project that created it: the only one that sees it, as in CBR.
    pub project_id: String,
    pub created_at: Timestamp,
    /// Set by DELETE; the vault disappears when the delete delay has passed.
    pub deleting: bool,
    pub settings: VaultSettings,
    /// What the API shows now; add/remove change it only after a delay.
    pub resources: Vec<Resource>,
    pub tags: Vec<Tag>,
}

impl VaultRecord {
    /// `billing.status`: post-paid vaults are `available` from creation on.
    pub fn status(&self) -> &'static str {
        if self.deleting {
            "deleting"
        } else {
            "available"
        }
    }
}
