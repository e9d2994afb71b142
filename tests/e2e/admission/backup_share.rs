//! BackupShare: the rules each side must keep, one rejected manifest per
//! rule, and the valid owner and receiver shares that keep them.

use serde_json::{Value, json};

use super::*;

const BACKUP: &str = "a5200268-74a5-4806-acc6-95793ab0228b";
const VAULT: &str = "4b27c05b-8ad7-48c6-a886-526666c035f0";
const PROJECT_A: &str = "f841e01fd2b14e7fa41b6ae7aa6b0594";
const PROJECT_B: &str = "0761021b8900d2622f38c0115db0b331";

/// An owner share that keeps every rule.
fn owner(ns: &str) -> Value {
    json!({
        "apiVersion": "coffer.dev/v1alpha1",
        "kind": "BackupShare",
        "metadata": {"name": "s", "namespace": ns},
        "spec": {
            "providerConfigRef": {"name": "owner"},
            "deletionPolicy": "Delete",
            "owner": {"backupId": BACKUP, "members": [PROJECT_A, PROJECT_B]}
        }
    })
}

/// A receiver share that accepts into a BackupVault, keeping every rule.
fn receiver(ns: &str) -> Value {
    json!({
        "apiVersion": "coffer.dev/v1alpha1",
        "kind": "BackupShare",
        "metadata": {"name": "s", "namespace": ns},
        "spec": {
            "providerConfigRef": {"name": "receiver"},
            "receiver": {"backupId": BACKUP, "decision": "Accept", "vaultRef": {"name": "shared-in"}}
        }
    })
}

fn apply_owner(prefix: &str, edit: impl FnOnce(&mut Value)) -> Output {
    let mut doc = owner(&new_namespace(prefix));
    edit(&mut doc["spec"]);
    apply_new(&doc)
}

fn apply_receiver(prefix: &str, edit: impl FnOnce(&mut Value)) -> Output {
    let mut doc = receiver(&new_namespace(prefix));
    edit(&mut doc["spec"]);
    apply_new(&doc)
}

#[test]
fn valid_shares_are_accepted() {
    assert_accepted(&apply_owner("adm-bs-own", |_| {}));
    assert_accepted(&apply_receiver("adm-bs-rcv", |_| {}));
    assert_accepted(&apply_receiver("adm-bs-rid", |s| {
        s["receiver"] = json!({"backupId": BACKUP, "decision": "Accept", "vaultId": VAULT});
    }));
    assert_accepted(&apply_receiver("adm-bs-rej", |s| {
        s["receiver"] = json!({"backupId": BACKUP, "decision": "Reject"});
    }));
}

#[test]
fn share_with_both_sides_is_rejected() {
    let out = apply_owner("adm-bs-both", |s| {
        s["receiver"] = json!({"backupId": BACKUP, "decision": "Reject"});
    });
    assert_rejected(&out, "spec", ONE_SIDE);
}

#[test]
fn share_with_no_side_is_rejected() {
    let out = apply_owner("adm-bs-none", |s| remove(s, "owner"));
    assert_rejected(&out, "spec", ONE_SIDE);
}

const ONE_SIDE: &str = "spec must set exactly one of owner (share a backup of this project) and receiver (accept or reject a backup shared with this project).";

#[test]
fn side_cannot_change_after_creation() {
    let ns = new_namespace("adm-bs-side");
    assert_accepted(&apply_new(&owner(&ns)));
    let out = apply(&receiver(&ns));
    assert_rejected(
        &out,
        "spec",
        "spec cannot switch between owner and receiver after creation",
    );
}

#[test]
fn backup_id_must_be_a_uuid() {
    let out = apply_owner("adm-bs-bid", |s| s["owner"]["backupId"] = json!("backup-1"));
    assert_rejected(
        &out,
        "spec.owner.backupId",
        "owner.backupId must be a CBR backup ID: a lower-case UUID.",
    );
    let out = apply_receiver("adm-bs-rbid", |s| {
        s["receiver"]["backupId"] = json!(BACKUP.to_uppercase())
    });
    assert_rejected(
        &out,
        "spec.receiver.backupId",
        "receiver.backupId must be a CBR backup ID: a lower-case UUID.",
    );
}

