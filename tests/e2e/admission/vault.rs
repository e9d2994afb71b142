//! BackupVault: the rules a new vault must keep, one test each, and the
//! valid vaults that keep them.

use serde_json::json;

use super::*;

#[test]
fn valid_backup_vault_is_accepted() {
    assert_accepted(&apply_vault("adm-ok", |_| {}));
}

#[test]
fn minimal_backup_vault_is_accepted() {
    let out = apply_vault("adm-min", |spec| {
        *spec = json!({
            "providerConfigRef": {"name": "huawei"},
            "huaweiCloud": {
                "name": "v",
                "billing": {"consistentLevel": "app_consistent", "objectType": "disk", "protectType": "replication", "size": 10}
            }
        });
    });
    assert_accepted(&out);
}

#[test]
fn valid_provider_config_is_accepted() {
    assert_accepted(&apply_provider_config("adm-pc-ok", |_| {}));
}

#[test]
fn vault_name_limit_counts_characters_not_bytes() {
    // 64 CJK characters are 192 bytes of UTF-8.
    let out = apply_vault("adm-cjk", |spec| {
        spec["huaweiCloud"]["name"] = json!("备".repeat(64))
    });
    assert_accepted(&out);
}

#[test]
fn vault_with_255_resources_stays_within_the_cel_cost_budget() {
    // The largest list the schema allows, with the longest ids, through the
    // quadratic uniqueness rule.
    let out = apply_vault("adm-255", |spec| {
        spec["huaweiCloud"]["resources"] = (0..255)
            .map(|i| json!({"id": format!("{i:064}"), "type": "OS::Cinder::Volume"}))
            .collect();
    });
    assert_accepted(&out);
}

#[test]
fn vault_without_a_provider_block_is_rejected() {
    let out = apply_vault("adm-oneof", |spec| remove(spec, "huaweiCloud"));
    assert_rejected(
        &out,
        "spec",
        "spec must set exactly one provider block: huaweiCloud, rackspace or commvault.",
    );
}

// ---- BackupVault: huaweiCloud.name ---------------------------------------

