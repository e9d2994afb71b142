use crate::api::provider_config::HuaweiCloudConfig;
use crate::provider::huawei::HuaweiCredentials;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher;

use super::*;
use crate::api::provider_config::HuaweiAuthType;
use crate::api::provider_config::{HuaweiCredentials as CredentialsRef, SecretRef};
use crate::api::{ProviderConfig, ProviderConfigSpec};
use crate::provider::memory::MemoryVaults;

fn config(auth: HuaweiAuthType, generation: i64) -> ProviderConfig {
    let mut pc = ProviderConfig::new(
        "cloud",
        ProviderConfigSpec {
            rate_limit: None,
            rackspace: None,
            commvault: None,
            huawei_cloud: Some(HuaweiCloudConfig {
                region: "ap-southeast-1".into(),
                project_id: "0123456789abcdef0123456789abcdef".into(),
                domain_id: None,
                endpoints: None,
                credentials: CredentialsRef {
                    auth_type: auth,
                    secret_ref: SecretRef {
                        name: "creds".into(),
                    },
                },
                ca_bundle: None,
                ca_bundle_ref: None,
            }),
        },
    );
    pc.metadata.namespace = Some("team-a".into());
    pc.metadata.uid = Some("pc-uid".into());
    pc.metadata.generation = Some(generation);
    pc
}

fn secret(data: &[(&str, &str)], version: &str) -> Secret {
    let mut s = Secret::default();
    s.metadata.name = Some("creds".into());
    s.metadata.namespace = Some("team-a".into());
    s.metadata.resource_version = Some(version.into());
    s.data = Some(
        data.iter()
            .map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec())))
            .collect::<BTreeMap<_, _>>(),
    );
    s
}

fn store_of<K>(objects: Vec<K>) -> Store<K>
where
    K: kube::Resource + Clone + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    let (store, mut writer) = reflector::store();
    for obj in objects {
        writer.apply_watcher_event(&watcher::Event::Apply(obj));
    }
    store
}

#[derive(Default)]
struct CountingFactory(AtomicUsize);

impl ProviderFactory for CountingFactory {
    fn huawei(
        &self,
        conn: HuaweiConnection,
        budget: Arc<RateBudget>,
    ) -> Result<HuaweiApis, ProviderError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(HuaweiApis {
            iam: None,
            cbr: Arc::new(MemoryVaults::default()),
            // Built, never called: these tests count sessions.
            shares: Arc::new(HuaweiShares::with_budget(conn, Arc::default(), budget)?),
        })
    }
}

#[test]
fn access_keys_are_read_and_trimmed_with_default_endpoints() {
    let conn = resolve(
        &Source::namespaced(&config(HuaweiAuthType::AccessKey, 1)),
        &secret(&[("accessKey", "AK\n"), ("secretKey", " SK ")], "1"),
    )
    .expect("resolved");
    assert_eq!(
        conn.credentials,
        HuaweiCredentials::AccessKey {
            access_key: "AK".into(),
            secret_key: "SK".into()
        }
    );
    assert_eq!(
        conn.cbr_endpoint,
        "https://cbr.ap-southeast-1.myhuaweicloud.com"
    );
    assert_eq!(
        conn.iam_endpoint,
        "https://iam.ap-southeast-1.myhuaweicloud.com"
    );
}

#[test]
fn a_missing_or_empty_key_is_named() {
    let err = resolve(
        &Source::namespaced(&config(HuaweiAuthType::Password, 1)),
        &secret(
            &[("username", "u"), ("password", ""), ("domainName", "d")],
            "1",
        ),
    )
    .expect_err("password is empty");
    assert_eq!(err.reason(), "SecretKeyMissing");
    assert!(err.to_string().contains("\"password\""), "{err}");
    assert!(
        err.to_string().contains("username, password, domainName"),
        "{err}"
    );
}

#[test]
fn secret_values_never_reach_debug_output() {
    let conn = resolve(
        &Source::namespaced(&config(HuaweiAuthType::AccessKey, 1)),
        &secret(
            &[("accessKey", "AKVISIBLE"), ("secretKey", "TOPSECRET")],
            "1",
        ),
    )
    .expect("resolved");
    let printed = format!("{conn:?}");
    assert!(
        !printed.contains("TOPSECRET") && !printed.contains("AKVISIBLE"),
        "{printed}"
    );
}

#[test]
fn an_unlabelled_secret_is_reported_as_not_found_with_the_label() {
    let caches = Caches::new(
        store_of(vec![config(HuaweiAuthType::AccessKey, 1)]),
        store_of(vec![]),
    );
    let clients = ProviderClients::new(
        Arc::new(CountingFactory::default()),
        BudgetMetrics::default(),
    );
    let err = clients
        .session(&caches, "team-a", "cloud")
        .err()
        .expect("no secret");
    assert_eq!(
        err.to_string(),
        "Secret creds in namespace team-a not found (coffer only reads Secrets labelled coffer.dev/credentials=true)"
    );
}

