//! Translation between the neutral vault types a controller plans with and
//! CBR's wire bodies. Lists come back sorted, so that comparing what a
//! controller wants with what CBR reports does not depend on the order CBR
//! happened to answer in.

use super::cbr::{ObservedVaultResource, Tag, Vault, VaultCreate, VaultResource, VaultUpdate};
use super::wire::{
    CreateBilling, CreateVault, ResourceCreate, UpdateBilling, UpdateVault, VaultSettings,
    WireBindRules, WireExtraInfo, WireResource, WireTag, WireVault, parse_timestamp,
};

/// CBR's defaults for fields it may leave out of an answer.
const DEFAULT_THRESHOLD: i32 = 80;
const DEFAULT_SMN_NOTIFY: bool = true;

/// A vault as a controller sees it.
pub fn vault_from_wire(w: WireVault) -> Vault {
    let billing = w.billing.unwrap_or_default();
    let mut resources: Vec<ObservedVaultResource> =
        w.resources.into_iter().map(resource_from_wire).collect();
    resources.sort_by(|a, b| a.id.cmp(&b.id));
    Vault {
        id: w.id,
        name: w.name.unwrap_or_default(),
        description: w.description.filter(|d| !d.is_empty()),
        status: billing.status.unwrap_or_default(),
        consistent_level: billing.consistent_level.unwrap_or_default(),
        object_type: billing.object_type.unwrap_or_default(),
        protect_type: billing.protect_type.unwrap_or_default(),
        cloud_type: billing.cloud_type,
        is_multi_az: billing.is_multi_az.unwrap_or(false),
        size_gb: billing.size.unwrap_or(0),
        allocated_gb: billing.allocated,
        used_mb: billing.used,
        spec_code: billing.spec_code,
        // One form for every form CBR writes; kept as written if unreadable.
        created_at: w
            .created_at
            .map(|s| parse_timestamp(&s).map(|t| t.to_string()).unwrap_or(s)),
        auto_bind: w.auto_bind.unwrap_or(false),
        bind_rules: tags_from_wire(w.bind_rules.unwrap_or_default().tags),
        auto_expand: w.auto_expand.unwrap_or(false),
        smn_notify: w.smn_notify.unwrap_or(DEFAULT_SMN_NOTIFY),
        threshold: w
            .threshold
            .and_then(|t| i32::try_from(t).ok())
            .unwrap_or(DEFAULT_THRESHOLD),
        locked: w.locked.unwrap_or(false),
        tags: tags_from_wire(w.tags),
        resources,
        enterprise_project_id: w.enterprise_project_id,
    }
}

fn resource_from_wire(r: WireResource) -> ObservedVaultResource {
    let mut exclude_volumes = r.extra_info.unwrap_or_default().exclude_volumes;
    exclude_volumes.sort();
    ObservedVaultResource {
        id: r.id,
        type_: r.type_.unwrap_or_default(),
        exclude_volumes,
        protect_status: r.protect_status,
    }
}

/// Tags sorted by key then value; a tag without a key is dropped.
fn tags_from_wire(tags: Vec<WireTag>) -> Vec<Tag> {
    let mut tags: Vec<Tag> = tags
        .into_iter()
        .filter_map(|t| Some(Tag::new(t.key?, t.value.unwrap_or_default())))
        .collect();
    tags.sort();
    tags
}

pub fn tags_to_wire(tags: &[Tag]) -> Vec<WireTag> {
    tags.iter()
        .map(|t| WireTag {
            key: Some(t.key.clone()),
            value: Some(t.value.clone()),
        })
        .collect()
}

fn bind_rules_to_wire(tags: &[Tag]) -> WireBindRules {
    WireBindRules {
        tags: tags_to_wire(tags),
    }
}

/// `extra_info` is sent only when there is something in it: disks and file
/// systems have no volumes to exclude.
pub fn resource_to_wire(r: &VaultResource) -> ResourceCreate {
    ResourceCreate {
        id: r.id.clone(),
        type_: r.type_.clone(),
        extra_info: (!r.exclude_volumes.is_empty()).then(|| WireExtraInfo {
            exclude_volumes: r.exclude_volumes.clone(),
        }),
    }
}

