//! Renders stored vaults in the response shape of CBR's `Vault` model (seed
//! 003), field for field, so the official SDK deserializes them and Rust
//! clients meet the same quirks (`used` in MB, millisecond `+00:00` times).

use jiff::Timestamp;
use serde_json::{Value, json};

use super::model::{Resource, Tag, VaultRecord};
use super::wire::{CloudType, ObjectType, ProtectType};
use crate::emulator::huawei::identity::Identity;

/// The emulator does not know real resource sizes; every resource reports
/// this many GB, and `billing.allocated` is their sum.
pub const RESOURCE_SIZE_GB: u64 = 40;

/// `provider_id`: the backup-provider UUID of the vault's object type. The
/// server and disk ids are Huawei's; the others are stand-ins.
fn provider_id(object_type: ObjectType) -> &'static str {
    match object_type {
        ObjectType::Server => "0daac4c5-6707-4851-97ba-169e36266b66",
        ObjectType::Disk => "d1603440-187d-4516-af25-121250c7cc97",
        ObjectType::Turbo => "3f3c3220-245c-4805-b811-758870015881",
        ObjectType::Workspace => "5c5e3a15-25e1-4a3a-b4b8-7f6e5d1c2b3a",
        ObjectType::Vmware => "6a2b1c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        ObjectType::Rds => "7b3c2d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e",
        ObjectType::File => "8c4d3e5f-6a7b-4c8d-8e9f-1a2b3c4d5e6f",
    }
}

/// `billing.spec_code`. The server, volume, turbo, database, hybrid-server
/// and replication-server codes are documented; the rest follow the pattern.
fn spec_code(
    object_type: ObjectType,
    protect_type: ProtectType,
    cloud_type: CloudType,
) -> &'static str {
    match (object_type, protect_type, cloud_type) {
        (ObjectType::Server, ProtectType::Replication, _) => "vault.replication.server.normal",
        (ObjectType::Server, _, CloudType::Hybrid) => "vault.hybrid.server.normal",
        (ObjectType::Server, _, _) => "vault.backup.server.normal",
        (ObjectType::Disk, ProtectType::Replication, _) => "vault.replication.volume.normal",
        (ObjectType::Disk, _, _) => "vault.backup.volume.normal",
        (ObjectType::Turbo, ProtectType::Replication, _) => "vault.replication.turbo.normal",
        (ObjectType::Turbo, _, _) => "vault.backup.turbo.normal",
        (ObjectType::Rds, _, _) => "vault.backup.database.normal",
        (ObjectType::Workspace, _, _) => "vault.backup.workspace.normal",
        (ObjectType::Vmware, _, _) => "vault.hybrid.vmware.normal",
        (ObjectType::File, _, _) => "vault.backup.file.normal",
    }
}

/// CBR's time format: milliseconds and an explicit `+00:00`.
pub fn cbr_time(ts: Timestamp) -> String {
    format!(
        "{}.{:03}+00:00",
        ts.strftime("%Y-%m-%dT%H:%M:%S"),
        ts.subsec_millisecond()
    )
}

pub fn tags(tags: &[Tag]) -> Value {
    Value::Array(
        tags.iter()
            .map(|t| json!({"key": t.key, "value": t.value}))
            .collect(),
    )
}

fn resource(r: &Resource) -> Value {
    let mut extra_info = json!({
        "exclude_volumes": r.extra_info.exclude_volumes.clone().unwrap_or_default(),
    });
    if let Some(include) = &r.extra_info.include_volumes {
        extra_info["include_volumes"] = json!(include);
    }
    json!({
        "id": r.id,
        "name": r.name,
        "type": r.resource_type.as_str(),
        "protect_status": "available",
        "size": RESOURCE_SIZE_GB,
        "backup_size": 0,
        "backup_count": 0,
        "extra_info": extra_info,
    })
}

/// The `Vault` object of show, list and update responses.
pub fn vault(record: &VaultRecord, identity: &Identity) -> Value {
    let s = &record.settings;
    let b = &s.billing;
    let mut vault = json!({
        "id": record.id.to_string(),
        "name": s.name,
        "project_id": record.project_id,
        "provider_id": provider_id(b.object_type),
        "user_id": identity.user_id,
        "created_at": cbr_time(record.created_at),
        "enterprise_project_id": s.enterprise_project_id,
        "auto_bind": s.auto_bind,
        "bind_rules": {"tags": tags(&s.bind_rules)},
        "auto_expand": s.auto_expand,
        "smn_notify": s.smn_notify,
        "threshold": s.threshold,
        "locked": s.locked,
        "sys_lock_source_service": s.sys_lock_source_service.clone().unwrap_or_default(),
        "tags": tags(&record.tags),
        "resources": record.resources.iter().map(resource).collect::<Vec<_>>(),
        "billing": {
            "allocated": RESOURCE_SIZE_GB * record.resources.len() as u64,
            "charging_mode": b.charging_mode,
            "cloud_type": b.cloud_type,
            "consistent_level": b.consistent_level,
            "object_type": b.object_type,
            "protect_type": b.protect_type,
            "size": b.size,
            "spec_code": spec_code(b.object_type, b.protect_type, b.cloud_type),
            "status": record.status(),
            "used": 0,
            "is_multi_az": b.is_multi_az,
        },
    });
    if let Some(description) = &s.description {
        vault["description"] = json!(description);
    }
    if let Some(zone) = &s.availability_zone {
        vault["availability_zone"] = json!(zone);
    }
    vault
}

/// The create response (`VaultCreateResource`): the vault plus the fields
/// only creation reports.
pub fn created_vault(record: &VaultRecord, identity: &Identity) -> Value {
    let mut created = vault(record, identity);
    created["backup_name_prefix"] = json!(
        record
            .settings
            .backup_name_prefix
            .clone()
            .unwrap_or_default()
    );
    created["demand_billing"] = json!(record.settings.demand_billing);
    created["cbc_delete_count"] = json!(0);
    created["frozen"] = json!(false);
    created
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbr_time_has_milliseconds_and_offset() {
        let ts: Timestamp = "2019-05-08T09:31:21.84Z".parse().expect("valid");
        assert_eq!(cbr_time(ts), "2019-05-08T09:31:21.840+00:00");
    }

    #[test]
    fn spec_codes_follow_object_and_protect_type() {
        assert_eq!(
            spec_code(ObjectType::Server, ProtectType::Backup, CloudType::Public),
            "vault.backup.server.normal"
        );
        assert_eq!(
            spec_code(ObjectType::Disk, ProtectType::Backup, CloudType::Public),
            "vault.backup.volume.normal"
        );
    }
}
