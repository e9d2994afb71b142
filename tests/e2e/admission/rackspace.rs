//! Rackspace: the rules of a BackupVault's `rackspace` block and of a
//! ProviderConfig's, one rejected manifest each, plus the transition rules
//! (apply, change, reapply) and one valid manifest of each kind.

use serde_json::{Value, json};

use super::*;

fn rackspace_vault(ns: &str) -> Value {
    json!({
        "apiVersion": "coffer.dev/v1alpha1",
        "kind": "BackupVault",
        "metadata": {"name": "v", "namespace": ns},
        "spec": {
            "providerConfigRef": {"name": "rax"},
            "deletionPolicy": "Orphan",
            "rackspace": {
                "agentId": "8f135b4f-7a69-4b8a-947f-5e80d772fd97",
                "encryption": {"passphraseSecretRef": {"name": "vault-passphrase", "key": "passphrase"}},
                "enabled": true,
                "useInternal": false,
                "logLevel": "warn"
            }
        }
    })
}

fn rackspace_config(ns: &str) -> Value {
    json!({
        "apiVersion": "coffer.dev/v1alpha1",
        "kind": "ProviderConfig",
        "metadata": {"name": "rax", "namespace": ns},
        "spec": {"rackspace": {
            "identityEndpoint": "https://identity.api.rackspacecloud.com/v2.0",
            "region": "DFW",
            "credentials": {"secretRef": {"name": "rackspace-credentials"}}
        }}
    })
}

fn apply_rackspace(prefix: &str, edit: impl FnOnce(&mut Value)) -> std::process::Output {
    let mut doc = rackspace_vault(&new_namespace(prefix));
    edit(&mut doc["spec"]["rackspace"]);
    apply_new(&doc)
}

fn created_rackspace(prefix: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let mut doc = rackspace_vault(&new_namespace(prefix));
    edit(&mut doc["spec"]["rackspace"]);
    assert_accepted(&apply_new(&doc));
    doc
}

#[test]
fn a_valid_rackspace_vault_and_config_are_accepted() {
    assert_accepted(&apply_rackspace("adm-rax-ok", |_| {}));
    assert_accepted(&apply_new(&rackspace_config(&new_namespace("adm-rax-pc"))));
}

#[test]
fn both_provider_blocks_are_rejected() {
    let mut doc = rackspace_vault(&new_namespace("adm-rax-both"));
    doc["spec"]["huaweiCloud"] = vault("x", "v")["spec"]["huaweiCloud"].clone();
    assert_rejected(
        &apply_new(&doc),
        "spec",
        "spec must set exactly one provider block: huaweiCloud, rackspace or commvault.",
    );
}

#[test]
fn the_provider_of_an_existing_vault_cannot_change() {
    let mut doc = created_rackspace("adm-rax-prov", |_| {});
    remove(&mut doc["spec"], "rackspace");
    doc["spec"]["huaweiCloud"] = vault("x", "v")["spec"]["huaweiCloud"].clone();
    assert_rejected(
        &apply(&doc),
        "spec",
        "the provider block of an existing BackupVault cannot change",
    );
}

#[test]
fn naming_the_agent_twice_or_not_at_all_is_rejected() {
    const MSG: &str = "rackspace must name the agent by exactly one of agentId and hostMachineId.";
    let both = apply_rackspace("adm-rax-two", |r| r["hostMachineId"] = json!("host-1"));
    assert_rejected(&both, "spec.rackspace", MSG);
    let none = apply_rackspace("adm-rax-none", |r| remove(r, "agentId"));
    assert_rejected(&none, "spec.rackspace", MSG);
}

#[test]
fn an_agent_id_with_other_characters_is_rejected() {
    let out = apply_rackspace("adm-rax-id", |r| r["agentId"] = json!("agent one"));
    assert_rejected(
        &out,
        "spec.rackspace.agentId",
        "rackspace.agentId may contain only letters, digits and '-'.",
    );
}

