//! Admission: the API server refuses every manifest that breaks a rule of
//! coffer's CRDs, with that rule's message, and accepts the manifests that
//! keep them. One test per rule; each applies with kubectl, as a user would,
//! in a namespace of its own. Transition rules are apply-then-reapply.
//!
//! The messages asserted here are the user interface of the rules: the CEL
//! ones are ours, the others (length, count, range, enum) are the API
//! server's, for the OpenAPI keywords in the schema.

use std::process::Output;

use serde_json::{Value, json};

use crate::support::{env, output_text};

/// A vault that keeps every rule, with each optional field set.
fn vault(ns: &str, name: &str) -> Value {
    json!({
        "apiVersion": "coffer.dev/v1alpha1",
        "kind": "BackupVault",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "providerConfigRef": {"name": "huawei"},
            "deletionPolicy": "Delete",
            "huaweiCloud": {
                "name": "nightly_备份-01",
                "description": "servers of the web tier",
                "billing": {
                    "consistentLevel": "crash_consistent",
                    "objectType": "server",
                    "protectType": "backup",
                    "size": 100,
                    "cloudType": "public",
                    "isMultiAz": false
                },
                "autoBind": true,
                "bindRules": {"tags": [{"key": "backup", "value": "nightly"}]},
                "autoExpand": false,
                "smnNotify": true,
                "threshold": 80,
                "locked": false,
                "tags": [{"key": "team", "value": "web.frontend"}, {"key": "env", "value": ""}],
                "resources": [{
                    "id": "97595625-198e-4e4d-879b-9d53f68ba551",
                    "type": "OS::Nova::Server",
                    "excludeVolumes": ["bdef09bb-293f-446a-88a4-86e9f14408c4"]
                }],
                "enterpriseProjectId": "0"
            }
        }
    })
}

/// A ProviderConfig that keeps every rule.
fn provider_config(ns: &str, name: &str) -> Value {
    json!({
        "apiVersion": "coffer.dev/v1alpha1",
        "kind": "ProviderConfig",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "huaweiCloud": {
                "region": "cn-north-4",
                "projectId": "0123456789abcdef0123456789abcdef",
                "domainId": "fedcba9876543210fedcba9876543210",
                "endpoints": {"iam": "http://127.0.0.1:8780", "cbr": "https://cbr.example.com/v3"},
                "credentials": {"type": "AccessKey", "secretRef": {"name": "huawei-credentials"}}
            }
        }
    })
}

/// `kubectl apply -f -` of one object.
fn apply(doc: &Value) -> Output {
    let yaml = serde_yaml::to_string(doc).expect("manifest as YAML");
    env().kubectl(&["apply", "-f", "-"], Some(&yaml))
}

/// A namespace name no other test uses. `apply_new` creates it in the same
/// kubectl call as the object, which keeps each test to one or two kubectl
/// runs and no client of its own.
fn new_namespace(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..6]
    )
}

/// `kubectl apply` of the object's namespace, then the object.
fn apply_new(doc: &Value) -> Output {
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": doc["metadata"]["namespace"]}});
    let yaml = format!(
        "{}---\n{}",
        serde_yaml::to_string(&ns).expect("namespace as YAML"),
        serde_yaml::to_string(doc).expect("manifest as YAML")
    );
    env().kubectl(&["apply", "-f", "-"], Some(&yaml))
}

fn assert_accepted(out: &Output) {
    assert!(
        out.status.success(),
        "a valid manifest was rejected: {}",
        output_text(out)
    );
}

/// The apply failed, and the API server named `field` and said `message`.
fn assert_rejected(out: &Output, field: &str, message: &str) {
    let text = output_text(out);
    assert!(
        !out.status.success(),
        "an invalid manifest was accepted: {text}"
    );
    assert!(
        text.contains(&format!("{field}: ")) && text.contains(message),
        "the rejection does not name `{field}` with `{message}`: {text}"
    );
}

/// A fresh namespace and a valid vault in it, changed by `edit`, applied.
fn apply_vault(prefix: &str, edit: impl FnOnce(&mut Value)) -> Output {
    let mut doc = vault(&new_namespace(prefix), "v");
    edit(&mut doc["spec"]);
    apply_new(&doc)
}

fn apply_provider_config(prefix: &str, edit: impl FnOnce(&mut Value)) -> Output {
    let mut doc = provider_config(&new_namespace(prefix), "huawei");
    edit(&mut doc["spec"]["huaweiCloud"]);
    apply_new(&doc)
}

/// A valid vault, changed by `edit` in its `huaweiCloud` block, applied
/// and accepted; the returned manifest is ready to be changed and reapplied.
fn created_vault(prefix: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let mut doc = vault(&new_namespace(prefix), "v");
    edit(&mut doc["spec"]["huaweiCloud"]);
    assert_accepted(&apply_new(&doc));
    doc
}

fn remove(obj: &mut Value, key: &str) {
    obj.as_object_mut().expect("an object").remove(key);
}

fn tags(n: usize) -> Value {
    (0..n)
        .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
        .collect()
}

