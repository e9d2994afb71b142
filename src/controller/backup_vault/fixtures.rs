//! Test fixtures: a spec and the vault that matches it. The fake provider
//! is [`crate::provider::memory::MemoryVaults`].

use super::huawei::plan::owner_tag;
use crate::api::backup_vault::{
    ConsistentLevel, HuaweiBilling, HuaweiVault, ObjectType, ProtectType,
};
use crate::provider::huawei::cbr::{ObservedVaultResource, Vault};

pub const UID: &str = "6f1d2c3b-0000-4000-8000-000000000001";

/// A small server-backup vault with everything optional left out.
pub fn spec() -> HuaweiVault {
    HuaweiVault {
        name: "team-a-vault".into(),
        description: None,
        billing: HuaweiBilling {
            consistent_level: ConsistentLevel::CrashConsistent,
            object_type: ObjectType::Server,
            protect_type: ProtectType::Backup,
            size: 100,
            cloud_type: None,
            is_multi_az: None,
        },
        auto_bind: None,
        bind_rules: None,
        auto_expand: None,
        smn_notify: None,
        threshold: None,
        locked: None,
        tags: None,
        resources: None,
        enterprise_project_id: None,
    }
}

/// The vault CBR reports for [`spec`], with its defaults and the ownership tag.
pub fn vault(id: &str) -> Vault {
    Vault {
        id: id.into(),
        name: "team-a-vault".into(),
        description: None,
        status: "available".into(),
        consistent_level: "crash_consistent".into(),
        object_type: "server".into(),
        protect_type: "backup".into(),
        cloud_type: Some("public".into()),
        is_multi_az: false,
        size_gb: 100,
        allocated_gb: Some(0),
        used_mb: Some(0),
        spec_code: Some("vault.backup.server.normal".into()),
        created_at: Some("2026-01-02T03:04:05Z".into()),
        auto_bind: false,
        bind_rules: vec![],
        auto_expand: false,
        smn_notify: true,
        threshold: 80,
        locked: false,
        tags: vec![owner_tag(UID)],
        resources: vec![],
        enterprise_project_id: Some("0".into()),
    }
}

pub fn resource(id: &str) -> ObservedVaultResource {
    ObservedVaultResource {
        id: id.into(),
        type_: "OS::Nova::Server".into(),
        exclude_volumes: vec![],
        protect_status: Some("available".into()),
    }
}
