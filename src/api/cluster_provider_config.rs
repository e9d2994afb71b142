//! `ClusterProviderConfig`: one set of cloud credentials, kept by the
//! platform team in a namespace of its own, that the namespaces it allows
//! may use, as cert-manager's ClusterIssuer or external-secrets'
//! ClusterSecretStore do. Managed objects name it with
//! `spec.providerConfigRef: {kind: ClusterProviderConfig, name: ...}`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::provider_config::{ProviderConfigSpec, ProviderConfigStatus};

/// The provider blocks of a ProviderConfig, read from a namespace the
/// cluster admin chooses, for the namespaces it allows.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "coffer.dev",
    version = "v1alpha1",
    kind = "ClusterProviderConfig",
    doc = "Where a cloud provider is and which Secret holds the credentials to reach it, for objects in the namespaces spec.allowedNamespaces names. Its Secret (and caBundleRef) is read from spec.credentialsNamespace, by default the namespace coffer runs in. Managed objects name it with spec.providerConfigRef: {kind: ClusterProviderConfig, name: ...}.",
    status = "ProviderConfigStatus",
    shortname = "cpconfig",
    category = "coffer",
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"REGION","type":"string","jsonPath":".spec.*.region"}"#,
    printcolumn = r#"{"name":"CREDENTIALS-NAMESPACE","type":"string","jsonPath":".status.credentialsNamespace"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ClusterProviderConfigSpec {
    /// The namespace the credentials Secret (and the object `caBundleRef`
    /// names) is read from. Default: the namespace coffer runs in. Keep it
    /// one that only the platform team can read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    #[x_kube(validation = Rule::new(super::DNS1123_LABEL_RULE).message(
        "credentialsNamespace must be a namespace name: lower-case letters, digits and '-', starting and ending with a letter or digit."
    ))]
    pub credentials_namespace: Option<String>,
    /// Which namespaces' objects may use it: those named, and those whose
    /// labels match the selector. Left empty, none may: sharing credentials
    /// is something an admin says, never a default.
    #[serde(default)]
    pub allowed_namespaces: AllowedNamespaces,
    /// The provider block, rate limit and TLS settings, as in a
    /// ProviderConfig.
    #[serde(flatten)]
    pub provider: ProviderConfigSpec,
}

/// Namespaces by name and by label.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllowedNamespaces {
    /// Namespaces allowed by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256), inner(length(min = 1, max = 63)))]
    #[x_kube(validation = Rule::new("self.all(n, n.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'))").message(
        "allowedNamespaces.names must be namespace names: lower-case letters, digits and '-', starting and ending with a letter or digit."
    ))]
    pub names: Vec<String>,
    /// Namespaces allowed by their labels, as a Kubernetes label selector
    /// (`matchLabels`, `matchExpressions`). An empty selector (`{}`)
    /// matches every namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
}

impl ClusterProviderConfig {
    /// The namespace its Secret and CA are read from, `home` (coffer's own)
    /// unless the spec names one.
    pub fn credentials_namespace<'a>(&'a self, home: &'a str) -> &'a str {
        self.spec.credentials_namespace.as_deref().unwrap_or(home)
    }
}