/// The create body; always post-paid.
pub fn create_to_wire(c: &VaultCreate) -> CreateVault {
    CreateVault {
        name: c.name.clone(),
        description: c.description.clone(),
        billing: CreateBilling {
            consistent_level: c.consistent_level.clone(),
            object_type: c.object_type.clone(),
            protect_type: c.protect_type.clone(),
            size: c.size_gb,
            charging_mode: "post_paid",
            cloud_type: c.cloud_type.clone(),
            is_multi_az: c.is_multi_az,
        },
        resources: c.resources.iter().map(resource_to_wire).collect(),
        tags: tags_to_wire(&c.tags),
        settings: VaultSettings {
            auto_bind: c.auto_bind,
            bind_rules: c.bind_rules.as_deref().map(bind_rules_to_wire),
            auto_expand: c.auto_expand,
            smn_notify: c.smn_notify,
            threshold: c.threshold,
            locked: c.locked,
        },
        enterprise_project_id: c.enterprise_project_id.clone(),
    }
}

/// The update body, with exactly the fields that are set.
pub fn update_to_wire(u: &VaultUpdate) -> UpdateVault {
    let billing = (u.consistent_level.is_some() || u.size_gb.is_some()).then(|| UpdateBilling {
        consistent_level: u.consistent_level.clone(),
        size: u.size_gb,
    });
    UpdateVault {
        name: u.name.clone(),
        billing,
        settings: VaultSettings {
            auto_bind: u.auto_bind,
            bind_rules: u.bind_rules.as_deref().map(bind_rules_to_wire),
            auto_expand: u.auto_expand,
            smn_notify: u.smn_notify,
            threshold: u.threshold,
            locked: u.locked,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::huawei::wire::{CreateVaultBody, UpdateVaultBody, VaultEnvelope};
    use serde_json::json;

    /// The example response of seed 003 (Modifying a Vault), as published.
    const SEED_003_RESPONSE: &str = r#"{
      "vault" : {
        "name" : "vault_name02",
        "billing" : {
          "status" : "available", "used" : 0, "protect_type" : "backup",
          "object_type" : "server", "allocated" : 40,
          "spec_code" : "vault.backup.server.normal", "size" : 200,
          "cloud_type" : "public", "consistent_level" : "crash_consistent",
          "charging_mode" : "post_paid"
        },
        "tags" : [ { "value" : "value01", "key" : "key01" } ],
        "created_at" : "2019-05-08T09:31:21.840+00:00",
        "project_id" : "4229d7a45436489f8c3dc2b1d35d4987",
        "enterprise_project_id" : 0,
        "id" : "2402058d-8373-4b0a-b848-d3c0dfdc71a8",
        "resources" : [ {
          "name" : "ecs-1f0f-0003", "protect_status" : "available",
          "extra_info" : { "exclude_volumes" : [ "bdef09bb-293f-446a-88a4-86e9f14408c4" ] },
          "type" : "OS::Nova::Server", "id" : "97595625-198e-4e4d-879b-9d53f68ba551", "size" : 40
        } ],
        "description" : "vault_description"
      }
    }"#;

    #[test]
    fn seed_003_response_maps_to_neutral_vault() {
        let env: VaultEnvelope = serde_json::from_str(SEED_003_RESPONSE).expect("parses");
        let v = vault_from_wire(env.vault);
        assert_eq!(
            v,
            Vault {
                id: "2402058d-8373-4b0a-b848-d3c0dfdc71a8".into(),
                name: "vault_name02".into(),
                description: Some("vault_description".into()),
                status: "available".into(),
                consistent_level: "crash_consistent".into(),
                object_type: "server".into(),
                protect_type: "backup".into(),
                cloud_type: Some("public".into()),
                is_multi_az: false,
                size_gb: 200,
                allocated_gb: Some(40),
                used_mb: Some(0),
                spec_code: Some("vault.backup.server.normal".into()),
                created_at: Some("2019-05-08T09:31:21.84Z".into()),
                auto_bind: false,
                bind_rules: vec![],
                auto_expand: false,
                smn_notify: true,
                threshold: 80,
                locked: false,
                tags: vec![Tag::new("key01", "value01")],
                resources: vec![ObservedVaultResource {
                    id: "97595625-198e-4e4d-879b-9d53f68ba551".into(),
                    type_: "OS::Nova::Server".into(),
                    exclude_volumes: vec!["bdef09bb-293f-446a-88a4-86e9f14408c4".into()],
                    protect_status: Some("available".into()),
                }],
                enterprise_project_id: Some("0".into()),
            }
        );
    }

    #[test]
    fn lists_come_back_sorted() {
        let w: WireVault = serde_json::from_value(json!({
            "id": "v",
            "tags": [{"key": "b", "value": "2"}, {"key": "a", "value": "1"}],
            "bind_rules": {"tags": [{"key": "z", "value": ""}, {"key": "y"}]},
            "resources": [
                {"id": "r2", "type": "OS::Nova::Server", "extra_info": {"exclude_volumes": ["d2", "d1"]}},
                {"id": "r1", "type": "OS::Nova::Server"}
            ]
        }))
        .unwrap();
        let v = vault_from_wire(w);
        assert_eq!(v.tags, vec![Tag::new("a", "1"), Tag::new("b", "2")]);
        assert_eq!(v.bind_rules, vec![Tag::new("y", ""), Tag::new("z", "")]);
        assert_eq!(v.resources[0].id, "r1");
        assert_eq!(v.resources[1].exclude_volumes, vec!["d1", "d2"]);
    }

    #[test]
    fn update_sends_only_changed_fields() {
        let update = VaultUpdate {
            size_gb: Some(200),
            threshold: Some(90),
            ..Default::default()
        };
        let body = serde_json::to_value(UpdateVaultBody {
            vault: update_to_wire(&update),
        })
        .unwrap();
        assert_eq!(
            body,
            json!({"vault": {"billing": {"size": 200}, "threshold": 90}})
        );
    }

    #[test]
    fn update_with_empty_bind_rules_clears_them() {
        let update = VaultUpdate {
            bind_rules: Some(vec![]),
            locked: Some(true),
            ..Default::default()
        };
        let body = serde_json::to_value(update_to_wire(&update)).unwrap();
        assert_eq!(body, json!({"bind_rules": {"tags": []}, "locked": true}));
    }

    #[test]
    fn create_body_is_post_paid_with_tags_and_empty_resources() {
        let create = VaultCreate {
            name: "team-a-vault".into(),
            consistent_level: "crash_consistent".into(),
            object_type: "server".into(),
            protect_type: "backup".into(),
            size_gb: 100,
            threshold: Some(80),
            tags: vec![Tag::new("k8s-uid", "1b2c")],
            ..Default::default()
        };
        let body = serde_json::to_value(CreateVaultBody {
            vault: create_to_wire(&create),
        })
        .unwrap();
        assert_eq!(
            body,
            json!({"vault": {
                "name": "team-a-vault",
                "billing": {"consistent_level": "crash_consistent", "object_type": "server",
                            "protect_type": "backup", "size": 100, "charging_mode": "post_paid"},
                "resources": [],
                "tags": [{"key": "k8s-uid", "value": "1b2c"}],
                "threshold": 80
            }})
        );
    }

    #[test]
    fn resources_carry_extra_info_only_with_excluded_volumes() {
        let server = VaultResource {
            id: "s1".into(),
            type_: "OS::Nova::Server".into(),
            exclude_volumes: vec!["d1".into()],
        };
        let disk = VaultResource {
            id: "d9".into(),
            type_: "OS::Cinder::Volume".into(),
            exclude_volumes: vec![],
        };
        let body = serde_json::to_value([&server, &disk].map(resource_to_wire)).unwrap();
        assert_eq!(
            body,
            json!([
                {"id": "s1", "type": "OS::Nova::Server", "extra_info": {"exclude_volumes": ["d1"]}},
                {"id": "d9", "type": "OS::Cinder::Volume"}
            ])
        );
    }
}