#[test]
fn a_host_machine_id_with_other_characters_is_rejected() {
    let out = apply_rackspace("adm-rax-mid", |r| {
        remove(r, "agentId");
        r["hostMachineId"] = json!("host/1");
    });
    assert_rejected(
        &out,
        "spec.rackspace.hostMachineId",
        "rackspace.hostMachineId may contain only letters, digits, '.', '_' and '-'.",
    );
}

#[test]
fn the_agent_cannot_change() {
    let mut doc = created_rackspace("adm-rax-agent", |_| {});
    doc["spec"]["rackspace"]["agentId"] = json!("another-agent");
    assert_rejected(
        &apply(&doc),
        "spec.rackspace",
        "rackspace.agentId and rackspace.hostMachineId cannot change",
    );
}

#[test]
fn encryption_cannot_be_removed_once_set() {
    let mut doc = created_rackspace("adm-rax-enc", |_| {});
    remove(&mut doc["spec"]["rackspace"], "encryption");
    assert_rejected(
        &apply(&doc),
        "spec.rackspace.encryption",
        "rackspace.encryption cannot be removed once set: Cloud Backup never decrypts a vault.",
    );
}

#[test]
fn encryption_can_be_added_later() {
    let mut doc = created_rackspace("adm-rax-encadd", |r| remove(r, "encryption"));
    doc["spec"]["rackspace"]["encryption"] =
        json!({"passphraseSecretRef": {"name": "p", "key": "k"}});
    assert_accepted(&apply(&doc));
}

#[test]
fn a_passphrase_secret_name_that_is_not_dns_is_rejected() {
    let out = apply_rackspace("adm-rax-sname", |r| {
        r["encryption"]["passphraseSecretRef"]["name"] = json!("My_Secret")
    });
    assert_rejected(
        &out,
        "spec.rackspace.encryption.passphraseSecretRef.name",
        "passphraseSecretRef.name must be a DNS-1123 subdomain",
    );
}

#[test]
fn a_passphrase_key_with_other_characters_is_rejected() {
    let out = apply_rackspace("adm-rax-skey", |r| {
        r["encryption"]["passphraseSecretRef"]["key"] = json!("pass phrase")
    });
    assert_rejected(
        &out,
        "spec.rackspace.encryption.passphraseSecretRef.key",
        "passphraseSecretRef.key must be a Secret key: letters, digits, '-', '_' and '.'.",
    );
}

#[test]
fn an_unknown_log_level_is_rejected() {
    let out = apply_rackspace("adm-rax-log", |r| r["logLevel"] = json!("verbose"));
    assert_rejected(
        &out,
        "spec.rackspace.logLevel",
        "Unsupported value: \"verbose\"",
    );
}

#[test]
fn a_config_with_two_provider_blocks_is_rejected() {
    let mut doc = rackspace_config(&new_namespace("adm-rax-pc2"));
    doc["spec"]["huaweiCloud"] = provider_config("x", "h")["spec"]["huaweiCloud"].clone();
    assert_rejected(
        &apply_new(&doc),
        "spec",
        "spec must set exactly one provider block: huaweiCloud, rackspace or commvault.",
    );
}

#[test]
fn an_identity_endpoint_that_is_not_a_url_is_rejected() {
    let mut doc = rackspace_config(&new_namespace("adm-rax-ep"));
    doc["spec"]["rackspace"]["identityEndpoint"] = json!("identity.example.com");
    assert_rejected(
        &apply_new(&doc),
        "spec.rackspace.identityEndpoint",
        "rackspace.identityEndpoint must be an http:// or https:// URL with a host",
    );
}

#[test]
fn a_region_that_is_not_a_code_is_rejected() {
    let mut doc = rackspace_config(&new_namespace("adm-rax-reg"));
    doc["spec"]["rackspace"]["region"] = json!("DFW-1");
    assert_rejected(
        &apply_new(&doc),
        "spec.rackspace.region",
        "rackspace.region must be a region code such as DFW: letters and digits only.",
    );
}
