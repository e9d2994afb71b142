//! The custom resources coffer serves (group `coffer.dev`, version `v1alpha1`)
//! and the status types they share. One file per kind.
//!
//! Every constraint the provider documents is a schema rule here, so a bad
//! manifest is refused by the API server with a sentence that names the field,
//! instead of failing later in a reconcile. Limits with an OpenAPI keyword
//! (`maxLength`, `maxItems`, `minimum`, `enum`) use it; character sets,
//! uniqueness, one-of and transition rules are CEL (`x-kubernetes-validations`).

pub mod agency;
pub mod backup_share;
pub mod backup_vault;
pub mod cluster_provider_config;
pub mod conditions;
pub mod managed;
pub mod provider_config;

pub use agency::{Agency, AgencySpec, AgencyStatus};
pub use backup_share::{BackupShare, BackupShareSpec, BackupShareStatus};
pub use backup_vault::{BackupVault, BackupVaultSpec, BackupVaultStatus};
pub use cluster_provider_config::{ClusterProviderConfig, ClusterProviderConfigSpec};
pub use conditions::{Condition, ConditionStatus};
pub use managed::{ManagedStatus, ManagementPolicy};
pub use provider_config::{ProviderConfig, ProviderConfigSpec, ProviderConfigStatus};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps, JSONSchemaPropsOrArray,
};
use kube::{CustomResourceExt, KubeSchema};

/// The API group every coffer kind lives in.
pub const GROUP: &str = "coffer.dev";

/// The tag key coffer puts on every cloud object it creates, holding the
/// Kubernetes UID of the owner. Users cannot set it themselves.
pub const OWNERSHIP_TAG: &str = "coffer-uid";

/// A DNS-1123 subdomain, the rule for the names of most Kubernetes objects.
/// `[.]` rather than `\.` keeps the CEL string free of escapes.
pub(crate) const DNS1123_SUBDOMAIN_RULE: &str =
    "self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')";

/// A DNS-1123 label, the rule for namespace names.
pub(crate) const DNS1123_LABEL_RULE: &str = "self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')";

/// Every CRD coffer serves, in the order `coffer-dev crds` writes them. This, not
/// `Kind::crd()`, is what gets installed: see [`strict_spec`].
pub fn all_crds() -> Vec<CustomResourceDefinition> {
    vec![
        strict_spec(ProviderConfig::crd()),
        strict_spec(ClusterProviderConfig::crd()),
        strict_spec(BackupVault::crd()),
        strict_spec(BackupShare::crd()),
        strict_spec(Agency::crd()),
    ]
}

/// Removes `nullable` (and the `null` it adds to enums) from everything under
/// `spec`. The derive marks every `Option` field nullable; that would make an
/// explicit `null` a value distinct from an absent field, and every CEL rule
/// would have to handle both. Without it the API server drops an explicit
/// `null` before validation, so `null` and "left out" are the same thing, which
/// is also what the `Option` fields mean. Status is left as derived.
fn strict_spec(mut crd: CustomResourceDefinition) -> CustomResourceDefinition {
    for version in &mut crd.spec.versions {
        let spec = version
            .schema
            .as_mut()
            .and_then(|s| s.open_api_v3_schema.as_mut())
            .and_then(|root| root.properties.as_mut())
            .and_then(|props| props.get_mut("spec"));
        if let Some(spec) = spec {
            strip_nullable(spec);
        }
    }
    crd
}

fn strip_nullable(schema: &mut JSONSchemaProps) {
    schema.nullable = None;
    if let Some(values) = schema.enum_.as_mut() {
        values.retain(|v| !v.0.is_null());
    }
    for child in schema.properties.iter_mut().flat_map(|p| p.values_mut()) {
        strip_nullable(child);
    }
    if let Some(JSONSchemaPropsOrArray::Schema(items)) = schema.items.as_mut() {
        strip_nullable(items);
    }
}

/// Which ProviderConfig a managed object uses: a ProviderConfig in its own
/// namespace, or a ClusterProviderConfig that allows its namespace. Never a
/// ProviderConfig of another namespace: a team cannot borrow another team's
/// credentials, only use those an admin shared with it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, KubeSchema)]
pub struct ProviderConfigRef {
    /// `ProviderConfig` (the default), in the object's namespace, or
    /// `ClusterProviderConfig`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ProviderConfigKind>,
    /// Name of the ProviderConfig (in the same namespace as this object) or
    /// of the ClusterProviderConfig.
    #[schemars(length(min = 1, max = 253))]
    #[x_kube(validation = Rule::new(DNS1123_SUBDOMAIN_RULE).message(
        "providerConfigRef.name must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit."
    ))]
    pub name: String,
}

