//! BackupVault transition rules: apply a valid vault, change it, apply
//! again. `locked` is one-way; what CBR cannot change stays as created.

use serde_json::json;

use super::*;

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
