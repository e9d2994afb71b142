//! The CA bundle of a ProviderConfig: inline (`caBundle`) or read from a
//! key of a Secret or ConfigMap (`caBundleRef`) in its namespace, from the
//! watched caches. Whether the PEM holds a certificate is checked where the
//! client is built (`provider::tls`), so both sources are refused alike.

use k8s_openapi::api::core::v1::{ConfigMap, Secret};

use super::error::Error;
use crate::api::provider_config::{CaBundleKind, CaBundleRef, CaSource};
use crate::controller::caches::Caches;

/// The PEM to trust, and what it was read from (uid and resourceVersion),
/// so a change to that object rebuilds the client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResolvedCa {
    pub pem: Option<String>,
    pub version: Option<(Option<String>, Option<String>)>,
}

/// Reads the CA bundle `source` names, in `namespace`.
pub fn resolve(caches: &Caches, namespace: &str, source: CaSource) -> Result<ResolvedCa, Error> {
    let reference = match source {
        CaSource::SystemRoots => return Ok(ResolvedCa::default()),
        CaSource::Inline(pem) => {
            return Ok(ResolvedCa {
                pem: Some(pem.to_string()),
                version: None,
            });
        }
        CaSource::Ref(reference) => reference,
    };
    let not_found = || Error::CaBundleNotFound {
        kind: kind_name(reference.kind),
        namespace: namespace.to_string(),
        name: reference.name.clone(),
    };
    let (pem, meta) = match reference.kind {
        CaBundleKind::Secret => {
            let secret = caches
                .secret(namespace, &reference.name)
                .ok_or_else(not_found)?;
            (secret_value(&secret, reference)?, secret.metadata.clone())
        }
        CaBundleKind::ConfigMap => {
            let config_map = caches
                .config_map(namespace, &reference.name)
                .ok_or_else(not_found)?;
            (
                config_map_value(&config_map, reference)?,
                config_map.metadata.clone(),
            )
        }
    };
    Ok(ResolvedCa {
        pem: Some(pem),
        version: Some((meta.uid, meta.resource_version)),
    })
}

fn kind_name(kind: CaBundleKind) -> &'static str {
    match kind {
        CaBundleKind::Secret => "Secret",
        CaBundleKind::ConfigMap => "ConfigMap",
    }
}

fn key_missing(reference: &CaBundleRef) -> Error {
    Error::CaBundleKeyMissing {
        kind: kind_name(reference.kind),
        name: reference.name.clone(),
        key: reference.key.clone(),
    }
}

fn secret_value(secret: &Secret, reference: &CaBundleRef) -> Result<String, Error> {
    let bytes = secret
        .data
        .as_ref()
        .and_then(|data| data.get(&reference.key))
        .ok_or_else(|| key_missing(reference))?;
    text(&bytes.0, reference)
}

/// `data` holds text; trust-manager can also write `binaryData`.
fn config_map_value(config_map: &ConfigMap, reference: &CaBundleRef) -> Result<String, Error> {
    if let Some(text) = config_map
        .data
        .as_ref()
        .and_then(|data| data.get(&reference.key))
    {
        return Ok(text.clone());
    }
    let bytes = config_map
        .binary_data
        .as_ref()
        .and_then(|data| data.get(&reference.key))
        .ok_or_else(|| key_missing(reference))?;
    text(&bytes.0, reference)
}