// ---- valid manifests ------------------------------------------------------

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

// ---- BackupVault: one provider block ------------------------------------

#[test]
fn vault_without_a_provider_block_is_rejected() {
    let out = apply_vault("adm-oneof", |spec| remove(spec, "huaweiCloud"));
    assert_rejected(
        &out,
        "spec",
        "spec must set exactly one provider block, and huaweiCloud is the only provider supported today.",
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

// ---- BackupVault: transitions ---------------------------------------------

#[test]
fn locked_cannot_go_back_to_false() {
    let mut doc = created_vault("adm-lock", |hw| hw["locked"] = json!(false));
    doc["spec"]["huaweiCloud"]["locked"] = json!(true);
    assert_accepted(&apply(&doc));
    doc["spec"]["huaweiCloud"]["locked"] = json!(false);
    assert_rejected(&apply(&doc), "spec.huaweiCloud.locked", LOCKED);
}

#[test]
fn locked_cannot_be_removed_once_true() {
    let mut doc = created_vault("adm-lockrm", |hw| hw["locked"] = json!(true));
    remove(&mut doc["spec"]["huaweiCloud"], "locked");
    assert_rejected(&apply(&doc), "spec.huaweiCloud.locked", LOCKED);
}

const LOCKED: &str = "huaweiCloud.locked cannot be set back to false or removed once it is true: CBR never unlocks a locked vault.";

#[test]
fn description_cannot_change_or_be_removed() {
    const MSG: &str = "huaweiCloud.description cannot be changed, added or removed after the vault is created: CBR cannot change a vault's description.";
    let mut doc = created_vault("adm-descimm", |_| {});
    doc["spec"]["huaweiCloud"]["description"] = json!("another description");
    assert_rejected(&apply(&doc), "spec.huaweiCloud.description", MSG);
    remove(&mut doc["spec"]["huaweiCloud"], "description");
    assert_rejected(&apply(&doc), "spec.huaweiCloud.description", MSG);
}

#[test]
fn description_cannot_be_added_after_creation() {
    let mut doc = created_vault("adm-descadd", |hw| remove(hw, "description"));
    doc["spec"]["huaweiCloud"]["description"] = json!("added later");
    assert_rejected(
        &apply(&doc),
        "spec.huaweiCloud.description",
        "huaweiCloud.description cannot be changed, added or removed after the vault is created",
    );
}

#[test]
fn object_type_cannot_change() {
    let mut doc = created_vault("adm-otimm", |_| {});
    doc["spec"]["huaweiCloud"]["billing"]["objectType"] = json!("disk");
    assert_rejected(
        &apply(&doc),
        "spec.huaweiCloud.billing.objectType",
        "huaweiCloud.billing.objectType cannot be changed after the vault is created.",
    );
}

#[test]
fn protect_type_cannot_change() {
    let mut doc = created_vault("adm-ptimm", |_| {});
    doc["spec"]["huaweiCloud"]["billing"]["protectType"] = json!("replication");
    assert_rejected(
        &apply(&doc),
        "spec.huaweiCloud.billing.protectType",
        "huaweiCloud.billing.protectType cannot be changed after the vault is created.",
    );
}

#[test]
fn cloud_type_cannot_change_but_its_default_can_be_written_out() {
    const MSG: &str = "huaweiCloud.billing.cloudType cannot be changed after the vault is created (left out, it means public).";
    let mut doc = created_vault("adm-ctimm", |hw| remove(&mut hw["billing"], "cloudType"));
    doc["spec"]["huaweiCloud"]["billing"]["cloudType"] = json!("public");
    assert_accepted(&apply(&doc));
    doc["spec"]["huaweiCloud"]["billing"]["cloudType"] = json!("hybrid");
    assert_rejected(&apply(&doc), "spec.huaweiCloud.billing.cloudType", MSG);
}

#[test]
fn is_multi_az_cannot_change() {
    const MSG: &str = "huaweiCloud.billing.isMultiAz cannot be changed after the vault is created (left out, it means false).";
    let mut doc = created_vault("adm-azimm", |_| {});
    doc["spec"]["huaweiCloud"]["billing"]["isMultiAz"] = json!(true);
    assert_rejected(&apply(&doc), "spec.huaweiCloud.billing.isMultiAz", MSG);
    remove(&mut doc["spec"]["huaweiCloud"]["billing"], "isMultiAz");
    assert_accepted(&apply(&doc));
}

#[test]
fn enterprise_project_id_cannot_change() {
    const MSG: &str = "huaweiCloud.enterpriseProjectId cannot be changed after the vault is created (left out, it means '0')";
    let mut doc = created_vault("adm-epimm", |_| {});
    doc["spec"]["huaweiCloud"]["enterpriseProjectId"] =
        json!("b8e4a1f0-5b9c-4c3e-9f39-1c1f7c3b5d2a");
    assert_rejected(&apply(&doc), "spec.huaweiCloud.enterpriseProjectId", MSG);
    remove(&mut doc["spec"]["huaweiCloud"], "enterpriseProjectId");
    assert_accepted(&apply(&doc));
}

#[test]
fn fields_cbr_can_update_stay_mutable() {
    let mut doc = created_vault("adm-mutable", |_| {});
    let hw = &mut doc["spec"]["huaweiCloud"];
    hw["name"] = json!("renamed");
    hw["billing"]["size"] = json!(200);
    hw["billing"]["consistentLevel"] = json!("app_consistent");
    hw["threshold"] = json!(90);
    hw["autoBind"] = json!(false);
    hw["autoExpand"] = json!(true);
    hw["smnNotify"] = json!(false);
    hw["bindRules"] = json!({"tags": []});
    hw["tags"] = json!([{"key": "team", "value": "platform"}]);
    hw["resources"] = json!([]);
    doc["spec"]["deletionPolicy"] = json!("Orphan");
    assert_accepted(&apply(&doc));
}

// ---- ProviderConfig ----------------------------------------------------------

#[test]
fn provider_config_without_a_provider_block_is_rejected() {
    let mut doc = provider_config(&new_namespace("adm-pc-oneof"), "huawei");
    doc["spec"] = json!({});
    assert_rejected(
        &apply_new(&doc),
        "spec",
        "spec must set exactly one provider block, and huaweiCloud is the only provider supported today.",
    );
}

#[test]
fn region_that_is_not_a_region_id_is_rejected() {
    let out = apply_provider_config("adm-pc-region", |hw| hw["region"] = json!("CN North 4"));
    assert_rejected(
        &out,
        "spec.huaweiCloud.region",
        "huaweiCloud.region must be a region ID such as cn-north-4: lower-case letters, digits and '-', starting and ending with a letter or digit.",
    );
}

#[test]
fn project_id_that_is_not_32_hex_characters_is_rejected() {
    let out = apply_provider_config("adm-pc-proj", |hw| {
        hw["projectId"] = json!("0123456789ABCDEF0123456789abcdef")
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.projectId",
        "huaweiCloud.projectId must be a project ID: exactly 32 lower-case hexadecimal characters.",
    );
}

#[test]
fn domain_id_that_is_not_32_hex_characters_is_rejected() {
    let out = apply_provider_config("adm-pc-dom", |hw| hw["domainId"] = json!("my-account"));
    assert_rejected(
        &out,
        "spec.huaweiCloud.domainId",
        "huaweiCloud.domainId must be an account (domain) ID: exactly 32 lower-case hexadecimal characters.",
    );
}

#[test]
fn iam_endpoint_that_is_not_an_http_url_is_rejected() {
    let out = apply_provider_config("adm-pc-iam", |hw| {
        hw["endpoints"]["iam"] = json!("ftp://iam.example.com")
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.endpoints.iam",
        "huaweiCloud.endpoints.iam must be an http:// or https:// URL with a host, such as https://iam.cn-north-4.myhuaweicloud.com.",
    );
}

#[test]
fn cbr_endpoint_that_is_not_an_http_url_is_rejected() {
    let out = apply_provider_config("adm-pc-cbr", |hw| {
        hw["endpoints"]["cbr"] = json!("cbr.example.com:443")
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.endpoints.cbr",
        "huaweiCloud.endpoints.cbr must be an http:// or https:// URL with a host, such as https://cbr.cn-north-4.myhuaweicloud.com.",
    );
}

#[test]
fn unknown_credentials_type_is_rejected() {
    let out = apply_provider_config("adm-pc-type", |hw| {
        hw["credentials"]["type"] = json!("Token")
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.credentials.type",
        r#"Unsupported value: "Token": supported values: "AccessKey", "Password""#,
    );
}

#[test]
fn secret_ref_that_is_not_a_dns_subdomain_is_rejected() {
    let out = apply_provider_config("adm-pc-secret", |hw| {
        hw["credentials"]["secretRef"]["name"] = json!("Huawei Keys")
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.credentials.secretRef.name",
        "secretRef.name must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit.",
    );
}

// ---- kubectl get ---------------------------------------------------------------

#[test]
fn kubectl_get_shows_the_columns_short_names_and_category() {
    let doc = created_vault("adm-get", |_| {});
    let ns = doc["metadata"]["namespace"]
        .as_str()
        .expect("namespace")
        .to_string();
    let out = env().kubectl(&["get", "bv", "-n", &ns], None);
    assert_accepted(&out);
    let header = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    let columns: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(columns, ["NAME", "READY", "SYNCED", "EXTERNAL-ID", "AGE"]);

    assert_accepted(&apply(&provider_config(&ns, "huawei")));
    let out = env().kubectl(&["get", "pconfig", "-n", &ns, "-o", "name"], None);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "providerconfig.coffer.dev/huawei"
    );

    let out = env().kubectl(&["get", "coffer", "-n", &ns, "-o", "name"], None);
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "backupvault.coffer.dev/v",
            "providerconfig.coffer.dev/huawei"
        ],
        "{}",
        output_text(&out)
    );
}