#[test]
fn vault_name_with_other_characters_is_rejected() {
    let out = apply_vault("adm-name", |spec| {
        spec["huaweiCloud"]["name"] = json!("my vault!")
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.name",
        "huaweiCloud.name may contain only letters, digits, CJK characters, '_' and '-'.",
    );
}

#[test]
fn vault_name_longer_than_64_characters_is_rejected() {
    let out = apply_vault("adm-namelen", |spec| {
        spec["huaweiCloud"]["name"] = json!("a".repeat(65))
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.name",
        "Too long: may not be more than 64",
    );
}

#[test]
fn empty_vault_name_is_rejected() {
    let out = apply_vault("adm-name0", |spec| spec["huaweiCloud"]["name"] = json!(""));
    assert_rejected(
        &out,
        "spec.huaweiCloud.name",
        "should be at least 1 chars long",
    );
}

// ---- BackupVault: description --------------------------------------------

#[test]
fn description_with_angle_brackets_is_rejected() {
    let out = apply_vault("adm-desc", |spec| {
        spec["huaweiCloud"]["description"] = json!("<b>web</b>")
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.description",
        "huaweiCloud.description must not contain '<' or '>'.",
    );
}

#[test]
fn description_longer_than_64_characters_is_rejected() {
    let out = apply_vault("adm-desclen", |spec| {
        spec["huaweiCloud"]["description"] = json!("d".repeat(65))
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.description",
        "Too long: may not be more than 64",
    );
}

// ---- BackupVault: ranges ---------------------------------------------------

#[test]
fn threshold_outside_1_to_100_is_rejected() {
    let out = apply_vault("adm-thr", |spec| {
        spec["huaweiCloud"]["threshold"] = json!(101)
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.threshold",
        "should be less than or equal to 100",
    );
    let out = apply_vault("adm-thr0", |spec| {
        spec["huaweiCloud"]["threshold"] = json!(0)
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.threshold",
        "should be greater than or equal to 1",
    );
}

#[test]
fn billing_size_outside_10_to_10485760_is_rejected() {
    let out = apply_vault("adm-size", |spec| {
        spec["huaweiCloud"]["billing"]["size"] = json!(9)
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.billing.size",
        "should be greater than or equal to 10",
    );
    let out = apply_vault("adm-size-max", |spec| {
        spec["huaweiCloud"]["billing"]["size"] = json!(10485761)
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.billing.size",
        "should be less than or equal to 10485760",
    );
}

// ---- BackupVault: enums ----------------------------------------------------

#[test]
fn unknown_consistent_level_is_rejected() {
    let out = apply_vault("adm-cl", |spec| {
        spec["huaweiCloud"]["billing"]["consistentLevel"] = json!("crash")
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.billing.consistentLevel",
        r#"Unsupported value: "crash": supported values: "crash_consistent", "app_consistent""#,
    );
}

#[test]
fn unknown_object_type_is_rejected() {
    let out = apply_vault("adm-ot", |spec| {
        spec["huaweiCloud"]["billing"]["objectType"] = json!("bucket")
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.billing.objectType",
        r#"Unsupported value: "bucket": supported values: "server", "disk", "turbo", "workspace", "vmware", "rds", "file""#,
    );
}

#[test]
fn unknown_protect_type_is_rejected() {
    let out = apply_vault("adm-pt", |spec| {
        spec["huaweiCloud"]["billing"]["protectType"] = json!("hybrid")
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.billing.protectType",
        r#"Unsupported value: "hybrid": supported values: "backup", "replication""#,
    );
}

#[test]
fn unknown_cloud_type_is_rejected() {
    let out = apply_vault("adm-ct", |spec| {
        spec["huaweiCloud"]["billing"]["cloudType"] = json!("private")
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.billing.cloudType",
        r#"Unsupported value: "private": supported values: "public", "hybrid""#,
    );
}

#[test]
fn unknown_deletion_policy_is_rejected() {
    let out = apply_vault("adm-dp", |spec| spec["deletionPolicy"] = json!("Retain"));
    assert_rejected(
        &out,
        "spec.deletionPolicy",
        r#"Unsupported value: "Retain": supported values: "Delete", "Orphan""#,
    );
}

// ---- BackupVault: tags -----------------------------------------------------

#[test]
fn more_than_10_tags_are_rejected() {
    let out = apply_vault("adm-tags", |spec| spec["huaweiCloud"]["tags"] = tags(11));
    assert_rejected(
        &out,
        "spec.huaweiCloud.tags",
        "Too many: 11: must have at most 10 items",
    );
}

#[test]
fn repeated_tag_keys_are_rejected() {
    let out = apply_vault("adm-tagdup", |spec| {
        spec["huaweiCloud"]["tags"] =
            json!([{"key": "team", "value": "a"}, {"key": "team", "value": "b"}]);
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.tags",
        "huaweiCloud.tags must not repeat a key.",
    );
}

#[test]
fn reserved_ownership_tag_is_rejected() {
    let out = apply_vault("adm-tagown", |spec| {
        spec["huaweiCloud"]["tags"] = json!([{"key": "coffer-uid", "value": "forged"}]);
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.tags",
        "huaweiCloud.tags must not use the key coffer-uid: coffer sets that tag itself to mark the vaults it owns.",
    );
}

#[test]
fn tag_key_with_other_characters_is_rejected() {
    let out = apply_vault("adm-tagkey", |spec| {
        spec["huaweiCloud"]["tags"][0]["key"] = json!("cost=center")
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.tags[0].key",
        "a tag key may contain only letters, digits, '_' and '-'.",
    );
}

#[test]
fn tag_key_longer_than_36_characters_is_rejected() {
    let out = apply_vault("adm-tagkeylen", |spec| {
        spec["huaweiCloud"]["tags"][0]["key"] = json!("k".repeat(37))
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.tags[0].key",
        "Too long: may not be more than 36",
    );
}

#[test]
fn empty_tag_key_is_rejected() {
    let out = apply_vault("adm-tagkey0", |spec| {
        spec["huaweiCloud"]["tags"][0]["key"] = json!("")
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.tags[0].key",
        "should be at least 1 chars long",
    );
}

#[test]
fn tag_value_with_other_characters_is_rejected() {
    let out = apply_vault("adm-tagval", |spec| {
        spec["huaweiCloud"]["tags"][0]["value"] = json!("a/b")
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.tags[0].value",
        "a tag value may contain only letters, digits, '_', '.' and '-'.",
    );
}

#[test]
fn tag_value_longer_than_43_characters_is_rejected() {
    let out = apply_vault("adm-tagvallen", |spec| {
        spec["huaweiCloud"]["tags"][0]["value"] = json!("v".repeat(44))
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.tags[0].value",
        "Too long: may not be more than 43",
    );
}

// ---- BackupVault: bindRules ------------------------------------------------

#[test]
fn more_than_5_bind_rule_tags_are_rejected() {
    let out = apply_vault("adm-bind", |spec| {
        spec["huaweiCloud"]["bindRules"]["tags"] = tags(6)
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.bindRules.tags",
        "Too many: 6: must have at most 5 items",
    );
}

#[test]
fn bind_rule_tags_follow_the_tag_rules() {
    let out = apply_vault("adm-bindkey", |spec| {
        spec["huaweiCloud"]["bindRules"]["tags"][0]["key"] = json!("a b")
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.bindRules.tags[0].key",
        "a tag key may contain only letters, digits, '_' and '-'.",
    );
}

// ---- BackupVault: resources ------------------------------------------------

#[test]
fn more_than_255_resources_are_rejected() {
    let out = apply_vault("adm-res", |spec| {
        spec["huaweiCloud"]["resources"] = (0..256)
            .map(|i| json!({"id": format!("r{i}"), "type": "OS::Nova::Server"}))
            .collect();
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.resources",
        "Too many: 256: must have at most 255 items",
    );
}

#[test]
fn unknown_resource_type_is_rejected() {
    let out = apply_vault("adm-restype", |spec| {
        spec["huaweiCloud"]["resources"][0]["type"] = json!("OS::Nova::Volume")
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.resources[0].type",
        r#"Unsupported value: "OS::Nova::Volume": supported values: "OS::Nova::Server", "OS::Cinder::Volume", "OS::Ironic::BareMetalServer", "OS::Native::Server", "OS::Sfs::Turbo", "OS::Workspace::DesktopV2""#,
    );
}

#[test]
fn repeated_resource_ids_are_rejected() {
    let out = apply_vault("adm-resdup", |spec| {
        spec["huaweiCloud"]["resources"] = json!([
            {"id": "r1", "type": "OS::Nova::Server"},
            {"id": "r1", "type": "OS::Cinder::Volume"}
        ]);
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.resources",
        "huaweiCloud.resources must not list the same resource id twice.",
    );
}

// ---- BackupVault: providerConfigRef ---------------------------------------

#[test]
fn provider_config_ref_that_is_not_a_dns_subdomain_is_rejected() {
    let out = apply_vault("adm-pcref", |spec| {
        spec["providerConfigRef"]["name"] = json!("Huawei_Prod")
    });
    assert_rejected(
        &out,
        "spec.providerConfigRef.name",
        "providerConfigRef.name must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit.",
    );
}