impl ProviderConfigRef {
    /// A ProviderConfig in the object's namespace.
    pub fn namespaced(name: &str) -> Self {
        Self {
            kind: None,
            name: name.to_string(),
        }
    }

    /// The kind named, `ProviderConfig` when left out.
    pub fn kind(&self) -> ProviderConfigKind {
        self.kind.unwrap_or_default()
    }
}

/// The two kinds a `providerConfigRef` can name.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
pub enum ProviderConfigKind {
    /// A ProviderConfig in the object's own namespace.
    #[default]
    ProviderConfig,
    /// A cluster-scoped ClusterProviderConfig whose `allowedNamespaces`
    /// includes the object's namespace.
    ClusterProviderConfig,
}

impl ProviderConfigKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProviderConfig => "ProviderConfig",
            Self::ClusterProviderConfig => "ClusterProviderConfig",
        }
    }
}

/// What happens to the cloud object when its Kubernetes object is deleted.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
pub enum DeletionPolicy {
    /// Delete the cloud object, and wait until the provider reports it gone.
    #[default]
    Delete,
    /// Leave the cloud object as it is and only forget it.
    Orphan,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// Each CRD's `openAPIV3Schema`, as JSON, with the kind for messages.
    fn schemas() -> Vec<(String, Value)> {
        all_crds()
            .into_iter()
            .flat_map(|crd| {
                let kind = crd.spec.names.kind.clone();
                crd.spec.versions.into_iter().map(move |v| {
                    let schema = v
                        .schema
                        .and_then(|s| s.open_api_v3_schema)
                        .expect("every version has a schema");
                    (
                        format!("{kind}/{}", v.name),
                        serde_json::to_value(schema).expect("schema is JSON"),
                    )
                })
            })
            .collect()
    }

    /// Calls `visit(path, node)` on every schema node under `node`.
    fn walk(path: &str, node: &Value, visit: &mut dyn FnMut(&str, &Value)) {
        visit(path, node);
        if let Some(props) = node.get("properties").and_then(Value::as_object) {
            for (name, child) in props {
                walk(&format!("{path}.{name}"), child, visit);
            }
        }
        if let Some(items) = node.get("items") {
            walk(&format!("{path}[]"), items, visit);
        }
        if let Some(extra) = node.get("additionalProperties").filter(|v| v.is_object()) {
            walk(&format!("{path}{{}}"), extra, visit);
        }
    }

    /// `kubectl explain` shows a property's description; none may be blank.
    #[test]
    fn every_property_has_a_description() {
        let mut missing = Vec::new();
        for (kind, schema) in schemas() {
            walk(&kind, &schema, &mut |path, node| {
                for (name, prop) in node
                    .get("properties")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    let text = prop.get("description").and_then(Value::as_str);
                    if text.is_none_or(|t| t.trim().is_empty()) {
                        missing.push(format!("{path}.{name}"));
                    }
                }
            });
        }
        assert!(
            missing.is_empty(),
            "properties without a description: {missing:?}"
        );
    }

    /// A rejected manifest must say, in a sentence, what to fix.
    #[test]
    fn every_cel_rule_has_a_sentence_as_its_message() {
        let mut bad = Vec::new();
        for (kind, schema) in schemas() {
            walk(&kind, &schema, &mut |path, node| {
                for rule in node
                    .get("x-kubernetes-validations")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let message = rule.get("message").and_then(Value::as_str).unwrap_or("");
                    if message.len() < 20 || !message.ends_with('.') {
                        bad.push(format!("{path}: {rule}"));
                    }
                }
            });
        }
        assert!(bad.is_empty(), "rules without a proper message: {bad:?}");
    }

    /// `null` and "left out" must mean the same thing in a spec, or every
    /// transition rule would have to tell them apart.
    #[test]
    fn spec_fields_are_not_nullable() {
        let mut nullable = Vec::new();
        for (kind, schema) in schemas() {
            walk(
                &format!("{kind}.spec"),
                &schema["properties"]["spec"],
                &mut |path, node| {
                    let null_in_enum = node
                        .get("enum")
                        .and_then(Value::as_array)
                        .is_some_and(|e| e.iter().any(Value::is_null));
                    if node.get("nullable").is_some() || null_in_enum {
                        nullable.push(path.to_string());
                    }
                },
            );
        }
        assert!(nullable.is_empty(), "nullable spec fields: {nullable:?}");
    }
}
