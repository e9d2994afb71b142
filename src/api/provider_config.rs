//! `ProviderConfig`: where a cloud is and which Secret, in the same namespace,
//! holds the credentials to reach it. Managed objects name it in
//! `spec.providerConfigRef`.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::conditions::Condition;

/// Where a provider is and how coffer authenticates to it. Exactly one
/// provider block is set.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "coffer.dev",
    version = "v1alpha1",
    kind = "ProviderConfig",
    doc = "Where a cloud provider is and which Secret, in the same namespace, holds the credentials to reach it. Managed objects name it in spec.providerConfigRef.",
    namespaced,
    status = "ProviderConfigStatus",
    shortname = "pconfig",
    category = "coffer",
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    // The region of whichever cloud the config is for: every block that has
    // one calls it `region`. A Commvault Command Center is not regional, so
    // its row shows none.
    printcolumn = r#"{"name":"REGION","type":"string","jsonPath":".spec.*.region"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
// One entry per provider block.
#[x_kube(validation = Rule::new("[has(self.huaweiCloud), has(self.rackspace), has(self.commvault)].exists_one(p, p)").message(
    "spec must set exactly one provider block: huaweiCloud, rackspace or commvault."
))]
pub struct ProviderConfigSpec {
    /// Huawei Cloud: IAM for authentication, CBR for backup vaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub huawei_cloud: Option<HuaweiCloudConfig>,
    /// Rackspace: Identity v2.0 for authentication, Cloud Backup (found in
    /// the service catalog) for agent vaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rackspace: Option<RackspaceConfig>,
    /// Commvault: a Command Center's REST API, signed in to with a user
    /// name and password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commvault: Option<CommvaultConfig>,
    /// How fast coffer may call the provider through this ProviderConfig,
    /// shared by every object that uses it, reads and writes alike. Left
    /// out, calls are not limited by coffer (the provider's own limits
    /// still answer 429, which coffer honours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
}

/// A token bucket plus a cap on concurrent calls.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.burst >= 1").message(
    "rateLimit.burst must be at least 1: with no burst no call could ever start."
))]
pub struct RateLimit {
    /// Sustained calls per second, more than 0 and at most 10000 (fractions
    /// allowed: 0.5 is one call every two seconds).
    #[schemars(range(min = 0.001, max = 10000.0))]
    pub qps: f64,
    /// Calls that may start at once after a quiet spell, 1 to 10000.
    #[schemars(range(min = 1, max = 10000))]
    pub burst: u32,
    /// Calls that may be waiting for an answer at the same time, 1 to
    /// 10000. Default 16.
    #[serde(default = "default_max_in_flight")]
    #[schemars(range(min = 1, max = 10000))]
    pub max_in_flight: u32,
}

fn default_max_in_flight() -> u32 {
    16
}

/// Where a Huawei Cloud region is and how to sign in to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!(has(self.caBundle) && has(self.caBundleRef))").message(
    "set caBundle or caBundleRef, not both: coffer trusts the CAs of one of them."
))]
pub struct HuaweiCloudConfig {
    /// Region ID, for example `cn-north-4` or `ap-southeast-1`. Endpoints
    /// default to `https://{service}.{region}.myhuaweicloud.com`.
    #[schemars(length(min = 1, max = 64))]
    #[x_kube(validation = Rule::new("self.matches('^[a-z0-9]([a-z0-9-]*[a-z0-9])?$')").message(
        "huaweiCloud.region must be a region ID such as cn-north-4: lower-case letters, digits and '-', starting and ending with a letter or digit."
    ))]
    pub region: String,
    /// ID of the region's project (32 hex characters); CBR paths carry it.
    #[schemars(length(max = 32))]
    #[x_kube(validation = Rule::new("self.matches('^[0-9a-f]{32}$')").message(
        "huaweiCloud.projectId must be a project ID: exactly 32 lower-case hexadecimal characters."
    ))]
    pub project_id: String,
    /// ID of the account (domain), 32 hex characters. Needed for password
    /// sign-in and for IAM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    #[x_kube(validation = Rule::new("self.matches('^[0-9a-f]{32}$')").message(
        "huaweiCloud.domainId must be an account (domain) ID: exactly 32 lower-case hexadecimal characters."
    ))]
    pub domain_id: Option<String>,
    /// Overrides for the service endpoints, for other Huawei-based clouds or
    /// a local emulator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<HuaweiEndpoints>,
    /// Where the credentials are.
    pub credentials: HuaweiCredentials,
    /// PEM bundle of CA certificates to trust in addition to the system
    /// roots, for a server whose certificate a private CA issued. A bundle
    /// with no certificate in it is refused (`Ready=False`,
    /// `CaBundleInvalid`) before any call. At most one of `caBundle` and
    /// `caBundleRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<String>,
    /// The same bundle read from a key of a Secret or ConfigMap in this
    /// namespace (one cert-manager or trust-manager keeps current); a change
    /// to it reaches coffer without editing the ProviderConfig. The object
    /// must be labelled `coffer.dev/credentials: "true"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle_ref: Option<CaBundleRef>,
}