#[test]
fn backup_id_cannot_change() {
    let ns = new_namespace("adm-bs-bimm");
    let mut doc = owner(&ns);
    assert_accepted(&apply_new(&doc));
    doc["spec"]["owner"]["backupId"] = json!("17c9acd8-3af3-4401-bab9-ff1cfac15561");
    assert_rejected(
        &apply(&doc),
        "spec.owner.backupId",
        "owner.backupId cannot be changed: create another BackupShare for another backup.",
    );
}

#[test]
fn receiver_backup_id_cannot_change() {
    let ns = new_namespace("adm-bs-rimm");
    let mut doc = receiver(&ns);
    assert_accepted(&apply_new(&doc));
    doc["spec"]["receiver"]["backupId"] = json!("17c9acd8-3af3-4401-bab9-ff1cfac15561");
    assert_rejected(
        &apply(&doc),
        "spec.receiver.backupId",
        "receiver.backupId cannot be changed: create another BackupShare for another backup.",
    );
}

#[test]
fn members_must_be_project_ids() {
    let out = apply_owner("adm-bs-mid", |s| {
        s["owner"]["members"] = json!([PROJECT_A, "project-b"])
    });
    assert_rejected(
        &out,
        "spec.owner.members",
        "owner.members must be project IDs: exactly 32 lower-case hexadecimal characters each.",
    );
}

#[test]
fn members_must_not_repeat() {
    let out = apply_owner("adm-bs-mdup", |s| {
        s["owner"]["members"] = json!([PROJECT_A, PROJECT_A])
    });
    assert_rejected(&out, "spec.owner.members[1]", "Duplicate value");
}

#[test]
fn members_cannot_be_empty() {
    let out = apply_owner("adm-bs-m0", |s| s["owner"]["members"] = json!([]));
    assert_rejected(&out, "spec.owner.members", "should have at least 1 items");
}

#[test]
fn members_are_at_most_one_hundred() {
    let out = apply_owner("adm-bs-m101", |s| {
        s["owner"]["members"] = (0..101).map(|i| json!(format!("{i:032x}"))).collect();
    });
    assert_rejected(
        &out,
        "spec.owner.members",
        "Too many: 101: must have at most 100 items",
    );
}

#[test]
fn one_hundred_members_stay_within_the_cel_cost_budget() {
    let out = apply_owner("adm-bs-m100", |s| {
        s["owner"]["members"] = (0..100).map(|i| json!(format!("{i:032x}"))).collect();
    });
    assert_accepted(&out);
}

const VAULT_RULE: &str = "receiver must name exactly one of vaultRef and vaultId when accepting, and neither when rejecting: an accepted backup is stored in a vault of this project.";

#[test]
fn accepting_needs_a_vault() {
    let out = apply_receiver("adm-bs-nov", |s| remove(&mut s["receiver"], "vaultRef"));
    assert_rejected(&out, "spec.receiver", VAULT_RULE);
}

#[test]
fn accepting_names_one_vault_only() {
    let out = apply_receiver("adm-bs-2v", |s| s["receiver"]["vaultId"] = json!(VAULT));
    assert_rejected(&out, "spec.receiver", VAULT_RULE);
}

#[test]
fn rejecting_names_no_vault() {
    let out = apply_receiver("adm-bs-rejv", |s| {
        s["receiver"]["decision"] = json!("Reject")
    });
    assert_rejected(&out, "spec.receiver", VAULT_RULE);
}

#[test]
fn decision_is_accept_or_reject() {
    let out = apply_receiver("adm-bs-dec", |s| {
        s["receiver"]["decision"] = json!("accepted")
    });
    assert_rejected(
        &out,
        "spec.receiver.decision",
        r#"Unsupported value: "accepted": supported values: "Accept", "Reject""#,
    );
}

#[test]
fn vault_id_must_be_a_uuid() {
    let out = apply_receiver("adm-bs-vid", |s| {
        s["receiver"] = json!({"backupId": BACKUP, "decision": "Accept", "vaultId": "vault-1"});
    });
    assert_rejected(
        &out,
        "spec.receiver.vaultId",
        "receiver.vaultId must be a CBR vault ID: a lower-case UUID.",
    );
}

#[test]
fn vault_ref_must_be_a_kubernetes_name() {
    let out = apply_receiver("adm-bs-vref", |s| {
        s["receiver"]["vaultRef"]["name"] = json!("Shared_In")
    });
    assert_rejected(
        &out,
        "spec.receiver.vaultRef.name",
        "receiver.vaultRef.name must be a DNS-1123 subdomain",
    );
}