#[test]
fn one_client_per_config_until_config_or_secret_changes() {
    let factory = Arc::new(CountingFactory::default());
    let clients = ProviderClients::new(factory.clone(), BudgetMetrics::default());
    let caches = |generation, keys: &[(&str, &str)], version| {
        Caches::new(
            store_of(vec![config(HuaweiAuthType::AccessKey, generation)]),
            store_of(vec![secret(keys, version)]),
        )
    };
    let keys = [("accessKey", "AK"), ("secretKey", "SK")];
    let first = caches(1, &keys, "10");
    clients.session(&first, "team-a", "cloud").expect("built");
    clients.session(&first, "team-a", "cloud").expect("reused");
    assert_eq!(factory.0.load(Ordering::SeqCst), 1);
    // coffer's own in-use finalizer: a new resourceVersion, the same keys.
    clients
        .session(&caches(1, &keys, "11"), "team-a", "cloud")
        .expect("reused after a metadata change");
    assert_eq!(factory.0.load(Ordering::SeqCst), 1);
    let rotated = [("accessKey", "AK2"), ("secretKey", "SK2")];
    clients
        .session(&caches(1, &rotated, "12"), "team-a", "cloud")
        .expect("new secret");
    clients
        .session(&caches(2, &rotated, "12"), "team-a", "cloud")
        .expect("new spec");
    assert_eq!(factory.0.load(Ordering::SeqCst), 3);
}

#[test]
fn a_rotated_ca_in_a_config_map_builds_a_new_client() {
    use crate::api::provider_config::{CaBundleKind, CaBundleRef};
    use k8s_openapi::api::core::v1::ConfigMap;

    let factory = Arc::new(CountingFactory::default());
    let clients = ProviderClients::new(factory.clone(), BudgetMetrics::default());
    let keys = [("accessKey", "AK"), ("secretKey", "SK")];
    let mut pc = config(HuaweiAuthType::AccessKey, 1);
    if let Some(huawei) = pc.spec.huawei_cloud.as_mut() {
        huawei.ca_bundle_ref = Some(CaBundleRef {
            kind: CaBundleKind::ConfigMap,
            name: "trust".into(),
            key: "ca.crt".into(),
        });
    }
    // Real CAs: the client parses the bundle when it is built.
    let ca = || {
        crate::emulator::tls::Certificates::generate(Default::default())
            .expect("a CA")
            .ca_pem()
            .to_string()
    };
    let (first_ca, second_ca) = (ca(), ca());
    let caches = |version: &str| {
        let pem = if version == "1" {
            first_ca.clone()
        } else {
            second_ca.clone()
        };
        let mut cm = ConfigMap::default();
        cm.metadata.name = Some("trust".into());
        cm.metadata.namespace = Some("team-a".into());
        cm.metadata.resource_version = Some(version.into());
        cm.data = Some(BTreeMap::from([("ca.crt".into(), pem)]));
        Caches::new(
            store_of(vec![pc.clone()]),
            store_of(vec![secret(&keys, "10")]),
        )
        .with_config_maps(store_of(vec![cm]))
    };
    clients
        .session(&caches("1"), "team-a", "cloud")
        .expect("built");
    clients
        .session(&caches("1"), "team-a", "cloud")
        .expect("reused");
    assert_eq!(factory.0.load(Ordering::SeqCst), 1);
    clients
        .session(&caches("2"), "team-a", "cloud")
        .expect("rotated");
    assert_eq!(
        factory.0.load(Ordering::SeqCst),
        2,
        "the rotated CA needs a new client"
    );
    let missing = Caches::new(
        store_of(vec![pc.clone()]),
        store_of(vec![secret(&keys, "10")]),
    )
    .with_config_maps(store_of(vec![]));
    let err = clients
        .session(&missing, "team-a", "cloud")
        .err()
        .expect("no ConfigMap");
    assert_eq!(err.reason(), "CaBundleNotFound");
}

#[test]
fn the_ca_bundle_reasons_are_in_the_set_metrics_label_by() {
    use crate::provider::tls::TlsProblem;
    let ns = String::new;
    for error in [
        Error::CaBundleNotFound {
            kind: "ConfigMap",
            namespace: ns(),
            name: ns(),
        },
        Error::CaBundleKeyMissing {
            kind: "ConfigMap",
            name: ns(),
            key: ns(),
        },
        Error::CaBundleNotText {
            kind: "Secret",
            name: ns(),
            key: ns(),
        },
    ] {
        assert!(TlsProblem::REASONS.contains(&error.reason()));
        assert!(super::TLS_REASONS.iter().any(|r| r.name == error.reason()));
    }
}