/// Where a Rackspace account is and how to sign in to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!(has(self.caBundle) && has(self.caBundleRef))").message(
    "set caBundle or caBundleRef, not both: coffer trusts the CAs of one of them."
))]
pub struct RackspaceConfig {
    /// The Identity v2.0 base URL, `http://` or `https://`; coffer posts to
    /// `{identityEndpoint}/tokens`. Default:
    /// `https://identity.api.rackspacecloud.com/v2.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    #[x_kube(validation = Rule::new(HTTP_URL_RULE).message(
        "rackspace.identityEndpoint must be an http:// or https:// URL with a host, such as https://identity.api.rackspacecloud.com/v2.0."
    ))]
    #[x_kube(validation = Rule::new(PLAIN_URL_RULE).message(
        "rackspace.identityEndpoint must not carry user info (user@), a query (?) or a fragment (#): credentials come only from the Secret, and coffer adds its own paths."
    ))]
    pub identity_endpoint: Option<String>,
    /// The region whose Cloud Backup endpoint (catalog type `rax:backup`)
    /// coffer uses, e.g. `DFW`, `ORD`, `IAD`, `LON`, `HKG` or `SYD`.
    #[schemars(length(min = 2, max = 16))]
    #[x_kube(validation = Rule::new("self.matches('^[A-Za-z0-9]+$')").message(
        "rackspace.region must be a region code such as DFW: letters and digits only."
    ))]
    pub region: String,
    /// The Secret (in the ProviderConfig's namespace; a
    /// ClusterProviderConfig's `credentialsNamespace`) holding `username` and either
    /// `apiKey` (preferred when both are there) or `password`.
    pub credentials: Credentials,
    /// PEM bundle of CA certificates to trust in addition to the system
    /// roots, for a server whose certificate a private CA issued. A bundle
    /// with no certificate in it is refused (`Ready=False`,
    /// `CaBundleInvalid`) before any call. At most one of `caBundle` and
    /// `caBundleRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<String>,
    /// The same bundle read from a key of a Secret or ConfigMap in this
    /// namespace (one cert-manager or trust-manager keeps current); a change
    /// to it reaches coffer without editing the ProviderConfig. The object
    /// must be labelled `coffer.dev/credentials: "true"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle_ref: Option<CaBundleRef>,
}

/// Where Rackspace Identity is unless a ProviderConfig says otherwise.
pub const RACKSPACE_IDENTITY_ENDPOINT: &str = "https://identity.api.rackspacecloud.com/v2.0";

/// Service endpoints; each is a base URL such as `https://iam.example.com`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct HuaweiEndpoints {
    /// IAM base URL, `http://` or `https://`. Default:
    /// `https://iam.{region}.myhuaweicloud.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    #[x_kube(validation = Rule::new(HTTP_URL_RULE).message(
        "huaweiCloud.endpoints.iam must be an http:// or https:// URL with a host, such as https://iam.cn-north-4.myhuaweicloud.com."
    ))]
    #[x_kube(validation = Rule::new(PLAIN_URL_RULE).message(
        "huaweiCloud.endpoints.iam must not carry user info (user@), a query (?) or a fragment (#): credentials come only from the Secret, and coffer adds its own paths."
    ))]
    pub iam: Option<String>,
    /// CBR base URL, `http://` or `https://`. Default:
    /// `https://cbr.{region}.myhuaweicloud.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    #[x_kube(validation = Rule::new(HTTP_URL_RULE).message(
        "huaweiCloud.endpoints.cbr must be an http:// or https:// URL with a host, such as https://cbr.cn-north-4.myhuaweicloud.com."
    ))]
    #[x_kube(validation = Rule::new(PLAIN_URL_RULE).message(
        "huaweiCloud.endpoints.cbr must not carry user info (user@), a query (?) or a fragment (#): credentials come only from the Secret, and coffer adds its own paths."
    ))]
    pub cbr: Option<String>,
}

