//! BackupVault and ProviderConfig on Commvault: the rules of the `commvault`
//! blocks, one rejected manifest each, and the valid ones accepted.

use serde_json::{Value, json};

use super::*;

/// A Commvault vault that keeps every rule, with each optional field set.
fn s3_vault(ns: &str) -> Value {
    json!({
        "apiVersion": "coffer.dev/v1alpha1",
        "kind": "BackupVault",
        "metadata": {"name": "v", "namespace": ns},
        "spec": {
            "providerConfigRef": {"name": "commvault"},
            "commvault": {
                "name": "team-a-s3",
                "plan": {"id": 3, "name": "s3-plan"},
                "endpoints": [{"clientId": 2, "clientName": "mediaagent01"}, {"clientId": 2147483647}],
                "owners": [1, 4],
                "userGroups": [1],
                "rotateKeys": false
            }
        }
    })
}

/// A fresh namespace and a valid Commvault vault, its `commvault` block
/// changed by `edit`, applied.
fn apply_s3(prefix: &str, edit: impl FnOnce(&mut Value)) -> Output {
    let mut doc = s3_vault(&new_namespace(prefix));
    edit(&mut doc["spec"]["commvault"]);
    apply_new(&doc)
}

fn commvault_config(ns: &str) -> Value {
    json!({
        "apiVersion": "coffer.dev/v1alpha1",
        "kind": "ProviderConfig",
        "metadata": {"name": "commvault", "namespace": ns},
        "spec": {"commvault": {
            "apiUrl": "https://commandcenter.example.com/commandcenter/api",
            "credentials": {"secretRef": {"name": "commvault-credentials"}}
        }}
    })
}

#[test]
fn valid_commvault_vault_and_provider_config_are_accepted() {
    assert_accepted(&apply_s3("adm-cv-ok", |_| {}));
    assert_accepted(&apply_s3("adm-cv-min", |cv| {
        *cv = json!({"name": "v", "plan": {"id": 1, "name": "p"}})
    }));
    assert_accepted(&apply_new(&commvault_config(&new_namespace("adm-cvpc"))));
}

#[test]
fn a_vault_with_both_provider_blocks_is_rejected() {
    let mut doc = s3_vault(&new_namespace("adm-cv-both"));
    doc["spec"]["huaweiCloud"] = vault("x", "v")["spec"]["huaweiCloud"].clone();
    assert_rejected(
        &apply_new(&doc),
        "spec",
        "spec must set exactly one provider block: huaweiCloud, rackspace or commvault.",
    );
}

#[test]
fn a_provider_config_with_both_blocks_is_rejected() {
    let mut doc = commvault_config(&new_namespace("adm-cvpc-both"));
    doc["spec"]["huaweiCloud"] = provider_config("x", "y")["spec"]["huaweiCloud"].clone();
    assert_rejected(
        &apply_new(&doc),
        "spec",
        "spec must set exactly one provider block: huaweiCloud, rackspace or commvault.",
    );
}

#[test]
fn the_api_url_must_be_an_http_url() {
    let mut doc = commvault_config(&new_namespace("adm-cvpc-url"));
    doc["spec"]["commvault"]["apiUrl"] = json!("commandcenter.example.com/api");
    assert_rejected(
        &apply_new(&doc),
        "spec.commvault.apiUrl",
        "commvault.apiUrl must be an http:// or https:// URL with a host",
    );
}

#[test]
fn the_credentials_secret_is_required() {
    let mut doc = commvault_config(&new_namespace("adm-cvpc-sec"));
    remove(&mut doc["spec"]["commvault"], "credentials");
    assert_rejected(
        &apply_new(&doc),
        "spec.commvault.credentials",
        "Required value",
    );
}

#[test]
fn the_name_is_required_and_not_empty() {
    let out = apply_s3("adm-cv-name", |cv| cv["name"] = json!(""));
    assert_rejected(
        &out,
        "spec.commvault.name",
        "should be at least 1 chars long",
    );
    let out = apply_s3("adm-cv-noname", |cv| remove(cv, "name"));
    assert_rejected(&out, "spec.commvault.name", "Required value");
}

#[test]
fn the_plan_is_required_with_an_int32_id() {
    let out = apply_s3("adm-cv-noplan", |cv| remove(cv, "plan"));
    assert_rejected(&out, "spec.commvault.plan", "Required value");
    let out = apply_s3("adm-cv-planid", |cv| {
        cv["plan"]["id"] = json!(2147483648i64)
    });
    assert_rejected(
        &out,
        "spec.commvault.plan.id",
        "should be less than or equal to 2147483647",
    );
    let out = apply_s3("adm-cv-planname", |cv| remove(&mut cv["plan"], "name"));
    assert_rejected(&out, "spec.commvault.plan.name", "Required value");
}

#[test]
fn an_endpoint_client_id_is_a_positive_int32() {
    let out = apply_s3("adm-cv-ep0", |cv| cv["endpoints"][0]["clientId"] = json!(0));
    assert_rejected(
        &out,
        "spec.commvault.endpoints[0].clientId",
        "should be greater than or equal to 1",
    );
}

#[test]
fn an_endpoint_is_listed_once() {
    let out = apply_s3("adm-cv-epdup", |cv| {
        cv["endpoints"] = json!([{"clientId": 2}, {"clientId": 2, "clientName": "again"}])
    });
    assert_rejected(
        &out,
        "spec.commvault.endpoints",
        "commvault.endpoints must not list the same clientId twice.",
    );
}

#[test]
fn owner_ids_are_int32_and_unique() {
    let out = apply_s3("adm-cv-own32", |cv| cv["owners"] = json!([4294967296i64]));
    assert_rejected(
        &out,
        "spec.commvault.owners[0]",
        "should be less than or equal to 2147483647",
    );
    let out = apply_s3("adm-cv-owndup", |cv| cv["owners"] = json!([4, 4]));
    assert_rejected(
        &out,
        "spec.commvault.owners",
        "commvault.owners must not list the same user id twice.",
    );
}

#[test]
fn group_ids_are_unique() {
    let out = apply_s3("adm-cv-grpdup", |cv| cv["userGroups"] = json!([1, 1]));
    assert_rejected(
        &out,
        "spec.commvault.userGroups",
        "commvault.userGroups must not list the same group id twice.",
    );
}

#[test]
fn the_name_cannot_change() {
    let mut doc = s3_vault(&new_namespace("adm-cv-rename"));
    assert_accepted(&apply_new(&doc));
    doc["spec"]["commvault"]["name"] = json!("team-b-s3");
    assert_rejected(
        &apply(&doc),
        "spec.commvault.name",
        "commvault.name cannot be changed after the vault is created",
    );
}

#[test]
fn the_plan_cannot_change() {
    let mut doc = s3_vault(&new_namespace("adm-cv-replan"));
    assert_accepted(&apply_new(&doc));
    doc["spec"]["commvault"]["plan"] = json!({"id": 4, "name": "other"});
    assert_rejected(
        &apply(&doc),
        "spec.commvault.plan",
        "commvault.plan cannot be changed after the vault is created",
    );
}
