//! Which namespaces may use a ClusterProviderConfig: those its
//! `allowedNamespaces` names, and those whose labels its selector matches.
//! Nothing else: an empty `allowedNamespaces` allows no one, since sharing
//! credentials is something a cluster admin says, never a default.

use std::collections::BTreeMap;

use kube::ResourceExt;
use kube::core::{Selector, SelectorExt};

use super::error::Error;
use crate::api::ClusterProviderConfig;

/// Whether `cpc` allows objects of `namespace`, whose labels are `labels`
/// (`None` when the namespace is not known, which no selector but `{}`
/// matches). The refusal says what a cluster admin would change.
pub fn check(
    cpc: &ClusterProviderConfig,
    namespace: &str,
    labels: Option<&BTreeMap<String, String>>,
) -> Result<(), Error> {
    let allowed = &cpc.spec.allowed_namespaces;
    if allowed.names.iter().any(|n| n == namespace) {
        return Ok(());
    }
    let selector = match &allowed.selector {
        None => String::new(),
        Some(selector) => match Selector::try_from(selector.clone()) {
            Ok(selector) => {
                let none = BTreeMap::new();
                if selector.matches(labels.unwrap_or(&none)) {
                    return Ok(());
                }
                format!(", or labels namespace {namespace} to match its selector `{selector}`")
            }
            // Refused for every namespace: a selector coffer cannot read
            // must not allow more than its author meant.
            Err(e) => format!(
                ", or fixes its allowedNamespaces.selector, which is not a valid label selector ({e})"
            ),
        },
    };
    Err(Error::NotAllowed {
        name: cpc.name_any(),
        namespace: namespace.to_string(),
        selector,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cpc(allowed: serde_json::Value) -> ClusterProviderConfig {
        serde_json::from_value(json!({
            "apiVersion": "coffer.dev/v1alpha1",
            "kind": "ClusterProviderConfig",
            "metadata": {"name": "shared"},
            "spec": {
                "allowedNamespaces": allowed,
                "commvault": {"apiUrl": "https://cc.example.com/api",
                              "credentials": {"secretRef": {"name": "cv"}}},
            },
        }))
        .expect("a ClusterProviderConfig")
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn an_empty_allow_list_allows_no_namespace() {
        let err = check(&cpc(json!({})), "team-a", Some(&labels(&[]))).expect_err("refused");
        assert_eq!(err.reason(), "ProviderConfigNotAllowed");
        let message = err.to_string();
        assert!(
            message.contains("ClusterProviderConfig shared"),
            "{message}"
        );
        assert!(
            message.contains("adds team-a to its spec.allowedNamespaces.names"),
            "{message}"
        );
    }

    #[test]
    fn a_named_namespace_is_allowed_and_no_other() {
        let shared = cpc(json!({"names": ["team-a"]}));
        assert!(check(&shared, "team-a", None).is_ok());
        assert!(check(&shared, "team-b", None).is_err());
    }

    #[test]
    fn the_selector_allows_by_label_and_says_what_to_label() {
        let shared = cpc(json!({"selector": {"matchLabels": {"coffer.dev/shared": "huawei"}}}));
        let yes = labels(&[("coffer.dev/shared", "huawei")]);
        let no = labels(&[("coffer.dev/shared", "other")]);
        assert!(check(&shared, "team-a", Some(&yes)).is_ok());
        let message = check(&shared, "team-a", Some(&no))
            .expect_err("refused")
            .to_string();
        assert!(
            message.contains(
                "labels namespace team-a to match its selector `coffer.dev/shared=huawei`"
            ),
            "{message}"
        );
        assert!(
            check(&shared, "team-a", None).is_err(),
            "an unknown namespace has no labels"
        );
    }

    #[test]
    fn match_expressions_are_honoured() {
        let shared = cpc(json!({"selector": {"matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["gold", "silver"]},
            {"key": "frozen", "operator": "DoesNotExist"},
        ]}}));
        assert!(check(&shared, "a", Some(&labels(&[("tier", "gold")]))).is_ok());
        assert!(check(&shared, "a", Some(&labels(&[("tier", "bronze")]))).is_err());
        let frozen = labels(&[("tier", "gold"), ("frozen", "yes")]);
        assert!(check(&shared, "a", Some(&frozen)).is_err());
    }

    #[test]
    fn an_empty_selector_allows_every_namespace() {
        let shared = cpc(json!({"selector": {}}));
        assert!(check(&shared, "anyone", None).is_ok());
    }

    #[test]
    fn a_selector_coffer_cannot_read_allows_no_one() {
        let shared = cpc(json!({"selector": {"matchExpressions": [
            {"key": "tier", "operator": "Sometimes", "values": ["x"]},
        ]}}));
        let message = check(&shared, "a", Some(&labels(&[("tier", "x")])))
            .expect_err("refused")
            .to_string();
        assert!(message.contains("not a valid label selector"), "{message}");
    }
}