/// Where a Commvault Command Center's API is and how to sign in to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!(has(self.caBundle) && has(self.caBundleRef))").message(
    "set caBundle or caBundleRef, not both: coffer trusts the CAs of one of them."
))]
pub struct CommvaultConfig {
    /// The REST API's base URL, `http://` or `https://`, for example
    /// `https://commandcenter.example.com/commandcenter/api` (or the legacy
    /// `https://webserver.example.com/webconsole/api`).
    #[schemars(length(min = 1, max = 2048))]
    #[x_kube(validation = Rule::new(HTTP_URL_RULE).message(
        "commvault.apiUrl must be an http:// or https:// URL with a host, such as https://commandcenter.example.com/commandcenter/api."
    ))]
    #[x_kube(validation = Rule::new(PLAIN_URL_RULE).message(
        "commvault.apiUrl must not carry user info (user@), a query (?) or a fragment (#): credentials come only from the Secret, and coffer adds its own paths."
    ))]
    pub api_url: String,
    /// The Secret (in the ProviderConfig's namespace; a
    /// ClusterProviderConfig's `credentialsNamespace`) with the keys `username` and
    /// `password` of a Commvault user. coffer signs in with `POST Login`
    /// and renews the session token when it expires.
    pub credentials: Credentials,
    /// PEM bundle of CA certificates to trust in addition to the system
    /// roots, for a server whose certificate a private CA issued. A bundle
    /// with no certificate in it is refused (`Ready=False`,
    /// `CaBundleInvalid`) before any call. At most one of `caBundle` and
    /// `caBundleRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<String>,
    /// The same bundle read from a key of a Secret or ConfigMap in this
    /// namespace (one cert-manager or trust-manager keeps current); a change
    /// to it reaches coffer without editing the ProviderConfig. The object
    /// must be labelled `coffer.dev/credentials: "true"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle_ref: Option<CaBundleRef>,
}

/// An absolute http(s) URL with a host. `isURL` first, so `url()` never
/// sees a string it cannot parse.
const HTTP_URL_RULE: &str =
    "isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''";

/// No user info, query or fragment: a URL that carries a credential or
/// parameters of its own would send them with every request, and would
/// hide where coffer really connects.
const PLAIN_URL_RULE: &str =
    "!self.matches('^[^:/?#]+://[^/?#]*@') && !self.contains('?') && !self.contains('#')";

/// A key of a Secret or ConfigMap in the ProviderConfig's namespace (a
/// ClusterProviderConfig's `credentialsNamespace`) that holds a PEM CA bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
pub struct CaBundleRef {
    /// `Secret` or `ConfigMap`.
    pub kind: CaBundleKind,
    /// The object's name. Like a credentials Secret, it must carry the label
    /// `coffer.dev/credentials: "true"`: coffer watches only labelled objects.
    #[schemars(length(min = 1, max = 253))]
    #[x_kube(validation = Rule::new(super::DNS1123_SUBDOMAIN_RULE).message(
        "caBundleRef.name must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit."
    ))]
    pub name: String,
    /// The key whose value is the PEM bundle, e.g. `ca.crt` (cert-manager's
    /// Secrets) or the `target.configMap.key` of a trust-manager Bundle.
    #[schemars(length(min = 1, max = 253))]
    #[x_kube(validation = Rule::new("self.matches('^[-._a-zA-Z0-9]+$')").message(
        "caBundleRef.key must be a Secret or ConfigMap key: letters, digits, '-', '_' and '.'."
    ))]
    pub key: String,
}

/// Which kind of object a [`CaBundleRef`] names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum CaBundleKind {
    Secret,
    ConfigMap,
}