fn text(bytes: &[u8], reference: &CaBundleRef) -> Result<String, Error> {
    String::from_utf8(bytes.to_vec()).map_err(|_| Error::CaBundleNotText {
        kind: kind_name(reference.kind),
        name: reference.name.clone(),
        key: reference.key.clone(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use kube::runtime::reflector;
    use kube::runtime::watcher;

    use super::*;

    fn store_of<K>(objects: Vec<K>) -> reflector::Store<K>
    where
        K: kube::Resource + Clone + 'static,
        K::DynamicType: Default + Eq + std::hash::Hash + Clone,
    {
        let (store, mut writer) = reflector::store();
        writer.apply_watcher_event(&watcher::Event::Init);
        for obj in objects {
            writer.apply_watcher_event(&watcher::Event::InitApply(obj));
        }
        writer.apply_watcher_event(&watcher::Event::InitDone);
        store
    }

    fn caches(config_maps: Vec<ConfigMap>) -> Caches {
        Caches::new(store_of(vec![]), store_of(vec![])).with_config_maps(store_of(config_maps))
    }

    fn config_map(data: &[(&str, &str)]) -> ConfigMap {
        let mut cm = ConfigMap::default();
        cm.metadata.name = Some("ca".into());
        cm.metadata.namespace = Some("team".into());
        cm.metadata.resource_version = Some("7".into());
        cm.data = Some(
            data.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        );
        cm
    }

    fn reference(kind: CaBundleKind, key: &str) -> CaBundleRef {
        CaBundleRef {
            kind,
            name: "ca".into(),
            key: key.into(),
        }
    }

    #[test]
    fn a_config_map_key_is_the_bundle_and_its_version_is_kept() {
        let r = reference(CaBundleKind::ConfigMap, "ca.crt");
        let resolved = resolve(
            &caches(vec![config_map(&[("ca.crt", "PEM")])]),
            "team",
            CaSource::Ref(&r),
        )
        .expect("resolved");
        assert_eq!(resolved.pem.as_deref(), Some("PEM"));
        assert_eq!(resolved.version, Some((None, Some("7".into()))));
    }

    #[test]
    fn a_missing_object_or_key_is_named() {
        let r = reference(CaBundleKind::ConfigMap, "bundle.pem");
        let missing_key = resolve(
            &caches(vec![config_map(&[("ca.crt", "PEM")])]),
            "team",
            CaSource::Ref(&r),
        )
        .expect_err("no such key");
        assert_eq!(missing_key.reason(), "CaBundleKeyMissing");
        assert!(
            missing_key.to_string().contains("\"bundle.pem\""),
            "{missing_key}"
        );
        let r = reference(CaBundleKind::Secret, "ca.crt");
        let missing = resolve(&caches(vec![]), "team", CaSource::Ref(&r)).expect_err("none");
        assert_eq!(missing.reason(), "CaBundleNotFound");
        assert!(missing.to_string().contains("Secret ca"), "{missing}");
    }

    #[test]
    fn a_change_to_the_referenced_object_wakes_only_the_configs_naming_it() {
        use crate::controller::engine::SessionKey;
        let config = |name: &str, reference: Option<CaBundleRef>| {
            let mut pc: crate::api::ProviderConfig = serde_json::from_value(serde_json::json!({
                "apiVersion": "coffer.dev/v1alpha1", "kind": "ProviderConfig",
                "metadata": {"name": name, "namespace": "team"},
                "spec": {"commvault": {
                    "apiUrl": "https://cc.example.com/commandcenter/api",
                    "credentials": {"secretRef": {"name": "creds"}},
                }},
            }))
            .expect("provider config");
            if let Some(commvault) = pc.spec.commvault.as_mut() {
                commvault.ca_bundle_ref = reference;
            }
            pc
        };
        let caches = Caches::new(
            store_of(vec![
                config(
                    "from-cm",
                    Some(reference(CaBundleKind::ConfigMap, "ca.crt")),
                ),
                config(
                    "from-secret",
                    Some(reference(CaBundleKind::Secret, "ca.crt")),
                ),
                config("system-roots", None),
            ]),
            store_of(vec![]),
        );
        let names = |keys: Vec<SessionKey>| {
            keys.into_iter()
                .map(|k| match k {
                    SessionKey::Namespaced { name, .. } | SessionKey::ClusterWide { name } => name,
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(caches.configs_using_config_map("team", "ca")),
            ["from-cm"]
        );
        assert_eq!(
            names(caches.configs_using_secret("team", "ca")),
            ["from-secret"]
        );
        assert!(caches.configs_using_config_map("other", "ca").is_empty());
    }

    #[test]
    fn inline_and_system_roots_need_no_cache() {
        let none = resolve(&caches(vec![]), "team", CaSource::SystemRoots).expect("ok");
        assert_eq!(none, ResolvedCa::default());
        let inline = resolve(&caches(vec![]), "team", CaSource::Inline("PEM")).expect("ok");
        assert_eq!(inline.pem.as_deref(), Some("PEM"));
    }
}
