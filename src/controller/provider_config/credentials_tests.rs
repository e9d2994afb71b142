use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Value, json};

use super::*;
use crate::api::ProviderConfig;

/// A Huawei ProviderConfig `name` in `namespace` reading Secret `creds`,
/// with `trust` (`caBundle` or `caBundleRef`) merged into its block.
fn config(namespace: &str, name: &str, trust: Value) -> Arc<ProviderConfig> {
    let mut huawei = json!({
        "region": "ap-southeast-1", "projectId": "0".repeat(32),
        "credentials": {"type": "AccessKey", "secretRef": {"name": "creds"}},
    });
    if let (Some(block), Some(trust)) = (huawei.as_object_mut(), trust.as_object()) {
        block.extend(trust.clone());
    }
    let pc: ProviderConfig = serde_json::from_value(json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "ProviderConfig",
        "metadata": {"name": name, "namespace": namespace, "uid": format!("uid-{name}")},
        "spec": {"huaweiCloud": huawei},
    }))
    .expect("provider config");
    Arc::new(pc)
}

fn reader(pc: &ProviderConfig) -> Reader {
    Reader::of(&Source::namespaced(pc))
}

fn readers(configs: &[Arc<ProviderConfig>]) -> Vec<Reader> {
    configs.iter().map(|pc| reader(pc)).collect()
}

fn ca_ref(kind: &str, name: &str) -> Value {
    json!({"caBundleRef": {"kind": kind, "name": name, "key": "ca.crt"}})
}

fn deleted(pc: &ProviderConfig) -> Arc<ProviderConfig> {
    let mut pc = pc.clone();
    pc.metadata.deletion_timestamp = Some(Time(Default::default()));
    Arc::new(pc)
}

const SECRET: fn(&str) -> Reference<'_> = |name| Reference {
    kind: Kind::Secret,
    name,
};
const CONFIG_MAP: fn(&str) -> Reference<'_> = |name| Reference {
    kind: Kind::ConfigMap,
    name,
};

fn no_users(_: &Reader) -> bool {
    false
}

#[test]
fn references_are_the_credential_secret_and_the_ca_bundle_ref() {
    assert_eq!(
        references(&config("a", "c", json!({})).spec),
        vec![SECRET("creds")]
    );
    assert_eq!(
        references(&config("a", "c", json!({"caBundle": "PEM"})).spec),
        vec![SECRET("creds")]
    );
    assert_eq!(
        references(&config("a", "c", ca_ref("ConfigMap", "trust")).spec),
        vec![SECRET("creds"), CONFIG_MAP("trust")]
    );
    assert_eq!(
        references(&config("a", "c", ca_ref("Secret", "issuer-ca")).spec),
        vec![SECRET("creds"), SECRET("issuer-ca")]
    );
}

#[test]
fn a_ca_config_map_is_needed_by_a_living_config_reading_it() {
    let configs = [config("a", "c", ca_ref("ConfigMap", "trust"))];
    assert!(needed(
        &readers(&configs),
        "a",
        CONFIG_MAP("trust"),
        None,
        no_users
    ));
    assert!(needed(
        &readers(&configs),
        "a",
        SECRET("creds"),
        None,
        no_users
    ));
}

#[test]
fn a_ca_secret_is_needed_like_a_credential_secret() {
    let configs = [config("a", "c", ca_ref("Secret", "issuer-ca"))];
    assert!(needed(
        &readers(&configs),
        "a",
        SECRET("issuer-ca"),
        None,
        no_users
    ));
}

#[test]
fn kind_name_and_namespace_must_all_match() {
    let configs = [config("a", "c", ca_ref("ConfigMap", "trust"))];
    // A Secret of the ConfigMap's name, another name, another namespace.
    assert!(!needed(
        &readers(&configs),
        "a",
        SECRET("trust"),
        None,
        no_users
    ));
    assert!(!needed(
        &readers(&configs),
        "a",
        CONFIG_MAP("other"),
        None,
        no_users
    ));
    assert!(!needed(
        &readers(&configs),
        "b",
        CONFIG_MAP("trust"),
        None,
        no_users
    ));
}

#[test]
fn a_config_moved_to_an_inline_ca_no_longer_needs_the_config_map() {
    let configs = [config("a", "c", json!({"caBundle": "PEM"}))];
    assert!(!needed(
        &readers(&configs),
        "a",
        CONFIG_MAP("trust"),
        None,
        no_users
    ));
}

#[test]
fn a_deleted_config_needs_its_ca_only_while_it_has_users() {
    let configs = [deleted(&config("a", "c", ca_ref("ConfigMap", "trust")))];
    assert!(!needed(
        &readers(&configs),
        "a",
        CONFIG_MAP("trust"),
        None,
        no_users
    ));
    assert!(needed(
        &readers(&configs),
        "a",
        CONFIG_MAP("trust"),
        None,
        |_| true
    ));
}

#[test]
fn the_config_letting_go_is_not_counted_but_another_reading_it_is() {
    let leaving = config("a", "c", ca_ref("ConfigMap", "trust"));
    let configs = [leaving.clone()];
    let r = CONFIG_MAP("trust");
    assert!(!needed(
        &readers(&configs),
        "a",
        r,
        Some(&reader(&leaving)),
        no_users
    ));
    let configs = [
        leaving.clone(),
        config("a", "d", ca_ref("ConfigMap", "trust")),
    ];
    assert!(needed(
        &readers(&configs),
        "a",
        r,
        Some(&reader(&leaving)),
        no_users
    ));
}