/// Where a provider block's CAs come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaSource<'a> {
    /// The system roots only.
    SystemRoots,
    /// `caBundle`, inline.
    Inline(&'a str),
    /// `caBundleRef`.
    Ref(&'a CaBundleRef),
}

impl<'a> CaSource<'a> {
    fn of(ca_bundle: &'a Option<String>, ca_bundle_ref: &'a Option<CaBundleRef>) -> Self {
        match (ca_bundle, ca_bundle_ref) {
            (Some(pem), _) => Self::Inline(pem),
            (None, Some(reference)) => Self::Ref(reference),
            (None, None) => Self::SystemRoots,
        }
    }
}

/// How coffer signs in to Huawei Cloud.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum HuaweiAuthType {
    /// Access key and secret key: every request is signed with SDK-HMAC-SHA256.
    /// The Secret holds `accessKey` and `secretKey`.
    AccessKey,
    /// IAM user name and password: coffer gets a project-scoped token from
    /// `POST /v3/auth/tokens` and renews it before it expires. The Secret holds
    /// `username`, `password` and `domainName` (the account name).
    Password,
}

/// A Secret in the ProviderConfig's own namespace, and how to read it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HuaweiCredentials {
    /// Which kind of credentials the Secret holds.
    #[serde(rename = "type")]
    pub auth_type: HuaweiAuthType,
    /// The Secret, in the ProviderConfig's namespace (a
    /// ClusterProviderConfig's `credentialsNamespace`).
    pub secret_ref: SecretRef,
}

/// Which Secret holds a provider's credentials: every cloud block names it
/// the same way, `credentials.secretRef.name`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    /// The Secret, in the ProviderConfig's namespace (a
    /// ClusterProviderConfig's `credentialsNamespace`).
    pub secret_ref: SecretRef,
}

/// A Secret in the config's own namespace (a ClusterProviderConfig's
/// `credentialsNamespace`). There is deliberately no namespace field: a
/// team can never point coffer at another namespace's Secret; only a
/// ClusterProviderConfig, which a cluster admin writes, reads elsewhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
pub struct SecretRef {
    /// Name of the Secret. coffer reads only Secrets labelled
    /// `coffer.dev/credentials: "true"`.
    #[schemars(length(min = 1, max = 253))]
    #[x_kube(validation = Rule::new(super::DNS1123_SUBDOMAIN_RULE).message(
        "secretRef.name must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit."
    ))]
    pub name: String,
}

/// What coffer last saw of this ProviderConfig.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfigStatus {
    /// `Ready` is True when the credentials were accepted by one cheap
    /// authenticated call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The generation the conditions describe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The objects that use this ProviderConfig, by kind. While any is
    /// listed, deleting the ProviderConfig waits for them to be gone, so
    /// their finalizers can still reach the provider.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<ProviderConfigUsers>,
    /// ClusterProviderConfig only: the namespace its Secret and CA are read
    /// from (`spec.credentialsNamespace`, or the namespace coffer runs in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_namespace: Option<String>,
}

/// How many objects of one kind use a ProviderConfig.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfigUsers {
    /// The kind, e.g. `BackupVault`.
    pub kind: String,
    /// How many objects of that kind name this ProviderConfig (in its
    /// namespace; a ClusterProviderConfig's, in every namespace).
    pub count: u32,
}

impl ProviderConfigSpec {
    /// Where the CAs of whichever provider block is set come from.
    pub fn ca_source(&self) -> CaSource<'_> {
        if let Some(h) = &self.huawei_cloud {
            return CaSource::of(&h.ca_bundle, &h.ca_bundle_ref);
        }
        if let Some(r) = &self.rackspace {
            return CaSource::of(&r.ca_bundle, &r.ca_bundle_ref);
        }
        match &self.commvault {
            Some(c) => CaSource::of(&c.ca_bundle, &c.ca_bundle_ref),
            None => CaSource::SystemRoots,
        }
    }

    /// The credentials Secret of whichever provider block is set.
    pub fn secret_name(&self) -> Option<&str> {
        if let Some(huawei) = &self.huawei_cloud {
            return Some(&huawei.credentials.secret_ref.name);
        }
        if let Some(rackspace) = &self.rackspace {
            return Some(&rackspace.credentials.secret_ref.name);
        }
        self.commvault
            .as_ref()
            .map(|c| c.credentials.secret_ref.name.as_str())
    }
}
