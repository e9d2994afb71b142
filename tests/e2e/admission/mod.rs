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

mod agency;
mod backup_share;
mod commvault_vault;
mod kubectl_get;
mod provider_config;
mod rackspace;
mod vault;
mod vault_updates;

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
