//! The caches' lookups, versions and slimming, from plain fixtures.

use super::*;
use crate::api::provider_config::{
    HuaweiAuthType, HuaweiCloudConfig, HuaweiCredentials, ProviderConfigSpec, SecretRef,
};
use crate::api::{BackupVault, BackupVaultSpec, ProviderConfigRef};
use kube::runtime::reflector;

fn config(namespace: &str, name: &str, secret: &str, generation: i64) -> ProviderConfig {
    let mut pc = ProviderConfig::new(
        name,
        ProviderConfigSpec {
            rate_limit: None,
            rackspace: None,
            commvault: None,
            huawei_cloud: Some(HuaweiCloudConfig {
                region: "ap-southeast-1".into(),
                project_id: "0".repeat(32),
                domain_id: None,
                endpoints: None,
                credentials: HuaweiCredentials {
                    auth_type: HuaweiAuthType::AccessKey,
                    secret_ref: SecretRef {
                        name: secret.into(),
                    },
                },
                ca_bundle: None,
                ca_bundle_ref: None,
            }),
        },
    );
    pc.metadata.namespace = Some(namespace.into());
    pc.metadata.generation = Some(generation);
    pc.metadata.uid = Some(format!("uid-{name}"));
    pc
}

fn vault(namespace: &str, name: &str, config: &str) -> BackupVault {
    let mut bv = BackupVault::new(
        name,
        BackupVaultSpec {
            provider_config_ref: ProviderConfigRef::namespaced(config),
            deletion_policy: Default::default(),
            management_policy: Default::default(),
            huawei_cloud: None,
            rackspace: None,
            commvault: None,
        },
    );
    bv.metadata.namespace = Some(namespace.into());
    bv
}

fn store_of<K>(objects: Vec<K>) -> Store<K>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Default + Eq + Hash + Clone,
{
    let (store, mut writer) = reflector::store();
    writer.apply_watcher_event(&watcher::Event::Init);
    for obj in objects {
        writer.apply_watcher_event(&watcher::Event::InitApply(obj));
    }
    writer.apply_watcher_event(&watcher::Event::InitDone);
    store
}

#[test]
fn a_config_change_wakes_only_vaults_in_its_namespace_using_it() {
    let vaults = store_of(vec![
        vault("a", "v1", "cloud"),
        vault("a", "v2", "other"),
        vault("b", "v3", "cloud"),
    ]);
    let woken = crate::controller::wiring::kinds::using_config(
        &vaults,
        &SessionKey::namespaced("a", "cloud"),
    );
    assert_eq!(woken, vec![ObjectRef::new("v1").within("a")]);
}

#[test]
fn a_secret_change_wakes_configs_in_its_namespace_reading_it() {
    let caches = Caches::new(
        store_of(vec![
            config("a", "c1", "creds", 1),
            config("a", "c2", "other", 1),
            config("b", "c3", "creds", 1),
        ]),
        store_of(vec![]),
    );
    assert_eq!(
        caches.configs_using_secret("a", "creds"),
        vec![SessionKey::namespaced("a", "c1")]
    );
}

#[test]
fn status_writes_are_not_spec_changes() {
    let mut versions = SpecVersions::default();
    let mut pc = config("a", "c1", "creds", 1);
    assert!(versions.record(&pc), "new object");
    pc.metadata.resource_version = Some("99".into());
    assert!(!versions.record(&pc), "same generation");
    pc.metadata.generation = Some(2);
    assert!(versions.record(&pc), "spec changed");
    versions.forget(&pc);
    assert!(versions.record(&pc), "recreated");
}

#[test]
fn only_a_change_of_content_is_news_not_a_finalizer() {
    let mut secret = Secret::default();
    secret.metadata.name = Some("creds".into());
    secret.metadata.namespace = Some("a".into());
    secret.metadata.uid = Some("u1".into());
    secret.string_data = Some([("accessKey".to_string(), "AK".to_string())].into());
    let mut contents = ContentVersions::default();
    assert!(
        contents.record(&secret, secret_digest(&secret)),
        "new object"
    );
    secret.metadata.finalizers = Some(vec!["coffer.dev/credentials-in-use".into()]);
    secret.metadata.resource_version = Some("2".into());
    assert!(
        !contents.record(&secret, secret_digest(&secret)),
        "a finalizer is not news"
    );
    secret.string_data = Some([("accessKey".to_string(), "AK2".to_string())].into());
    assert!(
        contents.record(&secret, secret_digest(&secret)),
        "a new key"
    );
    secret.metadata.uid = Some("u2".into());
    assert!(
        contents.record(&secret, secret_digest(&secret)),
        "recreated"
    );
}

#[test]
fn slimming_drops_managed_fields_and_last_applied() {
    let mut pc = config("a", "c1", "creds", 1);
    pc.metadata.managed_fields = Some(vec![Default::default()]);
    pc.metadata.annotations = Some(
        [
            (
                "kubectl.kubernetes.io/last-applied-configuration".to_string(),
                "{...}".to_string(),
            ),
            ("keep".to_string(), "me".to_string()),
        ]
        .into(),
    );
    slim(&mut pc);
    assert!(pc.metadata.managed_fields.is_none());
    assert_eq!(pc.annotations().len(), 1);
    pc.metadata.annotations = Some(
        [(
            "kubectl.kubernetes.io/last-applied-configuration".to_string(),
            "{...}".to_string(),
        )]
        .into(),
    );
    slim(&mut pc);
    assert_eq!(pc.metadata.annotations, None, "no empty map is kept");
}

#[test]
fn the_create_marker_annotation_is_dropped_once_the_status_is_written() {
    let mut bv = crate::controller::engine::fixtures::object();
    bv.annotations_mut()
        .insert(CREATE_STARTED_ANNOTATION.into(), "t0".into());
    bv.status = None;
    slim_managed(&mut bv);
    assert!(bv.annotations().contains_key(CREATE_STARTED_ANNOTATION));
    bv.status = Some(crate::api::BackupVaultStatus {
        external_id: Some("v-1".into()),
        ..Default::default()
    });
    slim_managed(&mut bv);
    assert_eq!(bv.metadata.annotations, None);
}
